//! The vendor endpoints: routing, auth, limits, faults, pages.
//!
//! Order of checks for every request outside `/_sim/`: route (404) → method (405) → bearer
//! token (401; a matching `token_expiry` rule also gives 401) → per-token rate limit (429,
//! self-inflicted, counted) → first matching fault rule → feature (403) → body (400) →
//! cursor (400) → page.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde::Serialize;
use serde_json::Value;

use super::body::{self, BodyForm, ParsedBody};
use super::cursor::{CursorData, CursorError};
use super::records::{build, format_ts};
use super::state::OpSim;
use super::stream::Stream;
use super::timeline::{Filter, Precision};
use crate::common::clock::ts_to_ns;
use crate::common::faults::{Action, RequestFacts};
use crate::common::prng::Draw;
use crate::common::reqlog::LogEntry;
use crate::common::respond::{error_body, finish, json_error, set_header};
use crate::common::retry_after::{fault_value, real_limit_value};
use crate::common::server::ConnCtl;

const NS: i64 = 1_000_000_000;
/// `start_time` when a first-page body gives none (or `--strict-body` drops it): now − 1 h.
const DEFAULT_LOOKBACK_NS: i64 = 3600 * NS;
/// Retention: 120 days; older starts are clamped to now − 120 d + 1 h.
const RETENTION_NS: i64 = 120 * 86_400 * NS;
const DEFAULT_LIMIT: u32 = 100;

#[derive(Debug, Clone, Copy)]
enum Route {
    Introspect,
    Events(Stream),
}

#[derive(Serialize)]
struct PageBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    cursor: Option<&'a str>,
    has_more: bool,
    items: &'a [Value],
}

/// Fallback handler for every path outside the control plane.
pub(crate) async fn handle(
    State(sim): State<Arc<OpSim>>,
    ConnectInfo(conn): ConnectInfo<ConnCtl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let now_ns = sim.core.clock.now_ns();
    let seq = sim.core.log().next_seq();
    let mut entry = LogEntry {
        seq,
        time: format_ts(now_ns, Precision::Millis),
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        auth: "n/a",
        ..LogEntry::default()
    };
    let req = Request {
        sim: &sim,
        method: &method,
        path: uri.path(),
        headers: &headers,
        body: &body,
        now_ns,
    };
    let resp = req.process(&conn, &mut entry).await;
    // 0 = no response was sent (drop_connection).
    entry.status = if conn.is_killed() {
        0
    } else {
        resp.status().as_u16()
    };
    entry.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    sim.core.log().push(entry);
    resp
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

fn describe(rule: usize, a: &Action) -> String {
    let knobs = match serde_json::to_value(a) {
        Ok(Value::Object(m)) => m
            .into_iter()
            .filter(|(_, v)| !v.is_null() && *v != Value::Bool(false))
            .collect(),
        _ => serde_json::Map::new(),
    };
    format!("rule {rule}: {}", Value::Object(knobs))
}

fn error(status: StatusCode, msg: &str, e: &mut LogEntry) -> Response {
    let body = error_body(status.as_u16(), msg);
    e.bytes = body.len() as u64;
    crate::common::respond::json(status, body)
}

struct Request<'a> {
    sim: &'a OpSim,
    method: &'a Method,
    path: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    now_ns: i64,
}

