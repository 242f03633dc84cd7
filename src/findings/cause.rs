//! The probable cause of a finding, inferred from what the client saw only (headers, how the request
//! was made, what else the run saw): a pure function from facts to a cause and its evidence sentence.

use super::FindingKind;
use crate::population::OwnerId;
use serde::{Deserialize, Serialize};

/// Where to look first for a finding: the mechanism the client-side evidence points to.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A stored answer served to other sessions: a cache-status header said so, or the identical
    /// body went to several users.
    SharedCache,
    /// The foreign answer came right after a request was abandoned: a connection (or a pooled
    /// backend connection) handed one request's reply to the next.
    ConnectionReuse,
    /// A login landed on another account's file: the login path resolved the identifier wrongly.
    LoginResolution,
    /// One session token was issued to two users, or a token outlived its logout.
    SessionToken,
    /// The request carried another owner's value (a replay) and was answered with that owner's
    /// data: a missing ownership check.
    ObjectReference,
    /// A fresh page read under the user's own session, rendered for this request, mixed in another
    /// user's data: state shared between concurrent requests in the server.
    RequestState,
    /// No evidence points anywhere: never a guess.
    #[default]
    Unknown,
}

impl Cause {
    pub const ALL: [Cause; 7] = [
        Self::SharedCache,
        Self::ConnectionReuse,
        Self::LoginResolution,
        Self::SessionToken,
        Self::ObjectReference,
        Self::RequestState,
        Self::Unknown,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::SharedCache => "shared_cache",
            Self::ConnectionReuse => "connection_reuse",
            Self::LoginResolution => "login_resolution",
            Self::SessionToken => "session_token",
            Self::ObjectReference => "object_reference",
            Self::RequestState => "request_state",
            Self::Unknown => "unknown",
        }
    }

    /// What to look at, in one sentence, for a QA lead (the report shows it per cause present).
    pub fn look_at(self) -> &'static str {
        match self {
            Self::SharedCache => {
                "whatever stores responses in front of or inside the application (CDN, reverse proxy, \
                 page or result memo): personal answers need `Cache-Control: private` (or `no-store`), \
                 a `Vary` on the session, and any memo must be keyed by the user"
            }
            Self::ConnectionReuse => {
                "what happens to a connection when a request is cancelled (client gone, timeout): a \
                 connection or pooled backend connection with an unread reply must be closed, never \
                 given to the next request"
            }
            Self::LoginResolution => {
                "how the login path turns the typed identifier into an account: the lookup key must be \
                 unique (the whole identifier, not a prefix or a normalised form that collides)"
            }
            Self::SessionToken => {
                "how session tokens are made and ended: random and unique per login, revoked on logout \
                 and on a password change"
            }
            Self::ObjectReference => {
                "the ownership check behind every endpoint addressed by a number or identifier: the \
                 session's owner (or household) must hold it, or the answer is 403/404"
            }
            Self::RequestState => {
                "state shared between concurrent requests (a request object, a module-level current \
                 user, a singleton holding per-user data): each request needs its own"
            }
            Self::Unknown => {
                "the evidence itself: the client saw no cache sign, no abandoned request, no replay, \
                 no token reuse that would point anywhere"
            }
        }
    }
}

/// A finding's probable cause and the evidence behind it, as `findings.jsonl` shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbableCause {
    pub cause: Cause,
    /// What the client saw that points there, in one sentence.
    pub evidence: String,
}

/// How the request behind a finding was made (set by whoever sent it).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Asked {
    /// A page read (or a write) under the user's own session.
    #[default]
    Read,
    /// The last step of a login: its landing page.
    Login {
        /// The login request as its metric row names it, e.g. `POST /connexion/nir (nir)`.
        via: String,
        /// The identifier the login step took (`nir13`, `numero_allocataire`…), when known.
        identifier: Option<String>,
    },
    /// A page read sent again with another owner's values (`values_of`) under the user's session,
    /// or (`values_of: None`) the user's own templated request with no session at all.
    Replay { values_of: Option<OwnerId> },
    /// A personal path with a static-looking suffix, or an anonymous observer's request.
    Probe,
}

