//! The two Cortex XDR streams: one request per page, the walk of `walk.rs`, errors as events.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;
use siemtap_core::{
    BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState, VendorEvent,
};
use siemtap_http::{HttpClient, HttpError, RateLimiter, RequestContext};

use super::api::{self, Query};
use super::auth::Credentials;
use super::failures::{self, Scrub};
use super::settings::Settings;
use super::walk::{
    self, ALERT_MAX_SPAN_MS, AlertWindow, Cursor, IncidentWindow, Step, WindowConfig,
};

/// Extra ledger time beyond what a re-read can reach.
const LEDGER_MARGIN: Duration = Duration::from_secs(5 * 60);

/// What both streams of one tenant share (one rate limiter: the vendor limit is per tenant).
pub struct TenantContext {
    pub http: HttpClient,
    /// Base URL without a trailing slash. Never logged: it may hold the tenant FQDN.
    pub base_url: String,
    pub creds: Credentials,
    pub limiter: RateLimiter,
    pub settings: Arc<Settings>,
    pub scrub: Scrub,
}

/// Which stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `alerts`: offset paging over closed `server_creation_time` windows.
    Alerts,
    /// `incidents`: keyset paging over closed `modification_time` windows.
    Incidents,
}

impl Kind {
    /// The stream name (`--source`, state keys, summary, `error_source`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Alerts => "alerts",
            Self::Incidents => "incidents",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Self::Alerts => api::ALERTS_PATH,
            Self::Incidents => api::INCIDENTS_PATH,
        }
    }
}

