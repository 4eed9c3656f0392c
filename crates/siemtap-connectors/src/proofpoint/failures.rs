//! HTTP outcomes → error events with operator messages (spec §1.5). Details name the endpoint
//! path and the window, never a URL with credentials; the principal is removed from body
//! excerpts (the HTTP layer already removes the Authorization value and the secret).

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

use crate::http_failure::{self, Wording};

fn status_message(code: ErrorCode, status: u16) -> String {
    match code {
        ErrorCode::ApiHttp400 => "Bad request \u{2014} the window may be older than the API's look-back or longer than 1 hour".to_string(),
        ErrorCode::ApiHttp401 => "Authentication failed \u{2014} verify PP_PRINCIPAL and PP_SECRET (TAP service credentials) are correct and not revoked".to_string(),
        ErrorCode::ApiHttp429 => "Proofpoint TAP API rate limit or daily quota (1,800 requests per 24 h) reached \u{2014} the stream resumes from its checkpoint on a later run".to_string(),
        ErrorCode::ApiHttp500 => "Proofpoint TAP API internal server error".to_string(),
        _ => format!("Proofpoint TAP API returned unexpected HTTP {status} status"),
    }
}

/// The error event for a failed request to `endpoint` (a path). `context` is appended to the
/// detail (e.g. `interval=…`); `principal` is redacted from server-provided text.
pub fn from_http(
    origin: &str,
    endpoint: &str,
    context: &str,
    principal: &str,
    err: &HttpError,
) -> Failure {
    let wording = Wording {
        api: "Proofpoint TAP API",
        status: &status_message,
        timeout: "Proofpoint TAP API request timed out",
        unreachable: "Proofpoint TAP API unreachable \u{2014} verify network connectivity to tap-api-v2.proofpoint.com (or PP_BASE_URL)",
        body_cap_hint: "",
    };
    http_failure::from_http(origin, endpoint, context, err, &wording, &|text| {
        scrub(text, principal)
    })
}

/// The error event for a 2xx body that is not what the API documents.
pub fn invalid_response(origin: &str, endpoint: &str, context: &str, what: &str) -> Failure {
    http_failure::invalid_response("Proofpoint TAP API", origin, endpoint, 200, context, what)
}

/// Removes the principal (a credential identifier) from server-provided text.
fn scrub(text: &str, principal: &str) -> String {
    if principal.len() < 4 {
        return text.to_string();
    }
    text.replace(principal, "[REDACTED]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_failures_carry_code_status_and_window() {
        let err = HttpError::Status {
            status: 429,
            body_excerpt: "quota exceeded for CANARY-principal".into(),
            retry_after: None,
            attempts: 5,
        };
        let f = from_http(
            "siem",
            "/v2/siem/all",
            "interval=2026-04-01T00:00:00Z/2026-04-01T01:00:00Z",
            "CANARY-principal",
            &err,
        );
        assert_eq!(f.code, ErrorCode::ApiHttp429);
        assert_eq!(f.http_status, Some(429));
        assert_eq!(
            f.detail.as_deref(),
            Some(
                "endpoint=/v2/siem/all status=429 interval=2026-04-01T00:00:00Z/2026-04-01T01:00:00Z quota exceeded for [REDACTED]"
            )
        );
        for (status, code) in [
            (400, ErrorCode::ApiHttp400),
            (401, ErrorCode::ApiHttp401),
            (500, ErrorCode::ApiHttp500),
            (503, ErrorCode::ApiHttpUnexpected),
        ] {
            let err = HttpError::Status {
                status,
                body_excerpt: String::new(),
                retry_after: None,
                attempts: 1,
            };
            assert_eq!(
                from_http("people", "/v2/people/vap", "", "p", &err).code,
                code
            );
        }
        let wrapped = HttpError::Deadline {
            last: Box::new(HttpError::Timeout { attempts: 2 }),
        };
        let f = from_http("siem", "/v2/siem/all", "", "p", &wrapped);
        assert_eq!(f.code, ErrorCode::ApiTimeout);
        assert_eq!(f.http_status, None);
    }
}
