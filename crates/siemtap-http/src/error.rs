//! The one error type of this crate.

use std::time::Duration;

/// Every failure of [`crate::HttpClient::send`] and friends.
///
/// No variant ever carries a header value, a query string or an unredacted body.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    /// The final answer was not 2xx.
    #[error("HTTP {status} after {attempts} attempt(s){}: {body_excerpt}", fmt_retry_after(.retry_after))]
    Status {
        /// HTTP status code.
        status: u16,
        /// First 400 chars of the body, lossy UTF-8, credentials redacted.
        body_excerpt: String,
        /// Parsed and capped `Retry-After`, if the server sent one.
        retry_after: Option<Duration>,
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt timed out (connect or total request timeout).
    #[error(
        "request timed out after {attempts} attempt(s); raise request_timeout/connect_timeout or check the network"
    )]
    Timeout {
        /// Attempts made.
        attempts: u32,
    },
    /// Connection refused / reset / closed, DNS failure, TLS handshake failure, or a body cut
    /// off mid-read (the connection closed before `Content-Length` bytes arrived).
    #[error("connection failed after {attempts} attempt(s): {detail}")]
    Connect {
        /// reqwest error without URL, with its sources chained.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The request could not be built or the response could not be decoded (other than a
    /// body cut off mid-read, which is `Connect`); not retried.
    #[error("request failed (not retried) after {attempts} attempt(s): {detail}")]
    Request {
        /// reqwest error without URL, with its sources chained.
        detail: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The response body is larger than `max_body_bytes`; reading stopped at the cap.
    #[error(
        "response body exceeds the limit of {limit} bytes; raise max_body_bytes or request smaller pages"
    )]
    BodyTooLarge {
        /// The configured cap in bytes.
        limit: u64,
    },
    /// The run budget (deadline) was reached while retrying or waiting for the rate limiter.
    #[error("run budget reached; gave up waiting to retry. Last failure: {last}")]
    Deadline {
        /// The failure that would otherwise have been retried.
        last: Box<HttpError>,
    },
    /// Waiting for a client-side rate-limit token would take this long (only inside `Deadline`).
    #[error("client-side rate limit needs a wait of {wait:?}")]
    RateLimited {
        /// How long the limiter would have made the caller wait.
        wait: Duration,
    },
    /// Plain http to a non-loopback host.
    #[error(
        "refusing insecure URL {url}: use https (plain http is only allowed for localhost, 127.0.0.0/8 and ::1)"
    )]
    InsecureUrl {
        /// The URL, redacted (no userinfo, query values replaced).
        url: String,
    },
    /// The URL cannot be used at all.
    #[error("invalid URL {url}: {reason}")]
    InvalidUrl {
        /// The URL, redacted.
        url: String,
        /// Why.
        reason: String,
    },
    /// The client could not be constructed.
    #[error("HTTP client setup failed: {reason}")]
    Setup {
        /// What went wrong, naming the file and the fix.
        reason: String,
    },
}

fn fmt_retry_after(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (Retry-After {}s)", d.as_secs()),
        None => String::new(),
    }
}

impl HttpError {
    /// The HTTP status of a `Status` error, looking through `Deadline`.
    pub fn status(&self) -> Option<u16> {
        match self {
            HttpError::Status { status, .. } => Some(*status),
            HttpError::Deadline { last } => last.status(),
            _ => None,
        }
    }

    /// True for `Deadline` (the run budget ran out; resume on the next run).
    pub fn is_deadline(&self) -> bool {
        matches!(self, HttpError::Deadline { .. })
    }

    /// Attempts made, when the variant records them (looks through `Deadline`).
    pub fn attempts(&self) -> Option<u32> {
        match self {
            HttpError::Status { attempts, .. }
            | HttpError::Timeout { attempts }
            | HttpError::Connect { attempts, .. }
            | HttpError::Request { attempts, .. } => Some(*attempts),
            HttpError::Deadline { last } => last.attempts(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_looks_through_deadline() {
        let inner = HttpError::Status {
            status: 429,
            body_excerpt: "slow down".into(),
            retry_after: Some(Duration::from_secs(7)),
            attempts: 2,
        };
        let text = inner.to_string();
        assert!(
            text.contains("429") && text.contains("Retry-After 7s"),
            "{text}"
        );
        let e = HttpError::Deadline {
            last: Box::new(inner),
        };
        assert_eq!(e.status(), Some(429));
        assert_eq!(e.attempts(), Some(2));
        assert!(e.is_deadline());
        assert_eq!(HttpError::Timeout { attempts: 1 }.status(), None);
    }
}
