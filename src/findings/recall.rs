//! What the collector remembers of the run to explain each finding: abandoned requests, reused
//! answers, token collisions and recent foreign bodies. Bounded: one moment per owner, one entry per
//! collision, foreign bodies for 5 s and at most 4,096 of them.

use super::cause::{infer, Abandoned, Cause, Facts, ProbableCause};
use super::{Finding, FindingKind};
use crate::population::OwnerId;
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};

/// How long after an abandoned request a foreign answer is put down to it.
pub const ABANDONED_WINDOW_MS: u64 = 500;
/// How long after an owner was handed a reused answer its own reply may turn up elsewhere.
pub const CHAIN_WINDOW_MS: u64 = 500;
/// How far back identical (or differing) foreign bodies on a page are compared.
pub const BODY_WINDOW_MS: u64 = 5_000;
/// Collisions this close together are one burst of logins given the same token: their owners
/// all shared it.
pub const BURST_MS: u64 = 100;
/// Foreign bodies remembered at most, whatever the window.
const BODIES_KEPT: usize = 4_096;

/// One foreign body served on a page.
struct Served {
    at_ms: u64,
    page: u64,
    body: u64,
    viewer: Option<OwnerId>,
}

#[derive(Default)]
pub struct Recall {
    /// Each owner's latest abandoned request.
    abandoned: HashMap<OwnerId, u64>,
    /// Each viewer's latest answer put down to connection reuse.
    reused: HashMap<OwnerId, u64>,
    /// Owners whose session tokens collided: each owner's collisions, with when.
    collided: HashMap<OwnerId, Vec<(u64, OwnerId)>>,
    bodies: VecDeque<Served>,
}

impl Recall {
    /// `owner` gave up on a request `at_ms` into the run.
    pub fn abandoned(&mut self, owner: OwnerId, at_ms: u64) {
        self.abandoned.insert(owner, at_ms);
    }

    /// What `finding` tells about the others the moment it arrives, before it is explained: a
    /// token collision explains the foreign pages its two owners see around it.
    pub fn heard(&mut self, finding: &Finding) {
        if let (FindingKind::TokenCollision, Some(viewer), Some(foreign)) =
            (finding.kind, &finding.viewer, finding.foreign.first())
        {
            let (a, b) = (viewer.owner, foreign.account.owner);
            let at = finding.elapsed_ms;
            self.collided.entry(a).or_default().push((at, b));
            self.collided.entry(b).or_default().push((at, a));
        }
    }

    /// Whether `viewer` and `foreign` were given the same token: a collision between them, or
    /// a chain of collisions within one burst (three logins in one millisecond collide pairwise).
    fn shared_token(&self, viewer: OwnerId, foreign: OwnerId) -> bool {
        let neighbours = |owner: OwnerId| self.collided.get(&owner).into_iter().flatten();
        neighbours(viewer).any(|&(burst, first)| {
            let mut reached = vec![first];
            let mut next = 0;
            while let Some(&owner) = reached.get(next) {
                if owner == foreign {
                    return true;
                }
                for &(at, other) in neighbours(owner) {
                    if at.abs_diff(burst) <= BURST_MS
                        && other != viewer
                        && !reached.contains(&other)
                    {
                        reached.push(other);
                    }
                }
                next += 1;
            }
            false
        })
    }

    /// The probable cause of `finding`, from its clues and what the run saw before it; then
    /// remembers what it adds.
    pub fn explain(&mut self, finding: &Finding) -> ProbableCause {
        let at = finding.elapsed_ms;
        let viewer = finding.viewer.as_ref().map(|v| v.owner);
        let foreign = finding.foreign.first().map(|f| f.account.owner);
        let page = body_hash(finding.request.name.as_bytes());
        let mut facts = Facts {
            clues: finding.clues.clone(),
            viewer,
            foreign,
            ..Facts::new(finding.kind, &finding.detail)
        };
        if let (Some(viewer), Some(foreign)) = (viewer, foreign) {
            facts.token_shared = self.shared_token(viewer, foreign);
            facts.abandoned = self
                .recent_abandonment(foreign, at, false)
                .or_else(|| self.recent_abandonment(viewer, at, true));
        }
        if let Some(foreign) = foreign {
            facts.reuse_chain = within(self.reused.get(&foreign), at, CHAIN_WINDOW_MS);
        }
        if let Some(body) = finding.clues.body {
            self.forget_old_bodies(at);
            let mut same: HashSet<Option<OwnerId>> = HashSet::new();
            let mut other: HashSet<Option<OwnerId>> = HashSet::new();
            let mut first_same = at;
            let mut last_same = None;
            for served in self
                .bodies
                .iter()
                .filter(|s| s.page == page && s.viewer != viewer)
            {
                if served.body == body {
                    same.insert(served.viewer);
                    first_same = first_same.min(served.at_ms);
                    last_same = last_same.max(Some(served.at_ms));
                } else {
                    other.insert(served.viewer);
                }
            }
            facts.same_body =
                (!same.is_empty()).then(|| (same.len(), at.saturating_sub(first_same)));
            facts.same_body_last = last_same.map(|last| at.saturating_sub(last));
            facts.other_bodies = other.len();
            if self.bodies.len() == BODIES_KEPT {
                self.bodies.pop_front();
            }
            self.bodies.push_back(Served {
                at_ms: at,
                page,
                body,
                viewer,
            });
        }
        let found = infer(&facts);
        if let (Some(viewer), true) = (viewer, found.cause == Cause::ConnectionReuse) {
            self.reused.insert(viewer, at);
        }
        found
    }

