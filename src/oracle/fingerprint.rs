//! Keyed 128-bit fingerprints of ASCII-lowercased byte strings, and the ASCII classification the
//! boundary rule uses. Pure arithmetic: no tables of values, no allocation, no I/O.
//!
//! A fingerprint is two 64-bit lanes computed in one pass, each a chain of folded multiplies
//! (the 128-bit product's halves XORed, as in foldhash and wyhash) under its own four random
//! keys. The keys are drawn per [`OracleBuilder`](super::OracleBuilder) from the standard
//! library's randomly seeded `RandomState`, so no page can be written to collide with a value.

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;

/// `0x0101…01`: one in every byte.
const ONES: u64 = u64::from_ne_bytes([1; 8]);

/// ASCII-lowercases the eight bytes of `word`; every other byte is unchanged.
#[inline(always)]
pub(super) fn lower8(word: u64) -> u64 {
    let low7 = word & (0x7f * ONES);
    // High bit of each byte: set when the byte (below 0x80) is at least 'A', then at least '['.
    let at_least_a = low7.wrapping_add((0x80 - u64::from(b'A')) * ONES);
    let past_z = low7.wrapping_add((0x80 - u64::from(b'Z') - 1) * ONES);
    let upper = at_least_a & !past_z & !word & (0x80 * ONES);
    word | (upper >> 2)
}

/// Whether `byte` is ASCII alphanumeric: the bytes the boundary rule refuses on either side of a
/// value. Bytes of non-ASCII UTF-8 characters and `_` are delimiters.
#[inline(always)]
pub(super) fn is_word_byte(byte: u8) -> bool {
    WORD_BYTES[usize::from(byte)]
}

static WORD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    table
};

/// Leading ASCII alphanumeric bytes of `bytes`, at most [`MAX_RUN`]: a value's first run. A value
/// found at a position sits at the start of a run of exactly that length in the haystack (the
/// byte after the run is a non-alphanumeric byte of the value, or the boundary after it).
pub(super) fn leading_run(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .take(MAX_RUN as usize)
        .take_while(|b| is_word_byte(**b))
        .count() as u32
}

/// Runs are compared up to this length; longer ones count as this long.
pub(super) const MAX_RUN: u32 = 64;

/// The four bytes of `bytes` from `at`, little-endian, each with bit 5 set: ASCII letters
/// lowercased, digits and space unchanged, a few punctuation bytes merged with others (`@` with
/// `` ` ``). One instruction; the filters key on it, so a merge costs a lookup, never a miss.
#[inline(always)]
pub(super) fn folded4(bytes: &[u8], at: usize) -> u32 {
    fold_case(bytes[at..at + 4].try_into().expect("4 bytes"))
}

/// [`folded4`] without the bounds check, for the scan's hot loop, which visits every word start.
///
/// # Safety
///
/// `at + 4 <= bytes.len()`.
#[inline(always)]
pub(super) unsafe fn folded4_unchecked(bytes: &[u8], at: usize) -> u32 {
    debug_assert!(at + 4 <= bytes.len());
    // SAFETY: the caller keeps the four bytes inside `bytes`; `[u8; 4]` has no alignment.
    fold_case(unsafe { bytes.as_ptr().add(at).cast::<[u8; 4]>().read_unaligned() })
}

/// The folding both readers share: the filters' keys hold only if values and pages agree on it.
#[inline(always)]
fn fold_case(word: [u8; 4]) -> u32 {
    u32::from_le_bytes(word) | 0x2020_2020
}

/// The start filter's key for a value's first four bytes ([`folded4`]) and first run.
#[inline(always)]
pub(super) fn start_key(prefix: u32, run: u32) -> u64 {
    u64::from(prefix) << 8 | u64::from(run)
}

/// The span filter's hash of a value's first and last four bytes ([`folded4`]), length and
/// first run.
#[inline(always)]
pub(super) fn span_hash(prefix: u32, last: u32, len: usize, run: u32) -> u64 {
    let shape = (len as u64) << 8 | u64::from(run);
    let x = (u64::from(prefix) | u64::from(last) << 32) ^ shape.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let x = (x ^ x >> 29).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    (x ^ x >> 32).wrapping_mul(0x94d0_49bb_1331_11eb)
}

/// The two independent 64-bit lanes of one byte string's fingerprint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) struct Fingerprint {
    /// Chooses the bucket.
    pub(super) a: u64,
    /// Stored in full and compared.
    pub(super) b: u64,
}

