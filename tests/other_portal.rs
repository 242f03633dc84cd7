//! A second, different portal driven by a scenario written from `scenarios/README.md` alone:
//! other paths and field names, JSON everywhere, a CSRF token taken from the login form, a bearer
//! token instead of a cookie, households. Its correct mode passes; its leaking mode (an API
//! gateway cache on the profile, keyed by path) is caught.

mod common;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use common::ONE_ATTACK_AT_A_TIME;
use crossleak::load::Shard;
use crossleak::outcome::Status;
use crossleak::population::{Beneficiary, GenerateOptions, Population};
use crossleak::run::{self, RunOptions};
use crossleak::scenario::Scenario;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Staging {
    accounts: Vec<Mutex<Beneficiary>>,
    by_login: HashMap<String, usize>,
    households: HashMap<u32, Vec<usize>>,
    csrf: Mutex<HashSet<String>>,
    sessions: Mutex<HashMap<String, usize>>,
    /// The leaking mode: a gateway cache in front of GET /v2/me, keyed by path alone.
    gateway_cache: Option<Mutex<Option<(Instant, Value)>>>,
}

type Shared = State<Arc<Staging>>;

fn token() -> String {
    (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

async fn form(State(s): Shared) -> Response {
    let csrf = token();
    s.csrf.lock().unwrap().insert(csrf.clone());
    Html(format!(
        "<html><head><meta name=\"csrf\" content=\"{csrf}\"></head><body>Connexion</body></html>"
    ))
    .into_response()
}

async fn session(State(s): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let csrf = headers
        .get("x-csrf")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !s.csrf.lock().unwrap().remove(&csrf) {
        return (StatusCode::FORBIDDEN, Json(json!({"error": "csrf"}))).into_response();
    }
    let login = body
        .pointer("/user/login")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let secret = body
        .pointer("/secret")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match s.by_login.get(login) {
        Some(&id) if s.accounts[id].lock().unwrap().password == secret => {
            let token = token();
            s.sessions.lock().unwrap().insert(token.clone(), id);
            Json(json!({"session": {"token": token, "expires_in": 900}})).into_response()
        }
        _ => (StatusCode::UNAUTHORIZED, Json(json!({"error": "login"}))).into_response(),
    }
}

fn bearer(s: &Staging, headers: &HeaderMap) -> Option<usize> {
    let value = headers.get("authorization")?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    s.sessions.lock().unwrap().get(token).copied()
}

fn profile(s: &Staging, id: usize) -> Value {
    let me = s.accounts[id].lock().unwrap().clone();
    let household: Vec<Value> = s.households[&me.household]
        .iter()
        .filter(|other| **other != id)
        .map(|other| {
            let partner = s.accounts[*other].lock().unwrap();
            json!({"email": partner.email, "number": partner.numero_allocataire.as_str()})
        })
        .collect();
    json!({
        "client": {"number": me.numero_allocataire.as_str(), "email": me.email, "name": me.last_name},
        "household": household,
        "bank": {"iban": me.iban},
    })
}

async fn me(State(s): Shared, headers: HeaderMap) -> Response {
    let Some(id) = bearer(&s, &headers) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "session"}))).into_response();
    };
    if let Some(cache) = &s.gateway_cache {
        let mut cache = cache.lock().unwrap();
        if let Some((at, body)) = cache.as_ref() {
            if at.elapsed() < Duration::from_millis(300) {
                return Json(body.clone()).into_response();
            }
        }
        let body = profile(&s, id);
        *cache = Some((Instant::now(), body.clone()));
        return Json(body).into_response();
    }
    Json(profile(&s, id)).into_response()
}

async fn bank(State(s): Shared, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let Some(id) = bearer(&s, &headers) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "session"}))).into_response();
    };
    let Some(iban) = body.pointer("/iban").and_then(Value::as_str) else {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "iban"}))).into_response();
    };
    s.accounts[id].lock().unwrap().iban = iban.to_owned();
    Json(json!({"ok": true})).into_response()
}

