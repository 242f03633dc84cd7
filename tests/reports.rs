//! The files a run writes, checked against their formats: `summary.json` against the published
//! schema, `junit.xml` parsed back, `evidence.har` against HAR 1.2, `affected.csv` read back,
//! `report.html` rendered in a real headless Chromium; and every file written when Ctrl-C or
//! SIGTERM cuts a run short. In-process runs are serialised (goose has globals).

mod common;

use common::{assert_valid, summary_schema};
use crossleak::findings::{Cause, Finding};
use crossleak::load::Behaviours;
use crossleak::outcome::Status;
use crossleak::portal::Fault;
use crossleak::run::{self, DemoOptions};
use serde_json::Value;
use std::collections::BTreeMap;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// The files crossleak writes in every run folder; goose's report is there whenever the load ran.
const REPORT_FILES: [&str; 6] = [
    "findings.jsonl",
    "summary.json",
    "junit.xml",
    "report.html",
    "evidence.har",
    "affected.csv",
];

static ONE_ATTACK_AT_A_TIME: Mutex<()> = Mutex::new(());

/// A run folder under the test target's temporary directory, fresh for each test binary run.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("reports-tests")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn demo(name: &str, faults: Vec<Fault>, reveal: bool) -> PathBuf {
    let _one = ONE_ATTACK_AT_A_TIME
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let root = scratch(name);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let result = runtime
        .block_on(run::demo(DemoOptions {
            faults,
            users: 40,
            duration: Duration::from_secs(3),
            seed: 11,
            population: Some(200),
            increase_rate: Some(40.0),
            report_root: root,
            checks: true,
            reveal,
            quiet: true,
            behaviours: Behaviours::all(),
        }))
        .unwrap();
    result.dir
}

/// One run with the shared-cache fault, shared by the tests that read its files.
fn violations_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| demo("violations", vec![Fault::SharedCache], false))
}

/// One run against the correct portal, with `--reveal`.
fn clean_revealed_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| demo("clean", vec![], true))
}

/// One run against a port nothing listens on.
fn unreachable_run() -> &'static Path {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let _one = ONE_ATTACK_AT_A_TIME
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let spec = common::spec(
            format!("http://127.0.0.1:{port}"),
            common::population(20, 1),
            &scratch("unreachable"),
            10,
            Duration::from_secs(2),
        );
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(run::execute(spec)).unwrap().dir
    })
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name))
        .unwrap_or_else(|e| panic!("{} is missing: {e}", dir.join(name).display()))
}

fn json(dir: &Path, name: &str) -> Value {
    serde_json::from_str(&read(dir, name)).unwrap()
}