/// What the check saw in one response, kept with the finding for the inference; never written out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Clues {
    pub asked: Asked,
    /// The first header that says a cache served the response, as `name: value`.
    pub cache_hit: Option<String>,
    /// The viewer's own identifying data was in the response too.
    pub own_present: bool,
    /// A hash of the page name and body, when the finding carried foreign data.
    pub body: Option<u64>,
}

/// An abandoned request the inference can point to: whose, and how long before the answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Abandoned {
    pub owner: OwnerId,
    pub ms_before: u64,
    /// The owner is the viewer itself (its own connection) rather than the foreign owner.
    pub by_viewer: bool,
}

/// Everything the inference looks at for one finding: its own clues and what the run saw around it.
#[derive(Clone, Debug)]
pub struct Facts<'a> {
    pub kind: FindingKind,
    pub detail: &'a str,
    pub clues: Clues,
    pub viewer: Option<OwnerId>,
    /// The first other owner whose data the response carried.
    pub foreign: Option<OwnerId>,
    /// The viewer's session token had been issued to the foreign owner too (a token collision).
    pub token_shared: bool,
    /// A request abandoned shortly before the answer, by the foreign owner or the viewer.
    pub abandoned: Option<Abandoned>,
    /// The foreign owner had itself just been handed a reused answer (`ms_before` the answer): the
    /// foreign owner's own reply went on to the next request.
    pub reuse_chain: Option<u64>,
    /// Other viewers served the identical body (same page, same hash) within the window, and how
    /// long ago the first of them was.
    pub same_body: Option<(usize, u64)>,
    /// How long ago the latest of them was: a reply handed on by a reused connection reaches one
    /// request only, a stored answer several in a row.
    pub same_body_last: Option<u64>,
    /// Other viewers served foreign data on this page in different bodies within the window.
    pub other_bodies: usize,
}

impl<'a> Facts<'a> {
    /// The facts of a finding of `kind` with nothing else known yet.
    pub fn new(kind: FindingKind, detail: &'a str) -> Self {
        Facts {
            kind,
            detail,
            clues: Clues::default(),
            viewer: None,
            foreign: None,
            token_shared: false,
            abandoned: None,
            reuse_chain: None,
            same_body: None,
            same_body_last: None,
            other_bodies: 0,
        }
    }
}

/// An identical foreign body this soon after another user's is one stored answer served twice.
pub const SERVED_TWICE_MS: u64 = 200;

/// The probable cause of a finding, from `facts`; `Unknown` unless some evidence points somewhere.
pub fn infer(facts: &Facts<'_>) -> ProbableCause {
    first_of(&RULES, facts).unwrap_or_default()
}

/// One rule: the cause its evidence points to, or `None` to let the next rule look.
type Rule = fn(&Facts<'_>) -> Option<ProbableCause>;

/// Every rule, in order of precedence: the first that points somewhere names the cause.
const RULES: [Rule; 7] = [
    session_token_finding,
    cache_header,
    replay,
    cacheable_page,
    shared_token,
    login_landing,
    foreign_data,
];

/// The rules for a response that carried another owner's data, in order of precedence.
const FOREIGN_DATA_RULES: [Rule; 5] = [
    served_twice,
    abandoned_request,
    shifting_replies,
    same_body,
    request_state,
];

fn first_of(rules: &[Rule], facts: &Facts<'_>) -> Option<ProbableCause> {
    rules.iter().find_map(|rule| rule(facts))
}

fn found(cause: Cause, evidence: String) -> Option<ProbableCause> {
    Some(ProbableCause { cause, evidence })
}

impl Facts<'_> {
    /// The response did not show the viewer's own data: the whole page was somebody else's.
    fn whole_page_elsewhere(&self) -> bool {
        !self.clues.own_present
    }
}

