//! The vendor endpoints: routing, auth, rate limit, faults, bodies, pages.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::body::{self, Endpoint, Query};
use super::records::{alert_json, incident_json};
use super::state::{XdrSim, XdrState};
use crate::common::clock::ns_to_ts;
use crate::common::faults::{Action, MidPagination, RequestFacts};
use crate::common::reqlog::LogEntry;
use crate::common::respond::{finish, json, set_header};
use crate::common::retry_after::{fault_value, real_limit_value};
use crate::common::server::ConnCtl;

const MS: i64 = 1_000_000;

/// `{"reply":{"err_code":N,"err_msg":"...","err_extra":...}}`
pub(crate) fn error_body(code: u16, msg: &str, extra: Option<&str>) -> Vec<u8> {
    let body = json!({"reply": {"err_code": code, "err_msg": msg, "err_extra": extra}});
    serde_json::to_vec(&body).unwrap_or_default()
}

fn error(status: StatusCode, msg: &str, extra: Option<&str>, e: &mut LogEntry) -> Response {
    let body = error_body(status.as_u16(), msg, extra);
    e.bytes = body.len() as u64;
    json(status, body)
}

fn describe(rule: usize, a: &Action) -> String {
    let knobs = match serde_json::to_value(a) {
        Ok(Value::Object(m)) => m
            .into_iter()
            .filter(|(_, v)| !v.is_null() && *v != Value::Bool(false))
            .collect(),
        _ => Map::new(),
    };
    format!("rule {rule}: {}", Value::Object(knobs))
}

/// Fallback handler for every path outside the control plane.
pub(crate) async fn handle(
    State(sim): State<Arc<XdrSim>>,
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
        time: ns_to_ts(now_ns).to_string(),
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
    entry.status = if conn.is_killed() {
        0
    } else {
        resp.status().as_u16()
    };
    entry.latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    sim.core.log().push(entry);
    resp
}

struct Request<'a> {
    sim: &'a XdrSim,
    method: &'a Method,
    path: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    now_ns: i64,
}