fn findings(dir: &Path) -> Vec<Finding> {
    read(dir, "findings.jsonl")
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn assert_every_report_written(dir: &Path, with_goose_report: bool) {
    for name in REPORT_FILES {
        assert!(
            dir.join(name).is_file(),
            "{name} not written in {}",
            dir.display()
        );
    }
    assert_eq!(
        dir.join("goose-report.html").is_file(),
        with_goose_report,
        "goose-report.html"
    );
}

// ---------------------------------------------------------------- summary.json

#[test]
fn the_summary_schema_is_valid_and_closes_every_object() {
    let schema = summary_schema();
    assert!(
        jsonschema::meta::is_valid(&schema),
        "not a valid JSON Schema"
    );
    fn walk(node: &Value, path: &str) {
        match node {
            Value::Object(map) => {
                if map.contains_key("properties") {
                    assert_eq!(
                        map.get("additionalProperties"),
                        Some(&Value::Bool(false)),
                        "{path} is not closed"
                    );
                }
                for (key, value) in map {
                    walk(value, &format!("{path}/{key}"));
                }
            }
            Value::Array(items) => items.iter().for_each(|v| walk(v, path)),
            _ => {}
        }
    }
    walk(&schema, "#");
}

#[test]
fn summary_of_a_run_with_violations_matches_the_schema() {
    let dir = violations_run();
    let summary = json(dir, "summary.json");
    assert_valid(&summary_schema(), &summary, "summary.json");
    assert_eq!(summary["status"], "violations");
    assert_eq!(summary["phases"].as_array().unwrap().len(), 1);
    assert_eq!(summary["phases"][0]["name"], "load");
    let violation = summary["per_check"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "violation")
        .unwrap();
    assert_eq!(violation["outcome"], "failed");
    assert!(violation["distinct"].as_u64().unwrap() > 0);
    assert!(summary["exposure"]["first_seen"].is_string());
    assert_eq!(summary["scenario"]["name"], "demo");
    // Every distinct finding on disk is counted once in per_check.
    let distinct: u64 = summary["per_check"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["distinct"].as_u64().unwrap())
        .sum();
    assert_eq!(distinct, findings(dir).len() as u64);
    assert_every_report_written(dir, true);
}

#[test]
fn summary_of_a_clean_and_of_an_unreachable_run_match_the_schema() {
    let clean = clean_revealed_run();
    let summary = json(clean, "summary.json");
    assert_valid(&summary_schema(), &summary, "clean summary.json");
    assert_eq!(summary["status"], "clean");
    assert_eq!(summary["masking"], "revealed");
    assert!(summary["exposure"].is_null());
    assert_every_report_written(clean, true);

    let down = unreachable_run();
    let summary = json(down, "summary.json");
    assert_valid(&summary_schema(), &summary, "unreachable summary.json");
    assert_eq!(summary["status"], "unreachable");
    assert_eq!(summary["phases"], serde_json::json!([]));
    assert!(summary["files"].get("goose_report").is_none());
    assert_every_report_written(down, false);
}

// ---------------------------------------------------------------- junit.xml

#[derive(Debug, Default)]
struct Element {
    name: String,
    attributes: BTreeMap<String, String>,
    children: Vec<Element>,
    text: String,
}

impl Element {
    fn all(&self, name: &str) -> Vec<&Element> {
        self.children.iter().filter(|c| c.name == name).collect()
    }
    fn attr(&self, name: &str) -> &str {
        self.attributes
            .get(name)
            .unwrap_or_else(|| panic!("<{}> lacks the attribute {name}", self.name))
    }
    fn count(&self, name: &str) -> usize {
        self.attr(name)
            .parse()
            .unwrap_or_else(|_| panic!("<{}> {name} is not a count", self.name))
    }
}

/// Parses XML into a tree; panics on anything that is not well-formed.
fn parse_xml(xml: &str) -> Element {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut stack = vec![Element::default()];
    let element = |start: &quick_xml::events::BytesStart<'_>| Element {
        name: start.name().as_ref().to_owned(),
        attributes: start
            .attributes()
            .map(|a| {
                let a = a.expect("a well-formed attribute");
                (
                    a.key.as_ref().to_owned(),
                    a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                        .expect("a well-escaped attribute")
                        .into_owned(),
                )
            })
            .collect(),
        ..Element::default()
    };
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(start) => stack.push(element(&start)),
            Event::Empty(start) => {
                let e = element(&start);
                stack.last_mut().unwrap().children.push(e);
            }
            Event::End(_) => {
                let done = stack.pop().unwrap();
                stack.last_mut().expect("balanced tags").children.push(done);
            }
            Event::Text(text) => stack.last_mut().unwrap().text.push_str(&text),
            Event::GeneralRef(entity) => {
                let name = entity.to_string();
                let c = match name.as_str() {
                    "amp" => "&",
                    "lt" => "<",
                    "gt" => ">",
                    "quot" => "\"",
                    "apos" => "'",
                    n if n.starts_with('#') => "?",
                    other => panic!("undefined entity &{other};"),
                };
                stack.last_mut().unwrap().text.push_str(c);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    let mut document = stack.pop().unwrap();
    assert_eq!(document.children.len(), 1, "one root element");
    document.children.pop().unwrap()
}

/// The structure GitLab, Jenkins and GitHub reporters read: counts that add up, a name and a time
/// on each suite and case, a message on each failure.
fn assert_junit_structure(root: &Element) {
    assert_eq!(root.name, "testsuites");
    let suites = root.all("testsuite");
    assert!(!suites.is_empty());
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    for suite in &suites {
        assert!(!suite.attr("name").is_empty());
        suite.attr("time").parse::<f64>().expect("a suite time");
        suite.attr("timestamp");
        let cases = suite.all("testcase");
        assert_eq!(suite.count("tests"), cases.len());
        let failed = cases
            .iter()
            .filter(|c| !c.all("failure").is_empty())
            .count();
        let errored = cases.iter().filter(|c| !c.all("error").is_empty()).count();
        assert_eq!(suite.count("failures"), failed);
        assert_eq!(suite.count("errors"), errored);
        for case in &cases {
            assert!(!case.attr("name").is_empty());
            assert!(!case.attr("classname").is_empty());
            case.attr("time").parse::<f64>().expect("a case time");
            for failure in case.all("failure").into_iter().chain(case.all("error")) {
                assert!(!failure.attr("message").is_empty());
                assert!(!failure.attr("type").is_empty());
            }
        }
        let names: Vec<&str> = cases.iter().map(|c| c.attr("name")).collect();
        for check in [
            "violation",
            "cross_write",
            "wrong_identity",
            "lost_write",
            "errors",
        ] {
            assert!(names.contains(&check), "no test case {check}: {names:?}");
        }
        tests += cases.len();
        failures += failed;
        errors += errored;
    }
    assert_eq!(root.count("tests"), tests);
    assert_eq!(root.count("failures"), failures);
    assert_eq!(root.count("errors"), errors);
    root.attr("time").parse::<f64>().expect("a total time");
}

fn case<'a>(root: &'a Element, name: &str) -> &'a Element {
    root.all("testsuite")[0]
        .all("testcase")
        .into_iter()
        .find(|c| c.attr("name") == name)
        .unwrap()
}