/// A token collision or a stale session is a session token's finding by its very kind.
fn session_token_finding(facts: &Facts<'_>) -> Option<ProbableCause> {
    match facts.kind {
        FindingKind::TokenCollision => found(
            Cause::SessionToken,
            "the session token this login received had already been issued to another user"
                .to_owned(),
        ),
        FindingKind::StaleSession => found(
            Cause::SessionToken,
            format!(
                "an old session token was replayed and accepted: {}",
                facts.detail
            ),
        ),
        _ => None,
    }
}

/// A cache's own word in the response headers.
fn cache_header(facts: &Facts<'_>) -> Option<ProbableCause> {
    let hit = facts.clues.cache_hit.as_ref()?;
    found(
        Cause::SharedCache,
        format!("the response says a cache served it ({hit})"),
    )
}

/// A request sent with another owner's values (or with none of the user's session) and answered.
fn replay(facts: &Facts<'_>) -> Option<ProbableCause> {
    let Asked::Replay { values_of } = &facts.clues.asked else {
        return None;
    };
    found(
        Cause::ObjectReference,
        match values_of {
            Some(other) => format!(
                "the request carried owner {other}'s values under another user's session and was answered with data"
            ),
            None => "the request carried the owner's values with no session at all and was answered with data".to_owned(),
        },
    )
}

/// Headers that let a shared cache store a personal page.
fn cacheable_page(facts: &Facts<'_>) -> Option<ProbableCause> {
    if facts.kind != FindingKind::CacheablePage {
        return None;
    }
    found(
        Cause::SharedCache,
        format!(
            "the headers let a shared cache store a personal page: {}",
            facts.detail
        ),
    )
}

/// The viewer's token had also been issued to the owner whose data it showed.
fn shared_token(facts: &Facts<'_>) -> Option<ProbableCause> {
    if !facts.token_shared {
        return None;
    }
    let (viewer, foreign) = (facts.viewer?, facts.foreign?);
    found(
        Cause::SessionToken,
        format!("owner {viewer}'s session token had also been issued to owner {foreign}, whose data it showed"),
    )
}

/// A login whose landing page broke the parser, or was wholly another account's (or not the
/// user's own identity at all).
fn login_landing(facts: &Facts<'_>) -> Option<ProbableCause> {
    let Asked::Login { via, identifier } = &facts.clues.asked else {
        return None;
    };
    let kind = facts.kind;
    let landed_elsewhere = facts.whole_page_elsewhere()
        && (facts.foreign.is_some() || kind == FindingKind::WrongIdentity);
    if kind != FindingKind::ParserFailure && !landed_elsewhere {
        return None;
    }
    let by = identifier
        .as_deref()
        .map_or_else(String::new, |i| format!(" with the identifier {i}"));
    let landed = match facts.foreign {
        Some(foreign) => format!("opened owner {foreign}'s file instead of the user's own"),
        None if kind == FindingKind::ParserFailure => "broke the login parser".to_owned(),
        None => "did not open the user's own file".to_owned(),
    };
    found(
        Cause::LoginResolution,
        format!("a login ({via}){by} {landed}"),
    )
}

/// Another owner's data with none of the earlier evidence: what the run saw around it decides.
fn foreign_data(facts: &Facts<'_>) -> Option<ProbableCause> {
    // A response that carried nobody else's data leaves the cause unknown.
    facts.foreign?;
    first_of(&FOREIGN_DATA_RULES, facts)
}

/// The identical body went to another user just before: one stored answer served again.
fn served_twice(facts: &Facts<'_>) -> Option<ProbableCause> {
    let ms = facts
        .same_body_last
        .filter(|ms| facts.whole_page_elsewhere() && *ms <= SERVED_TWICE_MS)?;
    found(
        Cause::SharedCache,
        format!("the identical body had been served to another user {ms} ms before: one stored answer served again (a reused connection hands a reply on once)"),
    )
}

