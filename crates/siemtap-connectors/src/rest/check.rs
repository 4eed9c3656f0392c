//! The checks serde cannot express: names, declared secrets and variables, which placeholders
//! each field may use, pagination and cursor combinations. Each problem names its key path.

use serde_json::Value;

use super::body::BodyTemplate;
use super::load::{KeyPath, Seg, p};
use super::spec::{Auth, ConnectorFile, CursorKind, PageKind, RequestSpec, StreamSpec};
use super::template::{Placeholder, Template, TimeFormat};

/// Problems found, each with the key to fix.
pub(crate) type Problems = Vec<(KeyPath, String)>;

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Checks the whole file.
pub(crate) fn check(f: &ConnectorFile, out: &mut Problems) {
    if !is_name(&f.name) {
        out.push((p(&["name"]), format!("{:?} is not a connector name; use lower-case letters, digits and `_` (e.g. \"okta_system_log\")", f.name)));
    }
    if f.namespace.is_empty()
        || !f
            .namespace
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        out.push((
            p(&["namespace"]),
            format!(
                "{:?} is not a namespace key; use letters, digits and `_` (e.g. \"okta\")",
                f.namespace
            ),
        ));
    }
    if f.event_type_key.is_empty() || f.event_type_key == "tenant" {
        out.push((
            p(&["event_type_key"]),
            "must be a non-empty key other than `tenant`; the default is \"event_type\"".into(),
        ));
    }
    if let Some(r) = &f.rules
        && r.first > r.last
    {
        out.push((
            p(&["rules", "last"]),
            format!(
                "last rule id {} is below first {}; a block is first..=last",
                r.last, r.first
            ),
        ));
    }
    for name in f.variables.keys() {
        if !is_name(name) {
            out.push((
                p(&["variables"]).key(name),
                "variable names use lower-case letters, digits and `_`".into(),
            ));
        }
    }
    for name in f.secrets.keys() {
        if !is_name(name) {
            out.push((
                p(&["secrets"]).key(name),
                "secret names use lower-case letters, digits and `_`".into(),
            ));
        }
    }
    check_auth(f, out);
    check_limits(f, out);
    for (i, origin) in f.trusted_origins.iter().enumerate() {
        if let Err(why) = super::origin::parse_trusted(origin) {
            out.push((p(&["trusted_origins"]).index(i), why));
        }
    }
    if f.streams.is_empty() {
        out.push((
            p(&["streams"]),
            "a connector needs at least one [[streams]] table".into(),
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, s) in f.streams.iter().enumerate() {
        let base = p(&["streams"]).index(i);
        if !is_name(&s.name) {
            out.push((
                base.key("name"),
                format!(
                    "{:?} is not a stream name; use lower-case letters, digits and `_`",
                    s.name
                ),
            ));
        } else if !seen.insert(s.name.as_str()) {
            out.push((
                base.key("name"),
                format!(
                    "stream {:?} is defined twice; stream names must be unique",
                    s.name
                ),
            ));
        }
        check_stream(f, s, &base, out);
    }
}

fn secret_exists(f: &ConnectorFile, name: &str, key: KeyPath, out: &mut Problems) {
    if !f.secrets.contains_key(name) {
        out.push((key, format!("secret {name:?} is not declared; add a [secrets.{name}] table (secrets are referenced by name, never written here)")));
    }
}

fn check_auth(f: &ConnectorFile, out: &mut Problems) {
    let a = p(&["auth"]);
    match &f.auth {
        Auth::None => {}
        Auth::Bearer { secret } => secret_exists(f, secret, a.key("secret"), out),
        Auth::Basic {
            username,
            password_secret,
        } => {
            check_template(f, username, Ctx::Plain, &a.key("username"), out);
            secret_exists(f, password_secret, a.key("password_secret"), out);
        }
        Auth::ApiKey { secret, name, .. } => {
            secret_exists(f, secret, a.key("secret"), out);
            if name.trim().is_empty() {
                out.push((a.key("name"), "give the header or query parameter name (e.g. \"Authorization\" or \"api_key\")".into()));
            }
        }
        Auth::OAuth2ClientCredentials {
            token_url,
            client_id,
            client_secret,
            extra_params,
            ..
        } => {
            check_template(f, token_url, Ctx::Plain, &a.key("token_url"), out);
            check_template(f, client_id, Ctx::Plain, &a.key("client_id"), out);
            secret_exists(f, client_secret, a.key("client_secret"), out);
            for (k, t) in extra_params {
                check_template(f, t, Ctx::Plain, &a.key("extra_params").key(k), out);
            }
        }
        Auth::Signature {
            secret,
            input,
            headers,
            nonce_length,
            ..
        } => {
            secret_exists(f, secret, a.key("secret"), out);
            if input.is_empty() {
                out.push((
                    a.key("input"),
                    "list the parts to sign, e.g. [\"{secret}\", \"{nonce}\", \"{timestamp_ms}\"]"
                        .into(),
                ));
            }
            for (i, t) in input.iter().enumerate() {
                check_template(f, t, Ctx::SigInput, &a.key("input").index(i), out);
            }
            if headers.is_empty() {
                out.push((
                    a.key("headers"),
                    "a signature needs at least one header, e.g. Authorization = \"{signature}\""
                        .into(),
                ));
            }
            for (k, t) in headers {
                check_template(f, t, Ctx::SigHeader, &a.key("headers").key(k), out);
            }
            if nonce_length.is_some_and(|n| n == 0 || n > 256) {
                out.push((a.key("nonce_length"), "must be 1..=256".into()));
            }
        }
    }
}

fn check_limits(f: &ConnectorFile, out: &mut Problems) {
    let l = &f.limits;
    let base = p(&["limits"]);
    if l.requests_per_second
        .is_some_and(|r| !(r.is_finite() && r > 0.0))
    {
        out.push((
            base.key("requests_per_second"),
            "must be a positive number".into(),
        ));
    }
    for (k, v) in [
        ("requests_per_minute", l.requests_per_minute),
        ("requests_per_hour", l.requests_per_hour),
        ("requests_per_day", l.requests_per_day),
        ("burst", l.burst),
    ] {
        if v == Some(0) {
            out.push((
                base.key(k),
                "must be at least 1 (leave it out for no limit)".into(),
            ));
        }
    }
}

/// Where a template is used: decides which placeholders it may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ctx {
    /// Auth fields: `{var.*}`, `{secret.*}`.
    Plain,
    /// First request of a walk.
    Request(PageKind),
    /// Later pages.
    Next(PageKind),
    /// Signature input.
    SigInput,
    /// Signature headers.
    SigHeader,
}

