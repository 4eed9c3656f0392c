//! The public API wire format (spec §4.3, §4.4): request bodies and reply parsing.

use std::borrow::Cow;

use serde_json::{Map, Value, json};
use siemtap_core::VendorEvent;

/// `POST` path of the alerts stream.
pub const ALERTS_PATH: &str = "/public_api/v1/alerts/get_alerts";
/// `POST` path of the incidents stream.
pub const INCIDENTS_PATH: &str = "/public_api/v1/incidents/get_incidents";
/// The vendor's largest result set per request (`search_to − search_from`).
pub const PAGE_SIZE: u64 = 100;

/// One request: a closed time window on `field` (both ends inclusive, epoch ms), sorted
/// ascending on `sort_field`, the slice `[offset, offset + 100)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Filter field (`server_creation_time` or `modification_time`).
    pub field: &'static str,
    /// Sort field (`creation_time` or `modification_time`).
    pub sort_field: &'static str,
    /// `gte` value.
    pub from_ms: i64,
    /// `lte` value.
    pub to_ms: i64,
    /// `search_from`.
    pub offset: u64,
}

impl Query {
    /// `{"request_data": {...}}`. A time filter whose value is not positive is left out: the
    /// vendor answers a 0 with HTTP 500 "value param is missing" (§4.3).
    pub fn to_json(&self) -> Vec<u8> {
        let mut filters = Vec::with_capacity(2);
        for (op, value) in [("gte", self.from_ms), ("lte", self.to_ms)] {
            if value > 0 {
                filters.push(json!({"field": self.field, "operator": op, "value": value}));
            }
        }
        let body = json!({"request_data": {
            "filters": filters,
            "sort": {"field": self.sort_field, "keyword": "asc"},
            "search_from": self.offset,
            "search_to": self.offset + PAGE_SIZE,
        }});
        serde_json::to_vec(&body).unwrap_or_default()
    }
}

/// A parsed `{"reply": {"total_count", "result_count", "<records>": [...]}}`.
#[derive(Debug)]
pub struct Reply {
    /// Every match of the filters.
    pub total_count: u64,
    /// The records of this page (objects only, in order).
    pub records: Vec<Map<String, Value>>,
    /// Items that were not objects (skipped).
    pub skipped: usize,
}

/// Parses a 2xx body; `Err` says what is wrong (for `API_INVALID_RESPONSE`).
pub fn parse_reply(body: &[u8], records_key: &str) -> Result<Reply, String> {
    let doc: Value = serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e})"))?;
    let Some(reply) = doc.get("reply").and_then(Value::as_object) else {
        return Err("`reply` object is missing".into());
    };
    let total_count = match reply.get("total_count") {
        Some(v) => v
            .as_u64()
            .ok_or_else(|| "`reply.total_count` is not a non-negative integer".to_string())?,
        None => return Err("`reply.total_count` is missing".into()),
    };
    let items = match reply.get(records_key) {
        Some(Value::Array(items)) => items,
        Some(_) => return Err(format!("`reply.{records_key}` is not a list")),
        None => return Err(format!("`reply.{records_key}` is missing")),
    };
    let mut records = Vec::with_capacity(items.len());
    let mut skipped = 0;
    for item in items {
        match item {
            Value::Object(map) => records.push(map.clone()),
            _ => skipped += 1,
        }
    }
    Ok(Reply {
        total_count,
        records,
        skipped,
    })
}

/// An epoch-ms field as an integer (numbers, or strings of digits).
pub fn epoch_ms(record: &Map<String, Value>, key: &str) -> Option<i64> {
    match record.get(key)? {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|ms| *ms > 0)
}

/// An id field as text (the API documents strings; numbers are accepted too).
fn id_text(record: &Map<String, Value>, key: &str) -> Option<String> {
    match record.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn timestamp(ms: Option<i64>) -> Option<jiff::Timestamp> {
    ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok())
}

