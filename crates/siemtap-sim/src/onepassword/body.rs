//! Parsing `POST /api/v2/<stream>` bodies: flat, `ResetCursor` wrapper, or cursor.

use jiff::Timestamp;
use serde_json::{Map, Value};

/// Which of the accepted body forms a request used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BodyForm {
    /// `{"limit":..,"start_time":..[,"end_time":..]}`
    Flat,
    /// `{"ResetCursor":{...}}`
    ResetCursorWrapper,
    /// `{"cursor":"..."}`
    Cursor,
}

impl BodyForm {
    /// The name recorded in the request log.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            BodyForm::Flat => "flat",
            BodyForm::ResetCursorWrapper => "reset_cursor_wrapper",
            BodyForm::Cursor => "cursor",
        }
    }
}

/// A syntactically valid request body.
#[derive(Debug, Clone)]
pub(crate) struct ParsedBody {
    pub(crate) form: BodyForm,
    /// The `limit` value as sent (flat / wrapper), for the log.
    pub(crate) limit_sent: Option<Value>,
    /// Validated page size (flat / wrapper; `None` → default).
    pub(crate) limit: Option<u32>,
    pub(crate) start: Option<Timestamp>,
    pub(crate) end: Option<Timestamp>,
    pub(crate) cursor: Option<String>,
    /// A `limit` sent next to `cursor` (ignored).
    pub(crate) limit_with_cursor: Option<Value>,
}

/// A body the simulator rejects with 400; `form` is known when the shape was recognised.
#[derive(Debug, Clone)]
pub(crate) struct BodyError {
    pub(crate) form: Option<BodyForm>,
    pub(crate) message: String,
}

fn fail(form: Option<BodyForm>, message: impl Into<String>) -> BodyError {
    BodyError {
        form,
        message: message.into(),
    }
}

fn time_field(
    o: &Map<String, Value>,
    key: &str,
    form: BodyForm,
) -> Result<Option<Timestamp>, BodyError> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse::<Timestamp>().map(Some).map_err(|e| {
            fail(
                Some(form),
                format!("{key} {s:?} is not RFC 3339 (e.g. 2026-03-31T00:00:00.000Z): {e}"),
            )
        }),
        Some(other) => Err(fail(
            Some(form),
            format!("{key} must be an RFC 3339 string, got {other}"),
        )),
    }
}

fn limit_field(o: &Map<String, Value>, form: BodyForm) -> Result<Option<u32>, BodyError> {
    match o.get("limit") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => match v.as_u64() {
            Some(n @ 1..=1000) => Ok(Some(n as u32)),
            _ => Err(fail(
                Some(form),
                format!("limit must be an integer from 1 to 1000, got {v}"),
            )),
        },
    }
}

fn flat(
    o: &Map<String, Value>,
    form: BodyForm,
    ignore_fields: bool,
) -> Result<ParsedBody, BodyError> {
    let limit_sent = o.get("limit").cloned();
    let (limit, start, end) = if ignore_fields {
        (None, None, None)
    } else {
        (
            limit_field(o, form)?,
            time_field(o, "start_time", form)?,
            time_field(o, "end_time", form)?,
        )
    };
    if let (Some(s), Some(e)) = (start, end)
        && e <= s
    {
        return Err(fail(Some(form), "end_time must be after start_time"));
    }
    Ok(ParsedBody {
        form,
        limit_sent,
        limit,
        start,
        end,
        cursor: None,
        limit_with_cursor: None,
    })
}

/// Parses a body. With `strict_body`, a `ResetCursor` wrapper's fields are ignored (server
/// defaults apply), as the live server is suspected to do.
pub(crate) fn parse(bytes: &[u8], strict_body: bool) -> Result<ParsedBody, BodyError> {
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| fail(None, format!("request body is not JSON: {e}")))?;
    let Value::Object(o) = value else {
        return Err(fail(None, "request body must be a JSON object"));
    };
    if let Some(c) = o.get("cursor") {
        let form = Some(BodyForm::Cursor);
        let cursor = match c {
            Value::String(s) if !s.is_empty() => s.clone(),
            _ => return Err(fail(form, "cursor must be a non-empty string")),
        };
        return Ok(ParsedBody {
            form: BodyForm::Cursor,
            limit_sent: None,
            limit: None,
            start: None,
            end: None,
            cursor: Some(cursor),
            limit_with_cursor: o.get("limit").cloned(),
        });
    }
    if let Some(inner) = o.get("ResetCursor") {
        let form = BodyForm::ResetCursorWrapper;
        let Value::Object(inner) = inner else {
            return Err(fail(Some(form), "ResetCursor must be an object"));
        };
        let mut parsed = flat(inner, form, strict_body)?;
        parsed.limit_sent = inner.get("limit").cloned();
        return Ok(parsed);
    }
    flat(&o, BodyForm::Flat, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_validation() {
        let p = parse(
            br#"{"limit": 5, "start_time": "2026-03-31T00:00:00.000Z"}"#,
            false,
        )
        .unwrap();
        assert_eq!((p.form, p.limit), (BodyForm::Flat, Some(5)));
        let p = parse(
            br#"{"ResetCursor": {"limit": 7, "start_time": "2026-03-31T00:00:00Z"}}"#,
            false,
        )
        .unwrap();
        assert_eq!((p.form, p.limit), (BodyForm::ResetCursorWrapper, Some(7)));
        let p = parse(br#"{"ResetCursor": {"limit": 7}}"#, true).unwrap();
        assert_eq!((p.limit, p.limit_sent), (None, Some(Value::from(7))));
        let p = parse(br#"{"cursor": "abc", "limit": 9}"#, false).unwrap();
        assert_eq!(p.limit_with_cursor, Some(Value::from(9)));
        for bad in [
            &br#"{"limit": 0}"#[..],
            br#"{"limit": 1001}"#,
            br#"{"limit": 2.5}"#,
            br#"{"limit": "10"}"#,
            br#"{"start_time": "yesterday"}"#,
            br#"{"cursor": ""}"#,
            br#"[1]"#,
            b"not json",
        ] {
            assert!(
                parse(bad, false).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