fn check_template(f: &ConnectorFile, t: &Template, ctx: Ctx, key: &KeyPath, out: &mut Problems) {
    for ph in t.placeholders() {
        if let Err(msg) = allowed(f, ph, ctx) {
            out.push((key.clone(), msg));
        }
    }
}

fn allowed(f: &ConnectorFile, ph: &Placeholder, ctx: Ctx) -> Result<(), String> {
    let time_format = || match &ph.format {
        None => Ok(()),
        Some(fmt) if TimeFormat::parse(fmt).is_some() => Ok(()),
        Some(fmt) => Err(format!(
            "{ph}: unknown format {fmt:?}; use rfc3339, rfc3339_ms, epoch_s or epoch_ms"
        )),
    };
    let no_format = || match &ph.format {
        None => Ok(()),
        Some(_) => Err(format!(
            "{ph}: only window and cursor placeholders take a `:format`"
        )),
    };
    let is_request = matches!(ctx, Ctx::Request(_) | Ctx::Next(_));
    match (ph.scope.as_str(), ph.name.as_str()) {
        ("var", name) => {
            no_format()?;
            if f.variables.contains_key(name) {
                Ok(())
            } else {
                Err(format!(
                    "{ph}: variable {name:?} is not declared; add a [variables.{name}] table"
                ))
            }
        }
        ("secret", name) if ctx != Ctx::SigHeader => {
            no_format()?;
            if f.secrets.contains_key(name) {
                Ok(())
            } else {
                Err(format!(
                    "{ph}: secret {name:?} is not declared; add a [secrets.{name}] table"
                ))
            }
        }
        ("window", "start" | "end") if is_request => time_format(),
        ("", "cursor") if is_request => time_format(),
        ("page", "limit") if is_request => no_format(),
        ("page", "offset")
            if matches!(
                ctx,
                Ctx::Request(PageKind::Offset) | Ctx::Next(PageKind::Offset)
            ) =>
        {
            no_format()
        }
        ("page", "number")
            if matches!(
                ctx,
                Ctx::Request(PageKind::PageNumber) | Ctx::Next(PageKind::PageNumber)
            ) =>
        {
            no_format()
        }
        ("page", "token") if ctx == Ctx::Next(PageKind::BodyToken) => no_format(),
        ("", "secret" | "method" | "path" | "query" | "body") if ctx == Ctx::SigInput => {
            no_format()
        }
        ("", "nonce" | "timestamp_ms" | "timestamp_s")
            if matches!(ctx, Ctx::SigInput | Ctx::SigHeader) =>
        {
            no_format()
        }
        ("", "signature") if ctx == Ctx::SigHeader => no_format(),
        _ => Err(format!("{ph} cannot be used here; {}", usable(ctx))),
    }
}

