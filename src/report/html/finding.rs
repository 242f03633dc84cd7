//! One finding's evidence, as a block that opens: what was asked and answered, its probable cause,
//! the headers that matter, the other owners' values and the response excerpt, those highlighted.

use crate::findings::Finding;
use crate::report::{escape, foreign_label, header, viewer_label, HEADERS_THAT_MATTER};
use std::fmt::Write;

/// Findings open when the page loads.
const OPEN_FINDINGS: usize = 3;

pub(super) fn block(page: &mut String, index: usize, finding: &Finding) {
    let needles: Vec<&str> = finding.foreign.iter().map(|f| f.value.as_str()).collect();
    summary_line(page, index, finding);
    facts(page, finding);
    headers(page, finding, &needles);
    foreign_values(page, finding);
    let _ = writeln!(
        page,
        "<h4>Response excerpt</h4>\n<pre class=\"excerpt\">{}</pre>\n</div>\n</details>",
        highlight(&finding.response.excerpt, &needles)
    );
}

/// Opens the block with the line shown while it is closed: kind, time, page, status, who saw whom.
fn summary_line(page: &mut String, index: usize, finding: &Finding) {
    let kind = finding.kind.name();
    let _ = writeln!(
        page,
        "<details class=\"finding\" data-kind=\"{kind}\" id=\"finding-{index}\"{open}>\n<summary><span class=\"badge {cls}\">{kind}</span> <time>{at}</time> <code>{page_name}</code> → {status} · {viewer}{foreign}</summary>",
        open = if index < OPEN_FINDINGS { " open" } else { "" },
        cls = if finding.kind.fails_run() { "fail" } else { "warn" },
        at = escape(&finding.at),
        page_name = escape(&finding.request.name),
        status = finding.response.status,
        viewer = escape(&viewer_label(finding)),
        foreign = if finding.foreign.is_empty() {
            String::new()
        } else {
            format!(" · saw {}", escape(&foreign_label(finding)))
        },
    );
}

/// The finding's detail, then a table of the request, the response, when, the viewer, the
/// probable cause and its evidence, and the values missing from the page (if any).
fn facts(page: &mut String, finding: &Finding) {
    let _ = writeln!(
        page,
        "<div class=\"body\">\n<p class=\"detail\">{}</p>\n<table class=\"kv\">\n<tr><th>request</th><td><code>{} {}</code></td></tr>\n<tr><th>response</th><td>{} from <code>{}</code></td></tr>\n<tr><th>when</th><td>{} · phase {} · goose user {} · +{} ms</td></tr>\n<tr><th>viewer</th><td>{}</td></tr>\n<tr><th>probable cause</th><td><code>{}</code> — {}</td></tr>",
        escape(&finding.detail),
        escape(&finding.request.method),
        escape(&finding.request.url),
        finding.response.status,
        escape(&finding.response.final_url),
        escape(&finding.at),
        escape(&finding.phase),
        finding.user,
        finding.elapsed_ms,
        escape(&viewer_label(finding)),
        finding.probable_cause.cause.name(),
        escape(if finding.probable_cause.evidence.is_empty() {
            "no evidence points anywhere"
        } else {
            &finding.probable_cause.evidence
        }),
    );
    if !finding.missing.is_empty() {
        let _ = writeln!(
            page,
            "<tr><th>missing</th><td>{}</td></tr>",
            escape(&finding.missing.join(", "))
        );
    }
    page.push_str("</table>\n");
}

/// The response's headers: those that matter first (each said absent when it is), then the rest.
fn headers(page: &mut String, finding: &Finding, needles: &[&str]) {
    page.push_str("<h4>Headers that matter</h4>\n<table class=\"headers\">\n");
    for name in HEADERS_THAT_MATTER {
        match header(finding, name) {
            Some(value) => header_row(page, name, value, needles),
            None => {
                let _ = writeln!(
                    page,
                    "<tr><th>{}</th><td class=\"absent\">absent</td></tr>",
                    escape(name)
                );
            }
        }
    }
    for (name, value) in &finding.response.headers {
        if !HEADERS_THAT_MATTER.contains(&name.to_ascii_lowercase().as_str()) {
            header_row(page, name, value, needles);
        }
    }
    page.push_str("</table>\n");
}

fn header_row(page: &mut String, name: &str, value: &str, needles: &[&str]) {
    let _ = writeln!(
        page,
        "<tr><th>{}</th><td><code>{}</code></td></tr>",
        escape(name),
        highlight(value, needles)
    );
}

/// Each other owner's value the response carried: whose, which field, where; none, no table.
fn foreign_values(page: &mut String, finding: &Finding) {
    if finding.foreign.is_empty() {
        return;
    }
    page.push_str("<h4>Other owners' values</h4>\n<table>\n<thead><tr><th class=\"n\">owner</th><th>n° allocataire</th><th>field</th><th>where</th><th>value</th></tr></thead>\n<tbody>\n");
    for foreign in &finding.foreign {
        let _ = writeln!(
            page,
            "<tr><td class=\"n\">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td><mark>{}</mark></td></tr>",
            foreign.account.owner,
            escape(&foreign.account.numero_allocataire),
            escape(&foreign.field),
            escape(&foreign.location),
            escape(&foreign.value),
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

/// `text` escaped, each occurrence of a needle wrapped in `<mark>`.
fn highlight(text: &str, needles: &[&str]) -> String {
    let mut ranges: Vec<(usize, usize)> = needles
        .iter()
        .filter(|n| !n.is_empty())
        .flat_map(|n| text.match_indices(*n).map(|(at, m)| (at, at + m.len())))
        .collect();
    ranges.sort_unstable();
    let mut out = String::with_capacity(text.len() + 32);
    let mut at = 0;
    for (start, end) in ranges {
        let start = start.max(at);
        if start >= end {
            continue;
        }
        out.push_str(&escape(&text[at..start]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[start..end]));
        out.push_str("</mark>");
        at = end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_marks_each_foreign_value_and_escapes_the_rest() {
        let text = "<td>1 8* ** 54</td><b>1 8* ** 54</b>";
        assert_eq!(
            highlight(text, &["1 8* ** 54"]),
            "&lt;td&gt;<mark>1 8* ** 54</mark>&lt;/td&gt;&lt;b&gt;<mark>1 8* ** 54</mark>&lt;/b&gt;"
        );
        // Overlapping needles do not nest or repeat text.
        assert_eq!(
            highlight("abcdef", &["bcd", "cde"]),
            "a<mark>bcd</mark><mark>e</mark>f"
        );
        assert_eq!(highlight("a<b", &[""]), "a&lt;b");
    }
}
