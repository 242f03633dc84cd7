//! The `simultaneous-access` fault (Lloyds Banking Group, March 2026): a result memo in front of the
//! transactions endpoint, keyed by a time bucket instead of by account.
//!
//! The mechanism: to absorb bursts on `/api/paiements`, its result is memoised for one
//! [`BUCKET`] with single-flight (the first request of a bucket fetches, the others of that bucket
//! wait for its result), as a micro-cache or a dogpile guard does — but the memo's key is the
//! time bucket alone, the account was left out of it. So everyone who opens their payments
//! within the same 50 ms gets the statement of whoever came first in that bucket. A crowd
//! released at one instant lands in one bucket; a single user never notices.

use super::ledger::LedgerError;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// How long one memoised result is served.
pub const BUCKET: Duration = Duration::from_millis(50);

/// The memo: the current bucket's number and its result, filled once.
pub struct TimeBucketMemo {
    origin: Instant,
    bucket: Duration,
    current: Mutex<(u128, Arc<OnceCell<Arc<str>>>)>,
}

impl TimeBucketMemo {
    pub fn new(bucket: Duration) -> Self {
        Self {
            origin: Instant::now(),
            bucket: bucket.max(Duration::from_millis(1)),
            current: Mutex::new((0, Arc::new(OnceCell::new()))),
        }
    }

    /// The result memoised for the current bucket, or `fetch`'s, which then becomes it. A failed
    /// or cancelled fetch memoises nothing: the next request of the bucket fetches again.
    pub async fn get_or_fetch<F, Fut>(&self, fetch: F) -> Result<Arc<str>, LedgerError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Arc<str>, LedgerError>>,
    {
        let bucket = self.origin.elapsed().as_nanos() / self.bucket.as_nanos();
        let cell = {
            let mut current = self.current.lock().unwrap_or_else(PoisonError::into_inner);
            if current.0 != bucket {
                *current = (bucket, Arc::new(OnceCell::new()));
            }
            Arc::clone(&current.1)
        };
        cell.get_or_try_init(fetch).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn within_a_bucket_the_first_result_is_everyones_and_the_next_bucket_fetches_again() {
        let memo = TimeBucketMemo::new(Duration::from_millis(200));
        // Align on the start of a bucket so that both calls fall in it.
        let into = memo.origin.elapsed().as_nanos() % memo.bucket.as_nanos();
        let left = memo.bucket.as_nanos() - into;
        tokio::time::sleep(Duration::from_nanos(left as u64 + 1_000_000)).await;
        let first = memo.get_or_fetch(|| async { Ok(Arc::from("A")) }).await;
        let second = memo.get_or_fetch(|| async { Ok(Arc::from("B")) }).await;
        assert_eq!(
            (first.unwrap(), second.unwrap()),
            (Arc::from("A"), Arc::from("A"))
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let later = memo.get_or_fetch(|| async { Ok(Arc::from("C")) }).await;
        assert_eq!(later.unwrap(), Arc::from("C"));
    }
}
