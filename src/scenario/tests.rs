use super::*;
use crate::oracle::ValueKind;
use std::borrow::Cow;
use std::time::Duration;

/// The smallest scenario that validates; tests append to it or replace parts of it.
const MINIMAL: &str = r#"version = 1

[target]
base_url = "http://127.0.0.1:8080"

[population]
generate = { size = 10 }

[[login_flow]]
name = "legacy"
session = { cookie = "sid" }

[[login_flow.steps]]
method = "POST"
path = "/login"
form = { user = "{{numero_allocataire}}", pass = "{{password}}" }

[login_flow.success]
landing_path = "/home"

[[page]]
path = "/home"
must_show = ["numero_allocataire"]

[[phase]]
name = "only"
duration = "5s"
users = 3
login_flows = { legacy = 1 }
"#;

fn parse(text: &str) -> Result<Scenario, ScenarioErrors> {
    Scenario::parse(text, "scenarios/x.toml")
}

fn errors(text: &str) -> ScenarioErrors {
    match parse(text) {
        Ok(_) => panic!("expected the scenario to be refused:\n{text}"),
        Err(e) => e,
    }
}

/// The only error of `text`, which must have exactly one.
fn only_error(text: &str) -> ScenarioError {
    let all = errors(text);
    assert_eq!(all.len(), 1, "expected one error, got:\n{all}");
    all.errors[0].clone()
}

#[test]
fn a_minimal_scenario_gets_the_documented_defaults() {
    let s = parse(MINIMAL).unwrap();
    assert_eq!(s.name, "x");
    assert_eq!(
        s.target.endpoint,
        Endpoint::Url("http://127.0.0.1:8080".into())
    );
    assert_eq!(s.target.request_timeout, Duration::from_secs(10));
    assert_eq!(s.target.connect_timeout, Duration::from_secs(5));
    assert_eq!(s.target.proxy, ProxySetting::Environment);
    assert_eq!(s.target.tls, Tls::default());
    let flow = &s.login_flows[0];
    assert_eq!(flow.on_expired, OnExpired::LoginAgain);
    assert_eq!(flow.expired_when.status, [401]);
    assert_eq!(flow.session, SessionCarrier::Cookie { name: "sid".into() });
    assert_eq!(s.pages[0].name, "GET /home");
    assert_eq!(s.pages[0].request.method, Method::Get);
    assert_eq!(s.load.increase_rate, 10.0);
    assert_eq!(s.load.crowd, None);
    assert_eq!(s.thresholds, Thresholds::default());
    assert_eq!(s.phases[0].users, 3);
    assert_eq!(s.duration(), Duration::from_secs(5));
    match &s.population {
        PopulationSource::Generated(g) => {
            assert_eq!((g.size, g.seed, g.provisional_share), (10, 0, 0.5))
        }
        other => panic!("{other:?}"),
    }
}

/// MINIMAL with `keys` added to its `[target]`.
fn with_target(keys: &str) -> String {
    MINIMAL.replace(
        "base_url = \"http://127.0.0.1:8080\"\n",
        &format!("base_url = \"http://127.0.0.1:8080\"\n{keys}\n"),
    )
}

#[test]
fn client_cert_and_client_key_give_a_client_identity_and_one_alone_is_refused_at_its_line() {
    let both = with_target("[target.tls]\nclient_cert = \"c.pem\"\nclient_key = \"c.key\"");
    let auth = parse(&both).unwrap().target.tls.client_auth.unwrap();
    assert_eq!(
        (auth.cert.file_name(), auth.key.file_name()),
        (Some("c.pem".as_ref()), Some("c.key".as_ref()))
    );
    let alone = with_target("[target.tls]\nclient_key = \"c.key\"");
    let error = only_error(&alone);
    assert_eq!(error.kind(), ErrorKind::MissingKey);
    assert_eq!(error.line(), Some(6));
    assert!(error
        .to_string()
        .contains("client_cert and client_key go together"));
}

#[test]
fn proxy_is_none_or_an_http_url_and_a_remote_one_needs_allow_remote() {
    let target = |proxy: &str| parse(&with_target(&format!("proxy = {proxy:?}")));
    assert_eq!(target("none").unwrap().target.proxy, ProxySetting::Off);
    assert_eq!(
        target("http://127.0.0.1:3128").unwrap().target.proxy,
        ProxySetting::Through(url::Url::parse("http://127.0.0.1:3128").unwrap())
    );
    for (bad, kind) in [
        ("socks5://127.0.0.1:1080", ErrorKind::InvalidValue),
        ("http://127.0.0.1:3128/path", ErrorKind::InvalidValue),
        ("http://proxy.example.org:3128", ErrorKind::RemoteTarget),
    ] {
        let error = only_error(&with_target(&format!("proxy = {bad:?}")));
        assert_eq!(
            (error.kind(), error.line()),
            (kind, Some(5)),
            "{bad}: {error}"
        );
    }
    let opted_in = with_target("allow_remote = true\nproxy = \"http://proxy.example.org:3128\"");
    assert!(parse(&opted_in).is_ok());
}

