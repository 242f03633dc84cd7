//! The value table: every indexed value's fingerprint → a small payload (its owner and field set),
//! in 8 bytes of fingerprint plus a few of payload per value; no value bytes. Built once, in
//! parallel; lookups only.
//!
//! # Layout
//!
//! Records are grouped by bucket — lane `a` of the fingerprint scaled to the bucket count — and
//! stored back to back, each as lane `b` (8 bytes) then the payload (as few bytes as the largest
//! payload needs). A directory of `u32` offsets, one per bucket of about [`PER_BUCKET`] records,
//! says where each bucket starts. A lookup reads one directory entry and compares lane `b` with
//! the bucket's records: two cache lines or three.
//!
//! # Exactness
//!
//! A record is only ever reported for a byte string whose fingerprint has its bucket and its
//! lane `b`. The builder keeps one record per distinct 128-bit fingerprint, so two distinct
//! values can only meet here if they share a bucket and lane `b` while differing in lane `a`:
//! the build finds such records, marks them ambiguous, and keeps their full fingerprints in a
//! short sorted list that a lookup then compares in full.

use super::fingerprint::Fingerprint;
use super::huge_pages;
use std::mem::size_of;
use std::ops::Range;

/// Records per bucket on average: the directory costs 4 / `PER_BUCKET` bytes per value, and a
/// random lookup compares about this many lanes `b`.
pub(super) const PER_BUCKET: usize = 6;

/// Below this many records the build runs on one thread.
const PARALLEL_FROM: usize = 200_000;

/// Fingerprint → payload, for a fixed set of distinct fingerprints.
#[derive(Debug)]
pub(super) struct ValueTable {
    buckets: u64,
    /// `directory[k]..directory[k + 1]`: the records of bucket `k`.
    directory: Vec<u32>,
    /// `stride` bytes per record, then 8 bytes of padding so a record's payload can be read as
    /// one little-endian `u64`.
    records: Vec<u8>,
    stride: usize,
    payload_mask: u64,
    /// The payload of a record whose lane `b` another record of its bucket shares.
    ambiguous: u64,
    /// Full fingerprints and payloads of the ambiguous records, sorted.
    exceptions: Vec<(u64, u64, u64)>,
}

impl ValueTable {
    /// The table over records `0..a.len()`: record `i` has fingerprint `(a[i], b[i])` and payload
    /// `payload(i)`, at most `max_payload`. Fingerprints must be distinct.
    pub(super) fn build(
        a: &[u64],
        b: &[u64],
        payload: impl Fn(usize) -> u64 + Sync,
        max_payload: u64,
    ) -> ValueTable {
        assert_eq!(a.len(), b.len(), "one lane b per lane a");
        assert!(u32::try_from(a.len()).is_ok(), "at most u32::MAX records");
        let n = a.len();
        let ambiguous = max_payload
            .checked_add(1)
            .expect("payloads leave room for the ambiguity marker");
        let payload_bytes = (64 - ambiguous.leading_zeros()).div_ceil(8).max(1) as usize;
        let payload_mask = if payload_bytes == 8 {
            u64::MAX
        } else {
            (1u64 << (8 * payload_bytes)) - 1
        };
        let source = Source {
            a,
            b,
            payload: &payload,
        };
        let buckets = n.div_ceil(PER_BUCKET).max(1) as u64;
        let ranges = bucket_ranges(buckets as usize, n);
        let directory = directory(&ranges, a, buckets);
        let layout = Layout {
            buckets,
            directory: &directory,
            stride: 8 + payload_bytes,
        };
        let (records, collisions) = layout.fill_all(&ranges, &source);
        let mut table = ValueTable {
            buckets,
            stride: layout.stride,
            directory,
            records,
            payload_mask,
            ambiguous,
            exceptions: Vec::new(),
        };
        if !collisions.is_empty() {
            table.resolve(&collisions, a, b, &payload);
        }
        table
    }

