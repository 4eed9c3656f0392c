//! HTTP outcomes → error events with the reference integration's operator messages (§1.5).

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

/// The error event for a failed request to `endpoint` (a path, never a full URL).
pub fn from_http(origin: &str, endpoint: &str, err: &HttpError) -> Failure {
    let err = match err {
        HttpError::Deadline { last } => last.as_ref(),
        other => other,
    };
    match err {
        HttpError::Status {
            status, body_excerpt, ..
        } => {
            let code = ErrorCode::for_status(*status);
            let message = match code {
                ErrorCode::ApiHttp400 => {
                    "Bad request \u{2014} cursor may be expired or request body malformed".to_string()
                }
                ErrorCode::ApiHttp401 => {
                    "Authentication failed \u{2014} verify OP_BEARER_TOKEN is correct and not expired".to_string()
                }
                ErrorCode::ApiHttp429 => {
                    "1Password Events API rate limit reached \u{2014} retry after backoff".to_string()
                }
                ErrorCode::ApiHttp500 => "1Password Events API internal server error".to_string(),
                _ => format!("1Password Events API returned unexpected HTTP {status} status"),
            };
            let mut detail = format!("endpoint={endpoint} status={status}");
            if !body_excerpt.is_empty() {
                detail.push(' ');
                detail.push_str(body_excerpt);
            }
            Failure::new(code, origin, message)
                .with_detail(detail)
                .with_status(*status)
        }
        HttpError::Timeout { .. } => Failure::new(
            ErrorCode::ApiTimeout,
            origin,
            "1Password Events API request timed out",
        )
        .with_detail(format!("endpoint={endpoint}")),
        HttpError::Connect { detail, .. } => Failure::new(
            ErrorCode::ApiConnectionError,
            origin,
            "1Password Events API unreachable \u{2014} verify network connectivity to events.1password.com (or OP_BASE_URL)",
        )
        .with_detail(format!("endpoint={endpoint} {detail}")),
        HttpError::BodyTooLarge { limit } => Failure::new(
            ErrorCode::ApiInvalidResponse,
            origin,
            format!("1Password Events API response exceeded the {limit}-byte response cap"),
        )
        .with_detail(format!("endpoint={endpoint}")),
        other => Failure::new(
            ErrorCode::ApiUnexpectedError,
            origin,
            format!("request to the 1Password Events API failed: {other}"),
        )
        .with_detail(format!("endpoint={endpoint}")),
    }
}

/// The error event for a 2xx body that is not what the API documents.
pub fn invalid_response(origin: &str, endpoint: &str, what: &str) -> Failure {
    Failure::new(
        ErrorCode::ApiInvalidResponse,
        origin,
        format!("1Password Events API returned an invalid response: {what}"),
    )
    .with_detail(format!("endpoint={endpoint} status=200"))
}
