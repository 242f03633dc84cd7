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
use crossleak::findings::FindingKind;
use crossleak::outcome::Status;
use crossleak::population::{Beneficiary, GenerateOptions, Population};
use crossleak::run::{self, RunOptions};
use crossleak::scenario::Scenario;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// An account as this portal stores it: its own field names, nothing of crossleak's model.
#[derive(Clone, Debug)]
struct Account {
    number: String,
    login: String,
    password: String,
    email: String,
    phone: String,
    name: String,
    iban: String,
    /// Accounts with the same household key share a file and see each other's contacts.
    household: String,
}

impl Account {
    fn of(b: &Beneficiary) -> Account {
        Account {
            number: b.numero_allocataire.as_str().to_owned(),
            login: b.numero_allocataire.as_str().to_owned(),
            password: b.password.clone(),
            email: b.email.clone(),
            phone: b.phone.clone(),
            name: b.last_name.clone(),
            iban: b.iban.clone(),
            household: b.household.to_string(),
        }
    }
}

/// How this portal goes wrong, if it does.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// An API gateway cache in front of GET /v2/me, keyed by path alone.
    GatewayCache,
    /// The password is checked against the account the login names, but the session is opened
    /// on the first account whose login has the same first name (`alice.` of `alice.durand`):
    /// a lookup through a non-unique key, as in the CAF's 2021 cut-over.
    FirstNameLookup,
}

struct Staging {
    accounts: Vec<Mutex<Account>>,
    by_login: HashMap<String, usize>,
    /// Login's first name (before the dot) to the first account that has it.
    by_first_name: HashMap<String, usize>,
    households: HashMap<String, Vec<usize>>,
    csrf: Mutex<HashSet<String>>,
    sessions: Mutex<HashMap<String, usize>>,
    fault: Fault,
    gateway_cache: Mutex<Option<(Instant, Value)>>,
}

type Shared = State<Arc<Staging>>;

fn token() -> String {
    (0..32)
        .map(|_| format!("{:02x}", rand::random::<u8>()))
        .collect()
}

fn first_name(login: &str) -> &str {
    login.split('.').next().unwrap_or(login)
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
            let opened = match s.fault {
                Fault::FirstNameLookup => s.by_first_name[first_name(login)],
                _ => id,
            };
            let token = token();
            s.sessions.lock().unwrap().insert(token.clone(), opened);
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
            json!({"email": partner.email, "number": partner.number})
        })
        .collect();
    json!({
        "client": {"number": me.number, "email": me.email, "phone": me.phone, "name": me.name},
        "household": household,
        "bank": {"iban": me.iban},
    })
}