/// A request of the foreign owner, or the viewer's own, was abandoned shortly before the answer.
fn abandoned_request(facts: &Facts<'_>) -> Option<ProbableCause> {
    let abandoned = facts.abandoned?;
    let whose = if abandoned.by_viewer {
        format!("the viewer's (owner {}) previous request", abandoned.owner)
    } else {
        format!(
            "a request of owner {}, whose data this is,",
            abandoned.owner
        )
    };
    found(
        Cause::ConnectionReuse,
        format!(
            "{whose} was abandoned {} ms before this answer",
            abandoned.ms_before
        ),
    )
}

/// The foreign owner had itself just been handed a reused answer: replies shift down a chain.
fn shifting_replies(facts: &Facts<'_>) -> Option<ProbableCause> {
    let (ms, foreign) = (facts.reuse_chain?, facts.foreign?);
    found(
        Cause::ConnectionReuse,
        format!("owner {foreign}, whose data this is, had itself been handed a reused answer {ms} ms before: replies are shifting from one request to the next since an abandoned request"),
    )
}

/// The identical body went to other users within the window: one stored answer.
fn same_body(facts: &Facts<'_>) -> Option<ProbableCause> {
    let (viewers, ms) = facts.same_body.filter(|_| facts.whole_page_elsewhere())?;
    found(
        Cause::SharedCache,
        format!("the identical body was served to {viewers} other user(s) within {ms} ms: one stored answer, not one rendered per request"),
    )
}

