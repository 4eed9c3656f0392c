//! `HttpClient`: one shared reqwest client plus the retry loop.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::redirect;
use tokio::time::Instant;

use crate::attempt::{Outcome, error_chain, execute};
use crate::backoff::next_delay;
use crate::redact::{sensitive_query_values, sensitive_values};
use crate::tls::{ensure_crypto_provider, load_ca_file, system_bundle};
use crate::{HttpConfig, HttpError, RateLimiter, url_check};

/// Redirect hops followed before the 3xx answer is returned as is.
const MAX_REDIRECTS: usize = 5;

/// Cheap to clone (one shared reqwest::Client inside, keep-alive pool).
#[derive(Clone, Debug)]
pub struct HttpClient {
    inner: reqwest::Client,
    config: Arc<HttpConfig>,
}

/// Per-call context of [`HttpClient::send`].
#[derive(Clone, Copy, Debug)]
pub struct RequestContext<'a> {
    /// For logs, e.g. `"POST /api/v2/signinattempts"` (no host, no query).
    pub label: &'a str,
    /// Client-side budget of the credential; waited on before every attempt.
    pub limiter: Option<&'a RateLimiter>,
    /// The run budget: no sleep and no attempt runs past it.
    pub deadline: Option<Instant>,
}

impl<'a> RequestContext<'a> {
    /// A context with no limiter and no deadline.
    pub fn new(label: &'a str) -> Self {
        Self {
            label,
            limiter: None,
            deadline: None,
        }
    }
}

/// A 2xx answer with its full body.
#[derive(Clone, Debug)]
pub struct HttpResponse {
    /// HTTP status (2xx).
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The whole body, decompressed, at most `max_body_bytes`.
    pub body: Vec<u8>,
    /// Attempts it took (1 = no retry).
    pub attempts: u32,
    /// Sum of the retry delays chosen (also when sleeping is disabled).
    pub waited: Duration,
}