#[test]
fn junit_of_a_run_with_violations_fails_the_violation_case_with_its_first_evidence() {
    let dir = violations_run();
    let root = parse_xml(&read(dir, "junit.xml"));
    assert_junit_structure(&root);
    let suite = root.all("testsuite")[0];
    assert_eq!(suite.attr("name"), "crossleak.load");
    let failure = case(&root, "violation").all("failure")[0];
    assert_eq!(failure.attr("type"), "violation");
    let first = findings(dir)
        .into_iter()
        .find(|f| f.kind.name() == "violation")
        .unwrap();
    assert!(
        failure.text.contains(&first.request.url),
        "{}",
        failure.text
    );
    assert!(failure.text.contains("x-cache"), "{}", failure.text);
    assert!(failure.attr("message").contains(&first.request.name));
    assert!(case(&root, "cross_write").all("failure").is_empty());
    assert!(case(&root, "errors").all("error").is_empty());
}

#[test]
fn junit_of_a_clean_run_has_no_failure_and_of_an_unreachable_run_one_error() {
    let root = parse_xml(&read(clean_revealed_run(), "junit.xml"));
    assert_junit_structure(&root);
    assert_eq!((root.count("failures"), root.count("errors")), (0, 0));

    let root = parse_xml(&read(unreachable_run(), "junit.xml"));
    assert_junit_structure(&root);
    assert_eq!((root.count("failures"), root.count("errors")), (0, 1));
    assert_eq!(
        case(&root, "errors").all("error")[0].attr("type"),
        "unreachable"
    );
    assert!(!case(&root, "violation").all("skipped").is_empty());
}

// ---------------------------------------------------------------- evidence.har

#[test]
fn evidence_har_is_har_1_2_with_one_entry_per_distinct_finding() {
    let dir = violations_run();
    let har = json(dir, "evidence.har");
    let schema: Value = serde_json::from_str(include_str!("formats/har-1.2.schema.json")).unwrap();
    assert_valid(&schema, &har, "evidence.har");
    let entries = har["log"]["entries"].as_array().unwrap();
    let recorded = findings(dir);
    assert_eq!(entries.len(), recorded.len());
    assert_eq!(
        entries[0]["request"]["url"],
        recorded[0].request.url.as_str()
    );
    assert_eq!(entries[0]["_crossleak"]["kind"], recorded[0].kind.name());
    assert!(har["log"]["comment"].as_str().unwrap().contains("masked"));
    // An empty run still writes a valid archive.
    let empty = json(clean_revealed_run(), "evidence.har");
    assert_valid(&schema, &empty, "an empty evidence.har");
}

// ---------------------------------------------------------------- probable causes

