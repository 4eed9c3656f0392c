//! Records out of a response body: the arrays, ids and event times.

use std::borrow::Cow;

use serde_json::Value;
use siemtap_core::VendorEvent;

use super::spec::{Extract, TimestampFormat};

/// Records of one page, in order; `skipped` counts non-object items.
#[derive(Debug, Default)]
pub(crate) struct Extracted {
    pub events: Vec<VendorEvent>,
    pub skipped: usize,
}

/// Pulls the records out of `doc`; `Err` says what is wrong (for `API_INVALID_RESPONSE`).
pub(crate) fn extract(
    x: &Extract,
    default_type: &'static str,
    doc: &Value,
) -> Result<Extracted, String> {
    let mut out = Extracted::default();
    let arrays: Vec<(&str, Cow<'static, str>)> = match &x.records {
        Some(p) => vec![(p.0.as_str(), Cow::Borrowed(default_type))],
        None => x
            .arrays
            .iter()
            .map(|a| (a.pointer.0.as_str(), Cow::Owned(a.event_type.clone())))
            .collect(),
    };
    for (ptr, event_type) in arrays {
        let items = match doc.pointer(ptr) {
            Some(Value::Array(items)) => items,
            Some(Value::Null) => continue,
            Some(_) => return Err(format!("`{}` is not a list", shown(ptr))),
            None => return Err(format!("`{}` is missing", shown(ptr))),
        };
        for item in items {
            let Value::Object(record) = item else {
                out.skipped += 1;
                continue;
            };
            let id = x.id.as_ref().and_then(|p| match item.pointer(&p.0) {
                Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
                Some(Value::Number(n)) => Some(n.to_string()),
                _ => None,
            });
            let time = x
                .timestamp
                .as_ref()
                .and_then(|p| item.pointer(&p.0))
                .and_then(|v| parse_time(v, x.timestamp_format));
            out.events.push(VendorEvent {
                event_type: event_type.clone(),
                id,
                time,
                record: record.clone().into(),
            });
        }
    }
    Ok(out)
}

fn shown(ptr: &str) -> &str {
    if ptr.is_empty() { "<body>" } else { ptr }
}

/// A record time in the declared format.
pub(crate) fn parse_time(v: &Value, format: TimestampFormat) -> Option<jiff::Timestamp> {
    let number = || match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    match format {
        TimestampFormat::Rfc3339 => v.as_str()?.parse().ok(),
        TimestampFormat::EpochS => jiff::Timestamp::from_second(number()?).ok(),
        TimestampFormat::EpochMs => jiff::Timestamp::from_millisecond(number()?).ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rest::spec::{ArraySpec, Pointer};

    fn x(records: Option<&str>) -> Extract {
        Extract {
            records: records.map(|r| Pointer(r.into())),
            arrays: vec![],
            id: Some(Pointer("/id".into())),
            timestamp: Some(Pointer("/t".into())),
            timestamp_format: TimestampFormat::EpochMs,
        }
    }

    #[test]
    fn whole_body_array_ids_and_times() {
        let doc: Value = serde_json::from_str(
            r#"[{"id":7,"t":1700000000000},3,{"id":"b","t":"1700000000001"}]"#,
        )
        .unwrap();
        let got = extract(&x(Some("")), "e", &doc).unwrap();
        assert_eq!(got.skipped, 1);
        assert_eq!(got.events[0].id.as_deref(), Some("7"));
        assert_eq!(
            got.events[1].time.unwrap().as_millisecond(),
            1_700_000_000_001
        );
    }

    #[test]
    fn several_arrays_each_with_a_type() {
        let mut spec = x(None);
        spec.arrays = vec![
            ArraySpec {
                pointer: Pointer("/a".into()),
                event_type: "alpha".into(),
            },
            ArraySpec {
                pointer: Pointer("/b".into()),
                event_type: "beta".into(),
            },
        ];
        let doc: Value = serde_json::from_str(r#"{"a":[{"id":1}],"b":[{"id":2}]}"#).unwrap();
        let got = extract(&spec, "e", &doc).unwrap();
        let types: Vec<&str> = got.events.iter().map(|e| e.event_type.as_ref()).collect();
        assert_eq!(types, ["alpha", "beta"]);
    }

    #[test]
    fn missing_or_wrong_array_is_an_error() {
        let doc: Value = serde_json::from_str(r#"{"items":{}}"#).unwrap();
        assert!(
            extract(&x(Some("/items")), "e", &doc)
                .unwrap_err()
                .contains("not a list")
        );
        assert!(
            extract(&x(Some("/nope")), "e", &doc)
                .unwrap_err()
                .contains("missing")
        );
    }
}
