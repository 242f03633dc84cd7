//! The demo portal's fault catalogue, each against the scenario under `scenarios/faults/` that
//! catches it: detected with the right kind of finding, the right accounts and the right dominant
//! probable cause (inferred from what the client saw, never from the portal), and the same
//! scenario against the correct portal reports nothing. Each run lasts 5 s on loopback.

mod common;

use common::ONE_ATTACK_AT_A_TIME;
use crossleak::findings::{Cause, FindingKind};
use crossleak::outcome::Status;
use crossleak::population::{LoadedPopulation, PasswordState, Population};
use crossleak::report::Summary;
use crossleak::run::{self, RunOptions};
use crossleak::scenario::{Endpoint, Scenario};
use std::path::Path;
use std::time::Duration;

fn scenario(fault: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/faults")
        .join(format!("{fault}.toml"));
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn run(scenario: Scenario) -> Summary {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().unwrap();
    let options = RunOptions {
        duration: Some(Duration::from_secs(5)),
        users: Some(120),
        ..common::run_options(reports.path().to_owned())
    };
    run::run_scenario(scenario, options).await.unwrap().summary
}

fn population(scenario: &Scenario) -> Population {
    match scenario.population.read().unwrap() {
        LoadedPopulation::Beneficiaries(population) => population,
        LoadedPopulation::Watched(_) => {
            unreachable!("the fault scenarios generate their population")
        }
    }
}

/// The probable cause most of the run's findings point to.
fn dominant_cause(summary: &Summary) -> Cause {
    let (name, _) = summary
        .findings_by_cause
        .iter()
        .max_by_key(|(_, count)| **count)
        .expect("every cause is counted");
    *Cause::ALL
        .iter()
        .find(|cause| cause.name() == name)
        .expect("a known cause")
}

/// Runs `fault`'s scenario: it must fail with `kind`, most findings put down to `cause`, then pass
/// on the correct portal.
async fn caught_with(fault: &str, kind: FindingKind, cause: Cause) -> (Summary, Population) {
    let faulty = scenario(fault);
    let population = population(&faulty);
    let summary = run(faulty.clone()).await;
    assert_eq!(
        summary.status,
        Status::Violations,
        "{fault}: {}",
        summary.reason
    );
    assert_eq!(
        dominant_cause(&summary),
        cause,
        "{fault}: {:?}",
        summary.findings_by_cause
    );
    assert!(
        summary.count(kind) > 0,
        "{fault}: no {kind:?} in {:?}",
        summary.findings_by_kind
    );
    // A stale session reopens its own owner's file for the old token's holder: no one else saw
    // anyone's data, so no account is exposed.
    assert_eq!(
        summary.affected_accounts.is_empty(),
        kind == FindingKind::StaleSession,
        "{fault}: {:?}",
        summary.affected_accounts
    );
    for account in &summary.affected_accounts {
        assert!(population.get(account.owner).is_some());
    }
    let mut correct = faulty;
    if let Endpoint::Embedded { faults, .. } = &mut correct.target.endpoint {
        faults.clear();
    }
    let clean = run(correct).await;
    assert_eq!(
        clean.status,
        Status::Clean,
        "{fault} scenario, correct portal: {:?}",
        clean.evidence
    );
    assert_eq!(
        clean.count(FindingKind::CacheablePage),
        0,
        "correct portal warned"
    );
    assert!(clean.checked_responses > 500);
    // Every replayed read was refused by the correct portal.
    assert_eq!(
        clean.replays.refused,
        clean.replays.as_other_user + clean.replays.anonymous,
        "{:?}",
        clean.replays
    );
    (summary, population)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nir_lookup_exposes_only_provisional_password_accounts() {
    let (summary, population) =
        caught_with("nir-lookup", FindingKind::Violation, Cause::LoginResolution).await;
    // The file opened is always a provisional-password account's; a changed-password partner
    // is exposed only through the household line of such a file.
    let provisional =
        |owner: u32| population.get(owner).unwrap().password_state == PasswordState::Provisional;
    for account in &summary.affected_accounts {
        let exposed_through_partner = population
            .household_of(account.owner)
            .iter()
            .any(|member| member.id != account.owner && provisional(member.id));
        assert!(
            provisional(account.owner) || exposed_through_partner,
            "{} exposed with a changed password and no provisional partner",
            account.owner
        );
    }
    // The accounts were opened through the NIR login, never the numéro allocataire one.
    for finding in summary
        .evidence
        .iter()
        .filter(|f| f.kind == FindingKind::Violation)
    {
        assert!(
            !finding.request.name.contains("/connexion/allocataire"),
            "{finding:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_state_race_is_caught_by_a_concurrent_load() {
    caught_with(
        "request-state-race",
        FindingKind::Violation,
        Cause::RequestState,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirty_pooled_connection_is_caught_by_cancelled_requests() {
    caught_with(
        "dirty-pooled-connection",
        FindingKind::Violation,
        Cause::ConnectionReuse,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simultaneous_access_is_caught_by_a_crowd_on_the_payments() {
    let (summary, _) = caught_with(
        "simultaneous-access",
        FindingKind::Violation,
        Cause::SharedCache,
    )
    .await;
    assert!(summary
        .evidence
        .iter()
        .any(|f| f.kind == FindingKind::Violation && f.request.name.contains("/api/paiements")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn weak_session_ids_are_caught_as_token_collisions() {
    caught_with(
        "weak-session-id",
        FindingKind::TokenCollision,
        Cause::SessionToken,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_sessions_are_caught_by_replaying_old_cookies() {
    let (summary, _) = caught_with(
        "stale-session",
        FindingKind::StaleSession,
        Cause::SessionToken,
    )
    .await;
    assert_eq!(summary.errors_by_cause["logout_failed"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_cdn_cache_is_caught_and_its_headers_flagged() {
    let (summary, _) = caught_with(
        "default-cdn-cache",
        FindingKind::Violation,
        Cause::SharedCache,
    )
    .await;
    assert!(summary.count(FindingKind::CacheablePage) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_deception_is_caught_by_suffixed_probes() {
    let (summary, _) = caught_with(
        "cache-deception",
        FindingKind::Violation,
        Cause::SharedCache,
    )
    .await;
    assert!(summary
        .evidence
        .iter()
        .any(|f| f.kind == FindingKind::Violation
            && (f.request.name.contains("cache probe") || f.request.name.contains("observer"))));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn object_reference_is_caught_by_replaying_another_owners_number() {
    let (summary, _) = caught_with(
        "object-reference",
        FindingKind::Violation,
        Cause::ObjectReference,
    )
    .await;
    let replayed = |f: &&crossleak::findings::Finding| {
        f.kind == FindingKind::Violation
            && f.request.name.contains("(replayed as other_user)")
            && f.detail.starts_with("replayed as other_user")
    };
    assert!(
        summary.evidence.iter().any(|f| replayed(&f)),
        "{:?}",
        summary.evidence
    );
    // Only the replay sees it: every violation came from a request with another's number.
    assert!(summary
        .evidence
        .iter()
        .filter(|f| f.kind == FindingKind::Violation)
        .all(|f| replayed(&f)));
    assert!(summary.replays.as_other_user > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_without_cache_control_warn_but_do_not_fail() {
    let summary = run(scenario("missing-cache-control")).await;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.violations, 0);
    assert!(summary.count(FindingKind::CacheablePage) > 0);
    assert_eq!(dominant_cause(&summary), Cause::SharedCache);
}
