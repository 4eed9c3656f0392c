//! The Events API v2 wire format: request bodies and page parsing (spec §2.4, §2.5).

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use siemtap_core::{Record, VendorEvent};

/// Formats a first-page `start_time`: RFC 3339 UTC with milliseconds.
pub fn format_start_time(ts: jiff::Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%S.%3fZ").to_string()
}

/// The body of a request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestBody {
    /// First page: the flat form the vendor's schema documents.
    Start {
        /// Page size, 1..=1000.
        limit: u32,
        /// Window start.
        start_time: jiff::Timestamp,
    },
    /// Next pages.
    Cursor(String),
}

impl RequestBody {
    /// The JSON bytes to send.
    pub fn to_json(&self) -> Vec<u8> {
        let value = match self {
            Self::Start { limit, start_time } => {
                serde_json::json!({"limit": limit, "start_time": format_start_time(*start_time)})
            }
            Self::Cursor(cursor) => serde_json::json!({ "cursor": cursor }),
        };
        serde_json::to_vec(&value).unwrap_or_default()
    }

    /// The cursor sent, if any.
    pub fn cursor(&self) -> Option<&str> {
        match self {
            Self::Cursor(c) => Some(c),
            Self::Start { .. } => None,
        }
    }
}

/// A parsed page.
#[derive(Debug)]
pub struct ParsedPage {
    /// Object items, in order.
    pub events: Vec<VendorEvent>,
    /// The returned cursor (non-empty).
    pub cursor: String,
    /// `has_more`.
    pub has_more: bool,
    /// Items that were not objects (skipped).
    pub skipped: usize,
}

/// Parses a response body; `Err` names what is wrong (for `API_INVALID_RESPONSE`). Items
/// stay raw JSON text (shaped later in one streaming pass); only `uuid` and `timestamp` are
/// read from them.
pub fn parse_page(body: &[u8], event_type: &'static str) -> Result<ParsedPage, String> {
    #[derive(serde::Deserialize)]
    struct Wire<'a> {
        cursor: Option<Value>,
        has_more: Option<Value>,
        #[serde(borrow)]
        items: Option<&'a RawValue>,
    }
    let text = std::str::from_utf8(body).map_err(|e| format!("body is not UTF-8 ({e})"))?;
    let wire: Wire<'_> =
        serde_json::from_str(text).map_err(|e| format!("body is not a JSON object ({e})"))?;
    let cursor = match wire.cursor {
        Some(Value::String(c)) if !c.is_empty() => c,
        Some(Value::String(_)) => return Err("`cursor` is empty".into()),
        Some(_) => return Err("`cursor` is not a string".into()),
        None => return Err("`cursor` is missing".into()),
    };
    let items: Vec<&RawValue> = match wire.items {
        Some(raw) if raw.get().starts_with('[') => {
            serde_json::from_str(raw.get()).map_err(|e| format!("`items` is not a list ({e})"))?
        }
        Some(_) => return Err("`items` is not a list".into()),
        None => return Err("`items` is missing".into()),
    };
    let has_more = matches!(wire.has_more, Some(Value::Bool(true)));
    let mut skipped = 0;
    let mut events = Vec::with_capacity(items.len());
    for item in items {
        if item.get().starts_with('{') {
            events.push(to_event(item, event_type));
        } else {
            skipped += 1;
        }
    }
    Ok(ParsedPage {
        events,
        cursor,
        has_more,
        skipped,
    })
}

/// The two fields the runner needs; every other field is skipped without allocating.
#[derive(serde::Deserialize)]
struct Identity {
    uuid: Option<Value>,
    timestamp: Option<Value>,
}

fn to_event(item: &RawValue, event_type: &'static str) -> VendorEvent {
    // A record the derive cannot read (e.g. a repeated key) is read as a map, like the parsed
    // path would: the last value wins.
    let identity = serde_json::from_str::<Identity>(item.get()).unwrap_or_else(|_| {
        let mut map: Map<String, Value> = serde_json::from_str(item.get()).unwrap_or_default();
        Identity {
            uuid: map.remove("uuid"),
            timestamp: map.remove("timestamp"),
        }
    });
    let id = identity
        .uuid
        .as_ref()
        .and_then(Value::as_str)
        .map(str::to_owned);
    let time = identity
        .timestamp
        .as_ref()
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok());
    VendorEvent {
        event_type: Cow::Borrowed(event_type),
        id,
        time,
        record: Record::Raw(item.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_body_is_flat_with_millis() {
        let body = RequestBody::Start {
            limit: 100,
            start_time: "2026-03-31T00:00:00Z".parse().unwrap(),
        };
        assert_eq!(
            String::from_utf8(body.to_json()).unwrap(),
            r#"{"limit":100,"start_time":"2026-03-31T00:00:00.000Z"}"#
        );
    }

    #[test]
    fn page_validity_rules() {
        let ok = parse_page(br#"{"cursor":"c1","has_more":true,"items":[{"uuid":"U","timestamp":"2021-08-11T14:28:03Z"},3]}"#, "signin_attempt").unwrap();
        assert_eq!(ok.events.len(), 1);
        assert_eq!(ok.skipped, 1);
        assert_eq!(ok.events[0].id.as_deref(), Some("U"));
        assert!(ok.events[0].time.is_some());
        assert!(ok.has_more);
        for bad in [
            &br#"{"has_more":false,"items":[]}"#[..],
            br#"{"cursor":"","has_more":false,"items":[]}"#,
            br#"{"cursor":"c","has_more":false,"items":{}}"#,
            br#"{"cursor":"c","has_more":false}"#,
            br#"{"cursor":"c","has_more":false,"items":[{"uuid":"#,
            br#"<html>oops</html>"#,
        ] {
            assert!(
                parse_page(bad, "audit_event").is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
