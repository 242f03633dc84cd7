//! A portal that prints values as real ones do: an IBAN in groups of four, a phone in pairs or
//! with `+33`, a NIR spaced, e-mail addresses obfuscated with entities, HTML from a template that
//! escapes, JSON from serde_json and from an ASCII-only serialiser, values in query strings and
//! a `Content-Location` header. Read through a mapped export whose kinds are declared or
//! inferred, crossleak finds another owner's values in every presentation, and stays clean when
//! each user sees only their own.

mod common;

use axum::extract::{Form, Path as UrlPath, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use common::ONE_ATTACK_AT_A_TIME;
use crossleak::outcome::Status;
use crossleak::population::{Beneficiary, GenerateOptions, Population};
use crossleak::run;
use crossleak::scenario::Scenario;
use serde_json::{json, Value};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Every page of the portal: each prints the IBAN, phone, NIR and e-mail of its subject in one
/// family of presentations.
const PRESENTATIONS: [&str; 13] = [
    "spaces",
    "nbsp_entities",
    "unicode_spaces",
    "dots_and_key_apart",
    "dashes_and_numeric_entities",
    "international",
    "international_trunk",
    "international_0033",
    "serde_json",
    "ascii_json",
    "query_string",
    "json_line_break",
    "query_words",
];

/// The pages that print the phone alone.
fn phone_only(page: &str) -> bool {
    page.starts_with("international") || page == "json_line_break" || page == "query_words"
}

/// An owner as the portal stores them.
#[derive(Clone, Debug)]
struct Account {
    login: String,
    password: String,
    nir: String,
    iban: String,
    phone: String,
    email: String,
}

impl Account {
    fn of(b: &Beneficiary) -> Account {
        Account {
            login: format!("web{}", b.numero_allocataire.as_str()),
            password: b.password.clone(),
            nir: b.nir.as_str().to_owned(),
            iban: b.iban.clone(),
            phone: b.phone.clone(),
            email: b.email.clone(),
        }
    }
}

struct Portal {
    accounts: Vec<Account>,
    by_login: HashMap<String, usize>,
    sessions: Mutex<HashMap<String, usize>>,
    /// Each page shows the next account's values instead of the viewer's own.
    leaking: bool,
}

type Shared = State<Arc<Portal>>;

/// `text` in groups of `sizes`, then the rest, joined by `sep`.
fn grouped(text: &str, sizes: &[usize], sep: &str) -> String {
    let mut out = Vec::new();
    let mut rest = text;
    for size in sizes {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at((*size).min(rest.len()));
        out.push(head);
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out.join(sep)
}

fn iban(a: &Account, sep: &str) -> String {
    grouped(&a.iban, &[4; 8], sep)
}

fn pairs(a: &Account, sep: &str) -> String {
    grouped(&a.phone, &[2; 5], sep)
}

/// `+33 6 39 98 05 96`, after the given prefix.
fn international(a: &Account, prefix: &str) -> String {
    format!("{prefix}{}", grouped(&a.phone[1..], &[1, 2, 2, 2, 2], " "))
}

fn nir_spaced(a: &Account, sep: &str) -> String {
    grouped(&a.nir, &[1, 2, 2, 2, 3, 3, 2], sep)
}

/// What a template engine does to every value it prints (askama, Jinja, Django).
fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
}

/// An ASCII-only JSON serialiser (Python's `json.dumps`, PHP's `json_encode`): every non-ASCII
/// character and `@` as `\uXXXX`, `/` as `\/`.
fn ascii_json(value: &Value) -> String {
    let text = serde_json::to_string(value).unwrap();
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '/' => out.push_str("\\/"),
            '@' => out.push_str("\\u0040"),
            c if !c.is_ascii() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// What a query-string encoder does (`url::form_urlencoded`, without `+` for spaces).
fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn html_page(rows: &[(&str, String)]) -> Response {
    let mut body = String::from("<!doctype html><html><body><h1>Mon dossier</h1><table>");
    for (label, value) in rows {
        body.push_str(&format!("<tr><th>{label}</th><td>{value}</td></tr>"));
    }
    body.push_str("</table></body></html>");
    Html(body).into_response()
}

/// The page `name` about account `a`.
fn render(name: &str, a: &Account) -> Response {
    let e = escape_html;
    match name {
        "spaces" => html_page(&[
            ("IBAN", e(&iban(a, " "))),
            ("Téléphone", e(&pairs(a, " "))),
            ("NIR", e(&nir_spaced(a, " "))),
            ("Courriel", e(&a.email.to_uppercase())),
        ]),
        // The template writes the separators as entities, and obfuscates the address.
        "nbsp_entities" => html_page(&[
            ("IBAN", iban(a, "&nbsp;")),
            ("Téléphone", pairs(a, "&nbsp;")),
            ("NIR", nir_spaced(a, "&nbsp;")),
            ("Courriel", e(&a.email).replace('@', "&#64;")),
        ]),
        // A locale-aware formatter's no-break, narrow no-break and thin spaces.
        "unicode_spaces" => html_page(&[
            ("IBAN", e(&iban(a, "\u{a0}"))),
            ("Téléphone", e(&pairs(a, "\u{202f}"))),
            ("NIR", e(&nir_spaced(a, "\u{2009}"))),
            ("Courriel", e(&a.email).replace('@', "&#x40;")),
        ]),
        "dots_and_key_apart" => html_page(&[
            ("IBAN", e(&iban(a, "\u{202f}").to_lowercase())),
            ("Téléphone", e(&pairs(a, "."))),
            ("NIR", e(&format!("{} {}", &a.nir[..13], &a.nir[13..]))),
            ("Courriel", e(&a.email)),
        ]),
        "dashes_and_numeric_entities" => html_page(&[
            ("IBAN", iban(a, "&#160;")),
            ("Téléphone", pairs(a, "-")),
            ("NIR", nir_spaced(a, "&#8239;")),
            ("Courriel", e(&a.email).replace('@', "&#X40;")),
        ]),
        "international" => html_page(&[("Téléphone", e(&international(a, "+33 ")))]),
        "international_trunk" => html_page(&[("Téléphone", e(&international(a, "+33 (0)")))]),
        "international_0033" => html_page(&[("Téléphone", e(&international(a, "0033 ")))]),
        "serde_json" => axum::Json(json!({
            "iban": iban(a, "\u{a0}"),
            "telephone": pairs(a, "\u{202f}"),
            "nir": nir_spaced(a, " "),
            "courriel": a.email.to_uppercase(),
        }))
        .into_response(),
        "ascii_json" => (
            [(header::CONTENT_TYPE, "application/json")],
            ascii_json(&json!({
                "iban": iban(a, "\u{a0}"),
                "telephone": international(a, "+33\u{a0}"),
                "nir": nir_spaced(a, "\u{202f}"),
                "courriel": a.email,
                "fiche": format!("https://portail.test/fiche/{}", a.email),
            })),
        )
            .into_response(),
        "query_string" => {
            let query = format!(
                "iban={}&tel={}&nir={}&mail={}",
                percent(&iban(a, " ")),
                percent(&international(a, "+33 ")),
                percent(&nir_spaced(a, " ")),
                percent(&a.email)
            );
            let link = format!("/recherche?{query}");
            (
                [(header::CONTENT_LOCATION, link.clone())],
                Html(format!(
                    "<p><a href=\"{}\">Partager</a></p>",
                    escape_html(&link)
                )),
            )
                .into_response()
        }
        // serde_json writes the line break as `\n`, right against the number.
        "json_line_break" => {
            axum::Json(json!({ "contact": format!("Tél.\n{}", a.phone) })).into_response()
        }
        // A search link whose words are percent-encoded, `%20` right against the number.
        "query_words" => Html(format!(
            "<a href=\"/recherche?q={}\">Rechercher</a>",
            percent(&format!("Tél. {}", a.phone))
        ))
        .into_response(),
        _ => StatusCode::NOT_FOUND.into_response(),
    }
}

#[derive(serde::Deserialize)]
struct Login {
    login: String,
    password: String,
}

async fn login(State(p): Shared, Form(form): Form<Login>) -> Response {
    match p.by_login.get(&form.login) {
        Some(&id) if p.accounts[id].password == form.password => {
            let sid: String = (0..16)
                .map(|_| format!("{:02x}", rand::random::<u8>()))
                .collect();
            p.sessions.lock().unwrap().insert(sid.clone(), id);
            (
                [(header::SET_COOKIE, format!("sid={sid}; Path=/; HttpOnly"))],
                Html("<p>Bienvenue</p>"),
            )
                .into_response()
        }
        _ => (StatusCode::UNAUTHORIZED, Html("<p>Refusé</p>")).into_response(),
    }
}

async fn page(State(p): Shared, UrlPath(name): UrlPath<String>, headers: HeaderMap) -> Response {
    let sid = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split("; ").find_map(|kv| kv.strip_prefix("sid=")))
        .unwrap_or_default();
    let Some(id) = p.sessions.lock().unwrap().get(sid).copied() else {
        return (StatusCode::UNAUTHORIZED, Html("<p>Connexion</p>")).into_response();
    };
    let subject = if p.leaking {
        (id + 1) % p.accounts.len()
    } else {
        id
    };
    let mut response = render(&name, &p.accounts[subject]);
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-store"),
    );
    response
}

