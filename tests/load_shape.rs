//! What a run counts and how long it lasts, against a small form-login portal on loopback (a
//! session cookie set on a 303 to the account page, as Django or Flask answer a login): a login
//! whose landing page shows another owner's file is a failed login and a violation; `duration`
//! is the wall time from the first user's start, the ramp included; observers come on top of
//! the users.

mod common;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use common::ONE_ATTACK_AT_A_TIME;
use crossleak::outcome::Status;
use crossleak::population::{GenerateOptions, Population};
use crossleak::run::{self, RunResult};
use crossleak::scenario::Scenario;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SIZE: usize = 40;
const SEED: u64 = 5;

struct Portal {
    population: Population,
    /// Session cookie value to the account it opens.
    sessions: Mutex<HashMap<String, usize>>,
    /// The accounts whose owner logged in (by their own login and password).
    logged_in: Mutex<HashSet<usize>>,
    /// The login opens the next account in the table instead of the one it checked.
    opens_the_next_account: bool,
}

type Shared = State<Arc<Portal>>;

async fn login(State(p): Shared, Form(form): Form<HashMap<String, String>>) -> Response {
    let wanted = form.get("username").map(String::as_str).unwrap_or_default();
    let password = form.get("password").map(String::as_str).unwrap_or_default();
    let Some(id) = p
        .population
        .iter()
        .position(|b| b.numero_allocataire.as_str() == wanted && b.password == password)
    else {
        return (
            StatusCode::UNAUTHORIZED,
            Html("<p>Identifiants invalides</p>"),
        )
            .into_response();
    };
    p.logged_in.lock().unwrap().insert(id);
    let opened = if p.opens_the_next_account {
        (id + 1) % p.population.len()
    } else {
        id
    };
    let token = format!("{:032x}", rand::random::<u128>());
    p.sessions.lock().unwrap().insert(token.clone(), opened);
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, "/account".to_owned()),
            (
                header::SET_COOKIE,
                format!("sessionid={token}; Path=/; HttpOnly"),
            ),
        ],
    )
        .into_response()
}

async fn account(State(p): Shared, headers: HeaderMap) -> Response {
    let session = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split("; ").find_map(|kv| kv.strip_prefix("sessionid=")))
        .and_then(|token| p.sessions.lock().unwrap().get(token).copied());
    let Some(id) = session else {
        return (StatusCode::UNAUTHORIZED, Html("<p>Connectez-vous</p>")).into_response();
    };
    let b = &p.population.beneficiaries[id];
    (
        [
            (header::CACHE_CONTROL, "private, no-store"),
            (header::VARY, "Cookie"),
        ],
        Html(format!(
            "<h1>{} {}</h1><p>Dossier n° {}</p><p>{}</p>",
            b.first_name, b.last_name, b.numero_allocataire, b.email
        )),
    )
        .into_response()
}

async fn serve(opens_the_next_account: bool) -> (String, Arc<Portal>) {
    let population = Population::generate(&GenerateOptions {
        size: SIZE,
        seed: SEED,
        household_share: 0.0,
        ..GenerateOptions::default()
    })
    .unwrap();
    let portal = Arc::new(Portal {
        population,
        sessions: Mutex::default(),
        logged_in: Mutex::default(),
        opens_the_next_account,
    });
    let app = Router::new()
        .route("/login", post(login))
        .route("/account", get(account))
        .with_state(Arc::clone(&portal));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), portal)
}

/// A form login whose success is a 200 showing the user's own numéro allocataire (no
/// `landing_path`: wherever the redirect lands), one page, `users` users for `duration`.
fn scenario(base_url: &str, users: usize, duration: &str, load: &str) -> Scenario {
    let text = format!(
        r#"
version = 1
name = "form login"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
generate = {{ size = {SIZE}, seed = {SEED}, household_share = 0.0 }}

[[login_flow]]
name = "form"
session = {{ cookie = "sessionid" }}

[[login_flow.steps]]
method = "POST"
path = "/login"
form = {{ username = "{{{{numero_allocataire}}}}", password = "{{{{password}}}}" }}

[login_flow.success]
status = [200]
must_show = ["numero_allocataire"]

[[page]]
path = "/account"
must_show = ["numero_allocataire"]

[[phase]]
name = "steady"
duration = "{duration}"
users = {users}
login_flows = {{ form = 1 }}

[load]
think_time = "20ms..50ms"
{load}
"#
    );
    Scenario::parse(&text, "tests/load_shape.rs").unwrap_or_else(|e| panic!("{e}"))
}