#[test]
fn http_is_auto_unless_set_to_1_1_or_2_and_anything_else_is_refused_at_its_line() {
    let http = |value: &str| parse(&with_target(&format!("http = {value:?}")));
    assert_eq!(parse(MINIMAL).unwrap().target.http, HttpVersion::Auto);
    assert_eq!(http("auto").unwrap().target.http, HttpVersion::Auto);
    assert_eq!(http("1.1").unwrap().target.http, HttpVersion::Http1);
    assert_eq!(http("2").unwrap().target.http, HttpVersion::Http2);
    let error = only_error(&with_target("http = \"h3\""));
    assert_eq!(
        (error.kind(), error.line()),
        (ErrorKind::InvalidValue, Some(5))
    );
    assert!(error.to_string().contains("\"1.1\" or \"2\""), "{error}");
}

#[test]
fn errors_read_file_line_column_message_and_fix() {
    let text = MINIMAL.to_owned() + "\n[load]\n    uesrs = 3\n";
    let line = text.lines().count();
    let error = only_error(&text);
    assert_eq!(
        error.to_string(),
        format!(
            "scenarios/x.toml:{line}:5: unknown key \"uesrs\" in [load]; did you mean \"users\"?"
        )
    );
    assert_eq!(error.kind(), ErrorKind::UnknownKey);
    assert_eq!(error.line(), Some(line));
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = r#"version = 2
[target]
base_url = "http://10.0.0.1"
[population]
generate = { size = 0 }
[[login_flow]]
name = "legacy"
session = { cookie = "sid" }
[[login_flow.steps]]
method = "POST"
path = "/login"
form = { user = "{{numero_alocataire}}" }
[login_flow.success]
landing_path = "/home"
[[page]]
path = 3
[load]
uesrs = 3
[[phase]]
name = "p"
duration = "0s"
users = 2
login_flows = { legacy = 1 }
[thresholds]
latency = ["p95x < 1s"]
"#;
    let all = errors(text);
    let kinds: Vec<ErrorKind> = all.iter().map(ScenarioError::kind).collect();
    assert_eq!(
        kinds,
        [
            ErrorKind::Version,
            ErrorKind::RemoteTarget,
            ErrorKind::InvalidValue,
            ErrorKind::WrongType,
            ErrorKind::UnknownKey,
            ErrorKind::EmptyPhase,
            ErrorKind::UnknownMetric,
        ],
        "{all}"
    );
    let lines: Vec<usize> = all.iter().filter_map(ScenarioError::line).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{lines:?}");
    assert!(all
        .to_string()
        .ends_with("7 problems in the scenario; nothing was sent"));
}

#[test]
fn a_broken_population_does_not_cascade_into_unknown_variables() {
    let text = MINIMAL.replace("generate = { size = 10 }", "generate = { size = \"ten\" }");
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::WrongType);
}

#[test]
fn a_template_variable_the_population_lacks_lists_the_available_ones() {
    let text = MINIMAL.replace("{{numero_allocataire}}", "{{numero_alocataire}}");
    let error = only_error(&text).to_string();
    assert!(error.contains("scenarios/x.toml:16:"), "{error}");
    assert!(
        error.contains("did you mean \"numero_allocataire\"?"),
        "{error}"
    );
    assert!(error.contains("\"nir13\""), "{error}");
}

