//! The position of one stream.

use crate::Ledger;

/// Position of one stream (`key` is e.g. `"signin"`, or `"client-a.signin"` for a tenant).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamState {
    /// Connector-opaque position; for 1Password a JSON string.
    pub cursor: Option<serde_json::Value>,
    /// Time of the last successful poll. Stored with whole-second precision.
    pub last_poll: Option<jiff::Timestamp>,
    /// Event time of the newest delivered event. Stored with full precision.
    pub high_water: Option<jiff::Timestamp>,
    /// Ids recently delivered (dedupe across overlap re-reads).
    pub ledger: Ledger,
    /// What the stream learned about the vendor that is not a position (connector-opaque;
    /// e.g. Proofpoint's window width for a dense tenant). Stored as `<key>_tuning`.
    pub tuning: Option<serde_json::Value>,
}

impl StreamState {
    /// Whether nothing at all is recorded (such a stream is not written to the file).
    pub fn is_empty(&self) -> bool {
        self.cursor.is_none()
            && self.last_poll.is_none()
            && self.high_water.is_none()
            && self.ledger.is_empty()
            && self.tuning.is_none()
    }

    /// This state as it reads back from the file: `last_poll` truncated to whole seconds,
    /// a JSON `null` cursor treated as absent.
    pub(crate) fn normalized(mut self) -> Self {
        self.last_poll = self.last_poll.map(crate::format::floor_to_second);
        if self.cursor.as_ref().is_some_and(serde_json::Value::is_null) {
            self.cursor = None;
        }
        if self.tuning.as_ref().is_some_and(serde_json::Value::is_null) {
            self.tuning = None;
        }
        self
    }
}

/// What one delivered page changes in a stream, applied in place by
/// [`crate::StateStore::apply`] (no copy of the stream's ledger).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StreamUpdate {
    /// The new cursor; `None` keeps the current one.
    pub cursor: Option<serde_json::Value>,
    /// When the page was polled.
    pub last_poll: Option<jiff::Timestamp>,
    /// Newest event time of the page; the stored high-water mark only moves forward.
    pub newest: Option<jiff::Timestamp>,
    /// Ids the page delivered, each with its event time (epoch seconds).
    pub delivered: Vec<(String, i64)>,
    /// Whether the page emitted lines (events or notices): then its position is written with
    /// it; a page that emitted nothing may be written later (see [`crate::StateStore::apply`]).
    pub emitted: bool,
    /// The stream's new tuning value; `None` keeps the current one, `Some(null)` removes it.
    pub tuning: Option<serde_json::Value>,
    /// Ledger retention `(window seconds, max entries)`: after the update, ids older than the
    /// high-water mark minus the window are dropped, then the oldest beyond the cap.
    pub retention: Option<(i64, usize)>,
}
