//! `junit.xml`: one test suite per phase, one test case per check (each finding kind, and the
//! request errors), failures carrying the first evidence. Read by GitLab, Jenkins and GitHub reporters.

use super::thresholds::{measure, ThresholdResult};
use super::{describe, escape, evidence_text, PhaseSummary, Summary};
use crate::findings::{Finding, FindingKind};
use crate::outcome::Status;
use std::fmt::Write;

/// How many further findings a failure lists in one line each, after the first in full.
const LISTED: usize = 10;

enum Verdict {
    Passed,
    Failed { kind: String, message: String },
    Error { kind: String, message: String },
    Skipped(String),
}

struct Case {
    name: String,
    verdict: Verdict,
    /// The failure's text, or what a passing case has to say.
    text: String,
}

pub fn junit(summary: &Summary, recorded: &[Finding]) -> String {
    let placeholder;
    let phases: &[PhaseSummary] = if summary.phases.is_empty() {
        placeholder = [whole_run(summary)];
        &placeholder
    } else {
        &summary.phases
    };
    let last = phases.len() - 1;
    let suites: Vec<(&PhaseSummary, Vec<Case>)> = phases
        .iter()
        .enumerate()
        .map(|(i, phase)| (phase, cases(summary, phase, recorded, i == last)))
        .collect();
    let all = Tally::of(suites.iter().flat_map(|(_, cases)| cases));
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{:.3}\" timestamp=\"{}\">",
        attribute(&format!("crossleak {} {}", summary.command, summary.run_id)),
        all.tests,
        all.failures,
        all.errors,
        all.skipped,
        summary.duration_secs,
        timestamp(&summary.started_at),
    );
    let hostname = hostname();
    for (id, (phase, cases)) in suites.iter().enumerate() {
        testsuite(&mut xml, summary, id, phase, cases, &hostname);
    }
    xml.push_str("</testsuites>\n");
    xml
}

/// The one suite of a run in which no phase ran (the target was never reached, say).
fn whole_run(summary: &Summary) -> PhaseSummary {
    PhaseSummary {
        name: "run".into(),
        started_at: summary.started_at.clone(),
        finished_at: summary.finished_at.clone(),
        start_secs: 0.0,
        end_secs: 0.0,
        requests: 0,
        requests_per_second: 0.0,
        errors: summary.errors,
        checked_responses: 0,
        violations: 0,
        findings_by_kind: Default::default(),
    }
}

/// How many cases, and of them how many failed, were in error or were skipped.
struct Tally {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Tally {
    fn of<'a>(cases: impl Iterator<Item = &'a Case>) -> Tally {
        let mut tally = Tally {
            tests: 0,
            failures: 0,
            errors: 0,
            skipped: 0,
        };
        for case in cases {
            tally.tests += 1;
            match case.verdict {
                Verdict::Passed => {}
                Verdict::Failed { .. } => tally.failures += 1,
                Verdict::Error { .. } => tally.errors += 1,
                Verdict::Skipped(_) => tally.skipped += 1,
            }
        }
        tally
    }
}

/// The suite of one phase (`id`: its place in the run): the run's properties, then each case.
fn testsuite(
    xml: &mut String,
    summary: &Summary,
    id: usize,
    phase: &PhaseSummary,
    cases: &[Case],
    hostname: &str,
) {
    let time = (phase.end_secs - phase.start_secs).max(0.0);
    let suite = format!("crossleak.{}", phase.name);
    let tally = Tally::of(cases.iter());
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\" timestamp=\"{}\" hostname=\"{}\" id=\"{id}\" package=\"crossleak\">",
        attribute(&suite),
        tally.tests,
        tally.failures,
        tally.errors,
        tally.skipped,
        timestamp(&phase.started_at),
        attribute(hostname),
    );
    properties(xml, summary);
    for case in cases {
        testcase(xml, case, &suite, time);
    }
    xml.push_str("  </testsuite>\n");
}

/// What every suite says of the run: its id, status and reason, target, scenario and masking.
fn properties(xml: &mut String, summary: &Summary) {
    xml.push_str("    <properties>\n");
    for (name, value) in [
        ("run_id", summary.run_id.as_str()),
        ("status", summary.status.label()),
        ("reason", summary.reason.as_str()),
        ("target", summary.target.as_str()),
        ("scenario", summary.scenario.name.as_str()),
        ("masking", summary.masking),
    ] {
        let _ = writeln!(
            xml,
            "      <property name=\"{name}\" value=\"{}\"/>",
            attribute(value)
        );
    }
    xml.push_str("    </properties>\n");
}