#[test]
fn a_csrf_token_then_a_bearer_session_validate_and_extract() {
    let text = MINIMAL.replace(
        r#"session = { cookie = "sid" }

[[login_flow.steps]]
method = "POST"
path = "/login"
form = { user = "{{numero_allocataire}}", pass = "{{password}}" }
"#,
        r#"session = { bearer = { json_pointer = "/access_token" } }

[[login_flow.steps]]
path = "/login"
extract = [{ name = "csrf", regex = 'name="csrf" value="([^"]+)"' }]

[[login_flow.steps]]
method = "post"
path = "/api/login"
headers = { "X-CSRF-Token" = "{{csrf}}" }
json = { login = "{{email}}", secret = "{{password}}", remember = true }
"#,
    );
    let s = parse(&text).unwrap();
    let flow = &s.login_flows[0];
    assert_eq!(
        flow.session,
        SessionCarrier::Bearer {
            json_pointer: "/access_token".into(),
            header: "Authorization".into(),
            prefix: "Bearer ".into(),
        }
    );
    let extraction = &flow.steps[0].extract[0];
    assert_eq!(extraction.from, ExtractFrom::Body);
    let html = r#"<form><input type="hidden" name="csrf" value="t0k3n"></form>"#;
    assert_eq!(extraction.pattern.extract(html).as_deref(), Some("t0k3n"));
    let values = |name: &str| -> Option<Cow<'static, str>> {
        match name {
            "csrf" => Some("t0k3n".into()),
            "email" => Some("a@x.test".into()),
            "password" => Some("pw".into()),
            _ => None,
        }
    };
    let rendered = flow.steps[1].request.render(&values).unwrap();
    assert_eq!(rendered.method, Method::Post);
    assert_eq!(
        rendered.headers,
        [("X-CSRF-Token".to_owned(), "t0k3n".to_owned())]
    );
    assert_eq!(
        rendered.body,
        Some(RenderedBody::Json(serde_json::json!({
            "login": "a@x.test", "secret": "pw", "remember": true
        })))
    );
    let pointer = Pattern::JsonPointer("/access_token".into());
    assert_eq!(
        pointer.extract(r#"{"access_token": "abc"}"#).as_deref(),
        Some("abc")
    );
}

#[test]
fn an_extracted_value_is_unknown_before_its_step() {
    let text = MINIMAL.replace(
        r#"form = { user = "{{numero_allocataire}}", pass = "{{password}}" }"#,
        r#"form = { user = "{{numero_allocataire}}", pass = "{{password}}", csrf = "{{csrf}}" }
extract = [{ name = "csrf", regex = 'csrf=(\w+)' }]"#,
    );
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::UnknownVariable);
    assert!(error.to_string().contains("{{csrf}}"), "{error}");
}

fn with_extract(extract: &str) -> String {
    MINIMAL.replace(
        r#"path = "/login"
form"#,
        &format!(
            r#"path = "/login"
extract = [{extract}]
form"#
        ),
    )
}

