//! The shipped CAF cut-over scenario, end to end: with the `nir-lookup` fault the leak appears
//! only once the NIR login is switched on (phase "cut-over"), and the report says so; against the
//! correct portal the same scenario reports nothing.

mod common;

use common::ONE_ATTACK_AT_A_TIME;
use crossleak::outcome::Status;
use crossleak::run::{self, RunOptions, RunResult};
use crossleak::scenario::{Endpoint, Scenario};
use std::path::Path;
use std::time::Duration;

fn scenario() -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/caf-2021-nir-migration.toml");
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn run(scenario: Scenario) -> RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().unwrap();
    let options = RunOptions {
        // 4 s of legacy logins, then 6 s after the cut-over.
        duration: Some(Duration::from_secs(10)),
        ..common::run_options(reports.keep())
    };
    run::run_scenario(scenario, options).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nir_lookup_leak_starts_with_the_cut_over_phase() {
    let result = run(scenario()).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    let phase_of = |name: &str| summary.phases.iter().find(|p| p.name == name).unwrap();
    assert_eq!(
        phase_of("legacy").violations,
        0,
        "a leak before the cut-over"
    );
    assert!(phase_of("cut-over").violations > 0);
    assert!(summary.evidence.iter().all(|f| f.phase == "cut-over"));
    // Every exposed account was opened through the NIR login.
    assert!(summary
        .evidence
        .iter()
        .filter(|f| f.kind == crossleak::findings::FindingKind::Violation)
        .any(|f| f.request.name.contains("/connexion/nir")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_cut_over_on_the_correct_portal_reports_nothing() {
    let mut scenario = scenario();
    if let Endpoint::Embedded { faults, .. } = &mut scenario.target.endpoint {
        faults.clear();
    }
    let result = run(scenario).await;
    let summary = &result.summary;
    common::assert_clean(summary);
    assert!(summary.checked_responses > 500);
}