/// An alert: deduped by `alert_id`; its time is the server-side insert time
/// (`local_insert_ts`), the clock the alert windows run on.
pub fn alert_event(record: Map<String, Value>) -> VendorEvent {
    VendorEvent {
        event_type: Cow::Borrowed("alert"),
        id: id_text(&record, "alert_id"),
        time: timestamp(epoch_ms(&record, "local_insert_ts")),
        record: record.into(),
    }
}

/// The dedupe id of one incident version: `"<incident_id>@<modification_time epoch ms>"`
/// (the simulator oracle's form).
pub fn incident_version_id(record: &Map<String, Value>) -> Option<String> {
    let id = id_text(record, "incident_id")?;
    let version = epoch_ms(record, "modification_time")
        .or_else(|| epoch_ms(record, "creation_time"))
        .unwrap_or(0);
    Some(format!("{id}@{version}"))
}

/// An incident version: deduped on `(incident_id, modification_time)`; its time is the
/// modification time, the clock the incident windows run on.
pub fn incident_event(record: Map<String, Value>) -> VendorEvent {
    VendorEvent {
        event_type: Cow::Borrowed("incident"),
        id: incident_version_id(&record),
        time: timestamp(epoch_ms(&record, "modification_time")),
        record: record.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alert_body_matches_the_documented_shape() {
        let q = Query {
            field: "server_creation_time",
            sort_field: "creation_time",
            from_ms: 1_795_253_012_987,
            to_ms: 1_795_253_612_987,
            offset: 200,
        };
        assert_eq!(
            String::from_utf8(q.to_json()).unwrap(),
            r#"{"request_data":{"filters":[{"field":"server_creation_time","operator":"gte","value":1795253012987},{"field":"server_creation_time","operator":"lte","value":1795253612987}],"sort":{"field":"creation_time","keyword":"asc"},"search_from":200,"search_to":300}}"#
        );
        let zero = Query { from_ms: 0, ..q };
        let text = String::from_utf8(zero.to_json()).unwrap();
        assert!(
            !text.contains(r#""value":0"#) && !text.contains("gte"),
            "{text}"
        );
    }

    #[test]
    fn reply_validity() {
        let ok = parse_reply(
            br#"{"reply":{"total_count":3,"result_count":2,"incidents":[{"incident_id":"1","modification_time":1575813875168},7]}}"#,
            "incidents",
        )
        .unwrap();
        assert_eq!(ok.total_count, 3);
        assert_eq!(ok.records.len(), 1);
        assert_eq!(ok.skipped, 1);
        for bad in [
            &br#"{"reply":{"result_count":0,"alerts":[]}}"#[..],
            br#"{"reply":{"total_count":-1,"alerts":[]}}"#,
            br#"{"reply":{"total_count":1}}"#,
            br#"{"reply":{"total_count":1,"alerts":{}}}"#,
            br#"{"reply":{"err_code":500,"err_msg":"x"}}"#,
            br#"{"total_count":1,"alerts":[]}"#,
            br#"{"reply":{"total_count":1,"alerts":[{"#,
            br#"<html></html>"#,
        ] {
            assert!(
                parse_reply(bad, "alerts").is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ids_and_times() {
        let rec: Map<String, Value> = serde_json::from_str(
            r#"{"alert_id":31,"local_insert_ts":1775000012345,"creation_time":1775000001000}"#,
        )
        .unwrap();
        let e = alert_event(rec);
        assert_eq!(e.id.as_deref(), Some("31"));
        assert_eq!(e.time.unwrap().as_millisecond(), 1_775_000_012_345);
        let rec: Map<String, Value> = serde_json::from_str(
            r#"{"incident_id":"1","creation_time":1575806909185,"modification_time":1575813875168}"#,
        )
        .unwrap();
        let e = incident_event(rec);
        assert_eq!(e.id.as_deref(), Some("1@1575813875168"));
        assert_eq!(e.event_type, "incident");
    }
}
