//! The faults the demo portal can switch on, each a real mechanism from a known incident.
//! This file only names and describes them; each fault's mechanism lives in the one `portal` module that applies it.
//!
//! A catalogue below both its readers: a scenario names faults (`[target] faults`, validated
//! here) and the portal applies them, so the scenario never imports the portal it tests — the
//! tester reaches the portal over HTTP alone, apart from the run starting it. Depends on nothing.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One known way a portal leaks one user's data to another.
///
/// Adding a fault: a variant here, its row in [`Fault::all`] and the three descriptions, then
/// its mechanism applied at exactly one seam of `portal::routes::router` (a layer in front of the portal
/// or of the personal routes, the session store, the account lookup, the ledger pool) behind
/// `PortalConfig::has`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// A response cache in front of the personal pages, keyed by path alone.
    SharedCache,
    /// The NIR login activates provisional accounts through a non-unique key.
    NirLookup,
    /// The current user lives in one request-context object shared by every request.
    RequestStateRace,
    /// The ledger pool takes back connections whose reply was never read.
    DirtyPooledConnection,
    /// `/api/paiements` memoises its result per time bucket, not per account.
    SimultaneousAccess,
    /// Session tokens derived from the login time in milliseconds.
    WeakSessionId,
    /// Sessions survive logout and password change.
    StaleSession,
    /// An edge cache stores every GET 200 without `Cache-Control` or `Set-Cookie`.
    DefaultCdnCache,
    /// The origin ignores static-looking suffixes; an edge cache keys on them.
    CacheDeception,
    /// The personal pages carry no `Cache-Control` at all.
    MissingCacheControl,
    /// `/api/dossiers/{numero}` checks that a session exists, not that it owns the number.
    ObjectReference,
}

/// A fault name that no fault has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown portal fault {given:?}: valid faults are {valid}")]
pub struct UnknownFault {
    pub given: String,
    /// The valid names, comma-separated.
    pub valid: String,
}

