//! The ledger hash of a raw SIEM record (spec §3.7 step 4), computed over the record's text
//! without building a `serde_json::Value` tree or a canonical `String`.
//!
//! The bytes fed to FNV-1a are exactly what `api::canonical_object` writes for the parsed
//! record (keys sorted at every depth, compact, a repeated key keeping its last value, strings
//! and numbers as `Value::to_string` writes them: serde_json's escaping, integers as written,
//! other numbers parsed by serde_json and re-written by ryu, `1e3` → `1000.0`), so ledger ids
//! persisted by earlier builds stay valid. Whatever the scan is not sure of (text serde_json
//! would reject as a `Value`: a lone surrogate escape, a number out of range, very deep
//! nesting) gives `None`, and the caller parses the record the old way.

use std::borrow::Cow;

/// FNV-1a (64 bit) over the bytes written to it.
#[derive(Clone, Copy, Debug)]
pub(super) struct Fnv(u64);

impl Fnv {
    /// The FNV-1a offset basis.
    pub(super) const fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }

    /// Hashes `bytes` in.
    #[inline]
    pub(super) fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 ^= u64::from(byte);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    /// The hash so far.
    pub(super) const fn finish(self) -> u64 {
        self.0
    }
}

impl std::io::Write for Fnv {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.feed(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Containers nested deeper than this are left to the parsed path (serde_json's own limit is
/// 127; the raw shaper cuts at 100).
const MAX_DEPTH: usize = 90;

/// What one scan of a raw record found.
#[derive(Debug)]
pub(super) struct Scanned<'a> {
    /// FNV-1a of the canonical JSON.
    pub hash: u64,
    /// The streaming shaper would write this record differently from the parsed one (a
    /// repeated key, `-0`, an integer beyond 64 bits, a float whose serde_json rounding
    /// differs from the standard library's): keep it as a parsed object.
    pub needs_object: bool,
    /// The string values of the requested top-level keys (`None` when absent or not a
    /// string; the last occurrence of a repeated key wins, as in a parsed map).
    pub fields: [Option<Cow<'a, str>>; 2],
}

/// One member of an object being hashed: its key and where its value lies.
#[derive(Debug)]
pub(super) struct Member<'a> {
    key: Cow<'a, str>,
    /// The key token had no escape, so its raw text is its canonical form.
    plain: bool,
    start: usize,
}

/// Reusable scratch for [`scan_record`] (one per window: members of all open objects).
pub(super) type Scratch<'a> = Vec<Member<'a>>;

/// Scans the raw JSON object `raw`: its canonical hash and the string values of `fields`.
/// `None` when `raw` is not an object or holds something only the parsed path handles.
pub(super) fn scan_record<'a>(
    raw: &'a str,
    fields: [&str; 2],
    scratch: &mut Scratch<'a>,
) -> Option<Scanned<'a>> {
    scratch.clear();
    let mut scan = Scan {
        s: raw,
        b: raw.as_bytes(),
        fnv: Fnv::new(),
        members: scratch,
        needs_object: false,
        fields: [None, None],
        wanted: fields,
    };
    let start = scan.ws(0);
    if scan.b.get(start) != Some(&b'{') {
        return None;
    }
    let end = scan.object(start, 1)?;
    if scan.ws(end) != scan.b.len() {
        return None;
    }
    Some(Scanned {
        hash: scan.fnv.finish(),
        needs_object: scan.needs_object,
        fields: scan.fields,
    })
}

struct Scan<'a, 's> {
    s: &'a str,
    b: &'a [u8],
    fnv: Fnv,
    members: &'s mut Scratch<'a>,
    needs_object: bool,
    fields: [Option<Cow<'a, str>>; 2],
    wanted: [&'s str; 2],
}

impl<'a> Scan<'a, '_> {
    fn ws(&self, mut i: usize) -> usize {
        while matches!(self.b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    fn expect(&self, i: usize, c: u8) -> Option<usize> {
        let i = self.ws(i);
        (self.b.get(i) == Some(&c)).then_some(i + 1)
    }

    /// The end of the string token at `i` (after its closing quote) and whether it holds an
    /// escape.
    fn string_end(&self, i: usize) -> Option<(usize, bool)> {
        if self.b.get(i) != Some(&b'"') {
            return None;
        }
        let mut j = i + 1;
        let mut escaped = false;
        loop {
            match *self.b.get(j)? {
                b'"' => return Some((j + 1, escaped)),
                b'\\' => {
                    escaped = true;
                    j += 2;
                }
                _ => j += 1,
            }
        }
    }

    /// The decoded text of the string token `start..end`.
    fn decode(&self, start: usize, end: usize, escaped: bool) -> Option<Cow<'a, str>> {
        let token = self.s.get(start..end)?;
        if escaped {
            serde_json::from_str::<String>(token).ok().map(Cow::Owned)
        } else {
            token.get(1..token.len() - 1).map(Cow::Borrowed)
        }
    }

    /// Skips the value at `i` (any depth, no recursion); returns its end.
    fn skip(&self, i: usize) -> Option<usize> {
        let i = self.ws(i);
        match *self.b.get(i)? {
            b'"' => self.string_end(i).map(|(end, _)| end),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match *self.b.get(j)? {
                        b'{' | b'[' => {
                            depth += 1;
                            j += 1;
                        }
                        b'}' | b']' => {
                            depth = depth.checked_sub(1)?;
                            j += 1;
                            if depth == 0 {
                                return Some(j);
                            }
                        }
                        b'"' => j = self.string_end(j)?.0,
                        _ => j += 1,
                    }
                }
            }
            _ => Some(self.scalar_end(i)),
        }
    }

