//! siemtap-http: the one HTTP client every connector uses.
//!
//! * TLS with rustls + ring and reqwest's platform verifier (system roots, `SSL_CERT_FILE`),
//!   plus optional extra PEM roots (`ca_file`). Plain http only to loopback hosts.
//! * Retries of 429/500/502/503/504, timeouts and connection failures with full-jitter
//!   exponential backoff, `Retry-After` in both forms (capped), and a run deadline.
//! * A per-credential [`RateLimiter`] (token bucket + rolling hour).
//! * Errors never carry header values, query strings or unredacted bodies
//!   (see [`redact_text`] for what is redacted).

mod attempt;
mod backoff;
mod client;
mod config;
mod error;
mod limiter;
mod redact;
mod redact_forms;
mod retry_after;
mod tls;
mod url_check;

pub use backoff::{Delay, DelayReason, next_delay};
pub use client::{HttpClient, HttpResponse, RequestContext};
pub use config::{HttpConfig, NO_RETRY_SLEEP_ENV, RetryPolicy};
pub use error::HttpError;
pub use limiter::RateLimiter;
pub use redact::redact_text;
pub use retry_after::parse_retry_after;
pub use url_check::redact_url;

/// Re-exported so callers name the same types this crate uses.
pub use reqwest;
