//! What an attempt's landings show: the load run's check on each, and the findings an attempt
//! makes itself (a login without its password, a parser that broke).

use super::attempt::{Broke, Fuzzer, Landing, Login};
use super::plan::Attempt;
use super::PHASE;
use crate::findings::{
    AccountRef, Asked, Clues, Finding, FindingKind, RequestEvidence, ResponseEvidence, SeenBy,
};
use crate::load::{check, CheckContext, ErrorCause, Exchange};
use crate::population::{Beneficiary, OwnerId};
use std::collections::BTreeMap;

impl Fuzzer<'_> {
    /// Whether a response carries anyone's identifying data: a file was opened.
    fn carries_data(&self, landing: &Landing) -> bool {
        !self.watch.oracle.scan(&landing.body).is_empty()
    }

    /// The load run's check on one response seen as `owner`; what the attempt typed goes in the
    /// detail. Returns whether the response carried anyone's data (a file was opened).
    ///
    /// A mutated login whose answers carry nobody's data was refused, whatever the success
    /// conditions say (a status-only condition cannot tell a 200 error page from a file): only
    /// the unmutated baseline, or a response that did open a file, is held to `must_show`.
    pub(super) fn judge(
        &self,
        login: &Login<'_>,
        method: &str,
        name: &str,
        landing: &Landing,
        must_show: &[String],
    ) -> bool {
        let (owner, attempt, typed) = (login.owner, login.attempt, login.typed.as_str());
        self.counters.checked();
        let opened = self.carries_data(landing);
        let must_show = if attempt.baseline || opened {
            must_show
        } else {
            &[]
        };
        let ctx = self.context();
        let asked = Asked::Login {
            via: name.to_owned(),
            identifier: login.echoed().map(|(field, _)| field.to_owned()),
        };
        let findings = check(
            &ctx,
            Some(owner.id),
            &Exchange {
                method,
                name,
                url: &landing.url,
                status: landing.status,
                final_url: &landing.url,
                authorization: landing.authorization,
                headers: &landing.headers,
                body: &landing.body,
            },
            must_show,
            &asked,
        );
        // A refused login that echoes the mistyped identifier ("dossier 1234568 inconnu") shows
        // whoever that typo happens to designate: no leak, unless other values come with it.
        let body = String::from_utf8_lossy(&landing.body);
        let echo_field = login
            .echoed()
            .filter(|(_, typed)| !typed.is_empty() && body.contains(typed))
            .map(|(field, _)| field);
        for mut finding in findings {
            if finding.kind == FindingKind::Violation
                && echo_field.is_some_and(|field| finding.foreign.iter().all(|f| f.field == field))
            {
                continue;
            }
            if finding.kind == FindingKind::Violation {
                finding.detail = format!(
                    "{}: a login with {} ({:?} typed as {}) opened an account other than the identifier owner's",
                    finding.detail,
                    attempt.password.label(),
                    self.masking.apply(typed),
                    attempt.mutation.label()
                );
            }
            self.sink.send(finding);
        }
        opened
    }

    fn context(&self) -> CheckContext<'_> {
        CheckContext {
            watch: self.watch,
            population: self.population,
            masking: self.masking,
            phase: PHASE,
            user: 0,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }

    fn account(&self, owner: OwnerId) -> AccountRef {
        AccountRef {
            owner,
            numero_allocataire: self
                .population
                .get(owner)
                .map(|b| self.masking.apply(b.numero_allocataire.as_str()))
                .unwrap_or_default(),
        }
    }

    fn evidence(
        &self,
        request: &str,
        name: &str,
        landing: &Landing,
    ) -> (RequestEvidence, ResponseEvidence) {
        let (method, url) = request.split_once(' ').unwrap_or(("POST", request));
        let headers: BTreeMap<String, String> =
            ["set-cookie", "content-type", "location", "cache-control"]
                .into_iter()
                .filter_map(|h| {
                    let value = landing.headers.get(h)?.to_str().ok()?;
                    let value = if h == "set-cookie" {
                        self.masking.apply(value)
                    } else {
                        value.to_owned()
                    };
                    Some((h.to_owned(), value))
                })
                .collect();
        let excerpt: String = String::from_utf8_lossy(&landing.body)
            .chars()
            .take(300)
            .collect();
        (
            RequestEvidence {
                method: method.to_owned(),
                name: name.to_owned(),
                url: url.to_owned(),
            },
            ResponseEvidence {
                status: landing.status,
                final_url: landing.url.clone(),
                headers,
                excerpt,
            },
        )
    }

    fn finding(
        &self,
        kind: FindingKind,
        owner: OwnerId,
        detail: String,
        evidence: (RequestEvidence, ResponseEvidence),
    ) -> Finding {
        let (request, response) = evidence;
        let asked = Asked::Login {
            via: request.name.clone(),
            identifier: None,
        };
        let seen = SeenBy {
            phase: PHASE,
            user: 0,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        };
        Finding::new(kind, seen, request, response)
            .with_viewer(Some(self.account(owner)))
            .with_detail(detail)
            .with_clues(Clues {
                asked,
                ..Clues::default()
            })
    }

    /// A login that met the flow's success conditions with a password that is not the owner's.
    pub(super) fn wrong_password(
        &self,
        owner: &Beneficiary,
        request: &str,
        name: &str,
        landing: &Landing,
        attempt: Attempt,
    ) -> Finding {
        let mut evidence = self.evidence(request, name, landing);
        evidence.1.excerpt.clear();
        self.finding(
            FindingKind::Violation,
            owner.id,
            format!(
                "a login with owner {}'s identifier and {} succeeded: an account opened without its password",
                owner.id,
                attempt.password.label()
            ),
            evidence,
        )
    }

    /// Counts an attempt that broke; a 5xx is a `parser_failure` finding.
    pub(super) fn broke(&self, login: &Login<'_>, broke: Broke) {
        let (owner, attempt, typed) = (login.owner, login.attempt, login.typed.as_str());
        match broke {
            Broke::Transport(cause) => self.counters.error(cause),
            Broke::ServerError { request, landing } => {
                self.counters.error(ErrorCause::ServerError);
                let evidence = self.evidence(&request, &login.name, &landing);
                let finding = self.finding(
                    FindingKind::ParserFailure,
                    owner.id,
                    format!(
                        "the target answered {} to a login with {} ({:?} typed as {}): its login parser failed",
                        landing.status,
                        attempt.password.label(),
                        self.masking.apply(typed),
                        attempt.mutation.label()
                    ),
                    evidence,
                );
                self.sink.send(finding);
            }
        }
    }
}
