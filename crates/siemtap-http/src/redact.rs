//! Redaction of credentials in error-body excerpts.
//!
//! What is redacted (replaced with `[REDACTED]`), in this order:
//! 1. every value sent in a credential-looking request header (`Authorization`,
//!    `Proxy-Authorization`, `Cookie`, any header marked sensitive, any header whose name contains
//!    `key`, `token`, `secret`, `auth`, `sign`, `pass`, `session` or `cookie`) or query parameter
//!    (same names): the whole value, the part after an auth scheme (`Bearer x` → `x`), and for
//!    `Basic` the decoded `principal:secret` and the secret alone (values shorter than 4 bytes
//!    are not matched) — each also in the forms a server may echo: any letter case, base64 and
//!    base64url with or without padding, hex, percent-encoding, and any run of 12 or more of
//!    its characters (see `redact_forms`);
//! 2. the token after `Bearer ` / `Basic ` (case-insensitive) anywhere in the text;
//! 3. the value after a key containing `authorization`, `passw`, `secret`, `token`, `apikey`,
//!    `api_key`, `api-key`, `signature`, `cookie`, `session`, `credential` or `private_key`,
//!    followed by `:` or `=` (JSON, form, header and log-line shapes; quoted or bare).
//!
//! Redaction runs on the first 8 KiB of the body, then the excerpt is cut to 400 chars.

use reqwest::header::HeaderMap;

use crate::redact_forms;

const MASK: &str = "[REDACTED]";
const SCAN_BYTES: usize = 8 * 1024;
const EXCERPT_CHARS: usize = 400;
const MIN_SECRET_LEN: usize = 4;

/// Values from credential-looking request headers, longest first.
pub(crate) fn sensitive_values(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for (name, value) in headers {
        if !(value.is_sensitive() || is_sensitive_name(name.as_str())) {
            continue;
        }
        let Ok(value) = value.to_str() else { continue };
        let value = value.trim();
        push(&mut out, value);
        if let Some((scheme, credential)) = value.split_once(' ') {
            let credential = credential.trim();
            push(&mut out, credential);
            if scheme.eq_ignore_ascii_case("basic")
                && let Some(decoded) = base64_decode(credential)
                && let Ok(decoded) = String::from_utf8(decoded)
            {
                if let Some((_, secret)) = decoded.split_once(':') {
                    push(&mut out, secret);
                }
                push(&mut out, &decoded);
            }
        }
    }
    out.sort_by_key(|v| std::cmp::Reverse(v.len()));
    out.dedup();
    out
}

/// Values of credential-looking query parameters (`api_key=`, `token=`...), decoded.
pub(crate) fn sensitive_query_values(url: &reqwest::Url) -> Vec<String> {
    let mut out = Vec::new();
    for (key, value) in url.query_pairs() {
        if is_sensitive_name(&key) {
            push(&mut out, value.trim());
        }
    }
    out
}

fn push(out: &mut Vec<String>, value: &str) {
    if value.len() >= MIN_SECRET_LEN {
        out.push(value.to_string());
    }
}

fn is_sensitive_name(name: &str) -> bool {
    const PARTS: [&str; 8] = [
        "key", "token", "secret", "auth", "sign", "pass", "session", "cookie",
    ];
    let name = name.to_ascii_lowercase();
    PARTS.iter().any(|p| name.contains(p))
}

/// The body excerpt carried by `HttpError::Status`: redacted, at most 400 chars.
pub(crate) fn excerpt(body: &[u8], sent_secrets: &[String]) -> String {
    let prefix = &body[..body.len().min(SCAN_BYTES)];
    let text = String::from_utf8_lossy(prefix);
    redact_text(&text, sent_secrets)
        .chars()
        .take(EXCERPT_CHARS)
        .collect()
}

/// Redact `text` as described in the module docs; `sent_secrets` are exact values to remove.
pub fn redact_text(text: &str, sent_secrets: &[String]) -> String {
    let secrets: Vec<String> = sent_secrets
        .iter()
        .filter(|s| s.len() >= MIN_SECRET_LEN)
        .cloned()
        .collect();
    let text = apply(
        text,
        redact_forms::ranges(&text.to_ascii_lowercase(), &secrets),
    );
    let text = apply(&text, scheme_ranges(&text));
    apply(&text, key_value_ranges(&text))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=%:".contains(&b)
}

