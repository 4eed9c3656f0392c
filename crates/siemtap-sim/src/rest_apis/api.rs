//! Routing, credentials, limits and faults shared by the three APIs.
//!
//! Order of checks: route (404) → method (405) → credentials (401; a matching `token_expiry`
//! rule also gives 401) → per-credential rate limit (429, counted as self-inflicted) → first
//! matching fault rule → the API's own validation (400) → page.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::Value;

use super::data::{Feed, ts};
use super::feeds;
use super::state::RestSim;
use crate::common::faults::{Action, RequestFacts};
use crate::common::reqlog::LogEntry;
use crate::common::respond::{finish, json, json_error, set_header};
use crate::common::retry_after::{fault_value, real_limit_value};
use crate::common::server::ConnCtl;

/// What a handler answers: status, JSON body, extra headers.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Value,
    pub headers: Vec<(header::HeaderName, String)>,
    pub items: Option<u64>,
}

impl Answer {
    pub(crate) fn ok(body: Value) -> Self {
        Self {
            status: StatusCode::OK,
            body,
            headers: Vec::new(),
            items: None,
        }
    }
    pub(crate) fn err(status: StatusCode, body: Value) -> Self {
        Self {
            status,
            body,
            headers: Vec::new(),
            items: None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Route {
    Token,
    Api(Feed),
}

fn route(path: &str) -> Option<(Route, Method)> {
    Some(match path {
        "/oauth2/v2.0/token" => (Route::Token, Method::POST),
        "/api/v1/logs" => (Route::Api(Feed::SystemLog), Method::GET),
        "/v1.0/security/alerts_v2" => (Route::Api(Feed::SecurityAlerts), Method::GET),
        "/api/items" => (Route::Api(Feed::Items), Method::GET),
        _ => return None,
    })
}

/// The query string with credential values masked, for the request log.
fn logged_query(q: Option<&str>) -> Option<String> {
    q.map(|q| {
        q.split('&')
            .map(|kv| match kv.split_once('=') {
                Some((k, _)) if k.to_ascii_lowercase().contains("key") => format!("{k}=[REDACTED]"),
                _ => kv.to_owned(),
            })
            .collect::<Vec<_>>()
            .join("&")
    })
}

/// Fallback handler for every path outside the control plane.
pub(crate) async fn handle(
    State(sim): State<Arc<RestSim>>,
    ConnectInfo(conn): ConnectInfo<ConnCtl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let now_ns = sim.core.clock.now_ns();
    let seq = sim.core.log().next_seq();
    let mut e = LogEntry {
        seq,
        time: ts(now_ns, 3),
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: logged_query(uri.query()),
        tenant: Some("default".into()),
        auth: "n/a",
        ..LogEntry::default()
    };
    let resp = process(&sim, &conn, &method, &uri, &headers, &body, now_ns, &mut e).await;
    e.status = if conn.is_killed() {
        0
    } else {
        resp.status().as_u16()
    };
    e.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    sim.core.log().push(e);
    resp
}

fn plain_error(status: StatusCode, msg: &str, e: &mut LogEntry) -> Response {
    let r = json_error(status, msg);
    e.bytes = msg.len() as u64;
    r
}

#[allow(clippy::too_many_arguments)]
async fn process(
    sim: &RestSim,
    conn: &ConnCtl,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    now_ns: i64,
    e: &mut LogEntry,
) -> Response {
    let path = uri.path();
    let Some((route, allowed)) = route(path) else {
        let msg = format!(
            "no such endpoint {path}; the REST simulator serves GET /api/v1/logs, POST /oauth2/v2.0/token, GET /v1.0/security/alerts_v2, GET /api/items and /_sim/"
        );
        return plain_error(StatusCode::NOT_FOUND, &msg, e);
    };
    let feed = match route {
        Route::Api(f) => Some(f),
        Route::Token => None,
    };
    e.stream = feed.map(|f| f.name().to_owned());
    if method != allowed {
        let mut r = plain_error(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{method} is not allowed on {path}; use {allowed}"),
            e,
        );
        set_header(&mut r, header::ALLOW, allowed.as_str());
        return r;
    }
    let query: HashMap<String, String> = Query::try_from_uri(uri).map(|q| q.0).unwrap_or_default();
    let facts = RequestFacts {
        method: method.as_str(),
        path,
        tenant: Some("default"),
        stream: feed.map(Feed::name),
        cursor: None,
        cursor_issued_ns: None,
        now_ns,
    };
    // Credentials.
    let auth = match route {
        Route::Token => feeds::client_ok(sim, headers, body),
        Route::Api(Feed::SystemLog) => okta_ok(sim, headers),
        Route::Api(Feed::SecurityAlerts) => bearer_ok(sim, headers, now_ns),
        Route::Api(Feed::Items) => Ok(query.get("api_key").is_some_and(|k| *k == sim.cfg.api_key)),
    };
    let expired = sim.core.faults().token_expired(&facts);
    match auth {
        Ok(true) if !expired => {
            e.auth = "ok";
            e.auth_ok = true;
        }
        Ok(_) | Err(()) => {
            e.auth = if expired { "expired" } else { "invalid" };
            let a = feeds::unauthorized(route == Route::Token, feed);
            return respond(a, None, e);
        }
    }
    if let Some(f) = feed
        && sim.cfg.rate_limit
    {
        let mut st = sim.state();
        let st = &mut *st;
        if let Some(limits) = st.limits.get_mut(&f)
            && let Err(secs) = limits.admit(now_ns)
        {
            let value = real_limit_value(
                sim.cfg.retry_after_form,
                secs,
                now_ns,
                &mut st.mixed_counter,
            );
            e.rate_limited = true;
            let mut r = plain_error(StatusCode::TOO_MANY_REQUESTS, "rate limit exceeded", e);
            if let Some(v) = value {
                set_header(&mut r, header::RETRY_AFTER, &v);
            }
            return r;
        }
    }
    let fault = sim.core.faults().select(&facts);
    if let Some((i, a)) = &fault {
        e.fault = Some(format!("rule {i}"));
        if let Some(ms) = a.delay_ms {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if a.drop_connection {
            conn.kill();
            return json_error(StatusCode::INTERNAL_SERVER_ERROR, "connection dropped");
        }
        if let Some(code) = a.status {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let (mut r, n) = finish(
                status,
                serde_json::to_vec(&serde_json::json!({"error": "injected fault"}))
                    .unwrap_or_default(),
                Some(a),
            );
            e.bytes = n;
            if let Some(ra) = a.retry_after
                && let Some(v) = fault_value(ra.form, ra.value, ra.offset_s, sim.core.clock.now())
            {
                set_header(&mut r, header::RETRY_AFTER, &v);
            }
            return r;
        }
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let answer = match route {
        Route::Token => feeds::token(sim, body, now_ns),
        Route::Api(Feed::SystemLog) => feeds::okta(sim, &query, &host, now_ns),
        Route::Api(Feed::SecurityAlerts) => feeds::graph(sim, &query, &host, now_ns),
        Route::Api(Feed::Items) => feeds::items(sim, &query, now_ns),
    };
    respond(answer, fault.as_ref().map(|(_, a)| a), e)
}

fn respond(a: Answer, action: Option<&Action>, e: &mut LogEntry) -> Response {
    e.items = a.items;
    let bytes = serde_json::to_vec(&a.body).unwrap_or_default();
    let (mut r, n) = if a.status == StatusCode::OK {
        finish(a.status, bytes, action)
    } else {
        let n = bytes.len() as u64;
        (json(a.status, bytes), n)
    };
    e.bytes = n;
    for (k, v) in a.headers {
        if let Ok(v) = header::HeaderValue::from_str(&v) {
            r.headers_mut().append(k, v);
        }
    }
    r
}

fn okta_ok(sim: &RestSim, headers: &HeaderMap) -> Result<bool, ()> {
    let v = headers
        .get(header::AUTHORIZATION)
        .ok_or(())?
        .to_str()
        .map_err(|_| ())?;
    let (scheme, token) = v.split_once(' ').ok_or(())?;
    Ok(scheme == "SSWS" && token.trim() == sim.cfg.okta_token)
}

fn bearer_ok(sim: &RestSim, headers: &HeaderMap, now_ns: i64) -> Result<bool, ()> {
    let v = headers
        .get(header::AUTHORIZATION)
        .ok_or(())?
        .to_str()
        .map_err(|_| ())?;
    let (scheme, token) = v.split_once(' ').ok_or(())?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(false);
    }
    let mut st = sim.state();
    let ok = st.tokens.get(token.trim()).is_some_and(|exp| now_ns < *exp);
    if !ok {
        st.tokens_rejected += 1;
    }
    Ok(ok)
}

/// `id:secret` from an HTTP Basic header.
pub(crate) fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}
