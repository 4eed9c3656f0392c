use crate::ErrorCode;

/// Longest `error_message` an error event carries (spec §1.5).
pub const MAX_MESSAGE_CHARS: usize = 500;
/// Longest `error_detail` an error event carries: `endpoint=… status=…` plus a body excerpt.
pub const MAX_DETAIL_CHARS: usize = 500;

/// One failure, reported as exactly one error event. Built by connectors (which know the
/// operator wording) and by the runner (state and sink failures). Never holds a secret:
/// messages are written by siemtap, and response bodies arrive already redacted.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// The taxonomy code rules match on.
    pub code: ErrorCode,
    /// Where it happened: a stream name, `orchestrator` or `startup`.
    pub origin: String,
    /// Operator-facing text (at most [`MAX_MESSAGE_CHARS`]).
    pub message: String,
    /// Optional detail, e.g. `endpoint=/api/v2/signinattempts status=400 …`.
    pub detail: Option<String>,
    /// The final HTTP status, when there was one.
    pub http_status: Option<u16>,
    /// For `COLLECTION_GAP`: the skipped interval, RFC 3339.
    pub gap: Option<Box<(String, String)>>,
}

impl Failure {
    /// A failure with a code, an origin and a message (cut to the maximum length).
    pub fn new(code: ErrorCode, origin: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code,
            origin: origin.into(),
            message: truncate_chars(message.into(), MAX_MESSAGE_CHARS),
            detail: None,
            http_status: None,
            gap: None,
        }
    }

    /// Adds a detail (cut to the maximum length).
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(truncate_chars(detail.into(), MAX_DETAIL_CHARS));
        self
    }

    /// Records the final HTTP status.
    pub fn with_status(mut self, status: u16) -> Self {
        self.http_status = Some(status);
        self
    }

    /// Records the interval a `COLLECTION_GAP` skipped.
    pub fn with_gap(mut self, start: impl Into<String>, end: impl Into<String>) -> Self {
        self.gap = Some(Box::new((start.into(), end.into())));
        self
    }
}

/// Cuts a string to at most `max` characters (not bytes), on a character boundary.
pub fn truncate_chars(mut s: String, max: usize) -> String {
    if let Some((idx, _)) = s.char_indices().nth(max) {
        s.truncate(idx);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_cut_on_char_boundary() {
        let f = Failure::new(ErrorCode::ApiTimeout, "signin", "é".repeat(600));
        assert_eq!(f.message.chars().count(), MAX_MESSAGE_CHARS);
    }
}
