//! `crossleak scenario from-har` end to end: recordings made by driving loopback portals with a
//! small recording browser (Chrome- and Firefox-shaped HAR, redirects, assets, analytics) become
//! scenarios that `crossleak check` accepts, and, for a portal crossleak has never seen, one that
//! catches its cache leak and passes its fixed version — with no hand edits.

#[path = "from_har/api.rs"]
mod api;
mod common;
#[path = "from_har/mutuelle.rs"]
mod mutuelle;
#[path = "from_har/recorder.rs"]
mod recorder;

use clap::Parser;
use common::ONE_ATTACK_AT_A_TIME;
use crossleak::cli::{self, Cli};
use crossleak::har::{from_har, FromHar};
use crossleak::outcome::Status;
use crossleak::population::{GenerateOptions, Population};
use crossleak::portal::{self, PortalConfig};
use crossleak::run::{self, RunOptions};
use crossleak::scenario::Scenario;
use recorder::{Flavour, Recorder, Send};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn form(fields: &[(&str, &str)]) -> Send {
    Send::Form(
        fields
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

/// The page's analytics and web fonts, as the browser recorded them around each navigation.
fn noise(recorder: &mut Recorder) {
    recorder.third_party(
        "POST",
        "https://www.google-analytics.com/g/collect?v=2&tid=G-XYZ&en=page_view",
        204,
        "text/plain",
        "",
    );
    recorder.third_party(
        "GET",
        "https://fonts.gstatic.com/s/marianne/v1/marianne.woff2",
        200,
        "font/woff2",
        "",
    );
}

/// A member of the mutuelle logs in, reads the member API, changes the bank details to the spare
/// IBAN the export holds, and logs out; assets and analytics along the way.
async fn record_mutuelle(base: &str, member: &mutuelle::Member) -> String {
    let mut browser = Recorder::new(Flavour::Chrome);
    browser
        .go("GET", &format!("{base}/"), Send::Nothing, &[])
        .await;
    browser
        .go(
            "GET",
            &format!("{base}/assets/app-3f2a.css"),
            Send::Nothing,
            &[],
        )
        .await;
    browser
        .go(
            "GET",
            &format!("{base}/assets/app-3f2a.js"),
            Send::Nothing,
            &[],
        )
        .await;
    noise(&mut browser);
    let login = browser
        .go(
            "GET",
            &format!("{base}/compte/connexion"),
            Send::Nothing,
            &[],
        )
        .await;
    let token = login
        .body
        .split("value=\"")
        .nth(2)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let dashboard = browser
        .go(
            "POST",
            &format!("{base}/compte/connexion"),
            form(&[
                ("utf8", "✓"),
                ("authenticity_token", &token),
                ("adherent[numero]", &member.number),
                ("adherent[mot_de_passe]", &member.password),
            ]),
            &[],
        )
        .await;
    assert_eq!(dashboard.status, 200);
    assert!(
        dashboard.body.contains(&member.number),
        "the recorded login worked"
    );
    browser
        .go(
            "GET",
            &format!("{base}/assets/app-3f2a.css"),
            Send::Nothing,
            &[],
        )
        .await;
    noise(&mut browser);
    browser
        .go(
            "GET",
            &format!("{base}/api/v1/adherent"),
            Send::Nothing,
            &[("X-Requested-With", "XMLHttpRequest")],
        )
        .await;
    let after = browser
        .go(
            "POST",
            &format!("{base}/compte/rib"),
            form(&[("rib[iban]", &member.spare_iban)]),
            &[],
        )
        .await;
    assert!(after.body.contains(&member.spare_iban));
    browser
        .go(
            "POST",
            &format!("{base}/compte/deconnexion"),
            Send::Nothing,
            &[],
        )
        .await;
    browser.har()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `crossleak scenario from-har` as a user types it.
async fn cli_from_har(har: &Path, export: &Path, out: &Path) -> Status {
    let cli = Cli::try_parse_from([
        "crossleak",
        "scenario",
        "from-har",
        har.to_str().unwrap(),
        "--population",
        export.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    cli::run(cli).await
}

fn run_options(target: &str, reports: &Path) -> RunOptions {
    RunOptions {
        target: Some(target.to_owned()),
        duration: Some(Duration::from_secs(3)),
        ..common::run_options(reports.to_owned())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_login_to_an_unknown_portal_catches_its_cache_leak_and_passes_its_fix() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let fixed = mutuelle::serve(false).await;
    let leaking = mutuelle::serve(true).await;
    let member = &mutuelle::members()[5];
    let har = write(
        dir.path(),
        "connexion.har",
        &record_mutuelle(&fixed, member).await,
    );
    let export = mutuelle::write_export(dir.path());
    let out = dir.path().join("mutuelle.toml");
    assert_eq!(cli_from_har(&har, &export, &out).await, Status::Clean);
    let scenario = Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));

    // `crossleak run mutuelle.toml --target <leaking>` as CI would type it: exit 1.
    let reports = dir.path().join("reports");
    let run_leaking = Cli::try_parse_from([
        "crossleak",
        "run",
        out.to_str().unwrap(),
        "--target",
        &leaking,
        "--duration",
        "3s",
        "--quiet",
        "--report-dir",
        reports.to_str().unwrap(),
    ])
    .unwrap();
    let caught = cli::run(run_leaking).await;
    assert_eq!(caught, Status::Violations);
    assert_eq!(caught.exit_code(), 1);
    let run_dir = std::fs::read_dir(&reports)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run_dir.join("summary.json")).unwrap())
            .unwrap();
    assert!(summary["violations"].as_u64().unwrap() > 0, "{summary}");
    assert!(!summary["affected_accounts"].as_array().unwrap().is_empty());

    let clean = run::run_scenario(scenario, run_options(&fixed, dir.path()))
        .await
        .unwrap();
    let summary = &clean.summary;
    common::assert_clean(summary);
    assert_eq!(
        summary.logins.failed, 0,
        "the extracted token and the mapped columns log in"
    );
    assert!(summary.logins.succeeded >= 20);
    assert_eq!(summary.violations, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unknown_portal_s_scenario_maps_extracts_and_leaves_out_every_secret() {
    let dir = tempfile::tempdir().unwrap();
    let base = mutuelle::serve(false).await;
    let member = &mutuelle::members()[5];
    let recording = record_mutuelle(&base, member).await;
    let har = write(dir.path(), "connexion.har", &recording);
    let export = mutuelle::write_export(dir.path());
    let generated = from_har(&FromHar {
        recording: har,
        population: export,
        format: None,
        out: Some(dir.path().join("mutuelle.toml")),
        base_url: None,
    })
    .unwrap();
    let text = &generated.text;
    for expected in [
        "file = \"adherents.csv\"",
        "identifiers = { n_adherent = \"N_ADHERENT\" }",
        "password = \"MOT_DE_PASSE\"",
        "iban_secours = \"IBAN_SECOURS\"",
        "session = { cookie = \"mh_session\" }",
        r#"extract = [{ name = "authenticity_token", css = 'input[name="authenticity_token"]', attribute = "value" }]"#,
        r#""adherent[numero]" = "{{n_adherent}}""#,
        r#""adherent[mot_de_passe]" = "{{password}}""#,
        r#"authenticity_token = "{{authenticity_token}}""#,
        "landing_path = \"/compte/tableau-de-bord\"",
        "path = \"/api/v1/adherent\"",
        r#"json_equals = [{ pointer = "/adherent/contact/email", field = "email" }, { pointer = "/adherent/numero", field = "n_adherent" }]"#,
        r#"form = { "rib[iban]" = "{{value}}" }"#,
        "values = [\"iban_secours\", \"iban\"]",
        "then_read = [\"/compte/tableau-de-bord\"]",
        "[logout]\nmethod = \"POST\"\npath = \"/compte/deconnexion\"",
        "www.google-analytics.com/g/collect — another host (third party)",
        "/assets/app-3f2a.css — static asset",
        "/ — before the login, and nothing the login sends comes from it",
        &format!("base_url = \"{base}\""),
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    // The NOM column repeats across members: never an identity.
    assert!(!text.contains("\"NOM\""), "{text}");
    // Nothing secret of the recording: no password, no cookie value, no token, no own value.
    let har: serde_json::Value = serde_json::from_str(&recording).unwrap();
    let mut secrets = vec![
        member.password.clone(),
        member.number.clone(),
        member.email.clone(),
        member.spare_iban.clone(),
    ];
    for entry in har["log"]["entries"].as_array().unwrap() {
        for cookie in entry["response"]["cookies"].as_array().unwrap() {
            secrets.push(cookie["value"].as_str().unwrap().to_owned());
        }
    }
    secrets.push(
        recording
            .split("name=\\\"authenticity_token\\\"")
            .next()
            .unwrap()
            .rsplit("value=\\\"")
            .next()
            .unwrap()
            .split('\\')
            .next()
            .unwrap()
            .to_owned(),
    );
    for secret in secrets.iter().filter(|s| s.len() >= 5) {
        assert!(
            !text.contains(secret.as_str()),
            "{secret:?} written in\n{text}"
        );
    }
}

/// crossleak's own demo portal, its population written as `crossleak portal --export` does.
async fn demo_portal(dir: &Path) -> (portal::RunningPortal, PathBuf, Population) {
    let population = Population::generate(&GenerateOptions {
        size: 40,
        seed: 3,
        ..GenerateOptions::default()
    })
    .unwrap();
    let export = dir.join("population.jsonl");
    population
        .write_jsonl(std::fs::File::create(&export).unwrap())
        .unwrap();
    let running = portal::start(
        population.beneficiaries.clone(),
        PortalConfig::default(),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .unwrap();
    (running, export, population)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_form_login_to_the_demo_portal_becomes_its_journey_and_runs_clean() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (running, export, population) = demo_portal(dir.path()).await;
    let base = running.base_url();
    let b = &population.beneficiaries[7];
    let mut browser = Recorder::new(Flavour::Chrome);
    browser
        .go("GET", &format!("{base}/"), Send::Nothing, &[])
        .await;
    browser
        .go(
            "GET",
            &format!("{base}/static/site.css"),
            Send::Nothing,
            &[],
        )
        .await;
    browser
        .go("GET", &format!("{base}/connexion"), Send::Nothing, &[])
        .await;
    noise(&mut browser);
    browser
        .go(
            "POST",
            &format!("{base}/connexion/allocataire"),
            form(&[
                ("numero_allocataire", b.numero_allocataire.as_str()),
                ("mot_de_passe", &b.password),
            ]),
            &[],
        )
        .await;
    browser
        .go(
            "GET",
            &format!("{base}/api/dossier"),
            Send::Nothing,
            &[("Accept", "application/json")],
        )
        .await;
    browser
        .go(
            "GET",
            &format!("{base}/api/paiements"),
            Send::Nothing,
            &[("Accept", "application/json")],
        )
        .await;
    browser
        .go(
            "POST",
            &format!("{base}/mon-compte/rib"),
            form(&[("iban", &b.spare_iban)]),
            &[],
        )
        .await;
    browser
        .go("POST", &format!("{base}/deconnexion"), Send::Nothing, &[])
        .await;
    let har = write(dir.path(), "demo.har", &browser.har());
    let out = dir.path().join("demo.toml");
    let generated = from_har(&FromHar {
        recording: har,
        population: export,
        format: None,
        out: Some(out.clone()),
        base_url: None,
    })
    .unwrap();
    let text = &generated.text;
    for expected in [
        "format = \"crossleak-jsonl\"",
        "session = { cookie = \"crossleak_session\" }",
        r#"form = { numero_allocataire = "{{numero_allocataire}}", mot_de_passe = "{{password}}" }"#,
        "landing_path = \"/mon-compte\"",
        "path = \"/api/dossier\"",
        "{ pointer = \"/numero_allocataire\", field = \"numero_allocataire\" }",
        "path = \"/api/paiements\"",
        "values = [\"spare_iban\", \"iban\"]",
        "then_read = [\"/mon-compte\"]",
        "path = \"/deconnexion\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !text.contains("[population.columns]"),
        "crossleak's own export needs no mapping"
    );
    assert!(!text.contains(&b.password) && !text.contains(b.numero_allocataire.as_str()));
    let scenario = Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
    let result = run::run_scenario(scenario, run_options(&base, dir.path()))
        .await
        .unwrap();
    let summary = &result.summary;
    common::assert_clean(summary);
    assert_eq!(summary.logins.failed, 0);
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_firefox_recording_of_the_nir_login_templates_the_13_characters() {
    let dir = tempfile::tempdir().unwrap();
    let (running, export, population) = demo_portal(dir.path()).await;
    let base = running.base_url();
    let b = &population.beneficiaries[11];
    let mut browser = Recorder::new(Flavour::Firefox);
    browser
        .go("GET", &format!("{base}/connexion"), Send::Nothing, &[])
        .await;
    let nir13 = b.nir.body();
    let landed = browser
        .go(
            "POST",
            &format!("{base}/connexion/nir"),
            form(&[("nir", nir13.as_str()), ("mot_de_passe", &b.password)]),
            &[],
        )
        .await;
    assert!(landed.url.ends_with("/mon-compte"), "{}", landed.url);
    browser
        .go(
            "GET",
            &format!("{base}/api/dossier"),
            Send::Nothing,
            &[("Accept", "application/json")],
        )
        .await;
    let har = write(dir.path(), "nir.har", &browser.har());
    let out = dir.path().join("nir.toml");
    let generated = from_har(&FromHar {
        recording: har,
        population: export,
        format: None,
        out: Some(out.clone()),
        base_url: None,
    })
    .unwrap();
    let text = &generated.text;
    assert!(
        text.contains(r#"form = { nir = "{{nir13}}", mot_de_passe = "{{password}}" }"#),
        "{text}"
    );
    assert!(text.contains("name = \"nir\""), "{text}");
    assert!(
        text.contains("must_show = [\"nir\", \"numero_allocataire\"")
            || text.contains("must_show = [\"numero_allocataire\", \"nir\""),
        "{text}"
    );
    assert!(
        text.contains("GET 127.0.0.1/connexion — before the login"),
        "{text}"
    );
    Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
    running.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bearer_api_with_a_csrf_meta_tag_becomes_a_bearer_session() {
    let dir = tempfile::tempdir().unwrap();
    let base = api::serve().await;
    let (_, login, password, _) = api::CLIENTS[2];
    let mut browser = Recorder::new(Flavour::Chrome);
    let page = browser
        .go("GET", &format!("{base}/auth/form"), Send::Nothing, &[])
        .await;
    let csrf = page
        .body
        .split("content=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let answer = browser
        .go(
            "POST",
            &format!("{base}/auth/session"),
            Send::Json(json!({"user": {"login": login}, "secret": password})),
            &[("X-CSRF", &csrf)],
        )
        .await;
    let token: serde_json::Value = serde_json::from_str(&answer.body).unwrap();
    let token = token["session"]["token"].as_str().unwrap().to_owned();
    let bearer = format!("Bearer {token}");
    browser
        .go(
            "GET",
            &format!("{base}/v2/me"),
            Send::Nothing,
            &[("Authorization", &bearer)],
        )
        .await;
    let spare = api::ibans(2).1;
    browser
        .go(
            "PUT",
            &format!("{base}/v2/me/bank"),
            Send::Json(json!({"iban": spare})),
            &[("Authorization", &bearer)],
        )
        .await;
    let after = browser
        .go(
            "GET",
            &format!("{base}/v2/me"),
            Send::Nothing,
            &[("Authorization", &bearer)],
        )
        .await;
    assert!(after.body.contains(&spare));
    let har = write(dir.path(), "api.har", &browser.har());
    let export = api::write_export(dir.path());
    let out = dir.path().join("api.toml");
    let generated = from_har(&FromHar {
        recording: har,
        population: export,
        format: None,
        out: Some(out.clone()),
        base_url: Some("http://[::1]:9000".into()),
    })
    .unwrap();
    let text = &generated.text;
    for expected in [
        "format = \"jsonl\"",
        "identifiers = { identifiant_web = \"identifiant_web\" }",
        "password = \"mdp\"",
        "household = \"foyer\"",
        r#"session = { bearer = { json_pointer = "/session/token", header = "Authorization", prefix = "Bearer " } }"#,
        r#"extract = [{ name = "x_csrf", css = 'meta[name="csrf"]', attribute = "content" }]"#,
        r#"headers = { X-CSRF = "{{x_csrf}}" }"#,
        r#"json = { secret = "{{password}}", user = { login = "{{identifiant_web}}" } }"#,
        "path = \"/v2/me\"",
        r#"{ pointer = "/client/number", field = "num_client" }"#,
        "method = \"PUT\"\npath = \"/v2/me/bank\"\njson = { iban = \"{{value}}\" }\nvalues = [\"iban_test\", \"iban\"]\nthen_read = [\"/v2/me\"]",
        "base_url = \"http://[::1]:9000\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    assert!(
        !text.contains(&token) && !text.contains(&csrf) && !text.contains(password),
        "{text}"
    );
    Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recording_of_someone_outside_the_export_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let base = api::serve().await;
    let mut browser = Recorder::new(Flavour::Chrome);
    browser
        .go("GET", &format!("{base}/auth/form"), Send::Nothing, &[])
        .await;
    let har = write(dir.path(), "api.har", &browser.har());
    let export = mutuelle::write_export(dir.path());
    let error = from_har(&FromHar {
        recording: har.clone(),
        population: export,
        format: None,
        out: None,
        base_url: None,
    })
    .unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("no request of the recording sends a value of any owner of the export"),
        "{message}"
    );
    assert!(
        message.contains("record a login of an account that is in --population"),
        "{message}"
    );
    let broken = r#"{"log": {"version": "1.2", "entries": [{"request": {"method": "GET", "url": "http://127.0.0.1/"}, "response": {"status": 200}}, {"request": {"method": "GET"}, "response": {"status": 200}}]}}"#;
    let broken = write(dir.path(), "broken.har", broken);
    let message = from_har(&FromHar {
        recording: broken,
        population: dir.path().join("adherents.csv"),
        format: None,
        out: None,
        base_url: None,
    })
    .unwrap_err()
    .to_string();
    assert!(
        message.contains("broken.har:entry 2: not a HAR entry"),
        "{message}"
    );
}

/// A committed recording shaped as Chrome writes an HTTP/2 single-page app: lowercase headers,
/// pseudo-headers (`:authority`, `:path`), a base64 body, a CDN script, a beacon, a logout.
#[test]
fn a_committed_chrome_http2_recording_is_read_and_inferred_offline() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/from_har/fixtures/spa-bearer-h2.har");
    let export = api::write_export(dir.path());
    let out = dir.path().join("spa.toml");
    let generated = from_har(&FromHar {
        recording: fixture,
        population: export,
        format: None,
        out: Some(out.clone()),
        base_url: None,
    })
    .unwrap();
    let text = &generated.text;
    for expected in [
        "the recorded user: line 3 of clients.jsonl",
        r#"session = { bearer = { json_pointer = "/session/token", header = "Authorization", prefix = "Bearer " } }"#,
        r#"headers = { x-csrf = "{{x_csrf}}" }"#,
        r#"{ pointer = "/client/email", field = "courriel" }"#,
        "[logout]\nmethod = \"POST\"\npath = \"/auth/logout\"",
        "entry 2: GET cdn.jsdelivr.net/npm/vue@3/dist/vue.global.prod.js — another host (third party)",
        "entry 5: POST 127.0.0.1/beacon — analytics",
        "base_url = \"http://127.0.0.1:9000\"",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in\n{text}");
    }
    for secret in [
        "c5f1e2d3a4b5c6d7e8f90a1b2c3d4e5f",
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
        "Provisoire-3!",
        "chloe.durand",
    ] {
        assert!(!text.contains(secret), "{secret:?} written in\n{text}");
    }
    Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_without_a_spare_column_becomes_a_commented_suggestion() {
    let dir = tempfile::tempdir().unwrap();
    let base = mutuelle::serve(false).await;
    let member = &mutuelle::members()[2];
    let har = write(
        dir.path(),
        "connexion.har",
        &record_mutuelle(&base, member).await,
    );
    // The same export without its spare IBANs.
    let full = std::fs::read_to_string(mutuelle::write_export(dir.path())).unwrap();
    let without: String = full
        .lines()
        .map(|line| line.rsplit_once(',').unwrap().0.to_owned() + "\n")
        .collect();
    let export = write(dir.path(), "sans-secours.csv", &without);
    let out = dir.path().join("mutuelle.toml");
    let generated = from_har(&FromHar {
        recording: har,
        population: export,
        format: None,
        out: Some(out.clone()),
        base_url: None,
    })
    .unwrap();
    let text = &generated.text;
    assert!(generated.draft.writes.is_empty());
    assert!(text.contains("# entry 13: POST /compte/rib changes iban, but the export holds no spare value of that kind for each owner."), "{text}");
    assert!(text.contains("# [[write]]\n# method = \"POST\"\n# path = \"/compte/rib\"\n# form = { \"rib[iban]\" = \"{{value}}\" }"), "{text}");
    // With no write, the IBAN stays a value the dashboard must show.
    assert!(
        text.contains("must_show = [\"n_adherent\", \"email\", \"telephone\", \"iban\"]"),
        "{text}"
    );
    Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn the_binary_prints_the_scenario_without_out_and_exits_2_on_an_unreadable_entry() {
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/from_har/fixtures/spa-bearer-h2.har");
    let export = api::write_export(dir.path());
    let run = |har: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_crossleak"))
            .args([
                "scenario",
                "from-har",
                har.to_str().unwrap(),
                "--population",
                export.to_str().unwrap(),
                "--format",
                "jsonl",
            ])
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let printed = run(&fixture);
    let stdout = String::from_utf8_lossy(&printed.stdout);
    assert_eq!(
        printed.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    assert!(
        stdout.starts_with(
            "# Generated by `crossleak scenario from-har` from spa-bearer-h2.har (6 entries)."
        ),
        "{stdout}"
    );
    assert!(stdout.contains("file = \"clients.jsonl\""), "{stdout}");
    let broken = write(
        dir.path(),
        "broken.har",
        r#"{"log": {"version": "1.2", "entries": [{"request": {"method": "GET", "url": "http://127.0.0.1/"}, "response": {"status": "OK"}}]}}"#,
    );
    let refused = run(&broken);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("broken.har:entry 1: not a HAR entry"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_shown_on_the_page_names_the_household_column_and_the_run_stays_clean() {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let dir = tempfile::tempdir().unwrap();
    let (running, _, population) = demo_portal(dir.path()).await;
    let base = running.base_url();
    // The staging export in its own words: the household is a "couple" number.
    let mut csv = String::from("numero,nir,courriel,tel,iban,mdp,couple\n");
    for b in &population.beneficiaries {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            b.numero_allocataire.as_str(),
            b.nir.as_str(),
            b.email,
            b.phone,
            b.iban,
            b.password,
            b.household
        ));
    }
    let export = write(dir.path(), "staging.csv", &csv);
    let b = population
        .beneficiaries
        .iter()
        .find(|b| {
            population
                .beneficiaries
                .iter()
                .any(|o| o.id != b.id && o.household == b.household)
        })
        .expect("the population has a household");
    let mut browser = Recorder::new(Flavour::Chrome);
    let landed = browser
        .go(
            "POST",
            &format!("{base}/connexion/allocataire"),
            form(&[
                ("numero_allocataire", b.numero_allocataire.as_str()),
                ("mot_de_passe", &b.password),
            ]),
            &[],
        )
        .await;
    assert!(
        landed.body.contains("Conjoint"),
        "the landing page shows the partner"
    );
    let har = write(dir.path(), "couple.har", &browser.har());
    let out = dir.path().join("couple.toml");
    let generated = from_har(&FromHar {
        recording: har,
        population: export,
        format: None,
        out: Some(out.clone()),
        base_url: None,
    })
    .unwrap();
    let text = &generated.text;
    assert!(text.contains("household = \"couple\""), "{text}");
    assert!(
        text.contains("#   - household = \"couple\": the user's pages show line(s)"),
        "{text}"
    );
    let scenario = Scenario::load(&out).unwrap_or_else(|e| panic!("{e}"));
    let result = run::run_scenario(scenario, run_options(&base, dir.path()))
        .await
        .unwrap();
    let summary = &result.summary;
    common::assert_clean(summary);
    running.shutdown().await;
}
