//! HTTP outcomes → error events for declarative connectors (generic operator wording).

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

/// The error event for a failed request to `endpoint` (a path, never a full URL). `secrets`
/// names the secrets to check on an authentication failure.
pub(crate) fn from_http(
    origin: &str,
    endpoint: &str,
    err: &HttpError,
    secrets: &[&str],
) -> Failure {
    let err = match err {
        HttpError::Deadline { last } => last.as_ref(),
        other => other,
    };
    match err {
        HttpError::Status {
            status,
            body_excerpt,
            ..
        } => {
            let code = ErrorCode::for_status(*status);
            let message = match *status {
                400 => "Bad request \u{2014} the stored cursor may be expired or a request parameter is invalid".to_string(),
                401 => format!(
                    "Authentication failed \u{2014} verify the secret(s) {} are correct and not expired",
                    secrets.join(", ")
                ),
                403 => "Forbidden \u{2014} the credential lacks permission for this endpoint".to_string(),
                429 => "API rate limit reached \u{2014} retry after backoff (lower [limits] in the connector file)".to_string(),
                500 => "API internal server error".to_string(),
                s => format!("API returned unexpected HTTP {s} status"),
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
        HttpError::Timeout { .. } => {
            Failure::new(ErrorCode::ApiTimeout, origin, "API request timed out")
                .with_detail(format!("endpoint={endpoint}"))
        }
        HttpError::Connect { detail, .. } => Failure::new(
            ErrorCode::ApiConnectionError,
            origin,
            "API unreachable \u{2014} verify network connectivity and the base URL setting",
        )
        .with_detail(format!("endpoint={endpoint} {detail}")),
        HttpError::BodyTooLarge { limit } => Failure::new(
            ErrorCode::ApiInvalidResponse,
            origin,
            format!(
                "API response exceeded the {limit}-byte response cap; lower the page size (`limit`)"
            ),
        )
        .with_detail(format!("endpoint={endpoint}")),
        HttpError::InsecureUrl { .. } | HttpError::InvalidUrl { .. } => {
            Failure::new(ErrorCode::ConfigInvalid, origin, err.to_string())
                .with_detail(format!("endpoint={endpoint}"))
        }
        other => Failure::new(
            ErrorCode::ApiUnexpectedError,
            origin,
            format!("request failed: {other}"),
        )
        .with_detail(format!("endpoint={endpoint}")),
    }
}

/// The error event for a 2xx body that is not what the connector file describes.
pub(crate) fn invalid_response(origin: &str, endpoint: &str, status: u16, what: &str) -> Failure {
    Failure::new(
        ErrorCode::ApiInvalidResponse,
        origin,
        format!("API returned an invalid response: {what}"),
    )
    .with_detail(format!("endpoint={endpoint} status={status}"))
}
