//! The spans in flight: tried against the span filter in batches, then looked up in the value
//! table in batches, so a large index's cache misses overlap instead of queueing.

use super::super::fingerprint::Fingerprint;
use super::super::table::ValueTable;
use super::ValueIndex;

/// Spans looked up at once, in scan order. A large population's table and span filter are far
/// bigger than the cache, so nearly every read of either misses it; batched, the misses overlap
/// instead of queueing.
const BATCH: usize = 16;
/// Spans whose span filter bits are read at once.
const SIFT: usize = 32;

/// A span waiting for its span filter bit: its place, the bit, and its fingerprint when it was
/// read back from a presentation (whose canonical bytes are gone by the time it is sifted).
#[derive(Clone, Copy)]
pub(super) struct Tried {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) bit: usize,
    pub(super) fingerprint: Option<Fingerprint>,
}

/// The spans in flight, in two stages: tried (their span filter word asked for), then queued
/// (fingerprinted, their table directory entry asked for).
pub(super) struct Lookups {
    tried_len: usize,
    tried: [Tried; SIFT],
    len: usize,
    spans: [(usize, usize, Fingerprint); BATCH],
}

impl Lookups {
    pub(super) fn new() -> Lookups {
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
    pub(super) fn try_span(
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
    pub(super) fn finish(
        &mut self,
        index: &ValueIndex,
        haystack: &[u8],
        visitor: &mut impl Visitor,
    ) {
        self.sift(index, haystack, visitor);
        self.flush(&index.table, visitor);
    }
}

/// What a scan reports along the way: hits, and (for measurements) how far each position got.
pub(in crate::oracle) trait Visitor {
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

pub(super) struct Hits<F>(pub(super) F);

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
pub(in crate::oracle) struct ScanCounts {
    pub(in crate::oracle) candidates: usize,
    pub(in crate::oracle) starts: usize,
    pub(in crate::oracle) tried: usize,
    pub(in crate::oracle) spans: usize,
    pub(in crate::oracle) hits: usize,
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
