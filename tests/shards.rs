//! Sharding across processes: three `crossleak run --shard I/3` processes against one portal,
//! merged by `crossleak report merge`, report exactly the violations of one unsharded run of the
//! same scenario and seed against an identical portal. The `nir-lookup` fault makes the expected
//! set deterministic: which account a NIR login opens depends only on the population.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

const SCENARIO: &str = r#"
version = 1
name = "shards"

[target]
base_url = "http://127.0.0.1:9"
request_timeout = "5s"

[population]
generate = { size = 300, seed = 7, household_share = 0.2, provisional_share = 0.5 }

[[login_flow]]
name = "nir"
session = { cookie = "crossleak_session" }
expired_when = { status = [401], landing_path = "/connexion" }

[[login_flow.steps]]
method = "POST"
path = "/connexion/nir"
form = { nir = "{{nir13}}", mot_de_passe = "{{password}}" }

[login_flow.success]
landing_path = "/mon-compte"
must_show = ["numero_allocataire", "nir"]

[[page]]
path = "/mon-compte"
must_show = ["numero_allocataire", "nir"]

[[phase]]
name = "load"
duration = "4s"
users = 300
login_flows = { nir = 1.0 }

[load]
increase_rate = 300
"#;

fn crossleak() -> Command {
    Command::new(env!("CARGO_BIN_EXE_crossleak"))
}

/// A demo portal process with the same population as the scenario; killed on drop.
struct Portal {
    child: Child,
    url: String,
}

impl Portal {
    fn start() -> Portal {
        let mut child = crossleak()
            .args(["portal", "--port", "0", "--fault", "nir-lookup"])
            .args(["--seed", "7", "--population", "300"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("http://"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        Portal { child, url }
    }
}

impl Drop for Portal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(scenario: &Path, target: &str, reports: &Path, extra: &[&str]) -> Child {
    crossleak()
        .arg("run")
        .arg(scenario)
        .args(["--target", target, "--quiet", "--report-dir"])
        .arg(reports)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn run_folder(reports: &Path) -> PathBuf {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(reports)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(folders.len(), 1, "{folders:?}");
    folders.pop().unwrap()
}

/// (viewer, exposed owner) of every violation in a run folder's findings.jsonl.
fn exposures(folder: &Path) -> BTreeSet<(u64, u64)> {
    std::fs::read_to_string(folder.join("findings.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|f| f["kind"] == "violation")
        .flat_map(|f| {
            let viewer = f["viewer"]["owner"].as_u64().unwrap();
            f["foreign"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| (viewer, x["account"]["owner"].as_u64().unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn three_shards_merged_report_exactly_the_unsharded_violations() {
    let work = tempfile::tempdir().unwrap();
    let scenario = work.path().join("shards.toml");
    std::fs::write(&scenario, SCENARIO).unwrap();

    let whole_portal = Portal::start();
    let whole_reports = work.path().join("whole");
    let status = run(&scenario, &whole_portal.url, &whole_reports, &[])
        .wait()
        .unwrap();
    assert_eq!(
        status.code(),
        Some(1),
        "the unsharded run must find the leak"
    );
    let expected = exposures(&run_folder(&whole_reports));
    assert!(!expected.is_empty());

    let shard_portal = Portal::start();
    let shards: Vec<(PathBuf, Child)> = (1..=3)
        .map(|i| {
            let reports = work.path().join(format!("shard-{i}"));
            let shard = format!("{i}/3");
            let child = run(
                &scenario,
                &shard_portal.url,
                &reports,
                &["--shard", &shard, "--users", "100"],
            );
            (reports, child)
        })
        .collect();
    let mut folders = Vec::new();
    for (reports, mut child) in shards {
        child.wait().unwrap();
        folders.push(run_folder(&reports));
    }
    let merged = work.path().join("merged");
    let status = crossleak()
        .args(["report", "merge", "--out"])
        .arg(&merged)
        .args(&folders)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1), "{status:?}");
    assert_eq!(exposures(&merged), expected);
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["status"], "violations");
    assert_eq!(summary["users"], 300);
}
