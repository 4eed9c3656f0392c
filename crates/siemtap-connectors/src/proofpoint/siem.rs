//! The `siem` stream (spec §3.7): one page per window of at most one hour of
//! `GET /v2/siem/all?format=json&interval=START/END`, checkpointed after each window.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use siemtap_core::{BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState};

use super::api::{CATEGORIES, parse_siem};
use super::client::Api;
use super::cursor::{self, SiemCursor};
use super::failures;
use super::quota::{Schedule, budget_warning, catch_up_requests};
use super::window::{
    FULL_WIDTH_MINUTES, LOOKBACK_MARGIN, Plan, STRICT_LOOKBACK, WindowSettings, add, ceil_minute,
    cursor_after, iso, narrower, next_width, plan, sub, target_end, window_body_cap,
};

/// The endpoint (all four categories in one request per window).
pub const SIEM_PATH: &str = "/v2/siem/all";

/// Extra ledger time beyond the overlap, so ids at the edge of the window stay known.
const LEDGER_MARGIN: Duration = Duration::from_secs(15 * 60);

/// The SIEM stream of one source.
pub struct SiemStream {
    api: Arc<Api>,
    /// Where the previous window of this run ended (later windows are contiguous; only a
    /// run's first window re-reads the overlap).
    resume: Option<Timestamp>,
    /// Whether the 12-hour look-back restart was used in this run.
    lookback_restart_used: bool,
    /// Whether the quota estimate ran in this run.
    budget_checked: bool,
    /// Current window width in minutes: sized by the last window's body against
    /// `PP_WINDOW_TARGET_BYTES` (`next_width`), halved when a response exceeds the per-request
    /// cap, and remembered in `siem_cursor` when under one hour.
    width_minutes: u64,
    /// Whether the width remembered in the state was adopted (once, on a run's first page).
    width_loaded: bool,
}

impl SiemStream {
    /// The stream of `api`.
    pub fn new(api: Arc<Api>) -> Self {
        Self {
            api,
            resume: None,
            lookback_restart_used: false,
            budget_checked: false,
            width_minutes: FULL_WIDTH_MINUTES,
            width_loaded: false,
        }
    }

    fn window_settings(&self) -> WindowSettings {
        let s = &self.api.settings;
        WindowSettings {
            lookback: s.lookback,
            max_lookback: s.max_lookback,
            settle: s.settle,
            overlap: s.overlap,
        }
    }

    /// Logs the steady-state quota estimate (schedule from `PP_RUN_INTERVAL`, else the time
    /// since the last run) and the catch-up a stale cursor needs.
    /// Both use the current window width (the one remembered in the state), so a dense tenant's
    /// narrow windows are counted.
    fn check_budget(&mut self, state: &StreamState, cursor: Option<Timestamp>, now: Timestamp) {
        self.budget_checked = true;
        let s = &self.api.settings;
        let window = Duration::from_secs(self.width_minutes * 60);
        let observed = state
            .last_poll
            .and_then(|t| now.duration_since(t).try_into().ok())
            .filter(|d: &Duration| *d >= Duration::from_secs(1));
        if let Some(run_interval) = s.run_interval.or(observed) {
            let schedule = Schedule {
                run_interval,
                overlap: s.overlap,
                siem: true,
                people_interval: s.people_interval.filter(|_| s.streams.contains(&"people")),
                people_pages: 1,
                window,
            };
            if let Some(warning) = budget_warning(&schedule) {
                if s.run_interval.is_some() {
                    tracing::warn!("{warning}");
                } else {
                    tracing::warn!(
                        "judging by the time since the previous run (set PP_RUN_INTERVAL to state the schedule): {warning}"
                    );
                }
            }
        }
        if let Some(c) = cursor
            && let Ok(backlog) = Duration::try_from(now.duration_since(c))
            && backlog > Duration::from_secs(2 * 3600)
        {
            tracing::info!(
                backlog_s = backlog.as_secs(),
                requests = catch_up_requests(backlog, window),
                width_minutes = self.width_minutes,
                "SIEM cursor is behind; catching up window by window"
            );
        }
    }

