//! HTTP outcomes → error events for declarative connectors (generic operator wording).

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

use crate::http_failure::{self, Wording};

/// The error event for a failed request to `endpoint` (a path, never a full URL). `secrets`
/// names the secrets to check on an authentication failure.
pub(crate) fn from_http(
    origin: &str,
    endpoint: &str,
    err: &HttpError,
    secrets: &[&str],
) -> Failure {
    let status = |_: ErrorCode, status: u16| {
        match status {
        400 => "Bad request \u{2014} the stored cursor may be expired or a request parameter is invalid".to_string(),
        401 => format!(
            "Authentication failed \u{2014} verify the secret(s) {} are correct and not expired",
            secrets.join(", ")
        ),
        403 => "Forbidden \u{2014} the credential lacks permission for this endpoint".to_string(),
        429 => "API rate limit reached \u{2014} retry after backoff (lower [limits] in the connector file)".to_string(),
        500 => "API internal server error".to_string(),
        s => format!("API returned unexpected HTTP {s} status"),
    }
    };
    let wording = Wording {
        api: "API",
        status: &status,
        timeout: "API request timed out",
        unreachable: "API unreachable \u{2014} verify network connectivity and the base URL setting",
        body_cap_hint: "; lower the page size (`limit`)",
    };
    http_failure::from_http_plain(origin, endpoint, err, &wording)
}

/// The error event for a 2xx body that is not what the connector file describes.
pub(crate) fn invalid_response(origin: &str, endpoint: &str, status: u16, what: &str) -> Failure {
    http_failure::invalid_response("API", origin, endpoint, status, "", what)
}
