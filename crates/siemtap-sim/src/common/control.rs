//! The vendor-independent control plane under `/_sim/`.
//!
//! | Endpoint | Effect |
//! |---|---|
//! | `GET /_sim/health` | `{"status":"ok","vendor":"..."}` |
//! | `GET /_sim/oracle` | vendor-specific ids (see the vendor module) |
//! | `GET /_sim/requests` | `{"requests":[...],"dropped":N,"self_inflicted_429":N}` |
//! | `GET /_sim/stats` | counters: requests, by_status, self_inflicted_429, faults_applied, ... |
//! | `GET/POST/DELETE /_sim/faults` | show / install (replace) / clear the fault plan |
//! | `GET/POST /_sim/clock` | show / `{"set":RFC3339}` / `{"advance_s":N}` / `{"mode":"frozen"\|"realtime"}` |
//! | `POST /_sim/reset` | optional `{"seed":N}`: new dataset anchored at the current clock; clears log, faults, served counts, rate windows; old cursors become invalid |

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use jiff::Timestamp;
use serde_json::Value;

use super::clock::VirtualClock;
use super::faults::{FaultEngine, FaultPlan};
use super::reqlog::RequestLog;
use super::respond::{json, json_error};

/// State every simulator shares: clock, fault plan and request log.
#[derive(Debug)]
pub(crate) struct SimCore {
    pub(crate) clock: VirtualClock,
    faults: Mutex<FaultEngine>,
    log: Mutex<RequestLog>,
}

impl SimCore {
    /// A core with an empty plan and log.
    pub(crate) fn new(clock: VirtualClock) -> Self {
        Self {
            clock,
            faults: Mutex::new(FaultEngine::default()),
            log: Mutex::new(RequestLog::default()),
        }
    }