#[test]
fn every_report_says_each_findings_probable_cause_and_what_to_look_at() {
    let dir = violations_run();
    let recorded = findings(dir);
    // The shared cache says HIT: each finding served by it is put down to it, the header quoted.
    let served: Vec<&Finding> = recorded
        .iter()
        .filter(|f| f.response.headers.get("x-cache").map(String::as_str) == Some("HIT"))
        .collect();
    assert!(!served.is_empty());
    for finding in &served {
        assert_eq!(
            finding.probable_cause.cause,
            Cause::SharedCache,
            "{finding:?}"
        );
        assert!(
            finding.probable_cause.evidence.contains("x-cache: HIT"),
            "{}",
            finding.probable_cause.evidence
        );
    }
    let line = read(dir, "findings.jsonl");
    assert!(line.contains("\"probable_cause\":{\"cause\":\"shared_cache\""));
    let summary = json(dir, "summary.json");
    let by_cause = summary["findings_by_cause"].as_object().unwrap();
    assert_eq!(by_cause.len(), Cause::ALL.len());
    let shared = by_cause["shared_cache"].as_u64().unwrap();
    assert!(shared >= served.len() as u64, "{by_cause:?}");
    // What to look at, once per cause present, and each finding's cause with its evidence.
    let html = read(dir, "report.html");
    assert!(
        html.contains("<h2>Probable causes</h2>"),
        "no causes section"
    );
    assert!(html.contains("<tr data-cause=\"shared_cache\">"));
    assert!(html.contains("<code>Cache-Control: private</code>"));
    assert!(html.contains("<tr><th>probable cause</th><td><code>shared_cache</code>"));
    // affected.csv: the causes of the findings behind each account.
    let mut reader = csv::Reader::from_path(dir.join("affected.csv")).unwrap();
    let column = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "probable_causes")
        .expect("a probable_causes column");
    let causes: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[column].to_owned())
        .collect();
    assert!(!causes.is_empty());
    assert!(
        causes
            .iter()
            .any(|c| c.split(' ').any(|c| c == "shared_cache")),
        "{causes:?}"
    );
    assert!(causes.iter().all(|c| !c.is_empty()), "{causes:?}");
    // The clean run has nothing to explain.
    let clean = json(clean_revealed_run(), "summary.json");
    assert!(clean["findings_by_cause"]
        .as_object()
        .unwrap()
        .values()
        .all(|n| n == 0));
    assert!(!read(clean_revealed_run(), "report.html").contains("<h2>Probable causes</h2>"));
}

// ---------------------------------------------------------------- affected.csv

