//! Rendering a stream's request from its templates: variables, secrets, the time window, the
//! stored cursor and the page continuation.

use std::collections::HashMap;

use serde_json::Value;
use siemtap_core::{ErrorCode, Failure};
use siemtap_http::redact_url;
use siemtap_secrets::Secret;

use super::body::BodyTemplate;
use super::origin::{Origins, UrlError, origin_of, render_url};
use super::spec::{Method, StreamSpec};
use super::template::{Placeholder, Template, TimeFormat};

/// Shown instead of a secret in `siemtap plan`.
pub const REDACTED: &str = "REDACTED";

/// Secret values, or none (plan: every secret renders as [`REDACTED`]).
#[derive(Clone, Copy)]
pub(crate) enum Secrets<'a> {
    /// Real values (runtime).
    Real(&'a HashMap<String, Secret>),
    /// Redacted (dry run).
    Redacted,
}

/// A page continuation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Continuation {
    /// A body token, sent as `{page.token}`.
    Token(String),
    /// The next page's absolute URL.
    Url(String),
    /// `{page.offset}`.
    Offset(u64),
    /// `{page.number}`.
    Number(u64),
}

impl Continuation {
    /// As stored inside a windowed cursor.
    pub(crate) fn to_json(&self) -> Value {
        match self {
            Self::Token(t) => serde_json::json!({ "token": t }),
            Self::Url(u) => serde_json::json!({ "url": u }),
            Self::Offset(o) => serde_json::json!({ "offset": o }),
            Self::Number(n) => serde_json::json!({ "page": n }),
        }
    }

    /// Reads the stored form back.
    pub(crate) fn from_json(v: &Value) -> Option<Self> {
        let o = v.as_object()?;
        if let Some(t) = o.get("token").and_then(Value::as_str) {
            return Some(Self::Token(t.to_owned()));
        }
        if let Some(u) = o.get("url").and_then(Value::as_str) {
            return Some(Self::Url(u.to_owned()));
        }
        if let Some(n) = o.get("offset").and_then(Value::as_u64) {
            return Some(Self::Offset(n));
        }
        o.get("page").and_then(Value::as_u64).map(Self::Number)
    }

    /// The bare-string form of `last_token` cursors.
    pub(crate) fn as_text(&self) -> Option<&str> {
        match self {
            Self::Token(t) | Self::Url(t) => Some(t),
            _ => None,
        }
    }
}

/// Everything a request template may refer to.
pub(crate) struct Vars<'a> {
    pub vars: &'a HashMap<String, String>,
    pub secrets: Secrets<'a>,
    pub window: (jiff::Timestamp, jiff::Timestamp),
    /// The stored position: a token, or a time.
    pub cursor: Option<CursorValue>,
    pub limit: u32,
    pub continuation: Option<&'a Continuation>,
}

/// The stored position as templates see it.
#[derive(Clone, Debug)]
pub(crate) enum CursorValue {
    /// `last_token`.
    Text(String),
    /// `max_timestamp` / `window_end`.
    Time(jiff::Timestamp),
}

