//! The cross-writes section: each value written by one beneficiary and seen in another's file, the
//! actions to cancel; the first rows only, `affected.csv` has them all.

use super::{clock, open_counted, SHOWN_ACCOUNTS};
use crate::report::{escape, Summary};
use std::fmt::Write;

pub(super) fn section(page: &mut String, summary: &Summary) {
    let writes = &summary.cross_writes;
    if !open_counted(
        page,
        "cross-writes",
        "Writes under a wrong identity",
        writes.len(),
        "No write was seen landing in another beneficiary's file.",
    ) {
        return;
    }
    page.push_str("<p>Each value below was written by one beneficiary and seen in another's file: the actions to cancel.</p>\n<table>\n<thead><tr><th>file of (owner, n°)</th><th>written by (owner, n°)</th><th>fields</th><th>pages</th><th>first seen (UTC)</th><th>last seen (UTC)</th></tr></thead>\n<tbody>\n");
    for write in writes.iter().take(SHOWN_ACCOUNTS) {
        let _ = writeln!(
            page,
            "<tr><td>{} <code>{}</code></td><td>{} <code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            write.file_owner,
            escape(&write.file_numero_allocataire),
            write.written_by,
            escape(&write.written_by_numero_allocataire),
            escape(&write.fields.iter().cloned().collect::<Vec<_>>().join(", ")),
            escape(&write.pages.iter().cloned().collect::<Vec<_>>().join(", ")),
            escape(&clock(&write.first_seen)),
            escape(&clock(&write.last_seen)),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}