impl Request<'_> {
    async fn process(&self, conn: &ConnCtl, e: &mut LogEntry) -> Response {
        let sim = self.sim;
        let Some(ep) = Endpoint::from_path(self.path) else {
            let msg = format!(
                "no such endpoint {}; the Cortex XDR simulator serves POST \
                 /public_api/v1/alerts/get_alerts, /public_api/v1/incidents/get_incidents, \
                 /public_api/v2/alerts/get_alerts_multi_events and the /_sim/ control plane",
                self.path
            );
            return error(StatusCode::NOT_FOUND, &msg, None, e);
        };
        e.stream = Some(ep.stream().to_owned());
        if *self.method != Method::POST {
            let msg = format!("{} is not allowed on {}; use POST", self.method, self.path);
            let mut r = error(StatusCode::METHOD_NOT_ALLOWED, &msg, None, e);
            set_header(&mut r, header::ALLOW, "POST");
            return r;
        }
        let now_ms = self.now_ns.div_euclid(MS);
        let verdict = {
            let mut st = sim.state();
            sim.key
                .verify(&sim.cfg, self.headers, now_ms, &mut st.nonces)
        };
        if let Err(why) = verdict {
            e.auth = why.verdict();
            return error(
                StatusCode::UNAUTHORIZED,
                "Public API request unauthorized",
                Some(why.reason()),
                e,
            );
        }
        let facts = RequestFacts {
            method: self.method.as_str(),
            path: self.path,
            tenant: None,
            stream: Some(ep.stream()),
            cursor: None,
            cursor_issued_ns: None,
            now_ns: self.now_ns,
        };
        if sim.core.faults().token_expired(&facts) {
            e.auth = "expired";
            return error(
                StatusCode::UNAUTHORIZED,
                "Public API request unauthorized",
                Some("the API key has expired (token_expiry fault)"),
                e,
            );
        }
        e.auth = "ok";
        e.auth_ok = true;

        if sim.cfg.rate_limit {
            let mut st = sim.state();
            if let Err(secs) = st.bucket.admit(self.now_ns) {
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
                    "rate limit exceeded",
                    Some("at most 10 requests per second per API key id"),
                    e,
                );
                if let Some(v) = value {
                    set_header(&mut r, header::RETRY_AFTER, &v);
                }
                return r;
            }
        }

        let parsed = body::parse(ep, self.body, sim.cfg.clamp_page);
        if let Ok(q) = &parsed {
            e.limit = Some(Value::from(q.to - q.from));
        }
        let search_from = Some(parsed.as_ref().map_or(0, |q| q.from));
        let fault = sim.core.faults().select_at(&facts, search_from);
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
                return json(StatusCode::INTERNAL_SERVER_ERROR, Vec::new());
            }
            if let Some(code) = a.status {
                let status =
                    StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                let (mut r, n) = finish(status, error_body(code, "injected fault", None), Some(a));
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
        let q = match parsed {
            Ok(q) => q,
            Err(be) => {
                let status = StatusCode::from_u16(be.status).unwrap_or(StatusCode::BAD_REQUEST);
                return error(status, &be.message, None, e);
            }
        };
        let standing = sim.core.faults().standing(&facts);
        let late = sim.late_fault();
        let (total, items) = {
            let mut st = sim.state();
            st.ds.catch_up(self.now_ns, late);
            let page = self.page(&mut st, ep, &q, now_ms);
            self.mid_pagination(&mut st, ep, &q, &standing, now_ms);
            page
        };
        e.items = Some(items.len() as u64);
        let total = match action.and_then(|a| a.total_count_drift) {
            Some(d) => total.saturating_add_signed(d),
            None => total,
        };
        let key = if ep == Endpoint::Incidents {
            "incidents"
        } else {
            "alerts"
        };
        let mut reply = Map::new();
        reply.insert("total_count".into(), total.into());
        reply.insert("result_count".into(), items.len().into());
        reply.insert(key.into(), Value::Array(items));
        let body = json!({ "reply": Value::Object(reply) });
        let (r, n) = finish(
            StatusCode::OK,
            serde_json::to_vec(&body).unwrap_or_default(),
            action,
        );
        e.bytes = n;
        r
    }

    /// Queries, builds the records, counts them as served and tracks the window.
    fn page(&self, st: &mut XdrState, ep: Endpoint, q: &Query, now_ms: i64) -> (u64, Vec<Value>) {
        let seed = st.ds.seed;
        match ep {
            Endpoint::Incidents => {
                let (total, hits) = st.ds.query_incidents(q, now_ms);
                let items: Vec<Value> = hits
                    .iter()
                    .map(|(i, v)| incident_json(seed, &st.ds.incidents[*i], *v))
                    .collect();
                for (i, v) in &hits {
                    let inc = &st.ds.incidents[*i];
                    let id = format!("{}@{}", inc.id, inc.versions[*v].mod_ms);
                    *st.served_incidents.entry(id).or_default() += 1;
                }
                st.window(&q.window_key).page(hits.iter().map(|(i, _)| *i));
                (total, items)
            }
            _ => {
                let (total, hits) = st.ds.query_alerts(q, now_ms);
                let multi = ep == Endpoint::AlertsMulti;
                let items: Vec<Value> = hits
                    .iter()
                    .map(|i| alert_json(seed, &st.ds.alerts[*i], multi))
                    .collect();
                let min_detect = hits.iter().map(|i| st.ds.alerts[*i].detect_ms).min();
                for i in &hits {
                    let id = st.ds.alerts[*i].id.to_string();
                    *st.served_alerts.entry(id).or_default() += 1;
                }
                let w = st.window(&q.window_key);
                w.page(hits.iter().copied());
                w.min_detect_ms = match (w.min_detect_ms, min_detect) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                (total, items)
            }
        }
    }

    /// Applies `mutate_mid_pagination` / `insert_mid_pagination` once their page is reached.
    fn mid_pagination(
        &self,
        st: &mut XdrState,
        ep: Endpoint,
        q: &Query,
        standing: &[Action],
        now_ms: i64,
    ) {
        for a in standing {
            let (mp, incidents): (MidPagination, bool) =
                match (a.mutate_mid_pagination, a.insert_mid_pagination) {
                    (Some(mp), _) if ep == Endpoint::Incidents => (mp, true),
                    (_, Some(mp)) if ep != Endpoint::Incidents => (mp, false),
                    _ => continue,
                };
            let tag = serde_json::to_string(a).unwrap_or_default();
            let w = st.window(&q.window_key);
            if w.pages < mp.after_page || w.fired.contains(&tag) {
                continue;
            }
            w.fired.push(tag);
            let count = mp.count as usize;
            if incidents {
                let targets: Vec<usize> = w.served.iter().take(count).copied().collect();
                for idx in targets {
                    st.ds.modify(idx, now_ms);
                }
            } else {
                // Old detection time: the oldest already served in this window, so under a
                // creation_time sort the new alerts land on pages the client has passed.
                let detect = w.min_detect_ms.unwrap_or(now_ms - 3_600_000);
                for _ in 0..count {
                    st.ds.insert_alert(detect, now_ms);
                }
            }
        }
    }
}
