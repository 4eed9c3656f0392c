//! When each record happens and becomes visible, and paging in visibility order — without
//! materialising records.
//!
//! Record `i` of a (tenant, stream):
//! - `i < N` (`--events N`): event time `t0 − 24 h + 15 min + i·(24 h − 25 min)/N`, where `t0`
//!   is the clock at start-up (or at `/_sim/reset`). The 15 minutes inside the 24-hour window
//!   keep the oldest record inside a client's default 24-hour lookback even when the client
//!   starts a few minutes after the simulator, so a default drain is deterministic;
//! - `i ≥ N` (`--rate R`): live event `k = i − N` at `t0 + (k+1)/R`; it exists once the clock
//!   reaches that time.
//!
//! A `late_events {fraction, delay_s}` rule marks each record late with probability `fraction`
//! (a pure function of seed, tenant, stream and index); a late record becomes visible `delay_s`
//! after its event time, every other record at its event time. On-time records and late
//! records are each monotone in `i`, so visibility order — sorted by `(visible_at, i)` — is the
//! merge of two monotone sequences. A position is therefore two counters, `a` (next on-time
//! candidate) and `b` (next late candidate), and a page is produced by a lazy merge. Nothing
//! is stored per record, which is what lets `--events 1000000` start instantly.

use crate::common::prng::{hash_key, unit_of};

use super::stream::Stream;

const NS: i64 = 1_000_000_000;
const DAY_NS: i64 = 86_400 * NS;
const SETTLE_NS: i64 = 600 * NS;
/// How far inside the 24-hour window the oldest record sits.
const LOOKBACK_MARGIN_NS: i64 = 900 * NS;
const SALT_LATE: u64 = 0x4C41_5445;
const SALT_PRECISION: u64 = 0x5052_4543;

/// Where a reader is in a stream's visibility order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Position {
    /// Next on-time candidate index.
    pub(crate) a: u64,
    /// Next late candidate index.
    pub(crate) b: u64,
}

/// `start_time` / `end_time` filter on the displayed event time (end exclusive).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Filter {
    pub(crate) start_ns: Option<i64>,
    pub(crate) end_ns: Option<i64>,
}

impl Filter {
    fn accepts(&self, t: i64) -> bool {
        self.start_ns.is_none_or(|s| t >= s) && self.end_ns.is_none_or(|e| t < e)
    }
}

/// How a record's timestamp is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Precision {
    /// `2021-08-11T14:28:03Z`
    Seconds,
    /// `2021-08-30T18:57:42.484Z`
    Millis,
    /// `2022-10-24T21:16:52.827288935Z`
    Nanos,
}

impl Precision {
    fn truncate(self, ns: i64) -> i64 {
        let unit = match self {
            Precision::Seconds => NS,
            Precision::Millis => 1_000_000,
            Precision::Nanos => 1,
        };
        ns - ns.rem_euclid(unit)
    }
}

/// The timing model of one (tenant, stream).
#[derive(Debug, Clone)]
pub(crate) struct Timeline {
    key: [u64; 3],
    stream: Stream,
    n: u64,
    t0_ns: i64,
    rate: Option<f64>,
    /// `(fraction, delay_ns)`
    late: Option<(f64, i64)>,
}

/// One page worth of record indices.
#[derive(Debug)]
pub(crate) struct Page {
    pub(crate) indices: Vec<u64>,
    pub(crate) next: Position,
    pub(crate) has_more: bool,
}

