//! Findings: what a run saw that matters (violations, cross-writes, wrong identities), as small serde records.
//! One collector owns counting and writing them; every report is a view over the same findings.

mod cause;
mod collector;
#[cfg(test)]
pub(crate) mod fixtures;
mod mask;
mod recall;

pub use cause::{Asked, Cause, Clues, ProbableCause};
pub use collector::{AffectedAccount, Collector, CollectorError, FindingSink, FindingsSummary};
pub use mask::{mask_value, Masking};
pub use recall::body_hash;

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The kind of a finding; each is one check, with one constant goose failure tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// A response carried another beneficiary's identifying data.
    Violation,
    /// A value written by one beneficiary showed up in another beneficiary's file.
    CrossWrite,
    /// A page that must show the user's own data showed nobody's.
    WrongIdentity,
    /// The user's own page, but without the value the user just wrote (a stale read): a warning,
    /// not an isolation failure.
    LostWrite,
    /// A session token still opened the file after a logout the target accepted, or a password
    /// change. It exposes the file to whoever holds the old token, not to another user.
    StaleSession,
    /// One session token was issued to two different users.
    TokenCollision,
    /// A response carrying personal data that a shared cache may store or did serve: a warning
    /// unless the scenario makes it fail the run.
    CacheablePage,
    /// A login answered 5xx to a (mistyped) identifier: the login parser failed. A warning: it
    /// exposes no one's data, but the input that broke the parser is in the evidence.
    ParserFailure,
}

impl FindingKind {
    pub const ALL: [FindingKind; 8] = [
        Self::Violation,
        Self::CrossWrite,
        Self::WrongIdentity,
        Self::LostWrite,
        Self::StaleSession,
        Self::TokenCollision,
        Self::CacheablePage,
        Self::ParserFailure,
    ];

    /// Whether this kind fails a run (exit 1) on its own; the others are warnings.
    pub fn fails_run(self) -> bool {
        !matches!(
            self,
            Self::LostWrite | Self::CacheablePage | Self::ParserFailure
        )
    }

    /// The goose failure tag: constant per check, so goose keeps one error row per page.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Violation => "crossleak-violation",
            Self::CrossWrite => "crossleak-cross-write",
            Self::WrongIdentity => "crossleak-wrong-identity",
            Self::LostWrite => "crossleak-lost-write",
            Self::StaleSession => "crossleak-stale-session",
            Self::TokenCollision => "crossleak-token-collision",
            Self::CacheablePage => "crossleak-cacheable-page",
            Self::ParserFailure => "crossleak-parser-failure",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Violation => "violation",
            Self::CrossWrite => "cross_write",
            Self::WrongIdentity => "wrong_identity",
            Self::LostWrite => "lost_write",
            Self::StaleSession => "stale_session",
            Self::TokenCollision => "token_collision",
            Self::CacheablePage => "cacheable_page",
            Self::ParserFailure => "parser_failure",
        }
    }
}

/// An account as evidence names it: its owner id and a (possibly masked) file number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountRef {
    pub owner: u32,
    pub numero_allocataire: String,
}

/// Another owner's value seen in a response.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignValue {
    pub account: AccountRef,
    pub field: String,
    /// `body` or `header:<name>`.
    pub location: String,
    /// The value as it appeared, masked unless the run reveals.
    pub value: String,
}

/// The request side of the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestEvidence {
    pub method: String,
    /// The page template (one metric row per page), e.g. `GET /mon-compte`.
    pub name: String,
    pub url: String,
}

/// The response side of the evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseEvidence {
    pub status: u16,
    pub final_url: String,
    /// Headers that matter for a leak (Set-Cookie, Cache-Control, Expires, Vary, Content-Type,
    /// Location, and every cache-status header: Age, Via, X-Cache, CF-Cache-Status, X-Varnish,
    /// Akamai's and Fastly's…), plus any header a value was seen in; masked.
    pub headers: BTreeMap<String, String>,
    /// Up to a few hundred bytes of the body around the first foreign value, masked.
    pub excerpt: String,
}

/// One thing a run saw that must not happen, with its evidence.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    /// RFC 3339, UTC.
    pub at: String,
    pub elapsed_ms: u64,
    pub phase: String,
    /// The goose user (0-based) that made the request.
    pub user: usize,
    /// Whose session made the request; `None` for the anonymous observer.
    pub viewer: Option<AccountRef>,
    /// Other owners' values in the response (empty for a wrong identity).
    pub foreign: Vec<ForeignValue>,
    /// The viewer's own fields the page had to show and did not.
    pub missing: Vec<String>,
    /// What the check saw, in one sentence (the cache headers at fault, the stale token's story).
    pub detail: String,
    pub request: RequestEvidence,
    pub response: ResponseEvidence,
    /// Where to look, and the evidence behind it: inferred by the collector from what the client
    /// saw (see [`infer`]).
    #[serde(default)]
    pub probable_cause: ProbableCause,
    /// What the check saw for the inference; not written out.
    #[serde(skip)]
    pub clues: Clues,
}

/// When and by whom a finding was seen: the part of every finding its sender knows up front.
#[derive(Clone, Copy, Debug)]
pub struct SeenBy<'a> {
    pub phase: &'a str,
    /// The goose user (0-based) that made the request.
    pub user: usize,
    pub elapsed_ms: u64,
}

impl Finding {
    /// The one way a finding is made: stamped now, with no viewer, foreign value, missing field or
    /// detail yet (set them with the `with_*` methods) and its cause left to the collector.
    pub fn new(
        kind: FindingKind,
        seen: SeenBy<'_>,
        request: RequestEvidence,
        response: ResponseEvidence,
    ) -> Finding {
        Finding {
            kind,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            elapsed_ms: seen.elapsed_ms,
            phase: seen.phase.to_owned(),
            user: seen.user,
            viewer: None,
            foreign: Vec::new(),
            missing: Vec::new(),
            detail: String::new(),
            request,
            response,
            probable_cause: ProbableCause::default(),
            clues: Clues::default(),
        }
    }

    pub fn with_viewer(mut self, viewer: Option<AccountRef>) -> Finding {
        self.viewer = viewer;
        self
    }

    pub fn with_foreign(mut self, foreign: Vec<ForeignValue>) -> Finding {
        self.foreign = foreign;
        self
    }

    pub fn with_missing(mut self, missing: Vec<String>) -> Finding {
        self.missing = missing;
        self
    }

    pub fn with_detail(mut self, detail: String) -> Finding {
        self.detail = detail;
        self
    }

    pub fn with_clues(mut self, clues: Clues) -> Finding {
        self.clues = clues;
        self
    }
}
