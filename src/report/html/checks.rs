//! The checks section: one row per check (finding kind), its outcome over the whole run, whether
//! it fails the run, its occurrences and distinct findings.

use crate::report::{escape, CheckOutcome, Summary};
use std::fmt::Write;

pub(super) fn section(page: &mut String, summary: &Summary) {
    page.push_str("<section id=\"checks\">\n<h2>Checks</h2>\n<table>\n<thead><tr><th>check</th><th>outcome</th><th>fails the run</th><th class=\"n\">occurrences</th><th class=\"n\">distinct</th></tr></thead>\n<tbody>\n");
    for check in &summary.per_check {
        let outcome = match check.outcome {
            CheckOutcome::Passed => "passed",
            CheckOutcome::Failed => "failed",
            CheckOutcome::Warned => "warned",
            CheckOutcome::NotRun => "not run",
        };
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td class=\"o-{}\">{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&check.check),
            outcome.replace(' ', "-"),
            outcome,
            if check.fails_run { "yes" } else { "no (warning)" },
            check.occurrences,
            check.distinct
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}