#[test]
fn affected_csv_lists_every_exposed_account_with_its_window() {
    let dir = violations_run();
    let summary = json(dir, "summary.json");
    let mut reader = csv::Reader::from_path(dir.join("affected.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    for column in [
        "record",
        "owner",
        "numero_allocataire",
        "seen_by",
        "written_by",
        "fields",
        "first_seen",
        "last_seen",
        "phases",
        "findings",
    ] {
        assert!(headers.iter().any(|h| h == column), "no column {column}");
    }
    let rows: Vec<BTreeMap<String, String>> = reader
        .records()
        .map(|r| {
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.unwrap().iter().map(str::to_owned))
                .collect()
        })
        .collect();
    let accounts = summary["affected_accounts"].as_array().unwrap();
    let exposed: Vec<&BTreeMap<String, String>> = rows
        .iter()
        .filter(|r| r["record"] == "exposed_account")
        .collect();
    assert_eq!(exposed.len(), accounts.len());
    for (row, account) in exposed.iter().zip(accounts) {
        assert_eq!(row["owner"], account["owner"].to_string());
        assert_eq!(
            row["numero_allocataire"],
            account["numero_allocataire"].as_str().unwrap()
        );
        assert_eq!(row["first_seen"], account["first_seen"].as_str().unwrap());
        assert_eq!(row["last_seen"], account["last_seen"].as_str().unwrap());
        assert!(!row["seen_by"].is_empty() || row["seen_by_observer"] == "true");
        // Which pages showed the account, and who saw it, by account (masked).
        let pages: Vec<&str> = account["pages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        assert!(!pages.is_empty(), "{account}");
        assert_eq!(row["pages"], pages.join("; "));
        let viewers: Vec<String> = account["seen_by_accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                format!(
                    "{}:{}",
                    v["owner"],
                    v["numero_allocataire"].as_str().unwrap()
                )
            })
            .collect();
        assert_eq!(row["seen_by"], viewers.join(" "));
        let seen_by: Vec<u64> = account["seen_by"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let by_account: Vec<u64> = account["seen_by_accounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["owner"].as_u64().unwrap())
            .collect();
        assert_eq!(seen_by, by_account);
        for viewer in account["seen_by_accounts"].as_array().unwrap() {
            assert!(
                viewer["numero_allocataire"].as_str().unwrap().contains('*'),
                "a viewer's file number is not masked: {viewer}"
            );
        }
    }
    let cross_writes = rows.iter().filter(|r| r["record"] == "cross_write").count();
    assert_eq!(
        cross_writes,
        summary["cross_writes"].as_array().unwrap().len()
    );
    assert_eq!(rows.len(), exposed.len() + cross_writes);
}

// ---------------------------------------------------------------- report.html

#[test]
fn report_html_is_self_contained_escaped_and_says_whether_values_are_masked() {
    let masked = read(violations_run(), "report.html");
    for forbidden in [
        "<link",
        " src=",
        "@import",
        "url(",
        "fetch(",
        "XMLHttpRequest",
    ] {
        assert!(
            !masked.contains(forbidden),
            "report.html loads something: {forbidden}"
        );
    }
    assert!(masked.contains("data-masking=\"masked\""));
    assert!(masked.contains("<b>Masked:</b>"));
    assert!(masked.contains("href=\"goose-report.html\""));
    assert!(masked.contains("<mark>"), "no foreign value highlighted");
    // The response excerpts are HTML pages: they appear escaped, never as markup.
    assert!(masked.contains("&lt;h1&gt;"));
    let evidence_start = masked.find("id=\"evidence\"").unwrap();
    assert!(!masked[evidence_start..].contains("<h1>"));
    for header in ["set-cookie", "cache-control", "age", "x-cache"] {
        assert!(masked.contains(&format!("<th>{header}</th>")), "{header}");
    }
    // Each affected account says on which pages it showed, and its viewers by account.
    let affected = &masked[masked.find("id=\"affected\"").unwrap()..evidence_start];
    assert!(affected.contains("<th>on pages</th>"), "{affected}");
    assert!(affected.contains("(n° "), "{affected}");
    let revealed = read(clean_revealed_run(), "report.html");
    assert!(revealed.contains("data-masking=\"revealed\""));
    assert!(revealed.contains("<b>Revealed:</b>"));
}

fn chromium() -> PathBuf {
    let candidates = ["chromium", "chromium-browser", "google-chrome"];
    std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            candidates.iter().find_map(|name| {
                let found = Command::new("sh")
                    .args(["-c", &format!("command -v {name}")])
                    .output()
                    .ok()?;
                let path = String::from_utf8_lossy(&found.stdout).trim().to_owned();
                (found.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
            })
        })
        .unwrap_or_else(|| {
            panic!(
                "chromium is not installed, and this test needs a real browser: run `apt-get install -y chromium` (.ci/run does), or set CHROMIUM to a Chromium binary"
            )
        })
}

/// Runs headless Chromium with `args` on `page`; stdout and stderr, killed after 90 s.
fn headless(page: &Path, args: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let (stdout, stderr) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
    let out = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(90);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    (out.join().unwrap(), err.join().unwrap())
}

fn attribute_of(dom: &str, element_start: &str, name: &str) -> String {
    let at = dom
        .find(element_start)
        .unwrap_or_else(|| panic!("{element_start} not in the rendered page"));
    let tag = &dom[at..at + dom[at..].find('>').unwrap()];
    let key = format!(" {name}=\"");
    let start = tag
        .find(&key)
        .unwrap_or_else(|| panic!("{element_start} has no {name}"))
        + key.len();
    tag[start..start + tag[start..].find('"').unwrap()].to_owned()
}

#[test]
fn report_html_renders_in_headless_chromium_with_data_and_no_script_error() {
    let page = violations_run().join("report.html");
    let (dom, log) = headless(&page, &["--dump-dom"]);
    // The script ran to its end, and caught no error.
    assert_eq!(attribute_of(&dom, "<html", "data-js"), "ready", "{log}");
    let html_tag = &dom[dom.find("<html").unwrap()..];
    let html_tag = &html_tag[..html_tag.find('>').unwrap()];
    assert!(
        !html_tag.contains("data-js-errors"),
        "a script error: {html_tag}"
    );
    for line in log.lines() {
        assert!(
            !line.contains("Uncaught") && !line.contains(":CONSOLE("),
            "console output: {line}"
        );
    }
    // Both charts have data: one step per second of load, drawn as polylines.
    let points: usize = attribute_of(&dom, "<svg id=\"chart-requests\"", "data-points")
        .parse()
        .unwrap();
    assert!(points >= 2, "{points} points");
    assert_eq!(
        attribute_of(&dom, "<html", "data-rates"),
        points.to_string()
    );
    let requests = attribute_of(
        &dom,
        "<polyline class=\"series\" data-series=\"requests\"",
        "points",
    );
    assert_eq!(requests.split(' ').count(), points * 2);
    assert!(dom.contains("data-series=\"violations\""));
    assert!(dom.contains("class=\"phase\" data-phase=\"load\""));

    let shots = tempfile::tempdir().unwrap();
    let png = shots.path().join("report.png");
    let (_, log) = headless(
        &page,
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1280,2000",
        ],
    );
    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot: {e}\n{log}"));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let (width, height) = (
        u32::from_be_bytes(bytes[16..20].try_into().unwrap()),
        u32::from_be_bytes(bytes[20..24].try_into().unwrap()),
    );
    assert_eq!((width, height), (1280, 2000));
    // A blank page compresses to a few kilobytes; text, tables and charts do not.
    assert!(
        bytes.len() > 40_000,
        "a near-empty screenshot: {} bytes",
        bytes.len()
    );
}

