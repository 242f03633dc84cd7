//! The affected accounts section: whose data was seen, by whom, on which pages and fields, when;
//! the first rows only, `affected.csv` has them all.

use super::{clock, close_counted, open_counted, SHOWN_ACCOUNTS};
use crate::report::{escape, seconds_between, Summary, AFFECTED};
use std::fmt::Write;

pub(super) fn section(page: &mut String, summary: &Summary) {
    let accounts = &summary.affected_accounts;
    if !open_counted(
        page,
        "affected",
        "Affected accounts",
        accounts.len(),
        "No account's data was seen by anyone else.",
    ) {
        return;
    }
    if let Some(window) = &summary.exposure {
        let _ = writeln!(
            page,
            "<p>Exposed from <b>{}</b> to <b>{}</b> ({:.1} s). Each row: whose data was seen, by which simulated users (their accounts), on which pages, which fields, first and last time. <a href=\"{}\">affected.csv</a> has every row, for the cancellations and the notices.</p>",
            escape(&window.first_seen),
            escape(&window.last_seen),
            window.duration_secs,
            AFFECTED
        );
    }
    page.push_str("<table>\n<thead><tr><th class=\"n\">owner</th><th>n° allocataire</th><th>seen by (owner, n°)</th><th>on pages</th><th>fields</th><th>phases</th><th>first seen (UTC)</th><th>last seen (UTC)</th><th class=\"n\">exposed (s)</th><th class=\"n\">findings</th></tr></thead>\n<tbody>\n");
    for account in accounts.iter().take(SHOWN_ACCOUNTS) {
        let mut seen_by: Vec<String> = account
            .seen_by_accounts
            .iter()
            .map(|viewer| format!("{} (n° {})", viewer.owner, viewer.numero_allocataire))
            .collect();
        if account.seen_by_observer {
            seen_by.push("anonymous observer".into());
        }
        let _ = writeln!(
            page,
            "<tr><td class=\"n\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td></tr>",
            account.owner,
            escape(&account.numero_allocataire),
            escape(&seen_by.join(", ")),
            escape(&account.pages.iter().cloned().collect::<Vec<_>>().join(", ")),
            escape(&account.fields.iter().cloned().collect::<Vec<_>>().join(", ")),
            escape(&account.phases.iter().cloned().collect::<Vec<_>>().join(", ")),
            escape(&clock(&account.first_seen)),
            escape(&clock(&account.last_seen)),
            seconds_between(&account.first_seen, &account.last_seen),
            account.findings,
        );
    }
    page.push_str("</tbody>\n</table>\n");
    close_counted(page, accounts.len(), SHOWN_ACCOUNTS, "in affected.csv");
}
