//! One declarative stream at run time: render the request, send it (auth, limiter, OAuth2
//! refresh on 401), extract the records, decide the next page and the cursor to store.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};
use siemtap_core::{
    BoxFuture, ErrorCode, Failure, FetchContext, Page, Stream, StreamState, VendorEvent,
};
use siemtap_http::{HttpError, HttpResponse, RequestContext};
use siemtap_secrets::Secret;

use super::extract::extract;
use super::failures;
use super::paginate::{self, DEFAULT_MAX_PAGES};
use super::position::{Step, Walk, after_page, step};
use super::request::{BuiltRequest, Secrets, Vars, build};
use super::source::Shared;

/// Ids are remembered this long beyond the overlap.
const LEDGER_MARGIN: Duration = Duration::from_secs(5 * 60);
/// Default page size (`{page.limit}`).
pub(crate) const DEFAULT_LIMIT: u32 = 100;

/// A declarative stream.
pub(crate) struct RestStream {
    pub shared: Arc<Shared>,
    pub index: usize,
    pub name: &'static str,
    pub event_type: &'static str,
    pub lookback: Duration,
    /// Pages fetched in this run.
    pages: u32,
}

impl RestStream {
    pub(crate) fn new(
        shared: Arc<Shared>,
        index: usize,
        name: &'static str,
        event_type: &'static str,
        lookback: Duration,
    ) -> Self {
        Self {
            shared,
            index,
            name,
            event_type,
            lookback,
            pages: 0,
        }
    }

    fn spec(&self) -> &super::spec::StreamSpec {
        &self.shared.compiled.file.streams[self.index]
    }

    fn max_pages(&self) -> u32 {
        self.spec()
            .pagination
            .max_pages
            .unwrap_or(DEFAULT_MAX_PAGES)
    }

    async fn fetch(&mut self, state: &StreamState, ctx: FetchContext) -> Result<Page, Failure> {
        let now = jiff::Timestamp::now();
        let spec = self.spec();
        let walk = match step(spec, state.cursor.as_ref(), now, self.lookback) {
            Ok(Step::Walk(w)) => w,
            Ok(Step::Idle) => return Ok(Page::default()),
            Err(why) => {
                return Err(Failure::new(
                    ErrorCode::StateReadError,
                    self.name,
                    format!(
                        "the stored cursor does not fit cursor type of this stream ({why}); reset it with `siemtap state reset` or restore the connector file that wrote it"
                    ),
                ));
            }
        };
        let limit = spec.request.limit.unwrap_or(DEFAULT_LIMIT);
        let shared = Arc::clone(&self.shared);
        let vars = Vars {
            vars: &shared.vars,
            secrets: Secrets::Real(&shared.secrets),
            window: walk.window,
            cursor: walk.cursor_value(),
            limit,
            continuation: walk.continuation.as_ref(),
        };
        let bodies = &shared.compiled.bodies[self.index];
        let trusted = &shared.compiled.file.trusted_origins;
        let req = build(spec, bodies, &vars, walk.later, trusted)
            .map_err(|e| e.into_failure(self.name))?;
        let resp = self.send(&req, ctx).await?;
        self.pages += 1;
        self.page(&walk, &req, &resp, limit, now)
    }

    fn page(
        &self,
        walk: &Walk,
        req: &BuiltRequest,
        resp: &HttpResponse,
        limit: u32,
        now: jiff::Timestamp,
    ) -> Result<Page, Failure> {
        let spec = self.spec();
        let endpoint = req.endpoint();
        let (events, next) = if resp.status == 204 {
            (
                Vec::new(),
                paginate::Next {
                    continuation: None,
                    more: false,
                },
            )
        } else {
            let doc: Value = serde_json::from_slice(&resp.body).map_err(|e| {
                failures::invalid_response(
                    self.name,
                    &endpoint,
                    resp.status,
                    &format!("body is not JSON ({e})"),
                )
            })?;
            let got = extract(&spec.extract, self.event_type, &doc).map_err(|what| {
                failures::invalid_response(self.name, &endpoint, resp.status, &what)
            })?;
            if got.skipped > 0 {
                tracing::warn!(
                    stream = self.name,
                    skipped = got.skipped,
                    "skipped records that are not JSON objects"
                );
            }
            let count = got.events.len() + got.skipped;
            let next = paginate::next(
                &spec.pagination,
                limit,
                walk.continuation.as_ref(),
                &resp.headers,
                &doc,
                count,
            );
            (got.events, next)
        };
        let newest = events.iter().filter_map(|e| e.time).max();
        let (cursor, mut more) = after_page(spec, walk, next.continuation, next.more, newest, now);
        let mut events = events;
        if more && self.pages >= self.max_pages() {
            more = false;
            tracing::warn!(
                stream = self.name,
                pages = self.pages,
                "max_pages reached; resuming from the checkpoint next run"
            );
            events.push(self.health_max_pages(now));
        }
        Ok(Page {
            events,
            cursor,
            more,
            notices: Vec::new(),
            tuning: None,
        })
    }

