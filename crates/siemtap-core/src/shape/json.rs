//! A JSON writer for output lines: ASCII-only (`\uXXXX` escapes, surrogate pairs above
//! U+FFFF), key order kept, and either compact separators or Python's defaults (`", "`,
//! `": "`) — byte-identical to `json.dumps(obj)` for the reference 1Password integration.

use serde_json::{Map, Number, Value};

/// Separator style of an output line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JsonStyle {
    /// `{"a":1,"b":2}`
    Compact,
    /// `{"a": 1, "b": 2}` (Python `json.dumps` defaults)
    Python,
}

impl JsonStyle {
    /// Between members and elements: `,` or `, `.
    pub fn item_sep(self) -> &'static [u8] {
        match self {
            Self::Compact => b",",
            Self::Python => b", ",
        }
    }
    /// Between a key and its value: `:` or `: `.
    pub fn key_sep(self) -> &'static [u8] {
        match self {
            Self::Compact => b":",
            Self::Python => b": ",
        }
    }
}

/// Writes `value` into `out`.
pub fn write_value(out: &mut Vec<u8>, value: &Value, style: JsonStyle) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.extend_from_slice(style.item_sep());
                }
                write_value(out, item, style);
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map, style),
    }
}

/// Writes an object's members in their order.
pub fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>, style: JsonStyle) {
    write_members(out, map.iter().map(|(k, v)| (k.as_str(), v)), style);
}

/// Writes `{k: v, ...}` from any sequence of members.
pub fn write_members<'a>(
    out: &mut Vec<u8>,
    members: impl Iterator<Item = (&'a str, &'a Value)>,
    style: JsonStyle,
) {
    out.push(b'{');
    for (i, (k, v)) in members.enumerate() {
        if i > 0 {
            out.extend_from_slice(style.item_sep());
        }
        write_str(out, k);
        out.extend_from_slice(style.key_sep());
        write_value(out, v, style);
    }
    out.push(b'}');
}

/// Writes a JSON string literal, escaping as Python's `ensure_ascii=True` does.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    if s.is_ascii() {
        write_ascii(out, s.as_bytes());
    } else {
        write_non_ascii(out, s);
    }
    out.push(b'"');
}

/// Fast path: copy runs of printable ASCII, escape the rest.
pub(super) fn write_ascii(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        start = i + 1;
        push_ascii_escape(out, b);
    }
    out.extend_from_slice(&bytes[start..]);
}

fn push_ascii_escape(out: &mut Vec<u8>, b: u8) {
    match b {
        b'"' => out.extend_from_slice(b"\\\""),
        b'\\' => out.extend_from_slice(b"\\\\"),
        b'\n' => out.extend_from_slice(b"\\n"),
        b'\r' => out.extend_from_slice(b"\\r"),
        b'\t' => out.extend_from_slice(b"\\t"),
        0x08 => out.extend_from_slice(b"\\b"),
        0x0c => out.extend_from_slice(b"\\f"),
        _ => push_u_escape(out, u16::from(b)),
    }
}

fn write_non_ascii(out: &mut Vec<u8>, s: &str) {
    let mut units = [0u16; 2];
    for c in s.chars() {
        if c.is_ascii() {
            let b = c as u8;
            if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
                out.push(b);
            } else {
                push_ascii_escape(out, b);
            }
        } else {
            for unit in c.encode_utf16(&mut units) {
                push_u_escape(out, *unit);
            }
        }
    }
}

fn push_u_escape(out: &mut Vec<u8>, unit: u16) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12u16, 8, 4, 0] {
        out.push(HEX[usize::from((unit >> shift) & 0xf)]);
    }
}

/// Integers as is; floats as Python's `repr` writes them (shortest round-trip digits,
/// exponent form below 1e-4 and from 1e16, always a `.0` when integral).
fn write_number(out: &mut Vec<u8>, n: &Number) {
    if let Some(i) = n.as_i64() {
        out.extend_from_slice(i.to_string().as_bytes());
    } else if let Some(u) = n.as_u64() {
        out.extend_from_slice(u.to_string().as_bytes());
    } else if let Some(f) = n.as_f64() {
        out.extend_from_slice(python_float_repr(f).as_bytes());
    }
}

/// Python `repr(float)` for a finite float.
pub fn python_float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    // Rust's `{:e}` gives the shortest round-trip digits: "-4.364e1".
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        let point = exp + 1; // digits before the decimal point
        let body = if point <= 0 {
            format!("0.{}{}", "0".repeat(point.unsigned_abs() as usize), digits)
        } else if (point as usize) >= digits.len() {
            format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
        } else {
            let (int, frac) = digits.split_at(point as usize);
            format!("{int}.{frac}")
        };
        format!("{sign}{body}")
    } else {
        let (first, rest) = digits.split_at(1);
        let mant = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        let exp_sign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{mant}e{exp_sign}{:02}", exp.unsigned_abs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn py(v: &Value) -> String {
        let mut out = Vec::new();
        write_value(&mut out, v, JsonStyle::Python);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn python_separators_and_order() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":[true,false,"x"],"c":{}}"#).unwrap();
        assert_eq!(py(&v), r#"{"b": 1, "a": [true, false, "x"], "c": {}}"#);
    }

    #[test]
    fn ascii_escapes_match_python() {
        // json.dumps("é—李😀\u0001\x7f\"\\\n\t") in CPython 3.11:
        let v = json!("é—李😀\u{1}\u{7f}\"\\\n\t");
        assert_eq!(
            py(&v),
            r#""\u00e9\u2014\u674e\ud83d\ude00\u0001\u007f\"\\\n\t""#
        );
        assert_eq!(py(&json!("plain \u{7f}")), r#""plain \u007f""#);
    }

    #[test]
    fn floats_match_python_repr() {
        for (f, want) in [
            (43.64, "43.64"),
            (-79.433, "-79.433"),
            (1.0, "1.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123456789012345.0, "123456789012345.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (-2.5e-7, "-2.5e-07"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e300, "1e+300"),
        ] {
            assert_eq!(python_float_repr(f), want, "{f}");
        }
    }
}