async fn run_against(scenario: Scenario) -> RunResult {
    let reports = tempfile::tempdir().unwrap();
    run::run_scenario(scenario, common::run_options(reports.keep()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_lands_on_another_owners_file_is_a_failed_login_and_a_violation() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, _portal) = serve(true).await;
    let result = run_against(scenario(&base_url, 10, "2s", "increase_rate = 10")).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    assert_eq!(summary.logins.succeeded, 0, "{:?}", summary.logins);
    assert!(summary.logins.failed >= 10, "{:?}", summary.logins);
    assert_eq!(
        summary.logins.failed_must_show, summary.logins.failed,
        "{:?}",
        summary.logins
    );
    assert!(
        summary
            .evidence
            .iter()
            .any(|f| f.request.name == "POST /login (form)" && !f.foreign.is_empty()),
        "{:?}",
        summary.evidence
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(result.dir.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(json["logins"]["failed_must_show"], summary.logins.failed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_that_shows_the_users_own_file_counts_as_ok_without_a_landing_path() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, _portal) = serve(false).await;
    let result = run_against(scenario(&base_url, 10, "2s", "increase_rate = 10")).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.logins.succeeded, 10, "{:?}", summary.logins);
    assert_eq!(
        (summary.logins.failed, summary.logins.failed_must_show),
        (0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duration_is_the_wall_time_from_the_first_users_start_ramp_included() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, _portal) = serve(false).await;
    // 20 users at 10 per second take 2 s to start: the 3 s run holds them for 1 s, no more.
    let started = Instant::now();
    let result = run_against(scenario(&base_url, 20, "3s", "increase_rate = 10")).await;
    let elapsed = started.elapsed();
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.planned_duration_secs, 3.0);
    assert!(
        elapsed >= Duration::from_millis(2_900) && elapsed < Duration::from_millis(4_300),
        "a 3 s run took {elapsed:?}"
    );
    let phase = &summary.phases[0];
    assert!(
        phase.end_secs - phase.start_secs < 3.8,
        "{} s to {} s",
        phase.start_secs,
        phase.end_secs
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn observers_come_on_top_of_the_users() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, portal) = serve(false).await;
    let result = run_against(scenario(
        &base_url,
        12,
        "2s",
        "increase_rate = 20\nobservers = 2",
    ))
    .await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.users, 12);
    assert_eq!(summary.goose.users, 14, "12 users and 2 observers");
    assert_eq!(summary.logins.succeeded, 12, "{:?}", summary.logins);
    // Each user is its own beneficiary: the first 12 owners, each logged in.
    let logged_in = portal.logged_in.lock().unwrap().clone();
    assert_eq!(logged_in, (0..12).collect::<HashSet<usize>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duration_override_too_short_for_the_ramp_is_refused_before_anything_is_sent() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, portal) = serve(false).await;
    // `check` accepts the file (20 users at 10/s in 3 s); --duration 1s leaves no room for them.
    let mut options = common::run_options(tempfile::tempdir().unwrap().keep());
    options.duration = Some(Duration::from_secs(1));
    let scenario = scenario(&base_url, 20, "3s", "increase_rate = 10");
    let Err(error) = run::run_scenario(scenario, options).await else {
        panic!("a 2 s ramp in a 1 s run must be refused")
    };
    let message = error.to_string();
    assert!(
        message
            .contains("take 2.0 s to start at increase_rate 10, longer than its duration of 1.0 s"),
        "{message}"
    );
    assert!(portal.logged_in.lock().unwrap().is_empty());
}
