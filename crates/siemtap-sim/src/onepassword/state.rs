//! The 1Password simulator's state, the oracle and reset.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::args::{Config, OnePasswordArgs};
use super::cursor::CursorKey;
use super::records::{format_ts, uuid_of};
use super::stream::Stream;
use super::timeline::{Filter, Position, Precision, Timeline};
use crate::common::clock::{VirtualClock, ts_to_ns};
use crate::common::control::{SimCore, Vendor};
use crate::common::ratelimit::SlidingLimits;
use crate::error::SimError;

/// 600 requests per minute and 30,000 per hour, per token.
const LIMITS: &[(i64, usize)] = &[(60, 600), (3600, 30_000)];

/// Mutable per-run state.
pub(crate) struct OpState {
    pub(crate) seed: u64,
    /// Dataset anchor: clock at start or at the last reset.
    pub(crate) t0_ns: i64,
    /// Bumped by reset; cursors of an older epoch are refused.
    pub(crate) epoch: u64,
    /// `(tenant, stream) → uuid → times served`.
    pub(crate) served: HashMap<(usize, Stream), HashMap<String, u64>>,
    /// Per-tenant sliding windows.
    pub(crate) limits: Vec<SlidingLimits>,
    /// Alternation state for `--retry-after-form mixed`.
    pub(crate) mixed_counter: u64,
}

/// The 1Password simulator.
pub(crate) struct OpSim {
    pub(crate) core: SimCore,
    pub(crate) cfg: Config,
    pub(crate) cursor_key: CursorKey,
    state: Mutex<OpState>,
}

