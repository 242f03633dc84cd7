//! The crowd: users arriving at a step wait until `size` of them are there (or `max_wait` passed)
//! and are released at the same instant, to open the race windows a steady load rarely hits.

use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::Notify;

/// How a crowd gathers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CrowdPlan {
    /// Users released together.
    pub size: usize,
    /// The longest a user waits for the crowd to fill before whoever arrived is released.
    pub max_wait: Duration,
}

/// One gate per step: users at the login gate never wait for users reading a page.
pub struct Gate {
    plan: CrowdPlan,
    state: Mutex<GateState>,
    release: Notify,
}

#[derive(Default)]
struct GateState {
    waiting: usize,
    generation: u64,
    releases: u64,
}

impl Gate {
    pub fn new(plan: CrowdPlan) -> Self {
        Gate {
            plan,
            state: Mutex::new(GateState::default()),
            release: Notify::new(),
        }
    }

    /// Waits for the crowd, then returns together with everyone else in it.
    pub async fn pass(&self) {
        let notified = self.release.notified();
        tokio::pin!(notified);
        let generation = {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            state.waiting += 1;
            if state.waiting >= self.plan.size {
                Self::open(&mut state, &self.release);
                return;
            }
            // Registered before the lock is released, so a release in between is not missed.
            notified.as_mut().enable();
            state.generation
        };
        if tokio::time::timeout(self.plan.max_wait, notified)
            .await
            .is_err()
        {
            let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
            if state.generation == generation {
                Self::open(&mut state, &self.release);
            }
        }
    }

    fn open(state: &mut GateState, release: &Notify) {
        state.waiting = 0;
        state.generation += 1;
        state.releases += 1;
        release.notify_waiters();
    }

    /// How many times the gate opened.
    pub fn releases(&self) -> u64 {
        self.state.lock().map(|s| s.releases).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_full_crowd_is_released_together() {
        let gate = Arc::new(Gate::new(CrowdPlan {
            size: 8,
            max_wait: Duration::from_secs(5),
        }));
        let mut tasks = Vec::new();
        for i in 0..8u64 {
            let gate = Arc::clone(&gate);
            tasks.push(tokio::spawn(async move {
                // Arrivals spread over ~70 ms.
                tokio::time::sleep(Duration::from_millis(i * 10)).await;
                gate.pass().await;
                Instant::now()
            }));
        }
        let mut released = Vec::new();
        for task in tasks {
            released.push(task.await.unwrap());
        }
        let first = *released.iter().min().unwrap();
        let last = *released.iter().max().unwrap();
        assert!(
            last - first < Duration::from_millis(20),
            "released over {:?}",
            last - first
        );
        assert_eq!(gate.releases(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_crowd_that_never_fills_is_released_after_max_wait() {
        let gate = Arc::new(Gate::new(CrowdPlan {
            size: 100,
            max_wait: Duration::from_millis(50),
        }));
        let started = Instant::now();
        let a = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.pass().await }
        });
        let b = tokio::spawn({
            let gate = Arc::clone(&gate);
            async move { gate.pass().await }
        });
        tokio::time::timeout(Duration::from_secs(5), async {
            a.await.unwrap();
            b.await.unwrap();
        })
        .await
        .expect("users stuck at the gate");
        assert!(started.elapsed() >= Duration::from_millis(45));
        assert!(gate.releases() >= 1);
    }
}
