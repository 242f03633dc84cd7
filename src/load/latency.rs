//! Response times as goose measured them (to the first byte), kept as its histogram so the phases
//! of a run can be added together and any percentile read afterwards. No I/O, no clock.

use goose::metrics::GooseRequestMetricTimingData;
use std::collections::BTreeMap;
use std::time::Duration;

/// A histogram of response times: goose's buckets (each power of two split into 64, keyed by the
/// bucket's fastest time in microseconds), with the exact fastest, slowest and total.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseTimes {
    buckets: BTreeMap<u64, u64>,
    count: u64,
    total_us: u64,
    min_us: u64,
    max_us: u64,
}

impl ResponseTimes {
    /// The times of one goose metric row.
    pub fn from_goose(timing: &GooseRequestMetricTimingData) -> Self {
        let mut buckets = BTreeMap::new();
        for (bucket, count) in timing.times_us.iter() {
            *buckets.entry(*bucket).or_default() += *count as u64;
        }
        ResponseTimes {
            buckets,
            count: timing.counter as u64,
            total_us: timing.total_time_us,
            min_us: timing.minimum_time_us,
            max_us: timing.maximum_time_us,
        }
    }

    /// Times recorded one by one (tests, and any caller timing requests itself).
    pub fn from_micros(times: impl IntoIterator<Item = u64>) -> Self {
        let mut out = ResponseTimes::default();
        for us in times {
            out.merge(&ResponseTimes {
                buckets: BTreeMap::from([(bucket_floor(us), 1)]),
                count: 1,
                total_us: us,
                min_us: us,
                max_us: us,
            });
        }
        out
    }

    /// Adds `other`'s times to these.
    pub fn merge(&mut self, other: &ResponseTimes) {
        if other.count == 0 {
            return;
        }
        for (bucket, count) in &other.buckets {
            *self.buckets.entry(*bucket).or_default() += count;
        }
        self.min_us = if self.count == 0 {
            other.min_us
        } else {
            self.min_us.min(other.min_us)
        };
        self.max_us = self.max_us.max(other.max_us);
        self.total_us += other.total_us;
        self.count += other.count;
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    pub fn average(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_micros(self.total_us / self.count))
    }

    pub fn maximum(&self) -> Option<Duration> {
        (self.count > 0).then(|| Duration::from_micros(self.max_us))
    }

    /// The time `percent` (strictly between 0 and 100) of the requests finished within, by the
    /// nearest rank: the middle of the bucket holding that rank (at most 0.8 % off any time it
    /// holds), kept between the fastest and the slowest. `None` without times.
    pub fn percentile(&self, percent: f64) -> Option<Duration> {
        if self.count == 0 {
            return None;
        }
        let rank = ((percent / 100.0) * self.count as f64).ceil().max(1.0) as u64;
        if rank >= self.count {
            return Some(Duration::from_micros(self.max_us));
        }
        let mut seen = 0;
        for (bucket, count) in &self.buckets {
            seen += count;
            if seen >= rank {
                let middle = bucket + (bucket_width(*bucket) >> 1);
                return Some(Duration::from_micros(
                    middle.clamp(self.min_us, self.max_us),
                ));
            }
        }
        Some(Duration::from_micros(self.max_us))
    }
}

/// Goose's bucket scheme: every time below 128 µs has its own bucket; above, each power of two is
/// split into 64 buckets of equal width.
fn bucket_width(us: u64) -> u64 {
    const SUB_BITS: u32 = 6;
    if us < (1 << (SUB_BITS + 1)) {
        1
    } else {
        1 << (63 - us.leading_zeros() - SUB_BITS)
    }
}

fn bucket_floor(us: u64) -> u64 {
    let width = bucket_width(us);
    us / width * width
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_follow_the_nearest_rank_within_a_bucket() {
        // 1 ms to 100 ms, one each.
        let times = ResponseTimes::from_micros((1..=100).map(|ms| ms * 1000));
        let near = |d: Option<Duration>, ms: f64| {
            let got = d.unwrap().as_secs_f64() * 1000.0;
            assert!(
                (got - ms).abs() <= ms * 0.008,
                "{got} ms, expected about {ms}"
            );
        };
        near(times.percentile(50.0), 50.0);
        near(times.percentile(95.0), 95.0);
        near(times.percentile(99.9), 100.0);
        assert_eq!(times.maximum(), Some(Duration::from_millis(100)));
        assert_eq!(times.average(), Some(Duration::from_micros(50_500)));
        assert_eq!(ResponseTimes::default().percentile(95.0), None);
    }

    #[test]
    fn merged_phases_read_like_one_run() {
        let fast = ResponseTimes::from_micros([100, 120, 90]);
        let slow = ResponseTimes::from_micros([900_000]);
        let mut all = fast.clone();
        all.merge(&slow);
        assert_eq!(all.count(), 4);
        assert_eq!(all.maximum(), Some(Duration::from_micros(900_000)));
        assert_eq!(all.percentile(50.0), Some(Duration::from_micros(100)));
        assert_eq!(all.percentile(99.0), Some(Duration::from_micros(900_000)));
        let mut empty = ResponseTimes::default();
        empty.merge(&fast);
        assert_eq!(empty, fast);
    }
}
