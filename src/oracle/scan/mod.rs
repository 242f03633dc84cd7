//! The scan: one pass over a haystack that stops only where a value may start, filters those
//! positions through two bitmaps, and looks the few survivors up in the value table. No
//! allocation beyond what the caller collects; no I/O.
//!
//! This file holds the index and the scan itself; what the builder learns about the values is in
//! `shapes.rs`, the two bitmaps in `filters.rs`, the batches of spans in flight in `lookups.rs`.
//!
//! # Where a value may start
//!
//! The boundary rule says a value starts where the previous byte is not ASCII alphanumeric, so
//! the scan classifies 64 bytes at a time (with AVX2 where the CPU has it, else SSE2 on
//! x86-64) into a mask of alphanumeric bytes and a mask of the non-alphanumeric bytes some value
//! starts with (`+` of `+33 6 …`), and visits only the positions of either whose previous byte is
//! not alphanumeric: word starts, mostly.
//!
//! # The start filter
//!
//! At such a position the scan knows the run of alphanumeric bytes that starts there (up to 64)
//! and the next four bytes. A value starting there has the same first four bytes (ASCII case
//! aside) and the same first run: its bytes are the haystack's, and the byte after its first run
//! is either one of its own delimiters or the boundary after it. A bitmap over a hash of (first
//! four bytes, first run), 16 bits per distinct pair, rejects nearly every word of markup or
//! prose while staying in cache: a real population's values share few such pairs (all its NIRs
//! start with one of a few thousand), so the filter takes a few kilobytes.
//!
//! # The span filter
//!
//! A position that passes, and whose key is also in a second start filter over the values' own
//! keys (not their presentations'), is tried at each length some value with that first run has
//! and at which the span ends at a boundary (both as bit masks, so lengths that end inside a word
//! cost nothing); for a value whose last byte is a letter or digit, only where a word ends.
//! Another bitmap, 12 bits per value, over a hash of (first four bytes, last four bytes, length, first
//! run) rejects most spans that are no value; the ones left are fingerprinted and looked up in
//! the [`ValueTable`]. At a million owners that bitmap (15 MB) and the table are far bigger than
//! the cache, so both are read in batches: a span's filter word is asked for when it is tried and
//! read when its batch is sifted, the survivors' table entries likewise, so the misses overlap;
//! both sit on huge pages where Linux gives them, so the misses rarely walk the page tables too.
//! Every delimited occurrence of every value passes both filters, so it is looked up and found,
//! whatever values overlap or contain one another.

mod filters;
mod lookups;
mod shapes;

#[cfg(target_arch = "x86_64")]
use super::classify::Avx2;
use super::classify::{classify_block, Baseline, BlockMasks, Classifier, Compared, LookedUp};
use super::fingerprint::{
    folded4, folded4_unchecked, is_word_byte, leading_run, span_hash, start_key, Fingerprint, Keys,
    MAX_RUN,
};
use super::kind::ValueKind;
use super::presentation;
use super::table::{prefetch, ValueTable};
#[cfg(test)]
use filters::load;
use filters::{SpanFilter, StartFilter};
#[cfg(test)]
pub(super) use lookups::ScanCounts;
pub(super) use lookups::Visitor;
use lookups::{Hits, Lookups, Tried};
pub(super) use shapes::ValueShapes;
use shapes::{KeySet, PresentedShapes};
use std::marker::PhantomData;
use std::mem::size_of;

/// Start filter bits per distinct (first four bytes, first run) pair.
const START_BITS_PER_KEY: usize = 16;
/// Start filter bits per value at most: a population whose values all start differently gets a
/// filter of this size rather than one the size of the value table.
const START_BITS_PER_VALUE: usize = 8;
/// Span filter bits per value: about one span in twelve that is no value gets through.
const SPAN_BITS_PER_VALUE: usize = 12;

/// The non-alphanumeric bytes values start with, as the block classifier wants them.
#[derive(Clone, Debug)]
enum Starters {
    None,
    /// One to four bytes, compared in SIMD.
    Few(Vec<u8>),
    /// More: looked up byte by byte.
    Table(Box<[bool; 256]>),
}

/// A position a value may start at, as the span filter hashes its spans: where, its first four
/// bytes ([`folded4`]) and its first run.
#[derive(Clone, Copy)]
struct Head {
    start: usize,
    prefix: u32,
    run: u32,
}

