//! Scenario files, whole: every shipped scenario validates, and every bad scenario under
//! `tests/scenarios/bad/` is refused with the message its first line announces.
//!
//! A bad case starts with `# expect: :LINE:COLUMN: message; help`: the error must read
//! `<path of the file>:LINE:COLUMN: message; help` (file, line, what is wrong and what to write
//! instead, in one line), and it must be the file's only error (no cascade from one mistake).

mod common;

use crossleak::scenario::{Endpoint, Scenario};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tomls(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_shipped_scenario_validates() {
    let mut files = tomls(&root().join("scenarios"));
    assert!(!files.is_empty(), "no scenario under scenarios/");
    files.extend(tomls(&root().join("scenarios/faults")));
    for file in files {
        if let Err(errors) = Scenario::load(&file) {
            panic!("{} does not validate:\n{errors}", file.display());
        }
    }
}

#[test]
fn the_caf_scenario_switches_the_nir_login_on_at_the_cut_over() {
    let s = Scenario::load(root().join("scenarios/caf-2021-nir-migration.toml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let Endpoint::Embedded { faults, nir_login } = &s.target.endpoint else {
        panic!("the CAF scenario runs against the embedded portal");
    };
    assert_eq!(
        faults.iter().map(|f| f.name()).collect::<Vec<_>>(),
        ["nir-lookup"]
    );
    assert!(!nir_login, "the NIR login must start switched off");
    let names: Vec<&str> = s.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["legacy", "cut-over"]);
    assert_eq!(s.phases[0].share_of("nir"), 0.0);
    let cut_over = &s.phases[1];
    assert_eq!(cut_over.share_of("nir"), 0.5);
    assert_eq!(
        cut_over.at_start[0].request.path.as_str(),
        "/admin/connexion-nir"
    );
    assert!(cut_over.password_changes.is_some());
}

#[test]
fn every_good_test_scenario_validates() {
    for file in tomls(&root().join("tests/scenarios/good")) {
        if let Err(errors) = Scenario::load(&file) {
            panic!("{} does not validate:\n{errors}", file.display());
        }
    }
}

#[test]
fn every_bad_scenario_is_refused_with_its_announced_message() {
    let files = tomls(&root().join("tests/scenarios/bad"));
    assert!(files.len() >= 20, "only {} bad cases", files.len());
    let mut failures = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable case");
        let expected = text
            .lines()
            .next()
            .and_then(|line| line.strip_prefix("# expect: "))
            .unwrap_or_else(|| {
                panic!(
                    "{}: first line must be `# expect: :LINE:COL: …`",
                    file.display()
                )
            });
        let wanted = format!("{}{expected}", file.display());
        match Scenario::load(&file) {
            Ok(_) => failures.push(format!("{}: accepted, expected {expected}", file.display())),
            Err(errors) if errors.len() != 1 || errors.errors[0].to_string() != wanted => {
                failures.push(format!(
                    "{}:\n  expected {wanted}\n  got      {}",
                    file.display(),
                    errors.to_string().replace('\n', "\n           ")
                ));
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_readme_example_for_your_own_portal_validates() {
    let readme = std::fs::read_to_string(root().join("scenarios/README.md")).expect("README");
    let section = readme
        .split("## A complete file for your own portal")
        .nth(1)
        .expect("the README has a complete example");
    let example = section
        .split("```toml\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a toml block");
    if let Err(errors) = Scenario::parse(example, "scenarios/README.md") {
        panic!("the README example does not validate:\n{errors}");
    }
}

/// `--target` goes through the scenario's remote-host policy: `--allow-remote` is the opt-in, but
/// the host must still be in `[target] allowed_hosts`, as a `base_url` must. Refused from the URL
/// text alone, before any run folder exists or any request is sent.
#[tokio::test]
async fn a_target_flag_needs_the_remote_host_listed_like_a_base_url() {
    let demo = root().join("scenarios/demo.toml");
    let reports = tempfile::tempdir().unwrap();
    let options = |target: &str| crossleak::run::RunOptions {
        target: Some(target.to_owned()),
        allow_remote: true,
        ..common::run_options(reports.path().to_owned())
    };
    let scenario = Scenario::load(&demo).unwrap_or_else(|e| panic!("{e}"));
    let refused = crossleak::run::run_scenario(scenario.clone(), options("http://10.255.0.1:8080"))
        .await
        .err()
        .expect("an unlisted remote target is refused");
    assert_eq!(
        refused.to_string(),
        "10.255.0.1 is not in [target] allowed_hosts (none listed): if this host is yours to test, add allowed_hosts = [\"10.255.0.1\"] to the scenario's [target]"
    );
    let mut listed = scenario;
    listed.target.scope.allowed_hosts = vec!["10.255.0.2".into()];
    let refused = crossleak::run::run_scenario(listed, options("http://10.255.0.1:8080"))
        .await
        .err()
        .expect("a remote target listed under another name is refused");
    assert!(refused.to_string().contains("(10.255.0.2)"), "{refused}");
    assert_eq!(
        std::fs::read_dir(reports.path()).unwrap().count(),
        0,
        "a run folder was made"
    );
}

/// `crossleak check` says when `[load] replay` as `other_user` would replay nothing (no page
/// templates a watched value), naming the pages; the scenario is still valid (exit 0).
#[test]
fn check_warns_when_replay_as_another_owner_has_no_templated_page() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("replay.toml");
    let scenario = format!(
        "{}\n[load]\nreplay = {{ as = [\"other_user\", \"anonymous\"] }}\n",
        common::MINIMAL_SCENARIO
    );
    std::fs::write(&path, &scenario).unwrap();
    let check = |path: &Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_crossleak"))
            .arg("check")
            .arg(path)
            .output()
            .unwrap()
    };
    let out = check(&path);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "warning: {}: [load] replay as \"other_user\" will replay nothing: no page's request templates a watched variable (pages: \"GET /home\"; watched: {{{{numero_allocataire}}}}",
            path.display()
        )),
        "{stderr}"
    );
    std::fs::write(
        &path,
        scenario.replace(
            "path = \"/home\"\nmust_show",
            "path = \"/dossiers/{{numero_allocataire}}\"\nmust_show",
        ),
    )
    .unwrap();
    let templated = check(&path);
    assert_eq!(templated.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&templated.stderr).contains("warning"),
        "{}",
        String::from_utf8_lossy(&templated.stderr)
    );
}
