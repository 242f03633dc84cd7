//! Helpers the end-to-end tests share: a bounded run specification against any loopback target.
//! Each test binary uses a part of them.
#![allow(dead_code)]

use crossleak::findings::Masking;
use crossleak::load::{demo_scenario, Behaviours, LoadPlan, Shard, Site};
use crossleak::outcome::Status;
use crossleak::population::{GenerateOptions, Population};
use crossleak::report::Summary;
use crossleak::run::{self, RunOptions, RunResult, RunSpec};
use crossleak::scenario::Phase;
use crossleak::scenario::Scenario;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The smallest valid scenario: a generated population of 10, one cookie login flow (`legacy`)
/// landing on `/home`, one page (`/home`) and one phase; a test changes or adds what it needs.
pub const MINIMAL_SCENARIO: &str = include_str!("minimal.toml");

/// Goose keeps process-wide state: one attack at a time per test binary.
pub static ONE_ATTACK_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn population(size: usize, seed: u64) -> Population {
    Population::generate(&GenerateOptions {
        size,
        seed,
        ..GenerateOptions::default()
    })
    .unwrap()
}

/// The demo journey's phase, for `users` users during 2 s, without password changes.
pub fn phase(users: usize) -> Phase {
    let mut phase = demo_scenario().unwrap().phases[0].clone();
    phase.users = users;
    phase.duration = Duration::from_secs(2);
    phase.password_changes = None;
    phase
}

/// A short plain run (no behaviours) of `users` users against `target`.
pub fn spec(
    target: String,
    population: Population,
    reports: &Path,
    users: usize,
    request_timeout: Duration,
) -> RunSpec {
    RunSpec {
        command: "test".into(),
        target,
        faults: vec![],
        seed: None,
        population: Arc::new(population),
        scenario: ("test".into(), None),
        site: Site::demo(),
        phases: vec![phase(users)],
        plan: LoadPlan {
            users,
            increase_rate: users as f64,
            duration: Duration::from_secs(2),
            request_timeout,
            think_time: Some((Duration::from_millis(50), Duration::from_millis(100))),
            goose_report: None,
        },
        connecting: Default::default(),
        behaviours: Behaviours::default(),
        shard: Shard::whole(),
        checks: true,
        thresholds: Default::default(),
        masking: Masking::Masked,
        report_root: reports.to_owned(),
        quiet: true,
    }
}

/// `crossleak run` as the tests call it: the scenario's own duration, users and target, every
/// check on, quiet, reports under `report_root`.
pub fn run_options(report_root: PathBuf) -> RunOptions {
    RunOptions {
        command: "run".into(),
        target: None,
        duration: None,
        users: None,
        report_root,
        shard: Shard::whole(),
        allow_remote: false,
        checks: true,
        reveal: false,
        quiet: true,
        behaviours: None,
    }
}

/// A short run of `scenario` (3 s, 6 users), one attack at a time, reports in a fresh folder.
pub async fn short_run(scenario: Scenario) -> RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let options = RunOptions {
        duration: Some(Duration::from_secs(3)),
        users: Some(6),
        ..run_options(tempfile::tempdir().unwrap().keep())
    };
    run::run_scenario(scenario, options).await.unwrap()
}

/// The run ended clean, exit 0, having checked more than 20 responses.
pub fn assert_checked_clean(result: &RunResult) {
    let summary = &result.summary;
    assert_clean(summary);
    assert!(
        summary.checked_responses > 20,
        "{}",
        summary.checked_responses
    );
}

/// The run ended in `status` with the exit code `exit`.
pub fn assert_status(summary: &Summary, status: Status, exit: u8) {
    assert_eq!(
        (summary.status, summary.status.exit_code()),
        (status, exit),
        "{}",
        summary.reason
    );
}

/// The run ended unreachable (exit 3), its reason naming each of `named`.
pub fn assert_unreachable_naming(summary: &Summary, named: &[&str]) {
    assert_status(summary, Status::Unreachable, 3);
    for named in named {
        assert!(
            summary.reason.contains(named),
            "{named}: {}",
            summary.reason
        );
    }
}

/// The run ended clean, exit 0; if not, why, with the evidence and the errors by cause.
pub fn assert_clean(summary: &Summary) {
    assert_eq!(
        (summary.status, summary.status.exit_code()),
        (Status::Clean, 0),
        "{}: {:?} {:?}",
        summary.reason,
        summary.evidence,
        summary.errors_by_cause
    );
}

/// `schemas/summary.schema.json`.
pub fn summary_schema() -> serde_json::Value {
    serde_json::from_str(include_str!("../../schemas/summary.schema.json")).unwrap()
}

/// `instance` (named `what` in the failure) matches `schema`, formats included.
pub fn assert_valid(schema: &serde_json::Value, instance: &serde_json::Value, what: &str) {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("the schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(instance)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not match its schema:\n{}",
        errors.join("\n")
    );
}

/// The run folder's `summary.json`, after checking it against `schemas/summary.schema.json`.
pub fn assert_summary_matches_the_schema(dir: &Path) -> serde_json::Value {
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_valid(&summary_schema(), &summary, "summary.json");
    summary
}