impl Vars<'_> {
    /// The value of one placeholder (checked at load time, so unknown ones are empty).
    pub(crate) fn resolve(&self, ph: &Placeholder) -> Value {
        let time = |ts: jiff::Timestamp| {
            ph.format
                .as_deref()
                .and_then(TimeFormat::parse)
                .unwrap_or(TimeFormat::Rfc3339)
                .render(ts)
        };
        match (ph.scope.as_str(), ph.name.as_str()) {
            ("var", name) => self
                .vars
                .get(name)
                .cloned()
                .map_or(Value::Null, Value::String),
            ("secret", name) => match self.secrets {
                // expose: a connector file placed this secret in a request field.
                Secrets::Real(map) => map
                    .get(name)
                    .map_or(Value::Null, |s| Value::String(s.expose().to_owned())),
                Secrets::Redacted => Value::String(REDACTED.to_owned()),
            },
            ("window", "start") => time(self.window.0),
            ("window", "end") => time(self.window.1),
            ("", "cursor") => match &self.cursor {
                Some(CursorValue::Text(t)) => Value::String(t.clone()),
                Some(CursorValue::Time(ts)) => time(*ts),
                None => Value::Null,
            },
            ("page", "limit") => Value::from(self.limit),
            ("page", "token") => match self.continuation {
                Some(Continuation::Token(t)) => Value::String(t.clone()),
                _ => Value::Null,
            },
            ("page", "offset") => match self.continuation {
                Some(Continuation::Offset(o)) => Value::from(*o),
                _ => Value::from(0),
            },
            ("page", "number") => match self.continuation {
                Some(Continuation::Number(n)) => Value::from(*n),
                _ => Value::from(1),
            },
            _ => Value::Null,
        }
    }

    fn text(&self, t: &Template) -> String {
        t.render(&mut |p| Ok::<_, std::convert::Infallible>(self.resolve(p)))
            .unwrap_or_default()
    }
}

/// A rendered request (auth not yet applied).
#[derive(Clone, Debug)]
pub(crate) struct BuiltRequest {
    pub method: Method,
    /// Absolute URL including the query.
    pub url: reqwest::Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

impl BuiltRequest {
    /// `endpoint=` for error details: the path only (never the query, which may hold a key).
    pub(crate) fn endpoint(&self) -> String {
        self.url.path().to_owned()
    }
}

/// Why a request could not be rendered.
#[derive(Debug)]
pub(crate) enum BuildError {
    /// The connector file or its settings are wrong (`CONFIG_INVALID`).
    Config(String),
    /// Data from the API would move the request to another origin or out of its path
    /// segment (`API_INVALID_RESPONSE`); nothing was sent.
    Response(String),
}

impl BuildError {
    /// The error event of stream `stream`.
    pub(crate) fn into_failure(self, stream: &str) -> Failure {
        match self {
            Self::Config(why) => Failure::new(ErrorCode::ConfigInvalid, stream, why),
            Self::Response(why) => Failure::new(
                ErrorCode::ApiInvalidResponse,
                stream,
                format!("API returned an invalid response: {why}"),
            ),
        }
    }
}

impl Vars<'_> {
    /// A URL template rendered with each value encoded for where it lands.
    fn url_text(&self, t: &Template, key: &str) -> Result<String, BuildError> {
        render_url(t, &mut |p| self.resolve(p)).map_err(|e| match e {
            UrlError::DotSegment(ph) => BuildError::Response(format!(
                "the value of {ph} is a dot segment (`.` or `..`) in the path of `{key}` = {:?}; refusing a request whose path it would move",
                t.raw()
            )),
            UrlError::OriginChanged(ph) => BuildError::Response(format!(
                "the value of {ph} changes the origin of `{key}` = {:?}; refusing to send the request (and the credential) elsewhere",
                t.raw()
            )),
        })
    }
}

fn not_absolute(e: impl std::fmt::Display) -> BuildError {
    BuildError::Config(format!(
        "the request URL is not an absolute URL ({e}); check `url` and the variables it uses"
    ))
}

