//! The XDR dataset: alerts (immutable, with a detection time and a server insertion time) and
//! incidents (mutable: a list of versions, each with its `modification_time`).
//!
//! Unlike the 1Password simulator the records are materialised (a few dozen bytes each; the
//! JSON is built on demand), because faults insert alerts and modify incidents.
//!
//! Schedule: slot `i < N` sits at `t0 − 24 h + 15 min + i·(24 h − 25 min)/N`; live slot `k`
//! (`--rate R`) at `t0 + (k+1)/R`, materialised once the clock passes it.
//! - Alert at slot time `T`: inserted (`local_insert_ts`, the `server_creation_time`) at `T`,
//!   detected (`creation_time`, `detection_timestamp`) 0.2–30 s earlier — or 1–6 h earlier for
//!   the `--late-fraction` "late uploads". Under a `late_events {fraction, delay_s}` fault the
//!   chosen alerts are detected at `T` and inserted (made visible) at `T + delay_s`.
//! - Incident at slot `i < N`: created at `T`, one version modified in `[T, t0 − 10 min]`. Live
//!   incident arrivals: every fourth one (`k % 4 == 3`) is a new version of an existing
//!   incident, the others are new incidents.
//!
//! Ids are decimal strings: alerts numbered in materialisation order from 1, incidents from 1.

use crate::common::prng::{Draw, unit_of};

use super::body::{Cond, Field, Query, SortField};

const NS: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
const DAY_NS: i64 = 86_400 * NS;
const MARGIN_NS: i64 = 900 * NS;
const SETTLE_NS: i64 = 600 * NS;
const SALT_ALERT: u64 = 0x414C_4552;
const SALT_INCIDENT: u64 = 0x494E_4344;
const SALT_LATE: u64 = 0x4C41_5445;
const SALT_UPDATE: u64 = 0x5550_4454;
/// PRNG keys of alerts inserted by faults start here.
const INSERTED_GEN: u64 = 1 << 40;

/// Severity names; alerts and incidents store an index.
pub(crate) const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];
/// Alert `source` values (what the `alert_source` filter matches).
pub(crate) const SOURCES: [&str; 5] = [
    "XDR Agent",
    "XDR Analytics",
    "XDR BIOC",
    "Correlation",
    "Firewall",
];
/// Incident statuses; index 0 and 1 are the active ones.
pub(crate) const STATUSES: [&str; 6] = [
    "new",
    "under_investigation",
    "resolved_true_positive",
    "resolved_false_positive",
    "resolved_duplicate",
    "resolved_other",
];

/// One alert's metadata.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Alert {
    pub(crate) id: u64,
    /// PRNG key of the record's content.
    pub(crate) gen_key: u64,
    /// Schedule slot (`None` for alerts inserted by a fault).
    slot: Option<u64>,
    pub(crate) detect_ms: i64,
    pub(crate) insert_ms: i64,
    pub(crate) severity: u8,
    pub(crate) source: u8,
    pub(crate) has_creation_time: bool,
}

/// One state of an incident.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Version {
    pub(crate) mod_ms: i64,
    pub(crate) status: u8,
    pub(crate) rev: u32,
}

/// One incident and every version it has had.
#[derive(Debug, Clone)]
pub(crate) struct Incident {
    pub(crate) id: u64,
    pub(crate) creation_ms: i64,
    pub(crate) severity: u8,
    /// Sorted by `mod_ms`.
    pub(crate) versions: Vec<Version>,
}

impl Incident {
    /// Index of the version visible at `now_ms`.
    pub(crate) fn current(&self, now_ms: i64) -> Option<usize> {
        self.versions.iter().rposition(|v| v.mod_ms <= now_ms)
    }
}

/// Generation parameters fixed at start-up.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Params {
    pub(crate) events: u64,
    pub(crate) rate: Option<f64>,
    pub(crate) late_fraction: f64,
    pub(crate) no_creation_fraction: f64,
}

/// All records.
#[derive(Debug)]
pub(crate) struct Dataset {
    pub(crate) seed: u64,
    pub(crate) t0_ns: i64,
    p: Params,
    /// `(fraction, delay ms)` of the `late_events` fault the alert times were computed with.
    late_fault: Option<(f64, i64)>,
    pub(crate) alerts: Vec<Alert>,
    /// Indices into `alerts`, sorted by `(insert_ms, id)`.
    order: Vec<u32>,
    order_dirty: bool,
    pub(crate) incidents: Vec<Incident>,
    live_done: u64,
    inserted: u64,
}

