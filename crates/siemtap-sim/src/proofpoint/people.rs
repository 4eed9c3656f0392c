//! People API reports (spec §3.3): VAP and top clickers, regenerated once per simulated day.
//!
//! Report day `k = floor((now − t0) / 24 h)`; the report is generated at `t0 + k·24 h` and its
//! `interval` is `[generated − window days, generated]` (whole seconds). Within one day every
//! page of a report comes from the same, deterministic report, so paging is stable; the next
//! day brings new statistics and a new `interval` (and so new oracle ids). The user pool
//! (`--people-users N` users, identities stable across days) is ranked by `attackIndex` (VAP)
//! or `clickCount` (top clickers), highest first, ties by user number.

use serde_json::{Value, json};

use super::category::Report;
use super::records::{format_s, guid};
use crate::common::prng::Draw;

const NS: i64 = 1_000_000_000;
/// One simulated day.
pub(crate) const DAY_NS: i64 = 86_400 * NS;
const SALT_PERSON: u64 = 0x5045_5253;
const SALT_STATS: u64 = 0x5354_4154;

const FIRST: &[&str] = &[
    "Ana", "Ben", "Chloé", "Dmitri", "Eun-ji", "Farid", "Greta", "Hiro",
];
const LAST: &[&str] = &[
    "Alvarez", "Brown", "Chen", "Dubois", "Eriksen", "Fischer", "Gupta",
];
const DEPARTMENTS: &[&str] = &[
    "Finance",
    "Engineering",
    "Sales",
    "HR",
    "Legal",
    "Executive",
];
const LOCATIONS: &[&str] = &["London", "Berlin", "Austin", "Singapore", "Paris"];
const TITLES: &[&str] = &["Analyst", "Engineer", "Director", "Accountant", "VP"];
const FAMILIES: &[&str] = &[
    "credential phishing",
    "malware",
    "impostor",
    "corporate credential phishing",
    "spam",
];
const CLICK_FAMILIES: &[&str] = &["Malware", "Credential Phishing", "Phish", "Spam"];

/// Identifies one generated report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ReportKey {
    pub(crate) report: Report,
    /// 14, 30 or 90.
    pub(crate) window: u32,
    /// Report day relative to the dataset anchor.
    pub(crate) day: i64,
}

/// The report day at `now_ns` for a dataset anchored at `t0_ns`. A clock set back before the
/// anchor (tests freeze the clock at the start of a minute) still serves day 0: there is no
/// report older than the dataset.
pub(crate) fn day_of(now_ns: i64, t0_ns: i64) -> i64 {
    (now_ns - t0_ns).div_euclid(DAY_NS).max(0)
}

/// A generated report: header fields and ranked users.
#[derive(Debug)]
pub(crate) struct Generated {
    pub(crate) interval: String,
    pub(crate) users: Vec<Value>,
    /// `averageAttackIndex` / `vapAttackIndexThreshold` (VAP only).
    vap_stats: (f64, f64),
}

fn identity(seed: u64, u: u64) -> Value {
    let mut d = Draw::new(&[seed, SALT_PERSON, u]);
    let g = guid(&mut d);
    // The vendor sample has a 10-digit first group: `88e36bf359-99e8-…`.
    let g = format!("{}{:02x}{}", &g[..8], d.below(256), &g[8..]);
    let named = d.chance(0.7);
    let pick = |d: &mut Draw, pool: &[&str]| -> Value {
        if named {
            json!(*d.pick(pool))
        } else {
            Value::Null
        }
    };
    let name = if named {
        json!(format!("{} {}", d.pick(FIRST), d.pick(LAST)))
    } else {
        Value::Null
    };
    json!({
        "guid": g,
        "customerUserId": if named { json!(format!("E{:05}", u)) } else { Value::Null },
        "emails": [format!("person{u:03}@example.com")],
        "name": name,
        "department": pick(&mut d, DEPARTMENTS),
        "location": pick(&mut d, LOCATIONS),
        "title": pick(&mut d, TITLES),
        "vip": d.chance(0.1),
    })
}

