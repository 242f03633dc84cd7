//! Live counters of a load run, shared by every simulated user: requests, checks, logins, errors by
//! cause. Lock-free; read for the progress line and the summary.

use crate::error_cause::ErrorCause;
use crate::scenario::ReplayIdentity;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct Counters {
    requests: AtomicU64,
    checked: AtomicU64,
    logins: AtomicU64,
    login_failures: AtomicU64,
    logins_landed_elsewhere: AtomicU64,
    relogins: AtomicU64,
    sessions_lost: AtomicU64,
    truncated_bodies: AtomicU64,
    cancelled: AtomicU64,
    replays: AtomicU64,
    object_replays: [AtomicU64; 2],
    object_replays_refused: AtomicU64,
    errors: [AtomicU64; ErrorCause::ALL.len()],
    users_started: AtomicU64,
    /// Microseconds from the run's start to the first and to the last user's start.
    first_start_us: AtomicU64,
    last_start_us: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CountersSnapshot {
    pub requests: u64,
    pub checked_responses: u64,
    pub logins: u64,
    pub login_failures: u64,
    /// Failed logins that met every other success condition, but whose landing page lacked the
    /// user's own `must_show` values (or showed someone else's data).
    pub logins_landed_elsewhere: u64,
    pub relogins: u64,
    pub sessions_lost: u64,
    /// Bodies larger than the scan cap: only their first bytes were checked.
    pub truncated_bodies: u64,
    /// Requests the crowd behaviour cancelled on purpose (a client timeout): not errors.
    pub cancelled: u64,
    /// Old session tokens replayed after a logout or a password change.
    pub replays: u64,
    /// Page reads replayed under another identity: as another owner, then with no session.
    pub replays_as_other_user: u64,
    pub replays_anonymous: u64,
    /// Replayed reads the target refused (401, 403, 404), as a correct portal does.
    pub replays_refused: u64,
    pub errors: u64,
    pub errors_by_cause: BTreeMap<String, u64>,
    /// Simulated users that started: built their own client and took their identity.
    pub users_started: u64,
    /// Microseconds from the first user's start to the last one's.
    pub users_start_us: u64,
}

impl CountersSnapshot {
    /// Users started per second, from the first start to the last (0 with fewer than two).
    pub fn users_started_per_second(&self) -> f64 {
        if self.users_started < 2 || self.users_start_us == 0 {
            return 0.0;
        }
        (self.users_started - 1) as f64 * 1e6 / self.users_start_us as f64
    }
}

impl Default for Counters {
    fn default() -> Self {
        Counters {
            requests: AtomicU64::default(),
            checked: AtomicU64::default(),
            logins: AtomicU64::default(),
            login_failures: AtomicU64::default(),
            logins_landed_elsewhere: AtomicU64::default(),
            relogins: AtomicU64::default(),
            sessions_lost: AtomicU64::default(),
            truncated_bodies: AtomicU64::default(),
            cancelled: AtomicU64::default(),
            replays: AtomicU64::default(),
            object_replays: Default::default(),
            object_replays_refused: AtomicU64::default(),
            errors: Default::default(),
            users_started: AtomicU64::default(),
            first_start_us: AtomicU64::new(u64::MAX),
            last_start_us: AtomicU64::default(),
        }
    }
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    pub fn request(&self) {
        bump(&self.requests);
    }
    pub fn checked(&self) {
        bump(&self.checked);
    }
    pub fn login(&self, again: bool) {
        bump(&self.logins);
        if again {
            bump(&self.relogins);
        }
    }
    pub fn login_failed(&self) {
        bump(&self.login_failures);
    }
    /// A login failed because its landing page was not the user's own (`must_show`); counted
    /// among the failures as well, by `login_failed`.
    pub fn login_landed_elsewhere(&self) {
        bump(&self.logins_landed_elsewhere);
    }
    pub fn session_lost(&self) {
        bump(&self.sessions_lost);
    }
    pub fn truncated(&self) {
        bump(&self.truncated_bodies);
    }
    pub fn cancelled(&self) {
        bump(&self.cancelled);
    }
    pub fn replayed(&self) {
        bump(&self.replays);
    }
    /// A page read replayed as `identity`; `refused` when the target answered 401, 403 or 404.
    pub fn replayed_as(&self, identity: ReplayIdentity, refused: bool) {
        bump(&self.object_replays[identity as usize]);
        if refused {
            bump(&self.object_replays_refused);
        }
    }
    pub fn error(&self, cause: ErrorCause) {
        bump(&self.errors[cause as usize]);
    }
    /// A user started, `since_start` after the run began.
    pub fn user_started(&self, since_start: std::time::Duration) {
        bump(&self.users_started);
        let us = since_start.as_micros() as u64;
        self.first_start_us.fetch_min(us, Ordering::Relaxed);
        self.last_start_us.fetch_max(us, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let errors_by_cause: BTreeMap<String, u64> = ErrorCause::ALL
            .iter()
            .map(|cause| (cause.name().to_owned(), load(&self.errors[*cause as usize])))
            .collect();
        CountersSnapshot {
            requests: load(&self.requests),
            checked_responses: load(&self.checked),
            logins: load(&self.logins),
            login_failures: load(&self.login_failures),
            logins_landed_elsewhere: load(&self.logins_landed_elsewhere),
            relogins: load(&self.relogins),
            sessions_lost: load(&self.sessions_lost),
            truncated_bodies: load(&self.truncated_bodies),
            cancelled: load(&self.cancelled),
            replays: load(&self.replays),
            replays_as_other_user: load(&self.object_replays[ReplayIdentity::OtherUser as usize]),
            replays_anonymous: load(&self.object_replays[ReplayIdentity::Anonymous as usize]),
            replays_refused: load(&self.object_replays_refused),
            errors: errors_by_cause.values().sum(),
            errors_by_cause,
            users_started: load(&self.users_started),
            users_start_us: load(&self.last_start_us).saturating_sub(load(&self.first_start_us)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_sums_errors_by_cause() {
        let counters = Counters::default();
        counters.error(ErrorCause::Timeout);
        counters.error(ErrorCause::Timeout);
        counters.error(ErrorCause::ServerError);
        counters.login(false);
        counters.login(true);
        let snap = counters.snapshot();
        assert_eq!(snap.errors, 3);
        assert_eq!(snap.errors_by_cause["timeout"], 2);
        assert_eq!(snap.errors_by_cause["server_error"], 1);
        assert_eq!((snap.logins, snap.relogins), (2, 1));
    }

    #[test]
    fn users_started_per_second_spans_the_first_start_to_the_last() {
        let counters = Counters::default();
        assert_eq!(counters.snapshot().users_started_per_second(), 0.0);
        for ms in [200, 700, 1200] {
            counters.user_started(std::time::Duration::from_millis(ms));
        }
        let snap = counters.snapshot();
        assert_eq!(snap.users_started, 3);
        assert!((snap.users_started_per_second() - 2.0).abs() < 1e-9);
    }
}