/// The random keys of both lanes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Keys {
    a: [u64; 4],
    b: [u64; 4],
}

impl Keys {
    /// Fresh keys from the standard library's randomly seeded hasher.
    pub(super) fn random() -> Keys {
        let state = RandomState::new();
        let key = |i: u64| state.hash_one(i) | 1;
        Keys {
            a: [key(0), key(1), key(2), key(3)],
            b: [key(4), key(5), key(6), key(7)],
        }
    }

    /// The fingerprint of `bytes` with ASCII letters lowercased.
    #[inline]
    pub(super) fn fingerprint(&self, bytes: &[u8]) -> Fingerprint {
        let len = bytes.len();
        let (ka, kb) = (&self.a, &self.b);
        let mut a = ka[0] ^ len as u64;
        let mut b = kb[0] ^ (len as u64).rotate_left(32);
        let mut step = |x: u64, y: u64| {
            let (x, y) = (lower8(x), lower8(y));
            a = fold(x ^ ka[1] ^ a, y ^ ka[2]);
            b = fold(x ^ kb[1] ^ b, y ^ kb[2]);
        };
        // Words that cover every byte, overlapping where the length is not a multiple of 16:
        // unambiguous, as the length is in the initial state.
        if len <= 16 {
            let (x, y) = if len >= 8 {
                (load8(bytes, 0), load8(bytes, len - 8))
            } else if len >= 4 {
                (load4(bytes, 0), load4(bytes, len - 4))
            } else if len > 0 {
                let spread = [bytes[0], bytes[len / 2], bytes[len - 1], 0];
                (u64::from(u32::from_le_bytes(spread)), 0)
            } else {
                (0, 0)
            };
            step(x, y);
        } else {
            let mut at = 0;
            while len - at > 16 {
                step(load8(bytes, at), load8(bytes, at + 8));
                at += 16;
            }
            step(load8(bytes, len - 16), load8(bytes, len - 8));
        }
        Fingerprint {
            a: fold(a ^ ka[3], ka[1] ^ len as u64),
            b: fold(b ^ kb[3], kb[1] ^ len as u64),
        }
    }
}

#[inline(always)]
fn load8(bytes: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"))
}

#[inline(always)]
fn load4(bytes: &[u8], at: usize) -> u64 {
    u64::from(u32::from_le_bytes(
        bytes[at..at + 4].try_into().expect("4 bytes"),
    ))
}

/// The 128-bit product of `x` and `y`, its halves XORed.
#[inline(always)]
fn fold(x: u64, y: u64) -> u64 {
    let product = u128::from(x) * u128::from(y);
    (product as u64) ^ (product >> 64) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lower8_lowercases_ascii_letters_only() {
        let all: Vec<u8> = (0..=255).collect();
        for chunk in all.chunks(8) {
            let word = u64::from_le_bytes(chunk.try_into().unwrap());
            let lowered = lower8(word).to_le_bytes();
            let expected: Vec<u8> = chunk.iter().map(u8::to_ascii_lowercase).collect();
            assert_eq!(lowered.as_slice(), expected.as_slice());
        }
    }

    #[test]
    fn fingerprint_ignores_ascii_case_only() {
        let keys = Keys::random();
        let fp = |s: &str| keys.fingerprint(s.as_bytes());
        assert_eq!(fp("Marie.Curie@EXAMPLE.fr"), fp("marie.curie@example.fr"));
        assert_ne!(fp("ÉLODIE MARTIN"), fp("élodie martin"));
        assert_ne!(fp("12345"), fp("12345\0"));
        assert_ne!(fp("1234567890123456"), fp("1234567890123457"));
        // Every length from 0 to 40, each byte flipped in turn: no two fingerprints alike.
        let mut seen = std::collections::HashSet::new();
        for len in 0..40 {
            let base: Vec<u8> = (0..len as u8).map(|i| b'0' + i % 10).collect();
            assert!(seen.insert(keys.fingerprint(&base)));
            for at in 0..len {
                let mut changed = base.clone();
                changed[at] = b'#';
                assert!(
                    seen.insert(keys.fingerprint(&changed)),
                    "len {len}, byte {at}"
                );
            }
        }
    }

    #[test]
    fn leading_run_stops_at_the_first_delimiter_or_the_cap() {
        assert_eq!(leading_run(b"FR76 3000"), 4);
        assert_eq!(leading_run(b"+33 6"), 0);
        assert_eq!(leading_run(b"185057800608436"), 15);
        assert_eq!(leading_run(&[b'7'; 100]), MAX_RUN);
    }
}