    async fn fetch(&mut self, state: &StreamState, ctx: FetchContext) -> Result<Page, Failure> {
        let now = Timestamp::now();
        let committed = parse_cursor(state)?;
        if !self.width_loaded {
            self.width_loaded = true;
            if let Some(c) = committed
                && c.width_minutes < FULL_WIDTH_MINUTES
            {
                self.width_minutes = c.width_minutes;
                tracing::debug!(
                    width_minutes = c.width_minutes,
                    "SIEM windows start at the width remembered in siem_tuning"
                );
            }
        }
        let cursor = committed.map(|c| c.end);
        if !self.budget_checked {
            self.check_budget(state, cursor, now);
        }
        let ws = self.window_settings();
        let (start, end) = match plan(now, cursor, self.resume, &ws) {
            Plan::Idle => {
                tracing::debug!("SIEM stream caught up to now - settle lag");
                return Ok(Page::default());
            }
            Plan::Gap { from, to } => {
                self.resume = Some(to);
                let notice = Failure::new(
                    ErrorCode::CollectionGap,
                    "siem",
                    format!(
                        "the SIEM cursor {} is older than the maximum look-back of {} h (PP_MAX_LOOKBACK_HOURS); events from {} to {} cannot be collected and are skipped",
                        iso(from),
                        ws.max_lookback.as_secs() / 3600,
                        iso(from),
                        iso(to)
                    ),
                )
                .with_detail(format!("endpoint={SIEM_PATH}"))
                .with_gap(iso(from), iso(to));
                return Ok(Page {
                    cursor: Some(cursor::to_value(to)),
                    tuning: Some(cursor::tuning_value(self.width_minutes)),
                    more: true,
                    notices: vec![notice],
                    ..Page::default()
                });
            }
            Plan::Window { start, end } => (
                start,
                end.min(add(start, Duration::from_secs(self.width_minutes * 60))),
            ),
        };
        let interval = format!("{}/{}", iso(start), iso(end));
        let query = [
            ("format", "json".to_string()),
            ("interval", interval.clone()),
        ];
        let context = format!("interval={interval}");
        let target = self.api.settings.window_target_bytes;
        let cap = window_body_cap(self.width_minutes, target);
        let fetched = self
            .api
            .get_capped(SIEM_PATH, &query, ctx.deadline, cap)
            .await;
        let body = match fetched {
            Ok(body) => body,
            Err(err)
                if err.status() == Some(400)
                    && !self.lookback_restart_used
                    && start < sub(now, STRICT_LOOKBACK) =>
            {
                return Ok(self.lookback_restart(cursor, start, now));
            }
            Err(err) if is_too_large(&err) && self.width_minutes > 1 => {
                // The window holds more than the response cap (twice the target, or the
                // global cap): abandoned while it streamed; read it in smaller windows. The
                // cursor does not move; the runner asks again at once.
                self.width_minutes = narrower(self.width_minutes);
                tracing::warn!(
                    %interval,
                    width_minutes = self.width_minutes,
                    "the window's response exceeds the response cap; retrying it in narrower windows"
                );
                self.resume = Some(start);
                return Ok(Page {
                    more: true,
                    ..Page::default()
                });
            }
            Err(err) => {
                return Err(failures::from_http(
                    "siem",
                    SIEM_PATH,
                    &context,
                    self.api.principal_text(),
                    &err,
                ));
            }
        };
        let body_bytes = body.as_ref().map_or(0, |b| b.len() as u64);
        let window = parse_siem(body.as_deref())
            .map_err(|what| failures::invalid_response("siem", SIEM_PATH, &context, &what))?;
        if window.skipped > 0 {
            tracing::warn!(skipped = window.skipped, %interval, "skipped non-object records");
        }
        let coverage: Vec<String> = CATEGORIES
            .iter()
            .zip(window.counts)
            .map(|((c, _, _), n)| format!("{c}={n}"))
            .collect();
        tracing::debug!(%interval, body_bytes, coverage = %coverage.join(" "), "SIEM window read");
        let Some(next) = cursor_after(start, end, window.query_end) else {
            tracing::warn!(%interval, "queryEndTime is not after the window start; the cursor stays until the next run");
            return Ok(Page {
                events: window.events,
                ..Page::default()
            });
        };
        // Never move the cursor backwards (a run's first window starts before it). The next
        // window still starts where this one ended: a window narrower than the overlap
        // re-reads the rest of the overlap before passing the cursor.
        let committed = cursor.map_or(next, |c| c.max(next));
        // Keep window bodies near the target: a large body makes the next window narrower
        // (memory follows the bytes, not the hour), a light one widens it back. The width is
        // committed with the cursor, so the next run starts at it.
        self.width_minutes = next_width(self.width_minutes, body_bytes, target);
        self.resume = Some(next);
        Ok(Page {
            events: window.events,
            cursor: Some(cursor::to_value(committed)),
            tuning: Some(cursor::tuning_value(self.width_minutes)),
            more: next < target_end(Timestamp::now(), &ws),
            notices: Vec::new(),
        })
    }

