//! One attempt: send, classify the outcome, read the body under the cap.

use std::time::Duration;

use reqwest::header::{HeaderMap, RETRY_AFTER};

use crate::HttpError;
use crate::redact::excerpt;
use crate::retry_after::parse_retry_after;
use crate::tls::is_tls_failure;

/// Bytes of an error body read for the excerpt (the rest is not read).
const ERROR_BODY_BYTES: usize = 8 * 1024;

/// Statuses that are retried.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 500 | 502 | 503 | 504)
}

/// A 2xx answer with its full body.
pub(crate) struct Success {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Vec<u8>,
}

/// What one attempt produced.
pub(crate) enum Outcome {
    Success(Success),
    /// Worth another attempt; `retry_after` is the server's (uncapped) wish.
    Retryable {
        error: HttpError,
        retry_after: Option<Duration>,
    },
    Fatal(HttpError),
}

/// Execute one built request. `sent_secrets` are redacted from error excerpts.
pub(crate) async fn execute(
    client: &reqwest::Client,
    request: reqwest::Request,
    sent_secrets: &[String],
    max_body_bytes: u64,
    retry_after_cap: Duration,
    attempt: u32,
) -> Outcome {
    let mut response = match client.execute(request).await {
        Ok(response) => response,
        Err(e) => return classify(e, attempt),
    };
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    if response.status().is_success() {
        return match read_capped(&mut response, max_body_bytes).await {
            Ok(body) => Outcome::Success(Success {
                status,
                headers,
                body,
            }),
            Err(ReadError::TooLarge) => Outcome::Fatal(HttpError::BodyTooLarge {
                limit: max_body_bytes,
            }),
            Err(ReadError::Transport(e)) => classify(e, attempt),
        };
    }
    let retry_after = headers
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
    let body = read_prefix(&mut response, ERROR_BODY_BYTES).await;
    let error = HttpError::Status {
        status,
        body_excerpt: excerpt(&body, sent_secrets),
        retry_after: retry_after.map(|d| d.min(retry_after_cap)),
        attempts: attempt,
    };
    if is_retryable_status(status) {
        Outcome::Retryable { error, retry_after }
    } else {
        Outcome::Fatal(error)
    }
}

/// Map a reqwest error to our error and decide whether it is retried.
pub(crate) fn classify(e: reqwest::Error, attempts: u32) -> Outcome {
    let e = e.without_url();
    let detail = error_chain(&e);
    if e.is_timeout() {
        return Outcome::Retryable {
            error: HttpError::Timeout { attempts },
            retry_after: None,
        };
    }
    if is_tls_failure(&e) {
        return Outcome::Fatal(HttpError::Connect { detail, attempts });
    }
    if e.is_connect() || e.is_request() || e.is_body() || is_cut_body(&e) {
        // Refused, reset, closed before the answer completed, body cut off: transient.
        return Outcome::Retryable {
            error: HttpError::Connect { detail, attempts },
            retry_after: None,
        };
    }
    Outcome::Fatal(HttpError::Request { detail, attempts })
}

/// A body that stopped arriving mid-read ("end of file before message length reached", a
/// reset while streaming): reqwest reports it as a *decode* error, but its cause is a body
/// read error on the connection, as transient as a reset before the answer.
fn is_cut_body(e: &reqwest::Error) -> bool {
    if !e.is_decode() {
        return false;
    }
    let mut current = std::error::Error::source(e);
    while let Some(inner) = current {
        if inner
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_body)
        {
            return true;
        }
        current = inner.source();
    }
    false
}

/// `err: source: source ...`, skipping repeats. The caller strips the URL first.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    parts.join(": ")
}

enum ReadError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Read the whole (decompressed) body, refusing as soon as it would pass `limit`.
async fn read_capped(response: &mut reqwest::Response, limit: u64) -> Result<Vec<u8>, ReadError> {
    if response.content_length().is_some_and(|n| n > limit) {
        return Err(ReadError::TooLarge);
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
    while let Some(chunk) = response.chunk().await.map_err(ReadError::Transport)? {
        if (body.len() + chunk.len()) as u64 > limit {
            return Err(ReadError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Read at most about `max` bytes of an error body; transport errors just end the excerpt.
async fn read_prefix(response: &mut reqwest::Response, max: usize) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < max {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk[..chunk.len().min(max - body.len())]),
            _ => break,
        }
    }
    body
}