/// One stream of a tenant.
pub struct XdrStream {
    kind: Kind,
    tenant: Arc<TenantContext>,
    /// `now − settle lag`, fixed at the first page of the run: the walk stops there.
    run_end_ms: Option<i64>,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl XdrStream {
    /// The `kind` stream of `tenant`.
    pub fn new(kind: Kind, tenant: Arc<TenantContext>) -> Self {
        Self {
            kind,
            tenant,
            run_end_ms: None,
        }
    }

    fn config(&self) -> WindowConfig {
        let s = &self.tenant.settings;
        WindowConfig {
            lookback_ms: ms(s.lookback),
            overlap_ms: ms(s.overlap),
            max_span_ms: (self.kind == Kind::Alerts).then_some(ALERT_MAX_SPAN_MS),
        }
    }

    /// The window to read now: the stored one in progress, or the next one to start.
    fn plan<W: DeserializeOwned>(
        &self,
        state: &StreamState,
        now_ms: i64,
        run_end_ms: i64,
        fresh: impl Fn(i64, i64) -> W,
    ) -> Result<Option<W>, Failure> {
        let cursor = walk::parse_cursor::<W>(state.cursor.as_ref()).map_err(|what| {
            Failure::new(
                ErrorCode::StateReadError,
                self.kind.name(),
                format!(
                    "the stored {}_cursor is {what}; fix the state file, or move the stream with `siemtap state rewind --stream {} --to TIME`",
                    self.kind.name(),
                    self.kind.name()
                ),
            )
        })?;
        let done = match cursor {
            Some(Cursor::Window(w)) => return Ok(Some(w)),
            Some(Cursor::Done(c)) => Some(c),
            None => None,
        };
        let high_water = state.high_water.map(|t| t.as_millisecond());
        Ok(
            walk::first_window(done, high_water, now_ms, run_end_ms, &self.config())
                .map(|(from, to)| fresh(from, to)),
        )
    }

    async fn fetch(&mut self, state: &StreamState, ctx: FetchContext) -> Result<Page, Failure> {
        let now_ms = jiff::Timestamp::now().as_millisecond();
        let settle = ms(self.tenant.settings.settle);
        let run_end = *self.run_end_ms.get_or_insert(now_ms.saturating_sub(settle));
        match self.kind {
            Kind::Alerts => self.alerts(state, ctx, now_ms, run_end).await,
            Kind::Incidents => self.incidents(state, ctx, now_ms, run_end).await,
        }
    }

    async fn alerts(
        &self,
        state: &StreamState,
        ctx: FetchContext,
        now_ms: i64,
        run_end: i64,
    ) -> Result<Page, Failure> {
        let Some(w) = self.plan(state, now_ms, run_end, |f, t| AlertWindow::new(f, t, 1))? else {
            return Ok(idle());
        };
        let query = Query {
            field: "server_creation_time",
            sort_field: "creation_time",
            from_ms: w.from,
            to_ms: w.to,
            offset: w.offset,
        };
        let reply = self.request(&query, ctx).await?;
        let n = reply.records.len() as u64;
        let step = walk::alerts_step(&w, reply.total_count, n, run_end, &self.config());
        if !step.deliver {
            tracing::info!(
                stream = "alerts",
                total = reply.total_count,
                "window holds more than 1000 alerts; shrinking it"
            );
        }
        let events = reply.records.into_iter().map(api::alert_event).collect();
        Ok(self.page(events, step, w.from, w.to))
    }

    async fn incidents(
        &self,
        state: &StreamState,
        ctx: FetchContext,
        now_ms: i64,
        run_end: i64,
    ) -> Result<Page, Failure> {
        let Some(w) = self.plan(state, now_ms, run_end, IncidentWindow::new)? else {
            return Ok(idle());
        };
        let query = Query {
            field: "modification_time",
            sort_field: "modification_time",
            from_ms: w.gte(),
            to_ms: w.to,
            offset: w.skip,
        };
        let reply = self.request(&query, ctx).await?;
        let n = reply.records.len() as u64;
        let newest = reply
            .records
            .iter()
            .filter_map(|r| api::epoch_ms(r, "modification_time"))
            .max();
        let step = walk::incidents_step(&w, reply.total_count, n, newest, run_end, &self.config());
        let events = reply.records.into_iter().map(api::incident_event).collect();
        Ok(self.page(events, step, w.from, w.to))
    }

    fn page<W: Serialize>(
        &self,
        events: Vec<VendorEvent>,
        step: Step<W>,
        from: i64,
        to: i64,
    ) -> Page {
        let name = self.kind.name();
        if events.iter().any(|e| e.id.is_none()) {
            tracing::warn!(
                stream = name,
                "records without an id cannot be deduplicated across overlap re-reads"
            );
        }
        let mut notices = Vec::new();
        if step.gave_up {
            let span = |ms: i64| {
                jiff::Timestamp::from_millisecond(ms)
                    .map(|t| t.to_string())
                    .unwrap_or_else(|_| ms.to_string())
            };
            notices.push(
                Failure::new(
                    ErrorCode::ApiInvalidResponse,
                    name,
                    format!(
                        "Cortex XDR total_count kept changing while paging the window {} .. {} ({} passes); what was read is delivered and the window is read again next run",
                        span(from),
                        span(to),
                        walk::MAX_PASSES
                    ),
                )
                .with_detail(format!("endpoint={} status=200", self.kind.path())),
            );
        }
        Page {
            events: if step.deliver { events } else { Vec::new() },
            cursor: Some(walk::cursor_value(&step.cursor)),
            more: step.more,
            notices,
            tuning: None,
        }
    }

    async fn request(&self, query: &Query, ctx: FetchContext) -> Result<api::Reply, Failure> {
        let name = self.kind.name();
        let path = self.kind.path();
        let scrub = &self.tenant.scrub;
        let body = self
            .post(path, query.to_json(), ctx)
            .await
            .map_err(|e| scrub.failure(failures::from_http(name, path, &e)))?;
        let reply = api::parse_reply(&body, name)
            .map_err(|what| scrub.failure(failures::invalid_response(name, path, &what)))?;
        if reply.skipped > 0 {
            tracing::warn!(
                stream = name,
                skipped = reply.skipped,
                "skipped non-object records"
            );
        }
        tracing::debug!(
            stream = name,
            from = query.from_ms,
            to = query.to_ms,
            offset = query.offset,
            total = reply.total_count,
            records = reply.records.len(),
            "page"
        );
        Ok(reply)
    }

    async fn post(
        &self,
        path: &'static str,
        body: Vec<u8>,
        ctx: FetchContext,
    ) -> Result<Vec<u8>, HttpError> {
        let tenant = &self.tenant;
        let url = format!("{}{path}", tenant.base_url);
        let label = format!("POST {path}");
        let request = RequestContext {
            label: &label,
            limiter: Some(&tenant.limiter),
            deadline: ctx.deadline,
        };
        let response = tenant
            .http
            .send(&request, |client| {
                // Called once per attempt: the nonce and timestamp are fresh on every retry.
                match tenant
                    .creds
                    .headers(jiff::Timestamp::now().as_millisecond())
                {
                    Ok(auth) => client
                        .post(&url)
                        .headers(auth)
                        .header("Content-Type", "application/json")
                        .header("Accept", "application/json")
                        .timeout(attempt_timeout(&tenant.http, ctx.deadline))
                        .body(body.clone()),
                    Err(e) => {
                        tracing::error!("{e}");
                        // An unusable URL: the client refuses it, and the stream reports it.
                        client.post("xdr-auth-nonce-unavailable:")
                    }
                }
            })
            .await?;
        Ok(response.body)
    }
}

/// Nothing new to read: no request, cursor unchanged.
fn idle() -> Page {
    Page {
        events: Vec::new(),
        cursor: None,
        more: false,
        notices: Vec::new(),
        tuning: None,
    }
}

impl Stream for XdrStream {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn ledger_window(&self) -> Duration {
        // Alerts: a re-page reaches back over a whole window (≤ 1 h); both: the overlap.
        let reach = match self.kind {
            Kind::Alerts => Duration::from_millis(ALERT_MAX_SPAN_MS.unsigned_abs()),
            Kind::Incidents => Duration::ZERO,
        };
        self.tenant.settings.overlap + reach + LEDGER_MARGIN
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
fn attempt_timeout(http: &HttpClient, deadline: Option<tokio::time::Instant>) -> Duration {
    let configured = http.config().request_timeout;
    match deadline {
        Some(d) => d
            .saturating_duration_since(tokio::time::Instant::now())
            .clamp(Duration::from_millis(100).min(configured), configured),
        None => configured,
    }
}