    /// Marks the records sharing a bucket and a lane `b` ambiguous and keeps their fingerprints.
    fn resolve(
        &mut self,
        collisions: &[(usize, u64)],
        a: &[u64],
        b: &[u64],
        payload: &impl Fn(usize) -> u64,
    ) {
        for i in 0..a.len() {
            let k = bucket(a[i], self.buckets);
            if collisions.contains(&(k, b[i])) {
                self.exceptions.push((a[i], b[i], payload(i)));
            }
        }
        self.exceptions.sort_unstable();
        let marker = self.ambiguous.to_le_bytes();
        let payload_bytes = self.stride - 8;
        for &(k, lane) in collisions {
            for at in self.bucket_records(k) {
                if self.lane_b(at) == lane {
                    self.records[at + 8..at + self.stride]
                        .copy_from_slice(&marker[..payload_bytes]);
                }
            }
        }
    }

    /// The payload of the record with fingerprint `fp`, if there is one.
    #[inline]
    pub(super) fn find(&self, fp: Fingerprint) -> Option<u64> {
        let k = bucket(fp.a, self.buckets);
        for at in self.bucket_records(k) {
            if self.lane_b(at) == fp.b {
                let payload =
                    u64::from_le_bytes(self.records[at + 8..at + 16].try_into().expect("8 bytes"))
                        & self.payload_mask;
                if payload != self.ambiguous {
                    return Some(payload);
                }
                return self
                    .exceptions
                    .binary_search_by(|&(a, b, _)| (a, b).cmp(&(fp.a, fp.b)))
                    .ok()
                    .map(|i| self.exceptions[i].2);
            }
        }
        None
    }

    /// Asks the memory for the directory entry `fp`'s lookup will read first.
    #[inline(always)]
    pub(super) fn prefetch_directory(&self, fp: Fingerprint) {
        prefetch(&self.directory[bucket(fp.a, self.buckets)]);
    }

    /// Asks the memory for the first records `fp`'s lookup compares (its directory entry
    /// should be in the cache by now).
    #[inline(always)]
    pub(super) fn prefetch_records(&self, fp: Fingerprint) {
        let k = bucket(fp.a, self.buckets);
        let start = self.directory[k] as usize * self.stride;
        let end = self.directory[k + 1] as usize * self.stride;
        // A bucket of six or so records may end on the next cache line.
        prefetch(&self.records[start]);
        prefetch(&self.records[end.saturating_sub(1).max(start)]);
    }

    /// Byte offsets of bucket `k`'s records.
    #[inline(always)]
    fn bucket_records(&self, k: usize) -> std::iter::StepBy<Range<usize>> {
        let start = self.directory[k] as usize * self.stride;
        let end = self.directory[k + 1] as usize * self.stride;
        (start..end).step_by(self.stride)
    }

    #[inline(always)]
    fn lane_b(&self, at: usize) -> u64 {
        u64::from_le_bytes(self.records[at..at + 8].try_into().expect("8 bytes"))
    }

    /// Records that share a bucket and a lane `b` (for measurements and tests).
    #[cfg(test)]
    pub(super) fn ambiguous_records(&self) -> usize {
        self.exceptions.len()
    }

    pub(super) fn memory_bytes(&self) -> usize {
        self.directory.capacity() * size_of::<u32>()
            + self.records.capacity()
            + self.exceptions.capacity() * size_of::<(u64, u64, u64)>()
    }
}

