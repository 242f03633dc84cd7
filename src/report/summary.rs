//! `summary.json`: the machine-readable result of a run, versioned, one file per run folder.
//! Its shape is a contract (see `schemas/summary.schema.json`); fields are added, never renamed.

use crate::findings::{AffectedAccount, Finding, FindingKind, FindingsSummary};
use crate::load::{CountersSnapshot, GooseFigures};
use crate::outcome::Status;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;

pub const SUMMARY_SCHEMA_VERSION: u32 = 1;

/// A run identifier that sorts by time: `20261123T101500Z-3f9a`.
pub fn run_id() -> String {
    let now = chrono::Utc::now();
    format!(
        "{}-{:04x}",
        now.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u16>()
    )
}

#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub schema_version: u32,
    pub run_id: String,
    pub status: Status,
    pub exit_code: u8,
    /// Why the status is what it is, in one sentence.
    pub reason: String,
    pub command: String,
    pub target: String,
    pub faults: Vec<String>,
    pub seed: Option<u64>,
    pub users: usize,
    pub population: usize,
    pub checks: bool,
    pub masking: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub duration_secs: f64,
    pub requests: u64,
    pub requests_per_second: f64,
    pub errors: u64,
    pub errors_by_cause: BTreeMap<String, u64>,
    pub checked_responses: u64,
    pub truncated_bodies: u64,
    pub logins: Logins,
    /// Every isolation failure: violations, cross-writes and wrong identities together.
    pub violations: u64,
    /// Findings that do not fail the run on their own (lost writes).
    pub warnings: u64,
    /// Distinct findings, each one line of `findings.jsonl`; `findings_by_kind` counts every occurrence.
    pub distinct_findings: u64,
    pub findings_by_kind: BTreeMap<String, u64>,
    pub affected_accounts: Vec<AffectedAccount>,
    /// The first findings in full; `findings.jsonl` has all of them.
    pub evidence: Vec<Finding>,
    pub goose: GooseFigures,
    pub files: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Logins {
    pub succeeded: u64,
    pub failed: u64,
    pub again: u64,
    pub sessions_lost: u64,
}

/// Everything known at the end of a run, before it becomes a `Summary`.
pub struct RunFacts<'a> {
    pub run_id: &'a str,
    pub command: &'a str,
    pub target: &'a str,
    pub faults: Vec<String>,
    pub seed: Option<u64>,
    pub users: usize,
    pub population: usize,
    pub checks: bool,
    pub revealed: bool,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub counters: CountersSnapshot,
    pub findings: FindingsSummary,
    pub goose: GooseFigures,
}

impl Summary {
    /// Decides the status: failures found, or a run that proved nothing, or clean.
    pub fn from_facts(facts: RunFacts<'_>) -> Summary {
        let finished = chrono::Utc::now();
        let duration_secs = ((finished - facts.started_at).num_milliseconds() as f64 / 1000.0)
            .max(facts.goose.duration_secs)
            .max(0.001);
        let counters = &facts.counters;
        let violations = facts.findings.failing();
        let first_logins = counters.logins - counters.relogins;
        let (status, reason) = if violations > 0 {
            (
                Status::Violations,
                format!(
                    "{violations} isolation failure(s): {} account(s) exposed",
                    facts.findings.affected.len()
                ),
            )
        } else if facts.checks && counters.checked_responses == 0 {
            (
                Status::Inconclusive,
                "no response was checked: nothing was proved".to_owned(),
            )
        } else if first_logins * 2 < facts.users as u64 {
            (
                Status::Inconclusive,
                format!(
                    "only {first_logins} of {} users ever logged in ({} login failures): the pages behind the login were barely checked",
                    facts.users, counters.login_failures
                ),
            )
        } else if !facts.checks {
            (
                Status::Clean,
                "checks were off (--no-checks): load only, nothing proved about isolation"
                    .to_owned(),
            )
        } else {
            (
                Status::Clean,
                format!(
                    "{} responses checked, each carried only its user's own or household data",
                    counters.checked_responses
                ),
            )
        };
        let mut files = BTreeMap::new();
        files.insert("findings".to_owned(), "findings.jsonl".to_owned());
        files.insert("goose_report".to_owned(), "goose-report.html".to_owned());
        Summary {
            schema_version: SUMMARY_SCHEMA_VERSION,
            run_id: facts.run_id.to_owned(),
            status,
            exit_code: status.exit_code(),
            reason,
            command: facts.command.to_owned(),
            target: facts.target.to_owned(),
            faults: facts.faults,
            seed: facts.seed,
            users: facts.users,
            population: facts.population,
            checks: facts.checks,
            masking: if facts.revealed { "revealed" } else { "masked" },
            started_at: facts.started_at.to_rfc3339(),
            finished_at: finished.to_rfc3339(),
            duration_secs,
            requests: counters.requests,
            requests_per_second: counters.requests as f64 / duration_secs,
            errors: counters.errors,
            errors_by_cause: counters.errors_by_cause.clone(),
            checked_responses: counters.checked_responses,
            truncated_bodies: counters.truncated_bodies,
            logins: Logins {
                succeeded: counters.logins,
                failed: counters.login_failures,
                again: counters.relogins,
                sessions_lost: counters.sessions_lost,
            },
            violations,
            warnings: facts.findings.by_kind.values().sum::<u64>() - violations,
            distinct_findings: facts.findings.distinct,
            findings_by_kind: facts.findings.by_kind.clone(),
            affected_accounts: facts.findings.affected,
            evidence: facts.findings.evidence,
            goose: facts.goose,
            files,
        }
    }

    pub fn count(&self, kind: FindingKind) -> u64 {
        self.findings_by_kind.get(kind.name()).copied().unwrap_or(0)
    }

    /// Writes `summary.json` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let path = dir.join("summary.json");
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(path, text + "\n")
    }
}