#[test]
fn a_css_selector_takes_an_attribute_or_the_text_of_the_first_match() {
    let s = parse(&with_extract(
        r#"{ name = "csrf", css = 'input[name="_csrf"]', attribute = "value" }, { name = "title", css = "form > h1.title" }"#,
    ))
    .unwrap();
    let extract = &s.login_flows[0].steps[0].extract;
    let page = r#"<!doctype html><html><body><form>
        <h1 class="title">  Connexion  </h1>
        <input type="hidden" name="_csrf" value="t0k3n-1">
        <input type="hidden" name="_csrf" value="second">
        </form></body></html>"#;
    assert_eq!(extract[0].pattern.extract(page).as_deref(), Some("t0k3n-1"));
    assert_eq!(
        extract[1].pattern.extract(page).as_deref(),
        Some("Connexion")
    );
    // No match, no such attribute, or empty text: no value (the login then fails, counted).
    assert_eq!(extract[0].pattern.extract("<p>maintenance</p>"), None);
    assert_eq!(extract[0].pattern.extract(r#"<input name="_csrf">"#), None);
    assert_eq!(
        extract[1]
            .pattern
            .extract("<form><h1 class=title> </h1></form>"),
        None
    );
    // Not HTML at all: the parser recovers and finds nothing.
    assert_eq!(extract[0].pattern.extract("{\"csrf\": \"x\"}"), None);
}

#[test]
fn a_css_selector_reads_meta_tags_in_the_head() {
    let pattern = CssPattern::parse("meta[name=csrf]", Some("content".into())).unwrap();
    let page = r#"<html><head><meta name="csrf" content="abc123"></head><body></body></html>"#;
    assert_eq!(pattern.extract(page).as_deref(), Some("abc123"));
}

#[test]
fn a_css_selector_that_does_not_parse_is_refused_with_an_example() {
    let error = only_error(&with_extract(
        r#"{ name = "csrf", css = "input[name=csrf]]", attribute = "value" }"#,
    ));
    assert_eq!(error.kind(), ErrorKind::InvalidValue);
    assert!(error.to_string().contains("does not parse"), "{error}");
    assert!(error.help().contains("input[name="), "{error}");
}

#[test]
fn css_goes_alone_on_a_body_and_attribute_goes_with_css() {
    for (extract, fragment) in [
        (
            r#"{ name = "csrf", css = "input", regex = 'x' }"#,
            "both css and",
        ),
        (
            r#"{ name = "csrf", from = "header:X-Csrf", css = "input" }"#,
            "header",
        ),
        (
            r#"{ name = "csrf", regex = 'x', attribute = "value" }"#,
            "no CSS selector",
        ),
        (
            r#"{ name = "csrf", css = "input", attribute = " " }"#,
            "empty attribute",
        ),
    ] {
        let error = only_error(&with_extract(extract));
        assert!(error.to_string().contains(fragment), "{extract}: {error}");
    }
}

#[test]
fn users_are_spread_over_the_login_mix_by_weight() {
    let text = MINIMAL.replace(
        "login_flows = { legacy = 1 }",
        "login_flows = { legacy = 0.7, nir = 0.3 }",
    ) + r#"
[[login_flow]]
name = "nir"
session = { cookie = "sid" }
steps = [{ method = "POST", path = "/login/nir", form = { nir = "{{nir13}}", pass = "{{password}}" } }]
success = { status = 200 }
"#;
    let s = parse(&text).unwrap();
    let phase = &s.phases[0];
    assert_eq!(
        phase.login_mix,
        [("legacy".to_owned(), 0.7), ("nir".to_owned(), 0.3)]
    );
    assert!((phase.share_of("nir") - 0.3).abs() < 1e-9);
    let nir = (0..1000).filter(|n| phase.flow_for(*n) == "nir").count();
    assert!((280..=320).contains(&nir), "{nir}");
    assert_eq!(s.login_flow("nir").unwrap().success.status, [200]);
}

#[test]
fn a_remote_host_passes_with_the_opt_in_and_its_allowed_host() {
    let remote = MINIMAL.replace(
        "base_url = \"http://127.0.0.1:8080\"",
        "base_url = \"https://staging.example.org/\"\nallow_remote = true\nallowed_hosts = [\"staging.example.org\"]",
    );
    let s = parse(&remote).unwrap();
    assert_eq!(
        s.target.endpoint,
        Endpoint::Url("https://staging.example.org".into())
    );
    let unlisted = remote.replace("allowed_hosts = [\"staging.example.org\"]", "");
    let error = only_error(&unlisted);
    assert_eq!(error.kind(), ErrorKind::RemoteTarget);
    assert!(
        error
            .help()
            .contains("allowed_hosts = [\"staging.example.org\"]"),
        "{error}"
    );
    for loopback in [
        "http://localhost:3000",
        "http://[::1]:80",
        "http://127.9.9.9",
    ] {
        let text = MINIMAL.replace("http://127.0.0.1:8080", loopback);
        assert!(parse(&text).is_ok(), "{loopback}");
    }
}

#[test]
fn a_section_written_as_a_single_table_says_to_double_the_brackets() {
    let text = MINIMAL.replace("[[page]]", "[page]");
    let error = only_error(&text);
    assert!(error.help().contains("[[page]]"), "{error}");
}

#[test]
fn unknown_keys_in_inline_tables_name_their_table() {
    let text = MINIMAL.to_owned() + "\n[load]\ncrowd = { size = 8, stpe = \"login\" }\n";
    let error = only_error(&text).to_string();
    assert!(
        error.contains("unknown key \"stpe\" in [load.crowd]; did you mean \"step\"?"),
        "{error}"
    );
}

#[test]
fn replay_takes_a_share_and_identities_and_defaults_to_both() {
    let with = |table: &str| MINIMAL.to_owned() + "\n[load]\nreplay = " + table + "\n";
    let s = parse(&with(r#"{ share = 0.1, as = ["anonymous"] }"#)).unwrap();
    assert_eq!(
        s.load.replay,
        Some(Replay {
            share: 0.1,
            identities: vec![ReplayIdentity::Anonymous]
        })
    );
    let s = parse(&with("{}")).unwrap();
    assert_eq!(
        s.load.replay,
        Some(Replay {
            share: 0.05,
            identities: vec![ReplayIdentity::OtherUser, ReplayIdentity::Anonymous]
        })
    );
    assert_eq!(parse(MINIMAL).unwrap().load.replay, None);
}

#[test]
fn a_bad_replay_value_is_refused_at_its_line() {
    let text = MINIMAL.to_owned() + "\n[load]\nreplay = { share = 0.05, as = [\"admin\"] }\n";
    let line = text.lines().count();
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::InvalidValue);
    assert_eq!(error.line(), Some(line));
    assert!(error.to_string().contains("\"admin\""), "{error}");
    assert!(error.help().contains("other_user"), "{error}");
    let share = only_error(&text.replace("0.05, as = [\"admin\"]", "1.5"));
    assert!(share.to_string().contains("replay.share is 1.5"), "{share}");
    assert_eq!(share.line(), Some(line));
    let empty = only_error(&text.replace("[\"admin\"]", "[]"));
    assert!(empty.to_string().contains("replay.as is empty"), "{empty}");
    let unknown = only_error(&text.replace("as =", "ass ="));
    assert_eq!(unknown.kind(), ErrorKind::UnknownKey);
}

#[test]
fn a_crowd_on_a_page_must_name_a_page() {
    let ok = MINIMAL.to_owned() + "\n[load]\ncrowd = { size = 8, step = \"page:/home\" }\n";
    let s = parse(&ok).unwrap();
    assert_eq!(
        s.load.crowd.unwrap().step,
        CrowdStep::Page {
            index: 0,
            path: "/home".into()
        }
    );
    let error = only_error(&ok.replace("page:/home", "page:/hom"));
    assert_eq!(error.kind(), ErrorKind::UnknownPage);
    assert!(error.help().contains("did you mean \"/home\"?"), "{error}");
}

#[test]
fn a_write_must_send_its_value_and_write_a_watched_one() {
    let write = r#"
[[write]]
method = "POST"
path = "/rib"
form = { iban = "{{value}}" }
values = ["spare_iban", "iban"]
then_read = ["/home"]
"#;
    let s = parse(&(MINIMAL.to_owned() + write)).unwrap();
    assert_eq!(
        s.writes[0].values[0],
        WrittenValue {
            variable: "spare_iban".into(),
            field: "written_iban".into()
        }
    );
    let no_value = MINIMAL.to_owned() + &write.replace("{{value}}", "{{spare_iban}}");
    assert!(only_error(&no_value).help().contains("{{value}}"));
    let unwatched = MINIMAL.to_owned() + &write.replace("\"spare_iban\", ", "\"city\", ");
    assert_eq!(only_error(&unwatched).kind(), ErrorKind::UnknownVariable);
}

#[test]
fn at_start_requests_have_no_user_but_may_read_the_environment() {
    let action = r#"
[[phase.at_start]]
method = "POST"
path = "/admin/switch"
headers = { "X-Admin-Token" = "{{env:CROSSLEAK_TEST_ADMIN_TOKEN_UNSET}}" }
form = { who = "{{numero_allocataire}}" }
"#;
    let error = only_error(&(MINIMAL.to_owned() + action));
    assert_eq!(error.kind(), ErrorKind::UnknownVariable);
    assert!(error.help().contains("not per user"), "{error}");
    let fine = MINIMAL.to_owned() + &action.replace("{{numero_allocataire}}", "on");
    let s = parse(&fine).unwrap();
    assert_eq!(
        s.phases[0].at_start[0].request.headers[0]
            .1
            .env_vars()
            .count(),
        1
    );
}

#[test]
fn password_changes_need_the_new_password_and_only_they_have_it() {
    let changes = r#"
[phase.password_changes]
share = 0.5
method = "POST"
path = "/password"
form = { old = "{{password}}", new = "{{new_password}}" }
success = { landing_path = "/home" }
"#;
    let s = parse(&(MINIMAL.to_owned() + changes)).unwrap();
    assert_eq!(s.phases[0].password_changes.as_ref().unwrap().share, 0.5);
    let elsewhere = MINIMAL.replace("{{password}}", "{{new_password}}");
    let error = only_error(&elsewhere);
    assert!(error.help().contains("password_changes only"), "{error}");
}

#[test]
fn thresholds_map_onto_goose_rules() {
    let text = MINIMAL.to_owned()
        + "\n[thresholds]\nmax_error_rate = 0.01\nlatency = [\"p95 < 500ms\", \"max <= 2s for GET /home\"]\n";
    let s = parse(&text).unwrap();
    assert_eq!(
        s.thresholds.goose_rules(),
        ["p95<500ms", "max<=2000ms for GET /home", "error-rate<=1%"]
    );
}

#[test]
fn a_mapped_export_is_checked_against_its_header_on_load() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("export.csv"),
        "num_client,mdp,courriel,foyer\nC-1000001,pw-a,a@x.test,F1\nC-1000002,pw-b,b@x.test,F1\n",
    )
    .unwrap();
    let population = r#"[population]
file = "export.csv"
format = "csv"

[population.columns]
identifiers = { client = "num_client" }
password = "mdp"
watch = { email = "courriel" }
household = "foyer"
"#;
    let text = MINIMAL
        .replace("[population]\ngenerate = { size = 10 }\n", population)
        .replace("{{numero_allocataire}}", "{{client}}")
        .replace(
            "must_show = [\"numero_allocataire\"]",
            "must_show = [\"client\", \"email\"]",
        );
    let path = dir.path().join("portal.toml");
    std::fs::write(&path, &text).unwrap();
    let s = Scenario::load(&path).unwrap();
    assert_eq!(s.pages[0].must_show, ["client", "email"]);
    let LoadedPopulation::Watched(owners) = s.population.read().unwrap() else {
        panic!("a mapped export reads as watched owners");
    };
    assert_eq!(owners.fields, ["client", "email"]);
    assert_eq!(owners.owners[1].household, 0);
    assert_eq!(owners.owners[1].value("client"), Some("C-1000002"));

    std::fs::write(&path, text.replace("\"courriel\"", "\"courriels\"")).unwrap();
    let error = Scenario::load(&path).unwrap_err();
    let message = error.to_string();
    assert!(message.contains("portal.toml:13:"), "{message}");
    assert!(message.contains("did you mean \"courriel\"?"), "{message}");

    // A variable the mapping does not provide lists the ones it does.
    std::fs::write(&path, text.replace("{{client}}", "{{nir}}")).unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(message.contains("{{nir}}"), "{message}");
    assert!(
        message.contains("\"client\", \"email\" or \"password\""),
        "{message}"
    );
}

#[test]
fn a_column_declares_its_kind_or_has_it_inferred_and_bad_kinds_are_located() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("export.csv"),
        "num_client,mdp,tel,rib\nC-1000001,pw-a,06 39 98 05 96,FR7630006000011234567890189\nC-1000002,pw-b,0639980597,x\n",
    )
    .unwrap();
    let population = r#"[population]
