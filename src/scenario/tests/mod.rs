//! Scenario validation, whole: defaults, error wording and order, the README's key list, and
//! inputs that must never panic. One file per section beside this one.

mod flows;
mod load;
mod population;
mod target;

use super::*;
use crate::oracle::ValueKind;
use crate::population::LoadedPopulation;
use std::borrow::Cow;
use std::time::Duration;

/// The smallest scenario that validates; tests append to it or replace parts of it (the
/// integration tests share the same file).
pub(super) const MINIMAL: &str = include_str!("../../../tests/common/minimal.toml");

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
    assert_eq!(s.target.timeouts.request, Duration::from_secs(10));
    assert_eq!(s.target.timeouts.connect, Duration::from_secs(5));
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

#[test]
fn the_readme_documents_every_key() {
    let readme = include_str!("../../../scenarios/README.md");
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

    const SHIPPED: &str = include_str!("../../../scenarios/caf-2021-nir-migration.toml");
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
