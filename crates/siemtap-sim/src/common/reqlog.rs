//! The request log served at `GET /_sim/requests`, and counters for `GET /_sim/stats`.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;
use serde_json::Value;

/// Entries kept before the oldest are dropped (`dropped` counts them).
const MAX_ENTRIES: usize = 200_000;

/// One vendor-API request as the simulator saw it.
#[derive(Serialize, Debug, Clone, Default)]
pub(crate) struct LogEntry {
    /// 1-based arrival order.
    pub(crate) seq: u64,
    /// Virtual clock time (RFC 3339) when the request arrived.
    pub(crate) time: String,
    pub(crate) method: String,
    pub(crate) path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query: Option<String>,
    /// Tenant name the bearer token maps to (never the token).
    pub(crate) tenant: Option<String>,
    pub(crate) stream: Option<String>,
    /// `flat`, `reset_cursor_wrapper` or `cursor` (1Password bodies).
    pub(crate) body_form: Option<&'static str>,
    /// `ok`, `missing`, `invalid`, `expired` or `n/a` (route not found / wrong method).
    pub(crate) auth: &'static str,
    /// Convenience: `auth == "ok"`.
    pub(crate) auth_ok: bool,
    /// HTTP status sent; 0 when the connection was dropped without a response.
    pub(crate) status: u16,
    /// Description of the injected fault, e.g. `rule 2: status 503`.
    pub(crate) fault: Option<String>,
    /// A 429 caused by the simulated vendor limit (not by a fault).
    pub(crate) rate_limited: bool,
    /// `limit` of a flat/wrapper body, as sent.
    pub(crate) limit: Option<Value>,
    /// `limit` sent next to `cursor` (ignored by the simulator; recorded for assertions).
    pub(crate) limit_with_cursor: Option<Value>,
    /// Items in the page (before any body-breaking fault).
    pub(crate) items: Option<u64>,
    pub(crate) bytes: u64,
    /// Wall-clock handling time in microseconds (informational only).
    pub(crate) latency_us: u64,
}

/// Bounded request log plus counters.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<LogEntry>,
    dropped: u64,
    next_seq: u64,
    by_status: BTreeMap<u16, u64>,
    self_inflicted_429: u64,
    faults_applied: u64,
}

impl RequestLog {
    /// Reserves the next sequence number.
    pub(crate) fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// Appends an entry and updates the counters.
    pub(crate) fn push(&mut self, entry: LogEntry) {
        *self.by_status.entry(entry.status).or_default() += 1;
        if entry.rate_limited {
            self.self_inflicted_429 += 1;
        }
        if entry.fault.is_some() {
            self.faults_applied += 1;
        }
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.pop_front();
            self.dropped += 1;
        }
        self.entries.push_back(entry);
    }

    /// `{"requests":[...],"dropped":N,"self_inflicted_429":N}`
    pub(crate) fn to_json(&self) -> Value {
        serde_json::json!({
            "requests": self.entries,
            "dropped": self.dropped,
            "self_inflicted_429": self.self_inflicted_429,
        })
    }

    /// Counters for `/_sim/stats`.
    pub(crate) fn stats(&self) -> Value {
        let by_status: serde_json::Map<String, Value> = self
            .by_status
            .iter()
            .map(|(k, v)| (k.to_string(), Value::from(*v)))
            .collect();
        serde_json::json!({
            "requests": self.next_seq,
            "by_status": by_status,
            "self_inflicted_429": self.self_inflicted_429,
            "faults_applied": self.faults_applied,
            "log_dropped": self.dropped,
        })
    }

    /// Forgets everything (for `/_sim/reset`).
    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}