impl Timeline {
    /// The timeline of `stream` for the tenant hashed as `tenant_hash`.
    pub(crate) fn new(
        seed: u64,
        tenant_hash: u64,
        stream: Stream,
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
            key: [seed, tenant_hash, stream.id()],
            stream,
            n,
            t0_ns,
            rate,
            late,
        }
    }

    /// The PRNG key of record `i`: `(seed, tenant, stream, i)`.
    pub(crate) fn record_key(&self, i: u64) -> [u64; 4] {
        [self.key[0], self.key[1], self.key[2], i]
    }

    /// Exact event time of record `i`.
    pub(crate) fn event_ns(&self, i: u64) -> i64 {
        if i < self.n {
            let span = i128::from(DAY_NS - LOOKBACK_MARGIN_NS - SETTLE_NS);
            let offset = i128::from(i) * span / i128::from(self.n);
            self.t0_ns - DAY_NS + LOOKBACK_MARGIN_NS + i64::try_from(offset).unwrap_or(0)
        } else {
            let k = (i - self.n) as f64;
            let rate = self.rate.unwrap_or(1.0);
            self.t0_ns.saturating_add(((k + 1.0) * 1e9 / rate) as i64)
        }
    }

    fn is_late(&self, i: u64) -> bool {
        self.late
            .is_some_and(|(f, _)| unit_of(&[hash_key(&self.key), SALT_LATE, i]) < f)
    }

    /// When record `i` becomes visible.
    pub(crate) fn visible_ns(&self, i: u64) -> i64 {
        match self.late {
            Some((_, delay)) if self.is_late(i) => self.event_ns(i).saturating_add(delay),
            _ => self.event_ns(i),
        }
    }

    /// How record `i`'s timestamp is written (stream-specific mix, like the vendor samples).
    pub(crate) fn precision(&self, i: u64) -> Precision {
        let u = unit_of(&[hash_key(&self.key), SALT_PRECISION, i]);
        match self.stream {
            Stream::Signin if u < 0.6 => Precision::Seconds,
            Stream::Signin => Precision::Millis,
            Stream::ItemUsage if u < 0.3 => Precision::Seconds,
            Stream::ItemUsage => Precision::Millis,
            Stream::Audit if u < 0.2 => Precision::Seconds,
            Stream::Audit if u < 0.4 => Precision::Millis,
            Stream::Audit => Precision::Nanos,
        }
    }

    /// The event time as written in the record (what `start_time` filters on).
    pub(crate) fn display_ns(&self, i: u64) -> i64 {
        self.precision(i).truncate(self.event_ns(i))
    }

    /// Records that exist at `now_ns` (initial ones plus live arrivals so far).
    pub(crate) fn count(&self, now_ns: i64) -> u64 {
        let live = match self.rate {
            Some(r) if now_ns > self.t0_ns => ((now_ns - self.t0_ns) as f64 * r / 1e9) as u64,
            _ => 0,
        };
        self.n.saturating_add(live)
    }

    /// A starting position that skips records certainly before `filter.start_ns`.
    pub(crate) fn first_position(&self, filter: &Filter) -> Position {
        let Some(start) = filter.start_ns else {
            return Position::default();
        };
        let first = self.t0_ns - DAY_NS + LOOKBACK_MARGIN_NS;
        // Displayed times are at most 1 s earlier than event times.
        let bound = start - NS - first;
        if bound <= 0 || self.n == 0 {
            return Position::default();
        }
        let i = i128::from(bound) * i128::from(self.n)
            / i128::from(DAY_NS - LOOKBACK_MARGIN_NS - SETTLE_NS);
        let i = u64::try_from(i).unwrap_or(u64::MAX).min(self.n);
        Position { a: i, b: i }
    }

    fn head_on_time(&self, a: &mut u64, count: u64) -> Option<u64> {
        if self.late.is_none() {
            return (*a < count).then_some(*a);
        }
        while *a < count {
            if !self.is_late(*a) {
                return Some(*a);
            }
            *a += 1;
        }
        None
    }

    fn head_late(&self, b: &mut u64, count: u64) -> Option<u64> {
        self.late?;
        while *b < count {
            if self.is_late(*b) {
                return Some(*b);
            }
            *b += 1;
        }
        None
    }

    /// Up to `limit` visible records after `pos` that pass `filter`, in visibility order.
    pub(crate) fn page(
        &self,
        mut pos: Position,
        filter: &Filter,
        limit: usize,
        now_ns: i64,
    ) -> Page {
        let count = self.count(now_ns);
        let mut indices = Vec::with_capacity(limit.min(1024));
        let has_more = loop {
            let on = self.head_on_time(&mut pos.a, count);
            let late = self.head_late(&mut pos.b, count);
            let (i, from_on_time) = match (on, late) {
                (Some(x), Some(y)) => {
                    if (self.visible_ns(x), x) <= (self.visible_ns(y), y) {
                        (x, true)
                    } else {
                        (y, false)
                    }
                }
                (Some(x), None) => (x, true),
                (None, Some(y)) => (y, false),
                (None, None) => break false,
            };
            if self.visible_ns(i) > now_ns {
                break false;
            }
            let wanted = filter.accepts(self.display_ns(i));
            if wanted && indices.len() >= limit {
                break true;
            }
            if wanted {
                indices.push(i);
            }
            if from_on_time {
                pos.a = i + 1;
            } else {
                pos.b = i + 1;
            }
        };
        Page {
            indices,
            next: pos,
            has_more,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_800_000_000 * NS;

    fn all(t: &Timeline, now: i64) -> Vec<u64> {
        t.page(Position::default(), &Filter::default(), usize::MAX, now)
            .indices
    }

    #[test]
    fn initial_events_are_spread_over_the_last_day_minus_settle() {
        let t = Timeline::new(0, 1, Stream::Audit, 100, T0, None, None);
        assert_eq!(t.event_ns(0), T0 - DAY_NS + LOOKBACK_MARGIN_NS);
        assert!(t.event_ns(99) < T0 - SETTLE_NS);
        assert_eq!(all(&t, T0), (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn late_records_appear_in_visibility_order_after_the_delay() {
        let t = Timeline::new(3, 1, Stream::Signin, 1000, T0, None, Some((0.2, 7200)));
        let now_list = all(&t, T0);
        let later = all(&t, T0 + 7200 * NS);
        assert!(now_list.len() < 1000 && later.len() == 1000);
        assert_eq!(
            &later[..now_list.len()],
            &now_list[..],
            "visible prefix is stable"
        );
        let vis: Vec<i64> = later.iter().map(|i| t.visible_ns(*i)).collect();
        assert!(vis.windows(2).all(|w| w[0] <= w[1]));
        // Paging in small pages gives the same sequence.
        let mut pos = Position::default();
        let mut paged = Vec::new();
        loop {
            let p = t.page(pos, &Filter::default(), 7, T0 + 7200 * NS);
            paged.extend(p.indices);
            pos = p.next;
            if !p.has_more {
                break;
            }
        }
        assert_eq!(paged, later);
    }

    #[test]
    fn start_filter_and_live_arrivals() {
        let t = Timeline::new(0, 1, Stream::ItemUsage, 1_000_000, T0, Some(2.0), None);
        let f = Filter {
            start_ns: Some(T0 - 3600 * NS),
            end_ns: None,
        };
        let pos = t.first_position(&f);
        assert!(pos.a > 900_000);
        let p = t.page(pos, &f, 10, T0);
        assert!(p.has_more);
        assert!(p.indices.iter().all(|i| t.display_ns(*i) >= T0 - 3600 * NS));
        let brute = t.page(Position::default(), &f, 10, T0);
        assert_eq!(brute.indices, p.indices, "the skip-ahead loses nothing");
        assert_eq!(t.count(T0 + 10 * NS), 1_000_020);
    }
}
