//! The evidence section: a filter by finding kind, then the first findings in full, isolation
//! failures first; `findings.jsonl` and `evidence.har` have every one.

use super::{close_counted, finding, open_counted};
use crate::findings::{Finding, FindingKind};
use std::fmt::Write;

/// Findings shown in full; the rest are in `findings.jsonl` and `evidence.har`.
const SHOWN_FINDINGS: usize = 300;

pub(super) fn section(page: &mut String, recorded: &[Finding]) {
    if !open_counted(page, "evidence", "Evidence", recorded.len(), "No finding.") {
        return;
    }
    // Isolation failures first, then warnings; each group in the order first seen.
    let mut ordered: Vec<&Finding> = recorded.iter().collect();
    ordered.sort_by_key(|f| !f.kind.fails_run());
    page.push_str("<p class=\"filter\" id=\"filter\">Show: <button type=\"button\" data-kind=\"all\" class=\"on\">all</button>");
    for kind in FindingKind::ALL {
        let n = recorded.iter().filter(|f| f.kind == kind).count();
        if n > 0 {
            let _ = write!(
                page,
                " <button type=\"button\" data-kind=\"{0}\">{0} ({n})</button>",
                kind.name()
            );
        }
    }
    page.push_str("</p>\n<p class=\"hint\">Highlighted: the other owners' values as they appear in the response (masked unless the run revealed them).</p>\n");
    for (i, finding) in ordered.iter().take(SHOWN_FINDINGS).enumerate() {
        finding::block(page, i, finding);
    }
    let rest = "findings in findings.jsonl and evidence.har";
    close_counted(page, recorded.len(), SHOWN_FINDINGS, rest);
}
