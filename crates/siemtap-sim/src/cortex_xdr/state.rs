//! The XDR simulator's state, the rate bucket, the oracle and reset.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use serde_json::Value;

use super::args::{Config, CortexXdrArgs};
use super::auth::{KeyCheck, NonceLog};
use super::data::{Dataset, Params};
use crate::common::clock::{VirtualClock, ns_to_ts, ts_to_ns};
use crate::common::control::{SimCore, Vendor};
use crate::error::SimError;

const MS: i64 = 1_000_000;
/// Requests per second per key id (also the bucket size).
pub(crate) const RATE_PER_S: f64 = 10.0;
/// Windows remembered for the mid-pagination faults before the map is cleared.
const MAX_WINDOWS: usize = 10_000;
/// Served records remembered per window (only the first few are ever mutated).
const MAX_WINDOW_SERVED: usize = 1_000;

/// 10 requests/s token bucket on the virtual clock.
#[derive(Debug)]
pub(crate) struct TokenBucket {
    tokens: f64,
    last_ns: i64,
}

impl TokenBucket {
    fn full(now_ns: i64) -> Self {
        Self {
            tokens: RATE_PER_S,
            last_ns: now_ns,
        }
    }

    /// Takes a token, or returns the whole seconds (≥ 1) until one is available.
    pub(crate) fn admit(&mut self, now_ns: i64) -> Result<(), u64> {
        if now_ns > self.last_ns {
            let refill = (now_ns - self.last_ns) as f64 * RATE_PER_S / 1e9;
            self.tokens = (self.tokens + refill).min(RATE_PER_S);
        }
        self.last_ns = now_ns;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            let wait_s = (1.0 - self.tokens) / RATE_PER_S;
            Err((wait_s.ceil() as u64).max(1))
        }
    }
}

/// What one window (endpoint + filters + sort) has been served so far.
#[derive(Debug, Default)]
pub(crate) struct WindowTrack {
    /// 200 pages served.
    pub(crate) pages: u32,
    /// Record indices served, first-served first (bounded).
    pub(crate) served: Vec<usize>,
    /// Smallest detection time among the alerts served.
    pub(crate) min_detect_ms: Option<i64>,
    /// Mid-pagination rules (serialised action) that already fired here.
    pub(crate) fired: Vec<String>,
}

impl WindowTrack {
    /// Records a served page.
    pub(crate) fn page(&mut self, indices: impl Iterator<Item = usize>) {
        self.pages += 1;
        for i in indices {
            if self.served.len() < MAX_WINDOW_SERVED && !self.served.contains(&i) {
                self.served.push(i);
            }
        }
    }
}

/// Mutable per-run state.
#[derive(Debug)]
pub(crate) struct XdrState {
    pub(crate) ds: Dataset,
    /// `alert_id → times served`.
    pub(crate) served_alerts: HashMap<String, u64>,
    /// `"<incident_id>@<modification_time>" → times served`.
    pub(crate) served_incidents: HashMap<String, u64>,
    pub(crate) windows: HashMap<String, WindowTrack>,
    pub(crate) bucket: TokenBucket,
    pub(crate) nonces: NonceLog,
    pub(crate) mixed_counter: u64,
}

impl XdrState {
    /// The track of `key`, created on first use.
    pub(crate) fn window(&mut self, key: &str) -> &mut WindowTrack {
        if !self.windows.contains_key(key) && self.windows.len() >= MAX_WINDOWS {
            self.windows.clear();
        }
        self.windows.entry(key.to_owned()).or_default()
    }
}

/// The Cortex XDR simulator.
#[derive(Debug)]
pub(crate) struct XdrSim {
    pub(crate) core: SimCore,
    pub(crate) cfg: Config,
    pub(crate) key: KeyCheck,
    params: Params,
    state: Mutex<XdrState>,
}

