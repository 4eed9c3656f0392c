//! The daily request budget (spec §3.5): 1,800 requests per rolling 24 h per bucket. siemtap
//! budgets every call of a credential against one bucket, estimates what a schedule needs and
//! warns when it passes 80 % of the budget.

use std::time::Duration;

use super::window::MAX_WINDOW;

/// Requests per rolling 24 h per bucket.
pub const DAILY_BUDGET: u64 = 1_800;

/// Share of [`DAILY_BUDGET`] a schedule may plan for; the rest absorbs catch-up and retries.
pub const PLANNING_SHARE: f64 = 0.8;

const DAY: u64 = 86_400;

/// A collection schedule, as far as the request count depends on it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Schedule {
    /// How often siemtap runs (the wodle or timer interval).
    pub run_interval: Duration,
    /// Re-read before the cursor on each run.
    pub overlap: Duration,
    /// Whether the SIEM stream runs.
    pub siem: bool,
    /// People cadence; `None` = People off.
    pub people_interval: Option<Duration>,
    /// Pages per People report (users / page size, rounded up; at least 1).
    pub people_pages: u64,
    /// SIEM window width: one hour ([`MAX_WINDOW`]) unless a dense tenant narrowed it (the
    /// width remembered in `siem_cursor`). Before the first runs nobody knows the density, so
    /// a schedule checked from the settings alone assumes one hour.
    pub window: Duration,
}

/// Requests per day the schedule needs in steady state (no catch-up): each run reads
/// `run_interval + overlap` of SIEM time in windows of `window` (at most one hour); each People
/// fetch reads both reports, `people_pages` pages each.
pub fn estimate_requests_per_day(s: &Schedule) -> u64 {
    let interval = s.run_interval.as_secs().max(1);
    let runs_per_day = DAY.div_ceil(interval);
    let siem = if s.siem {
        let per_run = (interval + s.overlap.as_secs())
            .div_ceil(window_secs(s.window))
            .max(1);
        runs_per_day * per_run
    } else {
        0
    };
    let people = match s.people_interval {
        // A fetch happens at the first run at least `people_interval` after the last one.
        Some(p) => {
            let effective = p.as_secs().max(interval);
            DAY.div_ceil(effective) * 2 * s.people_pages.max(1)
        }
        None => 0,
    };
    siem + people
}

/// Requests needed to catch up `backlog` of SIEM time in windows of `window` (one hour unless
/// narrowed), rounded up.
pub fn catch_up_requests(backlog: Duration, window: Duration) -> u64 {
    backlog.as_secs().div_ceil(window_secs(window))
}

/// `window` in seconds, between one minute and [`MAX_WINDOW`].
fn window_secs(window: Duration) -> u64 {
    window.as_secs().clamp(60, MAX_WINDOW.as_secs())
}

/// A warning text when the schedule needs more than [`PLANNING_SHARE`] of the budget.
pub fn budget_warning(s: &Schedule) -> Option<String> {
    let need = estimate_requests_per_day(s);
    let limit = (DAILY_BUDGET as f64 * PLANNING_SHARE) as u64;
    (need > limit).then(|| {
        let verdict = if need > DAILY_BUDGET {
            "exceeds"
        } else {
            "leaves less than 20 % of"
        };
        let narrow = window_secs(s.window) < MAX_WINDOW.as_secs();
        format!(
            "the schedule (a run every {} s, overlap {} s, People every {}{}) needs about {need} requests/day, which {verdict} Proofpoint's budget of {DAILY_BUDGET} per 24 h; \
             run less often (PP_RUN_INTERVAL and the wodle interval), lower PP_OVERLAP_SECONDS, {}or raise PP_PEOPLE_INTERVAL",
            s.run_interval.as_secs(),
            s.overlap.as_secs(),
            s.people_interval
                .map_or("(off)".to_string(), |p| format!("{} s", p.as_secs())),
            if narrow {
                format!(
                    ", SIEM windows of {} min narrowed for the data's density",
                    window_secs(s.window) / 60
                )
            } else {
                String::new()
            },
            if narrow {
                "raise PP_WINDOW_TARGET_BYTES (wider windows, more memory), "
            } else {
                ""
            },
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(run: u64) -> Schedule {
        Schedule {
            run_interval: Duration::from_secs(run),
            overlap: Duration::from_secs(900),
            siem: true,
            people_interval: Some(Duration::from_secs(86_400)),
            people_pages: 1,
            window: MAX_WINDOW,
        }
    }

    #[test]
    fn five_minute_schedule_fits() {
        // 288 runs × 1 window (300 s + 900 s overlap < 1 h) + 2 People requests.
        assert_eq!(estimate_requests_per_day(&schedule(300)), 290);
        assert!(budget_warning(&schedule(300)).is_none());
    }

    #[test]
    fn overlap_past_the_hour_doubles_the_windows() {
        // 3000 s + 900 s > 1 h: two windows per run, 29 runs a day.
        assert_eq!(estimate_requests_per_day(&schedule(3000)), 29 * 2 + 2);
    }

    #[test]
    fn a_one_minute_schedule_is_flagged() {
        let s = schedule(60);
        assert_eq!(estimate_requests_per_day(&s), 1440 + 2);
        let w = budget_warning(&s).unwrap();
        assert!(
            w.contains("1442 requests/day") && w.contains("less than 20 %"),
            "{w}"
        );
        let w = budget_warning(&schedule(30)).unwrap();
        assert!(w.contains("exceeds"), "{w}");
    }

    #[test]
    fn people_only_and_paging() {
        let s = Schedule {
            siem: false,
            people_interval: Some(Duration::from_secs(3600)),
            people_pages: 3,
            ..schedule(300)
        };
        assert_eq!(estimate_requests_per_day(&s), 24 * 2 * 3);
        assert_eq!(
            catch_up_requests(Duration::from_secs(7 * 86_400), MAX_WINDOW),
            168
        );
        assert_eq!(catch_up_requests(Duration::from_secs(3601), MAX_WINDOW), 2);
    }

    #[test]
    fn narrow_windows_cost_requests_and_say_why() {
        // A dense tenant narrowed to 3-minute windows: a 5-minute run reads 20 min in 7
        // windows, 288 × 7 = 2016 SIEM requests a day.
        let s = Schedule {
            window: Duration::from_secs(180),
            ..schedule(300)
        };
        assert_eq!(estimate_requests_per_day(&s), 288 * 7 + 2);
        let w = budget_warning(&s).unwrap();
        assert!(
            w.contains("exceeds")
                && w.contains("SIEM windows of 3 min")
                && w.contains("PP_WINDOW_TARGET_BYTES"),
            "{w}"
        );
        // Every 15 minutes: 96 × 10 = 960 + 2, no warning.
        let s = Schedule {
            window: Duration::from_secs(180),
            ..schedule(900)
        };
        assert_eq!(estimate_requests_per_day(&s), 96 * 10 + 2);
        assert!(budget_warning(&s).is_none());
        // The one-hour schedule's text does not mention the width.
        assert!(
            !budget_warning(&schedule(30))
                .unwrap()
                .contains("SIEM windows")
        );
        assert_eq!(
            catch_up_requests(Duration::from_secs(3600), Duration::from_secs(180)),
            20
        );
        // Widths are clamped to 1 min ..= 1 h.
        assert_eq!(
            catch_up_requests(Duration::from_secs(3600), Duration::ZERO),
            60
        );
    }
}
