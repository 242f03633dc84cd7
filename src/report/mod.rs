//! Reports: views over one run's findings and figures — `summary.json`, `junit.xml`, `report.html`,
//! `evidence.har`, `affected.csv` and a table in the terminal. Reads what the run collected (never
//! the live load: the run hands over counters and a timeline); never sends a request.

mod affected;
mod console;
mod har;
mod html;
mod junit;
mod merge;
mod summary;
mod thresholds;
mod timeline;

pub use affected::{cross_writes, write_affected_csv, CrossWrite};
pub use console::print_summary;
pub use har::har;
pub use html::html;
pub use junit::junit;
pub use merge::{merge, MergeError};
pub use summary::{
    run_id, CheckCount, CheckOutcome, ExposureWindow, LoginFlowInfo, Observed, PhaseSummary,
    RunDescription, RunFacts, ScenarioInfo, Summary, SUMMARY_SCHEMA_VERSION,
};
pub use thresholds::{evaluate as evaluate_thresholds, Measured, ThresholdResult};
pub use timeline::{PhaseFigures, PhaseSpan, Rate, Sample, Timeline};

use crate::findings::Finding;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FINDINGS: &str = "findings.jsonl";
pub const SUMMARY: &str = "summary.json";
pub const JUNIT: &str = "junit.xml";
pub const HTML: &str = "report.html";
pub const HAR: &str = "evidence.har";
pub const AFFECTED: &str = "affected.csv";
/// Written by goose itself, only when the load ran: one per phase, numbered when there are more.
pub const GOOSE_REPORT: &str = "goose-report.html";

/// The name of goose's report for phase `index` (from 0) of `phases`.
pub fn goose_report_name(index: usize, phases: usize) -> String {
    if phases == 1 {
        GOOSE_REPORT.to_owned()
    } else {
        format!("goose-report-{}.html", index + 1)
    }
}

/// goose's reports in `dir` (a run's own folder), by their key in `summary.json`'s `files`:
/// `goose_report`, or `goose_report_1`, `goose_report_2`… for a run of several phases; only the
/// phases that wrote one.
pub fn goose_reports(dir: &Path) -> BTreeMap<String, String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter_map(|name| {
            let phase = name.strip_prefix("goose-report")?.strip_suffix(".html")?;
            let numbered = phase
                .strip_prefix('-')
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            let key = format!("goose_report{}", phase.replace('-', "_"));
            (phase.is_empty() || numbered).then_some((key, name))
        })
        .collect()
}

/// Every file crossleak writes in a run folder, by its key in `summary.json`'s `files`.
pub const FILES: [(&str, &str); 6] = [
    ("findings", FINDINGS),
    ("summary", SUMMARY),
    ("junit", JUNIT),
    ("report_html", HTML),
    ("evidence_har", HAR),
    ("affected_csv", AFFECTED),
];

/// A report file that could not be written; the others still are.
#[derive(Debug, thiserror::Error)]
#[error("could not write {path}: {source}")]
pub struct ReportError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Reads `findings.jsonl` back: every distinct finding, in the order first seen. A line that does
/// not parse (cut short by a crash) is skipped with a warning on stderr.
pub fn read_findings(dir: &Path) -> Vec<Finding> {
    let path = dir.join(FINDINGS);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) => {
            eprintln!(
                "warning: cannot read {}: {error}; the reports will show no evidence",
                path.display()
            );
            return Vec::new();
        }
    };
    let mut unreadable = 0;
    let findings = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .filter_map(|line| match serde_json::from_str(line) {
            Ok(finding) => Some(finding),
            Err(_) => {
                unreadable += 1;
                None
            }
        })
        .collect();
    if unreadable > 0 {
        eprintln!(
            "warning: {unreadable} line(s) of {} do not parse and are left out of the reports",
            path.display()
        );
    }
    findings
}

