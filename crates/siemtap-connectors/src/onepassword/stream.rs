//! One 1Password stream: cursor paging, the no-progress guard, and recovery from a rejected
//! cursor (spec §2.5, §2.12 failure modes 1 and 2).

use std::sync::Arc;
use std::time::Duration;

use siemtap_core::{BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState};
use siemtap_http::{HttpClient, HttpError, RateLimiter, RequestContext};
use siemtap_secrets::Secret;

use super::api::{RequestBody, format_start_time, parse_page};
use super::failures;
use super::settings::{RETENTION, Settings};
use crate::common::position::{JsonKind, expect_kind};

/// Extra ledger time beyond the overlap, so ids at the edge of the window stay known.
const LEDGER_MARGIN: Duration = Duration::from_secs(5 * 60);

/// The stored cursor is the vendor's opaque cursor string (or absent): anything else is
/// corrupt state, never a reason to restart from the lookback window.
pub fn check_cursor(stream: &str, state: &StreamState) -> Result<(), String> {
    expect_kind(
        &format!("{stream}_cursor"),
        state.cursor.as_ref(),
        &[JsonKind::String],
    )
}

/// What every stream of one tenant shares.
pub struct TenantContext {
    pub http: HttpClient,
    pub base_url: String,
    pub token: Secret,
    pub limiter: RateLimiter,
    pub settings: Arc<Settings>,
}

/// A 1Password stream (audit, signin or itemusage).
pub struct OnePasswordStream {
    pub name: &'static str,
    pub path: &'static str,
    pub event_type: &'static str,
    pub tenant: Arc<TenantContext>,
    /// Set after a rejected cursor: restart from this time with a flat body.
    restart_from: Option<jiff::Timestamp>,
    /// Whether this run already used its one cursor reset.
    reset_used: bool,
}

impl OnePasswordStream {
    /// A stream of `tenant`.
    pub fn new(
        name: &'static str,
        path: &'static str,
        event_type: &'static str,
        tenant: Arc<TenantContext>,
    ) -> Self {
        Self {
            name,
            path,
            event_type,
            tenant,
            restart_from: None,
            reset_used: false,
        }
    }

    fn overlap(&self) -> Duration {
        self.tenant.settings.overlap
    }

    /// The first-page body for a stream with no usable cursor, plus a gap notice when the
    /// restart point is older than the vendor keeps data.
    fn start_body(
        &self,
        state: &StreamState,
        now: jiff::Timestamp,
    ) -> (RequestBody, Option<Failure>) {
        let settings = &self.tenant.settings;
        let wanted = match (self.restart_from, state.high_water) {
            (Some(t), _) => t,
            (None, Some(hw)) => sub(hw, self.overlap()),
            (None, None) => sub(now, settings.lookback),
        };
        let oldest = sub(now, RETENTION) + jiff::SignedDuration::from_hours(1);
        let mut gap = None;
        let start = if wanted < oldest {
            if self.restart_from.is_some() || state.high_water.is_some() {
                gap = Some(
                    Failure::new(
                        ErrorCode::CollectionGap,
                        self.name,
                        "restart point is older than the 1Password retention of 120 days; events in between cannot be collected",
                    )
                    .with_gap(format_start_time(wanted), format_start_time(oldest)),
                );
            } else {
                tracing::warn!(
                    stream = self.name,
                    "lookback exceeds the 120-day retention; starting at the oldest available time"
                );
            }
            oldest
        } else {
            wanted
        };
        (
            RequestBody::Start {
                limit: settings.page_limit,
                start_time: start,
            },
            gap,
        )
    }