file = "export.csv"
format = "csv"

[population.columns]
identifiers = { client = "num_client" }
password = "mdp"
watch = { phone = "tel", rib = { column = "rib", kind = "text" } }
"#;
    let text = MINIMAL
        .replace("[population]\ngenerate = { size = 10 }\n", population)
        .replace("{{numero_allocataire}}", "{{client}}")
        .replace(
            "must_show = [\"numero_allocataire\"]",
            "must_show = [\"client\"]",
        );
    let path = dir.path().join("portal.toml");
    std::fs::write(&path, &text).unwrap();
    let LoadedPopulation::Watched(owners) =
        Scenario::load(&path).unwrap().population.read().unwrap()
    else {
        panic!("a mapped export reads as watched owners");
    };
    let kinds: Vec<(ValueKind, bool)> = owners.kinds.iter().map(|k| (k.kind, k.inferred)).collect();
    assert_eq!(
        kinds,
        [
            (ValueKind::Text, true),
            (ValueKind::PhoneFr, true),
            (ValueKind::Text, false)
        ]
    );

    // A kind the values do not have: the export's line, and the way out.
    std::fs::write(&path, text.replace("kind = \"text\"", "kind = \"iban\"")).unwrap();
    let error = Scenario::load(&path)
        .unwrap()
        .population
        .read()
        .unwrap_err();
    assert_eq!(error.line(), Some(3), "{error}");
    assert!(error.to_string().contains("kind = \"text\""), "{error}");

    // An unknown kind, or key, is an error at its line with the fix.
    std::fs::write(&path, text.replace("kind = \"text\"", "kind = \"ibann\"")).unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(message.contains("portal.toml:13:"), "{message}");
    assert!(message.contains("did you mean \"iban\"?"), "{message}");
    std::fs::write(&path, text.replace("kind = \"text\"", "kinds = \"text\"")).unwrap();
    let message = Scenario::load(&path).unwrap_err().to_string();
    assert!(message.contains("portal.toml:13:"), "{message}");
    assert!(message.contains("\"column\" and \"kind\""), "{message}");
}

