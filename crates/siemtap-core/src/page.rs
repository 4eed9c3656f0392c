use std::borrow::Cow;

use crate::Failure;

/// One vendor record as a stream returned it, before shaping.
#[derive(Clone, Debug, PartialEq)]
pub struct VendorEvent {
    /// The discriminator value, e.g. `signin_attempt` or `clicksPermitted`.
    pub event_type: Cow<'static, str>,
    /// The vendor id used for dedupe (and by the simulators' oracle). `None` disables dedupe
    /// for this record.
    pub id: Option<String>,
    /// The vendor event time, when the record has one; drives the high-water mark and the
    /// ledger horizon.
    pub time: Option<jiff::Timestamp>,
    /// The record, verbatim, in vendor key order.
    pub record: serde_json::Map<String, serde_json::Value>,
}

/// What one request to a stream produced.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// Records in delivery order.
    pub events: Vec<VendorEvent>,
    /// The stream position after these records (connector-opaque; stored as `<key>_cursor`).
    pub cursor: Option<serde_json::Value>,
    /// Whether the stream has more to read now.
    pub more: bool,
    /// Failures to report while the stream carries on (e.g. a rejected cursor that was
    /// recovered). Each becomes one error event, emitted before the page's records.
    pub notices: Vec<Failure>,
}