impl XdrSim {
    /// Validates `args` and builds the simulator (installs `--faults`).
    pub(crate) fn new(args: &CortexXdrArgs) -> Result<Self, SimError> {
        let cfg = Config::from_args(args)?;
        let key = KeyCheck::new(&args.api_key)?;
        let core = SimCore::new(VirtualClock::new(cfg.clock_start, cfg.frozen_clock));
        if let Some(plan) = &cfg.plan {
            core.faults().install(plan.clone(), args.seed);
        }
        let params = Params {
            events: cfg.events,
            rate: cfg.rate,
            late_fraction: cfg.late_fraction,
            no_creation_fraction: cfg.no_creation_fraction,
        };
        let now = core.clock.now_ns();
        let sim = Self {
            state: Mutex::new(XdrState {
                ds: Dataset::new(args.seed, now, params, None),
                served_alerts: HashMap::new(),
                served_incidents: HashMap::new(),
                windows: HashMap::new(),
                bucket: TokenBucket::full(now),
                nonces: NonceLog::default(),
                mixed_counter: 0,
            }),
            core,
            cfg,
            key,
            params,
        };
        Ok(sim)
    }

    /// The per-run state (poison-tolerant).
    pub(crate) fn state(&self) -> MutexGuard<'_, XdrState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The installed `late_events` as `(fraction, delay ms)` (locks the fault engine briefly;
    /// never call it while holding [`XdrSim::state`]).
    pub(crate) fn late_fault(&self) -> Option<(f64, i64)> {
        self.core
            .faults()
            .late_for("default", "alerts")
            .filter(|l| l.fraction > 0.0)
            .map(|l| {
                let ms = i64::try_from(l.delay_s).unwrap_or(i64::MAX / 1000);
                (l.fraction, ms.saturating_mul(1000))
            })
    }

    fn oracle_json(&self, q: &HashMap<String, String>) -> Result<String, String> {
        for k in q.keys() {
            if !["stream", "from", "to", "generated"].contains(&k.as_str()) {
                return Err(format!(
                    "GET /_sim/oracle: unknown query key {k:?}; use stream, from, to, generated"
                ));
            }
        }
        let streams: Vec<&str> = match q.get("stream").map(String::as_str) {
            None => vec!["alerts", "incidents"],
            Some(s @ ("alerts" | "incidents")) => vec![s],
            Some(s) => return Err(format!("unknown stream {s:?}; use alerts or incidents")),
        };
        let time = |key: &str| -> Result<Option<i64>, String> {
            q.get(key)
                .map(|v| {
                    v.parse::<Timestamp>()
                        .map(|t| ts_to_ns(t).div_euclid(MS))
                        .map_err(|e| format!("{key}={v:?} is not RFC 3339: {e}"))
                })
                .transpose()
        };
        let (from, to) = (time("from")?, time("to")?);
        let in_range = |t: i64| from.is_none_or(|f| t >= f) && to.is_none_or(|e| t <= e);
        let generated = q.get("generated").is_some_and(|v| v == "true" || v == "1");
        let late = self.late_fault();
        let now_ns = self.core.clock.now_ns();
        let now_ms = now_ns.div_euclid(MS);
        let mut st = self.state();
        st.ds.catch_up(now_ns, late);
        let t0_ms = st.ds.t0_ns.div_euclid(MS);
        let mut out = String::with_capacity(64 + 24 * st.ds.alerts.len());
        let _ = write!(out, "{{\"now\":\"{}\",\"streams\":{{", ns_to_ts(now_ns));
        let mut incident_versions: Vec<(i64, u64, String)> = Vec::new();
        for inc in &st.ds.incidents {
            for (k, v) in inc.versions.iter().enumerate() {
                let superseded_before_t0 = inc
                    .versions
                    .get(k + 1)
                    .is_some_and(|next| next.mod_ms < t0_ms);
                if v.mod_ms <= now_ms && !superseded_before_t0 && in_range(v.mod_ms) {
                    incident_versions.push((v.mod_ms, inc.id, format!("{}@{}", inc.id, v.mod_ms)));
                }
            }
        }
        incident_versions.sort();
        for (n, stream) in streams.iter().enumerate() {
            out.push_str(if n > 0 { "," } else { "" });
            let ids: Vec<String> = if *stream == "alerts" {
                let order = st.ds.alert_order().to_vec();
                order
                    .iter()
                    .map(|i| &st.ds.alerts[*i as usize])
                    .filter(|a| a.insert_ms <= now_ms && in_range(a.insert_ms))
                    .map(|a| a.id.to_string())
                    .collect()
            } else {
                incident_versions
                    .iter()
                    .map(|(_, _, s)| s.clone())
                    .collect()
            };
            let _ = write!(out, "\"{stream}\":{}", Value::from(ids));
        }
        out.push_str("},\"served\":{");
        for (n, stream) in streams.iter().enumerate() {
            let map = if *stream == "alerts" {
                &st.served_alerts
            } else {
                &st.served_incidents
            };
            let counts: BTreeMap<&String, &u64> = map.iter().collect();
            let counts = serde_json::to_string(&counts).unwrap_or_else(|_| "{}".into());
            let _ = write!(out, "{}\"{stream}\":{counts}", if n > 0 { "," } else { "" });
        }
        out.push('}');
        if generated {
            out.push_str(",\"generated\":");
            out.push_str(&self.generated(&st, &streams).to_string());
        }
        out.push('}');
        Ok(out)
    }