/// Writes `summary.json`, `junit.xml`, `report.html`, `evidence.har` and `affected.csv` into
/// `dir`; each file is written whole or not at all, and one failure does not stop the others.
pub fn write_all(
    dir: &Path,
    summary: &Summary,
    timeline: Option<&Timeline>,
    recorded: &[Finding],
) -> Vec<ReportError> {
    let empty = Timeline::default();
    let timeline = timeline.unwrap_or(&empty);
    let results = [
        (SUMMARY, summary.write(dir)),
        (
            JUNIT,
            write_file(dir, JUNIT, junit(summary, recorded).as_bytes()),
        ),
        (
            HTML,
            write_file(dir, HTML, html(summary, timeline, recorded).as_bytes()),
        ),
        (
            HAR,
            serde_json::to_vec_pretty(&har(summary, recorded))
                .map_err(std::io::Error::other)
                .and_then(|bytes| write_file(dir, HAR, &bytes)),
        ),
        (
            AFFECTED,
            write_affected_csv(summary).and_then(|bytes| write_file(dir, AFFECTED, &bytes)),
        ),
    ];
    results
        .into_iter()
        .filter_map(|(name, result)| {
            result.err().map(|source| ReportError {
                path: dir.join(name),
                source,
            })
        })
        .collect()
}

/// Writes `name` in `dir` through a temporary file and a rename, so a reader never sees half a file.
pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let temporary = dir.join(format!(".{name}.tmp"));
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, dir.join(name))
}

/// Seconds from one RFC 3339 time to another; 0 when either does not parse.
pub(crate) fn seconds_between(from: &str, to: &str) -> f64 {
    match (
        chrono::DateTime::parse_from_rfc3339(from),
        chrono::DateTime::parse_from_rfc3339(to),
    ) {
        (Ok(from), Ok(to)) => (to - from).num_milliseconds() as f64 / 1000.0,
        _ => 0.0,
    }
}

/// Escapes text for HTML and XML content and attribute values. Characters XML 1.0 forbids
/// (control characters from a binary body) become U+FFFD.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Whose session made the request, in words.
pub(crate) fn viewer_label(finding: &Finding) -> String {
    match &finding.viewer {
        Some(viewer) => format!("user {} (n° {})", viewer.owner, viewer.numero_allocataire),
        None => "the anonymous observer".to_owned(),
    }
}