fn slot_ns(t0_ns: i64, n: u64, rate: Option<f64>, slot: u64) -> i64 {
    if slot < n {
        let span = i128::from(DAY_NS - MARGIN_NS - SETTLE_NS);
        let off = i128::from(slot) * span / i128::from(n);
        t0_ns - DAY_NS + MARGIN_NS + i64::try_from(off).unwrap_or(0)
    } else {
        let k = (slot - n) as f64;
        t0_ns.saturating_add(((k + 1.0) * 1e9 / rate.unwrap_or(1.0)) as i64)
    }
}

fn severity(d: &mut Draw) -> u8 {
    d.weighted(&[(0u8, 40), (1, 30), (2, 20), (3, 10)])
}

impl Dataset {
    /// The dataset of `seed` anchored at `t0_ns`, with the live arrivals up to `t0_ns`.
    pub(crate) fn new(seed: u64, t0_ns: i64, p: Params, late_fault: Option<(f64, i64)>) -> Self {
        let mut ds = Self {
            seed,
            t0_ns,
            p,
            late_fault,
            alerts: Vec::with_capacity(p.events.min(1 << 20) as usize),
            order: Vec::new(),
            order_dirty: true,
            incidents: Vec::with_capacity(p.events.min(1 << 20) as usize),
            live_done: 0,
            inserted: 0,
        };
        for i in 0..p.events {
            ds.push_alert(i);
            ds.push_incident(i);
        }
        ds
    }

    /// Alert times of slot `slot`: `(detect_ms, insert_ms)` plus severity, source and flag.
    fn alert_at(&self, slot: u64) -> Alert {
        let t = slot_ns(self.t0_ns, self.p.events, self.p.rate, slot);
        let mut d = Draw::new(&[self.seed, SALT_ALERT, slot]);
        let severity = severity(&mut d);
        let source = d.below(SOURCES.len() as u64) as u8;
        let has_creation_time = !d.chance(self.p.no_creation_fraction);
        let latency_ns = if d.chance(self.p.late_fraction) {
            3600 * NS + d.below(5 * 3600) as i64 * NS
        } else {
            200 * MS + d.below(29_800) as i64 * MS
        };
        let late = self
            .late_fault
            .filter(|(f, _)| unit_of(&[self.seed, SALT_LATE, slot]) < *f);
        let (detect_ms, insert_ms) = match late {
            Some((_, delay_ms)) => (t / MS, t / MS + delay_ms),
            None => ((t - latency_ns) / MS, t / MS),
        };
        Alert {
            id: 0,
            gen_key: slot,
            slot: Some(slot),
            detect_ms,
            insert_ms,
            severity,
            source,
            has_creation_time,
        }
    }

    fn push_alert(&mut self, slot: u64) {
        let mut a = self.alert_at(slot);
        a.id = self.alerts.len() as u64 + 1;
        self.alerts.push(a);
        self.order_dirty = true;
    }

    fn push_incident(&mut self, slot: u64) {
        let t = slot_ns(self.t0_ns, self.p.events, self.p.rate, slot);
        let mut d = Draw::new(&[self.seed, SALT_INCIDENT, slot]);
        let severity = severity(&mut d);
        let status = d.weighted(&[(0u8, 35), (1, 30), (2, 15), (3, 12), (4, 4), (5, 4)]);
        let creation_ms = t / MS;
        let mod_ms = if slot < self.p.events {
            let room = (self.t0_ns - SETTLE_NS - t).clamp(0, 6 * 3600 * NS);
            (t + (d.unit() * room as f64) as i64) / MS
        } else {
            creation_ms
        };
        let status = if slot < self.p.events { status } else { 0 };
        self.incidents.push(Incident {
            id: self.incidents.len() as u64 + 1,
            creation_ms,
            severity,
            versions: vec![Version {
                mod_ms,
                status,
                rev: 0,
            }],
        });
    }

    /// Adds a version of incident `idx` at `at_ms` (at least 1 ms after its last version).
    pub(crate) fn modify(&mut self, idx: usize, at_ms: i64) {
        let inc = &mut self.incidents[idx];
        let last = *inc.versions.last().unwrap_or(&Version {
            mod_ms: 0,
            status: 0,
            rev: 0,
        });
        let status = match last.status {
            0 => 1,
            1 => 2 + (last.rev % 2) as u8,
            s => s,
        };
        inc.versions.push(Version {
            mod_ms: at_ms.max(last.mod_ms + 1),
            status,
            rev: last.rev + 1,
        });
        inc.versions.sort_by_key(|v| v.mod_ms);
    }

