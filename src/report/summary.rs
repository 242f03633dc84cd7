//! `summary.json`: the machine-readable result of a run, versioned, one file per run folder.
//! Its shape is a contract (see `schemas/summary.schema.json`); fields are added, never renamed.

use super::affected::{cross_writes, CrossWrite};
use super::thresholds::{self, ThresholdResult};
use super::timeline::Timeline;
use crate::findings::{AffectedAccount, Finding, FindingKind, FindingsSummary};
use crate::load::{CountersSnapshot, GooseFigures, Site};
use crate::outcome::Status;
use crate::scenario::Thresholds;
use crate::transport::Connections;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// 2: `thresholds` and the `thresholds_failed` status (exit 5).
pub const SUMMARY_SCHEMA_VERSION: u32 = 3;

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
    /// The signal that cut the run short (`SIGINT`, `SIGTERM`), when one did.
    pub interrupted_by: Option<String>,
    pub command: String,
    pub target: String,
    pub scenario: ScenarioInfo,
    pub faults: Vec<String>,
    pub seed: Option<u64>,
    pub users: usize,
    pub population: usize,
    pub checks: bool,
    pub masking: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub duration_secs: f64,
    pub planned_duration_secs: f64,
    /// The phases that ran, in order; empty when the target was never reached.
    pub phases: Vec<PhaseSummary>,
    pub requests: u64,
    pub requests_per_second: f64,
    /// How fast simulated users started (built their own client and took their identity), from
    /// the first start to the last; 0 with fewer than two users.
    pub users_started_per_second: f64,
    pub errors: u64,
    pub errors_by_cause: BTreeMap<String, u64>,
    /// The connections opened for requests, by the HTTP version they spoke.
    pub connections: Connections,
    pub checked_responses: u64,
    pub truncated_bodies: u64,
    pub logins: Logins,
    pub replays: Replays,
    /// Every isolation failure: violations, cross-writes and wrong identities together.
    pub violations: u64,
    /// Findings that do not fail the run on their own (lost writes).
    pub warnings: u64,
    /// Distinct findings, each one line of `findings.jsonl`; `findings_by_kind` counts every occurrence.
    pub distinct_findings: u64,
    pub findings_by_kind: BTreeMap<String, u64>,
    /// One entry per check (finding kind): its outcome, occurrences and distinct findings.
    pub per_check: Vec<CheckCount>,
    /// Every exposed account, with its exposure window (`first_seen` to `last_seen`).
    pub affected_accounts: Vec<AffectedAccount>,
    /// From the first to the last time any account was seen exposed; `None` when none was.
    pub exposure: Option<ExposureWindow>,
    /// Every write seen landing in another beneficiary's file: the actions to cancel.
    pub cross_writes: Vec<CrossWrite>,
    /// The first findings in full; `findings.jsonl` has all of them.
    pub evidence: Vec<Finding>,
    /// Each `[thresholds]` rule of the scenario with its limit and the measured value; empty
    /// when it sets none or no load ran.
    pub thresholds: Vec<ThresholdResult>,
    pub goose: GooseFigures,
    pub files: BTreeMap<String, String>,
}

/// What was run: the scenario's name and file, its login flows and pages.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioInfo {
    pub name: String,
    /// The scenario file, when the run was described by one.
    pub file: Option<String>,
    pub login_flows: Vec<LoginFlowInfo>,
    pub pages: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct LoginFlowInfo {
    pub name: String,
    pub path: String,
}

impl ScenarioInfo {
    /// The journey named `name` over `site`, read from `file` when there is one.
    pub fn from_site(name: &str, file: Option<String>, site: &Site) -> ScenarioInfo {
        ScenarioInfo {
            name: name.to_owned(),
            file,
            login_flows: site
                .flows
                .iter()
                .map(|f| LoginFlowInfo {
                    name: f.name.clone(),
                    path: f
                        .steps
                        .last()
                        .map(|s| s.request.path.as_str().to_owned())
                        .unwrap_or_default(),
                })
                .collect(),
            pages: site
                .pages
                .iter()
                .map(|p| p.request.path.as_str().to_owned())
                .collect(),
        }
    }
}

/// One phase of the run and what happened during it.
#[derive(Clone, Debug, Serialize)]
pub struct PhaseSummary {
    pub name: String,
    pub started_at: String,
    pub finished_at: String,
    /// Seconds from the run's start to the phase's start and end.
    pub start_secs: f64,
    pub end_secs: f64,
    pub requests: u64,
    pub requests_per_second: f64,
    pub errors: u64,
    pub checked_responses: u64,
    /// Occurrences of the kinds that fail a run.
    pub violations: u64,
    pub findings_by_kind: BTreeMap<String, u64>,
}