async fn me(State(s): Shared, headers: HeaderMap) -> Response {
    let Some(id) = bearer(&s, &headers) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"error": "session"}))).into_response();
    };
    if s.fault == Fault::GatewayCache {
        // As nginx's proxy_cache with `add_header X-Cache-Status $upstream_cache_status`.
        let mut cache = s.gateway_cache.lock().unwrap();
        if let Some((at, body)) = cache.as_ref() {
            if at.elapsed() < Duration::from_millis(300) {
                return ([("x-cache-status", "HIT")], Json(body.clone())).into_response();
            }
        }
        let body = profile(&s, id);
        *cache = Some((Instant::now(), body.clone()));
        return ([("x-cache-status", "MISS")], Json(body)).into_response();
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

async fn serve(accounts: Vec<Account>, fault: Fault) -> String {
    let mut households: HashMap<String, Vec<usize>> = HashMap::new();
    let mut by_first_name = HashMap::new();
    for (id, a) in accounts.iter().enumerate() {
        households.entry(a.household.clone()).or_default().push(id);
        by_first_name
            .entry(first_name(&a.login).to_owned())
            .or_insert(id);
    }
    let staging = Arc::new(Staging {
        by_login: accounts
            .iter()
            .enumerate()
            .map(|(id, a)| (a.login.clone(), id))
            .collect(),
        by_first_name,
        accounts: accounts.into_iter().map(Mutex::new).collect(),
        households,
        csrf: Mutex::default(),
        sessions: Mutex::default(),
        fault,
        gateway_cache: Mutex::default(),
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

fn options() -> RunOptions {
    common::run_options(tempfile::tempdir().unwrap().keep())
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
    let accounts = served.beneficiaries.iter().map(Account::of).collect();
    let fault = if leaking {
        Fault::GatewayCache
    } else {
        Fault::None
    };
    let base_url = serve(accounts, fault).await;
    run::run_scenario(scenario(&base_url), options())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_correct_staging_api_passes_with_csrf_bearer_and_households() {
    let result = run_against(false).await;
    let summary = &result.summary;
    common::assert_clean(summary);
    assert_eq!(summary.logins.failed, 0);
    assert!(summary.logins.succeeded >= 12);
    assert!(
        summary.checked_responses > 50,
        "{}",
        summary.checked_responses
    );
    // A bearer API without Cache-Control: RFC 9111 §3.5 keeps shared caches from storing answers
    // to requests that carry Authorization, so there is nothing to warn about.
    assert_eq!(
        summary.count(FindingKind::CacheablePage),
        0,
        "{:?}",
        summary.evidence
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_cache_on_the_profile_is_caught() {
    let result = run_against(true).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    assert!(!summary.affected_accounts.is_empty());
    assert!(summary.evidence.iter().any(|f| f.request.name == "profile"));
    // The cache's own header stays in the evidence, on disk and in the HAR.
    let recorded = crossleak::report::read_findings(&result.dir);
    let hit = recorded
        .iter()
        .find(|f| {
            f.kind == FindingKind::Violation
                && f.response.headers.get("x-cache-status").map(String::as_str) == Some("HIT")
        })
        .unwrap_or_else(|| panic!("no violation keeps X-Cache-Status: {recorded:?}"));
    let har: Value =
        serde_json::from_slice(&std::fs::read(result.dir.join("evidence.har")).unwrap()).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    assert!(entries.iter().any(|entry| {
        entry["startedDateTime"] == hit.at.as_str()
            && entry["response"]["headers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|h| h["name"] == "x-cache-status" && h["value"] == "HIT")
    }));
    let html = std::fs::read_to_string(result.dir.join("report.html")).unwrap();
    assert!(
        html.contains("<tr><th>x-cache-status</th><td><code>HIT</code></td></tr>"),
        "report.html drops the cache's header"
    );
    // Each leaked profile is also a wrong identity: its JSON lacks the viewer's own number.
    let viewers = |kind: FindingKind| -> HashSet<u32> {
        recorded
            .iter()
            .filter(|f| f.kind == kind && f.request.name == "profile")
            .filter_map(|f| f.viewer.as_ref().map(|v| v.owner))
            .collect()
    };
    let leaked_to = viewers(FindingKind::Violation);
    assert!(!leaked_to.is_empty());
    assert!(
        leaked_to.is_subset(&viewers(FindingKind::WrongIdentity)),
        "{recorded:?}"
    );
    for wrong in recorded
        .iter()
        .filter(|f| f.kind == FindingKind::WrongIdentity && f.request.name == "profile")
    {
        assert_eq!(wrong.missing, ["numero_allocataire"]);
        assert!(wrong.detail.contains("/client/number"), "{}", wrong.detail);
    }
}

// ----- A staging export in this portal's own shape, read through [population.columns] -----

/// The staging database: `(client number, web login, password, household)`. Two first names are
/// shared across households (alice, emma) and one within a household (david): under the
/// first-name lookup, alice.durand is given alice.martin's file and emma.blanc emma.roux's,
/// while david.lefevre is given david.petit's, his own household's.
const STAGING: [(&str, &str, &str, &str); 12] = [
    ("C-2000001", "alice.martin", "Provisoire-1!", "F-01"),
    ("C-2000002", "bruno.martin", "Provisoire-2!", "F-01"),
    ("C-2000003", "chloe.durand", "Provisoire-3!", ""),
    ("C-2000004", "alice.durand", "Provisoire-4!", ""),
    ("C-2000005", "david.petit", "Provisoire-5!", "F-02"),
    ("C-2000006", "david.lefevre", "Provisoire-6!", "F-02"),
    ("C-2000007", "emma.roux", "Provisoire-7!", ""),
    ("C-2000008", "farid.benali", "Provisoire-8!", ""),
    ("C-2000009", "emma.blanc", "Provisoire-9!", ""),
    ("C-2000010", "gael.morel", "Provisoire-10!", "F-03"),
    ("C-2000011", "hana.morel", "Provisoire-11!", "F-03"),
    ("C-2000012", "ines.garnier", "Provisoire-12!", ""),
];

/// The portal's accounts, and the export its staging database would give: the same people under
/// the export's own column names, plus a spare IBAN per client for the test's writes.
fn staging() -> Vec<(Account, String)> {
    STAGING
        .iter()
        .enumerate()
        .map(|(i, (number, login, password, household))| {
            let account = Account {
                number: (*number).to_owned(),
                login: (*login).to_owned(),
                password: (*password).to_owned(),
                email: format!("{login}@exemple.test"),
                phone: format!("01990010{:02}", i + 1),
                name: login.split('.').nth(1).unwrap_or_default().to_uppercase(),
                iban: format!("FR76300010079400000{:08}", 1000 + i),
                household: if household.is_empty() {
                    format!("alone-{i}")
                } else {
                    (*household).to_owned()
                },
            };
            let spare = format!("FR76300010079400000{:08}", 9000 + i);
            (account, spare)
        })
        .collect()
}

/// Writes the export as CSV or JSON Lines, with this portal's column names.
fn write_export(dir: &Path, jsonl: bool) -> &'static str {
    let mut text = String::new();
    if !jsonl {
        text.push_str("num_client,identifiant_web,mdp,courriel,telephone,iban_secours,foyer\n");
    }
    for ((account, spare), (_, _, _, household)) in staging().iter().zip(STAGING) {
        if jsonl {
            text.push_str(
                &json!({
                    "num_client": account.number, "identifiant_web": account.login,
                    "mdp": account.password, "courriel": account.email,
                    "telephone": account.phone, "iban_secours": spare, "foyer": household,
                })
                .to_string(),
            );
            text.push('\n');
        } else {
            text.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                account.number,
                account.login,
                account.password,
                account.email,
                account.phone,
                spare,
                household
            ));
        }
    }
    let name = if jsonl { "export.jsonl" } else { "export.csv" };
    std::fs::write(dir.join(name), text).unwrap();
    name
}

/// The scenario as a user would write it beside the export: the mapping, a CSS selector for the
/// CSRF token, the mapped login in the JSON body, must_show and a write of mapped values.
fn mapped_scenario(dir: &Path, base_url: &str, export: &str) -> Scenario {
    let format = if export.ends_with(".jsonl") {
        "jsonl"
    } else {
        "csv"
    };
    let text = format!(
        r#"
version = 1
name = "staging export, column-mapped"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
file = "{export}"
format = "{format}"

[population.columns]
identifiers = {{ client = "num_client", login = "identifiant_web" }}
password = "mdp"
watch = {{ email = "courriel", phone = "telephone", spare_iban = "iban_secours" }}
household = "foyer"

[[login_flow]]
name = "web"
session = {{ bearer = {{ json_pointer = "/session/token" }} }}

[[login_flow.steps]]
method = "GET"
path = "/auth/form"
extract = [{{ name = "csrf", css = 'meta[name="csrf"]', attribute = "content" }}]

[[login_flow.steps]]
method = "POST"
path = "/auth/session"
headers = {{ "X-CSRF" = "{{{{csrf}}}}" }}
json = {{ user = {{ login = "{{{{login}}}}" }}, secret = "{{{{password}}}}" }}

[login_flow.success]
status = [200]
body_contains = "token"

[[page]]
name = "profile"
path = "/v2/me"
must_show = ["client", "email", "phone"]
json_equals = [{{ pointer = "/client/number", field = "client" }}]

[[write]]
name = "bank details"
method = "PUT"
path = "/v2/me/bank"
json = {{ iban = "{{{{value}}}}" }}
values = ["spare_iban"]
then_read = ["/v2/me"]

[[phase]]
name = "steady"
duration = "3s"
users = 12
login_flows = {{ web = 1 }}

[load]
increase_rate = 12
think_time = "0ms..20ms"
"#
    );
    let path = dir.join("staging.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn run_mapped(fault: Fault, jsonl: bool) -> run::RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let export = write_export(dir.path(), jsonl);
    let accounts = staging().into_iter().map(|(a, _)| a).collect();
    let base_url = serve(accounts, fault).await;
    run::run_scenario(mapped_scenario(dir.path(), &base_url, export), options())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_mapped_export_logs_in_and_passes_on_the_correct_portal() {
    let result = run_mapped(Fault::None, true).await;
    let summary = &result.summary;
    common::assert_clean(summary);
    assert_eq!(summary.population, 12);
    assert_eq!(
        summary.logins.failed, 0,
        "the mapped credentials and the CSS-extracted token log in"
    );
    assert!(summary.logins.succeeded >= 12);
    // Household members' contacts are on each other's profiles: allowed, never a finding. (This
    // portal sends no Cache-Control, so the header audit warns: a warning, not an isolation one.)
    let not_cache: Vec<(&String, &u64)> = summary
        .findings_by_kind
        .iter()
        .filter(|(kind, n)| *kind != "cacheable_page" && **n > 0)
        .collect();
    assert!(not_cache.is_empty(), "{not_cache:?}");
    assert_eq!(summary.violations, 0);
    assert!(
        summary.checked_responses > 30,
        "{}",
        summary.checked_responses
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_name_lookup_leak_is_caught_with_the_right_accounts_from_the_export() {
    let result = run_mapped(Fault::FirstNameLookup, false).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    // Whose identity was shown to someone else: alice.martin's file (with her household
    // partner bruno.martin's contacts) to alice.durand, emma.roux's to emma.blanc. david.petit's
    // file went to david.lefevre, his own household: not a leak.
    let identity_exposed: BTreeMap<u32, Vec<u32>> = summary
        .affected_accounts
        .iter()
        .filter(|a| a.fields.iter().any(|f| f != "spare_iban"))
        .map(|a| (a.owner, a.seen_by.iter().copied().collect()))
        .collect();
    assert_eq!(
        identity_exposed,
        BTreeMap::from([(0, vec![3]), (1, vec![3]), (6, vec![8])]),
        "{:?}",
        summary.affected_accounts
    );
    // Accounts are named by their first mapped identifier, masked.
    let alice = summary
        .affected_accounts
        .iter()
        .find(|a| a.owner == 0)
        .unwrap();
    assert_ne!(alice.numero_allocataire, "C-2000001");
    assert!(
        alice.numero_allocataire.starts_with("C-"),
        "{}",
        alice.numero_allocataire
    );
    // Any other exposure is a write the misdirected users made into the file they were given.
    for account in &summary.affected_accounts {
        if !identity_exposed.contains_key(&account.owner) {
            assert!([3, 8].contains(&account.owner), "{account:?}");
            assert_eq!(account.fields.iter().collect::<Vec<_>>(), ["spare_iban"]);
        }
    }
    for write in &summary.cross_writes {
        assert!(
            [(0, 3), (6, 8)].contains(&(write.file_owner, write.written_by)),
            "{write:?}"
        );
    }
    assert!(summary.evidence.iter().any(|f| f.request.name == "profile"));
}
