//! The phases section: one row per phase that ran, its times, requests, errors and findings
//! by kind; a sentence instead when the load never started.

use super::clock;
use crate::findings::FindingKind;
use crate::report::{escape, Summary};
use std::fmt::Write;

pub(super) fn section(page: &mut String, summary: &Summary) {
    page.push_str("<section id=\"phases\">\n<h2>Phases</h2>\n");
    if summary.phases.is_empty() {
        page.push_str(
            "<p class=\"absent\">No phase ran: the load never started.</p>\n</section>\n",
        );
        return;
    }
    page.push_str("<div class=\"scroll\"><table>\n<thead><tr><th>phase</th><th>start (UTC)</th><th>end (UTC)</th><th class=\"n\">seconds</th><th class=\"n\">requests</th><th class=\"n\">req/s</th><th class=\"n\">checked</th><th class=\"n\">errors</th><th class=\"n\">isolation failures</th>");
    for kind in FindingKind::ALL {
        let _ = write!(page, "<th class=\"n\">{}</th>", escape(kind.name()));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for phase in &summary.phases {
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{:.0}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n{}\">{}</td>",
            escape(&phase.name),
            escape(&clock(&phase.started_at)),
            escape(&clock(&phase.finished_at)),
            phase.end_secs - phase.start_secs,
            phase.requests,
            phase.requests_per_second,
            phase.checked_responses,
            phase.errors,
            if phase.violations > 0 { " bad" } else { "" },
            phase.violations,
        );
        for kind in FindingKind::ALL {
            let _ = write!(
                page,
                "<td class=\"n\">{}</td>",
                phase
                    .findings_by_kind
                    .get(kind.name())
                    .copied()
                    .unwrap_or(0)
            );
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table></div>\n</section>\n");
}