/// One check's result over the whole run.
#[derive(Clone, Debug, Serialize)]
pub struct CheckCount {
    /// The finding kind, as in `findings_by_kind`.
    pub check: String,
    pub outcome: CheckOutcome,
    /// Whether a finding of this kind fails the run (exit 1), or is a warning.
    pub fails_run: bool,
    pub occurrences: u64,
    /// Distinct findings (lines of `findings.jsonl`).
    pub distinct: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Findings of a warning kind.
    Warned,
    /// Checks were off, or no load ran.
    NotRun,
}

/// The whole run's exposure: first and last sighting of any exposed account.
#[derive(Clone, Debug, Serialize)]
pub struct ExposureWindow {
    pub first_seen: String,
    pub last_seen: String,
    pub duration_secs: f64,
    pub accounts: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Logins {
    pub succeeded: u64,
    pub failed: u64,
    /// Of `failed`: logins that met every other success condition, but whose landing page lacked
    /// the user's own `must_show` values (someone else's account, or nobody's).
    pub failed_must_show: u64,
    pub again: u64,
    pub sessions_lost: u64,
}

/// Page reads the `replay` behaviour sent again under another identity.
#[derive(Clone, Debug, Serialize)]
pub struct Replays {
    /// Sent under the user's session with another owner's values.
    pub as_other_user: u64,
    /// Sent with no session.
    pub anonymous: u64,
    /// Of both: refused (401, 403, 404, or sent elsewhere), as a correct portal does.
    pub refused: u64,
}

/// Everything known at the end of a run, before it becomes a `Summary`.
pub struct RunFacts<'a> {
    pub run_id: &'a str,
    pub command: &'a str,
    pub target: &'a str,
    pub scenario: ScenarioInfo,
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
    pub planned_duration: Duration,
    /// The samples and phases of the load; `None` when no load ran.
    pub timeline: Option<&'a Timeline>,
    /// Every distinct finding, as read back from `findings.jsonl`.
    pub recorded: &'a [Finding],
    /// The signal that cut the load short, if one did.
    pub interrupted_by: Option<&'static str>,
    /// The connections opened for requests, by HTTP version.
    pub connections: Connections,
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
        let (status, reason) = if let Some(signal) = facts.interrupted_by {
            (
                Status::Interrupted,
                format!(
                    "interrupted by {signal} after {duration_secs:.1} s of {} s planned: {violations} isolation failure(s) seen so far, {} account(s) exposed; a partial run proves nothing clean",
                    facts.planned_duration.as_secs(),
                    facts.findings.affected.len()
                ),
            )
        } else if violations > 0 {
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
        let mut files: BTreeMap<String, String> = super::FILES
            .iter()
            .map(|(key, name)| (key.to_string(), name.to_string()))
            .collect();
        if facts.timeline.is_some() {
            files.insert("goose_report".to_owned(), super::GOOSE_REPORT.to_owned());
        }
        let per_check = per_check(&facts, status);
        let phases = facts.timeline.map_or_else(Vec::new, phases);
        let exposure = exposure(&facts.findings.affected);
        let cross_writes = cross_writes(facts.recorded);
        Summary {
            schema_version: SUMMARY_SCHEMA_VERSION,
            run_id: facts.run_id.to_owned(),
            status,
            exit_code: status.exit_code(),
            reason,
            interrupted_by: facts.interrupted_by.map(str::to_owned),
            command: facts.command.to_owned(),
            target: facts.target.to_owned(),
            scenario: facts.scenario,
            faults: facts.faults,
            seed: facts.seed,
            users: facts.users,
            population: facts.population,
            checks: facts.checks,
            masking: if facts.revealed { "revealed" } else { "masked" },
            started_at: facts.started_at.to_rfc3339(),
            finished_at: finished.to_rfc3339(),
            duration_secs,
            planned_duration_secs: facts.planned_duration.as_secs_f64(),
            phases,
            requests: counters.requests,
            requests_per_second: counters.requests as f64 / duration_secs,
            users_started_per_second: counters.users_started_per_second(),
            errors: counters.errors,
            errors_by_cause: counters.errors_by_cause.clone(),
            connections: facts.connections,
            checked_responses: counters.checked_responses,
            truncated_bodies: counters.truncated_bodies,
            logins: Logins {
                succeeded: counters.logins,
                failed: counters.login_failures,
                failed_must_show: counters.logins_landed_elsewhere,
                again: counters.relogins,
                sessions_lost: counters.sessions_lost,
            },
            replays: Replays {
                as_other_user: counters.replays_as_other_user,
                anonymous: counters.replays_anonymous,
                refused: counters.replays_refused,
            },
            violations,
            warnings: facts.findings.by_kind.values().sum::<u64>() - violations,
            distinct_findings: facts.findings.distinct,
            findings_by_kind: facts.findings.by_kind.clone(),
            per_check,
            affected_accounts: facts.findings.affected,
            exposure,
            cross_writes,
            evidence: facts.findings.evidence,
            thresholds: Vec::new(),
            goose: facts.goose,
            files,
        }
    }

