//! The REST simulator's state: datasets, issued OAuth2 tokens, served counts, limits; the
//! oracle and reset.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::args::RestArgs;
use super::data::{Dataset, FEEDS, Feed, ts};
use crate::common::clock::VirtualClock;
use crate::common::control::{SimCore, Vendor};
use crate::common::faults::FaultPlan;
use crate::common::ratelimit::SlidingLimits;
use crate::common::retry_after::RetryAfterForm;

/// Per credential: Okta 120/min, Graph 20/s, items 10/s.
const OKTA_LIMITS: &[(i64, usize)] = &[(60, 120)];
const GRAPH_LIMITS: &[(i64, usize)] = &[(1, 20)];
const ITEMS_LIMITS: &[(i64, usize)] = &[(1, 10)];

/// Validated settings.
pub(crate) struct Config {
    pub events: u64,
    pub okta_token: String,
    pub client_id: String,
    pub client_secret: String,
    pub token_ttl_s: i64,
    pub api_key: String,
    pub retry_after_form: RetryAfterForm,
    pub rate_limit: bool,
}

/// Mutable state.
pub(crate) struct St {
    pub seed: u64,
    pub t0_ns: i64,
    pub served: HashMap<Feed, BTreeMap<String, u64>>,
    /// Issued access token → expiry (ns, virtual clock).
    pub tokens: HashMap<String, i64>,
    pub token_seq: u64,
    pub token_requests: u64,
    pub tokens_rejected: u64,
    pub limits: HashMap<Feed, SlidingLimits>,
    pub mixed_counter: u64,
}

/// The simulator.
pub(crate) struct RestSim {
    pub core: SimCore,
    pub cfg: Config,
    state: Mutex<St>,
}

fn fresh_limits() -> HashMap<Feed, SlidingLimits> {
    HashMap::from([
        (Feed::SystemLog, SlidingLimits::new(OKTA_LIMITS)),
        (Feed::SecurityAlerts, SlidingLimits::new(GRAPH_LIMITS)),
        (Feed::Items, SlidingLimits::new(ITEMS_LIMITS)),
    ])
}

fn invalid(msg: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidInput, msg)
}

impl RestSim {
    pub(crate) fn new(args: &RestArgs) -> std::io::Result<Self> {
        for (flag, v) in [
            ("--okta-token", &args.okta_token),
            ("--client-id", &args.client_id),
            ("--client-secret", &args.client_secret),
            ("--api-key", &args.api_key),
        ] {
            if v.trim().is_empty() {
                return Err(invalid(format!("{flag} is empty; give a non-empty value")));
            }
        }
        if args.token_ttl == 0 {
            return Err(invalid("--token-ttl must be at least 1 second".into()));
        }
        let clock_start = match &args.clock_start {
            Some(s) => Some(s.parse::<Timestamp>().map_err(|e| {
                invalid(format!(
                    "--clock-start {s:?} is not RFC 3339 ({e}); e.g. 2026-03-31T00:00:00Z"
                ))
            })?),
            None => None,
        };
        let core = SimCore::new(VirtualClock::new(clock_start, args.frozen_clock));
        if let Some(path) = &args.faults {
            let bytes = std::fs::read(path)
                .map_err(|e| invalid(format!("--faults {}: cannot read ({e})", path.display())))?;
            let plan = FaultPlan::from_json(&bytes)
                .map_err(|e| invalid(format!("--faults {}: {e}", path.display())))?;
            core.faults().install(plan, args.seed);
        }
        let t0_ns = core.clock.now_ns();
        Ok(Self {
            core,
            cfg: Config {
                events: args.events,
                okta_token: args.okta_token.clone(),
                client_id: args.client_id.clone(),
                client_secret: args.client_secret.clone(),
                token_ttl_s: i64::try_from(args.token_ttl).unwrap_or(i64::MAX / 1_000_000_000),
                api_key: args.api_key.clone(),
                retry_after_form: args.retry_after_form,
                rate_limit: !args.no_rate_limit,
            },
            state: Mutex::new(St {
                seed: args.seed,
                t0_ns,
                served: HashMap::new(),
                tokens: HashMap::new(),
                token_seq: 0,
                token_requests: 0,
                tokens_rejected: 0,
                limits: fresh_limits(),
                mixed_counter: 0,
            }),
        })
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, St> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The dataset of `feed` (reads the installed `late_events`; do not hold `state()`).
    pub(crate) fn dataset(&self, feed: Feed) -> Dataset {
        let late = self
            .core
            .faults()
            .late_for("default", feed.name())
            .map(|l| (l.fraction, l.delay_s));
        let st = self.state();
        Dataset {
            seed: st.seed,
            feed,
            events: self.cfg.events,
            t0_ns: st.t0_ns,
            late,
        }
    }

    /// Counts records put in a response.
    pub(crate) fn served(&self, feed: Feed, ids: impl Iterator<Item = String>) {
        let mut st = self.state();
        let m = st.served.entry(feed).or_default();
        for id in ids {
            *m.entry(id).or_default() += 1;
        }
    }

    /// Invalidates every issued access token (the token endpoint still works).
    pub(crate) fn revoke_tokens(&self) -> usize {
        let mut st = self.state();
        let n = st.tokens.len();
        st.tokens.clear();
        n
    }
}

impl Vendor for RestSim {
    const NAME: &'static str = "rest";

