//! The Proofpoint simulator's state, the oracle and reset.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use serde_json::{Value, json};

use super::args::{Config, PpArgError, ProofpointArgs};
use super::category::Category;
use super::people::{self, ReportKey};
use super::quota::Quota;
use super::records::{format_ms, oracle_id};
use super::timeline::Timeline;
use crate::common::clock::{VirtualClock, ts_to_ns};
use crate::common::control::{SimCore, Vendor};
use crate::error::SimError;

/// The tenant name used for fault matching (Proofpoint has one credential).
pub(crate) const TENANT: &str = "default";

/// Mutable per-run state.
pub(crate) struct PpState {
    pub(crate) seed: u64,
    /// Dataset anchor: clock at start or at the last reset.
    pub(crate) t0_ns: i64,
    pub(crate) epoch: u64,
    /// SIEM oracle id → times served.
    pub(crate) served_siem: HashMap<String, u64>,
    /// People oracle id → times served.
    pub(crate) served_people: HashMap<String, u64>,
    /// Reports of which at least one page was served (their rows enter the oracle).
    pub(crate) opened: BTreeSet<ReportKey>,
    pub(crate) quota: Quota,
}

/// The Proofpoint TAP simulator.
pub(crate) struct PpSim {
    pub(crate) core: SimCore,
    pub(crate) cfg: Config,
    state: Mutex<PpState>,
}

impl PpSim {
    /// Validates `args` and builds the simulator (installs `--faults`).
    pub(crate) fn new(args: &ProofpointArgs) -> Result<Self, PpArgError> {
        let mut key = [0u8; 32];
        SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| SimError::Random)?;
        let cfg = Config::from_args(args, hmac::Key::new(hmac::HMAC_SHA256, &key))?;
        let core = SimCore::new(VirtualClock::new(cfg.clock_start, cfg.frozen_clock));
        if let Some(plan) = &cfg.plan {
            core.faults().install(plan.clone(), args.seed);
        }
        let state = PpState {
            seed: args.seed,
            t0_ns: core.clock.now_ns(),
            epoch: 1,
            served_siem: HashMap::new(),
            served_people: HashMap::new(),
            opened: BTreeSet::new(),
            quota: Quota::new(cfg.quota_scale, cfg.quota),
        };
        Ok(Self {
            core,
            cfg,
            state: Mutex::new(state),
        })
    }

    /// The per-run state (poison-tolerant).
    pub(crate) fn state(&self) -> MutexGuard<'_, PpState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The installed `late_events` for the `siem` stream (locks the fault engine briefly;
    /// never call it while holding [`PpSim::state`]).
    pub(crate) fn late(&self) -> Option<(f64, u64)> {
        self.core
            .faults()
            .late_for(TENANT, "siem")
            .map(|l| (l.fraction, l.delay_s))
    }

    /// The timeline of `cat` under `st`.
    pub(crate) fn timeline(
        &self,
        st: &PpState,
        cat: Category,
        late: Option<(f64, u64)>,
    ) -> Timeline {
        Timeline::new(st.seed, cat, self.cfg.events, st.t0_ns, self.cfg.rate, late)
    }

    fn oracle_json(&self, q: &HashMap<String, String>) -> Result<Value, String> {
        const KEYS: [&str; 5] = ["stream", "category", "from", "to", "generated"];
        if let Some(k) = q.keys().find(|k| !KEYS.contains(&k.as_str())) {
            return Err(format!(
                "GET /_sim/oracle: unknown query key {k:?}; use {}",
                KEYS.join(", ")
            ));
        }
        let streams: Vec<&str> = match q.get("stream").map(String::as_str) {
            None => vec!["siem", "people"],
            Some(s @ ("siem" | "people")) => vec![s],
            Some(s) => return Err(format!("unknown stream {s:?}; use siem or people")),
        };
        let cats: Vec<Category> = match q.get("category") {
            None => Category::ALL.to_vec(),
            Some(c) => vec![Category::from_key(c).ok_or_else(|| {
                format!("unknown category {c:?}; use messagesBlocked, messagesDelivered, clicksBlocked or clicksPermitted")
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
        let (from, to) = (time("from")?, time("to")?);
        let generated = q.get("generated").is_some_and(|v| v == "true" || v == "1");
        let late = self.late();
        let now = self.core.clock.now_ns();
        let st = self.state();
        let mut ids = serde_json::Map::new();
        let mut served = serde_json::Map::new();
        let mut gen_out = serde_json::Map::new();
        for stream in streams {
            let (list, counts) = if stream == "siem" {
                let mut list = Vec::new();
                let mut all = Vec::new();
                for cat in &cats {
                    let tl = self.timeline(&st, *cat, late);
                    for i in tl.visible(from, to, now) {
                        list.push(Value::from(oracle_id(*cat, &tl.record_key(i))));
                    }
                    if generated {
                        for i in 0..tl.count(now) {
                            all.push(json!({
                                "id": oracle_id(*cat, &tl.record_key(i)),
                                "event_time": format_ms(tl.event_ns(i)),
                                "visible_at": format_ms(tl.visible_ns(i)),
                            }));
                        }
                    }
                }
                if generated {
                    gen_out.insert("siem".into(), Value::Array(all));
                }
                let counts: BTreeMap<&String, &u64> = st.served_siem.iter().collect();
                (list, json!(counts))
            } else {
                let mut list = Vec::new();
                for key in &st.opened {
                    let r = people::generate(st.seed, st.t0_ns, self.cfg.people_users, *key);
                    list.extend(r.oracle_ids(key.report).into_iter().map(Value::from));
                }
                let counts: BTreeMap<&String, &u64> = st.served_people.iter().collect();
                (list, json!(counts))
            };
            ids.insert(stream.into(), Value::Array(list));
            served.insert(stream.into(), counts);
        }
        let mut out = json!({
            "now": format_ms(now),
            "streams": ids,
            "served": served,
        });
        if generated {
            out["generated"] = Value::Object(gen_out);
        }
        Ok(out)
    }
}

impl Vendor for PpSim {
    const NAME: &'static str = "proofpoint";

    fn core(&self) -> &SimCore {
        &self.core
    }

    fn seed(&self) -> u64 {
        self.state().seed
    }

    fn oracle(&self, query: &HashMap<String, String>) -> Result<String, String> {
        self.oracle_json(query)
            .map(|v| serde_json::to_string(&v).unwrap_or_default())
    }

    fn reset(&self, seed: Option<u64>) {
        let now = self.core.clock.now_ns();
        let mut st = self.state();
        if let Some(s) = seed {
            st.seed = s;
        }
        st.t0_ns = now;
        st.epoch += 1;
        st.served_siem.clear();
        st.served_people.clear();
        st.opened.clear();
        st.quota = Quota::new(self.cfg.quota_scale, self.cfg.quota);
    }

    fn stats(&self) -> serde_json::Map<String, Value> {
        let now = self.core.clock.now_ns();
        let mut st = self.state();
        let mut m = serde_json::Map::new();
        m.insert(
            "served_items".into(),
            (st.served_siem.values().sum::<u64>() + st.served_people.values().sum::<u64>()).into(),
        );
        m.insert("opened_reports".into(), st.opened.len().into());
        m.insert("epoch".into(), st.epoch.into());
        m.insert("quota".into(), st.quota.view(now));
        m
    }
}
