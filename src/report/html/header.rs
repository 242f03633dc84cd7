//! The page's header: the run and its status, whether values are masked, the run in figures and
//! links to the other files of the run folder.

use super::{status_key, utc};
use crate::report::{escape, Summary, FILES, GOOSE_REPORT, HTML};
use std::fmt::Write;

pub(super) fn section(page: &mut String, summary: &Summary) {
    status(page, summary);
    masking_notice(page, summary);
    facts(page, summary);
    files(page, summary);
}

/// Opens the header: the run id, then its status, exit code and reason.
fn status(page: &mut String, summary: &Summary) {
    let _ = write!(
        page,
        "<header>\n<h1>crossleak <span class=\"run\">{}</span></h1>\n<p class=\"status s-{}\" id=\"status\"><b>{}</b> (exit {}) — {}</p>\n",
        escape(&summary.run_id),
        status_key(summary.status),
        escape(summary.status.label()),
        summary.status.exit_code(),
        escape(&summary.reason),
    );
}

/// Whether the page shows identifying values masked or revealed (`--reveal`).
fn masking_notice(page: &mut String, summary: &Summary) {
    if summary.masking == "revealed" {
        page.push_str("<p class=\"notice revealed\" id=\"masking\"><b>Revealed:</b> this report shows identifying values unmasked (<code>--reveal</code>). It holds personal data: store and share it as such.</p>\n");
    } else {
        page.push_str("<p class=\"notice masked\" id=\"masking\"><b>Masked:</b> identifying values are masked (<code>06******34</code>): enough to tell them apart, not to use them. <code>--reveal</code> shows them, and the report then says so.</p>\n");
    }
}

/// The run in figures, as a list of label and value.
fn facts(page: &mut String, summary: &Summary) {
    page.push_str("<dl class=\"facts\">\n");
    for (label, value) in run_facts(summary) {
        let _ = writeln!(
            page,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(label),
            escape(&value)
        );
    }
    page.push_str("</dl>\n");
}

/// Each fact of the header's list, in order: what was run, for how long, and what it found.
fn run_facts(summary: &Summary) -> Vec<(&'static str, String)> {
    let faults = if summary.faults.is_empty() {
        "none".to_owned()
    } else {
        summary.faults.join(", ")
    };
    let scenario = match &summary.scenario.file {
        Some(file) => format!("{} ({file})", summary.scenario.name),
        None => format!("{} (built in)", summary.scenario.name),
    };
    vec![
        ("target", summary.target.clone()),
        ("scenario", scenario),
        ("faults", faults),
        ("started", date_time(&summary.started_at)),
        (
            "duration",
            format!(
                "{:.1} s of {:.0} s planned",
                summary.duration_secs, summary.planned_duration_secs
            ),
        ),
        (
            "users",
            format!("{} of {} beneficiaries", summary.users, summary.population),
        ),
        (
            "requests",
            format!(
                "{} ({:.0}/s)",
                summary.requests, summary.requests_per_second
            ),
        ),
        ("checked responses", summary.checked_responses.to_string()),
        ("errors", summary.errors.to_string()),
        (
            "logins",
            format!(
                "{} ok, {} failed ({} without the user's must_show values)",
                summary.logins.succeeded, summary.logins.failed, summary.logins.failed_must_show
            ),
        ),
        ("isolation failures", summary.violations.to_string()),
        ("warnings", summary.warnings.to_string()),
        (
            "affected accounts",
            summary.affected_accounts.len().to_string(),
        ),
        ("cross-writes", summary.cross_writes.len().to_string()),
    ]
}

/// Closes the header with a link to each file beside the page (goose's reports, one per phase,
/// when the summary lists them).
fn files(page: &mut String, summary: &Summary) {
    page.push_str("<nav class=\"files\">Files beside this one: ");
    let mut goose: Vec<&String> = summary
        .files
        .iter()
        .filter(|(key, _)| key.starts_with("goose_report"))
        .map(|(_, name)| name)
        .collect();
    // goose-report-2.html before goose-report-10.html.
    goose.sort_by_key(|name| (name.len(), name.as_str()));
    if !goose.is_empty() {
        for (i, name) in goose.iter().enumerate() {
            let id = if i == 0 { " id=\"goose-report\"" } else { "" };
            let _ = write!(page, "<a{id} href=\"{0}\">{0}</a> ", escape(name));
        }
        page.push_str(if goose.len() == 1 {
            "(goose's own report) · "
        } else {
            "(goose's own reports, one per phase) · "
        });
    } else {
        let _ = write!(
            page,
            "<span class=\"absent\">{GOOSE_REPORT} (not written: no load ran)</span> · "
        );
    }
    let links: Vec<String> = FILES
        .iter()
        .filter(|(_, name)| *name != HTML)
        .map(|(_, name)| format!("<a href=\"{name}\">{name}</a>"))
        .collect();
    page.push_str(&links.join(" · "));
    page.push_str("</nav>\n</header>\n");
}

/// `2026-11-23 10:10:33 UTC` from an RFC 3339 time; the text as is otherwise.
fn date_time(rfc3339: &str) -> String {
    utc(rfc3339, "%Y-%m-%d %H:%M:%S UTC")
}