impl Fault {
    /// The kebab-case name used on the command line and in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::SharedCache => "shared-cache",
            Fault::NirLookup => "nir-lookup",
            Fault::RequestStateRace => "request-state-race",
            Fault::DirtyPooledConnection => "dirty-pooled-connection",
            Fault::SimultaneousAccess => "simultaneous-access",
            Fault::WeakSessionId => "weak-session-id",
            Fault::StaleSession => "stale-session",
            Fault::DefaultCdnCache => "default-cdn-cache",
            Fault::CacheDeception => "cache-deception",
            Fault::MissingCacheControl => "missing-cache-control",
            Fault::ObjectReference => "object-reference",
        }
    }

    /// What the portal does wrong when this fault is on, and which load makes it show: one sentence.
    pub fn mechanism(&self) -> &'static str {
        match self {
            Fault::SharedCache => {
                "a response cache in front of /mon-compte, /api/dossier and /api/paiements keys \
                 entries by path alone, ignores the session cookie and the origin's \
                 `Cache-Control: private, no-store`, and serves the first visitor's page to \
                 everyone until the entry expires"
            }
            Fault::NirLookup => {
                "on the NIR login path, once the password is checked against the account the NIR \
                 designates, an account still on its provisional password is activated through an \
                 index keyed by sex, birth year and birth month (the NIR's first five characters) \
                 and the first provisional account of that block in numéro allocataire order is \
                 opened, so a beneficiary with their own valid credentials lands in someone else's \
                 file (changed-password accounts and the numéro allocataire path are unaffected)"
            }
            Fault::RequestStateRace => {
                "the auth layer writes the signed-in owner into one request-context object shared \
                 by all requests instead of a per-request one, and the /mon-compte and /api/dossier \
                 handlers read it again after awaiting the payments ledger (10 ms by default), so \
                 two such reads in flight at once make the earlier one render the later one's file"
            }
            Fault::DirtyPooledConnection => {
                "the pool of sockets to the payments ledger takes back a connection whose query was \
                 sent but whose reply was never read, so once a personal read is cancelled while \
                 it waits on the ledger (a client that gives up 1-8 ms after sending, which makes \
                 hyper drop the handler, or the portal's own 2 s ledger timeout), every later \
                 request on that connection reads the previous request's statement"
            }
            Fault::SimultaneousAccess => {
                "GET /api/paiements memoises its result per 50 ms time bucket with single-flight, \
                 keyed by the bucket instead of the account, so everyone who opens their payments \
                 within the same 50 ms (a crowd released at one instant) gets the first one's"
            }
            Fault::WeakSessionId => {
                "session tokens are derived from the login time in milliseconds and stored by \
                 overwriting, so two logins in the same millisecond (a crowd of logins) get the same \
                 token and the earlier user's cookie then opens the later user's file"
            }
            Fault::StaleSession => {
                "logout only tells the browser to drop its cookie and a password change leaves the \
                 account's other sessions open, because server-side sessions are never revoked, so \
                 a kept or copied cookie still opens the file"
            }
            Fault::DefaultCdnCache => {
                "an edge cache in front of the whole portal stores every GET 200 response that has \
                 no Cache-Control and no Set-Cookie, keyed by path and query, and serves it to \
                 anyone (`X-Cache: HIT`, `Age`), while the personal pages forget their \
                 Cache-Control, so the first reader's file is served to every later one"
            }
            Fault::CacheDeception => {
                "the origin serves the personal pages for suffixed paths it should refuse \
                 (/mon-compte/x.css, /mon-compte;x.js, /mon-compte/%2F.., /api/dossier.json) and an \
                 edge cache stores any GET 200 whose last path segment ends in a static extension \
                 (css, js, images, fonts, as in Cloudflare's default list: not json, not html) keyed \
                 by the full path, ignoring cookies and Cache-Control"
            }
            Fault::MissingCacheControl => {
                "the personal pages are sent without any Cache-Control header: nothing caches them \
                 here, but it is the precondition of the Railway incident and any shared cache \
                 in front would store them, so the cache-header audit must warn"
            }
            Fault::ObjectReference => {
                "GET /api/dossiers/{numero_allocataire} and POST /api/dossiers/{numero_allocataire}/rib \
                 check that the request carries an open session but not that the session's owner \
                 (or their household) holds that number, so any signed-in beneficiary who puts \
                 another's numéro allocataire in the path reads that file and changes its RIB; \
                 only a request sent with someone else's number shows it"
            }
        }
    }

    /// The real incident this fault reproduces.
    pub fn incident(&self) -> &'static str {
        match self {
            Fault::SharedCache => {
                "Steam, 25 December 2015: a caching configuration change stored personalised \
                 account pages and served them to other users"
            }
            Fault::NirLookup => {
                "CAF, 10 October 2021: the day after the switch to NIR login, about 7,000 \
                 beneficiaries on provisional passwords could see and modify other people's files"
            }
            Fault::RequestStateRace => {
                "GitHub, March 2021: a request object reused across threads under a rare race \
                 handed one user's session to another"
            }
            Fault::DirtyPooledConnection => {
                "ChatGPT, 20 March 2023: requests cancelled after sending left redis-py \
                 connections holding unread replies, and the next users read other users' chat \
                 titles and payment details"
            }
            Fault::SimultaneousAccess => {
                "Lloyds Banking Group, March 2026: customers who opened their transactions within \
                 a fraction of a second of someone else saw that person's"
            }
            Fault::WeakSessionId => {
                "no single incident: predictable, low-entropy session identifiers (CWE-330, OWASP \
                 session ID entropy) are a recurring audit finding"
            }
            Fault::StaleSession => {
                "no single incident: sessions not invalidated on logout or password change \
                 (CWE-613, OWASP insufficient session expiration) are a recurring audit finding"
            }
            Fault::DefaultCdnCache => {
                "Railway, March 2026: a CDN change cached GET responses without explicit cache \
                 headers, authenticated ones included"
            }
            Fault::CacheDeception => {
                "web cache deception (Omer Gil, 2017, shown on PayPal): a cache stored personal \
                 pages requested under a static-looking suffix the origin ignored"
            }
            Fault::MissingCacheControl => {
                "Railway, March 2026 (its precondition): the pages the CDN cached were those that \
                 did not say private or no-store"
            }
            Fault::ObjectReference => {
                "no single incident: broken object-level authorisation (OWASP API1:2023, CWE-639, \
                 an identifier in the path trusted without an ownership check) is the most \
                 reported API flaw"
            }
        }
    }

    /// Every fault, in a stable order.
    pub fn all() -> &'static [Fault] {
        &[
            Fault::SharedCache,
            Fault::NirLookup,
            Fault::RequestStateRace,
            Fault::DirtyPooledConnection,
            Fault::SimultaneousAccess,
            Fault::WeakSessionId,
            Fault::StaleSession,
            Fault::DefaultCdnCache,
            Fault::CacheDeception,
            Fault::MissingCacheControl,
            Fault::ObjectReference,
        ]
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        Fault::all()
            .iter()
            .copied()
            .find(|fault| fault.name() == given)
            .ok_or_else(|| UnknownFault {
                given: given.to_owned(),
                valid: Fault::all()
                    .iter()
                    .map(Fault::name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_parses_back_from_its_name_and_serde_agrees() {
        for fault in Fault::all() {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
            let json = serde_json::to_string(fault).expect("serialise");
            assert_eq!(json, format!("\"{}\"", fault.name()));
            assert!(!fault.mechanism().is_empty() && !fault.incident().is_empty());
            // One sentence each, as `--list-faults` prints them.
            for text in [fault.mechanism(), fault.incident()] {
                assert!(!text.contains(". "), "{}: {text}", fault.name());
                assert!(!text.ends_with('.'), "{}: {text}", fault.name());
            }
        }
        let names: std::collections::HashSet<_> = Fault::all().iter().map(Fault::name).collect();
        assert_eq!(names.len(), Fault::all().len());
    }

    #[test]
    fn unknown_fault_error_lists_the_valid_names() {
        let error = "shared_cache".parse::<Fault>().expect_err("not a name");
        let message = error.to_string();
        assert!(message.contains("\"shared_cache\""), "{message}");
        assert!(message.contains("shared-cache"), "{message}");
    }
}