fn usable(ctx: Ctx) -> String {
    match ctx {
        Ctx::Plain => "auth fields may use {var.NAME} and {secret.NAME}".into(),
        Ctx::SigInput => "signature input may use {secret}, {nonce}, {timestamp_ms}, {timestamp_s}, {method}, {path}, {query}, {body}, {var.NAME}, {secret.NAME}".into(),
        Ctx::SigHeader => "signature headers may use {signature}, {nonce}, {timestamp_ms}, {timestamp_s}, {var.NAME}".into(),
        Ctx::Request(kind) | Ctx::Next(kind) => {
            let mut s = String::from("requests may use {var.NAME}, {secret.NAME}, {window.start}, {window.end}, {cursor}, {page.limit}");
            match kind {
                PageKind::Offset => s.push_str(", {page.offset}"),
                PageKind::PageNumber => s.push_str(", {page.number}"),
                PageKind::BodyToken if matches!(ctx, Ctx::Next(_)) => s.push_str(", {page.token}"),
                PageKind::BodyToken => s.push_str(" ({page.token} only in [streams.next_request])"),
                _ => {}
            }
            s
        }
    }
}

fn check_request(f: &ConnectorFile, r: &RequestSpec, ctx: Ctx, key: &KeyPath, out: &mut Problems) {
    check_template(f, &r.url, ctx, &key.key("url"), out);
    for (k, t) in &r.query {
        check_template(f, t, ctx, &key.key("query").key(k), out);
    }
    for (k, t) in &r.headers {
        check_template(f, t, ctx, &key.key("headers").key(k), out);
    }
    if r.limit == Some(0) {
        out.push((key.key("limit"), "page size must be at least 1".into()));
    }
}