/// Everything a scan needs: fingerprint keys, both filters, lengths by first run, and the value
/// table. Immutable once built.
#[derive(Debug)]
pub(super) struct ValueIndex {
    keys: Keys,
    start_filter: StartFilter,
    /// The start filter over the values' own start keys only: a position that passes the start
    /// filter as a presentation's start only is tried at no exact length.
    exact_start_filter: StartFilter,
    span_filter: SpanFilter,
    /// By first run (`0..=MAX_RUN`): bit `l` for each length `l` < 64 of a value with that run
    /// whose last byte is a letter or digit, then of one whose last byte is not.
    short_lengths: Box<[[u64; 2]]>,
    /// By first run: the lengths of 64 bytes or more, ascending.
    long_lengths: Box<[Box<[u32]>]>,
    /// Bit `r`: some value has first run `r` and 64 bytes or more.
    long_runs: u128,
    /// The shortest value's length (`usize::MAX` when there is none).
    min_len: usize,
    starters: Starters,
    table: ValueTable,
    presented: Option<Box<Presented>>,
}

/// What the scan needs to read presentations: the grouped kinds to try, and filters over the
/// start keys of each family of presentations.
#[derive(Debug)]
struct Presented {
    grouped_kinds: Vec<ValueKind>,
    grouped: StartFilter,
    escaped: StartFilter,
    escaped_max: usize,
}

impl Presented {
    fn new(shapes: PresentedShapes) -> Option<Box<Presented>> {
        if shapes.grouped_kinds.is_empty() && shapes.escaped_max == 0 {
            return None;
        }
        let filter =
            |keys: &KeySet| StartFilter::new(keys.len() * START_BITS_PER_KEY, keys.iter().copied());
        Some(Box::new(Presented {
            grouped_kinds: shapes.grouped_kinds,
            grouped: filter(&shapes.grouped),
            escaped: filter(&shapes.escaped),
            escaped_max: shapes.escaped_max,
        }))
    }

    /// Whether a presentation may start where the start key is `key`.
    #[inline(always)]
    fn may_start(&self, key: u64) -> bool {
        self.grouped.contains(key) || (self.escaped_max > 0 && self.escaped.contains(key))
    }

    fn memory_bytes(&self) -> usize {
        (self.grouped.words.capacity() + self.escaped.words.capacity()) * size_of::<u64>()
    }
}

impl ValueIndex {
    /// The index over records `0..a.len()` (fingerprints `(a[i], b[i])` taken with `keys`,
    /// payloads `payload(i)` ≤ `max_payload`), whose shapes `shapes` describes.
    pub(super) fn build(
        keys: Keys,
        shapes: ValueShapes,
        a: &[u64],
        b: &[u64],
        payload: impl Fn(usize) -> u64 + Sync,
        max_payload: u64,
    ) -> ValueIndex {
        let values = a.len();
        let start_filter = |keys: &KeySet| {
            let bits = (keys.len() * START_BITS_PER_KEY).min(values * START_BITS_PER_VALUE);
            StartFilter::new(bits, keys.iter().copied())
        };
        let (exact_start_filter, start_filter) = (
            start_filter(&shapes.exact_starts),
            start_filter(&shapes.starts),
        );
        let span_filter =
            SpanFilter::new(values * SPAN_BITS_PER_VALUE, shapes.spans.iter().copied());
        drop(shapes.spans);
        let table = ValueTable::build(a, b, payload, max_payload);

        let mut long_runs = 0u128;
        let mut short_lengths = vec![[0u64; 2]; MAX_RUN as usize + 1];
        let mut long_lengths: Vec<Vec<u32>> = vec![Vec::new(); MAX_RUN as usize + 1];
        let mut min_len = usize::MAX;
        for &pair in &shapes.lengths {
            let (run, other_end, len) = (
                (pair >> 32) as usize,
                usize::from(pair >> 31 & 1 == 1),
                pair as u32 & 0x7fff_ffff,
            );
            if len < 64 {
                short_lengths[run][other_end] |= 1 << len;
            } else {
                long_runs |= 1 << run;
                long_lengths[run].push(len);
            }
            min_len = min_len.min(len as usize);
        }
        let long_lengths = long_lengths
            .into_iter()
            .map(|mut l| {
                l.sort_unstable();
                l.into_boxed_slice()
            })
            .collect();
        let starters: Vec<u8> = (0..=255u8)
            .filter(|&byte| shapes.starters[usize::from(byte) / 64] >> (byte % 64) & 1 == 1)
            .collect();
        let starters = match starters.len() {
            0 => Starters::None,
            1..=4 => Starters::Few(starters),
            _ => {
                let mut table = Box::new([false; 256]);
                for byte in starters {
                    table[usize::from(byte)] = true;
                }
                Starters::Table(table)
            }
        };
        ValueIndex {
            presented: Presented::new(shapes.presented),
            keys,
            start_filter,
            exact_start_filter,
            span_filter,
            short_lengths: short_lengths.into_boxed_slice(),
            long_lengths,
            long_runs,
            min_len,
            starters,
            table,
        }
    }