// ---------------------------------------------------------------- interrupted runs, console

/// Starts the binary on the demo with the shared-cache fault for 30 s, waits for its first finding
/// on disk (so the load is under way), sends `signal`, and returns its output and run folder.
fn interrupt_demo(signal: &str) -> (std::process::Output, PathBuf) {
    let root = scratch(&format!("interrupted-{signal}"));
    let child = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args([
            "demo",
            "--fault",
            "shared-cache",
            "--users",
            "40",
            "--duration",
            "30s",
            "--quiet",
        ])
        .arg("--report-dir")
        .arg(&root)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let dir = loop {
        let dir = std::fs::read_dir(&root)
            .unwrap()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.is_dir());
        if let Some(dir) =
            dir.filter(|d| std::fs::metadata(d.join("findings.jsonl")).is_ok_and(|m| m.len() > 0))
        {
            break dir;
        }
        assert!(Instant::now() < deadline, "no finding on disk within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    std::thread::sleep(Duration::from_secs(1));
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let started = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the run took {:?} to stop",
        started.elapsed()
    );
    (output, dir)
}

fn assert_interrupted(signal: &str, name: &str) {
    let (output, dir) = interrupt_demo(signal);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}\n{stderr}");
    assert!(stdout.contains("RESULT: INTERRUPTED"), "{stdout}");
    assert_every_report_written(&dir, true);
    let summary = json(&dir, "summary.json");
    assert_valid(&summary_schema(), &summary, "interrupted summary.json");
    assert_eq!(summary["status"], "interrupted");
    assert_eq!(summary["exit_code"], 130);
    assert_eq!(summary["interrupted_by"], name);
    assert!(summary["duration_secs"].as_f64().unwrap() < 30.0);
    // What was seen before the signal is kept.
    assert!(summary["violations"].as_u64().unwrap() > 0);
    let root = parse_xml(&read(&dir, "junit.xml"));
    assert_junit_structure(&root);
    assert_eq!(
        case(&root, "errors").all("error")[0].attr("type"),
        "interrupted"
    );
    assert!(!case(&root, "violation").all("failure").is_empty());
    assert!(read(&dir, "report.html").contains("data-status=\"interrupted\""));
}

#[test]
fn ctrl_c_stops_the_run_writes_every_report_and_exits_130() {
    assert_interrupted("-INT", "SIGINT");
}

#[test]
fn sigterm_stops_the_run_writes_every_report_and_exits_130() {
    assert_interrupted("-TERM", "SIGTERM");
}

#[test]
fn quiet_prints_no_progress_line_but_the_final_table() {
    let root = scratch("quiet");
    let output = Command::new(env!("CARGO_BIN_EXE_crossleak"))
        .args([
            "demo",
            "--users",
            "20",
            "--duration",
            "2s",
            "--quiet",
            "--report-dir",
        ])
        .arg(&root)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(Status::Clean.exit_code().into()),
        "{stdout}\n{stderr}"
    );
    assert!(
        !stderr.contains("req/s") && !stderr.contains('\r'),
        "progress on stderr: {stderr:?}"
    );
    for line in [
        "requests",
        "checked responses",
        "affected accounts",
        "report.html",
        "RESULT: CLEAN",
    ] {
        assert!(
            stdout.contains(line),
            "the final table lacks {line:?}:\n{stdout}"
        );
    }
}