    async fn fetch(&mut self, state: &StreamState, ctx: FetchContext) -> Result<Page, Failure> {
        let now = jiff::Timestamp::now();
        let mut notices = Vec::new();
        check_cursor(self.name, state).map_err(|what| {
            Failure::new(
                ErrorCode::StateReadError,
                self.name,
                format!("{what}; fix it or reset the stream with `siemtap state reset`"),
            )
        })?;
        let body = match &state.cursor {
            Some(serde_json::Value::String(c)) if !c.is_empty() && self.restart_from.is_none() => {
                RequestBody::Cursor(c.clone())
            }
            _ => {
                let (body, gap) = self.start_body(state, now);
                notices.extend(gap);
                body
            }
        };
        match self.post(&body, ctx).await {
            Ok(bytes) => {
                let parsed = parse_page(&bytes, self.event_type)
                    .map_err(|what| failures::invalid_response(self.name, self.path, &what))?;
                if parsed.skipped > 0 {
                    tracing::warn!(
                        stream = self.name,
                        skipped = parsed.skipped,
                        "skipped non-object items"
                    );
                }
                let no_progress = parsed.has_more
                    && parsed.events.is_empty()
                    && body.cursor() == Some(parsed.cursor.as_str());
                if no_progress {
                    tracing::warn!(
                        stream = self.name,
                        "has_more with no items and the same cursor; stopping until the next run"
                    );
                }
                self.restart_from = None;
                Ok(Page {
                    events: parsed.events,
                    cursor: Some(serde_json::Value::String(parsed.cursor)),
                    more: parsed.has_more && !no_progress,
                    notices,
                    tuning: None,
                })
            }
            Err(err)
                if err.status() == Some(400) && body.cursor().is_some() && !self.reset_used =>
            {
                // Failure modes 1 and 2: one reset per run, from the high-water mark minus the
                // overlap; the ledger suppresses what was already delivered.
                self.reset_used = true;
                let restart = match state.high_water.or(state.last_poll) {
                    Some(t) => sub(t, self.overlap()),
                    None => sub(now, self.tenant.settings.lookback),
                };
                self.restart_from = Some(restart);
                let mut notice =
                    failures::from_http(self.name, &self.tenant.base_url, self.path, &err);
                notice.detail = Some(format!(
                    "endpoint={} status=400 cursor rejected; restarting from {} with a new cursor",
                    self.path,
                    format_start_time(restart)
                ));
                notices.push(notice);
                Ok(Page {
                    events: Vec::new(),
                    cursor: None,
                    more: true,
                    notices,
                    tuning: None,
                })
            }
            Err(err) => {
                let mut failure =
                    failures::from_http(self.name, &self.tenant.base_url, self.path, &err);
                if err.status() == Some(400) && body.cursor().is_some() {
                    failure.detail = Some(format!(
                        "endpoint={} status=400 cursor rejected again after a restart in this run; the stream stays at its last checkpoint",
                        self.path
                    ));
                }
                Err(failure)
            }
        }
    }

    async fn post(&self, body: &RequestBody, ctx: FetchContext) -> Result<Vec<u8>, HttpError> {
        let tenant = &self.tenant;
        let url = format!("{}{}", tenant.base_url, self.path);
        let json = body.to_json();
        let label = format!("POST {}", self.path);
        let request = RequestContext {
            label: &label,
            limiter: Some(&tenant.limiter),
            deadline: ctx.deadline,
        };
        let response = tenant
            .http
            .send(&request, |client| {
                client
                    .post(&url)
                    // The one place the token is read: the Authorization header.
                    .bearer_auth(tenant.token.expose())
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .timeout(attempt_timeout(&tenant.http, ctx.deadline))
                    .body(json.clone())
            })
            .await?;
        Ok(response.body)
    }
}

impl Stream for OnePasswordStream {
    fn name(&self) -> &'static str {
        self.name
    }

    fn ledger_window(&self) -> Duration {
        self.overlap() + LEDGER_MARGIN
    }

    fn next_page<'a>(
        &'a mut self,
        state: &'a StreamState,
        ctx: FetchContext,
    ) -> BoxFuture<'a, Result<Page, Failure>> {
        Box::pin(self.fetch(state, ctx))
    }
}

/// The client's request timeout, shortened so a request never outlives the run budget.
pub fn attempt_timeout(http: &HttpClient, deadline: Option<tokio::time::Instant>) -> Duration {
    let configured = http.config().request_timeout;
    match deadline {
        Some(d) => d
            .saturating_duration_since(tokio::time::Instant::now())
            .clamp(Duration::from_millis(100).min(configured), configured),
        None => configured,
    }
}

fn sub(ts: jiff::Timestamp, d: Duration) -> jiff::Timestamp {
    let d = jiff::SignedDuration::try_from(d).unwrap_or(jiff::SignedDuration::MAX);
    ts.checked_sub(d).unwrap_or(jiff::Timestamp::MIN)
}