fn check_stream(f: &ConnectorFile, s: &StreamSpec, base: &KeyPath, out: &mut Problems) {
    let pg = &s.pagination;
    let kind = pg.kind;
    check_request(f, &s.request, Ctx::Request(kind), &base.key("request"), out);
    if let Some(n) = &s.next_request {
        let key = base.key("next_request");
        let ctx = Ctx::Next(kind);
        if let Some(u) = &n.url {
            if matches!(kind, PageKind::NextUrl | PageKind::LinkHeader) {
                out.push((key.key("url"), "later pages use the URL the API returns with this pagination type; remove `url`".into()));
            }
            check_template(f, u, ctx, &key.key("url"), out);
        }
        for (k, t) in n.query.iter().flatten() {
            check_template(f, t, ctx, &key.key("query").key(k), out);
        }
        for (k, t) in n.headers.iter().flatten() {
            check_template(f, t, ctx, &key.key("headers").key(k), out);
        }
    }
    let pkey = base.key("pagination");
    let needs = |field: &str, have: bool, for_kind: &str, out: &mut Problems| {
        if !have {
            out.push((
                pkey.key(field),
                format!(
                    "type = \"{for_kind}\" needs `{field}`, a JSON pointer into the response body"
                ),
            ));
        }
    };
    let only = |field: &str, have: bool, kinds: &str, out: &mut Problems| {
        if have {
            out.push((
                pkey.key(field),
                format!("`{field}` only applies to type = {kinds}; remove it"),
            ));
        }
    };
    match kind {
        PageKind::BodyToken => needs("token", pg.token.is_some(), "body_token", out),
        PageKind::NextUrl => needs("next_url", pg.next_url.is_some(), "next_url", out),
        _ => {}
    }
    if kind != PageKind::BodyToken {
        only("token", pg.token.is_some(), "\"body_token\"", out);
    }
    if kind != PageKind::NextUrl {
        only("next_url", pg.next_url.is_some(), "\"next_url\"", out);
    }
    if kind != PageKind::Offset {
        only("total", pg.total.is_some(), "\"offset\"", out);
    }
    if kind != PageKind::PageNumber {
        only(
            "total_pages",
            pg.total_pages.is_some(),
            "\"page_number\"",
            out,
        );
    }
    if !matches!(kind, PageKind::Offset | PageKind::PageNumber) {
        only(
            "start",
            pg.start.is_some(),
            "\"offset\" or \"page_number\"",
            out,
        );
    }
    if pg.max_pages == Some(0) {
        out.push((pkey.key("max_pages"), "must be at least 1".into()));
    }
    if kind == PageKind::BodyToken
        && s.next_request.as_ref().is_none_or(|n| {
            !n.body
                .as_ref()
                .is_some_and(|b| b.to_string().contains("{page.token}"))
                && !n
                    .query
                    .iter()
                    .flatten()
                    .any(|(_, t)| t.raw().contains("{page.token}"))
                && !n
                    .headers
                    .iter()
                    .flatten()
                    .any(|(_, t)| t.raw().contains("{page.token}"))
                && !n
                    .url
                    .as_ref()
                    .is_some_and(|t| t.raw().contains("{page.token}"))
        })
    {
        out.push((base.key("next_request"), "body_token paging sends the token back: add [streams.next_request] with {page.token} in its body, query, headers or url".into()));
    }
    let x = &s.extract;
    let xkey = base.key("extract");
    match (&x.records, x.arrays.is_empty()) {
        (Some(_), false) => out.push((xkey.key("arrays"), "give either `records` or `arrays`, not both".into())),
        (None, true) => out.push((xkey.key("records"), "say where the records are: records = \"/items\" (or \"\" when the body is the array), or [[streams.extract.arrays]]".into())),
        _ => {}
    }
    let c = &s.cursor;
    let ckey = base.key("cursor");
    match c.kind {
        CursorKind::LastToken => {
            if !matches!(
                kind,
                PageKind::BodyToken | PageKind::NextUrl | PageKind::LinkHeader
            ) {
                out.push((ckey.key("type"), "type = \"last_token\" stores the pagination continuation; it needs pagination type body_token, next_url or link_header (use max_timestamp or window_end otherwise)".into()));
            }
        }
        CursorKind::MaxTimestamp => {
            if x.timestamp.is_none() {
                out.push((xkey.key("timestamp"), "cursor type = \"max_timestamp\" needs the record time: timestamp = \"/published\"".into()));
            }
        }
        CursorKind::WindowEnd => {}
    }
    if c.kind != CursorKind::WindowEnd && c.max_window.is_some() {
        out.push((
            ckey.key("max_window"),
            "`max_window` only applies to type = \"window_end\"; remove it".into(),
        ));
    }
    if c.max_window.is_some_and(|d| d.0.is_zero()) {
        out.push((ckey.key("max_window"), "must be longer than 0s".into()));
    }
    if c.kind != CursorKind::LastToken
        && x.id.is_none()
        && c.overlap.is_some_and(|o| !o.0.is_zero())
    {
        out.push((xkey.key("id"), "an overlap re-reads records; give their id pointer (id = \"/uuid\") so re-reads are not delivered twice".into()));
    }
}

/// Compiles a body, recording a broken template.
pub(crate) fn compile_body(
    body: &Option<Value>,
    key: &KeyPath,
    out: &mut Problems,
) -> Option<BodyTemplate> {
    let body = body.as_ref()?;
    if !body.is_object() {
        out.push((
            key.clone(),
            "the body must be a table (a JSON object), e.g. body = { limit = \"{page.limit}\" }"
                .into(),
        ));
        return None;
    }
    match BodyTemplate::compile(body) {
        Ok(b) => Some(b),
        Err((path, msg)) => {
            let mut k = key.clone();
            for seg in path {
                k = match seg {
                    Seg::Key(s) => k.key(&s),
                    Seg::Index(i) => k.index(i),
                };
            }
            out.push((k, msg));
            None
        }
    }
}

/// Checks a compiled body's placeholders.
pub(crate) fn check_body(
    f: &ConnectorFile,
    body: Option<&BodyTemplate>,
    ctx: Ctx,
    key: &KeyPath,
    out: &mut Problems,
) {
    let Some(body) = body else { return };
    body.walk(&mut Vec::new(), &mut |path, t| {
        let mut k = key.clone();
        k.0.extend(path.iter().cloned());
        check_template(f, t, ctx, &k, out);
    });
}
