//! The scan: one pass over a haystack that stops only where a value may start, filters those
//! positions through two bitmaps, and looks the few survivors up in the value table. No
//! allocation beyond what the caller collects; no I/O.
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

#[cfg(target_arch = "x86_64")]
use super::classify::Avx2;
use super::classify::{classify_block, Baseline, BlockMasks, Classifier, Compared, LookedUp};
use super::fingerprint::{
    folded4, folded4_unchecked, is_word_byte, leading_run, span_hash, start_key, Fingerprint, Keys,
    MAX_RUN,
};
use super::huge_pages;
use super::kind::ValueKind;
use super::presentation;
use super::table::{prefetch, ValueTable};
use std::collections::HashSet;
use std::hash::{BuildHasherDefault, Hasher};
use std::marker::PhantomData;
use std::mem::size_of;

/// Start filter bits per distinct (first four bytes, first run) pair.
const START_BITS_PER_KEY: usize = 16;
/// Start filter bits per value at most: a population whose values all start differently gets a
/// filter of this size rather than one the size of the value table.
const START_BITS_PER_VALUE: usize = 8;
/// Span filter bits per value: about one span in twelve that is no value gets through.
const SPAN_BITS_PER_VALUE: usize = 12;
const MIN_BITS: usize = 512;

/// What the builder learns about the values' shapes as they are added.
#[derive(Debug, Default)]
pub(super) struct ValueShapes {
    /// Distinct [`start_key`]s, of values and of their presentations.
    starts: HashSet<u64, BuildHasherDefault<MixHasher>>,
    /// Distinct [`start_key`]s of the values as indexed.
    exact_starts: HashSet<u64, BuildHasherDefault<MixHasher>>,
    /// Distinct (first run, length, last byte alphanumeric or not) triples, as
    /// `run << 32 | other_end << 31 | length`.
    lengths: HashSet<u64, BuildHasherDefault<MixHasher>>,
    /// Non-alphanumeric first bytes.
    starters: [u64; 4],
    /// Each value's [`span_hash`], in the order added.
    pub(super) spans: Vec<u64>,
    /// What the presentations of the values need.
    presented: PresentedShapes,
}

/// The start keys of the values' presentations (apart from their canonical forms), and which
/// kinds have them.
#[derive(Debug, Default)]
struct PresentedShapes {
    /// Grouped kinds present, in the order first added.
    grouped_kinds: Vec<ValueKind>,
    /// Start keys of grouped presentations.
    grouped: HashSet<u64, BuildHasherDefault<MixHasher>>,
    /// Start keys of escaped e-mail addresses.
    escaped: HashSet<u64, BuildHasherDefault<MixHasher>>,
    /// The longest e-mail address with a character a page may escape.
    escaped_max: usize,
    /// Heads whose keys are in already (the keys depend on a value's first bytes only).
    heads: HashSet<u64, BuildHasherDefault<MixHasher>>,
}