    /// The fault engine (poison-tolerant).
    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultEngine> {
        self.faults.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The request log (poison-tolerant).
    pub(crate) fn log(&self) -> MutexGuard<'_, RequestLog> {
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// What a vendor simulator adds to the shared control plane.
pub(crate) trait Vendor: Send + Sync + 'static {
    /// Vendor name for `/_sim/health`.
    const NAME: &'static str;
    /// Shared state.
    fn core(&self) -> &SimCore;
    /// Current dataset seed (drives fault `probability` too).
    fn seed(&self) -> u64;
    /// The oracle as JSON text, or a 400 message for a bad query.
    fn oracle(&self, query: &HashMap<String, String>) -> Result<String, String>;
    /// Rebuilds the dataset (optionally with a new seed) and forgets per-run state.
    fn reset(&self, seed: Option<u64>);
    /// Vendor counters merged into `/_sim/stats`.
    fn stats(&self) -> serde_json::Map<String, Value>;
}

/// Routes of the control plane.
pub(crate) fn routes<V: Vendor>() -> Router<Arc<V>> {
    Router::new()
        .route("/_sim/health", get(health::<V>))
        .route("/_sim/oracle", get(oracle::<V>))
        .route("/_sim/requests", get(requests::<V>))
        .route("/_sim/stats", get(stats::<V>))
        .route(
            "/_sim/faults",
            get(faults_get::<V>)
                .post(faults_post::<V>)
                .delete(faults_delete::<V>),
        )
        .route("/_sim/clock", get(clock_get::<V>).post(clock_post::<V>))
        .route("/_sim/reset", axum::routing::post(reset::<V>))
}

fn value(v: &Value) -> Response {
    json(StatusCode::OK, serde_json::to_vec(v).unwrap_or_default())
}

async fn health<V: Vendor>() -> Response {
    value(&serde_json::json!({"status": "ok", "vendor": V::NAME}))
}

async fn oracle<V: Vendor>(
    State(v): State<Arc<V>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    match v.oracle(&q) {
        Ok(body) => json(StatusCode::OK, body.into_bytes()),
        Err(msg) => json_error(StatusCode::BAD_REQUEST, &msg),
    }
}

async fn requests<V: Vendor>(State(v): State<Arc<V>>) -> Response {
    let body = v.core().log().to_json();
    value(&body)
}

async fn stats<V: Vendor>(State(v): State<Arc<V>>) -> Response {
    let mut s = match v.core().log().stats() {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    s.extend(v.stats());
    value(&Value::Object(s))
}

async fn faults_get<V: Vendor>(State(v): State<Arc<V>>) -> Response {
    let plan = serde_json::to_value(v.core().faults().plan()).unwrap_or(Value::Null);
    value(&plan)
}

async fn faults_post<V: Vendor>(State(v): State<Arc<V>>, body: Bytes) -> Response {
    match FaultPlan::from_json(&body) {
        Ok(plan) => {
            let n = plan.faults.len();
            v.core().faults().install(plan, v.seed());
            tracing::info!("sim: installed a fault plan with {n} rule(s)");
            value(&serde_json::json!({"installed": n}))
        }
        Err(msg) => json_error(
            StatusCode::BAD_REQUEST,
            &format!("POST /_sim/faults: {msg}"),
        ),
    }
}

async fn faults_delete<V: Vendor>(State(v): State<Arc<V>>) -> Response {
    v.core().faults().clear();
    value(&serde_json::json!({"installed": 0}))
}

fn clock_view(clock: &VirtualClock) -> Value {
    let mode = if clock.is_frozen() {
        "frozen"
    } else {
        "realtime"
    };
    serde_json::json!({"now": clock.now().to_string(), "mode": mode})
}

async fn clock_get<V: Vendor>(State(v): State<Arc<V>>) -> Response {
    value(&clock_view(&v.core().clock))
}

/// Applies one clock command; the error names the fix.
fn apply_clock(clock: &VirtualClock, body: &[u8]) -> Result<(), String> {
    const USAGE: &str = "send one of {\"set\":\"2026-03-31T00:00:00Z\"}, {\"advance_s\":60}, {\"mode\":\"frozen\"|\"realtime\"}";
    let cmd: serde_json::Map<String, Value> = serde_json::from_slice(body)
        .map_err(|e| format!("body is not a JSON object ({e}); {USAGE}"))?;
    if cmd.len() != 1 {
        return Err(format!("expected exactly one key; {USAGE}"));
    }
    match cmd.iter().next() {
        Some((k, Value::String(s))) if k == "set" => {
            let ts: Timestamp = s
                .parse()
                .map_err(|e| format!("set: {s:?} is not RFC 3339 ({e})"))?;
            clock.set(ts);
        }
        Some((k, v)) if k == "advance_s" => {
            let secs = v
                .as_f64()
                .ok_or_else(|| format!("advance_s must be a number; {USAGE}"))?;
            clock.advance(secs);
        }
        Some((k, Value::String(m))) if k == "mode" => match m.as_str() {
            "frozen" => clock.set_frozen(true),
            "realtime" => clock.set_frozen(false),
            other => return Err(format!("mode {other:?} is unknown; {USAGE}")),
        },
        _ => return Err(USAGE.to_owned()),
    }
    Ok(())
}

async fn clock_post<V: Vendor>(State(v): State<Arc<V>>, body: Bytes) -> Response {
    let clock = &v.core().clock;
    match apply_clock(clock, &body) {
        Ok(()) => value(&clock_view(clock)),
        Err(msg) => json_error(StatusCode::BAD_REQUEST, &format!("POST /_sim/clock: {msg}")),
    }
}

async fn reset<V: Vendor>(State(v): State<Arc<V>>, body: Bytes) -> Response {
    let seed = if body.iter().all(u8::is_ascii_whitespace) {
        None
    } else {
        let parsed: Result<Value, _> = serde_json::from_slice(&body);
        match parsed.as_ref().ok().and_then(|b| b.as_object()) {
            Some(o) if o.is_empty() => None,
            Some(o) if o.len() == 1 && o.get("seed").is_some_and(Value::is_u64) => {
                o.get("seed").and_then(Value::as_u64)
            }
            _ => {
                return json_error(
                    StatusCode::BAD_REQUEST,
                    "POST /_sim/reset: body must be empty, {} or {\"seed\":N}",
                );
            }
        }
    };
    v.reset(seed);
    v.core().faults().clear();
    v.core().log().clear();
    value(&serde_json::json!({"reset": true, "seed": v.seed()}))
}
