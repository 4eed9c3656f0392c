//! The virtual clock every simulator reads instead of the system clock.
//!
//! Real time by default; `POST /_sim/clock` can set it, advance it, freeze it or let it run
//! again. Windows, rate limits, visibility and token expiry all follow this clock.

use std::sync::Mutex;
use std::time::Instant;

use jiff::Timestamp;

#[derive(Debug)]
struct ClockState {
    /// Virtual time (ns since the epoch) at `base_real`.
    base_ns: i64,
    base_real: Instant,
    frozen: bool,
}

/// A settable, freezable clock.
#[derive(Debug)]
pub(crate) struct VirtualClock {
    state: Mutex<ClockState>,
}

/// Converts a timestamp to nanoseconds since the Unix epoch.
pub(crate) fn ts_to_ns(ts: Timestamp) -> i64 {
    i64::try_from(ts.as_nanosecond()).unwrap_or(i64::MAX)
}

/// Converts nanoseconds since the Unix epoch to a timestamp (clamped to jiff's range).
pub(crate) fn ns_to_ts(ns: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(ns)).unwrap_or(Timestamp::UNIX_EPOCH)
}

impl VirtualClock {
    /// A clock starting at `start` (default: the system time), running unless `frozen`.
    pub(crate) fn new(start: Option<Timestamp>, frozen: bool) -> Self {
        Self {
            state: Mutex::new(ClockState {
                base_ns: ts_to_ns(start.unwrap_or_else(Timestamp::now)),
                base_real: Instant::now(),
                frozen,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, ClockState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read(state: &ClockState) -> i64 {
        if state.frozen {
            state.base_ns
        } else {
            let elapsed = i64::try_from(state.base_real.elapsed().as_nanos()).unwrap_or(i64::MAX);
            state.base_ns.saturating_add(elapsed)
        }
    }

    /// Current virtual time in nanoseconds since the epoch.
    pub(crate) fn now_ns(&self) -> i64 {
        Self::read(&self.lock())
    }

    /// Current virtual time.
    pub(crate) fn now(&self) -> Timestamp {
        ns_to_ts(self.now_ns())
    }

    /// Whether the clock is frozen.
    pub(crate) fn is_frozen(&self) -> bool {
        self.lock().frozen
    }

    /// Jumps to `ts` (keeps the mode).
    pub(crate) fn set(&self, ts: Timestamp) {
        let mut s = self.lock();
        s.base_ns = ts_to_ns(ts);
        s.base_real = Instant::now();
    }

    /// Moves the clock by `secs` (may be negative).
    pub(crate) fn advance(&self, secs: f64) {
        let mut s = self.lock();
        let now = Self::read(&s);
        s.base_ns = now.saturating_add((secs * 1e9) as i64);
        s.base_real = Instant::now();
    }

    /// Freezes (`true`) or resumes real-time running (`false`) at the current virtual time.
    pub(crate) fn set_frozen(&self, frozen: bool) {
        let mut s = self.lock();
        s.base_ns = Self::read(&s);
        s.base_real = Instant::now();
        s.frozen = frozen;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frozen_clock_moves_only_when_told() {
        let start: Timestamp = "2026-03-31T00:00:00Z".parse().unwrap();
        let clock = VirtualClock::new(Some(start), true);
        assert_eq!(clock.now(), start);
        clock.advance(90.0);
        assert_eq!(clock.now().to_string(), "2026-03-31T00:01:30Z");
        clock.set("2027-01-01T00:00:00Z".parse().unwrap());
        assert_eq!(clock.now().to_string(), "2027-01-01T00:00:00Z");
        clock.set_frozen(false);
        assert!(!clock.is_frozen());
        assert!(clock.now() >= "2027-01-01T00:00:00Z".parse::<Timestamp>().unwrap());
    }
}