    /// Materialises the live arrivals due by `now_ns` and recomputes alert times when the
    /// `late_events` fault changed.
    pub(crate) fn catch_up(&mut self, now_ns: i64, late_fault: Option<(f64, i64)>) {
        if late_fault != self.late_fault {
            self.late_fault = late_fault;
            for i in 0..self.alerts.len() {
                if let Some(slot) = self.alerts[i].slot {
                    let fresh = self.alert_at(slot);
                    let a = &mut self.alerts[i];
                    a.detect_ms = fresh.detect_ms;
                    a.insert_ms = fresh.insert_ms;
                }
            }
            self.order_dirty = true;
        }
        let Some(rate) = self.p.rate else { return };
        if now_ns <= self.t0_ns {
            return;
        }
        let due = ((now_ns - self.t0_ns) as f64 * rate / 1e9) as u64;
        while self.live_done < due {
            let k = self.live_done;
            let slot = self.p.events + k;
            self.push_alert(slot);
            if k % 4 == 3 && !self.incidents.is_empty() {
                let at = slot_ns(self.t0_ns, self.p.events, self.p.rate, slot) / MS;
                let mut d = Draw::new(&[self.seed, SALT_UPDATE, k]);
                let target = d.below(self.incidents.len() as u64) as usize;
                self.modify(target, at);
            } else {
                self.push_incident(slot);
            }
            self.live_done += 1;
        }
    }

    /// Inserts an alert detected at `detect_ms` and inserted at `now_ms`; returns its id.
    pub(crate) fn insert_alert(&mut self, detect_ms: i64, now_ms: i64) -> u64 {
        let gen_key = INSERTED_GEN + self.inserted;
        self.inserted += 1;
        let mut d = Draw::new(&[self.seed, SALT_ALERT, gen_key]);
        let id = self.alerts.len() as u64 + 1;
        self.alerts.push(Alert {
            id,
            gen_key,
            slot: None,
            detect_ms,
            insert_ms: now_ms,
            severity: severity(&mut d),
            source: d.below(SOURCES.len() as u64) as u8,
            has_creation_time: true,
        });
        self.order_dirty = true;
        id
    }

    /// Alert indices sorted by `(insert_ms, id)`.
    pub(crate) fn alert_order(&mut self) -> &[u32] {
        if self.order_dirty {
            let alerts = &self.alerts;
            self.order = (0..alerts.len() as u32).collect();
            self.order
                .sort_by_key(|i| (alerts[*i as usize].insert_ms, alerts[*i as usize].id));
            self.order_dirty = false;
        }
        &self.order
    }

    /// `(total_count, page)` of alert indices for `q` at `now_ms`.
    pub(crate) fn query_alerts(&mut self, q: &Query, now_ms: i64) -> (u64, Vec<usize>) {
        let (mut lo, mut hi) = (i64::MIN, now_ms);
        for f in q
            .filters
            .iter()
            .filter(|f| f.field == Field::ServerCreationTime)
        {
            match f.cond {
                Cond::Gte(t) => lo = lo.max(t),
                Cond::Lte(t) => hi = hi.min(t),
                _ => {}
            }
        }
        self.alert_order();
        let alerts = &self.alerts;
        let a = self
            .order
            .partition_point(|i| alerts[*i as usize].insert_ms < lo);
        let b = self
            .order
            .partition_point(|i| alerts[*i as usize].insert_ms <= hi);
        let mut hits: Vec<usize> = self.order[a..b.max(a)]
            .iter()
            .map(|i| *i as usize)
            .filter(|i| q.filters.iter().all(|f| alert_matches(&alerts[*i], f)))
            .collect();
        match q.sort {
            None => hits.sort_by_key(|i| alerts[*i].id),
            Some(s) => hits.sort_by(|x, y| {
                let key = |i: usize| match s.field {
                    SortField::Severity => i64::from(alerts[i].severity),
                    _ => alerts[i].detect_ms,
                };
                let primary = key(*x).cmp(&key(*y));
                let primary = if s.desc { primary.reverse() } else { primary };
                primary.then(alerts[*x].id.cmp(&alerts[*y].id))
            }),
        }
        (hits.len() as u64, slice(hits, q))
    }