    fn core(&self) -> &SimCore {
        &self.core
    }

    fn seed(&self) -> u64 {
        self.state().seed
    }

    fn oracle(&self, q: &HashMap<String, String>) -> Result<String, String> {
        for k in q.keys() {
            if !["stream", "generated"].contains(&k.as_str()) {
                return Err(format!(
                    "unknown oracle parameter {k:?}; use stream= or generated=true"
                ));
            }
        }
        let feeds: Vec<Feed> = match q.get("stream") {
            Some(s) => vec![*FEEDS.iter().find(|f| f.name() == s).ok_or_else(|| {
                format!("unknown stream {s:?}; use system_log, security_alerts or items")
            })?],
            None => FEEDS.to_vec(),
        };
        let now = self.core.clock.now_ns();
        let generated = q.get("generated").is_some_and(|v| v == "true");
        let mut streams = Map::new();
        let mut served = Map::new();
        let mut gen_out = Map::new();
        for feed in feeds {
            let ds = self.dataset(feed);
            let ids: Vec<Value> = ds
                .visible(now, None, None)
                .into_iter()
                .map(|i| ds.id(i).into())
                .collect();
            streams.insert(feed.name().into(), Value::Array(ids));
            let counts = self.state().served.get(&feed).cloned().unwrap_or_default();
            served.insert(feed.name().into(), json!(counts));
            if generated {
                let all: Vec<Value> = (0..ds.events)
                    .map(|i| json!({"id": ds.id(i), "event_time": ts(ds.event_ns(i), 3), "visible_at": ts(ds.visible_ns(i), 3)}))
                    .collect();
                gen_out.insert(feed.name().into(), Value::Array(all));
            }
        }
        let mut out = json!({"now": ts(now, 3), "streams": streams, "served": served});
        if generated {
            out["generated"] = Value::Object(gen_out);
        }
        Ok(out.to_string())
    }

    fn reset(&self, seed: Option<u64>) {
        let now = self.core.clock.now_ns();
        let mut st = self.state();
        if let Some(s) = seed {
            st.seed = s;
        }
        st.t0_ns = now;
        st.served.clear();
        st.tokens.clear();
        st.token_requests = 0;
        st.tokens_rejected = 0;
        st.limits = fresh_limits();
    }

    fn stats(&self) -> Map<String, Value> {
        let st = self.state();
        let mut m = Map::new();
        m.insert("token_requests".into(), st.token_requests.into());
        m.insert("tokens_live".into(), st.tokens.len().into());
        m.insert("tokens_rejected".into(), st.tokens_rejected.into());
        m.insert("events".into(), self.cfg.events.into());
        m
    }
}
