//! API-key verification exactly as spec §4.2 / §5.4 describe it.
//!
//! Advanced keys: `Authorization` must be `hex(sha256(api_key + x-xdr-nonce + x-xdr-timestamp))`,
//! recomputed from the request's own header values and compared case-insensitively (and in
//! constant time, through an HMAC under a per-process key). Standard keys: `Authorization` is
//! the raw key; the reference integration's `sha256(key)` is rejected with its own reason.

use std::collections::HashMap;
use std::fmt;

use axum::http::{HeaderMap, header};
use ring::digest;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::args::{Config, SecurityLevel};
use crate::error::SimError;

/// Lowercase hex of SHA-256 of `text`.
pub(crate) fn sha256_hex(text: &str) -> String {
    let d = digest::digest(&digest::SHA256, text.as_bytes());
    d.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// The configured key, kept only to recompute hashes; Debug prints nothing of it.
pub(crate) struct KeyCheck {
    api_key: String,
    mac_key: hmac::Key,
    raw_tag: hmac::Tag,
    hashed_key_hex: String,
}

impl fmt::Debug for KeyCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("KeyCheck(<redacted>)")
    }
}

/// Why a request failed authentication (never echoes a credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AuthFailure {
    MissingKeyId,
    WrongKeyId,
    MissingAuthorization,
    MissingNonce,
    BadNonce,
    MissingTimestamp,
    BadTimestamp,
    StaleTimestamp,
    WrongHash,
    ReplayedNonce,
    WrongKey,
    HashedStandardKey,
}

impl AuthFailure {
    /// Short verdict for the request log.
    pub(crate) fn verdict(self) -> &'static str {
        match self {
            Self::MissingKeyId
            | Self::MissingAuthorization
            | Self::MissingNonce
            | Self::MissingTimestamp => "missing",
            Self::StaleTimestamp => "stale",
            Self::ReplayedNonce => "replayed",
            Self::WrongKeyId => "wrong_key_id",
            Self::BadNonce
            | Self::BadTimestamp
            | Self::WrongHash
            | Self::WrongKey
            | Self::HashedStandardKey => "invalid",
        }
    }

    /// Operator-facing reason, sent as `err_extra`.
    pub(crate) fn reason(self) -> &'static str {
        match self {
            Self::MissingKeyId => "missing x-xdr-auth-id header (the numeric API key id)",
            Self::WrongKeyId => "x-xdr-auth-id does not match the API key id",
            Self::MissingAuthorization => "missing Authorization header",
            Self::MissingNonce => "advanced key: missing or empty x-xdr-nonce header",
            Self::BadNonce => "advanced key: x-xdr-nonce must be 64 characters of [A-Za-z0-9]",
            Self::MissingTimestamp => "advanced key: missing x-xdr-timestamp header",
            Self::BadTimestamp => {
                "advanced key: x-xdr-timestamp must be decimal epoch milliseconds"
            }
            Self::StaleTimestamp => {
                "advanced key: x-xdr-timestamp is too far from the server clock; sync the clock"
            }
            Self::WrongHash => {
                "advanced key: Authorization is not hex(sha256(api_key + nonce + timestamp))"
            }
            Self::ReplayedNonce => "advanced key: this x-xdr-nonce was already used",
            Self::WrongKey => "standard key: Authorization does not match the API key",
            Self::HashedStandardKey => {
                "standard key: Authorization must be the raw API key, not its SHA-256"
            }
        }
    }
}

/// Nonces of accepted advanced requests (for `--reject-nonce-reuse`).
#[derive(Debug, Default)]
pub(crate) struct NonceLog {
    seen: HashMap<String, i64>,
}

