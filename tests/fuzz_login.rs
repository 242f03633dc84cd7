//! `crossleak fuzz-login` over real sockets: it finds the demo portal's `nir-lookup` fault through
//! the scenario's NIR login, reports nothing on the correct portal, and reports a login parser that
//! answers 5xx to odd input as parser failures, never as violations.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use crossleak::findings::FindingKind;
use crossleak::fuzzing::network::{fuzz_login, FuzzLoginOptions};
use crossleak::outcome::Status;
use crossleak::population::{LoadedPopulation, PasswordState, Population};
use crossleak::report::Summary;
use crossleak::scenario::{Endpoint, Scenario};
use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

fn nir_lookup_scenario() -> (std::path::PathBuf, Scenario) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/faults/nir-lookup.toml");
    let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    (path, scenario)
}

fn population(scenario: &Scenario) -> Population {
    match scenario.population.read().unwrap() {
        LoadedPopulation::Beneficiaries(population) => population,
        LoadedPopulation::Watched(_) => unreachable!("these scenarios generate their population"),
    }
}

fn options(report_root: &Path, max_attempts: usize) -> FuzzLoginOptions {
    FuzzLoginOptions {
        duration: Duration::from_secs(60),
        max_attempts,
        rate: 250.0,
        report_root: report_root.to_owned(),
        quiet: true,
        ..FuzzLoginOptions::default()
    }
}

