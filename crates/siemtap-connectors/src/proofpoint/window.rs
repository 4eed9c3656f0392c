//! SIEM window math (spec §3.7): pure functions of the clock, the committed cursor and the
//! settings, so every boundary is unit-tested without a server.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};

/// Longest window the SIEM API serves per request.
pub const MAX_WINDOW: Duration = Duration::from_secs(3600);

/// Kept between the configured maximum look-back and the oldest start siemtap requests, so a
/// request does not race the server's own look-back check.
pub const LOOKBACK_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The look-back the vendor help page documents; a 400 for a window starting before it is
/// treated as the look-back limit (spec §3.5).
pub const STRICT_LOOKBACK: Duration = Duration::from_secs(12 * 3600);

/// The inputs of [`plan`].
#[derive(Clone, Copy, Debug)]
pub struct WindowSettings {
    /// First-run window (already clamped to `max_lookback`).
    pub lookback: Duration,
    /// Oldest start the API accepts.
    pub max_lookback: Duration,
    /// Windows end at `now - settle`.
    pub settle: Duration,
    /// A run's first window starts this long before the cursor.
    pub overlap: Duration,
}

/// What the SIEM stream does next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Plan {
    /// Request `interval=start/end`.
    Window {
        /// Window start (whole minute).
        start: Timestamp,
        /// Window end (whole minute), at most one hour after `start`.
        end: Timestamp,
    },
    /// The cursor is older than the API's look-back: report `[from, to)` as a collection gap
    /// and move the cursor to `to`.
    Gap {
        /// The committed cursor: the end of the last delivered window.
        from: Timestamp,
        /// The oldest start the API accepts now.
        to: Timestamp,
    },
    /// Caught up: no window can start before `now - settle`.
    Idle,
}

/// `ts` rounded down to a whole minute.
pub fn floor_minute(ts: Timestamp) -> Timestamp {
    let s = ts.as_second().div_euclid(60) * 60;
    Timestamp::from_second(s).unwrap_or(ts)
}

/// `ts` rounded up to a whole minute.
pub fn ceil_minute(ts: Timestamp) -> Timestamp {
    let floor = floor_minute(ts);
    if floor == ts {
        ts
    } else {
        floor
            .checked_add(SignedDuration::from_mins(1))
            .unwrap_or(ts)
    }
}

/// `ts - d`, saturating.
pub fn sub(ts: Timestamp, d: Duration) -> Timestamp {
    let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    ts.checked_sub(d).unwrap_or(Timestamp::MIN)
}

/// `ts + d`, saturating.
pub fn add(ts: Timestamp, d: Duration) -> Timestamp {
    let d = SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX);
    ts.checked_add(d).unwrap_or(Timestamp::MAX)
}

/// The end every window of this call is bounded by: `floor_minute(now - settle)`.
pub fn target_end(now: Timestamp, s: &WindowSettings) -> Timestamp {
    floor_minute(sub(now, s.settle))
}

/// The oldest window start requested: `ceil_minute(now - max_lookback + margin)`.
pub fn oldest_start(now: Timestamp, s: &WindowSettings) -> Timestamp {
    let margin = LOOKBACK_MARGIN.min(s.max_lookback / 2);
    ceil_minute(add(sub(now, s.max_lookback), margin))
}

/// The next step. `cursor` is the committed end of the last delivered window; `resume` is
/// where the previous window of this same run ended (`None` on a run's first window, which
/// then starts `overlap` before the cursor to catch late events).
pub fn plan(
    now: Timestamp,
    cursor: Option<Timestamp>,
    resume: Option<Timestamp>,
    s: &WindowSettings,
) -> Plan {
    let end_bound = target_end(now, s);
    let oldest = oldest_start(now, s);
    let wanted = match cursor {
        Some(c) if c < oldest => {
            return Plan::Gap {
                from: c,
                to: oldest,
            };
        }
        Some(c) if c >= end_bound => return Plan::Idle,
        Some(c) => resume.unwrap_or_else(|| sub(c, s.overlap)),
        None => resume.unwrap_or_else(|| sub(now, s.lookback)),
    };
    let start = floor_minute(wanted).max(oldest);
    let end = add(start, MAX_WINDOW).min(end_bound);
    if end <= start {
        return Plan::Idle;
    }
    Plan::Window { start, end }
}

/// The cursor after a delivered window: its end, or the server's `queryEndTime` when that is
/// earlier (but after the start). `None` when the server reports no progress at all.
pub fn cursor_after(
    start: Timestamp,
    end: Timestamp,
    query_end: Option<Timestamp>,
) -> Option<Timestamp> {
    match query_end {
        Some(q) if q <= start => None,
        Some(q) if q < end => Some(q),
        _ => Some(end),
    }
}

