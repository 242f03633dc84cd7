//! The block classifier: masks of a 64-byte block's ASCII alphanumeric bytes and of the
//! non-alphanumeric bytes values start with, 32 bytes at a time with AVX2, else 16 with SSE2.
//! Pure arithmetic on the block; no tables of values, no I/O.

#[cfg(not(target_arch = "x86_64"))]
use super::fingerprint::is_word_byte;
use std::marker::PhantomData;

/// The masks of block `k` of `haystack` (64 bytes from `64 * k`; a last partial block is padded,
/// the bytes past the end in neither mask), as `masks` gives them for a whole block.
#[inline(always)]
pub(super) fn classify_block(haystack: &[u8], k: usize, masks: &impl BlockMasks) -> (u64, u64) {
    let n = haystack.len();
    let base = k * 64;
    if let Some(bytes) = haystack.get(base..base + 64) {
        masks.of(bytes.try_into().expect("64 bytes"))
    } else if base < n {
        let mut padded = [0u8; 64];
        padded[..n - base].copy_from_slice(&haystack[base..]);
        let valid = (1u64 << (n - base)) - 1;
        let (alnum, starts) = masks.of(&padded);
        (alnum & valid, starts & valid)
    } else {
        (0, 0)
    }
}

/// A 64-byte block's masks as one scan wants them: of its ASCII alphanumeric bytes and of the
/// non-alphanumeric bytes values start with. Methods, not closures: every call from
/// `ValueIndex::visit_avx2` down to the wide classifier must inline.
pub(super) trait BlockMasks {
    fn of(&self, block: &[u8; 64]) -> (u64, u64);
}

/// The classifier `C` comparing each byte with the first `N` of `starters`.
pub(super) struct Compared<'a, C, const N: usize> {
    pub(super) starters: &'a [u8],
    pub(super) classifier: PhantomData<C>,
}

impl<'a, C> Compared<'a, C, 0> {
    pub(super) fn with<const N: usize>(self) -> Compared<'a, C, N> {
        Compared {
            starters: self.starters,
            classifier: PhantomData,
        }
    }
}

impl<C: Classifier, const N: usize> BlockMasks for Compared<'_, C, N> {
    #[inline(always)]
    fn of(&self, block: &[u8; 64]) -> (u64, u64) {
        C::classify::<N>(block, self.starters)
    }
}

/// Starters looked up byte by byte (populations this varied are rare), with the plain classifier.
pub(super) struct LookedUp<'a>(pub(super) &'a [bool; 256]);

impl BlockMasks for LookedUp<'_> {
    #[inline(always)]
    fn of(&self, block: &[u8; 64]) -> (u64, u64) {
        let (alnum, _) = Baseline::classify::<0>(block, &[]);
        let mut starts = 0u64;
        for (i, &byte) in block.iter().enumerate() {
            starts |= u64::from(self.0[usize::from(byte)]) << i;
        }
        (alnum, starts)
    }
}

/// A block classifier: masks of a 64-byte block's ASCII alphanumeric bytes and of its bytes
/// equal to one of the first `N` of `starters`.
pub(super) trait Classifier {
    fn classify<const N: usize>(block: &[u8; 64], starters: &[u8]) -> (u64, u64);
}

/// 16 bytes at a time, with SSE2 on x86-64 (part of its baseline), byte by byte elsewhere.
pub(super) struct Baseline;

