//! Every way a run can end, and what it leaves behind: a usage error no run folder; a goose
//! failure mid-run every report, the findings seen until then kept; a merge of a summary with a
//! status this crossleak does not know a usage error (exit 2) naming the file and the value.

mod common;

use crossleak::load::{demo_scenario, Behaviours, Shard};
use crossleak::outcome::Status;
use crossleak::run::{run_scenario, RunOptions};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn crossleak(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args(args)
        .output()
        .expect("the crossleak binary runs")
}

fn folders(root: &Path) -> usize {
    std::fs::read_dir(root).map_or(0, |entries| entries.count())
}

#[test]
fn more_users_than_beneficiaries_is_a_usage_error_that_leaves_no_run_folder() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("small.toml");
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scenarios/demo.toml"))
        .unwrap()
        .replace("generate = { size = 1000,", "generate = { size = 10,");
    std::fs::write(&scenario, text).unwrap();
    let reports = dir.path().join("reports");
    let out = crossleak(&[
        "run",
        scenario.to_str().unwrap(),
        "--users",
        "20",
        "--duration",
        "2s",
        "--quiet",
        "--report-dir",
        reports.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("only 10 beneficiaries"), "{stderr}");
    assert_eq!(folders(&reports), 0, "a usage error left a run folder");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_goose_failure_in_a_later_phase_still_writes_every_report() {
    let reports = tempfile::tempdir().unwrap();
    let mut scenario = demo_scenario().unwrap();
    let mut first = scenario.phases[0].clone();
    first.duration = Duration::from_secs(2);
    first.users = 10;
    first.password_changes = None;
    // goose refuses a phase of zero users (its journeys would weigh 0): the second phase fails
    // once the first has run.
    let mut second = first.clone();
    second.name = "empty".into();
    second.users = 0;
    scenario.phases = vec![first, second];
    let options = RunOptions {
        command: "run".into(),
        target: None,
        duration: None,
        users: None,
        report_root: reports.path().to_owned(),
        shard: Shard::whole(),
        allow_remote: false,
        checks: true,
        reveal: false,
        quiet: true,
        behaviours: Some(Behaviours::default()),
    };
    let result = run_scenario(scenario, options)
        .await
        .expect("a goose failure mid-run is a result");
    let summary = &result.summary;
    assert_eq!(summary.status, Status::Inconclusive, "{}", summary.reason);
    assert!(summary.reason.contains("\"empty\""), "{}", summary.reason);
    assert!(summary.reason.contains("goose"), "{}", summary.reason);
    assert!(summary.requests > 0, "the first phase ran");
    for (_, name) in crossleak::report::FILES {
        assert!(result.dir.join(name).is_file(), "{name} was not written");
    }
    let written = common::assert_summary_matches_the_schema(&result.dir);
    assert_eq!(written["status"], "inconclusive");
    assert_eq!(written["exit_code"], 4);
    // Each phase is a goose attack with its own report: the first phase's is listed and linked,
    // the second (which goose refused) has none.
    let files = &written["files"];
    assert_eq!(files["goose_report_1"], "goose-report-1.html", "{files}");
    assert!(result.dir.join("goose-report-1.html").is_file());
    assert!(files.get("goose_report").is_none() && files.get("goose_report_2").is_none());
    let page = std::fs::read_to_string(result.dir.join(crossleak::report::HTML)).unwrap();
    assert!(page.contains("href=\"goose-report-1.html\""));
    assert!(!page.contains("not written: no load ran"));
}

#[test]
fn merging_a_summary_with_an_unknown_status_exits_2_naming_the_file_and_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let shard = dir.path().join("shard");
    std::fs::create_dir_all(&shard).unwrap();
    let summary = serde_json::json!({
        "schema_version": 3, "run_id": "shard", "status": "exploded", "exit_code": 0,
        "reason": "", "requests": 1, "violations": 0, "affected_accounts": []
    });
    std::fs::write(shard.join("summary.json"), summary.to_string()).unwrap();
    std::fs::write(shard.join("findings.jsonl"), "").unwrap();
    let out_dir = dir.path().join("merged");
    let out = crossleak(&[
        "report",
        "merge",
        shard.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("\"exploded\""), "{stderr}");
    assert!(
        stderr.contains(&shard.join("summary.json").display().to_string()),
        "{stderr}"
    );
}