    /// The health event emitted when `max_pages` stops a walk (nothing is skipped: the
    /// cursor is checkpointed and the next run continues).
    fn health_max_pages(&self, now: jiff::Timestamp) -> VendorEvent {
        let mut record = Map::new();
        record.insert("source".into(), self.name.into());
        record.insert("health_code".into(), "MAX_PAGES_REACHED".into());
        record.insert(
            "message".into(),
            format!(
                "stopped after max_pages = {} pages in this run; the position is saved and the next run continues from it (raise pagination.max_pages or run more often)",
                self.max_pages()
            )
            .into(),
        );
        record.insert("pages".into(), self.pages.into());
        record.insert(
            "timestamp".into(),
            siemtap_core::shape::utc_seconds(now).into(),
        );
        VendorEvent {
            event_type: "health".into(),
            id: None,
            time: None,
            record: record.into(),
        }
    }

    async fn send(&self, req: &BuiltRequest, ctx: FetchContext) -> Result<HttpResponse, Failure> {
        let shared = &self.shared;
        let endpoint = req.endpoint();
        let to_failure =
            |e: &HttpError| failures::from_http(self.name, &endpoint, e, &shared.secret_hints);
        let Some(oauth) = shared.auth.oauth2() else {
            return self
                .send_once(req, None, ctx)
                .await
                .map_err(|e| to_failure(&e));
        };
        let token = oauth.token(&shared.http, ctx, self.name).await?;
        match self.send_once(req, Some(&token), ctx).await {
            Err(e) if e.status() == Some(401) => {
                // The token was revoked or expired early: one new token, one more attempt.
                tracing::info!(
                    stream = self.name,
                    "401 with a cached OAuth2 token; fetching a new token once"
                );
                oauth.invalidate(&token).await;
                let fresh = oauth.token(&shared.http, ctx, self.name).await?;
                self.send_once(req, Some(&fresh), ctx)
                    .await
                    .map_err(|e| to_failure(&e))
            }
            other => other.map_err(|e| to_failure(&e)),
        }
    }

    async fn send_once(
        &self,
        req: &BuiltRequest,
        token: Option<&Secret>,
        ctx: FetchContext,
    ) -> Result<HttpResponse, HttpError> {
        let shared = &self.shared;
        let label = format!("{} {}", req.method.as_str(), req.url.path());
        let context = RequestContext {
            label: &label,
            limiter: Some(&shared.limiter),
            deadline: ctx.deadline,
        };
        let timeout = attempt_timeout(&shared.http, ctx.deadline);
        shared
            .http
            .send(&context, |client| {
                let method = match req.method {
                    super::spec::Method::Get => reqwest::Method::GET,
                    super::spec::Method::Post => reqwest::Method::POST,
                };
                let mut b = client.request(method, req.url.clone()).timeout(timeout);
                let has = |name: &str| {
                    req.headers
                        .iter()
                        .any(|(k, _)| k.eq_ignore_ascii_case(name))
                };
                if !has("accept") {
                    b = b.header("Accept", "application/json");
                }
                for (k, v) in &req.headers {
                    b = b.header(k.as_str(), v.as_str());
                }
                if let Some(body) = &req.body {
                    if !has("content-type") {
                        b = b.header("Content-Type", "application/json");
                    }
                    b = b.body(body.clone());
                }
                shared.auth.apply(b, req, token)
            })
            .await
    }
}

impl Stream for RestStream {
    fn name(&self) -> &'static str {
        self.name
    }

    fn ledger_window(&self) -> Duration {
        let c = &self.spec().cursor;
        c.overlap.map_or(Duration::ZERO, |o| o.0)
            + c.settle_lag.map_or(Duration::ZERO, |o| o.0)
            + LEDGER_MARGIN
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
fn attempt_timeout(
    http: &siemtap_http::HttpClient,
    deadline: Option<tokio::time::Instant>,
) -> Duration {
    let configured = http.config().request_timeout;
    match deadline {
        Some(d) => d
            .saturating_duration_since(tokio::time::Instant::now())
            .clamp(Duration::from_millis(100).min(configured), configured),
        None => configured,
    }
}
