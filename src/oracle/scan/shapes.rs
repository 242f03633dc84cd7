//! What the builder learns about the values' shapes as they are added (their start keys, lengths
//! by first run, span hashes, the presentations' start keys): the input of the scan's filters.

use super::super::fingerprint::{folded4, is_word_byte, leading_run, span_hash, start_key};
use super::super::kind::ValueKind;
use super::super::presentation;
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};

/// A set of the builder's small integer keys.
pub(super) type KeySet = HashSet<u64, BuildHasherDefault<MixHasher>>;

/// What the builder learns about the values' shapes as they are added.
#[derive(Debug, Default)]
pub(in crate::oracle) struct ValueShapes {
    /// Distinct [`start_key`]s, of values and of their presentations.
    pub(super) starts: KeySet,
    /// Distinct [`start_key`]s of the values as indexed.
    pub(super) exact_starts: KeySet,
    /// Distinct (first run, length, last byte alphanumeric or not) triples, as
    /// `run << 32 | other_end << 31 | length`.
    pub(super) lengths: KeySet,
    /// Non-alphanumeric first bytes.
    pub(super) starters: [u64; 4],
    /// Each value's [`span_hash`], in the order added.
    pub(in crate::oracle) spans: Vec<u64>,
    /// What the presentations of the values need.
    pub(super) presented: PresentedShapes,
}

/// The start keys of the values' presentations (apart from their canonical forms), and which
/// kinds have them.
#[derive(Debug, Default)]
pub(super) struct PresentedShapes {
    /// Grouped kinds present, in the order first added.
    pub(super) grouped_kinds: Vec<ValueKind>,
    /// Start keys of grouped presentations.
    pub(super) grouped: KeySet,
    /// Start keys of escaped e-mail addresses.
    pub(super) escaped: KeySet,
    /// The longest e-mail address with a character a page may escape.
    pub(super) escaped_max: usize,
    /// Heads whose keys are in already (the keys depend on a value's first bytes only).
    pub(super) heads: KeySet,
}

impl ValueShapes {
    /// Records a value (at least 5 bytes).
    pub(in crate::oracle) fn add(&mut self, value: &[u8]) {
        // The scan reads four bytes from any position `min_len` bytes before the end unchecked.
        assert!(
            value.len() >= 5,
            "the builder refuses values under 5 characters"
        );
        let run = leading_run(value);
        let prefix = folded4(value, 0);
        self.starts.insert(start_key(prefix, run));
        self.exact_starts.insert(start_key(prefix, run));
        let other_end = !is_word_byte(value[value.len() - 1]);
        self.lengths
            .insert(u64::from(run) << 32 | u64::from(other_end) << 31 | value.len() as u64);
        self.spans.push(span_hash(
            prefix,
            folded4(value, value.len() - 4),
            value.len(),
            run,
        ));
        if run == 0 {
            self.starter(value[0]);
        }
    }

    fn starter(&mut self, byte: u8) {
        let byte = usize::from(byte);
        self.starters[byte / 64] |= 1 << (byte % 64);
    }

    /// Records the presentations of `value`, a canonical value of `kind` already [`add`]ed.
    ///
    /// [`add`]: Self::add
    pub(in crate::oracle) fn add_presented(&mut self, kind: ValueKind, value: &[u8]) {
        let escapable = kind == ValueKind::Email && !value.iter().all(|&b| is_word_byte(b));
        if !kind.is_grouped() && !escapable {
            return;
        }
        // The scan looks after every escape that may end in a letter or digit.
        self.starter(b'%');
        self.starter(b'\\');
        if escapable {
            self.presented.escaped_max = self.presented.escaped_max.max(value.len());
        } else if !self.presented.grouped_kinds.contains(&kind) {
            self.presented.grouped_kinds.push(kind);
        }
        // The keys depend on the kind, the length, the first run and the first bytes only: a
        // grouped value's first four (its first group's separator comes after one of them at
        // most), an address's first character past a first run under four (up to 4 bytes).
        let head_bytes = if escapable && leading_run(value) < 4 {
            8
        } else {
            4
        };
        let mut head = MixHasher::default();
        head.write_u64(kind as u64);
        head.write_u64(value.len() as u64);
        head.write_u64(u64::from(leading_run(value)));
        head.write(&value[..value.len().min(head_bytes)]);
        if !self.presented.heads.insert(head.finish()) {
            return;
        }
        let mut keys = Vec::new();
        let mut key =
            |raw: &[u8], run: u32| keys.push((start_key(folded4(raw, 0), run), raw[0], run));
        if escapable {
            // An e-mail address is valid UTF-8: the builder takes `&str`s.
            presentation::escaped_starts(&String::from_utf8_lossy(value), &mut key);
        } else {
            presentation::grouped_starts(kind, value, &mut key);
        }
        for (k, first, run) in keys {
            self.starts.insert(k);
            if run == 0 {
                self.starter(first);
            }
            if escapable {
                self.presented.escaped.insert(k);
            } else {
                self.presented.grouped.insert(k);
            }
        }
    }
}

/// A multiply-xorshift hasher for the builder's sets of small integer keys: far cheaper than
/// SipHash, and the keys are the builder's own.
#[derive(Debug, Default)]
pub(super) struct MixHasher(u64);

impl Hasher for MixHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.write_u64(u64::from(byte));
        }
    }

    fn write_u32(&mut self, x: u32) {
        self.write_u64(u64::from(x));
    }

    fn write_u64(&mut self, x: u64) {
        self.0 = (self.0 ^ x).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }

    fn finish(&self) -> u64 {
        let x = (self.0 ^ self.0 >> 32).wrapping_mul(0xd6e8_feb8_6659_fd93);
        x ^ x >> 32
    }
}
