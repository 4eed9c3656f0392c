//! The `siem_cursor` state value: the end of the last delivered window and, when a dense
//! tenant narrowed it, the window width to start the next run with.
//!
//! Two shapes: the plain ISO string `"2026-04-01T10:00:00Z"` (width one hour: the reference
//! shape, and every state written before widths were remembered) and
//! `{"end":"2026-04-01T10:00:00Z","width_minutes":7}` (width under one hour).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::window::{FULL_WIDTH_MINUTES, iso};

/// A parsed `siem_cursor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiemCursor {
    /// End of the last fully delivered window.
    pub end: Timestamp,
    /// Width of the next window in minutes, 1..=60 (60 for the plain string).
    pub width_minutes: u64,
}

/// The state value for `end` and the next window's `width_minutes`: the plain ISO string at
/// full width (backwards compatible), else the object.
pub fn to_value(end: Timestamp, width_minutes: u64) -> Value {
    let width = width_minutes.clamp(1, FULL_WIDTH_MINUTES);
    if width == FULL_WIDTH_MINUTES {
        Value::String(iso(end))
    } else {
        json!({"end": iso(end), "width_minutes": width})
    }
}

/// Reads either shape. The error is a sentence for the `STATE_READ_ERROR` event.
pub fn parse(value: Option<&Value>) -> Result<Option<SiemCursor>, String> {
    let value = match value {
        None => return Ok(None),
        Some(v) => v,
    };
    let end_text = |s: &str| -> Result<Timestamp, String> {
        s.parse()
            .map_err(|_| format!("state key siem_cursor is {s:?}, not an ISO-8601 time"))
    };
    match value {
        Value::String(s) => Ok(Some(SiemCursor {
            end: end_text(s)?,
            width_minutes: FULL_WIDTH_MINUTES,
        })),
        Value::Object(map) => {
            let shape = || {
                format!(
                    "state key siem_cursor is {value}, not an ISO-8601 time or {{\"end\":\"<ISO-8601>\",\"width_minutes\":1..60}}"
                )
            };
            if map.keys().any(|k| k != "end" && k != "width_minutes") {
                return Err(shape());
            }
            let end = match map.get("end") {
                Some(Value::String(s)) => end_text(s)?,
                _ => return Err(shape()),
            };
            let width_minutes = match map.get("width_minutes") {
                None => FULL_WIDTH_MINUTES,
                Some(w) => match w.as_u64() {
                    Some(n @ 1..=FULL_WIDTH_MINUTES) => n,
                    _ => return Err(shape()),
                },
            };
            Ok(Some(SiemCursor { end, width_minutes }))
        }
        other => Err(format!(
            "state key siem_cursor is {other}, not an ISO-8601 time"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn full_width_is_the_plain_string() {
        let end = t("2026-04-01T10:00:00Z");
        let v = to_value(end, 60);
        assert_eq!(v, json!("2026-04-01T10:00:00Z"));
        assert_eq!(
            parse(Some(&v)).unwrap(),
            Some(SiemCursor {
                end,
                width_minutes: 60
            })
        );
        assert_eq!(to_value(end, 500), v, "clamped to one hour");
    }

    #[test]
    fn a_narrow_width_round_trips_as_an_object() {
        let end = t("2026-04-01T10:07:00Z");
        let v = to_value(end, 7);
        assert_eq!(
            v,
            json!({"end": "2026-04-01T10:07:00Z", "width_minutes": 7})
        );
        assert_eq!(
            parse(Some(&v)).unwrap(),
            Some(SiemCursor {
                end,
                width_minutes: 7
            })
        );
        assert_eq!(to_value(end, 0)["width_minutes"], 1);
        // Without a width the object is a full-width cursor.
        assert_eq!(
            parse(Some(&json!({"end": "2026-04-01T10:07:00Z"})))
                .unwrap()
                .unwrap()
                .width_minutes,
            60
        );
        assert_eq!(parse(None).unwrap(), None);
    }

    #[test]
    fn malformed_values_are_explained() {
        for bad in [
            json!("yesterday"),
            json!(12),
            json!(null),
            json!(["2026-04-01T10:00:00Z"]),
            json!({"end": "soon", "width_minutes": 7}),
            json!({"end": 5, "width_minutes": 7}),
            json!({"width_minutes": 7}),
            json!({"end": "2026-04-01T10:00:00Z", "width_minutes": 0}),
            json!({"end": "2026-04-01T10:00:00Z", "width_minutes": 61}),
            json!({"end": "2026-04-01T10:00:00Z", "width_minutes": 2.5}),
            json!({"end": "2026-04-01T10:00:00Z", "width": 7}),
        ] {
            let err = parse(Some(&bad)).unwrap_err();
            assert!(err.starts_with("state key siem_cursor is "), "{err}");
        }
    }
}
