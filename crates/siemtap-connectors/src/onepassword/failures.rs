//! HTTP outcomes → error events with the reference integration's operator messages (§1.5).

use siemtap_core::{ErrorCode, Failure};
use siemtap_http::HttpError;

use crate::http_failure::{self, Wording};

const API: &str = "1Password Events API";

/// The reference integration's operator message for a final status.
fn status_message(code: ErrorCode, status: u16) -> String {
    match code {
        ErrorCode::ApiHttp400 => {
            "Bad request \u{2014} cursor may be expired or request body malformed".to_string()
        }
        ErrorCode::ApiHttp401 => {
            "Authentication failed \u{2014} verify OP_BEARER_TOKEN is correct and not expired"
                .to_string()
        }
        ErrorCode::ApiHttp429 => {
            "1Password Events API rate limit reached \u{2014} retry after backoff".to_string()
        }
        ErrorCode::ApiHttp500 => "1Password Events API internal server error".to_string(),
        _ => format!("1Password Events API returned unexpected HTTP {status} status"),
    }
}

/// The error event for a failed request to `endpoint` (a path, never a full URL) under the
/// configured `base_url` (named, redacted, in the connection-error message).
pub fn from_http(origin: &str, base_url: &str, endpoint: &str, err: &HttpError) -> Failure {
    let unreachable = format!(
        "1Password Events API unreachable \u{2014} verify network connectivity to {} (OP_BASE_URL)",
        siemtap_http::redact_url(base_url)
    );
    let wording = Wording {
        api: API,
        status: &status_message,
        timeout: "1Password Events API request timed out",
        unreachable: &unreachable,
        body_cap_hint: "",
    };
    http_failure::from_http_plain(origin, endpoint, err, &wording)
}

/// The error event for a 2xx body that is not what the API documents.
pub fn invalid_response(origin: &str, endpoint: &str, what: &str) -> Failure {
    http_failure::invalid_response(API, origin, endpoint, 200, "", what)
}