/// The foreign owners of a finding and their fields: `owner 9 (n° 12*****78): nir, iban`.
pub(crate) fn foreign_label(finding: &Finding) -> String {
    let mut by_owner: BTreeMap<u32, (String, Vec<&str>)> = BTreeMap::new();
    for foreign in &finding.foreign {
        let entry = by_owner
            .entry(foreign.account.owner)
            .or_insert_with(|| (foreign.account.numero_allocataire.clone(), Vec::new()));
        if !entry.1.contains(&foreign.field.as_str()) {
            entry.1.push(&foreign.field);
        }
    }
    by_owner
        .iter()
        .map(|(owner, (numero, fields))| {
            format!("owner {owner} (n° {numero}): {}", fields.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// One line saying what a finding is: page, status, viewer, what it saw.
pub(crate) fn describe(finding: &Finding) -> String {
    let mut line = format!(
        "{} → {} for {}: {}",
        finding.request.name,
        finding.response.status,
        viewer_label(finding),
        finding.detail
    );
    if !finding.foreign.is_empty() {
        line.push_str(&format!("; carried {}", foreign_label(finding)));
    }
    if !finding.missing.is_empty() {
        line.push_str(&format!("; missing {}", finding.missing.join(", ")));
    }
    line
}

/// The headers that tell a leak's mechanism, shown even when absent (a missing `Cache-Control:
/// private` is evidence too).
pub const HEADERS_THAT_MATTER: [&str; 4] = ["set-cookie", "cache-control", "age", "x-cache"];

/// A finding's evidence as plain text, for JUnit failures and terminals.
pub(crate) fn evidence_text(finding: &Finding) -> String {
    let mut out = String::new();
    let mut line = |label: &str, value: &str| out.push_str(&format!("{label:<10} {value}\n"));
    line("kind", finding.kind.name());
    line(
        "at",
        &format!(
            "{} (phase {}, +{} ms, goose user {})",
            finding.at, finding.phase, finding.elapsed_ms, finding.user
        ),
    );
    line("viewer", &viewer_label(finding));
    line(
        "request",
        &format!("{} {}", finding.request.method, finding.request.url),
    );
    line(
        "response",
        &format!(
            "{} from {}",
            finding.response.status, finding.response.final_url
        ),
    );
    for name in HEADERS_THAT_MATTER {
        let value = header(finding, name).unwrap_or("(absent)");
        line(&format!("{name}:"), value);
    }
    for (name, value) in &finding.response.headers {
        if !HEADERS_THAT_MATTER.contains(&name.to_ascii_lowercase().as_str()) {
            line(&format!("{name}:"), value);
        }
    }
    for foreign in &finding.foreign {
        line(
            "foreign",
            &format!(
                "owner {} (n° {}) {} {:?} in {}",
                foreign.account.owner,
                foreign.account.numero_allocataire,
                foreign.field,
                foreign.value,
                foreign.location
            ),
        );
    }
    if !finding.missing.is_empty() {
        line("missing", &finding.missing.join(", "));
    }
    line("detail", &finding.detail);
    out.push_str("excerpt:\n");
    out.push_str(&finding.response.excerpt);
    out.push('\n');
    out
}

/// A response header of the evidence, by case-insensitive name.
pub(crate) fn header<'a>(finding: &'a Finding, name: &str) -> Option<&'a str> {
    finding
        .response
        .headers
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

#[cfg(test)]
pub(crate) mod fixtures {
    use crate::findings::{Cause, Finding, FindingKind, ProbableCause};

    /// A violation: user `viewer` served owner `foreign`'s NIR by a shared cache.
    pub fn finding(kind: FindingKind, viewer: u32, foreign: u32) -> Finding {
        let mut finding = crate::findings::fixtures::violation(viewer, foreign);
        finding.kind = kind;
        finding.at = "2026-11-23T10:00:01.250Z".into();
        finding.elapsed_ms = 1250;
        finding.detail =
            "another beneficiary's data was served <instead> of the viewer's own".into();
        finding.foreign[0].value = "1 8* ** ** *** *** 54".into();
        finding.request.url = "http://127.0.0.1:8080/mon-compte?onglet=rib&x=1".into();
        finding.response.final_url = "http://127.0.0.1:8080/mon-compte".into();
        finding.response.headers = [
            ("x-cache", "HIT"),
            ("age", "3"),
            ("content-type", "text/html; charset=utf-8"),
            ("set-cookie", "crossleak_session=ab****yz; Path=/; HttpOnly"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect();
        finding.response.excerpt =
            "<td>NIR</td><td>1 8* ** ** *** *** 54</td><script>alert(1)</script>\u{1}".into();
        finding.probable_cause = ProbableCause {
            cause: Cause::SharedCache,
            evidence: "the response says a cache served it (x-cache: HIT)".into(),
        };
        finding
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::FindingKind;

    #[test]
    fn goose_reports_are_listed_by_phase_as_written() {
        let dir = tempfile::tempdir().unwrap();
        assert!(goose_reports(dir.path()).is_empty());
        for name in [
            "goose-report-1.html",
            "goose-report-12.html",
            "goose-report-x.html",
            "goose-report-.html",
            "goose-report.json",
            "report.html",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let listed: Vec<(String, String)> = goose_reports(dir.path()).into_iter().collect();
        let expected = [
            ("goose_report_1", "goose-report-1.html"),
            ("goose_report_12", "goose-report-12.html"),
        ];
        assert_eq!(listed, expected.map(|(k, n)| (k.to_owned(), n.to_owned())));
        let single = tempfile::tempdir().unwrap();
        std::fs::write(single.path().join(goose_report_name(0, 1)), "").unwrap();
        let listed: Vec<String> = goose_reports(single.path()).into_keys().collect();
        assert_eq!(listed, ["goose_report"]);
        assert_eq!(goose_report_name(1, 3), "goose-report-2.html");
    }

    #[test]
    fn escape_neutralises_markup_and_forbidden_characters() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>\u{1}\n"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;\u{FFFD}\n"
        );
    }

    #[test]
    fn evidence_text_names_the_headers_that_matter_even_when_absent() {
        let text = evidence_text(&fixtures::finding(FindingKind::Violation, 1, 2));
        assert!(text.contains("x-cache:   HIT"), "{text}");
        assert!(text.contains("cache-control: (absent)"), "{text}");
        assert!(text.contains("owner 2 (n° 00*****02) nir"), "{text}");
    }

    #[test]
    fn seconds_between_two_rfc3339_times() {
        assert_eq!(
            seconds_between("2026-11-23T10:00:01.250Z", "2026-11-23T10:00:03.750Z"),
            2.5
        );
        assert_eq!(seconds_between("nonsense", "2026-11-23T10:00:03.750Z"), 0.0);
    }
}
