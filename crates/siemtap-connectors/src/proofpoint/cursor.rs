//! The SIEM stream's state values: `siem_cursor`, the ISO end of the last delivered window
//! (spec §3.6), and `siem_tuning`, the window width a dense tenant narrowed to, so the next run
//! starts at it instead of paying the split again.
//!
//! `siem_tuning` is `{"window_minutes": N}` (1..59) and absent at the full width of one hour.

use jiff::Timestamp;
use serde_json::{Value, json};

use super::window::{FULL_WIDTH_MINUTES, iso};

/// The committed SIEM position and the width to start with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SiemCursor {
    /// End of the last fully delivered window.
    pub end: Timestamp,
    /// Width of the next window in minutes, 1..=60.
    pub width_minutes: u64,
}

/// The `siem_cursor` value for `end`.
pub fn to_value(end: Timestamp) -> Value {
    Value::String(iso(end))
}

/// The `siem_tuning` value for the next window's width: `null` (remove the key) at one hour.
pub fn tuning_value(width_minutes: u64) -> Value {
    let width = width_minutes.clamp(1, FULL_WIDTH_MINUTES);
    if width == FULL_WIDTH_MINUTES {
        Value::Null
    } else {
        json!({ "window_minutes": width })
    }
}

/// Reads `siem_cursor` and `siem_tuning`. The error is a sentence for the `STATE_READ_ERROR`
/// event, naming the key.
pub fn parse(cursor: Option<&Value>, tuning: Option<&Value>) -> Result<Option<SiemCursor>, String> {
    let end = match cursor {
        None => return Ok(None),
        Some(Value::String(s)) => s
            .parse()
            .map_err(|_| format!("state key siem_cursor is {s:?}, not an ISO-8601 time"))?,
        Some(other) => {
            return Err(format!(
                "state key siem_cursor is {other}, not an ISO-8601 time"
            ));
        }
    };
    let width_minutes = match tuning {
        None | Some(Value::Null) => FULL_WIDTH_MINUTES,
        Some(Value::Object(map)) if map.len() == 1 && map.contains_key("window_minutes") => {
            match map["window_minutes"].as_u64() {
                Some(n @ 1..=FULL_WIDTH_MINUTES) => n,
                _ => return Err(bad_tuning(tuning)),
            }
        }
        Some(_) => return Err(bad_tuning(tuning)),
    };
    Ok(Some(SiemCursor { end, width_minutes }))
}

fn bad_tuning(tuning: Option<&Value>) -> String {
    format!(
        "state key siem_tuning is {}, not {{\"window_minutes\": 1..60}}",
        tuning.unwrap_or(&Value::Null)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_cursor_is_always_the_iso_string_and_the_width_is_tuning() {
        let end = t("2026-04-01T10:07:00Z");
        assert_eq!(to_value(end), json!("2026-04-01T10:07:00Z"));
        assert_eq!(tuning_value(60), Value::Null);
        assert_eq!(tuning_value(500), Value::Null, "clamped to one hour");
        assert_eq!(tuning_value(7), json!({"window_minutes": 7}));
        assert_eq!(tuning_value(0), json!({"window_minutes": 1}));
        let parsed = |tuning: Option<Value>| parse(Some(&to_value(end)), tuning.as_ref());
        assert_eq!(
            parsed(Some(tuning_value(7))).unwrap(),
            Some(SiemCursor {
                end,
                width_minutes: 7
            })
        );
        assert_eq!(parsed(None).unwrap().unwrap().width_minutes, 60);
        assert_eq!(parse(None, Some(&tuning_value(7))).unwrap(), None);
    }

    #[test]
    fn malformed_values_are_explained() {
        for bad in [
            json!("yesterday"),
            json!(12),
            json!(["2026-04-01T10:00:00Z"]),
        ] {
            let err = parse(Some(&bad), None).unwrap_err();
            assert!(err.starts_with("state key siem_cursor is "), "{err}");
        }
        let end = json!("2026-04-01T10:00:00Z");
        for bad in [
            json!({"window_minutes": 0}),
            json!({"window_minutes": 61}),
            json!({"window_minutes": 2.5}),
            json!({"width": 7}),
            json!({"window_minutes": 7, "x": 1}),
            json!(7),
        ] {
            let err = parse(Some(&end), Some(&bad)).unwrap_err();
            assert!(err.starts_with("state key siem_tuning is "), "{err}");
        }
    }
}
