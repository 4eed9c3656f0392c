//! What every stream of one Proofpoint source shares: the HTTP client, Basic auth, the
//! client-side limiter and the settings.

use std::sync::Arc;
use std::time::Duration;

use siemtap_http::{HttpClient, HttpError, RateLimiter, RequestContext};
use siemtap_secrets::Secret;

use super::quota::DAILY_BUDGET;
use super::settings::Settings;

/// The API of one credential.
pub struct Api {
    /// The shared HTTP client.
    pub http: HttpClient,
    /// Base URL without a trailing slash.
    pub base_url: String,
    /// Service principal (Basic auth user).
    pub principal: Secret,
    /// Service secret (Basic auth password).
    pub secret: Secret,
    /// One budget per credential, shared by both streams.
    pub limiter: RateLimiter,
    /// Validated settings.
    pub settings: Arc<Settings>,
}

impl Api {
    /// The API of `principal`/`secret`. The limiter allows `requests_per_second` and at most
    /// half the daily budget in any rolling hour, so a runaway run cannot spend a day's quota.
    pub fn new(
        http: HttpClient,
        principal: Secret,
        secret: Secret,
        settings: Arc<Settings>,
    ) -> Self {
        let rps = settings.requests_per_second;
        let limiter = RateLimiter::new(
            rps,
            rps.ceil().clamp(1.0, 100.0) as u32,
            Some((DAILY_BUDGET / 2) as u32),
        );
        Self {
            http,
            base_url: settings.base_url.clone(),
            principal,
            secret,
            limiter,
            settings,
        }
    }

    /// `GET path?query` with Basic auth and retries. `Ok(None)` for 204 No Content.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        self.get_capped(path, query, deadline, None).await
    }

    /// [`get`](Self::get) with a per-request body cap (at most the client's global cap): a
    /// larger body is abandoned while it streams, as `HttpError::BodyTooLarge`.
    pub async fn get_capped(
        &self,
        path: &str,
        query: &[(&str, String)],
        deadline: Option<tokio::time::Instant>,
        max_body_bytes: Option<u64>,
    ) -> Result<Option<Vec<u8>>, HttpError> {
        let url = format!("{}{path}", self.base_url);
        let label = format!("GET {path}");
        let request = RequestContext {
            label: &label,
            limiter: Some(&self.limiter),
            deadline,
        };
        let response = self
            .http
            .send_capped(&request, max_body_bytes, |client| {
                client
                    .get(&url)
                    .query(query)
                    // The one place the credentials are read: the Authorization header.
                    .basic_auth(self.principal.expose(), Some(self.secret.expose()))
                    .header("Accept", "application/json")
                    .timeout(attempt_timeout(&self.http, deadline))
            })
            .await?;
        Ok((response.status != 204).then_some(response.body))
    }

    /// The principal, for scrubbing server text (never logged or emitted).
    pub fn principal_text(&self) -> &str {
        self.principal.expose()
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
