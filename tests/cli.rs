//! The binary as a user runs it: exit codes and messages of `crossleak demo` and `crossleak portal`.

use std::process::Command;

fn crossleak(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args(args)
        .output()
        .expect("the crossleak binary runs")
}

#[test]
fn demo_with_the_shared_cache_fault_exits_1_and_says_so() {
    let reports = tempfile::tempdir().unwrap();
    let out = crossleak(&[
        "demo",
        "--fault",
        "shared-cache",
        "--users",
        "30",
        "--duration",
        "2s",
        "--quiet",
        "--report-dir",
        reports.path().to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("RESULT: VIOLATIONS"), "{stdout}");
    assert!(stdout.contains("affected accounts"), "{stdout}");
    let runs: Vec<_> = std::fs::read_dir(reports.path()).unwrap().collect();
    assert_eq!(runs.len(), 1, "one run folder");
}

#[test]
fn an_unknown_fault_is_a_usage_error_listing_the_valid_names() {
    let out = crossleak(&["demo", "--fault", "no-such-fault"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("shared-cache"), "{stderr}");
}

#[test]
fn fewer_beneficiaries_than_users_is_a_usage_error() {
    let out = crossleak(&["demo", "--users", "50", "--population", "10", "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--population"), "{stderr}");
}

#[test]
fn list_faults_names_each_mechanism_and_incident() {
    let out = crossleak(&["portal", "--list-faults"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout.contains("shared-cache"), "{stdout}");
    assert!(stdout.contains("Steam"), "{stdout}");
}

#[test]
fn a_non_loopback_target_is_refused_before_anything_is_sent() {
    let reports = tempfile::tempdir().unwrap();
    let scenario = concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml");
    // Nothing listens there and nothing may be sent: the refusal comes from the URL text alone.
    let out = crossleak(&[
        "run",
        scenario,
        "--target",
        "http://10.255.0.1:8080",
        "--report-dir",
        reports.path().to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a loopback address"), "{stderr}");
    assert!(stderr.contains("--allow-remote"), "{stderr}");
    assert_eq!(
        std::fs::read_dir(reports.path()).unwrap().count(),
        0,
        "a run folder was made"
    );
}

#[test]
fn check_names_the_file_line_and_fix_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml"))
        .unwrap()
        .replace("increase_rate = 150", "increase_rat = 150");
    std::fs::write(&path, text).unwrap();
    let out = crossleak(&["check", path.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("typo.toml:"), "{stderr}");
    assert!(stderr.contains("increase_rate"), "{stderr}");
    let ok = crossleak(&[
        "check",
        concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml"),
    ]);
    assert_eq!(ok.status.code(), Some(0));
}
