//! A scenario's `[thresholds]` decide the run: an impossible latency fails it with the rule named,
//! generous ones pass, an error rate above the limit fails a run against a target that answers
//! 500 (errors, never violations), and `fail_on_cache_warnings` turns cache warnings into a
//! failure. A failed threshold is exit 5, and every report names the rule, its limit and the
//! measured value.

mod common;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use common::ONE_ATTACK_AT_A_TIME;
use crossleak::outcome::Status;
use crossleak::report::Summary;
use crossleak::run;
use crossleak::scenario::Scenario;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The demo journey (both logins, three pages, a write) on the embedded portal, 2 s, 20 users,
/// no behaviours, with `thresholds` as the `[thresholds]` section.
fn demo_with(faults: &str, thresholds: &str) -> Scenario {
    let demo = crossleak::load::DEMO_SCENARIO;
    let journey = demo
        .split("[logout]")
        .next()
        .expect("the demo scenario has a [logout]")
        .replace("faults = []", &format!("faults = [{faults}]"))
        .replace("generate = { size = 1000,", "generate = { size = 200,");
    let text = format!(
        r#"{journey}
[[phase]]
name = "load"
duration = "2s"
users = 20
login_flows = {{ legacy = 0.5, nir = 0.5 }}

[load]
increase_rate = 20

[thresholds]
{thresholds}
"#
    );
    Scenario::parse(&text, "tests/thresholds.rs").unwrap_or_else(|e| panic!("{e}"))
}

async fn run(scenario: Scenario) -> (Summary, PathBuf) {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let reports = tempfile::tempdir().unwrap();
    let options = common::run_options(reports.keep());
    let result = run::run_scenario(scenario, options).await.unwrap();
    (result.summary, result.dir)
}

