//! Splits index ranges across the machine's cores for generation and uniqueness checks.
//! Results come back in index order, so the output never depends on the thread count.

use std::ops::Range;

/// Runs `work` over `0..len` cut into one contiguous range per core (none smaller than
/// `min_chunk`), and returns the results in range order. A panic in `work` is re-raised.
pub(super) fn map_ranges<T, F>(len: usize, min_chunk: usize, work: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    map_within(0..len, min_chunk, work)
}

/// [`map_ranges`] over `within` instead of `0..len`.
pub(super) fn map_within<T, F>(within: Range<usize>, min_chunk: usize, work: F) -> Vec<T>
where
    T: Send,
    F: Fn(Range<usize>) -> T + Sync,
{
    let (start, len) = (within.start, within.len());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let threads = cores.min(len.div_ceil(min_chunk.max(1))).max(1);
    if threads == 1 {
        return vec![work(within)];
    }
    let chunk = len.div_ceil(threads);
    std::thread::scope(|scope| {
        let work = &work;
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = start + (t * chunk).min(len)..start + ((t + 1) * chunk).min(len);
                scope.spawn(move || work(range))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_index_once_in_order() {
        for len in [0, 1, 7, 1_000, 10_001] {
            let ranges = map_ranges(len, 100, |range| range);
            let covered: Vec<usize> = ranges.into_iter().flatten().collect();
            assert_eq!(covered, (0..len).collect::<Vec<_>>());
            let within: Vec<usize> = map_within(5..5 + len, 100, |range| range)
                .into_iter()
                .flatten()
                .collect();
            assert_eq!(within, (5..5 + len).collect::<Vec<_>>());
        }
    }
}
