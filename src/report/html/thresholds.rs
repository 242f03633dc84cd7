//! The thresholds section: each of the scenario's `[thresholds]` rules with its limit, the measured
//! value and whether it passed; absent when the scenario set none.

use crate::report::thresholds::measure;
use crate::report::{escape, Summary};
use std::fmt::Write;

/// The scenario's thresholds, each with its limit and the measured value; absent when it set none.
pub(super) fn section(page: &mut String, summary: &Summary) {
    if summary.thresholds.is_empty() {
        return;
    }
    page.push_str("<section id=\"thresholds\">\n<h2>Thresholds</h2>\n<table>\n<thead><tr><th>threshold</th><th>rule</th><th class=\"n\">limit</th><th class=\"n\">measured</th><th>outcome</th><th>detail</th></tr></thead>\n<tbody>\n");
    for result in &summary.thresholds {
        let (class, outcome) = if result.passed {
            ("passed", "passed")
        } else {
            ("failed", "failed")
        };
        let measured = result
            .measured
            .map_or_else(|| "not measured".to_owned(), |v| measure(v, result.unit));
        let _ = writeln!(
            page,
            "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"o-{class}\">{outcome}</td><td>{}</td></tr>",
            escape(result.threshold),
            escape(&result.rule),
            escape(&measure(result.limit, result.unit)),
            escape(&measured),
            escape(&result.detail)
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}
