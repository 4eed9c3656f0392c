//! The vendor endpoints: routing, Basic auth, quota, faults, SIEM windows and People pages.
//!
//! Order of checks for every request outside `/_sim/`: route (404) → method (405, `Allow:
//! GET`) → Basic auth (401; a matching `token_expiry` rule also gives 401) → quota bucket (429,
//! self-inflicted, counted) → first matching per-request fault rule → query validation (400)
//! → `lookback_400` standing rule (400) → response. Errors are short `text/plain` bodies.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use base64::Engine as _;
use serde_json::Value;

use super::category::{self, Category, Report, Route};
use super::people::{self, ReportKey};
use super::query::{self, SiemRules};
use super::records::{build, format_ms, format_s, passes};
use super::state::{PpSim, TENANT};
use super::timeline::{MINUTE_NS, NS};
use crate::common::faults::{Action, RequestFacts};
use crate::common::prng::Draw;
use crate::common::reqlog::LogEntry;
use crate::common::respond::{error_body, finish, json_error, raw, set_header};
use crate::common::retry_after::fault_value;
use crate::common::server::ConnCtl;

/// `lookback_400`: windows starting more than this long ago are refused.
const STRICT_LOOKBACK_NS: i64 = 12 * 3600 * NS;
/// `Retry-After` of a `quota_exhausted` fault when `--quota-retry-after` is set.
const FAULT_QUOTA_RETRY_S: u64 = 3600;
const SALT_SHUFFLE: u64 = 0x5348_5546;

/// Fallback handler for every path outside the control plane.
pub(crate) async fn handle(
    State(sim): State<Arc<PpSim>>,
    ConnectInfo(conn): ConnectInfo<ConnCtl>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let started = Instant::now();
    let now_ns = sim.core.clock.now_ns();
    let seq = sim.core.log().next_seq();
    let mut entry = LogEntry {
        seq,
        time: format_ms(now_ns),
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
        query: uri.query(),
        headers: &headers,
        now_ns,
    };
    let resp = req.process(&conn, &mut entry).await;
    entry.status = if conn.is_killed() {
        0
    } else {
        resp.status().as_u16()
    };
    entry.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    sim.core.log().push(entry);
    resp
}

fn text(status: StatusCode, msg: &str, e: &mut LogEntry) -> Response {
    e.bytes = msg.len() as u64;
    raw(status, "text/plain; charset=utf-8", msg.as_bytes().to_vec())
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

/// `Err("missing")` without a Basic header, `Err("invalid")` for a malformed or wrong one.
fn basic_ok(sim: &PpSim, headers: &HeaderMap) -> Result<(), &'static str> {
    let v = headers
        .get(header::AUTHORIZATION)
        .ok_or("missing")?
        .to_str()
        .map_err(|_| "invalid")?;
    let (scheme, b64) = v.split_once(' ').ok_or("invalid")?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err("invalid");
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| "invalid")?;
    if sim.cfg.credentials_ok(&decoded) {
        Ok(())
    } else {
        Err("invalid")
    }
}

struct Request<'a> {
    sim: &'a PpSim,
    method: &'a Method,
    path: &'a str,
    query: Option<&'a str>,
    headers: &'a HeaderMap,
    now_ns: i64,
}

