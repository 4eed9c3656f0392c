//! Deterministic document UUIDs: the same name gives the same id on every run, so a bundle
//! is stable and a push can be idempotent by name.

/// A UUID in version-4 layout derived from SHA-256 of `name` (the version nibble is 4 and
/// the variant bits are `10`, as RFC 9562 §5.4 lays out a v4; the other bits come from the
/// hash instead of a random source).
pub fn uuid_for(name: &str) -> String {
    let d = ring::digest::digest(&ring::digest::SHA256, name.as_bytes());
    let mut b = [0u8; 16];
    b.copy_from_slice(&d.as_ref()[..16]);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Whether `s` is a lowercase hyphenated UUID with version 4 and the RFC variant.
pub fn is_uuid_v4(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(c),
        };
        if !ok {
            return false;
        }
    }
    b[14] == b'4' && matches!(b[19], b'8' | b'9' | b'a' | b'b')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_and_v4_shaped() {
        let a = uuid_for("decoder/siemtap-1password/0");
        assert_eq!(a, uuid_for("decoder/siemtap-1password/0"));
        assert_ne!(a, uuid_for("decoder/siemtap-proofpoint/0"));
        assert!(is_uuid_v4(&a), "{a}");
        assert!(!is_uuid_v4("6e1c43f1-f09b-1cec-bb59-00e3a52b7930"));
        assert!(!is_uuid_v4("6e1c43f1-f09b-4cec-cb59-00e3a52b7930"));
    }
}
