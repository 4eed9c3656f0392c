//! The `siem` stream (spec §3.7): one page per window of at most one hour of
//! `GET /v2/siem/all?format=json&interval=START/END`, checkpointed after each window.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use siemtap_core::{BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState};

use super::api::{CATEGORIES, parse_siem};
use super::client::Api;
use super::failures;
use super::quota::{Schedule, budget_warning, catch_up_requests};
use super::window::{
    LOOKBACK_MARGIN, Plan, STRICT_LOOKBACK, WindowSettings, add, ceil_minute, cursor_after, iso,
    plan, sub, target_end,
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
    /// Current window width in minutes: halved when a window's response exceeds the response
    /// cap (a dense hour must not block the stream forever), doubled back after a success.
    width_minutes: u64,
}

/// Records in one window above which the next window is narrower.
const DENSE_WINDOW_RECORDS: usize = 5_000;

/// Full window width, in minutes.
const FULL_WIDTH_MINUTES: u64 = super::window::MAX_WINDOW.as_secs() / 60;

impl SiemStream {
    /// The stream of `api`.
    pub fn new(api: Arc<Api>) -> Self {
        Self {
            api,
            resume: None,
            lookback_restart_used: false,
            budget_checked: false,
            width_minutes: FULL_WIDTH_MINUTES,
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
    fn check_budget(&mut self, state: &StreamState, cursor: Option<Timestamp>, now: Timestamp) {
        self.budget_checked = true;
        let s = &self.api.settings;
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
                requests = catch_up_requests(backlog),
                "SIEM cursor is behind; catching up window by window"
            );
        }
    }

    async fn fetch(&mut self, state: &StreamState, ctx: FetchContext) -> Result<Page, Failure> {
        let now = Timestamp::now();
        let cursor = parse_cursor(state)?;
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
                    cursor: Some(iso(to).into()),
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
        let body = match self.api.get(SIEM_PATH, &query, ctx.deadline).await {
            Ok(body) => body,
            Err(err)
                if err.status() == Some(400)
                    && !self.lookback_restart_used
                    && start < sub(now, STRICT_LOOKBACK) =>
            {
                return Ok(self.lookback_restart(cursor, start, now));
            }
            Err(err) if is_too_large(&err) && self.width_minutes > 1 => {
                // The window holds more than the response cap: read it in smaller windows.
                // The cursor does not move; the runner asks again at once.
                self.width_minutes = (self.width_minutes / 2).max(1);
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
        tracing::debug!(%interval, coverage = %coverage.join(" "), "SIEM window read");
        let Some(next) = cursor_after(start, end, window.query_end) else {
            tracing::warn!(%interval, "queryEndTime is not after the window start; the cursor stays until the next run");
            return Ok(Page {
                events: window.events,
                ..Page::default()
            });
        };
        // Never move the cursor backwards (a run's first window starts before it).
        let next = cursor.map_or(next, |c| c.max(next));
        // Keep windows near a few thousand records: a dense window makes the next one narrower
        // (memory stays bounded by density, not by the hour), a light one widens it back.
        self.width_minutes = if window.events.len() > DENSE_WINDOW_RECORDS {
            (self.width_minutes / 2).max(1)
        } else {
            (self.width_minutes * 2).min(FULL_WIDTH_MINUTES)
        };
        self.resume = Some(next);
        Ok(Page {
            events: window.events,
            cursor: Some(iso(next).into()),
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
            cursor: Some(iso(restart).into()),
            more: true,
            notices: vec![notice],
            ..Page::default()
        }
    }
}

/// The committed cursor: an ISO-8601 string (`siem_cursor`). Anything else is corrupt state,
/// reported, never silently reset.
fn parse_cursor(state: &StreamState) -> Result<Option<Timestamp>, Failure> {
    match &state.cursor {
        None => Ok(None),
        Some(serde_json::Value::String(s)) => s.parse().map(Some).map_err(|_| corrupt(s)),
        Some(other) => Err(corrupt(&other.to_string())),
    }
}

fn corrupt(value: &str) -> Failure {
    Failure::new(
        ErrorCode::StateReadError,
        "siem",
        format!(
            "state key siem_cursor is {value:?}, not an ISO-8601 time; fix it (e.g. 2026-04-01T00:00:00Z) or reset the stream with `siemtap state reset`"
        ),
    )
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