/// A hint that `value`'s cache line is wanted soon; no effect on what any read returns.
#[inline(always)]
pub(super) fn prefetch<T>(value: &T) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is only a hint: it reads nothing into the program and cannot fault.
    unsafe {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        _mm_prefetch::<_MM_HINT_T0>((value as *const T).cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

/// The bucket of lane `a`: its position in `0..buckets`, scaled.
#[inline(always)]
fn bucket(a: u64, buckets: u64) -> usize {
    ((u128::from(a) * u128::from(buckets)) >> 64) as usize
}

/// The records a table is built over: record `i` has fingerprint `(a[i], b[i])` and payload
/// `payload(i)`.
struct Source<'a, P> {
    a: &'a [u64],
    b: &'a [u64],
    payload: &'a P,
}

/// Where a table's records go: bucket `k`'s are records `directory[k]..directory[k + 1]`,
/// `stride` bytes each.
struct Layout<'a> {
    buckets: u64,
    directory: &'a [u32],
    stride: usize,
}

/// The buckets each build thread takes, for `n` records in `buckets` buckets: one range below
/// [`PARALLEL_FROM`] records, else one per core.
fn bucket_ranges(buckets: usize, n: usize) -> Vec<Range<usize>> {
    let threads = if n < PARALLEL_FROM {
        1
    } else {
        std::thread::available_parallelism().map_or(1, |t| t.get())
    };
    let share = buckets.div_ceil(threads);
    (0..threads)
        .map(|t| (t * share).min(buckets)..((t + 1) * share).min(buckets))
        .collect()
}

/// The directory: where each bucket's records start, then the record count; each thread counts
/// the records of its own range of buckets.
fn directory(ranges: &[Range<usize>], a: &[u64], buckets: u64) -> Vec<u32> {
    let counts: Vec<Vec<u32>> = in_parallel(ranges, |range| {
        let mut counts = vec![0u32; range.len()];
        for &lane in a {
            let k = bucket(lane, buckets);
            if range.contains(&k) {
                counts[k - range.start] += 1;
            }
        }
        counts
    });
    let mut directory = huge_pages::vec_with_capacity(buckets as usize + 1);
    let mut total = 0u32;
    directory.push(0);
    for count in counts.iter().flatten() {
        total += count;
        directory.push(total);
    }
    directory
}