/// One case of `suite`: empty when it passed silently, else with its output, skip, failure or error.
fn testcase(xml: &mut String, case: &Case, suite: &str, time: f64) {
    let _ = write!(
        xml,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"{time:.3}\"",
        attribute(&case.name),
        attribute(suite)
    );
    match &case.verdict {
        Verdict::Passed if case.text.is_empty() => xml.push_str("/>\n"),
        Verdict::Passed => {
            let _ = writeln!(
                xml,
                ">\n      <system-out>{}</system-out>\n    </testcase>",
                escape(&case.text)
            );
        }
        Verdict::Skipped(message) => {
            let _ = writeln!(
                xml,
                ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                attribute(message)
            );
        }
        Verdict::Failed { kind, message } | Verdict::Error { kind, message } => {
            let element = if matches!(case.verdict, Verdict::Failed { .. }) {
                "failure"
            } else {
                "error"
            };
            let _ = writeln!(
                xml,
                ">\n      <{element} message=\"{}\" type=\"{}\">{}</{element}>\n    </testcase>",
                attribute(message),
                attribute(kind),
                escape(&case.text)
            );
        }
    }
}

fn cases(summary: &Summary, phase: &PhaseSummary, recorded: &[Finding], last: bool) -> Vec<Case> {
    let mut cases: Vec<Case> = FindingKind::ALL
        .iter()
        .map(|kind| check_case(summary, phase, recorded, *kind))
        .collect();
    cases.push(errors_case(summary, phase, last));
    if last {
        cases.extend(summary.thresholds.iter().map(threshold_case));
    }
    cases
}

/// A scenario threshold, judged on the whole run: a case in the last phase's suite, failed when
/// the measure broke the limit (or could not be taken).
fn threshold_case(result: &ThresholdResult) -> Case {
    let measured = result
        .measured
        .map_or_else(|| "not measured".to_owned(), |v| measure(v, result.unit));
    let text = format!(
        "{}: limit {}, measured {measured}; {}",
        result.threshold,
        measure(result.limit, result.unit),
        result.detail
    );
    Case {
        name: format!("threshold: {}", result.rule),
        verdict: if result.passed {
            Verdict::Passed
        } else {
            Verdict::Failed {
                kind: "threshold".to_owned(),
                message: format!("{} failed: measured {measured}", result.rule),
            }
        },
        text,
    }
}

fn check_case(
    summary: &Summary,
    phase: &PhaseSummary,
    recorded: &[Finding],
    kind: FindingKind,
) -> Case {
    let name = kind.name().to_owned();
    let found: Vec<&Finding> = recorded
        .iter()
        .filter(|f| f.kind == kind && f.phase == phase.name)
        .collect();
    let occurrences = phase
        .findings_by_kind
        .get(kind.name())
        .copied()
        .unwrap_or(0)
        .max(found.len() as u64);
    if !summary.checks {
        return Case {
            name,
            verdict: Verdict::Skipped("checks were off (--no-checks): nothing was checked".into()),
            text: String::new(),
        };
    }
    if !summary.load_ran() {
        return Case {
            name,
            verdict: Verdict::Skipped(format!("no load ran: {}", summary.reason)),
            text: String::new(),
        };
    }
    let Some(first) = found.first() else {
        return Case {
            name,
            verdict: Verdict::Passed,
            text: String::new(),
        };
    };
    let message = format!(
        "{occurrences} {} finding(s), {} distinct; first: {}",
        kind.name(),
        found.len(),
        describe(first)
    );
    let mut text = evidence_text(first);
    if found.len() > 1 {
        text.push_str("\nothers:\n");
        for finding in found.iter().skip(1).take(LISTED) {
            let _ = writeln!(text, "- {} {}", finding.at, describe(finding));
        }
        if found.len() > LISTED + 1 {
            let _ = writeln!(
                text,
                "… and {} more in findings.jsonl",
                found.len() - LISTED - 1
            );
        }
    }
    if kind.fails_run() {
        Case {
            name,
            verdict: Verdict::Failed {
                kind: kind.name().to_owned(),
                message,
            },
            text,
        }
    } else {
        // A warning does not fail the run (exit 0), so it does not fail the test case either.
        Case {
            name,
            verdict: Verdict::Passed,
            text: format!("warning: {message}\n\n{text}"),
        }
    }
}

/// Request errors; the run's own failure to prove anything (unreachable, inconclusive,
/// interrupted) is an error of the last phase's case.
fn errors_case(summary: &Summary, phase: &PhaseSummary, last: bool) -> Case {
    let causes = summary.error_causes();
    let mut text = format!("{} request error(s) in this phase", phase.errors);
    if !causes.is_empty() {
        let _ = write!(text, "; in the whole run by cause: {}", causes.join(", "));
    }
    let verdict = match summary.status {
        Status::Unreachable | Status::Inconclusive | Status::Interrupted if last => {
            Verdict::Error {
                kind: format!("{:?}", summary.status).to_lowercase(),
                message: summary.reason.clone(),
            }
        }
        _ => Verdict::Passed,
    };
    Case {
        name: "errors".into(),
        verdict,
        text,
    }
}

/// An attribute value: escaped, on one line.
fn attribute(text: &str) -> String {
    escape(&text.replace(['\n', '\r'], " "))
}

/// JUnit's timestamp: ISO 8601 without a zone (UTC here), as the common XSD wants it.
fn timestamp(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string()
        })
        .unwrap_or_else(|_| "1970-01-01T00:00:00".to_owned())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}