    /// Calls `hit(start, end, payload)` for every delimited occurrence of every value in
    /// `haystack`, by increasing `start`, then `end`.
    pub(super) fn scan(&self, haystack: &[u8], hit: impl FnMut(usize, usize, u64)) {
        self.visit(haystack, &mut Hits(hit));
    }

    /// How far the positions of `haystack` get (for measurements).
    #[cfg(test)]
    pub(super) fn counts(&self, haystack: &[u8]) -> ScanCounts {
        let mut counts = ScanCounts::default();
        self.visit(haystack, &mut counts);
        counts
    }

    fn visit(&self, haystack: &[u8], visitor: &mut impl Visitor) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("bmi2")
        {
            // SAFETY: the CPU has AVX2 and BMI2, just checked.
            return unsafe { self.visit_avx2(haystack, visitor) };
        }
        self.visit_blocks::<Baseline>(haystack, visitor);
    }

    /// [`visit`](Self::visit) compiled for AVX2, so the wide classifier inlines into the scan,
    /// and BMI2 (CPUs with AVX2 have it too), whose shifts take any register.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,bmi2")]
    unsafe fn visit_avx2(&self, haystack: &[u8], visitor: &mut impl Visitor) {
        self.visit_blocks::<Avx2>(haystack, visitor);
    }

    /// The scan with the block classifier `C`, specialised for the number of starters.
    #[inline(always)]
    fn visit_blocks<C: Classifier>(&self, haystack: &[u8], visitor: &mut impl Visitor) {
        let compared = |starters| Compared::<C, 0> {
            starters,
            classifier: PhantomData,
        };
        match &self.starters {
            Starters::None => self.scan_with(haystack, visitor, compared(&[])),
            Starters::Few(bytes) => match bytes.len() {
                1 => self.scan_with(haystack, visitor, compared(bytes).with::<1>()),
                2 => self.scan_with(haystack, visitor, compared(bytes).with::<2>()),
                3 => self.scan_with(haystack, visitor, compared(bytes).with::<3>()),
                _ => self.scan_with(haystack, visitor, compared(bytes).with::<4>()),
            },
            Starters::Table(table) => self.scan_with(haystack, visitor, LookedUp(table)),
        }
    }

    /// The scan, with `masks` giving a block's alphanumeric bytes and non-alphanumeric starting
    /// bytes as masks.
    #[inline(always)]
    fn scan_with(&self, haystack: &[u8], visitor: &mut impl Visitor, masks: impl BlockMasks) {
        let n = haystack.len();
        if n < self.min_len {
            return;
        }
        let last_start = n - self.min_len;
        let mut lookups = Lookups::new();
        let (mut alnum, mut starts) = classify_block(haystack, 0, &masks);
        let mut carry = 0u64;
        let mut base = 0;
        while base <= last_start {
            let (next_alnum, next_starts) = classify_block(haystack, base / 64 + 1, &masks);
            let preceded = alnum << 1 | carry;
            let mut candidates = (alnum | starts) & !preceded;
            if last_start - base < 63 {
                candidates &= u64::MAX >> (63 - (last_start - base));
            }
            let mut passed =
                self.passing_starts(haystack, base, candidates, [alnum, next_alnum], visitor);
            // Second pass, rare: the spans from each position that passed.
            while passed != 0 {
                let i = passed.trailing_zeros();
                passed &= passed - 1;
                visitor.start_passed();
                let word = following(alnum, next_alnum, i);
                self.try_start(haystack, base + i as usize, word, &mut lookups, visitor);
            }
            // Rare too: after an escape that ends in a letter or digit (`\n`, `\u00a0`, `%20`),
            // a value starts where no word does.
            if self.presented.is_some() {
                let mut escapes = starts;
                while escapes != 0 {
                    let i = escapes.trailing_zeros() as usize;
                    escapes &= escapes - 1;
                    self.after_escape(haystack, base + i, last_start, &mut lookups, visitor);
                }
            }
            carry = alnum >> 63;
            alnum = next_alnum;
            starts = next_starts;
            base += 64;
        }
        lookups.finish(self, haystack, visitor);
    }

    /// The first pass, the hot one: of `candidates` (positions in the block at `base`, whose
    /// alphanumeric bytes and the next block's are `alnum`), those whose first run and four bytes
    /// pass the start filter. As little live state as possible.
    #[inline(always)]
    fn passing_starts(
        &self,
        haystack: &[u8],
        base: usize,
        mut candidates: u64,
        [alnum, next_alnum]: [u64; 2],
        visitor: &mut impl Visitor,
    ) -> u64 {
        let mut passed = 0u64;
        while candidates != 0 {
            let i = candidates.trailing_zeros();
            candidates &= candidates - 1;
            visitor.candidate();
            // Most words end inside their block: one shift; the last one may need the next.
            let ends = !alnum >> i;
            let run = if ends != 0 {
                ends.trailing_zeros()
            } else {
                (!following(alnum, next_alnum, i)).trailing_zeros()
            };
            // SAFETY: a candidate is at most `last_start`, `min_len` (5 or more) bytes before
            // the haystack's end.
            let prefix = unsafe { folded4_unchecked(haystack, base + i as usize) };
            passed |= u64::from(self.start_filter.contains(start_key(prefix, run))) << i;
        }
        passed
    }

    /// Tries every span from `start` a value may fill: lengths some value with this first run
    /// has, ending at a boundary. `word` has bit `j` set when byte `start + j` is alphanumeric.
    #[inline(always)]
    fn try_start(
        &self,
        haystack: &[u8],
        start: usize,
        word: u64,
        lookups: &mut Lookups,
        visitor: &mut impl Visitor,
    ) {
        let head = Head {
            start,
            prefix: folded4(haystack, start),
            // At most 64 (`MAX_RUN`): the trailing zeros of a `u64`.
            run: (!word).trailing_zeros(),
        };
        let key = start_key(head.prefix, head.run);
        // A position that passed as a presentation's start only (`06 39 …`, `FR76 3000 …`) is
        // tried at no exact length: those are lengths of other values with that first run.
        if self.exact_start_filter.contains(key) {
            self.try_lengths(haystack, head, word, lookups, visitor);
        }
        if let Some(presented) = &self.presented {
            // Most positions start no presentation: two filter reads here, no call.
            if presented.may_start(key) {
                self.try_presented(presented, haystack, head, lookups, visitor);
            }
        }
    }

    /// Tries the spans from `head` at every length some value with its first run has, where a
    /// boundary follows (`word` as for [`try_start`](Self::try_start)).
    #[inline(always)]
    fn try_lengths(
        &self,
        haystack: &[u8],
        head: Head,
        word: u64,
        lookups: &mut Lookups,
        visitor: &mut impl Visitor,
    ) {
        let (n, start, run) = (haystack.len(), head.start, head.run);
        let room = n - start;
        let within = if room < 64 {
            u64::MAX >> (63 - room)
        } else {
            u64::MAX
        };
        // A span may end where the byte after it is no letter or digit; a value that ends in one
        // only where the word ends there too.
        let [word_end, other_end] = self.short_lengths[run as usize];
        let mut lengths = (word_end & word << 1 | other_end) & !word & within;
        while lengths != 0 {
            let len = lengths.trailing_zeros() as usize;
            lengths &= lengths - 1;
            self.try_span(haystack, head, len, lookups, visitor);
        }
        if self.long_runs >> run & 1 == 1 {
            for &len in self.long_lengths[run as usize].iter() {
                let end = start + len as usize;
                if end > n {
                    break;
                }
                if end == n || !is_word_byte(haystack[end]) {
                    self.try_span(haystack, head, len as usize, lookups, visitor);
                }
            }
        }
    }

    /// Treats the place after the escape at `at` (if there is one there, it decodes to no letter
    /// or digit and it ends in one) as a word start: the value after `\n` or `%20` is delimited.
    #[inline(never)]
    fn after_escape(
        &self,
        haystack: &[u8],
        at: usize,
        last_start: usize,
        lookups: &mut Lookups,
        visitor: &mut impl Visitor,
    ) {
        if !matches!(haystack[at], b'%' | b'\\') {
            return;
        }
        let unit = presentation::decode(haystack, at);
        let start = at + unit.len;
        if !unit.escaped
            || unit.ch.is_ascii_alphanumeric()
            || start > last_start
            || !is_word_byte(haystack[start - 1])
        {
            return;
        }
        let word = haystack[start..]
            .iter()
            .take(64)
            .enumerate()
            .fold(0u64, |w, (j, &b)| w | u64::from(is_word_byte(b)) << j);
        let run = (!word).trailing_zeros();
        if !self
            .start_filter
            .contains(start_key(folded4(haystack, start), run))
        {
            return;
        }
        visitor.start_passed();
        self.try_start(haystack, start, word, lookups, visitor);
    }

    /// Reads the presentations that may start at `head` back to canonical forms and queues
    /// those some value may have for a lookup.
    #[inline(never)]
    fn try_presented(
        &self,
        presented: &Presented,
        haystack: &[u8],
        head: Head,
        lookups: &mut Lookups,
        visitor: &mut impl Visitor,
    ) {
        let (start, key) = (head.start, start_key(head.prefix, head.run));
        let mut found = |canonical: &[u8], end: usize| {
            self.try_canonical(haystack, canonical, start, end, lookups, visitor)
        };
        if presented.grouped.contains(key) {
            for &kind in &presented.grouped_kinds {
                presentation::grouped(haystack, start, kind, &mut found);
            }
        }
        if presented.escaped_max > 0 && presented.escaped.contains(key) {
            presentation::escaped(haystack, start, presented.escaped_max, &mut found);
        }
    }

    /// Queues `canonical`, read from `haystack[start..end]`, for the span filter if a value may
    /// have its length and first run.
    fn try_canonical(
        &self,
        haystack: &[u8],
        canonical: &[u8],
        start: usize,
        end: usize,
        lookups: &mut Lookups,
        visitor: &mut impl Visitor,
    ) {
        let len = canonical.len();
        if len < self.min_len.max(4) {
            return;
        }
        let run = leading_run(canonical);
        let has_length = if len < 64 {
            let [word_end, other_end] = self.short_lengths[run as usize];
            (word_end | other_end) >> len & 1 == 1
        } else {
            self.long_lengths[run as usize]
                .binary_search(&(len as u32))
                .is_ok()
        };
        if !has_length {
            return;
        }
        let hash = span_hash(folded4(canonical, 0), folded4(canonical, len - 4), len, run);
        let fingerprint = self.keys.fingerprint(canonical);
        let tried = self.tried(start, end, hash, Some(fingerprint));
        lookups.try_span(self, haystack, tried, visitor);
    }

    /// Queues the `len` bytes of `haystack` from `head` for the span filter.
    #[inline(always)]
    fn try_span(
        &self,
        haystack: &[u8],
        head: Head,
        len: usize,
        lookups: &mut Lookups,
        visitor: &mut impl Visitor,
    ) {
        let end = head.start + len;
        let hash = span_hash(head.prefix, folded4(haystack, end - 4), len, head.run);
        lookups.try_span(
            self,
            haystack,
            self.tried(head.start, end, hash, None),
            visitor,
        );
    }

    /// The span `start..end`, whose [`span_hash`] is `hash`, as the span filter sifts it
    /// (`fingerprint`: its canonical form's, when it is a presentation); asks for its filter word.
    #[inline(always)]
    fn tried(
        &self,
        start: usize,
        end: usize,
        hash: u64,
        fingerprint: Option<Fingerprint>,
    ) -> Tried {
        let bit = self.span_filter.bit(hash);
        prefetch(&self.span_filter.words[bit / 64]);
        Tried {
            start,
            end,
            bit,
            fingerprint,
        }
    }

    #[cfg(test)]
    pub(super) fn table(&self) -> &ValueTable {
        &self.table
    }

    /// Share of each filter's bits set (for measurements).
    #[cfg(test)]
    pub(super) fn filter_loads(&self) -> (f64, f64) {
        (
            load(&self.start_filter.words),
            load(&self.span_filter.words),
        )
    }

    pub(super) fn memory_bytes(&self) -> usize {
        (self.start_filter.words.capacity()
            + self.exact_start_filter.words.capacity()
            + self.span_filter.words.capacity())
            * size_of::<u64>()
            + self.short_lengths.len() * size_of::<[u64; 2]>()
            + self.long_lengths.len() * size_of::<Box<[u32]>>()
            + self
                .long_lengths
                .iter()
                .map(|l| l.len() * size_of::<u32>())
                .sum::<usize>()
            + match &self.starters {
                Starters::None => 0,
                Starters::Few(bytes) => bytes.capacity(),
                Starters::Table(_) => 256,
            }
            + self.table.memory_bytes()
            + self.presented.as_ref().map_or(0, |p| p.memory_bytes())
    }
}

