//! `[load]` behaviours, `[[phase]]` login mixes and actions, and `[thresholds]`.

use super::*;

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