    fn generated(&self, st: &XdrState, streams: &[&str]) -> Value {
        let iso = |ms: i64| Value::from(ns_to_ts(ms.saturating_mul(MS)).to_string());
        let mut m = serde_json::Map::new();
        for stream in streams {
            let list: Vec<Value> = if *stream == "alerts" {
                st.ds
                    .alerts
                    .iter()
                    .map(|a| {
                        serde_json::json!({"alert_id": a.id.to_string(),
                            "event_time": iso(a.detect_ms), "visible_at": iso(a.insert_ms)})
                    })
                    .collect()
            } else {
                st.ds
                    .incidents
                    .iter()
                    .flat_map(|inc| {
                        inc.versions.iter().map(move |v| {
                            serde_json::json!({"id": format!("{}@{}", inc.id, v.mod_ms),
                                "event_time": iso(v.mod_ms), "visible_at": iso(v.mod_ms)})
                        })
                    })
                    .collect()
            };
            m.insert((*stream).to_owned(), Value::Array(list));
        }
        Value::Object(m)
    }
}

impl Vendor for XdrSim {
    const NAME: &'static str = "cortex_xdr";

    fn core(&self) -> &SimCore {
        &self.core
    }

    fn seed(&self) -> u64 {
        self.state().ds.seed
    }

    fn oracle(&self, query: &HashMap<String, String>) -> Result<String, String> {
        self.oracle_json(query)
    }

    fn reset(&self, seed: Option<u64>) {
        let now = self.core.clock.now_ns();
        let mut st = self.state();
        let seed = seed.unwrap_or(st.ds.seed);
        st.ds = Dataset::new(seed, now, self.params, None);
        st.served_alerts.clear();
        st.served_incidents.clear();
        st.windows.clear();
        st.bucket = TokenBucket::full(now);
        st.nonces = NonceLog::default();
        st.mixed_counter = 0;
    }

    fn stats(&self) -> serde_json::Map<String, Value> {
        let st = self.state();
        let mut m = serde_json::Map::new();
        m.insert("alerts".into(), st.ds.alerts.len().into());
        m.insert("incidents".into(), st.ds.incidents.len().into());
        let versions: usize = st.ds.incidents.iter().map(|i| i.versions.len()).sum();
        m.insert("incident_versions".into(), versions.into());
        m.insert(
            "served_items".into(),
            (st.served_alerts.values().sum::<u64>() + st.served_incidents.values().sum::<u64>())
                .into(),
        );
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i64 = 1_000_000_000;

    #[test]
    fn bucket_allows_ten_per_second() {
        let mut b = TokenBucket::full(0);
        assert!((0..10).all(|_| b.admit(0).is_ok()));
        assert_eq!(b.admit(0), Err(1));
        assert!(b.admit(NS / 10).is_ok(), "one token refills in 100 ms");
        assert!(b.admit(NS / 10).is_err());
    }
}
