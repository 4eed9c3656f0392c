//! Opaque, tamper-evident cursors.
//!
//! A cursor is `base64url(payload ‖ HMAC-SHA256(key, payload))` with payload
//! `op1|epoch|tenant|stream|a|b|limit|start|end|issued`. The key is drawn from the OS at start
//! (or derived from the seed with `--deterministic-cursors`, for byte-identical bodies across
//! runs). `epoch` changes on `/_sim/reset`, which invalidates older cursors.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

use super::stream::Stream;
use super::timeline::{Filter, Position};
use crate::error::SimError;

const TAG_LEN: usize = 32;

/// What a cursor carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CursorData {
    pub(crate) epoch: u64,
    pub(crate) tenant: String,
    pub(crate) stream: Stream,
    pub(crate) pos: Position,
    pub(crate) limit: u32,
    pub(crate) filter: Filter,
    pub(crate) issued_ns: i64,
}

/// Why a cursor string was refused (the text goes into the 400 body).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CursorError {
    #[error("cursor is not base64url text from this simulator")]
    Encoding,
    #[error("cursor failed its integrity check (tampered, or issued by another simulator process)")]
    Tampered,
    #[error("cursor payload is malformed")]
    Malformed,
}

/// The per-process HMAC key.
#[derive(Debug)]
pub(crate) struct CursorKey {
    key: hmac::Key,
}

impl CursorKey {
    /// A fresh random key.
    pub(crate) fn random() -> Result<Self, SimError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SimError::Random)?;
        Ok(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &bytes),
        })
    }

    /// A key derived from the seed (`--deterministic-cursors`).
    pub(crate) fn from_seed(seed: u64) -> Self {
        let material = format!("siemtap-sim cursor key, seed {seed}");
        Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, material.as_bytes()),
        }
    }

    /// Encodes and signs a cursor.
    pub(crate) fn encode(&self, c: &CursorData) -> String {
        let opt = |v: Option<i64>| v.map_or_else(|| "-".to_owned(), |x| x.to_string());
        let payload = format!(
            "op1|{}|{}|{}|{}|{}|{}|{}|{}|{}",
            c.epoch,
            c.tenant,
            c.stream.name(),
            c.pos.a,
            c.pos.b,
            c.limit,
            opt(c.filter.start_ns),
            opt(c.filter.end_ns),
            c.issued_ns
        );
        let tag = hmac::sign(&self.key, payload.as_bytes());
        let mut bytes = payload.into_bytes();
        bytes.extend_from_slice(tag.as_ref());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Verifies and decodes a cursor.
    pub(crate) fn decode(&self, s: &str) -> Result<CursorData, CursorError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| CursorError::Encoding)?;
        if bytes.len() <= TAG_LEN {
            return Err(CursorError::Encoding);
        }
        let (payload, tag) = bytes.split_at(bytes.len() - TAG_LEN);
        hmac::verify(&self.key, payload, tag).map_err(|_| CursorError::Tampered)?;
        let text = std::str::from_utf8(payload).map_err(|_| CursorError::Malformed)?;
        let f: Vec<&str> = text.split('|').collect();
        let [
            version,
            epoch,
            tenant,
            stream,
            a,
            b,
            limit,
            start,
            end,
            issued,
        ] = f[..]
        else {
            return Err(CursorError::Malformed);
        };
        let num = |x: &str| x.parse::<u64>().map_err(|_| CursorError::Malformed);
        let opt = |x: &str| match x {
            "-" => Ok(None),
            v => v
                .parse::<i64>()
                .map(Some)
                .map_err(|_| CursorError::Malformed),
        };
        if version != "op1" {
            return Err(CursorError::Malformed);
        }
        Ok(CursorData {
            epoch: num(epoch)?,
            tenant: tenant.to_owned(),
            stream: Stream::from_name(stream).ok_or(CursorError::Malformed)?,
            pos: Position {
                a: num(a)?,
                b: num(b)?,
            },
            limit: u32::try_from(num(limit)?).map_err(|_| CursorError::Malformed)?,
            filter: Filter {
                start_ns: opt(start)?,
                end_ns: opt(end)?,
            },
            issued_ns: issued.parse().map_err(|_| CursorError::Malformed)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CursorData {
        CursorData {
            epoch: 2,
            tenant: "client-a".into(),
            stream: Stream::Signin,
            pos: Position { a: 10, b: 3 },
            limit: 100,
            filter: Filter {
                start_ns: Some(-5),
                end_ns: None,
            },
            issued_ns: 1_800_000_000_000_000_000,
        }
    }

    #[test]
    fn round_trip_and_tamper_detection() {
        let key = CursorKey::random().unwrap();
        let s = key.encode(&sample());
        assert_eq!(key.decode(&s).unwrap(), sample());
        let mut bytes = URL_SAFE_NO_PAD.decode(&s).unwrap();
        bytes[22] ^= 1;
        assert_eq!(
            key.decode(&URL_SAFE_NO_PAD.encode(bytes)),
            Err(CursorError::Tampered)
        );
        assert_eq!(key.decode("%%%"), Err(CursorError::Encoding));
        let other = CursorKey::random().unwrap();
        assert_eq!(other.decode(&s), Err(CursorError::Tampered));
        assert_eq!(
            CursorKey::from_seed(1).encode(&sample()),
            CursorKey::from_seed(1).encode(&sample())
        );
    }
}
