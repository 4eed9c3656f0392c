//! Counter-based pseudo-random numbers.
//!
//! Every record is generated from a [`Draw`] keyed by `(seed, tenant, stream, index, ...)`, so
//! record `i` can be produced on demand without generating records `0..i` first. The mixer is
//! SplitMix64; it is not cryptographic and does not need to be.

/// SplitMix64 finaliser: a bijective 64-bit mixer.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Stable 64-bit hash of a string (FNV-1a, then mixed).
pub(crate) fn hash_str(s: &str) -> u64 {
    let mut h: u64 = 0xCBF2_9CE4_8422_2325;
    for b in s.as_bytes() {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    mix64(h)
}

/// Folds a key of words into one well-mixed 64-bit value.
pub(crate) fn hash_key(key: &[u64]) -> u64 {
    key.iter()
        .fold(0x9E37_79B9_7F4A_7C15_u64, |acc, k| mix64(acc ^ mix64(*k)))
}

/// Uniform number in `[0, 1)` derived from a key.
pub(crate) fn unit_of(key: &[u64]) -> f64 {
    to_unit(hash_key(key))
}

fn to_unit(x: u64) -> f64 {
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// A deterministic stream of draws for one key.
#[derive(Debug, Clone)]
pub(crate) struct Draw {
    state: u64,
}

impl Draw {
    /// A draw sequence determined only by `key`.
    pub(crate) fn new(key: &[u64]) -> Self {
        Self {
            state: hash_key(key),
        }
    }

    /// Next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.state)
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        // Multiply-shift: bias is negligible for the small `n` used here.
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        to_unit(self.next_u64())
    }

    /// `true` with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// One value of a non-empty weighted list.
    pub(crate) fn weighted<T: Copy>(&mut self, items: &[(T, u32)]) -> T {
        let total: u64 = items.iter().map(|(_, w)| u64::from(*w)).sum();
        let mut roll = self.below(total);
        for (value, weight) in items {
            if roll < u64::from(*weight) {
                return *value;
            }
            roll -= u64::from(*weight);
        }
        items[items.len() - 1].0
    }

    /// `len` characters of RFC 4648 base32 (`A-Z2-7`), upper or lower case.
    pub(crate) fn base32(&mut self, len: usize, upper: bool) -> String {
        const UPPER: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        const LOWER: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
        let table = if upper { UPPER } else { LOWER };
        (0..len)
            .map(|_| char::from(table[(self.next_u64() >> 59) as usize]))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_draws_and_different_key_different_draws() {
        let a: Vec<u64> = {
            let mut d = Draw::new(&[1, 2, 3]);
            (0..4).map(|_| d.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut d = Draw::new(&[1, 2, 3]);
            (0..4).map(|_| d.next_u64()).collect()
        };
        let c: Vec<u64> = {
            let mut d = Draw::new(&[1, 2, 4]);
            (0..4).map(|_| d.next_u64()).collect()
        };
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn base32_alphabet_and_weights() {
        let mut d = Draw::new(&[7]);
        let s = d.base32(26, true);
        assert_eq!(s.len(), 26);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b))
        );
        let l = d.base32(26, false);
        assert!(
            l.bytes()
                .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b))
        );
        let mut hits = 0;
        for _ in 0..1000 {
            if d.weighted(&[(true, 1), (false, 3)]) {
                hits += 1;
            }
        }
        assert!((150..350).contains(&hits), "weight 1/4 gave {hits}/1000");
    }
}
