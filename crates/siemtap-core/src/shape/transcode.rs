//! Streaming shaping of a raw vendor record: the JSON text is rewritten in one pass (nulls
//! dropped at every depth, separators and ASCII escaping of the output style, numbers as the
//! parsed-tree path writes them) without building a `serde_json::Value` tree. This is the hot
//! path of a drain; it must produce exactly what `Envelope::write_vendor` produces for the
//! parsed record.

use super::json::{JsonStyle, python_float_repr, write_ascii, write_str};

/// Deepest nesting kept inside a record. A deeper value is replaced by [`TOO_DEEP`]: the event
/// is still delivered, complete but for that subtree, and the stack stays bounded whatever a
/// vendor sends.
pub const MAX_NESTING: usize = 100;

/// What replaces a value nested deeper than [`MAX_NESTING`].
pub const TOO_DEEP: &str = "[siemtap: value nested deeper than 100 levels removed]";

/// Writes the members of the raw JSON object `raw` (without the surrounding braces), nulls
/// dropped. Returns the number of members written, or `None` if `raw` is not an object (the
/// caller then falls back to the parsed path).
pub fn write_object_members(raw: &str, style: JsonStyle, out: &mut Vec<u8>) -> Option<usize> {
    let mut r = Reader {
        b: raw.as_bytes(),
        i: 0,
        depth: 1,
    };
    r.ws();
    if r.peek()? != b'{' {
        return None;
    }
    let start = out.len();
    let written = r.object_body(style, out);
    if written.is_none() {
        out.truncate(start);
    }
    written
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    /// Containers entered so far.
    depth: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn expect(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// After `{`: members until `}`; returns how many were written.
    fn object_body(&mut self, style: JsonStyle, out: &mut Vec<u8>) -> Option<usize> {
        let (item_sep, key_sep) = (style.item_sep(), style.key_sep());
        self.expect(b'{')?;
        let mut written = 0;
        self.ws();
        if self.peek()? == b'}' {
            self.i += 1;
            return Some(0);
        }
        loop {
            self.ws();
            let key = self.string_token()?;
            self.expect(b':')?;
            self.ws();
            if self.at_null() {
                self.i += 4;
            } else {
                if written > 0 {
                    out.extend_from_slice(item_sep);
                }
                write_string_token(key, out)?;
                out.extend_from_slice(key_sep);
                self.value(style, out)?;
                written += 1;
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    return Some(written);
                }
                _ => return None,
            }
        }
    }

    fn array(&mut self, style: JsonStyle, out: &mut Vec<u8>) -> Option<()> {
        let item_sep = style.item_sep();
        self.expect(b'[')?;
        out.push(b'[');
        let mut written = 0;
        self.ws();
        if self.peek()? == b']' {
            self.i += 1;
            out.push(b']');
            return Some(());
        }
        loop {
            self.ws();
            if self.at_null() {
                self.i += 4;
            } else {
                if written > 0 {
                    out.extend_from_slice(item_sep);
                }
                self.value(style, out)?;
                written += 1;
            }
            self.ws();
            match self.peek()? {
                b',' => self.i += 1,
                b']' => {
                    self.i += 1;
                    out.push(b']');
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    fn at_null(&self) -> bool {
        self.b[self.i..].starts_with(b"null")
    }

    fn value(&mut self, style: JsonStyle, out: &mut Vec<u8>) -> Option<()> {
        self.ws();
        match self.peek()? {
            b'{' | b'[' if self.depth >= MAX_NESTING => {
                self.skip_container()?;
                write_str(out, TOO_DEEP);
            }
            b'{' => {
                out.push(b'{');
                self.depth += 1;
                self.object_body(style, out)?;
                self.depth -= 1;
                out.push(b'}');
            }
            b'[' => {
                self.depth += 1;
                self.array(style, out)?;
                self.depth -= 1;
            }
            b'"' => {
                let token = self.string_token()?;
                write_string_token(token, out)?;
            }
            b't' if self.b[self.i..].starts_with(b"true") => {
                self.i += 4;
                out.extend_from_slice(b"true");
            }
            b'f' if self.b[self.i..].starts_with(b"false") => {
                self.i += 5;
                out.extend_from_slice(b"false");
            }
            b'-' | b'0'..=b'9' => {
                let start = self.i;
                while matches!(
                    self.peek(),
                    Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                ) {
                    self.i += 1;
                }
                write_number_token(&self.b[start..self.i], out)?;
            }
            _ => return None,
        }
        Some(())
    }

    /// Skips one object or array without recursion (any depth).
    fn skip_container(&mut self) -> Option<()> {
        let mut depth = 0usize;
        loop {
            match self.peek()? {
                b'{' | b'[' => {
                    depth += 1;
                    self.i += 1;
                }
                b'}' | b']' => {
                    depth -= 1;
                    self.i += 1;
                    if depth == 0 {
                        return Some(());
                    }
                }
                b'"' => {
                    self.string_token()?;
                }
                _ => self.i += 1,
            }
        }
    }

    /// A string token including its quotes.
    fn string_token(&mut self) -> Option<&'a [u8]> {
        let start = self.i;
        if self.peek()? != b'"' {
            return None;
        }
        self.i += 1;
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    let b: &'a [u8] = self.b;
                    return Some(&b[start..self.i]);
                }
                b'\\' => self.i += 2,
                _ => self.i += 1,
            }
        }
    }
}

