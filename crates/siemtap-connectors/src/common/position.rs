//! Checking a stored position's JSON type: the declaration each connector makes in
//! [`siemtap_core::Source::check_position`] for values it has no parser of its own for.

use serde_json::Value;

/// A JSON type a stored value may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonKind {
    /// A string.
    String,
    /// An integer (a number without fraction).
    Integer,
    /// An object.
    Object,
}

impl JsonKind {
    fn matches(self, value: &Value) -> bool {
        match self {
            Self::String => value.is_string(),
            Self::Integer => value.is_i64() || value.is_u64(),
            Self::Object => value.is_object(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::String => "a string",
            Self::Integer => "an integer",
            Self::Object => "an object",
        }
    }
}

/// The JSON type of `value` in words.
pub fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `Ok` when `value`, stored under the state key `key`, is absent or of one of `kinds`;
/// otherwise the sentence for the `STATE_READ_ERROR` event (`state key audit_cursor is a
/// number, expected a string`).
pub fn expect_kind(key: &str, value: Option<&Value>, kinds: &[JsonKind]) -> Result<(), String> {
    match value {
        None | Some(Value::Null) => Ok(()),
        Some(v) if kinds.iter().any(|k| k.matches(v)) => Ok(()),
        Some(v) => {
            let expected: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
            Err(format!(
                "state key {key} is {}, expected {}",
                type_name(v),
                expected.join(" or ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_value_of_another_type_is_named_with_the_expected_one() {
        let string = [JsonKind::String];
        assert_eq!(expect_kind("audit_cursor", None, &string), Ok(()));
        assert_eq!(
            expect_kind("audit_cursor", Some(&json!(null)), &string),
            Ok(())
        );
        assert_eq!(
            expect_kind("audit_cursor", Some(&json!("c:1")), &string),
            Ok(())
        );
        assert_eq!(
            expect_kind("audit_cursor", Some(&json!(123)), &string),
            Err("state key audit_cursor is a number, expected a string".into())
        );
        let either = [JsonKind::Integer, JsonKind::Object];
        assert_eq!(expect_kind("k", Some(&json!(7)), &either), Ok(()));
        assert_eq!(expect_kind("k", Some(&json!({"a": 1})), &either), Ok(()));
        assert_eq!(
            expect_kind("k", Some(&json!(1.5)), &either),
            Err("state key k is a fractional number, expected an integer or an object".into())
        );
        for bad in [json!(true), json!([1])] {
            assert!(expect_kind("k", Some(&bad), &either).is_err(), "{bad}");
        }
    }
}
