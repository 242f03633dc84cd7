//! End to end: the embedded demo portal on an ephemeral loopback port, real goose users, every
//! response checked. Each run is bounded to a few seconds; runs are serialised (goose has globals).

use crossleak::findings::{Finding, FindingKind, Masking};
use crossleak::load::{Behaviours, LoadPlan, Site};
use crossleak::outcome::Status;
use crossleak::population::{GenerateOptions, Population};
use crossleak::portal::{self, Fault, PortalConfig};
use crossleak::run::{self, DemoOptions, RunSpec};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

static ONE_ATTACK_AT_A_TIME: Mutex<()> = Mutex::const_new(());

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
    assert_eq!(summary.exit_code, 1);
    assert!(summary.count(FindingKind::Violation) > 0);
    assert!(!summary.affected_accounts.is_empty());
    // Every finding on disk: a foreign owner that is neither the viewer nor its household, and an
    // affected account that summary.json names.
    let population = Population::generate(&GenerateOptions {
        size: 200,
        seed: 11,
        ..GenerateOptions::default()
    })
    .unwrap();
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
    let population = Population::generate(&GenerateOptions {
        size: 20,
        seed: 1,
        ..GenerateOptions::default()
    })
    .unwrap();
    let result = run::execute(spec(
        format!("http://127.0.0.1:{port}"),
        population,
        reports.path(),
    ))
    .await
    .unwrap();
    assert_eq!(result.summary.status, Status::Unreachable);
    assert_eq!(result.summary.exit_code, 3);
    assert_eq!(result.summary.violations, 0);
    assert_eq!(summary_json(&result.dir)["status"], "unreachable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_where_nobody_can_log_in_is_inconclusive_not_clean() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    // The portal knows one population, crossleak another: every login fails.
    let served = Population::generate(&GenerateOptions {
        size: 20,
        seed: 1,
        ..GenerateOptions::default()
    })
    .unwrap();
    let tested = Population::generate(&GenerateOptions {
        size: 20,
        seed: 2,
        ..GenerateOptions::default()
    })
    .unwrap();
    let portal = portal::start(
        served.beneficiaries,
        PortalConfig::default(),
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .unwrap();
    let reports = tempfile::tempdir().unwrap();
    let result = run::execute(spec(portal.base_url(), tested, reports.path()))
        .await
        .unwrap();
    portal.shutdown().await;
    assert_eq!(
        result.summary.status,
        Status::Inconclusive,
        "{}",
        result.summary.reason
    );
    assert_eq!(result.summary.exit_code, 4);
    assert!(result.summary.logins.failed > 0);
    assert!(result.summary.reason.contains("logged in"));
}

fn spec(target: String, population: Population, reports: &Path) -> RunSpec {
    RunSpec {
        command: "test".into(),
        target,
        faults: vec![],
        seed: None,
        population: Arc::new(population),
        site: Site::demo(),
        plan: LoadPlan {
            users: 10,
            increase_rate: 10.0,
            duration: Duration::from_secs(2),
            request_timeout: Duration::from_secs(2),
            think_time: Some((Duration::from_millis(50), Duration::from_millis(100))),
            goose_report: None,
        },
        behaviours: Behaviours::default(),
        checks: true,
        masking: Masking::Masked,
        report_root: reports.to_owned(),
        quiet: true,
    }
}