#[test]
fn parse_touches_no_file_but_load_does() {
    let text = MINIMAL.replace(
        "generate = { size = 10 }",
        "file = \"missing.jsonl\"\nformat = \"crossleak-jsonl\"",
    );
    assert!(Scenario::parse(&text, "nowhere/x.toml").is_ok());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.toml");
    std::fs::write(&path, &text).unwrap();
    let error = Scenario::load(&path).unwrap_err();
    assert_eq!(error.errors[0].kind(), ErrorKind::File);
    let missing = Scenario::load(dir.path().join("absent.toml")).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("cannot read the scenario file"),
        "{missing}"
    );
}

#[test]
fn syntax_errors_are_located() {
    let error = only_error("version = 1\n[target\n");
    assert_eq!(error.kind(), ErrorKind::Syntax);
    assert_eq!(error.line(), Some(2));
}

/// MINIMAL with a second flow, `token`, and `extra` appended.
fn two_flows(extra: &str) -> String {
    MINIMAL.replace(
        "login_flows = { legacy = 1 }",
        "login_flows = { legacy = 1, token = 1 }",
    ) + r#"
[[login_flow]]
name = "token"
session = { bearer = { json_pointer = "/token" } }

[[login_flow.steps]]
method = "POST"
path = "/api/token"
json = { user = "{{numero_allocataire}}", pass = "{{password}}" }

[login_flow.success]
status = 200
"# + extra
}