impl Request<'_> {
    async fn process(&self, conn: &ConnCtl, e: &mut LogEntry) -> Response {
        let sim = self.sim;
        let (route, allowed) = match self.path {
            "/api/v2/auth/introspect" => (Route::Introspect, Method::GET),
            p => match Stream::from_path(p) {
                Some(s) => (Route::Events(s), Method::POST),
                None => {
                    let msg = format!(
                        "no such endpoint {p}; the 1Password simulator serves GET /api/v2/auth/introspect, \
                         POST /api/v2/{{auditevents,signinattempts,itemusages}} and the /_sim/ control plane"
                    );
                    return error(StatusCode::NOT_FOUND, &msg, e);
                }
            },
        };
        let stream = match route {
            Route::Events(s) => Some(s),
            Route::Introspect => None,
        };
        e.stream = stream.map(|s| s.name().to_owned());
        if *self.method != allowed {
            let msg = format!(
                "{} is not allowed on {}; use {allowed}",
                self.method, self.path
            );
            let mut r = error(StatusCode::METHOD_NOT_ALLOWED, &msg, e);
            set_header(&mut r, header::ALLOW, allowed.as_str());
            return r;
        }

        let tenant = match bearer(self.headers) {
            None => Err("missing"),
            Some(tok) => sim.cfg.tenant_for_token(tok).ok_or("invalid"),
        };
        let parsed = stream.map(|_| body::parse(self.body, sim.cfg.strict_body));
        match &parsed {
            Some(Ok(p)) => {
                e.body_form = Some(p.form.as_str());
                e.limit = p.limit_sent.clone();
                e.limit_with_cursor = p.limit_with_cursor.clone();
            }
            Some(Err(be)) => e.body_form = be.form.map(BodyForm::as_str),
            None => {}
        }
        let cursor_text = match &parsed {
            Some(Ok(p)) => p.cursor.as_deref(),
            _ => None,
        };
        let decoded = cursor_text.map(|c| sim.cursor_key.decode(c));
        let tenant_name = tenant.ok().map(|t| sim.cfg.tenants[t].name.as_str());
        let facts = RequestFacts {
            method: self.method.as_str(),
            path: self.path,
            tenant: tenant_name,
            stream: stream.map(Stream::name),
            cursor: cursor_text,
            cursor_issued_ns: decoded
                .as_ref()
                .and_then(|d| d.as_ref().ok())
                .map(|c| c.issued_ns),
            now_ns: self.now_ns,
        };
        e.tenant = tenant_name.map(str::to_owned);
        let tenant = match tenant {
            Ok(_) if sim.core.faults().token_expired(&facts) => {
                e.auth = "expired";
                return error(
                    StatusCode::UNAUTHORIZED,
                    "bearer token has expired (token_expiry fault)",
                    e,
                );
            }
            Ok(t) => t,
            Err(why) => {
                e.auth = why;
                let msg = if why == "missing" {
                    "missing bearer token; send Authorization: Bearer <token>"
                } else {
                    "invalid bearer token; use one of the simulator's --token values"
                };
                return error(StatusCode::UNAUTHORIZED, msg, e);
            }
        };
        e.auth = "ok";
        e.auth_ok = true;

        if sim.cfg.rate_limit {
            let mut st = sim.state();
            if let Err(secs) = st.limits[tenant].admit(self.now_ns) {
                let value = real_limit_value(
                    sim.cfg.retry_after_form,
                    secs,
                    self.now_ns,
                    &mut st.mixed_counter,
                );
                drop(st);
                e.rate_limited = true;
                let mut r = error(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate limit exceeded: 600 requests per minute and 30,000 per hour per token",
                    e,
                );
                if let Some(v) = value {
                    set_header(&mut r, header::RETRY_AFTER, &v);
                }
                return r;
            }
        }

        let fault = sim.core.faults().select(&facts);
        if let Some((i, a)) = &fault {
            e.fault = Some(describe(*i, a));
        }
        let action = fault.as_ref().map(|(_, a)| a);
        if let Some(ms) = action.and_then(|a| a.delay_ms) {
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if let Some(a) = action {
            if a.drop_connection {
                conn.kill();
                return json_error(StatusCode::INTERNAL_SERVER_ERROR, "connection dropped");
            }
            if let Some(code) = a.status {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let (mut r, n) = finish(status, error_body(code, "injected fault"), Some(a));
                e.bytes = n;
                if let Some(ra) = a.retry_after
                    && let Some(v) =
                        fault_value(ra.form, ra.value, ra.offset_s, sim.core.clock.now())
                {
                    set_header(&mut r, header::RETRY_AFTER, &v);
                }
                return r;
            }
            if a.cursor_reject.is_some() {
                let msg =
                    "cursor rejected (injected cursor_reject fault); the cursor may be expired";
                return error(StatusCode::BAD_REQUEST, msg, e);
            }
        }

        match (route, parsed) {
            (Route::Events(s), Some(p)) => {
                if !sim.cfg.features.contains(&s) {
                    let msg = format!(
                        "this token lacks the {} feature (see --features)",
                        s.feature()
                    );
                    return error(StatusCode::FORBIDDEN, &msg, e);
                }
                match p {
                    Ok(p) => self.events(tenant, s, &p, decoded, action, e),
                    Err(be) => error(StatusCode::BAD_REQUEST, &be.message, e),
                }
            }
            _ => self.introspect(tenant, action, e),
        }
    }

    fn introspect(&self, tenant: usize, action: Option<&Action>, e: &mut LogEntry) -> Response {
        let sim = self.sim;
        let (seed, t0) = {
            let st = sim.state();
            (st.seed, st.t0_ns)
        };
        let th = sim.cfg.tenants[tenant].hash;
        let features: Vec<&str> = sim.cfg.features.iter().map(|s| s.feature()).collect();
        let body = serde_json::json!({
            "uuid": Draw::new(&[seed, th, 0x544F_4B45]).base32(26, true),
            "issued_at": format_ts(t0, Precision::Seconds),
            "features": features,
            "account_uuid": Draw::new(&[seed, th, 0x4143_4354]).base32(26, true),
        });
        let (r, n) = finish(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
            action,
        );
        e.bytes = n;
        r
    }

    fn start_cursor(
        &self,
        tenant_name: &str,
        stream: Stream,
        p: &ParsedBody,
        epoch: u64,
    ) -> CursorData {
        let now = self.now_ns;
        let mut start = p.start.map_or(now - DEFAULT_LOOKBACK_NS, ts_to_ns);
        if start < now - RETENTION_NS {
            start = now - RETENTION_NS + 3600 * NS;
        }
        CursorData {
            epoch,
            tenant: tenant_name.to_owned(),
            stream,
            pos: Default::default(),
            limit: p.limit.unwrap_or(DEFAULT_LIMIT),
            filter: Filter {
                start_ns: Some(start),
                end_ns: p.end.map(ts_to_ns),
            },
            issued_ns: now,
        }
    }

    fn check_cursor(
        &self,
        c: &CursorData,
        tenant_name: &str,
        stream: Stream,
        epoch: u64,
    ) -> Result<(), String> {
        if c.epoch != epoch {
            return Err(
                "cursor was issued before POST /_sim/reset; start again with a flat body".into(),
            );
        }
        if c.tenant != tenant_name {
            return Err("cursor belongs to another tenant's token".into());
        }
        if c.stream != stream {
            return Err(format!(
                "cursor belongs to the {} stream, not {}",
                c.stream.name(),
                stream.name()
            ));
        }
        if let Some(ttl) = self.sim.cfg.cursor_ttl_ns
            && self.now_ns.saturating_sub(c.issued_ns) > ttl
        {
            return Err(format!(
                "cursor expired (older than --cursor-ttl {} s)",
                ttl / NS
            ));
        }
        Ok(())
    }

    fn events(
        &self,
        tenant: usize,
        stream: Stream,
        p: &ParsedBody,
        decoded: Option<Result<CursorData, CursorError>>,
        action: Option<&Action>,
        e: &mut LogEntry,
    ) -> Response {
        let sim = self.sim;
        let name = sim.cfg.tenants[tenant].name.as_str();
        let late = sim.late_for(tenant, stream);
        let st = sim.state();
        let tl = sim.timeline(&st, tenant, stream, late);
        let mut cur = match decoded {
            None => {
                let mut c = self.start_cursor(name, stream, p, st.epoch);
                c.pos = tl.first_position(&c.filter);
                c
            }
            Some(Err(err)) => return error(StatusCode::BAD_REQUEST, &err.to_string(), e),
            Some(Ok(c)) => match self.check_cursor(&c, name, stream, st.epoch) {
                Ok(()) => c,
                Err(msg) => return error(StatusCode::BAD_REQUEST, &msg, e),
            },
        };
        if action.is_some_and(|a| a.has_more_stuck) {
            let cursor = p
                .cursor
                .clone()
                .unwrap_or_else(|| sim.cursor_key.encode(&cur));
            drop(st);
            e.items = Some(0);
            let body = PageBody {
                cursor: Some(&cursor),
                has_more: true,
                items: &[],
            };
            let (r, n) = finish(
                StatusCode::OK,
                serde_json::to_vec(&body).unwrap_or_default(),
                action,
            );
            e.bytes = n;
            return r;
        }
        let page = tl.page(cur.pos, &cur.filter, cur.limit as usize, self.now_ns);
        drop(st);
        let items: Vec<Value> = page
            .indices
            .iter()
            .map(|i| build(&tl, stream, *i))
            .collect();
        {
            let mut st = sim.state();
            let served = st.served.entry((tenant, stream)).or_default();
            for item in &items {
                if let Some(id) = item.get("uuid").and_then(Value::as_str) {
                    *served.entry(id.to_owned()).or_default() += 1;
                }
            }
        }
        cur.pos = page.next;
        cur.issued_ns = self.now_ns;
        let cursor = sim.cursor_key.encode(&cur);
        let cursor = match action {
            Some(a) if a.missing_cursor => None,
            Some(a) if a.empty_cursor => Some(""),
            _ => Some(cursor.as_str()),
        };
        e.items = Some(items.len() as u64);
        let body = PageBody {
            cursor,
            has_more: page.has_more,
            items: &items,
        };
        let (r, n) = finish(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
            action,
        );
        e.bytes = n;
        r
    }
}