impl Layout<'_> {
    /// The records array (with its 8 bytes of padding), each thread writing its buckets' records
    /// into its own part of it, and the (bucket, lane `b`) pairs held by more than one record.
    fn fill_all<P: Fn(usize) -> u64 + Sync>(
        &self,
        ranges: &[Range<usize>],
        source: &Source<'_, P>,
    ) -> (Vec<u8>, Vec<(usize, u64)>) {
        let n = source.a.len();
        let mut records = huge_pages::zeroed(n * self.stride + 8);
        let mut parts: Vec<&mut [u8]> = Vec::with_capacity(ranges.len());
        let mut rest = &mut records[..n * self.stride];
        for range in ranges {
            let len =
                (self.directory[range.end] - self.directory[range.start]) as usize * self.stride;
            let (part, tail) = rest.split_at_mut(len);
            parts.push(part);
            rest = tail;
        }
        let work: Vec<(Range<usize>, &mut [u8])> = ranges.iter().cloned().zip(parts).collect();
        let collisions: Vec<Vec<(usize, u64)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .into_iter()
                .map(|(range, part)| scope.spawn(move || self.fill(part, range, source)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        (records, collisions.into_iter().flatten().collect())
    }

    /// Writes the records of buckets `range` into `part` (which starts at the first of them), and
    /// returns the (bucket, lane `b`) pairs held by more than one record.
    fn fill<P: Fn(usize) -> u64>(
        &self,
        part: &mut [u8],
        range: Range<usize>,
        source: &Source<'_, P>,
    ) -> Vec<(usize, u64)> {
        let (directory, stride) = (self.directory, self.stride);
        let base = directory[range.start];
        let mut cursor: Vec<u32> = directory[range.clone()].iter().map(|d| d - base).collect();
        let payload_bytes = stride - 8;
        for (i, &lane) in source.a.iter().enumerate() {
            let k = bucket(lane, self.buckets);
            if !range.contains(&k) {
                continue;
            }
            let slot = &mut cursor[k - range.start];
            let at = *slot as usize * stride;
            *slot += 1;
            part[at..at + 8].copy_from_slice(&source.b[i].to_le_bytes());
            part[at + 8..at + stride]
                .copy_from_slice(&(source.payload)(i).to_le_bytes()[..payload_bytes]);
        }
        let mut collisions = Vec::new();
        let mut lanes: Vec<u64> = Vec::new();
        for k in range {
            let start = (directory[k] - base) as usize * stride;
            let end = (directory[k + 1] - base) as usize * stride;
            if end - start < 2 * stride {
                continue;
            }
            lanes.clear();
            lanes.extend(
                part[start..end]
                    .chunks_exact(stride)
                    .map(|r| u64::from_le_bytes(r[..8].try_into().expect("8 bytes"))),
            );
            lanes.sort_unstable();
            for pair in lanes.windows(2) {
                if pair[0] == pair[1] && collisions.last() != Some(&(k, pair[0])) {
                    collisions.push((k, pair[0]));
                }
            }
        }
        collisions
    }
}

/// Runs `work` on each range, one thread per range (the calling thread when there is one).
fn in_parallel<T: Send>(
    ranges: &[Range<usize>],
    work: impl Fn(Range<usize>) -> T + Sync,
) -> Vec<T> {
    if let [range] = ranges {
        return vec![work(range.clone())];
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = ranges
            .iter()
            .map(|range| {
                let work = &work;
                scope.spawn(move || work(range.clone()))
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fp(a: u64, b: u64) -> Fingerprint {
        Fingerprint { a, b }
    }

    #[test]
    fn every_record_is_found_and_nothing_else() {
        let n = 1_000u64;
        let a: Vec<u64> = (0..n)
            .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15))
            .collect();
        let b: Vec<u64> = (0..n).map(|i| i ^ 0xdead_beef).collect();
        let table = ValueTable::build(&a, &b, |i| i as u64 * 3, 3 * n);
        for i in 0..n as usize {
            assert_eq!(table.find(fp(a[i], b[i])), Some(i as u64 * 3));
            assert_eq!(table.find(fp(a[i], b[i] ^ 1 << 40)), None);
        }
        assert_eq!(table.ambiguous_records(), 0);
        assert_eq!(table.stride, 8 + 2);
    }

    #[test]
    fn records_sharing_a_bucket_and_lane_b_are_told_apart_by_lane_a() {
        // One bucket for two records: both land in it, with the same lane b.
        let a = [1u64, u64::MAX - 1];
        let b = [42u64, 42];
        let table = ValueTable::build(&a, &b, |i| [7, 9][i], 9);
        assert_eq!(table.buckets, 1);
        assert_eq!(table.ambiguous_records(), 2);
        assert_eq!(table.find(fp(1, 42)), Some(7));
        assert_eq!(table.find(fp(u64::MAX - 1, 42)), Some(9));
        assert_eq!(table.find(fp(5, 42)), None);
        assert_eq!(table.find(fp(1, 43)), None);
    }

    #[test]
    fn empty_table_finds_nothing() {
        let table = ValueTable::build(&[], &[], |_| 0, 0);
        assert_eq!(table.find(fp(0, 0)), None);
        assert!(table.memory_bytes() > 0);
    }

    #[test]
    fn wide_payloads_and_parallel_builds_keep_every_record() {
        let n = PARALLEL_FROM as u64 + 1_000;
        let a: Vec<u64> = (0..n)
            .map(|i| (i + 1).wrapping_mul(0xff51_afd7_ed55_8ccd))
            .collect();
        let b: Vec<u64> = (0..n).map(|i| i.rotate_left(17)).collect();
        let table = ValueTable::build(&a, &b, |i| u64::MAX - 1 - i as u64, u64::MAX - 1);
        assert_eq!(table.stride, 16);
        for i in (0..n as usize).step_by(97) {
            assert_eq!(table.find(fp(a[i], b[i])), Some(u64::MAX - 1 - i as u64));
        }
    }
}