#[test]
fn the_command_finds_nir_lookup_within_a_minute_and_names_provisional_accounts() {
    let (path, scenario) = nir_lookup_scenario();
    let people = population(&scenario);
    let reports = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .arg("fuzz-login")
        .arg(&path)
        .args([
            "--duration",
            "60s",
            "--max-attempts",
            "1500",
            "--rate",
            "250",
        ])
        .arg("--report-dir")
        .arg(reports.path())
        .arg("--quiet")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("RESULT: VIOLATIONS"), "{stdout}");
    let run = std::fs::read_dir(reports.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(run.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["command"], "fuzz-login");
    assert!(summary["violations"].as_u64().unwrap() > 0);
    assert!(summary["duration_secs"].as_f64().unwrap() < 60.0);
    let affected = summary["affected_accounts"].as_array().unwrap();
    assert!(!affected.is_empty());
    // nir-lookup opens only files still on their provisional password (a household member
    // named on such a file is exposed with it, whatever their own password).
    for account in affected {
        assert_eq!(account["phases"], serde_json::json!(["fuzz-login"]));
        if account["fields"]
            .as_array()
            .unwrap()
            .contains(&"nir".into())
        {
            let owner = account["owner"].as_u64().unwrap() as u32;
            let person = people.get(owner).unwrap();
            assert_eq!(
                person.password_state,
                PasswordState::Provisional,
                "{account}"
            );
        }
    }
    let findings = std::fs::read_to_string(run.join("findings.jsonl")).unwrap();
    for line in findings.lines() {
        let finding: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(finding["kind"], "violation", "{line}");
        // The legacy path is unaffected: every misdirected login went through the NIR form.
        assert!(
            finding["request"]["name"]
                .as_str()
                .unwrap()
                .contains("/connexion/nir"),
            "{line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_portal_gives_the_same_fuzzing_nothing() {
    let (_, mut scenario) = nir_lookup_scenario();
    if let Endpoint::Embedded { faults, .. } = &mut scenario.target.endpoint {
        faults.clear();
    }
    let reports = tempfile::tempdir().unwrap();
    let summary = fuzz_login(scenario, options(reports.path(), 1500))
        .await
        .unwrap()
        .summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert!(summary.checked_responses > 1000, "{}", summary.reason);
    for kind in FindingKind::ALL {
        assert_eq!(count(&summary, kind), 0, "{}", kind.name());
    }
}

fn count(summary: &Summary, kind: FindingKind) -> u64 {
    summary
        .findings_by_kind
        .get(kind.name())
        .copied()
        .unwrap_or(0)
}

/// A staging login whose NIR parser falls over on anything but ASCII: 500 instead of 401.
struct FragileLogin {
    /// Checks no password at all (the other fault this file needs).
    any_password: bool,
    by_nir: HashMap<String, (String, usize)>,
    pages: Vec<String>,
}

async fn login(
    State(app): State<Arc<FragileLogin>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let nir = form.get("nir").cloned().unwrap_or_default();
    if !nir.is_ascii() {
        return (StatusCode::INTERNAL_SERVER_ERROR, "parser panicked").into_response();
    }
    match app.by_nir.get(&nir) {
        Some((password, index))
            if app.any_password || form.get("mot_de_passe") == Some(password) =>
        {
            (
                StatusCode::SEE_OTHER,
                [
                    (header::LOCATION, "/moi".to_owned()),
                    (
                        header::SET_COOKIE,
                        format!("sid=s{index}; HttpOnly; Path=/"),
                    ),
                ],
            )
                .into_response()
        }
        _ => (
            StatusCode::UNAUTHORIZED,
            "identifiant ou mot de passe inconnu",
        )
            .into_response(),
    }
}

async fn me(State(app): State<Arc<FragileLogin>>, headers: HeaderMap) -> Response {
    let index = headers
        .get(header::COOKIE)
        .and_then(|c| c.to_str().ok())
        .and_then(|c| c.strip_prefix("sid=s"))
        .and_then(|i| i.parse::<usize>().ok());
    match index.and_then(|i| app.pages.get(i)) {
        Some(page) => (
            [(header::CACHE_CONTROL, "private, no-store")],
            axum::response::Html(page.clone()),
        )
            .into_response(),
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn fragile_server(people: &Population, any_password: bool) -> String {
    let app = FragileLogin {
        any_password,
        by_nir: people
            .beneficiaries
            .iter()
            .enumerate()
            .map(|(i, b)| (b.nir.as_str().to_owned(), (b.password.clone(), i)))
            .collect(),
        pages: people
            .beneficiaries
            .iter()
            .map(|b| {
                format!(
                    "<html><body><p>NIR {}</p><p>Dossier {}</p></body></html>",
                    b.nir.spaced(),
                    b.numero_allocataire.as_str()
                )
            })
            .collect(),
    };
    let router = Router::new()
        .route("/login", post(login))
        .route("/moi", get(me))
        .with_state(Arc::new(app));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{addr}")
}

fn fragile_scenario(base_url: &str) -> Scenario {
    let text = format!(
        r#"
version = 1
name = "fragile NIR parser"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
generate = {{ size = 40, seed = 4 }}

[[login_flow]]
name = "nir"
session = {{ cookie = "sid" }}

[[login_flow.steps]]
method = "POST"
path = "/login"
form = {{ nir = "{{{{nir}}}}", mot_de_passe = "{{{{password}}}}" }}

[login_flow.success]
landing_path = "/moi"
must_show = ["nir", "numero_allocataire"]

[[page]]
path = "/moi"
must_show = ["numero_allocataire"]

[[phase]]
name = "steady"
duration = "2s"
users = 4
login_flows = {{ nir = 1 }}
"#
    );
    Scenario::parse(&text, "tests/fuzz_login.rs").unwrap_or_else(|e| panic!("{e}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parser_that_answers_500_is_a_parser_failure_not_a_violation() {
    let scenario = fragile_scenario("http://127.0.0.1:1");
    let people = population(&scenario);
    let base_url = fragile_server(&people, false).await;
    let scenario = fragile_scenario(&base_url);
    let reports = tempfile::tempdir().unwrap();
    let result = fuzz_login(scenario, options(reports.path(), 280))
        .await
        .unwrap();
    let summary = &result.summary;
    assert!(
        count(summary, FindingKind::ParserFailure) > 0,
        "{}",
        summary.reason
    );
    assert_eq!(summary.violations, 0, "{}", summary.reason);
    // A warning: the parser broke but nobody's file was opened.
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    let findings = std::fs::read_to_string(result.dir.join("findings.jsonl")).unwrap();
    assert!(findings.contains("\"kind\":\"parser_failure\""));
}

#[test]
fn a_rate_of_zero_is_a_usage_error_and_sends_nothing() {
    let (path, _) = nir_lookup_scenario();
    let reports = tempfile::tempdir().unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .arg("fuzz-login")
        .arg(&path)
        .args(["--rate", "0", "--quiet", "--report-dir"])
        .arg(reports.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--rate"));
    assert_eq!(std::fs::read_dir(reports.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_ignores_the_password_is_a_violation() {
    let scenario = fragile_scenario("http://127.0.0.1:1");
    let people = population(&scenario);
    let base_url = fragile_server(&people, true).await;
    let scenario = fragile_scenario(&base_url);
    let reports = tempfile::tempdir().unwrap();
    let result = fuzz_login(scenario, options(reports.path(), 140))
        .await
        .unwrap();
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    let findings = std::fs::read_to_string(result.dir.join("findings.jsonl")).unwrap();
    // Each file opened is its identifier owner's own: every violation is a wrong password (the
    // same server's parser still answers 500 to non-ASCII, which stays a parser failure).
    let violations: Vec<&str> = findings
        .lines()
        .filter(|l| l.contains(r#""kind":"violation""#))
        .collect();
    assert!(!violations.is_empty(), "{findings}");
    for line in violations {
        assert!(
            line.contains("an account opened without its password"),
            "{line}"
        );
    }
}