/// Byte ranges of the credentials after `Bearer ` / `Basic `.
fn scheme_ranges(text: &str) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    let mut ranges = Vec::new();
    for scheme in ["bearer", "basic"] {
        for (pos, _) in lower.match_indices(scheme) {
            if pos > 0 && bytes[pos - 1].is_ascii_alphanumeric() {
                continue;
            }
            let mut i = pos + scheme.len();
            let spaces = i;
            while i < bytes.len() && bytes[i] == b' ' {
                i += 1;
            }
            if i == spaces {
                continue;
            }
            let start = i;
            while i < bytes.len() && is_token_byte(bytes[i]) {
                i += 1;
            }
            if i > start {
                ranges.push((start, i));
            }
        }
    }
    ranges
}

/// Byte ranges of values after credential-looking keys followed by `:` or `=`.
fn key_value_ranges(text: &str) -> Vec<(usize, usize)> {
    const KEYS: [&str; 12] = [
        "authorization",
        "passw",
        "secret",
        "token",
        "apikey",
        "api_key",
        "api-key",
        "signature",
        "cookie",
        "session",
        "credential",
        "private_key",
    ];
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut ranges = Vec::new();
    for key in KEYS {
        for (pos, _) in lower.match_indices(key) {
            let mut i = pos + key.len();
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-') {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                i += 1;
            }
            i = skip_spaces(b, i);
            if i >= b.len() || !(b[i] == b':' || b[i] == b'=') {
                continue;
            }
            i = skip_spaces(b, i + 1);
            if let Some(range) = value_range(&lower, i) {
                ranges.push(range);
            }
        }
    }
    ranges
}

fn skip_spaces(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
        i += 1;
    }
    i
}

fn value_range(lower: &str, start: usize) -> Option<(usize, usize)> {
    let b = lower.as_bytes();
    if start >= b.len() || lower[start..].starts_with(&MASK.to_ascii_lowercase()) {
        return None;
    }
    let (start, end) = if b[start] == b'"' || b[start] == b'\'' {
        let quote = b[start];
        let mut i = start + 1;
        while i < b.len() && b[i] != quote {
            i += if b[i] == b'\\' { 2 } else { 1 };
        }
        (start + 1, i.min(b.len()))
    } else {
        let mut i = start;
        while i < b.len() && !b" \t\r\n,&;}]\"'<>".contains(&b[i]) {
            i += 1;
        }
        (start, i)
    };
    let value = &lower[start..end];
    let is_scheme_word = value == "bearer" || value == "basic";
    (end > start && !is_scheme_word && !value.starts_with('{') && !value.starts_with('['))
        .then_some((start, end))
}

/// Replace the (possibly overlapping) byte ranges with the mask.
fn apply(text: &str, mut ranges: Vec<(usize, usize)>) -> String {
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for (mut start, mut end) in ranges {
        // A byte-window match may split a multi-byte character: widen it to whole characters.
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        while end < text.len() && !text.is_char_boundary(end) {
            end += 1;
        }
        let start = start.max(cursor);
        if end <= start {
            continue;
        }
        out.push_str(&text[cursor..start]);
        out.push_str(MASK);
        cursor = end;
    }
    out.push_str(&text[cursor..]);
    out
}

