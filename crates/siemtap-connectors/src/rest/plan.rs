//! `siemtap plan`: the first request each stream would make from the stored state, with
//! secrets redacted, and the cursor it would store — no network, no emit, no commit.

use std::collections::HashMap;
use std::sync::Arc;

use siemtap_core::{ErrorCode, Failure};
use siemtap_state::StateStore;

use super::auth::AuthRuntime;
use super::position::{DEFAULT_LOOKBACK, Step, step};
use super::request::{Secrets, Vars, build};
use super::source::{resolve_vars, select};
use super::spec::{Auth, CursorKind, PageKind, StreamSpec};
use super::stream::DEFAULT_LIMIT;
use super::{Compiled, SourceOptions};

/// One stream's next request, as `siemtap plan` prints it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedRequest {
    /// Stream name.
    pub stream: String,
    /// `GET`, `POST`, or `NONE` when the stream is caught up.
    pub method: String,
    /// Full URL with the query (secret values shown as `REDACTED`).
    pub url: String,
    /// Headers in send order, credentials shown as `REDACTED`.
    pub headers: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<String>,
    /// Where the walk starts and what cursor a page like that would store.
    pub cursor_note: String,
}

pub(crate) fn plan(
    compiled: &Arc<Compiled>,
    opts: SourceOptions<'_>,
    state: &StateStore,
) -> Result<Vec<PlannedRequest>, Failure> {
    let file = &compiled.file;
    let vars = resolve_vars(file, opts.settings, opts.source_name)?;
    let auth = AuthRuntime::new(&file.auth, &vars, &HashMap::new());
    let (auth_headers, auth_query) = auth.redacted();
    let now = jiff::Timestamp::now();
    let mut out = Vec::new();
    for i in select(file, opts.streams.as_deref())? {
        let spec = &file.streams[i];
        let st = state.stream(&spec.name);
        let lookback = opts
            .lookback
            .or(spec.lookback.map(|l| l.0))
            .unwrap_or(DEFAULT_LOOKBACK);
        let walk = match step(spec, st.cursor.as_ref(), now, lookback) {
            Ok(Step::Walk(w)) => w,
            Ok(Step::Idle) => {
                out.push(PlannedRequest {
                    stream: spec.name.clone(),
                    method: "NONE".into(),
                    url: String::new(),
                    headers: vec![],
                    body: None,
                    cursor_note: "caught up: the next window would be empty (now - settle_lag is not past the stored position); no request".into(),
                });
                continue;
            }
            Err(why) => {
                return Err(Failure::new(
                    ErrorCode::StateReadError,
                    spec.name.clone(),
                    format!("the stored cursor does not fit this stream's cursor type ({why})"),
                ));
            }
        };
        let v = Vars {
            vars: &vars,
            secrets: Secrets::Redacted,
            window: walk.window,
            cursor: walk.cursor_value(),
            limit: spec.request.limit.unwrap_or(DEFAULT_LIMIT),
            continuation: walk.continuation.as_ref(),
        };
        let req = build(
            spec,
            &compiled.bodies[i],
            &v,
            walk.later,
            &file.trusted_origins,
        )
        .map_err(|e| e.into_failure(&spec.name))?;
        let mut url = req.url.clone();
        if !auth_query.is_empty() {
            let mut pairs = url.query_pairs_mut();
            for (k, val) in &auth_query {
                pairs.append_pair(k, val);
            }
        }
        let mut headers = req.headers.clone();
        headers.extend(auth_headers.iter().cloned());
        let mut note = describe(spec, &walk, st.cursor.is_some());
        if matches!(
            spec.pagination.kind,
            PageKind::NextUrl | PageKind::LinkHeader
        ) {
            note.push_str("; a next-page URL is followed (with the credential) only on the first request's origin");
            if !file.trusted_origins.is_empty() {
                note.push_str(&format!(
                    " or the trusted origins {}",
                    file.trusted_origins.join(", ")
                ));
            }
            note.push_str(", any other is an API_INVALID_RESPONSE error and no request");
        }
        if let Auth::OAuth2ClientCredentials { .. } = &file.auth {
            note.push_str("; the Authorization token comes from the OAuth2 token endpoint (client credentials, cached until shortly before expiry)");
        }
        out.push(PlannedRequest {
            stream: spec.name.clone(),
            method: req.method.as_str().into(),
            url: url.to_string(),
            headers,
            body: req.body.map(|b| String::from_utf8_lossy(&b).into_owned()),
            cursor_note: note,
        });
    }
    Ok(out)
}

fn describe(spec: &StreamSpec, walk: &super::position::Walk, stored: bool) -> String {
    let p = &spec.pagination;
    let source = match p.kind {
        PageKind::BodyToken => format!(
            "the token at `{}`",
            p.token.as_ref().map_or("", |t| t.0.as_str())
        ),
        PageKind::NextUrl => format!(
            "the URL at `{}`",
            p.next_url.as_ref().map_or("", |t| t.0.as_str())
        ),
        PageKind::LinkHeader => "the Link rel=\"next\" URL".into(),
        PageKind::Offset => "the next offset".into(),
        PageKind::PageNumber => "the next page number".into(),
        PageKind::None => "nothing (single request)".into(),
    };
    let (ws, we) = (walk.window.0, walk.window.1);
    let start = if walk.later {
        "resumes a walk from the stored continuation".to_string()
    } else if stored {
        format!("starts window [{ws}, {we}) from the stored position")
    } else {
        format!("no stored cursor: starts window [{ws}, {we}) (lookback)")
    };
    let stores = match spec.cursor.kind {
        CursorKind::LastToken => format!("stores {source} as the cursor (last_token)"),
        CursorKind::MaxTimestamp => format!(
            "stores {{\"position\": newest `{}` seen}} (max_timestamp), with the window and {source} while more pages remain",
            spec.extract.timestamp.as_ref().map_or("", |t| t.0.as_str())
        ),
        CursorKind::WindowEnd => format!(
            "stores {{\"position\": \"{we}\"}} once the window is done (window_end), with the window and {source} while more pages remain"
        ),
    };
    format!("{start}; {stores}")
}