/// A fresh read under the user's own session that was rendered for this request (it shows the
/// user's own data, or other users got foreign data here in different bodies) and mixed users.
fn request_state(facts: &Facts<'_>) -> Option<ProbableCause> {
    let fresh_read = matches!(facts.clues.asked, Asked::Read | Asked::Login { .. });
    if !fresh_read || facts.viewer.is_none() {
        return None;
    }
    if facts.clues.own_present {
        return found(
            Cause::RequestState,
            "a page rendered for this request under the user's own session (it shows the user's data too) carried another user's, with no cache sign".to_owned(),
        );
    }
    if facts.other_bodies > 0 && facts.same_body.is_none() {
        return found(
            Cause::RequestState,
            format!("a fresh read under the user's own session, no cache sign, and {} other user(s) got foreign data on this page in different bodies: rendered per request", facts.other_bodies),
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violation() -> Facts<'static> {
        Facts {
            viewer: Some(1),
            foreign: Some(2),
            ..Facts::new(FindingKind::Violation, "")
        }
    }

    fn cause(facts: &Facts<'_>) -> Cause {
        infer(facts).cause
    }

    #[test]
    fn a_hit_header_is_a_shared_cache() {
        let mut facts = violation();
        facts.clues.cache_hit = Some("x-cache: HIT".into());
        let found = infer(&facts);
        assert_eq!(found.cause, Cause::SharedCache);
        assert!(
            found.evidence.contains("x-cache: HIT"),
            "{}",
            found.evidence
        );
    }

    #[test]
    fn the_identical_body_to_other_users_is_a_shared_cache_unless_it_showed_the_viewers_own() {
        let mut facts = violation();
        facts.same_body = Some((2, 340));
        let found = infer(&facts);
        assert_eq!(found.cause, Cause::SharedCache);
        assert!(found.evidence.contains("2 other user(s) within 340 ms"));
        // A body with the viewer's own data in it was rendered for this request: not a stored copy.
        facts.clues.own_present = true;
        assert_eq!(cause(&facts), Cause::RequestState);
    }

    #[test]
    fn an_abandoned_request_or_a_shifting_chain_is_connection_reuse() {
        let mut facts = violation();
        facts.abandoned = Some(Abandoned {
            owner: 2,
            ms_before: 12,
            by_viewer: false,
        });
        // Even when the body matched another viewer's a while ago: the abandoned request comes first.
        facts.same_body = Some((1, 400));
        facts.same_body_last = Some(400);
        let found = infer(&facts);
        assert_eq!(found.cause, Cause::ConnectionReuse);
        assert!(found.evidence.contains("owner 2"), "{}", found.evidence);
        assert!(found.evidence.contains("12 ms"), "{}", found.evidence);
        let mut chained = violation();
        chained.reuse_chain = Some(30);
        assert_eq!(cause(&chained), Cause::ConnectionReuse);
        // The same body to another user just before: a stored answer served twice, whatever
        // was abandoned (a memo the canceller filled).
        facts.same_body_last = Some(SERVED_TWICE_MS);
        assert_eq!(cause(&facts), Cause::SharedCache);
    }

    #[test]
    fn a_login_landing_on_another_file_is_login_resolution_naming_the_flow_and_identifier() {
        let mut facts = violation();
        facts.clues.asked = Asked::Login {
            via: "POST /connexion/nir (nir)".into(),
            identifier: Some("nir13".into()),
        };
        let found = infer(&facts);
        assert_eq!(found.cause, Cause::LoginResolution);
        assert_eq!(
            found.evidence,
            "a login (POST /connexion/nir (nir)) with the identifier nir13 opened owner 2's file instead of the user's own"
        );
        // The landing page showing the user's own file beside another's: the login resolved right.
        facts.clues.own_present = true;
        assert_eq!(cause(&facts), Cause::RequestState);
    }

    #[test]
    fn token_collisions_stale_sessions_and_shared_tokens_are_session_token() {
        for kind in [FindingKind::TokenCollision, FindingKind::StaleSession] {
            let facts = Facts {
                viewer: Some(1),
                ..Facts::new(kind, "")
            };
            assert_eq!(cause(&facts), Cause::SessionToken, "{kind:?}");
        }
        let mut shared = violation();
        shared.token_shared = true;
        let found = infer(&shared);
        assert_eq!(found.cause, Cause::SessionToken);
        assert!(found
            .evidence
            .contains("owner 1's session token had also been issued to owner 2"));
    }

    #[test]
    fn a_replay_answered_with_data_is_an_object_reference() {
        let mut facts = violation();
        facts.clues.asked = Asked::Replay { values_of: Some(2) };
        // A replay is what the request was, whatever else is seen but a cache's own word.
        facts.same_body = Some((3, 10));
        let found = infer(&facts);
        assert_eq!(found.cause, Cause::ObjectReference);
        assert!(found.evidence.contains("owner 2's values"));
        facts.clues.asked = Asked::Replay { values_of: None };
        assert_eq!(cause(&facts), Cause::ObjectReference);
        facts.clues.cache_hit = Some("age: 4".into());
        assert_eq!(cause(&facts), Cause::SharedCache);
    }

    #[test]
    fn a_fresh_read_with_different_bodies_per_viewer_is_request_state() {
        let mut facts = violation();
        facts.other_bodies = 2;
        let found = infer(&facts);
        assert_eq!(found.cause, Cause::RequestState);
        assert!(found.evidence.contains("2 other user(s)"));
    }

    #[test]
    fn without_evidence_the_cause_is_unknown() {
        // Foreign data, alone: no cache sign, no other viewer, whole page elsewhere.
        assert_eq!(cause(&violation()), Cause::Unknown);
        // An observer's request: no session that could mix state.
        let mut observed = violation();
        observed.viewer = None;
        observed.clues.asked = Asked::Probe;
        observed.other_bodies = 3;
        assert_eq!(cause(&observed), Cause::Unknown);
        // A wrong identity on a plain read.
        let wrong = Facts {
            viewer: Some(1),
            ..Facts::new(FindingKind::WrongIdentity, "")
        };
        assert_eq!(infer(&wrong), ProbableCause::default());
    }
}
