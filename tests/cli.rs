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