impl NonceLog {
    fn prune(&mut self, now_ms: i64, keep_ms: i64) {
        if self.seen.len() > 4096 {
            self.seen.retain(|_, t| *t >= now_ms - keep_ms);
        }
    }
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

impl KeyCheck {
    /// Keeps `api_key` and derives the comparison tags under a fresh process key.
    pub(crate) fn new(api_key: &str) -> Result<Self, SimError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SimError::Random)?;
        let mac_key = hmac::Key::new(hmac::HMAC_SHA256, &bytes);
        Ok(Self {
            raw_tag: hmac::sign(&mac_key, api_key.as_bytes()),
            hashed_key_hex: sha256_hex(api_key),
            api_key: api_key.to_owned(),
            mac_key,
        })
    }

    fn equals_tag(&self, given: &str, tag: &hmac::Tag) -> bool {
        hmac::verify(&self.mac_key, given.as_bytes(), tag.as_ref()).is_ok()
    }

    /// Checks one request's headers at virtual time `now_ms`.
    pub(crate) fn verify(
        &self,
        cfg: &Config,
        headers: &HeaderMap,
        now_ms: i64,
        nonces: &mut NonceLog,
    ) -> Result<(), AuthFailure> {
        let key_id = header_str(headers, "x-xdr-auth-id").ok_or(AuthFailure::MissingKeyId)?;
        if key_id != cfg.key_id {
            return Err(AuthFailure::WrongKeyId);
        }
        let auth = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(AuthFailure::MissingAuthorization)?;
        match cfg.level {
            SecurityLevel::Standard => {
                if self.equals_tag(auth, &self.raw_tag) {
                    Ok(())
                } else if auth.eq_ignore_ascii_case(&self.hashed_key_hex) {
                    Err(AuthFailure::HashedStandardKey)
                } else {
                    Err(AuthFailure::WrongKey)
                }
            }
            SecurityLevel::Advanced => self.verify_advanced(cfg, headers, auth, now_ms, nonces),
        }
    }

    fn verify_advanced(
        &self,
        cfg: &Config,
        headers: &HeaderMap,
        auth: &str,
        now_ms: i64,
        nonces: &mut NonceLog,
    ) -> Result<(), AuthFailure> {
        let nonce = header_str(headers, "x-xdr-nonce")
            .filter(|n| !n.is_empty())
            .ok_or(AuthFailure::MissingNonce)?;
        if cfg.strict_nonce
            && !(nonce.len() == 64 && nonce.bytes().all(|b| b.is_ascii_alphanumeric()))
        {
            return Err(AuthFailure::BadNonce);
        }
        let ts_text =
            header_str(headers, "x-xdr-timestamp").ok_or(AuthFailure::MissingTimestamp)?;
        if ts_text.is_empty() || !ts_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(AuthFailure::BadTimestamp);
        }
        let ts: i64 = ts_text.parse().map_err(|_| AuthFailure::BadTimestamp)?;
        if (ts - now_ms).abs() > cfg.skew_ms {
            return Err(AuthFailure::StaleTimestamp);
        }
        let expected = sha256_hex(&format!("{}{nonce}{ts_text}", self.api_key));
        let expected_tag = hmac::sign(&self.mac_key, expected.as_bytes());
        if !self.equals_tag(&auth.to_ascii_lowercase(), &expected_tag) {
            return Err(AuthFailure::WrongHash);
        }
        if cfg.reject_nonce_reuse {
            nonces.prune(now_ms, 2 * cfg.skew_ms);
            if nonces.seen.insert(nonce.to_owned(), ts).is_some() {
                return Err(AuthFailure::ReplayedNonce);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_test_vectors() {
        assert_eq!(
            sha256_hex("KEYn0nce1700000000000"),
            "09761d1823315402bc27eef542fa3493d1dc5fb5b379fc24d5d8273a053e831a"
        );
        assert_eq!(
            sha256_hex("KEY"),
            "5ca24005b740717ba4f3f6bc48a230700e68c2a4b11ecedb96f169f4efaf1f21"
        );
        let k = KeyCheck::new("KEY").unwrap();
        assert_eq!(format!("{k:?}"), "KeyCheck(<redacted>)");
    }
}
