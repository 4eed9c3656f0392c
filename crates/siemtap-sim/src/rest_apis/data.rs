//! The three datasets: event times, visibility (late arrivals) and record JSON, derived on
//! demand from `(seed, stream, index)`.

use serde_json::{Value, json};

use crate::common::clock::ns_to_ts;
use crate::common::prng::{Draw, hash_str, unit_of};

pub(crate) const NS: i64 = 1_000_000_000;

/// The simulated feeds, keyed by the stream names the shipped connectors use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Feed {
    /// Okta-style System Log (`system_log`).
    SystemLog,
    /// Graph-style security alerts (`security_alerts`).
    SecurityAlerts,
    /// Page-number items (`items`).
    Items,
}

pub(crate) const FEEDS: [Feed; 3] = [Feed::SystemLog, Feed::SecurityAlerts, Feed::Items];

impl Feed {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::SystemLog => "system_log",
            Self::SecurityAlerts => "security_alerts",
            Self::Items => "items",
        }
    }
}

/// One feed's dataset under a seed and anchor.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Dataset {
    pub seed: u64,
    pub feed: Feed,
    pub events: u64,
    pub t0_ns: i64,
    /// `late_events`: (fraction, delay_s).
    pub late: Option<(f64, u64)>,
}

impl Dataset {
    /// Event time of record `i`: evenly over [t0 − 24 h + 15 min, t0 − 10 min].
    pub(crate) fn event_ns(&self, i: u64) -> i64 {
        let first = self.t0_ns - 24 * 3600 * NS + 15 * 60 * NS;
        let last = self.t0_ns - 10 * 60 * NS;
        if self.events <= 1 {
            return last;
        }
        let span = (last - first) as i128;
        first + (span * i128::from(i) / i128::from(self.events - 1)) as i64
    }

    /// When record `i` becomes visible.
    pub(crate) fn visible_ns(&self, i: u64) -> i64 {
        let t = self.event_ns(i);
        match self.late {
            Some((fraction, delay_s))
                if unit_of(&[self.seed, hash_str(self.feed.name()), i, 0x4C41_5445]) < fraction =>
            {
                t + i64::try_from(delay_s).unwrap_or(0) * NS
            }
            _ => t,
        }
    }

    /// Indexes visible at `now_ns` with event time in `[from, to)`, in (time, index) order.
    pub(crate) fn visible(&self, now_ns: i64, from: Option<i64>, to: Option<i64>) -> Vec<u64> {
        (0..self.events)
            .filter(|&i| {
                let t = self.event_ns(i);
                self.visible_ns(i) <= now_ns
                    && from.is_none_or(|f| t >= f)
                    && to.is_none_or(|e| t < e)
            })
            .collect()
    }

    fn draw(&self, i: u64) -> Draw {
        Draw::new(&[self.seed, hash_str(self.feed.name()), i, 0x5245_4344])
    }

    /// The record's id as the oracle lists it.
    pub(crate) fn id(&self, i: u64) -> String {
        let mut d = self.draw(i);
        match self.feed {
            Feed::SystemLog => {
                let h = format!("{:016x}{:016x}", d.next_u64(), d.next_u64());
                format!(
                    "{}-{}-{}-{}-{}",
                    &h[..8],
                    &h[8..12],
                    &h[12..16],
                    &h[16..20],
                    &h[20..32]
                )
            }
            Feed::SecurityAlerts => format!("da{:016x}{:08x}", d.next_u64(), i),
            Feed::Items => (1_000_000 + i).to_string(),
        }
    }