impl OpSim {
    /// Validates `args` and builds the simulator (installs `--faults`).
    pub(crate) fn new(args: &OnePasswordArgs) -> Result<Self, SimError> {
        let mut key_bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key_bytes)
            .map_err(|_| SimError::Random)?;
        let cfg = Config::from_args(args, hmac::Key::new(hmac::HMAC_SHA256, &key_bytes))?;
        let cursor_key = if args.deterministic_cursors {
            CursorKey::from_seed(args.seed)
        } else {
            CursorKey::random()?
        };
        let core = SimCore::new(VirtualClock::new(cfg.clock_start, cfg.frozen_clock));
        if let Some(plan) = &cfg.plan {
            core.faults().install(plan.clone(), args.seed);
        }
        let state = OpState {
            seed: args.seed,
            t0_ns: core.clock.now_ns(),
            epoch: 1,
            served: HashMap::new(),
            limits: cfg
                .tenants
                .iter()
                .map(|_| SlidingLimits::new(LIMITS))
                .collect(),
            mixed_counter: 0,
        };
        Ok(Self {
            core,
            cfg,
            cursor_key,
            state: Mutex::new(state),
        })
    }

    /// The per-run state (poison-tolerant).
    pub(crate) fn state(&self) -> MutexGuard<'_, OpState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The installed `late_events` for a tenant's stream (locks the fault engine briefly;
    /// call it before [`OpSim::state`], never while holding it).
    pub(crate) fn late_for(&self, tenant: usize, stream: Stream) -> Option<(f64, u64)> {
        self.core
            .faults()
            .late_for(&self.cfg.tenants[tenant].name, stream.name())
            .map(|l| (l.fraction, l.delay_s))
    }

    /// The timeline of a tenant's stream under `st`.
    pub(crate) fn timeline(
        &self,
        st: &OpState,
        tenant: usize,
        stream: Stream,
        late: Option<(f64, u64)>,
    ) -> Timeline {
        Timeline::new(
            st.seed,
            self.cfg.tenants[tenant].hash,
            stream,
            self.cfg.events,
            st.t0_ns,
            self.cfg.rate,
            late,
        )
    }

    fn oracle_json(&self, q: &HashMap<String, String>) -> Result<String, String> {
        for k in q.keys() {
            if !["tenant", "stream", "from", "to", "generated"].contains(&k.as_str()) {
                return Err(format!(
                    "GET /_sim/oracle: unknown query key {k:?}; use tenant, stream, from, to, generated"
                ));
            }
        }
        let tenant = match q.get("tenant") {
            None => 0,
            Some(t) => self.cfg.tenant_index(t).ok_or_else(|| {
                let names: Vec<&str> = self.cfg.tenants.iter().map(|t| t.name.as_str()).collect();
                format!(
                    "unknown tenant {t:?}; configured tenants: {}",
                    names.join(", ")
                )
            })?,
        };
        let streams: Vec<Stream> =
            match q.get("stream") {
                None => Stream::ALL.to_vec(),
                Some(s) => vec![Stream::from_name(s).ok_or_else(|| {
                    format!("unknown stream {s:?}; use audit, signin or itemusage")
                })?],
            };
        let time = |key: &str| -> Result<Option<i64>, String> {
            q.get(key)
                .map(|v| {
                    v.parse::<Timestamp>()
                        .map(ts_to_ns)
                        .map_err(|e| format!("{key}={v:?} is not RFC 3339: {e}"))
                })
                .transpose()
        };
        let filter = Filter {
            start_ns: time("from")?,
            end_ns: time("to")?,
        };
        let generated = q.get("generated").is_some_and(|v| v == "true" || v == "1");
        let lates: Vec<_> = streams.iter().map(|s| self.late_for(tenant, *s)).collect();
        let now = self.core.clock.now_ns();
        let st = self.state();
        let mut out = String::with_capacity(64 + 40 * self.cfg.events as usize * streams.len());
        let _ = write!(
            out,
            "{{\"tenant\":{},\"now\":\"{}\",\"streams\":{{",
            serde_json::Value::from(self.cfg.tenants[tenant].name.as_str()),
            format_ts(now, Precision::Nanos)
        );
        for (n, (stream, late)) in streams.iter().zip(&lates).enumerate() {
            let tl = self.timeline(&st, tenant, *stream, *late);
            let page = tl.page(Position::default(), &filter, usize::MAX, now);
            let _ = write!(
                out,
                "{}\"{}\":[",
                if n > 0 { "," } else { "" },
                stream.name()
            );
            for (k, i) in page.indices.iter().enumerate() {
                // uuids are base32: no escaping needed.
                let _ = write!(
                    out,
                    "{}\"{}\"",
                    if k > 0 { "," } else { "" },
                    uuid_of(&tl.record_key(*i))
                );
            }
            out.push(']');
        }
        out.push_str("},\"served\":{");
        for (n, stream) in streams.iter().enumerate() {
            let counts: BTreeMap<&String, &u64> = st
                .served
                .get(&(tenant, *stream))
                .map(|m| m.iter().collect())
                .unwrap_or_default();
            let counts = serde_json::to_string(&counts).unwrap_or_else(|_| "{}".into());
            let _ = write!(
                out,
                "{}\"{}\":{counts}",
                if n > 0 { "," } else { "" },
                stream.name()
            );
        }
        out.push('}');
        if generated {
            out.push_str(",\"generated\":{");
            for (n, (stream, late)) in streams.iter().zip(&lates).enumerate() {
                let tl = self.timeline(&st, tenant, *stream, *late);
                let _ = write!(
                    out,
                    "{}\"{}\":[",
                    if n > 0 { "," } else { "" },
                    stream.name()
                );
                for i in 0..tl.count(now) {
                    let _ = write!(
                        out,
                        "{}{{\"uuid\":\"{}\",\"event_time\":\"{}\",\"visible_at\":\"{}\"}}",
                        if i > 0 { "," } else { "" },
                        uuid_of(&tl.record_key(i)),
                        format_ts(tl.display_ns(i), tl.precision(i)),
                        format_ts(tl.visible_ns(i), Precision::Nanos)
                    );
                }
                out.push(']');
            }
            out.push('}');
        }
        out.push('}');
        Ok(out)
    }
}

impl Vendor for OpSim {
    const NAME: &'static str = "1password";

    fn core(&self) -> &SimCore {
        &self.core
    }

    fn seed(&self) -> u64 {
        self.state().seed
    }

    fn oracle(&self, query: &HashMap<String, String>) -> Result<String, String> {
        self.oracle_json(query)
    }

    fn reset(&self, seed: Option<u64>) {
        let now = self.core.clock.now_ns();
        let mut st = self.state();
        if let Some(s) = seed {
            st.seed = s;
        }
        st.t0_ns = now;
        st.epoch += 1;
        st.served.clear();
        st.limits = self
            .cfg
            .tenants
            .iter()
            .map(|_| SlidingLimits::new(LIMITS))
            .collect();
        st.mixed_counter = 0;
    }

    fn stats(&self) -> serde_json::Map<String, serde_json::Value> {
        let st = self.state();
        let served_items: u64 = st.served.values().flat_map(|m| m.values()).sum();
        let tenants: Vec<&str> = self.cfg.tenants.iter().map(|t| t.name.as_str()).collect();
        let mut m = serde_json::Map::new();
        m.insert("tenants".into(), serde_json::json!(tenants));
        m.insert("served_items".into(), served_items.into());
        m.insert("epoch".into(), st.epoch.into());
        m
    }
}