#[test]
fn a_page_limited_to_some_flows_names_declared_flows() {
    let s = parse(&two_flows(
        "\n[[page]]\npath = \"/api/me\"\nflows = [\"token\"]\n",
    ))
    .unwrap();
    assert!(s.pages[0].flows.is_empty());
    assert!(s.pages[0].read_by("legacy") && s.pages[0].read_by("token"));
    assert_eq!(s.pages[1].flows, ["token"]);
    assert!(s.pages[1].read_by("token") && !s.pages[1].read_by("legacy"));
    let text = two_flows("\n[[page]]\npath = \"/api/me\"\nflows = [\"tokn\"]\n");
    let line = text.lines().count();
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::UnknownLoginFlow);
    assert_eq!(error.line(), Some(line));
    assert!(
        error.to_string().contains("did you mean \"token\""),
        "{error}"
    );
    let empty = only_error(&two_flows("\n[[page]]\npath = \"/api/me\"\nflows = []\n"));
    assert_eq!(empty.kind(), ErrorKind::InvalidValue);
}

#[test]
fn a_logout_may_send_what_every_login_flow_extracted_and_extract_its_own() {
    let extracting = with_extract(r#"{ name = "csrf", regex = 'csrf=(\w+)' }"#);
    let one = parse(&format!(
        "{extracting}\n[logout]\nmethod = \"POST\"\npath = \"/logout\"\nform = {{ csrfmiddlewaretoken = \"{{{{csrf}}}}\" }}\n"
    ))
    .unwrap();
    let logout = one.logout.unwrap();
    assert_eq!(logout.steps.len(), 1);
    assert_eq!(logout.steps[0].request.method, Method::Post);
    let steps = parse(&format!(
        "{MINIMAL}\n[[logout.steps]]\npath = \"/profile\"\nextract = [{{ name = \"token\", css = 'input[name=\"csrfmiddlewaretoken\"]', attribute = \"value\" }}]\n\n[[logout.steps]]\nmethod = \"POST\"\npath = \"/logout\"\nform = {{ csrfmiddlewaretoken = \"{{{{token}}}}\" }}\n"
    ))
    .unwrap();
    let logout = steps.logout.unwrap();
    assert_eq!(logout.steps.len(), 2);
    assert_eq!(logout.steps[0].extract[0].name, "token");
    // A typo is a file:line error naming what there is.
    let text = format!(
        "{extracting}\n[logout]\nmethod = \"POST\"\npath = \"/logout\"\nform = {{ csrfmiddlewaretoken = \"{{{{csrff}}}}\" }}\n"
    );
    let line = text.lines().count();
    let error = only_error(&text);
    assert_eq!(error.kind(), ErrorKind::UnknownVariable);
    assert_eq!(error.line(), Some(line));
    assert!(error.to_string().contains("{{csrff}}"), "{error}");
    assert!(error.to_string().contains("csrf"), "{error}");
    // A value only one of two flows extracts is not there for the other flow's users.
    let text = two_flows(
        "\n[logout]\nmethod = \"POST\"\npath = \"/logout\"\nform = { t = \"{{csrf}}\" }\n",
    )
    .replace(
        r#"path = "/login"
form"#,
        r#"path = "/login"
extract = [{ name = "csrf", regex = 'csrf=(\w+)' }]
form"#,
    );
    assert_eq!(only_error(&text).kind(), ErrorKind::UnknownVariable);
    // One request or steps, not both.
    let both = only_error(&format!(
        "{MINIMAL}\n[logout]\npath = \"/logout\"\n\n[[logout.steps]]\npath = \"/profile\"\n"
    ));
    assert_eq!(both.kind(), ErrorKind::Conflict);
}

#[test]
fn the_readme_documents_every_key() {
    let readme = include_str!("../../scenarios/README.md");
    let keys = [
        "version",
        "name",
        "description",
        "base_url",
        "embedded",
        "faults",
        "nir_login",
        "allowed_hosts",
        "allow_remote",
        "request_timeout",
        "connect_timeout",
        "proxy",
        "http",
        "accept_invalid_certs",
        "ca_file",
        "client_cert",
        "client_key",
        "generate",
        "size",
        "seed",
        "household_share",
        "provisional_share",
        "file",
        "format",
        "identifiers",
        "password",
        "watch",
        "column",
        "kind",
        "household",
        "steps",
        "method",
        "path",
        "headers",
        "form",
        "json",
        "extract",
        "from",
        "regex",
        "json_pointer",
        "success",
        "status",
        "landing_path",
        "body_contains",
        "must_show",
        "session",
        "cookie",
        "bearer",
        "header",
        "prefix",
        "on_expired",
        "expired_when",
        "json_equals",
        "flows",
        "pointer",
        "field",
        "values",
        "then_read",
        "duration",
        "users",
        "login_flows",
        "at_start",
        "expect_status",
        "password_changes",
        "share",
        "increase_rate",
        "think_time",
        "max_requests_per_second",
        "crowd",
        "step",
        "max_wait",
        "cancel_share",
        "cancel_after",
        "observers",
        "cache_probes",
        "session_replay",
        "replay",
        "as",
        "max_error_rate",
        "latency",
        "fail_on_cache_warnings",
    ];
    for key in keys {
        assert!(
            readme.contains(&format!("`{key}`")) || readme.contains(&format!("{key} = ")),
            "scenarios/README.md does not document {key:?}"
        );
        assert!(
            validate::example(&[], key).is_some(),
            "no example for {key:?} in the error messages"
        );
    }
}

mod never_panics {
    use super::*;
    use proptest::prelude::*;

    const SHIPPED: &str = include_str!("../../scenarios/caf-2021-nir-migration.toml");
    const TOKENS: [&str; 16] = [
        "",
        "\"",
        "'",
        "[",
        "]]",
        "{",
        "}",
        "=",
        "\n",
        "0",
        "-1",
        "1e400",
        "{{",
        "}}",
        "é",
        "[[phase]]\n",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        /// Any edit of a valid scenario gives a scenario or located errors, never a panic.
        #[test]
        fn any_edit_of_a_scenario_is_judged_without_panicking(
            at in 0usize..4000,
            cut in 0usize..40,
            token in 0usize..16,
            base in prop::bool::ANY,
        ) {
            let text = if base { SHIPPED } else { MINIMAL };
            let mut start = at % text.len();
            while !text.is_char_boundary(start) { start -= 1; }
            let mut end = (start + cut).min(text.len());
            while !text.is_char_boundary(end) { end -= 1; }
            let edited = format!("{}{}{}", &text[..start], TOKENS[token], &text[end..]);
            if let Err(errors) = Scenario::parse(&edited, "fuzz.toml") {
                prop_assert!(!errors.is_empty());
                for error in errors.iter() {
                    prop_assert!(!error.help().is_empty(), "{error}");
                }
            }
        }
    }
}

#[test]
fn a_phase_whose_users_cannot_all_start_within_its_duration_is_refused_at_its_duration() {
    // 30 users and 2 observers at 4 per second take 8 s to start: longer than the 5 s phase.
    let text =
        MINIMAL.replace("users = 3", "users = 30") + "\n[load]\nincrease_rate = 4\nobservers = 2\n";
    let error = only_error(&text);
    let line = text
        .lines()
        .position(|l| l.starts_with("duration = "))
        .unwrap()
        + 1;
    assert_eq!(error.line(), Some(line));
    let message = error.to_string();
    assert!(
        message.contains("its 30 user(s) and 2 observer(s) take 8.0 s to start at increase_rate 4, longer than its duration of 5.0 s"),
        "{message}"
    );
    assert!(
        message.contains("raise increase_rate to at least 7 or the duration to at least 8 s"),
        "{message}"
    );
    // Exactly the duration is enough: the ramp is part of it.
    let fits = MINIMAL.replace("users = 3", "users = 20") + "\n[load]\nincrease_rate = 4\n";
    assert_eq!(
        parse(&fits).unwrap().phases[0].duration,
        Duration::from_secs(5)
    );
}
