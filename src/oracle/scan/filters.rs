//! The scan's two bitmaps: the start filter over (first four bytes, first run) keys and the span
//! filter over span hashes; each rejects, in one read, what can be no value.

use super::super::huge_pages;

const MIN_BITS: usize = 512;

/// The start filter: a power-of-two bitmap over [`start_key`]s, one multiply-shift per lookup.
#[derive(Debug)]
pub(super) struct StartFilter {
    pub(super) words: Vec<u64>,
    shift: u32,
}

impl StartFilter {
    pub(super) fn new(bits: usize, keys: impl IntoIterator<Item = u64>) -> StartFilter {
        let bits = bits.max(MIN_BITS).next_power_of_two();
        let mut filter = StartFilter {
            words: vec![0; bits / 64],
            shift: 64 - bits.trailing_zeros(),
        };
        for key in keys {
            let bit = filter.bit(key);
            filter.words[bit / 64] |= 1 << (bit % 64);
        }
        filter
    }

    #[inline(always)]
    fn bit(&self, key: u64) -> usize {
        (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> self.shift) as usize
    }

    #[inline(always)]
    pub(super) fn contains(&self, key: u64) -> bool {
        let bit = self.bit(key);
        debug_assert!(bit / 64 < self.words.len());
        // SAFETY: `shift` is 64 − log2 of the bit count, so `bit` is below it: `words` has
        // `bits / 64` words. Checked in debug builds; the check costs a tenth of the scan.
        let word = unsafe { *self.words.get_unchecked(bit / 64) };
        word >> (bit % 64) & 1 == 1
    }
}

/// The span filter: a bitmap of any number of bits over [`span_hash`]es (a hash picks its bit
/// by scaling).
#[derive(Debug)]
pub(super) struct SpanFilter {
    pub(super) words: Vec<u64>,
    bits: u64,
}

impl SpanFilter {
    pub(super) fn new(bits: usize, hashes: impl IntoIterator<Item = u64>) -> SpanFilter {
        let bits = bits.max(MIN_BITS).div_ceil(64) * 64;
        let mut filter = SpanFilter {
            words: huge_pages::zeroed(bits / 64),
            bits: bits as u64,
        };
        for hash in hashes {
            let bit = filter.bit(hash);
            filter.words[bit / 64] |= 1 << (bit % 64);
        }
        filter
    }

    #[inline(always)]
    pub(super) fn bit(&self, hash: u64) -> usize {
        ((u128::from(hash) * u128::from(self.bits)) >> 64) as usize
    }

    #[inline(always)]
    pub(super) fn has_bit(&self, bit: usize) -> bool {
        self.words[bit / 64] >> (bit % 64) & 1 == 1
    }
}

/// Share of `words`' bits set.
#[cfg(test)]
pub(super) fn load(words: &[u64]) -> f64 {
    let set: u32 = words.iter().map(|w| w.count_ones()).sum();
    f64::from(set) / (words.len() * 64) as f64
}
