use std::fmt;

/// The `error_code` taxonomy of error events (spec/vendors.md §1.5). Wazuh rules match these
/// strings exactly, so they never change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// HTTP 400.
    ApiHttp400,
    /// HTTP 401.
    ApiHttp401,
    /// HTTP 429 after retries.
    ApiHttp429,
    /// HTTP 500 after retries.
    ApiHttp500,
    /// Any other unexpected HTTP status (403, 502, 503, 504, ...).
    ApiHttpUnexpected,
    /// The request timed out.
    ApiTimeout,
    /// DNS, connect, TLS or reset.
    ApiConnectionError,
    /// The body was not what the API documents.
    ApiInvalidResponse,
    /// An unhandled failure inside a stream.
    ApiUnexpectedError,
    /// State unreadable or corrupt.
    StateReadError,
    /// State could not be written.
    StateWriteError,
    /// No credential at any tier, or an invalid credentials file.
    ConfigMissingCredential,
    /// Fatal failure outside any stream.
    OrchestratorFatal,
    /// A bad setting (siemtap-defined).
    ConfigInvalid,
    /// Data provably skipped (siemtap-defined).
    CollectionGap,
}

impl ErrorCode {
    /// The wire string, e.g. `API_HTTP_401`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiHttp400 => "API_HTTP_400",
            Self::ApiHttp401 => "API_HTTP_401",
            Self::ApiHttp429 => "API_HTTP_429",
            Self::ApiHttp500 => "API_HTTP_500",
            Self::ApiHttpUnexpected => "API_HTTP_UNEXPECTED",
            Self::ApiTimeout => "API_TIMEOUT",
            Self::ApiConnectionError => "API_CONNECTION_ERROR",
            Self::ApiInvalidResponse => "API_INVALID_RESPONSE",
            Self::ApiUnexpectedError => "API_UNEXPECTED_ERROR",
            Self::StateReadError => "STATE_READ_ERROR",
            Self::StateWriteError => "STATE_WRITE_ERROR",
            Self::ConfigMissingCredential => "CONFIG_MISSING_CREDENTIAL",
            Self::OrchestratorFatal => "ORCHESTRATOR_FATAL",
            Self::ConfigInvalid => "CONFIG_INVALID",
            Self::CollectionGap => "COLLECTION_GAP",
        }
    }

    /// The code for a final HTTP status (after retries).
    pub fn for_status(status: u16) -> Self {
        match status {
            400 => Self::ApiHttp400,
            401 => Self::ApiHttp401,
            429 => Self::ApiHttp429,
            500 => Self::ApiHttp500,
            _ => Self::ApiHttpUnexpected,
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