/// The 64 bits of the concatenation `high:low` from bit `i` (< 64): which of the 64 bytes from a
/// position are alphanumeric, given the masks of its block and the next.
#[inline(always)]
fn following(low: u64, high: u64, i: u32) -> u64 {
    // `high << 1 << (63 - i)` rather than `high << (64 - i)`: no shift by 64 when i is 0.
    low >> i | high << 1 << (63 - i)
}

#[cfg(test)]
mod tests {
    use super::super::bench::values;
    use super::super::classify::tests::telling_byte;
    use super::super::{Oracle, OracleBuilder, OwnerId, ValueKind};
    use super::*;
    use proptest::prelude::*;

    /// Owners of the synthetic population in these tests.
    const OWNERS: u64 = 3;

    /// The synthetic population of `bench.rs` for a few owners, with kinds, so its NIRs, phones,
    /// IBANs and addresses have presentations.
    fn presented_oracle() -> Oracle {
        let mut builder = OracleBuilder::new();
        for owner in 0..OWNERS {
            for (field, value) in values(owner) {
                let kind = match field {
                    "nir" | "written_nir" => ValueKind::Nir,
                    "phone" | "written_phone" => ValueKind::PhoneFr,
                    "iban" | "written_iban" => ValueKind::Iban,
                    "email" => ValueKind::Email,
                    _ => ValueKind::Text,
                };
                let field = builder.field_of_kind(field, kind);
                builder
                    .add(owner as OwnerId, field, &value)
                    .expect("synthetic values are unique");
            }
        }
        builder.build().expect("synthetic population builds")
    }

