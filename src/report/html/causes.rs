//! The probable causes section: each cause the run's findings point to, how many, and what to look
//! at (`Cause::look_at`, its backquoted parts as code).

use crate::findings::Cause;
use crate::report::{escape, Summary};
use std::fmt::Write;

/// Each probable cause the run's findings point to, with what to look at; absent when none did.
pub(super) fn section(page: &mut String, summary: &Summary) {
    let present: Vec<(Cause, u64)> = Cause::ALL
        .iter()
        .filter_map(|cause| {
            let count = summary.findings_by_cause.get(cause.name()).copied()?;
            (count > 0).then_some((*cause, count))
        })
        .collect();
    if present.is_empty() {
        return;
    }
    page.push_str("<section id=\"causes\">\n<h2>Probable causes</h2>\n<p class=\"hint\">Inferred from what the client saw (cache headers, abandoned requests, replays, token reuse, identical bodies), never from the target telling it; each finding below says its evidence.</p>\n<table>\n<thead><tr><th>cause</th><th class=\"n\">findings</th><th>what to look at</th></tr></thead>\n<tbody>\n");
    for (cause, count) in present {
        let _ = writeln!(
            page,
            "<tr data-cause=\"{name}\"><td><code>{name}</code></td><td class=\"n\">{count}</td><td>{}</td></tr>",
            with_code(&escape(cause.look_at())),
            name = cause.name(),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

/// Escaped text with its `backquoted` parts as `<code>`.
fn with_code(escaped: &str) -> String {
    escaped
        .split('`')
        .enumerate()
        .map(|(index, part)| {
            if index % 2 == 1 {
                format!("<code>{part}</code>")
            } else {
                part.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backquoted_parts_become_code() {
        assert_eq!(
            with_code("add `Vary` and `private` &amp; more"),
            "add <code>Vary</code> and <code>private</code> &amp; more"
        );
    }
}