impl Request<'_> {
    fn quota_429(&self, retry_s: u64, why: &str, e: &mut LogEntry) -> Response {
        let mut r = text(StatusCode::TOO_MANY_REQUESTS, why, e);
        if self.sim.cfg.quota_retry_after {
            set_header(&mut r, header::RETRY_AFTER, &retry_s.to_string());
        }
        r
    }

    async fn process(&self, conn: &ConnCtl, e: &mut LogEntry) -> Response {
        let sim = self.sim;
        let Some(route) = category::route(self.path) else {
            let msg = format!(
                "No such endpoint {}; the Proofpoint simulator serves GET /v2/siem/{{all,messages/blocked,messages/delivered,clicks/blocked,clicks/permitted,issues}}, GET /v2/people/{{vap,top-clickers}} and the /_sim/ control plane.",
                self.path
            );
            return text(StatusCode::NOT_FOUND, &msg, e);
        };
        let stream = match route {
            Route::Siem(_) => "siem",
            Route::People(_) => "people",
        };
        e.stream = Some(stream.to_owned());
        if *self.method != Method::GET {
            let msg = format!("{} is not allowed on {}; use GET.", self.method, self.path);
            let mut r = text(StatusCode::METHOD_NOT_ALLOWED, &msg, e);
            set_header(&mut r, header::ALLOW, "GET");
            return r;
        }
        let facts = RequestFacts {
            method: self.method.as_str(),
            path: self.path,
            tenant: Some(TENANT),
            stream: Some(stream),
            cursor: None,
            cursor_issued_ns: None,
            now_ns: self.now_ns,
        };
        match basic_ok(sim, self.headers) {
            Ok(()) if sim.core.faults().token_expired(&facts) => {
                e.auth = "expired";
                return text(
                    StatusCode::UNAUTHORIZED,
                    "The credentials have expired (token_expiry fault).",
                    e,
                );
            }
            Ok(()) => {}
            Err(why) => {
                e.auth = why;
                return text(
                    StatusCode::UNAUTHORIZED,
                    "Authentication failed: send HTTP Basic auth with the service principal and secret.",
                    e,
                );
            }
        }
        e.auth = "ok";
        e.auth_ok = true;
        e.tenant = Some(TENANT.to_owned());

        let admitted = sim
            .state()
            .quota
            .admit(category::bucket(self.path), self.now_ns);
        if let Err(secs) = admitted {
            e.rate_limited = true;
            return self.quota_429(
                secs,
                "Too many requests: the daily quota of this endpoint's bucket is exhausted.",
                e,
            );
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
            if a.quota_exhausted {
                return self.quota_429(
                    FAULT_QUOTA_RETRY_S,
                    "Too many requests: the daily quota is exhausted (quota_exhausted fault).",
                    e,
                );
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
        }
        let standing = sim.core.faults().standing(&facts);
        let pairs = match query::pairs(self.query) {
            Ok(p) => p,
            Err(msg) => return text(StatusCode::BAD_REQUEST, &msg, e),
        };
        match route {
            Route::Siem(cats) => self.siem(cats, &pairs, &standing, action, e),
            Route::People(report) => self.people(report, &pairs, action, e),
        }
    }

    fn siem(
        &self,
        cats: &[Category],
        pairs: &[(String, String)],
        standing: &[Action],
        action: Option<&Action>,
        e: &mut LogEntry,
    ) -> Response {
        let sim = self.sim;
        let rules = SiemRules {
            max_lookback_ns: sim.cfg.max_lookback_ns,
            strict_future: sim.cfg.strict_future,
        };
        let q = match query::siem(pairs, rules, self.now_ns) {
            Ok(q) => q,
            Err(msg) => return text(StatusCode::BAD_REQUEST, &msg, e),
        };
        if standing.iter().any(|a| a.lookback_400) && q.start_ns < self.now_ns - STRICT_LOOKBACK_NS
        {
            let msg = "The requested start is too far in the past; the maximum look-back is 12 hours (lookback_400 fault).";
            return text(StatusCode::BAD_REQUEST, msg, e);
        }
        let start = if standing.iter().any(|a| a.duplicate_across_windows) {
            q.start_ns - MINUTE_NS
        } else {
            q.start_ns
        };
        let late = sim.late();
        let mut st = sim.state();
        let mut body = serde_json::Map::new();
        body.insert("queryEndTime".into(), format_s(q.query_end_ns()).into());
        let mut total = 0u64;
        for cat in cats {
            let tl = sim.timeline(&st, *cat, late);
            let mut records: Vec<Value> = tl
                .select(start, q.end_ns, sim.cfg.inclusive_end, self.now_ns)
                .into_iter()
                .map(|i| build(&tl, *cat, i, sim.cfg.events))
                .filter(|r| {
                    passes(
                        r,
                        *cat,
                        q.threat_type.as_deref(),
                        q.threat_status.as_deref(),
                    )
                })
                .collect();
            let mut d = Draw::new(&[
                st.seed,
                SALT_SHUFFLE,
                cat.id(),
                start as u64,
                q.end_ns as u64,
            ]);
            for k in (1..records.len()).rev() {
                let j = d.below(k as u64 + 1) as usize;
                records.swap(k, j);
            }
            for r in &records {
                let id_key = if cat.is_message() { "GUID" } else { "id" };
                let id = format!("{}:{}", cat.key(), r[id_key].as_str().unwrap_or_default());
                *st.served_siem.entry(id).or_default() += 1;
            }
            total += records.len() as u64;
            body.insert(cat.key().into(), Value::Array(records));
        }
        drop(st);
        e.items = Some(total);
        if total == 0 && !sim.cfg.empty_as_200 {
            if action.is_none() {
                let mut r = Response::new(Body::empty());
                *r.status_mut() = StatusCode::NO_CONTENT;
                return r;
            }
            let (r, n) = finish(StatusCode::NO_CONTENT, Vec::new(), action);
            e.bytes = n;
            return r;
        }
        let (r, n) = finish(
            StatusCode::OK,
            serde_json::to_vec(&Value::Object(body)).unwrap_or_default(),
            action,
        );
        e.bytes = n;
        r
    }

    fn people(
        &self,
        report: Report,
        pairs: &[(String, String)],
        action: Option<&Action>,
        e: &mut LogEntry,
    ) -> Response {
        let sim = self.sim;
        let q = match query::people(pairs) {
            Ok(q) => q,
            Err(msg) => return text(StatusCode::BAD_REQUEST, &msg, e),
        };
        let mut st = sim.state();
        let key = ReportKey {
            report,
            window: q.window,
            day: people::day_of(self.now_ns, st.t0_ns),
        };
        let generated = people::generate(st.seed, st.t0_ns, sim.cfg.people_users, key);
        let (body, rows) = generated.page_body(report, q.page, q.size);
        st.opened.insert(key);
        for row in &rows {
            let id = people::row_id(report, row, &generated.interval);
            *st.served_people.entry(id).or_default() += 1;
        }
        drop(st);
        e.items = Some(rows.len() as u64);
        let (r, n) = finish(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
            action,
        );
        e.bytes = n;
        r
    }
}