/// Renders a request: the first of a walk (`later == false`, `[request]`) or a later page
/// (`[next_request]` fields over `[request]`, or the returned URL). A request goes only to the
/// origin of the first request's URL or one of `trusted` (the file's `trusted_origins`).
pub(crate) fn build(
    spec: &StreamSpec,
    bodies: &(Option<BodyTemplate>, Option<BodyTemplate>),
    vars: &Vars<'_>,
    later: bool,
    trusted: &[String],
) -> Result<BuiltRequest, BuildError> {
    let first = &spec.request;
    let next = spec.next_request.as_ref().filter(|_| later);
    let method = next.and_then(|n| n.method).unwrap_or(first.method);
    let follow = match vars.continuation {
        Some(Continuation::Url(u)) if later => Some(u.as_str()),
        _ => None,
    };
    let first_url =
        reqwest::Url::parse(&vars.url_text(&first.url, "request.url")?).map_err(not_absolute)?;
    let origins = Origins {
        base: origin_of(&first_url),
        trusted,
    };
    // A relative next link resolves against the first request's URL.
    let mut url = match (follow, next.and_then(|n| n.url.as_ref())) {
        (Some(u), _) => reqwest::Url::parse(u)
            .or_else(|_| first_url.join(u))
            .map_err(|e| {
                BuildError::Response(format!(
                    "the next-page URL {} is not a URL ({e})",
                    redact_url(u)
                ))
            })?,
        (None, Some(t)) => {
            let text = vars.url_text(t, "next_request.url")?;
            reqwest::Url::parse(&text)
                .or_else(|e| first_url.join(&text).map_err(|_| e))
                .map_err(not_absolute)?
        }
        (None, None) => first_url.clone(),
    };
    if !origins.allows(&url) {
        return Err(BuildError::Response(origins.refusal(&url)));
    }
    let query = match (next.and_then(|n| n.query.as_ref()), follow) {
        (Some(q), _) => Some(q),
        (None, Some(_)) => None,
        (None, None) => Some(&first.query),
    };
    if let Some(query) = query {
        let rendered: Vec<(String, String)> = query
            .iter()
            .map(|(k, t)| (k.clone(), vars.text(t)))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        if !rendered.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in &rendered {
                pairs.append_pair(k, v);
            }
        }
    }
    let headers = next
        .and_then(|n| n.headers.as_ref())
        .unwrap_or(&first.headers)
        .iter()
        .map(|(k, t)| (k.clone(), vars.text(t)))
        .collect();
    let body_tpl = match (later, &bodies.1) {
        (true, Some(b)) => Some(b),
        _ => bodies.0.as_ref(),
    };
    let body = body_tpl.map(|b| {
        let v = b
            .render(&mut |p| Ok::<_, std::convert::Infallible>(vars.resolve(p)))
            .unwrap_or(Value::Null);
        serde_json::to_vec(&v).unwrap_or_default()
    });
    Ok(BuiltRequest {
        method,
        url,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::load::load_str;

    const FILE: &str = r#"name = "t"
namespace = "t"
[variables.base]
default = "https://api.example.com/v1"
[[streams]]
name = "s"
[streams.request]
method = "POST"
url = "{var.base}/events"
query = { from = "{window.start:epoch_ms}", empty = "{cursor}" }
body = { size = "{page.limit}", since = "{window.start}" }
limit = 50
[streams.pagination]
type = "next_url"
next_url = "/next"
[streams.extract]
records = "/items"
[streams.cursor]
type = "last_token"
"#;

    #[test]
    fn first_and_later_requests() {
        let loaded = load_str(FILE, "t.toml").unwrap();
        let spec = &loaded.file.streams[0];
        let vars = HashMap::from([("base".to_string(), "https://api.example.com/v1".to_string())]);
        let start: jiff::Timestamp = "2026-03-01T00:00:00Z".parse().unwrap();
        let mut v = Vars {
            vars: &vars,
            secrets: Secrets::Redacted,
            window: (start, start),
            cursor: None,
            limit: 50,
            continuation: None,
        };
        let first = build(spec, &loaded.bodies[0], &v, false, &[]).unwrap();
        assert_eq!(
            first.url.as_str(),
            "https://api.example.com/v1/events?from=1772323200000"
        );
        assert_eq!(
            String::from_utf8(first.body.clone().unwrap()).unwrap(),
            r#"{"size":50,"since":"2026-03-01T00:00:00Z"}"#
        );
        // A relative next link resolves against the first URL; no query is added to it.
        let next = Continuation::Url("/v1/events?page=2".into());
        v.continuation = Some(&next);
        let later = build(spec, &loaded.bodies[0], &v, true, &[]).unwrap();
        assert_eq!(
            later.url.as_str(),
            "https://api.example.com/v1/events?page=2"
        );
        assert_eq!(later.endpoint(), "/v1/events");
    }
}
