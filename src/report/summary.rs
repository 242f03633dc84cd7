//! `summary.json`: the machine-readable result of a run, versioned, one file per run folder.
//! Its shape is a contract (see `schemas/summary.schema.json`); fields are added, never renamed.

use super::affected::{cross_writes, CrossWrite};
use super::thresholds::{self, ThresholdResult};
use super::timeline::Timeline;
use crate::findings::{AffectedAccount, Finding, FindingKind, FindingsSummary};
use crate::load::{CountersSnapshot, GooseFigures, Site};
use crate::outcome::{judge, serialize_with_exit_code, Interruption, Outcome, Status, Tally};
use crate::scenario::Thresholds;
use crate::transport::Connections;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// 2: `thresholds` and the `thresholds_failed` status (exit 5).
pub const SUMMARY_SCHEMA_VERSION: u32 = 5;

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
    /// Written as `status` and, derived from it, `exit_code`.
    #[serde(flatten, serialize_with = "serialize_with_exit_code")]
    pub status: Status,
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
    /// Every occurrence by probable cause (`findings.jsonl` has each finding's evidence for it).
    pub findings_by_cause: BTreeMap<String, u64>,
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

impl Logins {
    fn of(counters: &CountersSnapshot) -> Logins {
        Logins {
            succeeded: counters.logins,
            failed: counters.login_failures,
            failed_must_show: counters.logins_landed_elsewhere,
            again: counters.relogins,
            sessions_lost: counters.sessions_lost,
        }
    }
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

impl Replays {
    fn of(counters: &CountersSnapshot) -> Replays {
        Replays {
            as_other_user: counters.replays_as_other_user,
            anonymous: counters.replays_anonymous,
            refused: counters.replays_refused,
        }
    }
}

/// What was run, as its driver (the load, fuzz-login) describes it.
#[derive(Clone, Debug)]
pub struct RunDescription {
    pub command: String,
    pub target: String,
    pub scenario: ScenarioInfo,
    pub faults: Vec<String>,
    pub seed: Option<u64>,
    pub users: usize,
    pub population: usize,
    pub checks: bool,
    pub revealed: bool,
    pub planned_duration: Duration,
    /// The scenario's `[thresholds]`, judged when a goose load ran.
    pub thresholds: Thresholds,
}

/// What the driver saw happen.
#[derive(Debug, Default)]
pub struct Observed {
    pub counters: CountersSnapshot,
    /// goose's figures; `None` when no goose load ran (unreachable, fuzz-login).
    pub goose: Option<GooseFigures>,
    /// The samples and phases of the load; `None` when no load ran.
    pub timeline: Option<Timeline>,
    /// The signal that cut the load short, if one did.
    pub interrupted_by: Option<&'static str>,
    /// Why the target could not be reached, when it could not.
    pub unreachable: Option<String>,
    /// Why the run stopped before it had tested what it says.
    pub stopped: Option<String>,
    /// What a clean run proved, in the driver's words; `None`: the load's sentence.
    pub proved: Option<String>,
    /// The connections opened for requests, by HTTP version.
    pub connections: Connections,
}

/// Everything known at the end of a run, before it becomes a `Summary`.
pub struct RunFacts<'a> {
    pub run_id: &'a str,
    pub started_at: chrono::DateTime<chrono::Utc>,
    pub described: RunDescription,
    pub observed: &'a Observed,
    pub findings: FindingsSummary,
    /// Every distinct finding, as read back from `findings.jsonl`.
    pub recorded: &'a [Finding],
    /// goose's reports in the run folder, by key ([`super::goose_reports`]).
    pub goose_reports: BTreeMap<String, String>,
}

