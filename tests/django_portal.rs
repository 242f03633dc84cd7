//! A Django-like portal: cookie sessions for the site, DRF-style tokens for its API.
//! Its logout is a POST guarded by a CSRF token (403 without it): a logout it refuses proves
//! nothing and is counted as `logout_failed`, never as a stale session; with the token (taken at
//! login, or by a logout step of its own) the logout works, and a portal that keeps the session
//! after it is a stale session that exposes no account to anyone else. Django renews the CSRF token
//! at login: a login that takes `csrf` again on its landing page logs out with the newest one. Its
//! API answers only token users: a page limited to the token flow is read by them alone.

mod common;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use common::ONE_ATTACK_AT_A_TIME;
use crossleak::findings::FindingKind;
use crossleak::outcome::Status;
use crossleak::population::{GenerateOptions, Population};
use crossleak::run::{self, RunResult};
use crossleak::scenario::Scenario;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

const SIZE: usize = 30;
const SEED: u64 = 5;

struct Portal {
    /// Login (file number) to (password, the page's own data).
    accounts: HashMap<String, (String, String)>,
    sessions: Mutex<HashMap<String, String>>,
    /// API tokens (`Authorization: Token …`) to logins.
    tokens: Mutex<HashMap<String, String>>,
    /// API requests refused for want of a token (a cookie user asking the API).
    api_refusals: AtomicU64,
    /// The portal's bug: logout answers as usual but leaves the session open.
    keeps_sessions: bool,
}

type Shared = State<Arc<Portal>>;

fn token() -> String {
    (0..16)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

/// A cookie of the request, from every `Cookie` header.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

fn redirect(to: &str, cookies: &[String]) -> Response {
    let mut response = (StatusCode::FOUND, [(header::LOCATION, to.to_owned())]).into_response();
    for value in cookies {
        response
            .headers_mut()
            .append(header::SET_COOKIE, value.parse().unwrap());
    }
    response
}

/// Django's CSRF check: the form's token must be the `csrftoken` cookie.
fn csrf_ok(headers: &HeaderMap, form: &HashMap<String, String>) -> bool {
    match (
        cookie(headers, "csrftoken"),
        form.get("csrfmiddlewaretoken"),
    ) {
        (Some(expected), Some(sent)) => !expected.is_empty() && expected == *sent,
        _ => false,
    }
}

fn forbidden() -> Response {
    (
        StatusCode::FORBIDDEN,
        Html("<h1>Forbidden (403)</h1><p>CSRF verification failed. Request aborted.</p>"),
    )
        .into_response()
}

async fn login_form(headers: HeaderMap) -> Response {
    let csrf = cookie(&headers, "csrftoken").unwrap_or_else(token);
    let mut response = Html(format!(
        "<form method=\"post\"><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{csrf}\"><input name=\"username\"><input name=\"password\" type=\"password\"></form>"
    ))
    .into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        format!("csrftoken={csrf}; Path=/").parse().unwrap(),
    );
    response
}

async fn log_in(
    State(portal): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !csrf_ok(&headers, &form) {
        return forbidden();
    }
    let login = form.get("username").cloned().unwrap_or_default();
    match portal.accounts.get(&login) {
        Some((password, _)) if Some(password) == form.get("password") => {
            let session = token();
            portal
                .sessions
                .lock()
                .unwrap()
                .insert(session.clone(), login);
            // As Django's login(): a new CSRF token with the new session.
            redirect(
                "/accounts/profile/",
                &[
                    format!("sessionid={session}; HttpOnly; Path=/"),
                    format!("csrftoken={}; Path=/", token()),
                ],
            )
        }
        _ => (StatusCode::OK, Html("<p>Identifiants invalides</p>")).into_response(),
    }
}

async fn profile(State(portal): Shared, headers: HeaderMap) -> Response {
    let account = cookie(&headers, "sessionid")
        .and_then(|session| portal.sessions.lock().unwrap().get(&session).cloned());
    let Some(login) = account else {
        return redirect("/accounts/login/", &[]);
    };
    let csrf = cookie(&headers, "csrftoken").unwrap_or_default();
    let mut response = Html(format!(
        "<html><body>{}<form method=\"post\" action=\"/accounts/logout/\"><input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"{csrf}\"><button>Se déconnecter</button></form></body></html>",
        portal.accounts[&login].1
    ))
    .into_response();
    // As Django's never_cache.
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        "max-age=0, no-cache, no-store, must-revalidate, private"
            .parse()
            .unwrap(),
    );
    response
}

async fn log_out(
    State(portal): Shared,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if !csrf_ok(&headers, &form) {
        return forbidden();
    }
    if let Some(session) = cookie(&headers, "sessionid") {
        if !portal.keeps_sessions {
            portal.sessions.lock().unwrap().remove(&session);
        }
    }
    redirect(
        "/accounts/login/",
        &["sessionid=\"\"; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/".to_owned()],
    )
}