    /// The population's values as written, and a few presentations and escapes.
    fn pieces() -> Vec<Vec<u8>> {
        let mut pieces: Vec<Vec<u8>> = (0..OWNERS)
            .flat_map(|owner| values(owner).map(|(_, value)| value.into_bytes()))
            .collect();
        let (phone, email) = (values(1)[4].1.clone(), values(2)[6].1.clone());
        let dotted: Vec<&str> = (0..5).map(|i| &phone[2 * i..2 * i + 2]).collect();
        pieces.push(dotted.join(".").into_bytes());
        pieces.push(format!("+33 {}", &phone[1..]).into_bytes());
        pieces.push(email.replace('@', "&#64;").into_bytes());
        pieces.push(email.replace('@', "%40").into_bytes());
        pieces.extend([b"\\n".to_vec(), b"%20".to_vec()]);
        pieces
    }

    /// Every hit of `index` in `page` through the classifier `C`, in order.
    fn hits_with<C: Classifier>(index: &ValueIndex, page: &[u8]) -> Vec<(usize, usize, u64)> {
        let mut hits = Vec::new();
        index.visit_blocks::<C>(page, &mut Hits(|s, e, p| hits.push((s, e, p))));
        hits
    }

    #[test]
    fn every_piece_is_found_through_either_classifier() {
        let oracle = presented_oracle();
        let index = oracle.value_index().expect("a value index");
        let page = pieces().join(&b' ');
        let hits = hits_with::<Baseline>(index, &page);
        assert!(hits.len() >= 3 * 12, "{hits:?}");
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            assert_eq!(hits, hits_with::<Avx2>(index, &page));
        }
    }

    proptest! {
        #[test]
        fn the_scan_finds_the_same_whichever_classifier_runs(
            pieces in proptest::collection::vec(prop_oneof![
                proptest::sample::select(pieces()),
                proptest::collection::vec(telling_byte(), 0..6),
            ], 0..30),
        ) {
            let oracle = presented_oracle();
            let index = oracle.value_index().expect("a value index");
            let page = pieces.concat();
            let mut hits = Vec::new();
            index.visit(&page, &mut Hits(|s, e, p| hits.push((s, e, p))));
            prop_assert_eq!(&hits, &hits_with::<Baseline>(index, &page));
            #[cfg(target_arch = "x86_64")]
            if std::arch::is_x86_feature_detected!("avx2") {
                prop_assert_eq!(&hits, &hits_with::<Avx2>(index, &page));
            }
        }
    }
}
