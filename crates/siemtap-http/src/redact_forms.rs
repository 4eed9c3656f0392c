//! The forms of a sent secret a server may echo back, and where they occur in a text.
//!
//! A 401/403 body may quote the credential transformed: lower- or upper-cased, base64 or
//! base64url (with or without padding), hex, percent-encoded, or cut to a piece. Matching is
//! ASCII case-insensitive, so every case variant of every form (`%2b` and `%2B`, hex in either
//! case) is found, and a run of [`RUN`] or more characters of the secret anywhere in the text is
//! found through a set of its [`RUN`]-byte windows: O(secret + text) per secret, and it only
//! runs on error text.

use std::collections::HashSet;

/// Shortest run of a secret's characters that is redacted on its own.
pub(crate) const RUN: usize = 12;

const STD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Base64 of `bytes` in `alphabet`, padded with `=`.
fn base64(bytes: &[u8], alphabet: &[u8; 64]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Every byte outside RFC 3986's unreserved set as `%XX`; `plus` writes a space as `+`.
fn percent(bytes: &[u8], plus: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if plus && b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The whole-value forms of `secret`, ASCII-lower-cased (match them case-insensitively).
pub(crate) fn forms(secret: &str) -> Vec<String> {
    let b = secret.as_bytes();
    let mut out = vec![secret.to_string()];
    for alphabet in [STD, URL] {
        let padded = base64(b, alphabet);
        out.push(padded.trim_end_matches('=').to_string());
        out.push(padded);
    }
    out.push(hex(b));
    out.push(percent(b, false));
    out.push(percent(b, true));
    let mut out: Vec<String> = out.into_iter().map(|f| f.to_ascii_lowercase()).collect();
    out.sort_by_key(|f| std::cmp::Reverse(f.len()));
    out.dedup();
    out
}

/// Byte ranges of `lower` (an ASCII-lower-cased text) holding a form of one of `secrets`, or
/// a run of at least [`RUN`] characters of one.
pub(crate) fn ranges(lower: &str, secrets: &[String]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut windows: HashSet<&[u8]> = HashSet::new();
    let lowered: Vec<String> = secrets.iter().map(|s| s.to_ascii_lowercase()).collect();
    for (secret, low) in secrets.iter().zip(&lowered) {
        for form in forms(secret) {
            out.extend(lower.match_indices(&form).map(|(i, m)| (i, i + m.len())));
        }
        windows.extend(low.as_bytes().windows(RUN));
    }
    if !windows.is_empty() {
        for (i, w) in lower.as_bytes().windows(RUN).enumerate() {
            if windows.contains(w) {
                out.push((i, i + RUN));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_4648_vectors() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes(), STD), want);
        }
        assert_eq!(base64(&[0xfb, 0xff], URL), "-_8=");
        assert_eq!(percent(b"a b+/", true), "a+b%2B%2F");
        assert_eq!(hex(b"\x00\xff"), "00ff");
    }
}
