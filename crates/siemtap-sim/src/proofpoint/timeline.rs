//! Event and visibility times of one SIEM category, and window selection — without
//! materialising records.
//!
//! Record `i` of a category:
//! - `i < N` (`--events N`): base time `t0 − 24 h + 15 min + (i + q/4)·(24 h − 25 min)/N`,
//!   where q ∈ 0..4 staggers the four categories, truncated to the millisecond (the vendor writes `messageTime` / `clickTime` with milliseconds);
//! - `i ≥ N` (`--rate R`): live record `k = i − N` at `t0 + (k+1)/R`; it exists once the clock
//!   reaches that time.
//!
//! About 5 % of records (a pure function of seed, category and index) have their event time
//! snapped down to the start of their minute (`…:00.000Z`), so windows that end on minute or
//! hour boundaries really have records exactly at their ends — which is what makes the
//! `[start, end)` rule, `--inclusive-end` and `duplicate_across_windows` observable. Snapping
//! moves a time back by less than 60 s, so a window's candidates are the records whose base
//! time lies in `[start, end + 60 s)`, found by binary search on the monotone base time.
//!
//! Visibility: an initial record is visible at its event time, a live one once it exists (its
//! base time); a record picked as late by `late_events` (probability `fraction`) becomes
//! visible `delay_s` after its event time instead (never before it exists).

use super::category::Category;
use crate::common::prng::{hash_key, unit_of};

pub(crate) const NS: i64 = 1_000_000_000;
const MS: i64 = 1_000_000;
pub(crate) const MINUTE_NS: i64 = 60 * NS;
const DAY_NS: i64 = 86_400 * NS;
const SETTLE_NS: i64 = 600 * NS;
const LOOKBACK_MARGIN_NS: i64 = 900 * NS;
const SNAP_FRACTION: f64 = 0.05;
const SALT_SNAP: u64 = 0x534E_4150;
const SALT_LATE: u64 = 0x4C41_5445;

/// The timing model of one category.
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    key: [u64; 2],
    n: u64,
    t0_ns: i64,
    rate: Option<f64>,
    /// `(fraction, delay_ns)`
    late: Option<(f64, i64)>,
}

impl Timeline {
    /// The timeline of `cat` for dataset `seed` anchored at `t0_ns`.
    pub(crate) fn new(
        seed: u64,
        cat: Category,
        n: u64,
        t0_ns: i64,
        rate: Option<f64>,
        late: Option<(f64, u64)>,
    ) -> Self {
        let late = late.filter(|(f, _)| *f > 0.0).map(|(f, d)| {
            (
                f,
                i64::try_from(d).unwrap_or(i64::MAX / NS).saturating_mul(NS),
            )
        });
        Self {
            key: [seed, cat.id()],
            n,
            t0_ns,
            rate,
            late,
        }
    }

    /// The PRNG key of record `i`: `(seed, category, i)`.
    pub(crate) fn record_key(&self, i: u64) -> [u64; 3] {
        [self.key[0], self.key[1], i]
    }

    /// Monotone base time of record `i` (ms precision).
    fn base_ns(&self, i: u64) -> i64 {
        let t = if i < self.n {
            let span = i128::from(DAY_NS - LOOKBACK_MARGIN_NS - SETTLE_NS);
            // Categories are staggered by a quarter of the spacing.
            let phase = i128::from(self.key[1] % 4);
            let offset = (4 * i128::from(i) + phase) * span / (4 * i128::from(self.n));
            self.t0_ns - DAY_NS + LOOKBACK_MARGIN_NS + i64::try_from(offset).unwrap_or(0)
        } else {
            let k = (i - self.n) as f64;
            let rate = self.rate.unwrap_or(1.0);
            self.t0_ns.saturating_add(((k + 1.0) * 1e9 / rate) as i64)
        };
        t - t.rem_euclid(MS)
    }

    /// Whether record `i`'s time is snapped to the start of its minute.
    pub(crate) fn is_snapped(&self, i: u64) -> bool {
        unit_of(&[hash_key(&self.key), SALT_SNAP, i]) < SNAP_FRACTION
    }