    /// A 400 for a window that starts more than 12 h ago: the API enforces the strict
    /// look-back. Restart at `now - 12 h + 5 min`, reporting what is skipped.
    fn lookback_restart(
        &mut self,
        cursor: Option<Timestamp>,
        start: Timestamp,
        now: Timestamp,
    ) -> Page {
        self.lookback_restart_used = true;
        let restart = ceil_minute(add(sub(now, STRICT_LOOKBACK), LOOKBACK_MARGIN));
        let from = cursor.unwrap_or(start);
        if from >= restart {
            // Only the overlap crossed the limit: it was delivered already.
            tracing::warn!(
                "the overlap crossed the API's 12-hour look-back; re-reading from the cursor instead"
            );
            self.resume = Some(from);
            return Page {
                more: true,
                ..Page::default()
            };
        }
        self.resume = Some(restart);
        let notice = Failure::new(
            ErrorCode::CollectionGap,
            "siem",
            format!(
                "the SIEM API rejected a window starting {} (older than its 12-hour look-back); events from {} to {} cannot be collected and are skipped. Lower PP_MAX_LOOKBACK_HOURS to 12 if this account enforces it",
                iso(start),
                iso(from),
                iso(restart)
            ),
        )
        .with_detail(format!("endpoint={SIEM_PATH} status=400"))
        .with_status(400)
        .with_gap(iso(from), iso(restart));
        Page {
            cursor: Some(cursor::to_value(restart)),
            tuning: Some(cursor::tuning_value(self.width_minutes)),
            more: true,
            notices: vec![notice],
            ..Page::default()
        }
    }
}

/// The committed cursor (`siem_cursor`, an ISO-8601 string) and the remembered width
/// (`siem_tuning`, see `cursor.rs`). Anything else is corrupt state, reported, never silently
/// reset.
fn parse_cursor(state: &StreamState) -> Result<Option<SiemCursor>, Failure> {
    cursor::parse(state.cursor.as_ref(), state.tuning.as_ref()).map_err(|what| {
        Failure::new(
            ErrorCode::StateReadError,
            "siem",
            format!(
                "{what}; fix it (e.g. 2026-04-01T00:00:00Z) or reset the stream with `siemtap state reset`"
            ),
        )
    })
}

impl Stream for SiemStream {
    fn name(&self) -> &'static str {
        "siem"
    }

    fn ledger_window(&self) -> Duration {
        self.api.settings.overlap + self.api.settings.settle + LEDGER_MARGIN
    }

    fn next_page<'a>(
        &'a mut self,
        state: &'a StreamState,
        ctx: FetchContext,
    ) -> BoxFuture<'a, Result<Page, Failure>> {
        Box::pin(self.fetch(state, ctx))
    }
}

/// Whether a request failed because the response exceeded the response cap.
fn is_too_large(err: &siemtap_http::HttpError) -> bool {
    match err {
        siemtap_http::HttpError::BodyTooLarge { .. } => true,
        siemtap_http::HttpError::Deadline { last } => is_too_large(last),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state(cursor: serde_json::Value) -> StreamState {
        StreamState {
            cursor: Some(cursor),
            ..StreamState::default()
        }
    }

    #[test]
    fn the_cursor_and_the_remembered_width_are_read() {
        let end: Timestamp = "2026-04-01T10:00:00Z".parse().unwrap();
        let plain = parse_cursor(&state(json!("2026-04-01T10:00:00Z"))).unwrap();
        assert_eq!(
            plain,
            Some(SiemCursor {
                end,
                width_minutes: FULL_WIDTH_MINUTES
            })
        );
        let mut tuned = state(json!("2026-04-01T10:00:00Z"));
        tuned.tuning = Some(json!({"window_minutes": 3}));
        assert_eq!(
            parse_cursor(&tuned).unwrap(),
            Some(SiemCursor {
                end,
                width_minutes: 3
            })
        );
        assert_eq!(parse_cursor(&StreamState::default()).unwrap(), None);
    }

    #[test]
    fn a_malformed_cursor_is_a_state_read_error_with_the_fix() {
        for bad in [
            json!("yesterday"),
            json!({"end": "2026-04-01T10:00:00Z", "width_minutes": 3}),
            json!(7),
        ] {
            let failure = parse_cursor(&state(bad.clone())).unwrap_err();
            assert_eq!(failure.code, ErrorCode::StateReadError, "{bad}");
            assert!(
                failure.message.starts_with("state key siem_cursor is ")
                    && failure.message.contains("siemtap state reset"),
                "{}",
                failure.message
            );
        }
        let mut tuned = state(json!("2026-04-01T10:00:00Z"));
        tuned.tuning = Some(json!({"window_minutes": 90}));
        let failure = parse_cursor(&tuned).unwrap_err();
        assert!(
            failure.message.starts_with("state key siem_tuning is ")
                && failure.message.contains("siemtap state reset"),
            "{}",
            failure.message
        );
    }

    #[test]
    fn only_a_body_over_the_cap_is_too_large() {
        let big = siemtap_http::HttpError::BodyTooLarge { limit: 8 };
        assert!(is_too_large(&big));
        assert!(is_too_large(&siemtap_http::HttpError::Deadline {
            last: Box::new(big)
        }));
        assert!(!is_too_large(&siemtap_http::HttpError::Timeout {
            attempts: 1
        }));
    }
}