/// The run ended clean, every threshold measured and passed.
fn assert_clean_with_every_threshold_measured(summary: &Summary) {
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert!(
        summary
            .thresholds
            .iter()
            .all(|t| t.passed && t.measured.is_some()),
        "{:?}",
        summary.thresholds
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_impossible_latency_fails_the_run_and_every_report_names_the_rule() {
    let (summary, dir) = run(demo_with("", r#"latency = ["p95 < 1us", "max < 1h"]"#)).await;
    assert_eq!(
        summary.status,
        Status::ThresholdsFailed,
        "{}",
        summary.reason
    );
    assert_eq!(summary.status.exit_code(), 5);
    assert_eq!(summary.violations, 0);
    assert!(
        summary.reason.contains("p95 < 1us (measured "),
        "{}",
        summary.reason
    );
    let [tight, generous] = &summary.thresholds[..] else {
        panic!("{:?}", summary.thresholds)
    };
    assert_eq!(
        (tight.threshold, tight.unit, tight.limit),
        ("latency", "ms", 0.001)
    );
    assert!(
        !tight.passed && tight.measured.is_some_and(|ms| ms > 0.001),
        "{tight:?}"
    );
    assert!(generous.passed, "{generous:?}");

    let json = common::assert_summary_matches_the_schema(&dir);
    assert_eq!(json["status"], "thresholds_failed");
    assert_eq!(json["thresholds"][0]["rule"], "p95 < 1us");
    assert_eq!(json["thresholds"][0]["passed"], false);
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<testcase name=\"threshold: p95 &lt; 1us\""),
        "{junit}"
    );
    assert!(junit.contains("p95 &lt; 1us failed: measured "), "{junit}");
    assert!(
        junit.contains("<testcase name=\"threshold: max &lt; 1h\""),
        "{junit}"
    );
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert!(html.contains("<section id=\"thresholds\">"));
    assert!(
        html.contains("<td>p95 &lt; 1us</td><td class=\"n\">0.001 ms</td>"),
        "{html}"
    );
    assert!(html.contains("data-status=\"thresholds_failed\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generous_thresholds_pass_a_clean_run() {
    let (summary, dir) = run(demo_with(
        "",
        r#"max_error_rate = 0.5
latency = ["p95 < 10s", "avg < 10s", "max <= 30s for GET /api/dossier"]
fail_on_cache_warnings = true"#,
    ))
    .await;
    assert_clean_with_every_threshold_measured(&summary);
    assert_eq!(summary.thresholds.len(), 5);
    let per_page = &summary.thresholds[3];
    assert_eq!(per_page.rule, "max <= 30s for GET /api/dossier");
    assert_eq!(
        summary.thresholds[4].measured,
        Some(0.0),
        "no cache warning"
    );
    common::assert_summary_matches_the_schema(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_latency_threshold_on_the_login_request_measures_every_login() {
    // The users log in while they start: goose's figures must keep those requests.
    let (summary, _) = run(demo_with(
        "",
        r#"latency = ["p95 < 5s for POST /connexion/allocataire (legacy)", "max < 10s for POST /connexion/nir (nir)"]"#,
    ))
    .await;
    assert_clean_with_every_threshold_measured(&summary);
    let logins: u64 = summary
        .goose
        .pages
        .iter()
        .filter(|p| p.name.starts_with("POST /connexion/"))
        .map(|p| p.requests)
        .sum();
    assert!(
        logins >= summary.logins.succeeded && summary.logins.succeeded >= 20,
        "{logins} login requests measured, {:?}",
        summary.logins
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_warnings_fail_the_run_only_with_fail_on_cache_warnings() {
    let (summary, _) = run(demo_with(
        "\"missing-cache-control\"",
        "fail_on_cache_warnings = true",
    ))
    .await;
    assert_eq!(
        summary.status,
        Status::ThresholdsFailed,
        "{}",
        summary.reason
    );
    assert_eq!(summary.violations, 0);
    let rule = &summary.thresholds[0];
    assert_eq!(rule.threshold, "fail_on_cache_warnings");
    assert!(rule.measured.is_some_and(|n| n > 0.0), "{rule:?}");
    assert!(
        summary.reason.contains("cache warnings"),
        "{}",
        summary.reason
    );

    let (summary, _) = run(demo_with(
        "\"missing-cache-control\"",
        "fail_on_cache_warnings = false",
    ))
    .await;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert!(summary.warnings > 0, "the warnings are still reported");
    assert!(summary.thresholds.is_empty());
}

/// Logs anyone in; the home page answers 500 to every other request.
async fn half_broken_target() -> String {
    let reads = Arc::new(AtomicU64::new(0));
    let app = Router::new()
        .route(
            "/login",
            post(|| async {
                // A fresh session token per login, as any correct portal gives.
                let cookie = format!(
                    "sid=s3ss10n-{:016x}; Path=/; HttpOnly",
                    rand::random::<u64>()
                );
                ([(header::SET_COOKIE, cookie)], "welcome")
            }),
        )
        .route(
            "/home",
            get(move || {
                let reads = Arc::clone(&reads);
                async move {
                    if reads.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
                        (StatusCode::INTERNAL_SERVER_ERROR, "database unavailable").into_response()
                    } else {
                        ([(header::CACHE_CONTROL, "private, no-store")], "home").into_response()
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn half_broken_scenario(base_url: &str, max_error_rate: f64) -> Scenario {
    let text = format!(
        r#"
version = 1
name = "a target that answers 500"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
generate = {{ size = 20, seed = 3 }}

[[login_flow]]
name = "form"
session = {{ cookie = "sid" }}

[[login_flow.steps]]
method = "POST"
path = "/login"
form = {{ user = "{{{{numero_allocataire}}}}", password = "{{{{password}}}}" }}

[login_flow.success]
body_contains = "welcome"

[[page]]
path = "/home"

[[phase]]
name = "steady"
duration = "2s"
users = 10
login_flows = {{ form = 1 }}

[load]
increase_rate = 10
think_time = "5ms..20ms"

[thresholds]
max_error_rate = {max_error_rate}
"#
    );
    Scenario::parse(&text, "tests/thresholds.rs").unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_rate_above_the_limit_fails_the_run_and_errors_are_never_violations() {
    let target = half_broken_target().await;
    let (summary, dir) = run(half_broken_scenario(&target, 0.05)).await;
    assert_eq!(
        summary.status,
        Status::ThresholdsFailed,
        "{}",
        summary.reason
    );
    assert_eq!(
        summary.violations, 0,
        "a 500 is an error, never a violation"
    );
    assert!(summary.errors_by_cause["server_error"] > 0);
    let rate = &summary.thresholds[0];
    assert_eq!(
        (rate.threshold, rate.rule.as_str()),
        ("max_error_rate", "error rate <= 0.05")
    );
    let measured = rate.measured.unwrap();
    assert!(measured > 0.2 && measured < 0.7, "{rate:?}");
    assert!(
        summary.reason.contains("error rate <= 0.05 (measured 0."),
        "{}",
        summary.reason
    );
    common::assert_summary_matches_the_schema(&dir);

    // The same target under a limit it meets: the run is clean.
    let (summary, _) = run(half_broken_scenario(&target, 0.9)).await;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert!(summary.thresholds[0].passed);
}