impl Summary {
    /// The summary of `facts`, its thresholds evaluated and its status judged (`outcome::judge`).
    pub fn from_facts(facts: RunFacts<'_>) -> Summary {
        let (observed, counters) = (facts.observed, &facts.observed.counters);
        let finished = chrono::Utc::now();
        let goose_secs = observed.goose.as_ref().map_or(0.0, |g| g.duration_secs);
        let duration_secs = ((finished - facts.started_at).num_milliseconds() as f64 / 1000.0)
            .max(goose_secs)
            .max(0.001);
        let violations = facts.findings.failing();
        let thresholds = judged_thresholds(&facts);
        let Outcome { status, reason } = judge(&tally(&facts, duration_secs, &thresholds));
        let mut files: BTreeMap<String, String> = super::FILES
            .iter()
            .map(|(key, name)| (key.to_string(), name.to_string()))
            .collect();
        files.extend(facts.goose_reports.clone());
        let per_check = per_check(&facts, status);
        let phases = observed.timeline.as_ref().map_or_else(Vec::new, phases);
        let exposure = exposure(&facts.findings.affected);
        let cross_writes = cross_writes(facts.recorded);
        Summary {
            schema_version: SUMMARY_SCHEMA_VERSION,
            run_id: facts.run_id.to_owned(),
            status,
            reason,
            interrupted_by: observed.interrupted_by.map(str::to_owned),
            command: facts.described.command,
            target: facts.described.target,
            scenario: facts.described.scenario,
            faults: facts.described.faults,
            seed: facts.described.seed,
            users: facts.described.users,
            population: facts.described.population,
            checks: facts.described.checks,
            masking: if facts.described.revealed {
                "revealed"
            } else {
                "masked"
            },
            started_at: facts.started_at.to_rfc3339(),
            finished_at: finished.to_rfc3339(),
            duration_secs,
            planned_duration_secs: facts.described.planned_duration.as_secs_f64(),
            phases,
            requests: counters.requests,
            requests_per_second: counters.requests as f64 / duration_secs,
            users_started_per_second: counters.users_started_per_second(),
            errors: counters.errors,
            errors_by_cause: counters.errors_by_cause.clone(),
            connections: facts.observed.connections,
            checked_responses: counters.checked_responses,
            truncated_bodies: counters.truncated_bodies,
            logins: Logins::of(counters),
            replays: Replays::of(counters),
            violations,
            warnings: facts.findings.by_kind.values().sum::<u64>() - violations,
            distinct_findings: facts.findings.distinct,
            findings_by_kind: facts.findings.by_kind.clone(),
            findings_by_cause: facts.findings.by_cause.clone(),
            per_check,
            affected_accounts: facts.findings.affected,
            exposure,
            cross_writes,
            evidence: facts.findings.evidence,
            thresholds,
            goose: observed.goose.clone().unwrap_or_default(),
            files,
        }
    }

    /// Each cause that counted an error, with its count: `timeout 5`.
    pub fn error_causes(&self) -> Vec<String> {
        self.errors_by_cause
            .iter()
            .filter(|(_, n)| **n > 0)
            .map(|(cause, n)| format!("{cause} {n}"))
            .collect()
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

/// The scenario's `[thresholds]` against the run's figures, when a goose load ran.
fn judged_thresholds(facts: &RunFacts<'_>) -> Vec<ThresholdResult> {
    let Some(goose) = &facts.observed.goose else {
        return Vec::new();
    };
    thresholds::evaluate(
        &facts.described.thresholds,
        thresholds::Measured {
            goose: Some(goose),
            requests: facts.observed.counters.requests,
            errors: facts.observed.counters.errors,
            cache_warnings: facts.findings.count(FindingKind::CacheablePage),
        },
    )
}

/// What the verdict depends on, from the facts.
fn tally(facts: &RunFacts<'_>, duration_secs: f64, thresholds: &[ThresholdResult]) -> Tally {
    let counters = &facts.observed.counters;
    Tally {
        unreachable: facts.observed.unreachable.clone(),
        interrupted: facts.observed.interrupted_by.map(|signal| Interruption {
            signal,
            ran_secs: duration_secs,
            planned_secs: facts.described.planned_duration.as_secs(),
        }),
        stopped: facts.observed.stopped.clone(),
        failing: facts.findings.failing(),
        exposed: facts.findings.affected.len(),
        checks: facts.described.checks,
        checked: counters.checked_responses,
        users: facts.described.users as u64,
        logged_in: counters.logins - counters.relogins,
        login_failures: counters.login_failures,
        thresholds_failed: thresholds::failed_line(thresholds),
        proved: facts.observed.proved.clone(),
    }
}

fn per_check(facts: &RunFacts<'_>, status: Status) -> Vec<CheckCount> {
    let ran = facts.described.checks
        && facts.observed.timeline.is_some()
        && status != Status::Unreachable;
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