    /// The end of a number or literal token at `i`.
    fn scalar_end(&self, mut i: usize) -> usize {
        while matches!(
            self.b.get(i),
            Some(b'a'..=b'z' | b'0'..=b'9' | b'-' | b'+' | b'.' | b'E')
        ) {
            i += 1;
        }
        i
    }

    /// Hashes the value at `i` canonically; returns its end.
    fn value(&mut self, i: usize, depth: usize) -> Option<usize> {
        let i = self.ws(i);
        match *self.b.get(i)? {
            b'{' => self.object(i, depth + 1),
            b'[' => self.array(i, depth + 1),
            b'"' => {
                let (end, escaped) = self.string_end(i)?;
                self.string(i, end, escaped)?;
                Some(end)
            }
            b'-' | b'0'..=b'9' => {
                let end = self.scalar_end(i);
                self.number(self.s.get(i..end)?)?;
                Some(end)
            }
            _ => {
                let end = self.scalar_end(i);
                let token = self.b.get(i..end)?;
                if !matches!(token, b"true" | b"false" | b"null") {
                    return None;
                }
                self.fnv.feed(token);
                Some(end)
            }
        }
    }

    /// A string token: its raw text when it has no escape (serde_json would write it back the
    /// same: valid JSON text holds no raw control character, quote or backslash in a string),
    /// else decoded and re-escaped by serde_json.
    fn string(&mut self, start: usize, end: usize, escaped: bool) -> Option<()> {
        if escaped {
            let text = self.decode(start, end, true)?;
            serde_json::to_writer(&mut self.fnv, text.as_ref()).ok()
        } else {
            self.fnv.feed(self.b.get(start..end)?);
            Some(())
        }
    }

    /// A number as `Value::Number(..).to_string()` writes it.
    fn number(&mut self, token: &str) -> Option<()> {
        let float_form = token.bytes().any(|b| matches!(b, b'.' | b'e' | b'E'));
        if !float_form {
            let digits = token.strip_prefix('-').unwrap_or(token);
            let fits = if token.starts_with('-') {
                digits.len() <= 18 && digits != "0"
            } else {
                digits.len() <= 19
            };
            if fits && !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
                self.fnv.feed(token.as_bytes());
                return Some(());
            }
        }
        let number: serde_json::Number = serde_json::from_str(token).ok()?;
        if number.is_f64() {
            // The raw shaper writes integer tokens as they are and parses float tokens with
            // the standard library: keep the record parsed where that would differ.
            let same = float_form
                && token
                    .parse::<f64>()
                    .is_ok_and(|f| Some(f.to_bits()) == number.as_f64().map(f64::to_bits));
            self.needs_object |= !same;
        }
        serde_json::to_writer(&mut self.fnv, &number).ok()
    }

    fn array(&mut self, i: usize, depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.fnv.feed(b"[");
        let mut j = self.ws(i + 1);
        if self.b.get(j) == Some(&b']') {
            self.fnv.feed(b"]");
            return Some(j + 1);
        }
        loop {
            j = self.value(j, depth)?;
            j = self.ws(j);
            match *self.b.get(j)? {
                b',' => self.fnv.feed(b","),
                b']' => {
                    self.fnv.feed(b"]");
                    return Some(j + 1);
                }
                _ => return None,
            }
            j += 1;
        }
    }

    fn object(&mut self, i: usize, depth: usize) -> Option<usize> {
        if depth > MAX_DEPTH {
            return None;
        }
        // Collect the members (keys and value offsets) above the enclosing objects' members.
        let base = self.members.len();
        let mut j = self.ws(i + 1);
        let end = if self.b.get(j) == Some(&b'}') {
            j + 1
        } else {
            loop {
                let (key_end, escaped) = self.string_end(j)?;
                let key = self.decode(j, key_end, escaped)?;
                let start = self.expect(key_end, b':')?;
                let value_end = self.skip(start)?;
                self.members.push(Member {
                    key,
                    plain: !escaped,
                    start,
                });
                j = self.ws(value_end);
                match *self.b.get(j)? {
                    b',' => j = self.ws(j + 1),
                    b'}' => break j + 1,
                    _ => return None,
                }
            }
        };
        if depth == 1 {
            self.take_fields(base);
        }
        // Sorted by key; a repeated key keeps its last value (stable sort: source order
        // among equal keys), as parsing into a map does.
        self.members[base..].sort_by(|a, b| a.key.cmp(&b.key));
        let top = self.members.len();
        self.fnv.feed(b"{");
        let mut first = true;
        for m in base..top {
            if m + 1 < top && self.members[m].key == self.members[m + 1].key {
                self.needs_object = true;
                continue;
            }
            if !first {
                self.fnv.feed(b",");
            }
            first = false;
            let member = &self.members[m];
            let start = member.start;
            if member.plain {
                self.fnv.feed(b"\"");
                self.fnv.feed(member.key.as_bytes());
                self.fnv.feed(b"\"");
            } else {
                serde_json::to_writer(&mut self.fnv, member.key.as_ref()).ok()?;
            }
            self.fnv.feed(b":");
            self.value(start, depth)?;
            self.members.truncate(top);
        }
        self.fnv.feed(b"}");
        self.members.truncate(base);
        Some(end)
    }

    /// The top-level values of the wanted keys (members `base..` in source order).
    fn take_fields(&mut self, base: usize) {
        for f in 0..2 {
            let Some(member) = self.members[base..]
                .iter()
                .rev()
                .find(|m| m.key == self.wanted[f])
            else {
                continue;
            };
            let at = self.ws(member.start);
            self.fields[f] = self
                .string_end(at)
                .and_then(|(end, escaped)| self.decode(at, end, escaped));
        }
    }
}

#[cfg(test)]
#[path = "canonical_tests.rs"]
mod tests;