impl ValueShapes {
    /// Records a value (at least 5 bytes).
    pub(super) fn add(&mut self, value: &[u8]) {
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
    pub(super) fn add_presented(&mut self, kind: ValueKind, value: &[u8]) {
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

/// The start filter: a power-of-two bitmap over [`start_key`]s, one multiply-shift per lookup.
#[derive(Debug)]
struct StartFilter {
    words: Vec<u64>,
    shift: u32,
}

impl StartFilter {
    fn new(bits: usize, keys: impl IntoIterator<Item = u64>) -> StartFilter {
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
    fn contains(&self, key: u64) -> bool {
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
struct SpanFilter {
    words: Vec<u64>,
    bits: u64,
}

impl SpanFilter {
    fn new(bits: usize, hashes: impl IntoIterator<Item = u64>) -> SpanFilter {
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
    fn bit(&self, hash: u64) -> usize {
        ((u128::from(hash) * u128::from(self.bits)) >> 64) as usize
    }

    #[inline(always)]
    fn has_bit(&self, bit: usize) -> bool {
        self.words[bit / 64] >> (bit % 64) & 1 == 1
    }
}

/// Share of `words`' bits set.
#[cfg(test)]
fn load(words: &[u64]) -> f64 {
    let set: u32 = words.iter().map(|w| w.count_ones()).sum();
    f64::from(set) / (words.len() * 64) as f64
}

/// The non-alphanumeric bytes values start with, as the block classifier wants them.
#[derive(Clone, Debug)]
enum Starters {
    None,
    /// One to four bytes, compared in SIMD.
    Few(Vec<u8>),
    /// More: looked up byte by byte.
    Table(Box<[bool; 256]>),
}

/// Spans looked up at once, in scan order. A large population's table and span filter are far
/// bigger than the cache, so nearly every read of either misses it; batched, the misses overlap
/// instead of queueing.
const BATCH: usize = 16;
/// Spans whose span filter bits are read at once.
const SIFT: usize = 32;

/// A position a value may start at, as the span filter hashes its spans: where, its first four
/// bytes ([`folded4`]) and its first run.
#[derive(Clone, Copy)]
struct Head {
    start: usize,
    prefix: u32,
    run: u32,
}

/// A span waiting for its span filter bit: its place, the bit, and its fingerprint when it was
/// read back from a presentation (whose canonical bytes are gone by the time it is sifted).
#[derive(Clone, Copy)]
struct Tried {
    start: usize,
    end: usize,
    bit: usize,
    fingerprint: Option<Fingerprint>,
}

/// The spans in flight, in two stages: tried (their span filter word asked for), then queued
/// (fingerprinted, their table directory entry asked for).
struct Lookups {
    tried_len: usize,
    tried: [Tried; SIFT],
    len: usize,
    spans: [(usize, usize, Fingerprint); BATCH],
}

impl Lookups {
    fn new() -> Lookups {
        Lookups {
            tried_len: 0,
            tried: [Tried {
                start: 0,
                end: 0,
                bit: 0,
                fingerprint: None,
            }; SIFT],
            len: 0,
            spans: [(0, 0, Fingerprint { a: 0, b: 0 }); BATCH],
        }
    }

    /// Queues a span of `haystack` for the span filter (its filter word asked for by
    /// [`ValueIndex::tried`]); sifts the batch when it is full.
    #[inline(always)]
    fn try_span(
        &mut self,
        index: &ValueIndex,
        haystack: &[u8],
        tried: Tried,
        visitor: &mut impl Visitor,
    ) {
        visitor.span_tried();
        self.tried[self.tried_len] = tried;
        self.tried_len += 1;
        if self.tried_len == SIFT {
            self.sift(index, haystack, visitor);
        }
    }

    /// Passes the tried spans whose span filter bit is set on to the table, in order.
    fn sift(&mut self, index: &ValueIndex, haystack: &[u8], visitor: &mut impl Visitor) {
        for at in 0..self.tried_len {
            let tried = self.tried[at];
            if !index.span_filter.has_bit(tried.bit) {
                continue;
            }
            visitor.span_passed();
            let fingerprint = tried
                .fingerprint
                .unwrap_or_else(|| index.keys.fingerprint(&haystack[tried.start..tried.end]));
            self.push(&index.table, tried.start, tried.end, fingerprint, visitor);
        }
        self.tried_len = 0;
    }

    /// Queues `haystack[start..end]`, whose fingerprint is `fp`, and asks for its directory
    /// entry; looks the batch up when it is full.
    #[inline(always)]
    fn push(
        &mut self,
        table: &ValueTable,
        start: usize,
        end: usize,
        fp: Fingerprint,
        visitor: &mut impl Visitor,
    ) {
        table.prefetch_directory(fp);
        self.spans[self.len] = (start, end, fp);
        self.len += 1;
        if self.len == BATCH {
            self.flush(table, visitor);
        }
    }

    /// Looks every queued span up, in order: first asks for all their records, then compares.
    fn flush(&mut self, table: &ValueTable, visitor: &mut impl Visitor) {
        let spans = &self.spans[..self.len];
        for &(_, _, fp) in spans {
            table.prefetch_records(fp);
        }
        for &(start, end, fp) in spans {
            if let Some(payload) = table.find(fp) {
                visitor.hit(start, end, payload);
            }
        }
        self.len = 0;
    }

    /// Sifts and looks up every span still in flight.
    fn finish(&mut self, index: &ValueIndex, haystack: &[u8], visitor: &mut impl Visitor) {
        self.sift(index, haystack, visitor);
        self.flush(&index.table, visitor);
    }
}

/// What a scan reports along the way: hits, and (for measurements) how far each position got.
pub(super) trait Visitor {
    fn hit(&mut self, start: usize, end: usize, payload: u64);
    #[inline(always)]
    fn candidate(&mut self) {}
    #[inline(always)]
    fn start_passed(&mut self) {}
    #[inline(always)]
    fn span_tried(&mut self) {}
    #[inline(always)]
    fn span_passed(&mut self) {}
}

struct Hits<F>(F);

impl<F: FnMut(usize, usize, u64)> Visitor for Hits<F> {
    #[inline(always)]
    fn hit(&mut self, start: usize, end: usize, payload: u64) {
        (self.0)(start, end, payload)
    }
}

/// How far a scan's positions got: candidates, past the start filter, spans tried against the
/// span filter, past it (fingerprinted and looked up), found.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct ScanCounts {
    pub(super) candidates: usize,
    pub(super) starts: usize,
    pub(super) tried: usize,
    pub(super) spans: usize,
    pub(super) hits: usize,
}

#[cfg(test)]
impl Visitor for ScanCounts {
    fn hit(&mut self, _: usize, _: usize, _: u64) {
        self.hits += 1;
    }
    fn candidate(&mut self) {
        self.candidates += 1;
    }
    fn start_passed(&mut self) {
        self.starts += 1;
    }
    fn span_tried(&mut self) {
        self.tried += 1;
    }
    fn span_passed(&mut self) {
        self.spans += 1;
    }
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
        let filter = |keys: &HashSet<u64, BuildHasherDefault<MixHasher>>| {
            StartFilter::new(keys.len() * START_BITS_PER_KEY, keys.iter().copied())
        };
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
        let start_filter = |keys: &HashSet<u64, BuildHasherDefault<MixHasher>>| {
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

/// A multiply-xorshift hasher for the builder's sets of small integer keys: far cheaper than
/// SipHash, and the keys are the builder's own.
#[derive(Debug, Default)]
struct MixHasher(u64);

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