    /// Event time of record `i` as written in the record (ms precision).
    pub(crate) fn event_ns(&self, i: u64) -> i64 {
        let t = self.base_ns(i);
        if self.is_snapped(i) {
            t - t.rem_euclid(MINUTE_NS)
        } else {
            t
        }
    }

    fn is_late(&self, i: u64) -> bool {
        self.late
            .is_some_and(|(f, _)| unit_of(&[hash_key(&self.key), SALT_LATE, i]) < f)
    }

    /// When record `i` becomes visible: at its event time (a live record: once it exists),
    /// or `delay` after its event time when it is late.
    pub(crate) fn visible_ns(&self, i: u64) -> i64 {
        let on_time = if i < self.n {
            self.event_ns(i)
        } else {
            self.base_ns(i)
        };
        match self.late {
            Some((_, delay)) if self.is_late(i) => {
                on_time.max(self.event_ns(i).saturating_add(delay))
            }
            _ => on_time,
        }
    }

    /// Records that exist at `now_ns` (initial ones plus live arrivals so far).
    pub(crate) fn count(&self, now_ns: i64) -> u64 {
        let live = match self.rate {
            Some(r) if now_ns > self.t0_ns => ((now_ns - self.t0_ns) as f64 * r / 1e9) as u64,
            _ => 0,
        };
        self.n.saturating_add(live)
    }

    /// First index `< count` whose base time is `>= t`.
    fn lower_bound(&self, t: i64, count: u64) -> u64 {
        let (mut lo, mut hi) = (0u64, count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.base_ns(mid) < t {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        lo
    }

    /// Indices (ascending) of records visible at `now_ns` whose event time lies in
    /// `[start, end)`, or `[start, end]` when `inclusive_end`.
    pub(crate) fn select(
        &self,
        start: i64,
        end: i64,
        inclusive_end: bool,
        now_ns: i64,
    ) -> Vec<u64> {
        let count = self.count(now_ns);
        let from = self.lower_bound(start, count);
        let to = self.lower_bound(end.saturating_add(MINUTE_NS + 1), count);
        (from..to)
            .filter(|&i| {
                let t = self.event_ns(i);
                t >= start
                    && (t < end || (inclusive_end && t == end))
                    && self.visible_ns(i) <= now_ns
            })
            .collect()
    }

    /// Every record visible at `now_ns`, optionally limited to event times in `[from, to)`.
    pub(crate) fn visible(&self, from: Option<i64>, to: Option<i64>, now_ns: i64) -> Vec<u64> {
        self.select(
            from.unwrap_or(i64::MIN / 2),
            to.unwrap_or(i64::MAX / 2),
            false,
            now_ns,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000 * NS;

    #[test]
    fn spread_snapping_and_windows() {
        let t = Timeline::new(1, Category::ClicksBlocked, 2000, T0, None, None);
        assert!(t.event_ns(0) >= T0 - DAY_NS + LOOKBACK_MARGIN_NS - MINUTE_NS);
        assert!(t.event_ns(1999) < T0 - SETTLE_NS);
        assert!((0..2000).any(|i| t.is_snapped(i)));
        assert!((0..2000).all(|i| t.event_ns(i) % MS == 0));
        let all = t.visible(None, None, T0);
        assert_eq!(all.len(), 2000);
        // Hour windows partition the records exactly.
        let mut got = Vec::new();
        let mut s = T0 - DAY_NS - 3600 * NS;
        while s < T0 {
            got.extend(t.select(s, s + 3600 * NS, false, T0));
            s += 3600 * NS;
        }
        got.sort_unstable();
        assert_eq!(got, all);
    }

    #[test]
    fn late_records_become_visible_after_the_delay() {
        let t = Timeline::new(
            1,
            Category::MessagesBlocked,
            500,
            T0,
            None,
            Some((0.3, 3600)),
        );
        let now = t.visible(None, None, T0).len();
        assert!(now < 500 && now > 200, "{now}");
        assert_eq!(t.visible(None, None, T0 + 3600 * NS).len(), 500);
    }

    #[test]
    fn live_arrivals() {
        let t = Timeline::new(0, Category::ClicksPermitted, 10, T0, Some(2.0), None);
        assert_eq!(t.count(T0 + 10 * NS), 30);
        assert_eq!(t.visible(None, None, T0 + 10 * NS).len(), 30);
    }
}