fn base64_decode(input: &str) -> Option<Vec<u8>> {
    fn sextet(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        } as u32)
    }
    let data = input.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(data.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for &c in data {
        acc = (acc << 6) | sextet(c)?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{AUTHORIZATION, HeaderValue};

    const CANARY: &str = "CANARY-7f3a9c-s3cr3t";

    #[test]
    fn exact_sent_values_are_removed() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer CANARY-7f3a9c-s3cr3t"),
        );
        headers.insert("x-api-key", HeaderValue::from_static("k-CANARY-api"));
        headers.insert("accept", HeaderValue::from_static("application/json"));
        let secrets = sensitive_values(&headers);
        assert!(!secrets.iter().any(|s| s == "application/json"));
        let body = format!("you sent {CANARY} and raw k-CANARY-api; json ok");
        let out = redact_text(&body, &secrets);
        assert!(!out.contains("CANARY"), "{out}");
        assert!(out.contains("json ok"), "{out}");
    }

    #[test]
    fn basic_credentials_are_decoded_and_removed() {
        let mut headers = HeaderMap::new();
        // principal:secret
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic cHJpbmNpcGFsOnNlY3JldA=="),
        );
        let secrets = sensitive_values(&headers);
        assert!(
            secrets.contains(&"principal:secret".to_string()),
            "{secrets:?}"
        );
        let out = redact_text("bad principal:secret / cHJpbmNpcGFsOnNlY3JldA==", &secrets);
        assert!(!out.contains("secret") && !out.contains("cHJp"), "{out}");
    }

    /// The forms of `Canary+Tok/en=K4v8:zz%Q~x` a server may echo (computed independently,
    /// with Python's base64, binascii and urllib.parse.quote).
    const ECHOED_FORMS: [&str; 11] = [
        "canary+tok/en=k4v8:zz%q~x",
        "CANARY+TOK/EN=K4V8:ZZ%Q~X",
        "Q2FuYXJ5K1Rvay9lbj1LNHY4Onp6JVF+eA==",
        "Q2FuYXJ5K1Rvay9lbj1LNHY4Onp6JVF+eA",
        "Q2FuYXJ5K1Rvay9lbj1LNHY4Onp6JVF-eA==",
        "Q2FuYXJ5K1Rvay9lbj1LNHY4Onp6JVF-eA",
        "43616e6172792b546f6b2f656e3d4b3476383a7a7a25517e78",
        "43616E6172792B546F6B2F656E3D4B3476383A7A7A25517E78",
        "Canary%2BTok%2Fen%3DK4v8%3Azz%25Q~x",
        "canary%2btok%2fen%3dk4v8%3azz%25q~x",
        // A run of 14 characters of the secret inside other text.
        "ary+Tok/en=K4v",
    ];

    #[test]
    fn echoed_transformed_secret_forms_are_redacted() {
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Bearer Canary+Tok/en=K4v8:zz%Q~x"),
        );
        let secrets = sensitive_values(&headers);
        for form in ECHOED_FORMS {
            let body = format!(r#"{{"error":"invalid token","got":"xx{form}yy","ok":"kept"}}"#);
            let out = redact_text(&body, &secrets);
            assert!(!out.contains(form), "{form} survived: {out}");
            assert!(out.contains(MASK) && out.contains("kept"), "{out}");
            // Not even a 12-character piece of the form survives next to the mask.
            let bytes = form.as_bytes();
            for w in bytes.windows(12) {
                let w = std::str::from_utf8(w).unwrap();
                assert!(!out.contains(w), "{w} of {form} survived: {out}");
            }
        }
    }

    #[test]
    fn basic_auth_secret_echoed_alone_or_transformed_is_redacted() {
        // Basic base64("svc-user:Canary+Tok/en=K4v8:zz%Q~x")
        let mut headers = HeaderMap::new();
        headers.insert(
            AUTHORIZATION,
            HeaderValue::from_static("Basic c3ZjLXVzZXI6Q2FuYXJ5K1Rvay9lbj1LNHY4Onp6JVF+eA=="),
        );
        let secrets = sensitive_values(&headers);
        for form in ECHOED_FORMS
            .iter()
            .chain(&["SVC-USER:CANARY+TOK/EN=K4V8:ZZ%Q~X"])
        {
            let out = redact_text(&format!("denied: {form}."), &secrets);
            assert!(!out.contains(form), "{form} survived: {out}");
        }
    }

    #[test]
    fn query_credentials_are_sent_secrets() {
        let url = reqwest::Url::parse("https://h/p?api_key=Canary%2BTok&limit=100").unwrap();
        let secrets = sensitive_query_values(&url);
        assert_eq!(secrets, ["Canary+Tok"]);
        let out = redact_text("key canary+tok rejected", &secrets);
        assert!(!out.to_lowercase().contains("canary"), "{out}");
    }

    #[test]
    fn patterns_are_removed_without_knowing_the_value() {
        let cases = [
            "Authorization: Bearer abc.def-ghi",
            "authorization=BASIC dXNlcjpwYXNz",
            r#"{"access_token": "abc.def-ghi", "ok": 1}"#,
            r#"{"client_secret":"abc.def-ghi"}"#,
            "https://h/p?api_key=abc.def-ghi&x=1",
            "password = 'abc.def-ghi'",
        ];
        for case in cases {
            let out = redact_text(case, &[]);
            assert!(
                !out.contains("abc.def-ghi") && !out.contains("dXNlcjpwYXNz"),
                "{case} -> {out}"
            );
            assert!(out.contains(MASK), "{case} -> {out}");
        }
        assert_eq!(
            redact_text("no secrets here: 42", &[]),
            "no secrets here: 42"
        );
    }

    #[test]
    fn excerpt_is_cut_after_redaction_and_lossy() {
        let mut body = b"\xff token=zzzzzzzz ".to_vec();
        body.extend(std::iter::repeat_n(b'a', 10_000));
        let out = excerpt(&body, &[]);
        assert_eq!(out.chars().count(), EXCERPT_CHARS);
        assert!(
            out.starts_with('\u{fffd}') && !out.contains("zzzz"),
            "{out}"
        );
    }
}
