//! Request authentication (spec §4.2): advanced keys (nonce, millisecond timestamp and
//! `sha256_hex(key + nonce + timestamp)`, fresh for every attempt) and standard keys (the raw
//! key). Header values built here are marked sensitive, so the HTTP client redacts them from
//! any response excerpt and they never reach a log.

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use ring::rand::{SecureRandom, SystemRandom};
use siemtap_secrets::Secret;

use super::settings::SecurityLevel;

/// Length of an advanced-key nonce.
pub const NONCE_LEN: usize = 64;
const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// The API key, its id and level. `Debug` prints no secret (the `Secret` type cannot print).
#[derive(Debug)]
pub struct Credentials {
    key: Secret,
    key_id: Secret,
    level: SecurityLevel,
    rng: SystemRandom,
}

/// Lower-case hex SHA-256 of `api_key + nonce + timestamp_ms` (plain SHA-256, not an HMAC).
pub fn advanced_signature(api_key: &str, nonce: &str, timestamp_ms: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(api_key.as_bytes());
    ctx.update(nonce.as_bytes());
    ctx.update(timestamp_ms.as_bytes());
    hex(ctx.finish().as_ref())
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// 64 characters from `[A-Za-z0-9]`, drawn from the OS CSPRNG without modulo bias.
pub fn nonce(rng: &dyn SecureRandom) -> Result<String, ring::error::Unspecified> {
    let mut out = String::with_capacity(NONCE_LEN);
    let mut buf = [0u8; 96];
    while out.len() < NONCE_LEN {
        rng.fill(&mut buf)?;
        // 248 = 4 × 62: bytes at or above it are rejected so every character is equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == NONCE_LEN {
                break;
            }
            out.push(ALPHABET[usize::from(*b % 62)] as char);
        }
    }
    Ok(out)
}

/// Why headers could not be built (only the OS random source can fail).
#[derive(Debug, thiserror::Error)]
#[error("the operating system's random number generator failed; cannot create an XDR auth nonce")]
pub struct NonceError;

impl Credentials {
    /// Credentials for `level`.
    pub fn new(key: Secret, key_id: Secret, level: SecurityLevel) -> Self {
        Self {
            key,
            key_id,
            level,
            rng: SystemRandom::new(),
        }
    }

    /// The security level.
    pub fn level(&self) -> SecurityLevel {
        self.level
    }

    /// The auth headers for one attempt at `timestamp_ms` (fresh nonce each call).
    pub fn headers(&self, timestamp_ms: i64) -> Result<HeaderMap, NonceError> {
        let mut headers = HeaderMap::with_capacity(4);
        // expose: the key id and key go only into these request headers.
        insert(&mut headers, "x-xdr-auth-id", self.key_id.expose().trim());
        match self.level {
            SecurityLevel::Standard => {
                insert(&mut headers, "authorization", self.key.expose().trim());
            }
            SecurityLevel::Advanced => {
                let nonce = nonce(&self.rng).map_err(|_| NonceError)?;
                let ts = timestamp_ms.to_string();
                let signature = advanced_signature(self.key.expose().trim(), &nonce, &ts);
                insert(&mut headers, "x-xdr-nonce", &nonce);
                insert(&mut headers, "x-xdr-timestamp", &ts);
                insert(&mut headers, "authorization", &signature);
            }
        }
        Ok(headers)
    }
}

fn insert(headers: &mut HeaderMap, name: &'static str, value: &str) {
    // A value with bytes a header cannot carry (e.g. a newline pasted into the key) is sent
    // empty: the server answers 401, which names the variable to fix.
    let mut value = HeaderValue::from_str(value).unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    headers.insert(HeaderName::from_static(name), value);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_test_vector() {
        assert_eq!(
            advanced_signature("KEY", "n0nce", "1700000000000"),
            "09761d1823315402bc27eef542fa3493d1dc5fb5b379fc24d5d8273a053e831a"
        );
    }

    #[test]
    fn nonce_is_64_alphanumerics_and_fresh() {
        let rng = SystemRandom::new();
        let a = nonce(&rng).unwrap();
        let b = nonce(&rng).unwrap();
        assert_eq!(a.len(), NONCE_LEN);
        assert!(a.bytes().all(|c| c.is_ascii_alphanumeric()), "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn advanced_headers_verify_and_change_per_attempt() {
        let creds = Credentials::new(
            Secret::new("KEY"),
            Secret::new("42"),
            SecurityLevel::Advanced,
        );
        let h1 = creds.headers(1_700_000_000_000).unwrap();
        let h2 = creds.headers(1_700_000_000_000).unwrap();
        let get = |h: &HeaderMap, k: &str| h.get(k).unwrap().to_str().unwrap().to_string();
        assert_eq!(get(&h1, "x-xdr-auth-id"), "42");
        assert_eq!(get(&h1, "x-xdr-timestamp"), "1700000000000");
        let nonce = get(&h1, "x-xdr-nonce");
        assert_eq!(
            get(&h1, "authorization"),
            advanced_signature("KEY", &nonce, "1700000000000")
        );
        assert_ne!(nonce, get(&h2, "x-xdr-nonce"));
        assert!(h1.get("authorization").unwrap().is_sensitive());
    }

    #[test]
    fn standard_sends_the_raw_key_not_its_hash() {
        let creds = Credentials::new(
            Secret::new("KEY"),
            Secret::new("7"),
            SecurityLevel::Standard,
        );
        let h = creds.headers(1).unwrap();
        assert_eq!(h.get("authorization").unwrap(), "KEY");
        assert!(h.get("x-xdr-nonce").is_none());
        assert!(h.get("x-xdr-timestamp").is_none());
        assert_ne!(
            h.get("authorization").unwrap(),
            "5ca24005b740717ba4f3f6bc48a230700e68c2a4b11ecedb96f169f4efaf1f21"
        );
    }
}