    /// The record JSON.
    pub(crate) fn record(&self, i: u64) -> Value {
        let id = self.id(i);
        let mut d = self.draw(i);
        d.next_u64();
        d.next_u64();
        let t = self.event_ns(i);
        let user = format!("user{}@example.com", d.below(40));
        match self.feed {
            Feed::SystemLog => {
                let ev = *d.pick(&[
                    "user.session.start",
                    "user.authentication.sso",
                    "policy.evaluate_sign_on",
                    "user.account.lock",
                    "system.api_token.create",
                ]);
                let failed = d.chance(0.2);
                json!({
                    "uuid": id,
                    "published": ts(t, 3),
                    "eventType": ev,
                    "version": "0",
                    "severity": if failed { "WARN" } else { "INFO" },
                    "legacyEventType": null,
                    "displayMessage": format!("Event {ev} for {user}"),
                    "actor": {"id": format!("00u{:012x}", d.next_u64() >> 16), "type": "User", "alternateId": user, "displayName": "Sim User"},
                    "client": {"ipAddress": format!("198.51.100.{}", d.below(250) + 1), "zone": null, "device": "Computer",
                               "userAgent": {"rawUserAgent": "Mozilla/5.0", "os": "Linux", "browser": "FIREFOX"}},
                    "outcome": {"result": if failed { "FAILURE" } else { "SUCCESS" }, "reason": if failed { Value::from("INVALID_CREDENTIALS") } else { Value::Null }},
                    "target": [{"id": format!("0oa{:012x}", d.next_u64() >> 16), "type": "AppInstance", "displayName": "Sim App \u{00e9}"}],
                    "transaction": {"type": "WEB", "id": format!("{:016x}", d.next_u64())}
                })
            }
            Feed::SecurityAlerts => {
                let sev = *d.pick(&["low", "medium", "high", "informational"]);
                json!({
                    "id": id,
                    "providerAlertId": format!("{:012x}", d.next_u64() >> 16),
                    "title": *d.pick(&["Suspicious PowerShell command line", "Impossible travel activity", "Malware detected"]),
                    "severity": sev,
                    "status": "new",
                    "category": *d.pick(&["Execution", "InitialAccess", "Malware"]),
                    "serviceSource": "microsoftDefenderForEndpoint",
                    "createdDateTime": ts(t, 7),
                    "lastUpdateDateTime": ts(t + 60 * NS, 7),
                    "assignedTo": null,
                    "evidence": [{"@odata.type": "#microsoft.graph.security.userEvidence", "userAccount": {"userPrincipalName": user}}],
                    "riskScore": (d.below(1000) as f64) / 10.0
                })
            }
            Feed::Items => json!({
                "id": 1_000_000 + i,
                "created_at": t / NS,
                "kind": *d.pick(&["login", "export", "share"]),
                "user": user,
                "size": d.below(1 << 40)
            }),
        }
    }
}

/// RFC 3339 UTC with `digits` fractional digits.
pub(crate) fn ts(ns: i64, digits: usize) -> String {
    let base = ns_to_ts(ns).strftime("%Y-%m-%dT%H:%M:%S").to_string();
    let frac = format!("{:09}", ns.rem_euclid(NS));
    format!("{base}.{}Z", &frac[..digits.min(9)])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ds(late: Option<(f64, u64)>) -> Dataset {
        Dataset {
            seed: 3,
            feed: Feed::SystemLog,
            events: 50,
            t0_ns: 1_800_000_000 * NS,
            late,
        }
    }

    #[test]
    fn times_are_ordered_inside_the_documented_span() {
        let d = ds(None);
        assert_eq!(d.event_ns(0), d.t0_ns - 24 * 3600 * NS + 15 * 60 * NS);
        assert_eq!(d.event_ns(49), d.t0_ns - 10 * 60 * NS);
        assert!((1..50).all(|i| d.event_ns(i) > d.event_ns(i - 1)));
        assert_eq!(d.visible(d.t0_ns, None, None).len(), 50);
        assert_eq!(d.id(7), d.id(7));
        assert_ne!(d.id(7), d.id(8));
    }

    #[test]
    fn late_records_appear_after_their_delay() {
        let d = ds(Some((1.0, 3600)));
        let now = d.t0_ns;
        let visible = d.visible(now, None, None);
        // Records newer than now − 1 h are not visible yet; older ones are.
        assert!(visible.iter().all(|&i| d.event_ns(i) + 3600 * NS <= now));
        assert!(visible.len() < 50 && !visible.is_empty());
        assert_eq!(d.visible(now + 3600 * NS, None, None).len(), 50);
    }

    #[test]
    fn records_carry_their_id_and_time() {
        let d = ds(None);
        let r = d.record(4);
        assert_eq!(r["uuid"], d.id(4));
        assert_eq!(r["published"], ts(d.event_ns(4), 3));
        let items = Dataset {
            feed: Feed::Items,
            ..d
        };
        assert_eq!(items.record(4)["id"].to_string(), items.id(4));
    }
}