/// Full window width, in minutes.
pub const FULL_WIDTH_MINUTES: u64 = MAX_WINDOW.as_secs() / 60;

/// The width (minutes) of the window after one of `width` minutes whose body was `body_bytes`:
/// halved (at least 1) when the body was over `target`, doubled (at most one hour) when it was
/// under a quarter of `target`, else the same. Memory then follows the body size, not the hour.
pub fn next_width(width: u64, body_bytes: u64, target: u64) -> u64 {
    let width = width.clamp(1, FULL_WIDTH_MINUTES);
    if body_bytes > target {
        narrower(width)
    } else if body_bytes < target / 4 {
        (width * 2).min(FULL_WIDTH_MINUTES)
    } else {
        width
    }
}

/// Half of `width` minutes, at least one minute (after a response over the cap).
pub fn narrower(width: u64) -> u64 {
    (width / 2).max(1)
}

/// The body cap of one request for a window of `width` minutes: twice `target`, so a window
/// far over the target is abandoned while it streams and read again narrower. At one minute
/// there is nothing narrower to retry, so only the client's global cap applies (`None`).
pub fn window_body_cap(width: u64, target: u64) -> Option<u64> {
    (width > 1).then(|| target.saturating_mul(2))
}

/// `%Y-%m-%dT%H:%M:%SZ`: the `interval` and cursor format.
pub fn iso(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn settings() -> WindowSettings {
        WindowSettings {
            lookback: Duration::from_secs(24 * 3600),
            max_lookback: Duration::from_secs(168 * 3600),
            settle: Duration::from_secs(300),
            overlap: Duration::from_secs(900),
        }
    }

    fn window(start: &str, end: &str) -> Plan {
        Plan::Window {
            start: t(start),
            end: t(end),
        }
    }

    #[test]
    fn minute_rounding() {
        assert_eq!(
            floor_minute(t("2026-04-01T10:07:59.9Z")),
            t("2026-04-01T10:07:00Z")
        );
        assert_eq!(
            ceil_minute(t("2026-04-01T10:07:00.001Z")),
            t("2026-04-01T10:08:00Z")
        );
        assert_eq!(
            ceil_minute(t("2026-04-01T10:07:00Z")),
            t("2026-04-01T10:07:00Z")
        );
    }

    #[test]
    fn first_run_starts_at_the_lookback_in_hour_windows() {
        let now = t("2026-04-01T12:34:56Z");
        let s = settings();
        assert_eq!(
            plan(now, None, None, &s),
            window("2026-03-31T12:34:00Z", "2026-03-31T13:34:00Z")
        );
        // Later windows of the run are contiguous, without overlap.
        assert_eq!(
            plan(
                now,
                Some(t("2026-03-31T13:34:00Z")),
                Some(t("2026-03-31T13:34:00Z")),
                &s
            ),
            window("2026-03-31T13:34:00Z", "2026-03-31T14:34:00Z")
        );
    }

    #[test]
    fn last_window_ends_at_now_minus_settle_on_a_minute() {
        let now = t("2026-04-01T12:34:56Z");
        let s = settings();
        // target end = floor(12:29:56) = 12:29.
        assert_eq!(
            plan(
                now,
                Some(t("2026-04-01T12:00:00Z")),
                Some(t("2026-04-01T12:00:00Z")),
                &s
            ),
            window("2026-04-01T12:00:00Z", "2026-04-01T12:29:00Z")
        );
        // Caught up: nothing can start.
        assert_eq!(
            plan(
                now,
                Some(t("2026-04-01T12:29:00Z")),
                Some(t("2026-04-01T12:29:00Z")),
                &s
            ),
            Plan::Idle
        );
        assert_eq!(
            plan(now, Some(t("2026-04-01T12:29:00Z")), None, &s),
            Plan::Idle
        );
    }

    #[test]
    fn a_runs_first_window_rereads_the_overlap() {
        let now = t("2026-04-01T12:34:56Z");
        let s = settings();
        assert_eq!(
            plan(now, Some(t("2026-04-01T12:20:00Z")), None, &s),
            window("2026-04-01T12:05:00Z", "2026-04-01T12:29:00Z")
        );
        // A long backlog: the first window is a full hour from cursor - overlap.
        assert_eq!(
            plan(now, Some(t("2026-04-01T06:00:00Z")), None, &s),
            window("2026-04-01T05:45:00Z", "2026-04-01T06:45:00Z")
        );
    }

    #[test]
    fn window_never_exceeds_one_hour_and_always_progresses() {
        let s = settings();
        let now = t("2026-04-01T12:34:56Z");
        let mut cursor = Some(t("2026-03-28T00:00:00Z"));
        let mut resume = None;
        let mut windows = 0;
        while let Plan::Window { start, end } = plan(now, cursor, resume, &s) {
            assert!(end > start);
            assert!(end.duration_since(start) <= SignedDuration::from_hours(1));
            assert!(end > cursor.unwrap(), "no progress at {start}");
            cursor = Some(end);
            resume = Some(end);
            windows += 1;
        }
        assert_eq!(cursor, Some(t("2026-04-01T12:29:00Z")));
        // 4 days 12 h 29 min of backlog plus 15 min of overlap, in ≤ 1 h windows.
        assert_eq!(windows, 109);
    }

    #[test]
    fn a_cursor_older_than_the_lookback_is_a_gap() {
        let now = t("2026-04-10T00:00:00Z");
        let s = settings();
        let oldest = t("2026-04-03T00:05:00Z");
        assert_eq!(oldest_start(now, &s), oldest);
        assert_eq!(
            plan(now, Some(t("2026-04-01T00:00:00Z")), None, &s),
            Plan::Gap {
                from: t("2026-04-01T00:00:00Z"),
                to: oldest
            }
        );
        // After the jump the cursor is at the oldest start: no new gap, no older start.
        assert_eq!(
            plan(now, Some(oldest), Some(oldest), &s),
            window("2026-04-03T00:05:00Z", "2026-04-03T01:05:00Z")
        );
        // Overlap reaching past the limit is clamped silently (that part was delivered).
        assert_eq!(
            plan(now, Some(t("2026-04-03T00:10:00Z")), None, &s),
            window("2026-04-03T00:05:00Z", "2026-04-03T01:05:00Z")
        );
    }

    #[test]
    fn first_run_lookback_is_clamped_without_a_gap() {
        let now = t("2026-04-10T00:00:00Z");
        let s = WindowSettings {
            lookback: Duration::from_secs(168 * 3600),
            ..settings()
        };
        assert_eq!(
            plan(now, None, None, &s),
            window("2026-04-03T00:05:00Z", "2026-04-03T01:05:00Z")
        );
    }

    #[test]
    fn width_follows_the_body_size() {
        let target = 4 << 20;
        // Over the target: halve, down to one minute.
        assert_eq!(next_width(60, target + 1, target), 30);
        assert_eq!(next_width(15, 50 << 20, target), 7);
        assert_eq!(next_width(1, 50 << 20, target), 1);
        // Between a quarter of the target and the target: keep.
        assert_eq!(next_width(7, target, target), 7);
        assert_eq!(next_width(7, target / 4, target), 7);
        // Under a quarter: double, up to one hour.
        assert_eq!(next_width(7, target / 4 - 1, target), 14);
        assert_eq!(next_width(3, 0, target), 6);
        assert_eq!(next_width(60, 0, target), 60);
        assert_eq!(next_width(45, 0, target), 60);
        // Out-of-range input is clamped first.
        assert_eq!(next_width(0, 0, target), 2);
        assert_eq!(next_width(500, target, target), 60);
        // A 1M-events/day tenant (~1.1 MB a minute) settles at 3 minutes from a full hour.
        let per_minute = 1_100_000;
        let mut w = FULL_WIDTH_MINUTES;
        for _ in 0..10 {
            w = next_width(w, w * per_minute, target);
        }
        assert_eq!(w, 3);
    }

    #[test]
    fn narrower_and_the_per_request_cap() {
        assert_eq!(narrower(60), 30);
        assert_eq!(narrower(3), 1);
        assert_eq!(narrower(1), 1);
        assert_eq!(window_body_cap(60, 4 << 20), Some(8 << 20));
        assert_eq!(window_body_cap(2, 1 << 20), Some(2 << 20));
        assert_eq!(window_body_cap(1, 4 << 20), None);
    }

    #[test]
    fn query_end_time_bounds_the_cursor() {
        let (s, e) = (t("2026-04-01T10:00:00Z"), t("2026-04-01T11:00:00Z"));
        assert_eq!(cursor_after(s, e, None), Some(e));
        assert_eq!(cursor_after(s, e, Some(e)), Some(e));
        assert_eq!(cursor_after(s, e, Some(t("2026-04-01T12:00:00Z"))), Some(e));
        let q = t("2026-04-01T10:59:00Z");
        assert_eq!(cursor_after(s, e, Some(q)), Some(q));
        assert_eq!(cursor_after(s, e, Some(s)), None);
        assert_eq!(iso(q), "2026-04-01T10:59:00Z");
    }
}