async fn serve(population: &Population, leaking: bool) -> String {
    let mut households: HashMap<u32, Vec<usize>> = HashMap::new();
    for (id, b) in population.beneficiaries.iter().enumerate() {
        households.entry(b.household).or_default().push(id);
    }
    let staging = Arc::new(Staging {
        accounts: population
            .beneficiaries
            .iter()
            .cloned()
            .map(Mutex::new)
            .collect(),
        by_login: population
            .beneficiaries
            .iter()
            .enumerate()
            .map(|(id, b)| (b.numero_allocataire.as_str().to_owned(), id))
            .collect(),
        households,
        csrf: Mutex::default(),
        sessions: Mutex::default(),
        gateway_cache: leaking.then(Mutex::default),
    });
    let app = Router::new()
        .route("/auth/form", get(form))
        .route("/auth/session", post(session))
        .route("/v2/me", get(me))
        .route("/v2/me/bank", put(bank))
        .with_state(staging);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// Written from scenarios/README.md: every key below is documented there.
fn scenario(base_url: &str) -> Scenario {
    let text = format!(
        r#"
version = 1
name = "staging API with CSRF and bearer tokens"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
generate = {{ size = 60, seed = 9, household_share = 0.5 }}

[[login_flow]]
name = "api"
session = {{ bearer = {{ json_pointer = "/session/token", header = "Authorization", prefix = "Bearer " }} }}
on_expired = "login_again"
expired_when = {{ status = [401] }}

[[login_flow.steps]]
method = "GET"
path = "/auth/form"
extract = [{{ name = "csrf", from = "body", regex = '<meta name="csrf" content="([^"]+)">' }}]

[[login_flow.steps]]
method = "POST"
path = "/auth/session"
headers = {{ "X-CSRF" = "{{{{csrf}}}}" }}
json = {{ user = {{ login = "{{{{numero_allocataire}}}}" }}, secret = "{{{{password}}}}" }}

[login_flow.success]
status = [200]
body_contains = "token"

[[page]]
name = "profile"
path = "/v2/me"
must_show = ["numero_allocataire", "email"]
json_equals = [{{ pointer = "/client/number", field = "numero_allocataire" }}]

[[write]]
name = "bank details"
method = "PUT"
path = "/v2/me/bank"
json = {{ iban = "{{{{value}}}}" }}
values = ["spare_iban", "iban"]
then_read = ["/v2/me"]

[[phase]]
name = "steady"
duration = "3s"
users = 12
login_flows = {{ api = 1 }}

[load]
increase_rate = 12
think_time = "0ms..20ms"
"#
    );
    Scenario::parse(&text, "tests/other_portal.rs").unwrap_or_else(|e| panic!("{e}"))
}

async fn run_against(leaking: bool) -> run::RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    // The staging database holds the very population the scenario generates.
    let served = Population::generate(&GenerateOptions {
        size: 60,
        seed: 9,
        household_share: 0.5,
        ..GenerateOptions::default()
    })
    .unwrap();
    let base_url = serve(&served, leaking).await;
    let reports = tempfile::tempdir().unwrap();
    let options = RunOptions {
        command: "run".into(),
        target: None,
        duration: None,
        users: None,
        report_root: reports.keep(),
        shard: Shard::whole(),
        allow_remote: false,
        checks: true,
        reveal: false,
        quiet: true,
        behaviours: None,
    };
    run::run_scenario(scenario(&base_url), options)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_staging_api_passes_with_csrf_bearer_and_households() {
    let result = run_against(false).await;
    let summary = &result.summary;
    assert_eq!(
        summary.status,
        Status::Clean,
        "{}: {:?}",
        summary.reason,
        summary.evidence
    );
    assert_eq!(summary.logins.failed, 0);
    assert!(summary.logins.succeeded >= 12);
    assert!(
        summary.checked_responses > 50,
        "{}",
        summary.checked_responses
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_cache_on_the_profile_is_caught() {
    let result = run_against(true).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    assert!(!summary.affected_accounts.is_empty());
    assert!(summary.evidence.iter().any(|f| f.request.name == "profile"));
}