impl HttpClient {
    /// Build the client: ring provider, platform verifier + `ca_file` roots, timeouts, UA.
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        ensure_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .user_agent(config.user_agent.clone())
            .redirect(redirect::Policy::custom(|attempt| {
                // A redirect to another origin is not followed: reqwest strips only
                // Authorization and Cookie across hosts, an API key in any other header (or a
                // signature) would go along. The 3xx answer is returned instead.
                let cross_origin = attempt
                    .previous()
                    .first()
                    .is_some_and(|first| first.origin() != attempt.url().origin());
                if attempt.previous().len() >= MAX_REDIRECTS
                    || cross_origin
                    || url_check::check_url(attempt.url()).is_err()
                {
                    attempt.stop()
                } else {
                    attempt.follow()
                }
            }));
        let extra = match &config.ca_file {
            Some(path) => load_ca_file(path)?,
            None => Vec::new(),
        };
        builder = match system_bundle() {
            Some((path, mut roots)) => {
                tracing::debug!(bundle = %path.display(), roots = roots.len(), "system CA bundle loaded");
                roots.extend(extra);
                builder.tls_certs_only(roots)
            }
            None => builder.tls_certs_merge(extra),
        };
        let inner = builder.build().map_err(|e| {
            let hint = match &config.ca_file {
                Some(p) => format!(" (check ca_file {})", p.display()),
                None => " (check the system CA bundle or SSL_CERT_FILE)".to_string(),
            };
            HttpError::Setup {
                reason: format!("{}{hint}", error_chain(&e.without_url())),
            }
        })?;
        Ok(Self {
            inner,
            config: Arc::new(config),
        })
    }

    /// https always; plain http only when the host is loopback (localhost, 127.0.0.0/8, ::1).
    /// Else `InsecureUrl` (with the URL redacted).
    pub fn check_url(url: &reqwest::Url) -> Result<(), HttpError> {
        url_check::check_url(url)
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Send with retries. `build` is called once PER ATTEMPT (so signatures/nonces are fresh).
    /// Redirects are followed (up to 5) only on the request's own origin; a redirect elsewhere
    /// is returned as the 3xx answer, so no credential header follows it.
    ///
    /// Retries 429, 500, 502, 503, 504, timeouts, connect errors, connection resets and bodies
    /// cut off mid-read;
    /// honours Retry-After (capped). Waits on `ctx.limiter` before every attempt. Never sleeps
    /// past `ctx.deadline` and cuts an attempt's timeout at it: then `HttpError::Deadline`
    /// wraps the failure that would have been retried. A non-2xx final answer is
    /// `HttpError::Status` with a redacted body excerpt; 2xx is `Ok` with the full body.
    pub async fn send<F>(
        &self,
        ctx: &RequestContext<'_>,
        build: F,
    ) -> Result<HttpResponse, HttpError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        self.send_capped(ctx, None, build).await
    }

    /// [`send`](Self::send) with a per-request body cap: `max_body_bytes` (when given) lowers
    /// the configured [`HttpConfig::max_body_bytes`] for this call only — it never raises it,
    /// the global cap stays the upper bound. A body over the effective cap is abandoned while it
    /// streams (`HttpError::BodyTooLarge` with the effective limit, not retried), so a caller
    /// that can ask for less (a narrower time window) bounds its memory per request.
    ///
    /// A separate method rather than a `RequestContext` field, so the context's struct
    /// literals elsewhere keep compiling.
    pub async fn send_capped<F>(
        &self,
        ctx: &RequestContext<'_>,
        max_body_bytes: Option<u64>,
        build: F,
    ) -> Result<HttpResponse, HttpError>
    where
        F: Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    {
        let body_cap = max_body_bytes.map_or(self.config.max_body_bytes, |cap| {
            cap.min(self.config.max_body_bytes)
        });
        let policy = &self.config.retry;
        let max = policy.max_attempts.max(1);
        let label = ctx.label;
        let mut waited = Duration::ZERO;
        let mut last: Option<HttpError> = None;
        for attempt in 1..=max {
            if let Some(limiter) = ctx.limiter
                && let Err(e) = limiter.acquire(ctx.deadline).await
            {
                tracing::warn!(
                    label,
                    attempt,
                    max,
                    "run budget reached while rate-limited; giving up"
                );
                return Err(wrap_deadline(last, e));
            }
            let request = build(&self.inner).build().map_err(|e| HttpError::Request {
                detail: error_chain(&e.without_url()),
                attempts: attempt - 1,
            })?;
            url_check::check_url(request.url())?;
            let mut secrets = sensitive_values(request.headers());
            secrets.extend(sensitive_query_values(request.url()));

            let (limit, cut_by_deadline) = attempt_limit(self.config.request_timeout, ctx.deadline);
            if limit.is_zero() {
                tracing::warn!(
                    label,
                    attempt,
                    max,
                    "run budget reached before the attempt; giving up"
                );
                let last = last.unwrap_or(HttpError::Timeout {
                    attempts: attempt - 1,
                });
                return Err(HttpError::Deadline {
                    last: Box::new(last),
                });
            }
            let run = execute(
                &self.inner,
                request,
                &secrets,
                body_cap,
                policy.retry_after_cap,
                attempt,
            );
            let outcome = match tokio::time::timeout(limit, run).await {
                Ok(outcome) => outcome,
                Err(_) if cut_by_deadline => {
                    tracing::warn!(
                        label,
                        attempt,
                        max,
                        "run budget reached during the attempt; giving up"
                    );
                    let last = HttpError::Timeout { attempts: attempt };
                    return Err(HttpError::Deadline {
                        last: Box::new(last),
                    });
                }
                Err(_) => Outcome::Retryable {
                    error: HttpError::Timeout { attempts: attempt },
                    retry_after: None,
                },
            };

            let (error, retry_after) = match outcome {
                Outcome::Success(ok) => {
                    tracing::debug!(
                        label,
                        status = ok.status,
                        attempt,
                        max,
                        "HTTP request succeeded"
                    );
                    return Ok(HttpResponse {
                        status: ok.status,
                        headers: ok.headers,
                        body: ok.body,
                        attempts: attempt,
                        waited,
                    });
                }
                Outcome::Fatal(error) => {
                    tracing::debug!(label, attempt, max, outcome = %short(&error), "HTTP request failed; not retryable");
                    return Err(error);
                }
                Outcome::Retryable { error, retry_after } => (error, retry_after),
            };
            if attempt == max {
                tracing::warn!(label, attempt, max, outcome = %short(&error), "HTTP request failed; giving up after the last attempt");
                return Err(error);
            }
            let delay = next_delay(policy, attempt, retry_after, rand::random::<f64>());
            if let Some(deadline) = ctx.deadline
                && Instant::now() + delay.delay > deadline
            {
                tracing::warn!(label, attempt, max, outcome = %short(&error), delay_ms = delay.delay.as_millis() as u64,
                    "HTTP request failed; the retry delay would cross the run budget, giving up");
                return Err(HttpError::Deadline {
                    last: Box::new(error),
                });
            }
            tracing::debug!(label, attempt, max, outcome = %short(&error), delay_ms = delay.delay.as_millis() as u64,
                reason = %delay.reason, sleep = policy.sleep, "HTTP request failed; retrying");
            if policy.sleep {
                tokio::time::sleep(delay.delay).await;
            }
            waited += delay.delay;
            last = Some(error);
        }
        unreachable!("the loop returns on its last attempt")
    }
}

/// The per-attempt time limit, and whether the deadline (not `request_timeout`) set it.
fn attempt_limit(request_timeout: Duration, deadline: Option<Instant>) -> (Duration, bool) {
    match deadline {
        Some(deadline) => {
            let remaining = deadline.saturating_duration_since(Instant::now());
            if remaining < request_timeout {
                (remaining, true)
            } else {
                (request_timeout, false)
            }
        }
        None => (request_timeout, false),
    }
}

/// The limiter's refusal, but reporting the previous attempt's failure when there was one.
fn wrap_deadline(last: Option<HttpError>, limiter_error: HttpError) -> HttpError {
    match last {
        Some(last) => HttpError::Deadline {
            last: Box::new(last),
        },
        None => limiter_error,
    }
}

/// A one-word-ish description for logs (no body, no URL).
fn short(error: &HttpError) -> String {
    match error {
        HttpError::Status { status, .. } => format!("status {status}"),
        HttpError::Timeout { .. } => "timeout".into(),
        HttpError::Connect { detail, .. } => format!("connect: {detail}"),
        HttpError::Request { detail, .. } => format!("request: {detail}"),
        other => other.to_string(),
    }
}
