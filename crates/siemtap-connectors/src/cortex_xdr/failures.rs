//! HTTP outcomes → error events (spec §1.5). Messages keep the reference integration's
//! `HTTP Error <status>: <reason>` form (rule 100599 prints it) and add the fix.

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

use crate::http_failure::{self, Wording};

/// Text that must never appear in an event: the tenant FQDN (a secret, §4.8), which a TLS or
/// DNS error text could carry. Replaced by `[XDR_FQDN]`.
#[derive(Clone, Debug, Default)]
pub struct Scrub {
    words: Vec<String>,
}

impl Scrub {
    /// Scrubs `fqdn` (and `api-<fqdn>`) when one was configured.
    pub fn new(fqdn: Option<&str>) -> Self {
        let words = fqdn
            .filter(|f| f.len() >= 4)
            .map(|f| vec![format!("api-{f}"), f.to_string()])
            .unwrap_or_default();
        Self { words }
    }

    /// `text` with every scrubbed word replaced (ASCII case-insensitive).
    pub fn text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for word in &self.words {
            let lower_word = word.to_ascii_lowercase();
            let mut from = 0;
            while let Some(pos) = out[from..].to_ascii_lowercase().find(&lower_word) {
                let at = from + pos;
                out.replace_range(at..at + word.len(), "[XDR_FQDN]");
                from = at + "[XDR_FQDN]".len();
            }
        }
        out
    }

    /// `failure` with its message and detail scrubbed.
    pub fn failure(&self, mut failure: Failure) -> Failure {
        if self.words.is_empty() {
            return failure;
        }
        failure.message = self.text(&failure.message);
        failure.detail = failure.detail.map(|d| self.text(&d));
        failure
    }
}

fn reason(status: u16) -> &'static str {
    reqwest::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unexpected Status")
}

/// The reference `HTTP Error <status>: <reason>` message plus the fix.
fn status_message(_: ErrorCode, status: u16) -> String {
    let hint = match status {
        400 => " \u{2014} the API rejected the request body",
        401 => {
            " \u{2014} verify XDR_API_KEY, XDR_API_KEY_ID and XDR_SECURITY_LEVEL (advanced keys also need the system clock within minutes of real time)"
        }
        402 => " \u{2014} the tenant's license does not include the public API",
        403 => " \u{2014} the API key's role may not read this endpoint",
        429 => {
            " \u{2014} Cortex XDR rate limit reached after retries; the stream resumes from its checkpoint next run"
        }
        500..=599 => {
            " \u{2014} Cortex XDR server error; the stream resumes from its checkpoint next run"
        }
        _ => "",
    };
    format!("HTTP Error {status}: {}{hint}", reason(status))
}

/// The error event for a failed request to `endpoint` (a path, never a URL).
pub fn from_http(origin: &str, endpoint: &str, err: &HttpError) -> Failure {
    let wording = Wording {
        api: "Cortex XDR API",
        status: &status_message,
        timeout: "Cortex XDR API request timed out; the stream resumes from its checkpoint next run",
        unreachable: "Cortex XDR API unreachable \u{2014} verify network connectivity to the tenant (XDR_FQDN or XDR_BASE_URL)",
        body_cap_hint: "",
    };
    http_failure::from_http_plain(origin, endpoint, err, &wording)
}

/// The error event for a 2xx body that is not what the API documents.
pub fn invalid_response(origin: &str, endpoint: &str, what: &str) -> Failure {
    http_failure::invalid_response("Cortex XDR API", origin, endpoint, 200, "", what)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_messages_follow_the_reference_form() {
        let e = HttpError::Status {
            status: 401,
            body_excerpt: r#"{"reply":{"err_code":401}}"#.into(),
            retry_after: None,
            attempts: 1,
        };
        let f = from_http("alerts", "/public_api/v1/alerts/get_alerts", &e);
        assert_eq!(f.code, ErrorCode::ApiHttp401);
        assert!(
            f.message.starts_with("HTTP Error 401: Unauthorized"),
            "{}",
            f.message
        );
        assert_eq!(f.http_status, Some(401));
        let wrapped = HttpError::Deadline {
            last: Box::new(HttpError::Status {
                status: 429,
                body_excerpt: String::new(),
                retry_after: None,
                attempts: 3,
            }),
        };
        let f = from_http("incidents", "/x", &wrapped);
        assert_eq!(f.code, ErrorCode::ApiHttp429);
        assert!(f.message.starts_with("HTTP Error 429: Too Many Requests"));
        let f = from_http(
            "alerts",
            "/x",
            &HttpError::Status {
                status: 503,
                body_excerpt: String::new(),
                retry_after: None,
                attempts: 5,
            },
        );
        assert_eq!(f.code, ErrorCode::ApiHttpUnexpected);
    }

    #[test]
    fn scrub_removes_the_fqdn_in_any_case() {
        let s = Scrub::new(Some("tenant.xdr.example.com"));
        let f = Failure::new(ErrorCode::ApiConnectionError, "alerts", "x")
            .with_detail("tls: certificate not valid for name \"API-Tenant.xdr.example.com\"; tenant.xdr.example.com");
        let f = s.failure(f);
        let d = f.detail.unwrap();
        assert!(!d.to_ascii_lowercase().contains("tenant.xdr"), "{d}");
        assert_eq!(d.matches("[XDR_FQDN]").count(), 2, "{d}");
    }
}