async fn serve(keeps_sessions: bool) -> (String, Arc<Portal>) {
    let population = Population::generate(&GenerateOptions {
        size: SIZE,
        seed: SEED,
        ..GenerateOptions::default()
    })
    .unwrap();
    let accounts = population
        .beneficiaries
        .iter()
        .map(|b| {
            let page = format!(
                "<h1>{} {}</h1><p>Dossier {}</p><p>NIR {}</p>",
                b.first_name,
                b.last_name,
                b.numero_allocataire.as_str(),
                b.nir.spaced()
            );
            (
                b.numero_allocataire.as_str().to_owned(),
                (b.password.clone(), page),
            )
        })
        .collect();
    let portal = Arc::new(Portal {
        accounts,
        sessions: Mutex::default(),
        tokens: Mutex::default(),
        api_refusals: AtomicU64::default(),
        keeps_sessions,
    });
    let app = Router::new()
        .route("/accounts/login/", get(login_form).post(log_in))
        .route("/accounts/profile/", get(profile))
        .route("/accounts/logout/", post(log_out))
        .route("/api/token/", post(api_token))
        .route("/api/me/", get(api_me))
        .with_state(Arc::clone(&portal));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), portal)
}

/// DRF's `obtain_auth_token`: a form login that answers `{"token": …}`.
async fn api_token(State(portal): Shared, Form(form): Form<HashMap<String, String>>) -> Response {
    let login = form.get("username").cloned().unwrap_or_default();
    match portal.accounts.get(&login) {
        Some((password, _)) if Some(password) == form.get("password") => {
            let token = token();
            portal.tokens.lock().unwrap().insert(token.clone(), login);
            axum::Json(serde_json::json!({ "token": token })).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "bad credentials").into_response(),
    }
}

/// DRF's TokenAuthentication: `Authorization: Token <key>`, 401 otherwise (a cookie is no token).
async fn api_me(State(portal): Shared, headers: HeaderMap) -> Response {
    let login = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Token "))
        .and_then(|token| portal.tokens.lock().unwrap().get(token).cloned());
    let Some(login) = login else {
        portal.api_refusals.fetch_add(1, Ordering::Relaxed);
        return (
            StatusCode::UNAUTHORIZED,
            "Authentication credentials were not provided.",
        )
            .into_response();
    };
    let mut response = Html(portal.accounts[&login].1.clone()).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "private".parse().unwrap());
    response
}

/// The scenario, as scenarios/README.md describes it: the login's landing page token extracted as
/// `{{renewed}}`, and `logout` as its `[logout]` section.
fn scenario(base_url: &str, renewed: &str, logout: &str) -> Scenario {
    let text = format!(
        r#"
version = 1
name = "Django-like portal with a CSRF-protected logout"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
generate = {{ size = {SIZE}, seed = {SEED} }}

[[login_flow]]
name = "session"
session = {{ cookie = "sessionid" }}

[[login_flow.steps]]
path = "/accounts/login/"
extract = [{{ name = "csrf", css = 'input[name="csrfmiddlewaretoken"]', attribute = "value" }}]

[[login_flow.steps]]
method = "POST"
path = "/accounts/login/"
form = {{ csrfmiddlewaretoken = "{{{{csrf}}}}", username = "{{{{numero_allocataire}}}}", password = "{{{{password}}}}" }}
extract = [{{ name = "{renewed}", css = 'input[name="csrfmiddlewaretoken"]', attribute = "value" }}]

[login_flow.success]
landing_path = "/accounts/profile/"

[[page]]
name = "profile"
path = "/accounts/profile/"
must_show = ["numero_allocataire", "nir"]

{logout}

[[phase]]
name = "steady"
duration = "3s"
users = 8
login_flows = {{ session = 1 }}

[load]
increase_rate = 8
think_time = "0ms..20ms"
session_replay = true
"#
    );
    Scenario::parse(&text, "tests/django_portal.rs").unwrap_or_else(|e| panic!("{e}"))
}

async fn run_with(keeps_sessions: bool, renewed: &str, logout: &str) -> RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, _) = serve(keeps_sessions).await;
    let options = common::run_options(tempfile::tempdir().unwrap().keep());
    run::run_scenario(scenario(&base_url, renewed, logout), options)
        .await
        .unwrap()
}

/// The logout as a first try would write it: no CSRF token, so Django answers 403.
const WITHOUT_TOKEN: &str = "[logout]\nmethod = \"POST\"\npath = \"/accounts/logout/\"\n";

/// The token the login's landing page carried.
const LOGIN_TOKEN: &str = "[logout]\nmethod = \"POST\"\npath = \"/accounts/logout/\"\nform = { csrfmiddlewaretoken = \"{{logout_csrf}}\" }\n";

/// The login's own name for its token, taken again on the landing page (Django renews it at
/// login): the newest one must be sent, the login form's is stale.
const RENEWED_TOKEN: &str = "[logout]\nmethod = \"POST\"\npath = \"/accounts/logout/\"\nform = { csrfmiddlewaretoken = \"{{csrf}}\" }\n";

/// A logout of two steps: read the token off the profile page, then post it.
const OWN_STEPS: &str = r#"[[logout.steps]]
path = "/accounts/profile/"
extract = [{ name = "token", css = 'form[action="/accounts/logout/"] input[name="csrfmiddlewaretoken"]', attribute = "value" }]

