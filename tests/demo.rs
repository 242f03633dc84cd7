//! End to end: the embedded demo portal on an ephemeral loopback port, real goose users, every
//! response checked. Each run is bounded to a few seconds; runs are serialised (goose has globals).

mod common;

use common::{population, spec, ONE_ATTACK_AT_A_TIME};
use crossleak::findings::{Finding, FindingKind};
use crossleak::load::Behaviours;
use crossleak::outcome::Status;
use crossleak::portal::{self, Fault, PortalConfig};
use crossleak::run::{self, DemoOptions};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::time::Duration;

fn options(faults: Vec<Fault>, reports: &Path) -> DemoOptions {
    DemoOptions {
        faults,
        users: 40,
        duration: Duration::from_secs(3),
        seed: 11,
        population: Some(200),
        increase_rate: Some(40.0),
        report_root: reports.to_owned(),
        checks: true,
        reveal: false,
        quiet: true,
        behaviours: Behaviours::all(),
    }
}

fn findings_on_disk(dir: &Path) -> Vec<Finding> {
    std::fs::read_to_string(dir.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn summary_json(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn correct_portal_gives_a_clean_run_with_every_response_checked() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().unwrap();
    let result = run::demo(options(vec![], reports.path())).await.unwrap();
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.violations, 0);
    assert!(
        summary.checked_responses > 200,
        "{}",
        summary.checked_responses
    );
    assert_eq!(summary.errors, 0);
    assert!(summary.logins.succeeded >= 40, "{:?}", summary.logins);
    assert_eq!(summary.logins.failed, 0);
    assert!(findings_on_disk(&result.dir).is_empty());
    let json = summary_json(&result.dir);
    for key in [
        "status",
        "requests",
        "errors",
        "checked_responses",
        "violations",
        "affected_accounts",
        "requests_per_second",
    ] {
        assert!(json.get(key).is_some(), "summary.json lacks {key}");
    }
    assert_eq!(json["status"], "clean");
    assert_eq!(json["exit_code"], 0);
    assert!(json["requests_per_second"].as_f64().unwrap() > 0.0);
    assert!(result.dir.join("goose-report.html").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_cache_fault_is_caught_and_names_the_exposed_accounts() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().unwrap();
    let result = run::demo(options(vec![Fault::SharedCache], reports.path()))
        .await
        .unwrap();
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    assert_eq!(summary.status.exit_code(), 1);
    assert!(summary.count(FindingKind::Violation) > 0);
    assert!(!summary.affected_accounts.is_empty());
    // Every finding on disk: a foreign owner that is neither the viewer nor its household, and an
    // affected account that summary.json names.
    let population = population(200, 11);
    let affected: Vec<u32> = summary.affected_accounts.iter().map(|a| a.owner).collect();
    let on_disk = findings_on_disk(&result.dir);
    assert_eq!(on_disk.len() as u64, summary.distinct_findings);
    let violations: Vec<&Finding> = on_disk
        .iter()
        .filter(|f| f.kind == FindingKind::Violation)
        .collect();
    assert!(!violations.is_empty());
    for finding in violations {
        assert_eq!(
            finding.response.headers.get("x-cache").map(String::as_str),
            Some("HIT")
        );
        for foreign in &finding.foreign {
            let owner = population.get(foreign.account.owner).unwrap();
            // The anonymous observer has no household: any data it sees is foreign.
            if let Some(viewer) = &finding.viewer {
                let viewer = population.get(viewer.owner).unwrap();
                assert_ne!(viewer.household, owner.household);
            }
            assert!(affected.contains(&owner.id));
            // Masked by default: the owner's file number is not in the evidence whole.
            assert_ne!(
                foreign.account.numero_allocataire,
                owner.numero_allocataire.as_str()
            );
        }
    }
    assert_eq!(summary_json(&result.dir)["status"], "violations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_is_down_is_unreachable_not_a_violation() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let port = {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
        listener.local_addr().unwrap().port()
    };
    let reports = tempfile::tempdir().unwrap();
    let population = population(20, 1);
    let result = run::execute(spec(
        format!("http://127.0.0.1:{port}"),
        population,
        reports.path(),
        10,
        Duration::from_secs(2),
    ))
    .await
    .unwrap();
    assert_eq!(result.summary.status, Status::Unreachable);
    assert_eq!(result.summary.status.exit_code(), 3);
    assert_eq!(result.summary.violations, 0);
    assert_eq!(summary_json(&result.dir)["status"], "unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_nobody_can_log_in_is_inconclusive_not_clean() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    // The portal knows one population, crossleak another: every login fails.
    let served = population(20, 1);
    let tested = population(20, 2);
    let portal = portal::start(
        served.beneficiaries,
        PortalConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let result = run::execute(spec(
        portal.base_url(),
        tested,
        reports.path(),
        10,
        Duration::from_secs(2),
    ))
    .await
    .unwrap();
    portal.shutdown().await;
    assert_eq!(
        result.summary.status,
        Status::Inconclusive,
        "{}",
        result.summary.reason
    );
    assert_eq!(result.summary.status.exit_code(), 4);
    assert!(result.summary.logins.failed > 0);
    assert!(result.summary.reason.contains("logged in"));
}