    /// `(total_count, page)` of `(incident index, version index)` for `q` at `now_ms`.
    pub(crate) fn query_incidents(&self, q: &Query, now_ms: i64) -> (u64, Vec<(usize, usize)>) {
        let mut hits: Vec<(usize, usize)> = self
            .incidents
            .iter()
            .enumerate()
            .filter_map(|(i, inc)| inc.current(now_ms).map(|v| (i, v)))
            .filter(|(i, v)| {
                let (inc, ver) = (&self.incidents[*i], &self.incidents[*i].versions[*v]);
                q.filters.iter().all(|f| incident_matches(inc, ver, f))
            })
            .collect();
        let key = |(i, v): (usize, usize), f: SortField| {
            let inc = &self.incidents[i];
            match f {
                SortField::CreationTime => inc.creation_ms,
                _ => inc.versions[v].mod_ms,
            }
        };
        match q.sort {
            None => hits.sort_by_key(|(i, _)| self.incidents[*i].id),
            Some(s) => hits.sort_by(|x, y| {
                let primary = key(*x, s.field).cmp(&key(*y, s.field));
                let primary = if s.desc { primary.reverse() } else { primary };
                primary.then(self.incidents[x.0].id.cmp(&self.incidents[y.0].id))
            }),
        }
        (hits.len() as u64, slice(hits, q))
    }
}

fn slice<T>(hits: Vec<T>, q: &Query) -> Vec<T> {
    let from = usize::try_from(q.from).unwrap_or(usize::MAX);
    let to = usize::try_from(q.to).unwrap_or(usize::MAX);
    hits.into_iter()
        .skip(from)
        .take(to.saturating_sub(from))
        .collect()
}

fn range(t: i64, c: &Cond) -> bool {
    match c {
        Cond::Gte(v) => t >= *v,
        Cond::Lte(v) => t <= *v,
        _ => true,
    }
}

fn listed(list: &Cond, value: &str) -> bool {
    match list {
        Cond::In(items) => items.iter().any(|x| x == value),
        Cond::Eq(x) => x == value,
        Cond::Neq(x) => x != value,
        _ => true,
    }
}

fn alert_matches(a: &Alert, f: &super::body::Filter) -> bool {
    match f.field {
        Field::AlertIdList => listed(&f.cond, &a.id.to_string()),
        Field::AlertSource => listed(&f.cond, SOURCES[usize::from(a.source)]),
        Field::Severity => listed(&f.cond, SEVERITIES[usize::from(a.severity)]),
        Field::CreationTime => range(a.detect_ms, &f.cond),
        Field::ServerCreationTime => range(a.insert_ms, &f.cond),
        _ => true,
    }
}

fn incident_matches(inc: &Incident, v: &Version, f: &super::body::Filter) -> bool {
    match f.field {
        Field::IncidentIdList => listed(&f.cond, &inc.id.to_string()),
        Field::ModificationTime => range(v.mod_ms, &f.cond),
        Field::CreationTime => range(inc.creation_ms, &f.cond),
        Field::Status => listed(&f.cond, STATUSES[usize::from(v.status)]),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000 * NS;

    fn params(events: u64, rate: Option<f64>) -> Params {
        Params {
            events,
            rate,
            late_fraction: 0.2,
            no_creation_fraction: 0.1,
        }
    }

    #[test]
    fn initial_records_are_inside_the_drain_window_and_late_uploads_are_older() {
        let ds = Dataset::new(1, T0, params(500, None), None);
        let lo = (T0 - DAY_NS + MARGIN_NS) / MS;
        let hi = (T0 - SETTLE_NS) / MS;
        assert!(ds.alerts.iter().all(|a| (lo..=hi).contains(&a.insert_ms)));
        assert!(ds.alerts.iter().all(|a| a.detect_ms < a.insert_ms));
        let late = ds
            .alerts
            .iter()
            .filter(|a| a.insert_ms - a.detect_ms >= 3_600_000)
            .count();
        assert!((50..150).contains(&late), "{late} late uploads of 500");
        assert!(ds.incidents.iter().all(|i| {
            let v = i.versions[0].mod_ms;
            v >= i.creation_ms && (lo..=hi).contains(&v)
        }));
    }

    #[test]
    fn live_arrivals_add_alerts_incidents_and_updates() {
        let mut ds = Dataset::new(1, T0, params(10, Some(2.0)), None);
        ds.catch_up(T0 + 10 * NS, None);
        assert_eq!(ds.alerts.len(), 30);
        assert_eq!(ds.incidents.len(), 25, "every fourth arrival is an update");
        let versions: usize = ds.incidents.iter().map(|i| i.versions.len()).sum();
        assert_eq!(versions, 30);
    }
}