#[cfg(target_arch = "x86_64")]
impl Classifier for Baseline {
    #[inline(always)]
    fn classify<const N: usize>(block: &[u8; 64], starters: &[u8]) -> (u64, u64) {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86-64 baseline, and each load reads 16 of the block's 64
        // bytes.
        unsafe {
            let zero = _mm_setzero_si128();
            let mut alnum = 0u64;
            let mut starts = 0u64;
            for j in 0..4 {
                let v = _mm_loadu_si128(block.as_ptr().add(16 * j).cast());
                let digit =
                    _mm_subs_epu8(_mm_sub_epi8(v, _mm_set1_epi8(b'0' as i8)), _mm_set1_epi8(9));
                let lower = _mm_or_si128(v, _mm_set1_epi8(0x20));
                let letter = _mm_subs_epu8(
                    _mm_sub_epi8(lower, _mm_set1_epi8(b'a' as i8)),
                    _mm_set1_epi8(25),
                );
                let word = _mm_or_si128(_mm_cmpeq_epi8(digit, zero), _mm_cmpeq_epi8(letter, zero));
                alnum |= u64::from(_mm_movemask_epi8(word) as u16) << (16 * j);
                if N > 0 {
                    let mut any = zero;
                    for &byte in &starters[..N] {
                        any = _mm_or_si128(any, _mm_cmpeq_epi8(v, _mm_set1_epi8(byte as i8)));
                    }
                    starts |= u64::from(_mm_movemask_epi8(any) as u16) << (16 * j);
                }
            }
            (alnum, starts)
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
impl Classifier for Baseline {
    #[inline(always)]
    fn classify<const N: usize>(block: &[u8; 64], starters: &[u8]) -> (u64, u64) {
        let mut alnum = 0u64;
        let mut starts = 0u64;
        for (i, &byte) in block.iter().enumerate() {
            alnum |= u64::from(is_word_byte(byte)) << i;
            starts |= u64::from(starters[..N].contains(&byte)) << i;
        }
        (alnum, starts)
    }
}

/// 32 bytes at a time, with AVX2: only inside `ValueIndex::visit_avx2`, whose caller checked
/// the CPU has it.
#[cfg(target_arch = "x86_64")]
pub(super) struct Avx2;

#[cfg(target_arch = "x86_64")]
impl Classifier for Avx2 {
    #[inline(always)]
    fn classify<const N: usize>(block: &[u8; 64], starters: &[u8]) -> (u64, u64) {
        use std::arch::x86_64::*;
        // SAFETY: reached only from `visit_avx2`, run only where AVX2 was detected; each load
        // reads 32 of the block's 64 bytes.
        unsafe {
            let (mut alnum, mut starts) = (0u64, 0u64);
            for half in 0..2 {
                let v = _mm256_loadu_si256(block.as_ptr().add(32 * half).cast());
                let lower = _mm256_or_si256(v, _mm256_set1_epi8(0x20));
                let word = _mm256_or_si256(between(v, b'0', b'9'), between(lower, b'a', b'z'));
                let mut any = _mm256_setzero_si256();
                for &byte in &starters[..N] {
                    any = _mm256_or_si256(any, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(byte as i8)));
                }
                let shift = 32 * half;
                alnum |= u64::from(_mm256_movemask_epi8(word) as u32) << shift;
                starts |= u64::from(_mm256_movemask_epi8(any) as u32) << shift;
            }
            (alnum, starts)
        }
    }
}

/// The bytes of `v` from `low` to `high` (both ASCII, so the signed comparisons hold: no byte of
/// 0x80 or more is in), as 0xff bytes.
///
/// # Safety
///
/// The CPU has AVX2 (called only from [`Avx2::classify`]).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn between(v: std::arch::x86_64::__m256i, low: u8, high: u8) -> std::arch::x86_64::__m256i {
    use std::arch::x86_64::*;
    // SAFETY: the caller's CPU has AVX2.
    unsafe {
        let above = _mm256_cmpgt_epi8(v, _mm256_set1_epi8(low as i8 - 1));
        let below = _mm256_cmpgt_epi8(_mm256_set1_epi8(high as i8 + 1), v);
        _mm256_and_si256(above, below)
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Bytes the classifiers treat apart: letters, digits, starters, escapes, UTF-8.
    pub(in super::super) fn telling_byte() -> impl Strategy<Value = u8> {
        prop_oneof![
            proptest::sample::select(b"aZz09 +%\\-.@&;#x(\xc3\xa9".to_vec()),
            any::<u8>(),
        ]
    }

    proptest! {
        #[test]
        fn the_wide_classifier_gives_the_baseline_masks(
            block in proptest::collection::vec(telling_byte(), 64),
            starters in proptest::collection::vec(telling_byte(), 4),
        ) {
            let block: [u8; 64] = block.try_into().expect("64 bytes");
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                let s = &starters;
                prop_assert_eq!(Avx2::classify::<0>(&block, s), Baseline::classify::<0>(&block, s));
                prop_assert_eq!(Avx2::classify::<1>(&block, s), Baseline::classify::<1>(&block, s));
                prop_assert_eq!(Avx2::classify::<2>(&block, s), Baseline::classify::<2>(&block, s));
                prop_assert_eq!(Avx2::classify::<3>(&block, s), Baseline::classify::<3>(&block, s));
                prop_assert_eq!(Avx2::classify::<4>(&block, s), Baseline::classify::<4>(&block, s));
            }
        }
    }
}