async fn serve(accounts: Vec<Account>, leaking: bool) -> String {
    let portal = Arc::new(Portal {
        by_login: accounts
            .iter()
            .enumerate()
            .map(|(i, a)| (a.login.clone(), i))
            .collect(),
        accounts,
        sessions: Mutex::default(),
        leaking,
    });
    let app = Router::new()
        .route("/login", post(login))
        .route("/p/{name}", get(page))
        .with_state(portal);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// The staging export: the IBAN's kind is declared, the others are inferred from the values.
fn write_export(dir: &Path, accounts: &[Account]) {
    let mut text = String::from("LOGIN,MDP,NIR,IBAN,TEL,MAIL\n");
    for a in accounts {
        text.push_str(&format!(
            "{},{},{},{},{},{}\n",
            a.login, a.password, a.nir, a.iban, a.phone, a.email
        ));
    }
    std::fs::write(dir.join("export.csv"), text).unwrap();
}

fn scenario(dir: &Path, base_url: &str) -> Scenario {
    let mut pages = String::new();
    for name in PRESENTATIONS {
        let must_show = if phone_only(name) {
            r#"["phone"]"#
        } else {
            r#"["nir", "rib", "phone", "email"]"#
        };
        pages.push_str(&format!(
            "\n[[page]]\nname = \"{name}\"\npath = \"/p/{name}\"\nmust_show = {must_show}\n"
        ));
    }
    let text = format!(
        r#"
version = 1
name = "a portal that prints values as people read them"

[target]
base_url = "{base_url}"
request_timeout = "5s"

[population]
file = "export.csv"
format = "csv"

[population.columns]
identifiers = {{ login = "LOGIN" }}
password = "MDP"
watch = {{ nir = "NIR", rib = {{ column = "IBAN", kind = "iban" }}, phone = "TEL", email = "MAIL" }}

[[login_flow]]
name = "web"
session = {{ cookie = "sid" }}

[[login_flow.steps]]
method = "POST"
path = "/login"
form = {{ login = "{{{{login}}}}", password = "{{{{password}}}}" }}

[login_flow.success]
status = [200]
body_contains = "Bienvenue"
{pages}
[[phase]]
name = "steady"
duration = "2s"
users = 6
login_flows = {{ web = 1 }}

[load]
increase_rate = 6
think_time = "0ms..10ms"
"#
    );
    let path = dir.join("presentations.toml");
    std::fs::write(&path, text).unwrap();
    Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn run_portal(leaking: bool) -> run::RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let population = Population::generate(&GenerateOptions {
        size: 6,
        seed: 14,
        household_share: 0.0,
        ..GenerateOptions::default()
    })
    .unwrap();
    let accounts: Vec<Account> = population.beneficiaries.iter().map(Account::of).collect();
    let dir = tempfile::tempdir().unwrap();
    write_export(dir.path(), &accounts);
    let base_url = serve(accounts, leaking).await;
    let scenario = scenario(dir.path(), &base_url);
    run::run_scenario(
        scenario,
        common::run_options(tempfile::tempdir().unwrap().keep()),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_owners_values_are_caught_in_every_presentation() {
    let result = run_portal(true).await;
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Violations, "{}", summary.reason);
    assert_eq!(summary.status.exit_code(), 1);
    let findings = std::fs::read_to_string(result.dir.join("findings.jsonl")).unwrap();
    let mut fields_by_page: HashMap<String, BTreeSet<String>> = HashMap::new();
    for line in findings.lines() {
        let finding: Value = serde_json::from_str(line).unwrap();
        if finding["kind"] != "violation" {
            continue;
        }
        let page = finding["request"]["name"].as_str().unwrap().to_owned();
        let fields = fields_by_page.entry(page).or_default();
        for foreign in finding["foreign"].as_array().unwrap() {
            fields.insert(foreign["field"].as_str().unwrap().to_owned());
        }
    }
    for name in PRESENTATIONS {
        let expected: BTreeSet<String> = if phone_only(name) {
            ["phone"].map(str::to_owned).into()
        } else {
            ["email", "nir", "phone", "rib"].map(str::to_owned).into()
        };
        assert_eq!(
            fields_by_page.get(name),
            Some(&expected),
            "page {name}: {fields_by_page:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_values_in_every_presentation_are_clean_and_satisfy_must_show() {
    let result = run_portal(false).await;
    let summary = &result.summary;
    common::assert_clean(summary);
    assert_eq!(summary.violations, 0);
    assert_eq!(summary.logins.failed, 0);
    assert!(
        summary.checked_responses > 6 * PRESENTATIONS.len() as u64,
        "{}",
        summary.checked_responses
    );
}

#[test]
fn check_reports_each_columns_declared_or_inferred_kind() {
    let population = Population::generate(&GenerateOptions {
        size: 4,
        seed: 14,
        ..GenerateOptions::default()
    })
    .unwrap();
    let accounts: Vec<Account> = population.beneficiaries.iter().map(Account::of).collect();
    let dir = tempfile::tempdir().unwrap();
    write_export(dir.path(), &accounts);
    scenario(dir.path(), "http://127.0.0.1:9");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .arg("check")
        .arg(dir.path().join("presentations.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for line in [
        "column \"LOGIN\" (login): kind text (inferred from its values)",
        "column \"NIR\" (nir): kind nir (inferred from its values)",
        "column \"IBAN\" (rib): kind iban (declared)",
        "column \"TEL\" (phone): kind phone_fr (inferred from its values)",
        "column \"MAIL\" (email): kind email (inferred from its values)",
    ] {
        assert!(stdout.contains(line), "{line} not in:\n{stdout}");
    }
}