[[logout.steps]]
method = "POST"
path = "/accounts/logout/"
form = { csrfmiddlewaretoken = "{{token}}" }
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_logout_is_a_logout_error_not_a_stale_session() {
    let summary = run_with(false, "logout_csrf", WITHOUT_TOKEN).await.summary;
    assert_eq!(
        summary.count(FindingKind::StaleSession),
        0,
        "{:?}",
        summary.evidence
    );
    assert!(
        summary.errors_by_cause["logout_failed"] > 0,
        "{:?}",
        summary.errors_by_cause
    );
    assert!(summary.affected_accounts.is_empty());
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_with_the_token_taken_at_login_ends_the_session() {
    let summary = run_with(false, "logout_csrf", LOGIN_TOKEN).await.summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.errors_by_cause["logout_failed"], 0);
    assert_eq!(summary.count(FindingKind::StaleSession), 0);
    // Users logged out and in again: more logins than users.
    assert!(summary.logins.succeeded > 8, "{:?}", summary.logins);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_csrf_token_renewed_by_a_later_login_step_is_the_one_the_logout_sends() {
    let summary = run_with(false, "csrf", RENEWED_TOKEN).await.summary;
    assert_eq!(
        summary.errors_by_cause["logout_failed"], 0,
        "the logout sent the login form's stale token"
    );
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    assert_eq!(summary.count(FindingKind::StaleSession), 0);
    assert!(summary.logins.succeeded > 8, "{:?}", summary.logins);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_kept_after_a_logout_is_a_stale_session_that_exposes_nobody() {
    let result = run_with(true, "logout_csrf", OWN_STEPS).await;
    let summary = &result.summary;
    assert_eq!(summary.errors_by_cause["logout_failed"], 0);
    assert!(summary.count(FindingKind::StaleSession) > 0);
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    // The old token reopened its own owner's file: nobody else saw anyone's data.
    assert!(
        summary.affected_accounts.is_empty(),
        "{:?}",
        summary.affected_accounts
    );
    let csv = std::fs::read_to_string(result.dir.join("affected.csv")).unwrap();
    assert!(!csv.contains("exposed_account"), "{csv}");
    let html = std::fs::read_to_string(result.dir.join("report.html")).unwrap();
    assert!(
        html.contains("No account's data was seen by anyone else."),
        "the report lists an exposed account"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_limited_to_the_token_flow_is_read_by_token_users_only() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let (base_url, portal) = serve(false).await;
    let text = format!(
        r#"
version = 1

[target]
base_url = "{base_url}"

[population]
generate = {{ size = {SIZE}, seed = {SEED} }}

[[login_flow]]
name = "session"
session = {{ cookie = "sessionid" }}

[[login_flow.steps]]
path = "/accounts/login/"
extract = [{{ name = "csrf", css = 'input[name="csrfmiddlewaretoken"]', attribute = "value" }}]

[[login_flow.steps]]
method = "POST"
path = "/accounts/login/"
form = {{ csrfmiddlewaretoken = "{{{{csrf}}}}", username = "{{{{numero_allocataire}}}}", password = "{{{{password}}}}" }}

[login_flow.success]
landing_path = "/accounts/profile/"

[[login_flow]]
name = "token"
session = {{ bearer = {{ json_pointer = "/token", prefix = "Token " }} }}

[[login_flow.steps]]
method = "POST"
path = "/api/token/"
form = {{ username = "{{{{numero_allocataire}}}}", password = "{{{{password}}}}" }}

[login_flow.success]
status = 200

[[page]]
name = "profile"
path = "/accounts/profile/"
must_show = ["numero_allocataire", "nir"]
flows = ["session"]

[[page]]
name = "api profile"
path = "/api/me/"
must_show = ["numero_allocataire", "nir"]
flows = ["token"]

[[phase]]
name = "steady"
duration = "3s"
users = 8
login_flows = {{ session = 1, token = 1 }}

[load]
increase_rate = 8
think_time = "0ms..20ms"
"#
    );
    let scenario =
        Scenario::parse(&text, "tests/django_portal.rs").unwrap_or_else(|e| panic!("{e}"));
    let options = common::run_options(tempfile::tempdir().unwrap().keep());
    let summary = run::run_scenario(scenario, options).await.unwrap().summary;
    assert_eq!(summary.status, Status::Clean, "{}", summary.reason);
    // No cookie user asked the API (it would have been refused and lost its session).
    assert_eq!(portal.api_refusals.load(Ordering::Relaxed), 0);
    assert_eq!(summary.logins.sessions_lost, 0, "{:?}", summary.logins);
    // Each user read its own flow's page: both were read, neither failed.
    for page in ["profile", "api profile"] {
        let row = summary.goose.pages.iter().find(|p| p.name == page);
        assert!(
            row.is_some_and(|r| r.requests > 0 && r.failures == 0),
            "{page}: {:?}",
            summary.goose.pages
        );
    }
}