    /// Judges the scenario's `[thresholds]` on this run's figures (call it only when a load
    /// ran). A failed threshold fails a run that is otherwise clean or inconclusive (exit 5): it
    /// is a verdict on what was measured even when the isolation checks proved little. Violations
    /// and an interruption keep their status; the results are listed either way.
    pub fn judge_thresholds(&mut self, rules: &Thresholds) {
        self.thresholds = thresholds::evaluate(
            rules,
            thresholds::Measured {
                goose: Some(&self.goose),
                requests: self.requests,
                errors: self.errors,
                cache_warnings: self.count(FindingKind::CacheablePage),
            },
        );
        let Some(failed) = thresholds::failed_line(&self.thresholds) else {
            return;
        };
        if matches!(self.status, Status::Clean | Status::Inconclusive) {
            self.status = Status::ThresholdsFailed;
            self.exit_code = Status::ThresholdsFailed.exit_code();
            self.reason =
                format!("no isolation failure, but a scenario threshold failed: {failed}");
        }
    }

    pub fn count(&self, kind: FindingKind) -> u64 {
        self.findings_by_kind.get(kind.name()).copied().unwrap_or(0)
    }

    /// Writes `summary.json` into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        super::write_file(dir, super::SUMMARY, (text + "\n").as_bytes())
    }

    /// Whether a load phase ran at all (not when the target was never reached).
    pub fn load_ran(&self) -> bool {
        !self.phases.is_empty()
    }
}

fn per_check(facts: &RunFacts<'_>, status: Status) -> Vec<CheckCount> {
    let ran = facts.checks && facts.timeline.is_some() && status != Status::Unreachable;
    FindingKind::ALL
        .iter()
        .map(|kind| {
            let occurrences = facts.findings.count(*kind);
            let distinct = facts.recorded.iter().filter(|f| f.kind == *kind).count() as u64;
            let outcome = match (ran, occurrences > 0, kind.fails_run()) {
                (_, true, true) => CheckOutcome::Failed,
                (_, true, false) => CheckOutcome::Warned,
                (false, false, _) => CheckOutcome::NotRun,
                (true, false, _) => CheckOutcome::Passed,
            };
            CheckCount {
                check: kind.name().to_owned(),
                outcome,
                fails_run: kind.fails_run(),
                occurrences,
                distinct,
            }
        })
        .collect()
}

fn phases(timeline: &Timeline) -> Vec<PhaseSummary> {
    timeline
        .phases
        .iter()
        .map(|phase| {
            let figures = timeline.figures(phase);
            let duration = (phase.end_secs - phase.start_secs).max(0.001);
            PhaseSummary {
                name: phase.name.clone(),
                started_at: phase
                    .started_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                finished_at: phase
                    .finished_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                start_secs: phase.start_secs,
                end_secs: phase.end_secs,
                requests: figures.requests,
                requests_per_second: figures.requests as f64 / duration,
                errors: figures.errors,
                checked_responses: figures.checked,
                violations: FindingKind::ALL
                    .iter()
                    .filter(|k| k.fails_run())
                    .map(|k| figures.count(*k))
                    .sum(),
                findings_by_kind: figures.findings_by_kind,
            }
        })
        .collect()
}

fn exposure(affected: &[AffectedAccount]) -> Option<ExposureWindow> {
    let first = affected.iter().map(|a| a.first_seen.as_str()).min()?;
    let last = affected.iter().map(|a| a.last_seen.as_str()).max()?;
    Some(ExposureWindow {
        first_seen: first.to_owned(),
        last_seen: last.to_owned(),
        duration_secs: super::seconds_between(first, last),
        accounts: affected.len(),
    })
}