    fn recent_abandonment(&self, owner: OwnerId, at: u64, by_viewer: bool) -> Option<Abandoned> {
        within(self.abandoned.get(&owner), at, ABANDONED_WINDOW_MS).map(|ms_before| Abandoned {
            owner,
            ms_before,
            by_viewer,
        })
    }

    fn forget_old_bodies(&mut self, at: u64) {
        while self
            .bodies
            .front()
            .is_some_and(|s| s.at_ms + BODY_WINDOW_MS < at)
        {
            self.bodies.pop_front();
        }
    }
}

/// How long before `at` the remembered moment was, if it was at most `window` before.
fn within(then: Option<&u64>, at: u64, window: u64) -> Option<u64> {
    at.checked_sub(*then?).filter(|before| *before <= window)
}

/// A hash of a response body (or a page name), as the check and the collector compare them.
pub fn body_hash(bytes: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::fixtures::violation;
    use crate::findings::{Asked, Clues};

    fn with_body(mut finding: Finding, body: &[u8], at: u64) -> Finding {
        finding.clues.body = Some(body_hash(body));
        finding.elapsed_ms = at;
        finding
    }

    #[test]
    fn the_same_body_to_two_viewers_is_a_shared_cache_and_different_ones_request_state() {
        let mut recall = Recall::default();
        let first = recall.explain(&with_body(violation(1, 9), b"page of 9", 100));
        assert_eq!(first.cause, Cause::Unknown, "{first:?}");
        let second = recall.explain(&with_body(violation(2, 9), b"page of 9", 300));
        assert_eq!(second.cause, Cause::SharedCache, "{second:?}");
        assert!(
            second.evidence.contains("200 ms before"),
            "{}",
            second.evidence
        );
        let third = recall.explain(&with_body(violation(3, 7), b"page of 7 for 3", 400));
        assert_eq!(third.cause, Cause::RequestState, "{third:?}");
        // Past the window, nothing is remembered.
        let late = recall.explain(&with_body(
            violation(4, 9),
            b"page of 9",
            400 + BODY_WINDOW_MS + 1,
        ));
        assert_eq!(late.cause, Cause::Unknown, "{late:?}");
    }

    #[test]
    fn an_abandoned_request_then_its_shifted_replies_are_connection_reuse() {
        let mut recall = Recall::default();
        recall.abandoned(9, 1_000);
        let first = recall.explain(&with_body(violation(1, 9), b"statement of 9", 1_004));
        assert_eq!(first.cause, Cause::ConnectionReuse, "{first:?}");
        // Owner 1's own reply went on to user 2: the chain.
        let next = recall.explain(&with_body(violation(2, 1), b"statement of 1", 1_020));
        assert_eq!(next.cause, Cause::ConnectionReuse, "{next:?}");
        assert!(next.evidence.contains("owner 1"), "{}", next.evidence);
        // An abandonment after the answer explains nothing (and breaks nothing).
        recall.abandoned(5, 2_000);
        let before = recall.explain(&with_body(violation(1, 5), b"page of 5", 1_990));
        assert_ne!(before.cause, Cause::ConnectionReuse, "{before:?}");
        // Long after, an abandonment explains nothing.
        let unrelated = recall.explain(&with_body(
            violation(3, 9),
            b"x",
            1_000 + ABANDONED_WINDOW_MS + 1,
        ));
        assert_ne!(unrelated.cause, Cause::ConnectionReuse, "{unrelated:?}");
    }

    #[test]
    fn a_violation_between_owners_whose_tokens_collided_is_a_session_token() {
        let mut recall = Recall::default();
        // The leak is explained after the collision its login caused was heard, whatever the order
        // they were sent in.
        let leak = violation(6, 5);
        let mut collision = violation(5, 6);
        collision.kind = FindingKind::TokenCollision;
        recall.heard(&leak);
        recall.heard(&collision);
        let leak = recall.explain(&leak);
        assert_eq!(leak.cause, Cause::SessionToken, "{leak:?}");
        assert_eq!(recall.explain(&collision).cause, Cause::SessionToken);
        assert_eq!(recall.explain(&violation(6, 7)).cause, Cause::Unknown);
        // Three logins given one token collide pairwise (5-6, then 6-7): 5 and 7 shared it too.
        let mut again = violation(7, 6);
        again.kind = FindingKind::TokenCollision;
        again.elapsed_ms = 1 + BURST_MS;
        recall.heard(&again);
        assert_eq!(recall.explain(&violation(5, 7)).cause, Cause::SessionToken);
        // Not so for a collision in another burst.
        let mut later = violation(8, 7);
        later.kind = FindingKind::TokenCollision;
        later.elapsed_ms = 10_000;
        recall.heard(&later);
        assert_eq!(recall.explain(&violation(5, 8)).cause, Cause::Unknown);
    }

    #[test]
    fn a_login_landing_elsewhere_keeps_its_login_cause_among_identical_bodies() {
        let mut recall = Recall::default();
        for viewer in 1..4 {
            let mut landing = with_body(violation(viewer, 9), b"file of 9", 10 * viewer as u64);
            landing.clues = Clues {
                asked: Asked::Login {
                    via: "POST /connexion/nir (nir)".into(),
                    identifier: Some("nir13".into()),
                },
                ..landing.clues
            };
            assert_eq!(recall.explain(&landing).cause, Cause::LoginResolution);
        }
    }

    #[test]
    fn bodies_kept_are_bounded() {
        let mut recall = Recall::default();
        for n in 0..(BODIES_KEPT as u64 + 100) {
            recall.explain(&with_body(violation(1, 2), &n.to_le_bytes(), 0));
        }
        assert_eq!(recall.bodies.len(), BODIES_KEPT);
    }
}
