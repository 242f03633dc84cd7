//! `report.html`: one self-contained page (inline CSS, SVG and script; no network) — the timeline,
//! the phases, the checks, the affected accounts, the cross-writes and every finding's evidence.
//! The charts are SVG drawn here, so they show even where scripts are blocked; the script only adds
//! a hover read-out and the evidence filter. Every value from the run is HTML-escaped.
//!
//! This file is the page's skeleton (head, the sections in order, footer); each section is a
//! module of its own, the chart, one finding's evidence, the style and the script too.

mod accounts;
mod causes;
mod chart;
mod checks;
mod cross_writes;
mod evidence;
mod finding;
mod header;
mod phases;
mod script;
mod style;
mod thresholds;
mod timeline;

use super::{escape, Summary, Timeline};
use crate::findings::Finding;
use crate::outcome::Status;
use script::{ERROR_TRAP, SCRIPT};
use std::fmt::Write;
use style::STYLE;

/// Rows of the affected-accounts and cross-writes tables; all of them are in `affected.csv`.
const SHOWN_ACCOUNTS: usize = 2_000;

pub fn html(summary: &Summary, timeline: &Timeline, recorded: &[Finding]) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = format!(
        "crossleak {} — {} — {}",
        summary.command,
        summary.status.label(),
        summary.run_id
    );
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\" data-status=\"{status}\" data-masking=\"{masking}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<script>{ERROR_TRAP}</script>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        status = escape(status_key(summary.status)),
        masking = escape(summary.masking),
        title = escape(&title),
    );
    header::section(&mut page, summary);
    timeline::section(&mut page, timeline);
    phases::section(&mut page, summary);
    checks::section(&mut page, summary);
    causes::section(&mut page, summary);
    thresholds::section(&mut page, summary);
    accounts::section(&mut page, summary);
    cross_writes::section(&mut page, summary);
    evidence::section(&mut page, recorded);
    let _ = write!(
        page,
        "<footer>crossleak {} · run {} · written {}</footer>\n<script type=\"application/json\" id=\"rates\">{}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(env!("CARGO_PKG_VERSION")),
        escape(&summary.run_id),
        escape(&summary.finished_at),
        timeline::rates_json(timeline),
    );
    page
}

/// Opens a section headed by `title` and how many things it lists; with nothing to list, says
/// `none`, closes the section and returns `false`.
fn open_counted(page: &mut String, id: &str, title: &str, count: usize, none: &str) -> bool {
    let _ = writeln!(
        page,
        "<section id=\"{id}\">\n<h2>{title} <span class=\"count\">{count}</span></h2>"
    );
    if count == 0 {
        let _ = writeln!(page, "<p>{none}</p>\n</section>");
    }
    count > 0
}

/// Closes a counted section that showed only the first `shown`: says how many more, and where.
fn close_counted(page: &mut String, count: usize, shown: usize, rest: &str) {
    if count > shown {
        let _ = writeln!(
            page,
            "<p class=\"hint\">… and {} more {rest}.</p>",
            count - shown
        );
    }
    page.push_str("</section>\n");
}

/// The status as a CSS class and `data-status` value.
fn status_key(status: Status) -> &'static str {
    match status {
        Status::Clean => "clean",
        Status::Violations => "violations",
        Status::UsageError => "usage_error",
        Status::Unreachable => "unreachable",
        Status::Inconclusive => "inconclusive",
        Status::ThresholdsFailed => "thresholds_failed",
        Status::Interrupted => "interrupted",
    }
}

/// `10:10:33.614` from an RFC 3339 time, the date being in the header; the text as is otherwise.
fn clock(rfc3339: &str) -> String {
    utc(rfc3339, "%H:%M:%S%.3f")
}

/// An RFC 3339 time in UTC, as `format` (chrono's) writes it; the text as is when it is not one.
fn utc(rfc3339: &str, format: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| t.with_timezone(&chrono::Utc).format(format).to_string())
        .unwrap_or_else(|_| rfc3339.to_owned())
}
