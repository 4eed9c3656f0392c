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
    pub record: Record,
}

/// A vendor record: parsed (for connectors that rewrite fields) or the raw JSON text of an
/// object (shaped in one streaming pass, without building a tree: the fast path).
#[derive(Clone, Debug)]
pub enum Record {
    /// A parsed object.
    Object(serde_json::Map<String, serde_json::Value>),
    /// The raw text of a JSON object, exactly as the vendor sent it.
    Raw(Box<serde_json::value::RawValue>),
}

impl Record {
    /// The record as a parsed object (parses a raw record; a raw value that is not an
    /// object gives an empty map — connectors only make raw records of objects).
    pub fn into_object(self) -> serde_json::Map<String, serde_json::Value> {
        match self {
            Self::Object(map) => map,
            Self::Raw(raw) => serde_json::from_str(raw.get()).unwrap_or_default(),
        }
    }

    /// A parsed copy (for tests and inspection).
    pub fn to_object(&self) -> serde_json::Map<String, serde_json::Value> {
        self.clone().into_object()
    }
}

/// Equal when the parsed contents are equal, whatever the form.
impl PartialEq for Record {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Raw(a), Self::Raw(b)) if a.get() == b.get() => true,
            (Self::Object(a), Self::Object(b)) => a == b,
            _ => self.to_object() == other.to_object(),
        }
    }
}

impl From<serde_json::Map<String, serde_json::Value>> for Record {
    fn from(map: serde_json::Map<String, serde_json::Value>) -> Self {
        Self::Object(map)
    }
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
    /// A new tuning value for the stream (see `StreamState::tuning`); `None` keeps the
    /// current one, `Some(null)` removes it.
    pub tuning: Option<serde_json::Value>,
    /// Failures to report while the stream carries on (e.g. a rejected cursor that was
    /// recovered). Each becomes one error event, emitted before the page's records.
    pub notices: Vec<Failure>,
}