/// Re-encodes a string token (with quotes) in the output escaping.
fn write_string_token(token: &[u8], out: &mut Vec<u8>) -> Option<()> {
    let inner = &token[1..token.len() - 1];
    if inner.is_ascii() && !inner.contains(&b'\\') {
        // ASCII without escapes: no decoding needed, only the output escaping.
        out.push(b'"');
        write_ascii(out, inner);
        out.push(b'"');
    } else {
        let text: String = serde_json::from_slice(token).ok()?;
        write_str(out, &text);
    }
    Some(())
}

/// Integers as written (Python keeps arbitrary precision; `-0` is `0`), floats as Python's repr.
fn write_number_token(token: &[u8], out: &mut Vec<u8>) -> Option<()> {
    if token.iter().any(|b| matches!(b, b'.' | b'e' | b'E')) {
        let f: f64 = std::str::from_utf8(token).ok()?.parse().ok()?;
        out.extend_from_slice(python_float_repr(f).as_bytes());
    } else if token == b"-0" {
        out.push(b'0');
    } else {
        out.extend_from_slice(token);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shape::json::write_object;

    /// The streaming path must equal the parsed path for every style.
    fn same_as_parsed(raw: &str) {
        for style in [JsonStyle::Python, JsonStyle::Compact] {
            let mut streamed = vec![b'{'];
            write_object_members(raw, style, &mut streamed).expect("an object");
            streamed.push(b'}');
            let mut parsed: serde_json::Value = serde_json::from_str(raw).unwrap();
            crate::shape::drop_nulls(&mut parsed);
            let mut tree = Vec::new();
            write_object(&mut tree, parsed.as_object().unwrap(), style);
            assert_eq!(
                String::from_utf8(streamed).unwrap(),
                String::from_utf8(tree).unwrap(),
                "{raw}"
            );
        }
    }

    #[test]
    fn matches_the_parsed_path() {
        same_as_parsed(
            r#"{"uuid":"U1","country":"","details":null,"n":[1,null,{"a":null,"b":2.50}],"z":{}}"#,
        );
        same_as_parsed(" { \"a\" : [ ] , \"b\" : { } , \"c\" : true , \"d\" : false } ");
        same_as_parsed(
            r#"{"name":"Zo\u00eb 李雷 😀","esc":"a\"b\\c\/d\n\t\u0001","lat":43.64,"lng":-79.433,"e":1e16,"small":1E-7,"i":-12}"#,
        );
        same_as_parsed(r#"{"nested":{"deep":[[null],[1,[2,[3,null]]]]},"s":"\u007f"}"#);
    }

    #[test]
    fn negative_zero_and_huge_integers_are_written_as_python_does() {
        // json.dumps(json.loads(...)) in CPython: -0 → 0; integers keep full precision.
        let mut out = Vec::new();
        write_object_members(
            r#"{"z":-0,"big":123456789012345678901234567890}"#,
            JsonStyle::Python,
            &mut out,
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#""z": 0, "big": 123456789012345678901234567890"#
        );
    }

    #[test]
    fn deep_nesting_is_cut_with_a_marker_not_a_stack_overflow() {
        let depth = 200_000;
        let raw = format!(
            "{{\"uuid\":\"deep\",\"x\":{}{},\"after\":1}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let mut out = Vec::new();
        assert_eq!(
            write_object_members(&raw, JsonStyle::Compact, &mut out),
            Some(3)
        );
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains(TOO_DEEP) && text.ends_with(r#""after":1"#),
            "{}",
            &text[text.len() - 120..]
        );
        assert_eq!(text.matches('[').count(), MAX_NESTING, "kept levels");
        // Strings with brackets inside a skipped value do not confuse the skip.
        let raw = format!(
            "{{\"x\":{}\"]]}}{{[\"{},\"y\":2}}",
            "[".repeat(150),
            "]".repeat(150)
        );
        let mut out = Vec::new();
        assert_eq!(
            write_object_members(&raw, JsonStyle::Compact, &mut out),
            Some(2)
        );
    }

    #[test]
    fn not_an_object_falls_back() {
        let mut out = Vec::new();
        assert_eq!(
            write_object_members("[1,2]", JsonStyle::Compact, &mut out),
            None
        );
        assert_eq!(
            write_object_members("{\"a\":", JsonStyle::Compact, &mut out),
            None
        );
        assert!(out.is_empty());
    }
}