/// The guid of person `u`.
#[cfg(test)]
fn person_guid(seed: u64, u: u64) -> String {
    identity(seed, u)["guid"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Splits `total` into 1–3 family entries.
fn families(d: &mut Draw, pool: &[&str], total: u64, label: &str) -> Vec<Value> {
    let k = (d.below(3) + 1).min(pool.len() as u64) as usize;
    let start = d.below(pool.len() as u64) as usize;
    let mut left = total;
    (0..k)
        .map(|j| {
            let share = if j + 1 == k { left } else { d.below(left + 1) };
            left -= share;
            json!({"name": pool[(start + j) % pool.len()], label: share})
        })
        .collect()
}

/// Generates report `key` for dataset (`seed`, `t0_ns`) with `users` people.
pub(crate) fn generate(seed: u64, t0_ns: i64, users: u64, key: ReportKey) -> Generated {
    let at = t0_ns + key.day * DAY_NS;
    let from = at - i64::from(key.window) * DAY_NS;
    let interval = format!("{}/{}", format_s(from), format_s(at));
    let salt = [
        seed,
        SALT_STATS,
        key.report.id(),
        u64::from(key.window),
        key.day as u64,
    ];
    let mut rows: Vec<(u64, u64, Value)> = (0..users)
        .map(|u| {
            let mut d = Draw::new(&[salt[0], salt[1], salt[2], salt[3], salt[4], u]);
            match key.report {
                Report::Vap => {
                    let idx = d.below(2000) + 50;
                    let fam = families(&mut d, FAMILIES, idx, "score");
                    let v = json!({
                        "identity": identity(seed, u),
                        "threatStatistics": {"attackIndex": idx, "families": fam}
                    });
                    (idx, u, v)
                }
                Report::TopClickers => {
                    let clicks = d.below(20) + 1;
                    let fam = families(&mut d, CLICK_FAMILIES, clicks, "clicks");
                    let v = json!({
                        "identity": identity(seed, u),
                        "clickStatistics": {"clickCount": clicks, "families": fam}
                    });
                    (clicks, u, v)
                }
            }
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let avg = if rows.is_empty() {
        0.0
    } else {
        rows.iter().map(|r| r.0 as f64).sum::<f64>() / rows.len() as f64
    };
    let threshold = rows
        .get(rows.len() / 10)
        .map_or(0.0, |r| r.0 as f64 - 0.2671);
    Generated {
        interval,
        users: rows.into_iter().map(|r| r.2).collect(),
        vap_stats: ((avg * 10_000.0).round() / 10_000.0, threshold),
    }
}

impl Generated {
    /// The response body for page `page` (1-based) of `size` users.
    pub(crate) fn page_body(&self, report: Report, page: u64, size: u64) -> (Value, Vec<&Value>) {
        let from = usize::try_from((page - 1).saturating_mul(size)).unwrap_or(usize::MAX);
        let slice: Vec<&Value> = self
            .users
            .iter()
            .skip(from)
            .take(usize::try_from(size).unwrap_or(usize::MAX))
            .collect();
        let total = self.users.len();
        let body = match report {
            Report::Vap => json!({
                "users": slice, "totalVapUsers": total, "interval": self.interval,
                "averageAttackIndex": self.vap_stats.0, "vapAttackIndexThreshold": self.vap_stats.1
            }),
            Report::TopClickers => json!({
                "users": slice, "totalTopClickers": total, "interval": self.interval
            }),
        };
        (body, slice)
    }

    /// Oracle ids of every row: `<vap|top_clickers>:<guid>@<interval>`.
    pub(crate) fn oracle_ids(&self, report: Report) -> Vec<String> {
        self.users
            .iter()
            .map(|u| row_id(report, u, &self.interval))
            .collect()
    }
}

/// The oracle id of one user row.
pub(crate) fn row_id(report: Report, user: &Value, interval: &str) -> String {
    format!(
        "{}:{}@{interval}",
        report.name(),
        user["identity"]["guid"].as_str().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_are_ranked_stable_within_a_day_and_change_across_days() {
        let t0 = 1_800_000_000 * NS;
        let key = ReportKey {
            report: Report::Vap,
            window: 30,
            day: 0,
        };
        let a = generate(1, t0, 25, key);
        let b = generate(1, t0, 25, key);
        assert_eq!(a.users, b.users);
        assert_eq!(a.users.len(), 25);
        let idx: Vec<u64> = a
            .users
            .iter()
            .map(|u| u["threatStatistics"]["attackIndex"].as_u64().unwrap())
            .collect();
        assert!(idx.windows(2).all(|w| w[0] >= w[1]));
        let next = generate(1, t0, 25, ReportKey { day: 1, ..key });
        assert_ne!(a.interval, next.interval);
        let (body, rows) = a.page_body(Report::Vap, 3, 10);
        assert_eq!(rows.len(), 5);
        assert_eq!(body["totalVapUsers"], 25);
        assert_eq!(day_of(t0 - 1, t0), 0, "no report before the dataset");
        assert_eq!(person_guid(1, 3).len(), 38);
    }
}
