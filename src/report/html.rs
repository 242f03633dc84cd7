//! `report.html`: one self-contained page (inline CSS, SVG and script; no network) — the timeline,
//! the phases, the checks, the affected accounts, the cross-writes and every finding's evidence.
//! The charts are SVG drawn here, so they show even where scripts are blocked; the script only adds
//! a hover read-out and the evidence filter. Every value from the run is HTML-escaped.

use super::thresholds::measure;
use super::{
    escape, foreign_label, header, viewer_label, CheckOutcome, PhaseSpan, Summary, Timeline,
    HEADERS_THAT_MATTER,
};
use crate::findings::{Cause, Finding, FindingKind};
use crate::outcome::Status;
use std::fmt::Write;

/// Findings shown in full; the rest are in `findings.jsonl` and `evidence.har`.
const SHOWN_FINDINGS: usize = 300;
/// Rows of the affected-accounts table; all of them are in `affected.csv`.
const SHOWN_ACCOUNTS: usize = 2_000;
/// Findings open when the page loads.
const OPEN_FINDINGS: usize = 3;

pub fn html(
    summary: &Summary,
    timeline: &Timeline,
    recorded: &[Finding],
    goose_report: bool,
) -> String {
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
    header_section(&mut page, summary, goose_report);
    timeline_section(&mut page, timeline);
    phases_section(&mut page, summary);
    checks_section(&mut page, summary);
    causes_section(&mut page, summary);
    thresholds_section(&mut page, summary);
    accounts_section(&mut page, summary);
    cross_writes_section(&mut page, summary);
    evidence_section(&mut page, recorded);
    let _ = write!(
        page,
        "<footer>crossleak {} · run {} · written {}</footer>\n<script type=\"application/json\" id=\"rates\">{}</script>\n<script>{SCRIPT}</script>\n</body>\n</html>\n",
        escape(env!("CARGO_PKG_VERSION")),
        escape(&summary.run_id),
        escape(&summary.finished_at),
        rates_json(timeline),
    );
    page
}

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

fn header_section(page: &mut String, summary: &Summary, goose_report: bool) {
    let _ = write!(
        page,
        "<header>\n<h1>crossleak <span class=\"run\">{}</span></h1>\n<p class=\"status s-{}\" id=\"status\"><b>{}</b> (exit {}) — {}</p>\n",
        escape(&summary.run_id),
        status_key(summary.status),
        escape(summary.status.label()),
        summary.status.exit_code(),
        escape(&summary.reason),
    );
    if summary.masking == "revealed" {
        page.push_str("<p class=\"notice revealed\" id=\"masking\"><b>Revealed:</b> this report shows identifying values unmasked (<code>--reveal</code>). It holds personal data: store and share it as such.</p>\n");
    } else {
        page.push_str("<p class=\"notice masked\" id=\"masking\"><b>Masked:</b> identifying values are masked (<code>06******34</code>): enough to tell them apart, not to use them. <code>--reveal</code> shows them, and the report then says so.</p>\n");
    }
    let faults = if summary.faults.is_empty() {
        "none".to_owned()
    } else {
        summary.faults.join(", ")
    };
    let scenario = match &summary.scenario.file {
        Some(file) => format!("{} ({file})", summary.scenario.name),
        None => format!("{} (built in)", summary.scenario.name),
    };
    let facts: Vec<(&str, String)> = vec![
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
    ];
    page.push_str("<dl class=\"facts\">\n");
    for (label, value) in facts {
        let _ = writeln!(
            page,
            "<div><dt>{}</dt><dd>{}</dd></div>",
            escape(label),
            escape(&value)
        );
    }
    page.push_str("</dl>\n<nav class=\"files\">Files beside this one: ");
    if goose_report {
        let _ = write!(
            page,
            "<a id=\"goose-report\" href=\"{0}\">{0}</a> (goose's own report) · ",
            super::GOOSE_REPORT
        );
    } else {
        page.push_str(
            "<span class=\"absent\">goose-report.html (not written: no load ran)</span> · ",
        );
    }
    let links: Vec<String> = super::FILES
        .iter()
        .filter(|(_, name)| *name != super::HTML)
        .map(|(_, name)| format!("<a href=\"{name}\">{name}</a>"))
        .collect();
    page.push_str(&links.join(" · "));
    page.push_str("</nav>\n</header>\n");
}

struct Series {
    key: &'static str,
    label: &'static str,
    colour: &'static str,
    /// (start, end, value) per interval.
    steps: Vec<(f64, f64, f64)>,
}

fn timeline_section(page: &mut String, timeline: &Timeline) {
    let rates = timeline.rates();
    let start = timeline.samples.first().map_or(0.0, |s| s.at_secs);
    let steps = |value: fn(&super::Rate) -> f64| -> Vec<(f64, f64, f64)> {
        let mut from = start;
        rates
            .iter()
            .map(|r| {
                let step = (from, r.at_secs, value(r));
                from = r.at_secs;
                step
            })
            .collect()
    };
    let requests = vec![Series {
        key: "requests",
        label: "requests/s",
        colour: "#2563eb",
        steps: steps(|r| r.requests),
    }];
    let failures = vec![
        Series {
            key: "errors",
            label: "errors/s",
            colour: "#d97706",
            steps: steps(|r| r.errors),
        },
        Series {
            key: "violations",
            label: "violations/s",
            colour: "#dc2626",
            steps: steps(|r| r.violations),
        },
    ];
    let span = timeline.span_secs().max(1.0);
    let x_max = (span / nice(span / 8.0)).ceil() * nice(span / 8.0);
    page.push_str("<section id=\"timeline\">\n<h2>Timeline</h2>\n<p class=\"hint\">Per second; shaded bands are the phases. Violations/s counts every occurrence of a finding that fails the run.</p>\n");
    page.push_str(&chart(
        "chart-requests",
        "Requests per second",
        &requests,
        x_max,
        &timeline.phases,
    ));
    page.push_str(&chart(
        "chart-failures",
        "Errors and violations per second",
        &failures,
        x_max,
        &timeline.phases,
    ));
    page.push_str("<div id=\"readout\" class=\"readout\" hidden></div>\n</section>\n");
}

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 230.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 30.0;

/// One SVG line chart of step series over `0..x_max` seconds, with the phases as bands.
fn chart(id: &str, title: &str, series: &[Series], x_max: f64, phases: &[PhaseSpan]) -> String {
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y_top = series
        .iter()
        .flat_map(|s| s.steps.iter().map(|(_, _, v)| *v))
        .fold(0.0_f64, f64::max);
    let y_max = nice(y_top.max(1.0));
    let x = |t: f64| LEFT + (t / x_max).clamp(0.0, 1.0) * plot_w;
    let y = |v: f64| TOP + plot_h - (v / y_max).clamp(0.0, 1.0) * plot_h;
    let points = series.first().map_or(0, |s| s.steps.len());
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        "<figure class=\"chart\"><svg id=\"{id}\" class=\"chart\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{t}\" data-points=\"{points}\" data-x-max=\"{x_max}\" data-left=\"{LEFT}\" data-plot-width=\"{plot_w}\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui, sans-serif\" font-size=\"11\">\n<title>{t}</title>",
        t = escape(title),
    );
    for (i, phase) in phases.iter().enumerate() {
        let (x0, x1) = (x(phase.start_secs), x(phase.end_secs));
        let _ = writeln!(
            svg,
            "<rect class=\"phase\" data-phase=\"{name}\" x=\"{x0:.1}\" y=\"{TOP}\" width=\"{w:.1}\" height=\"{plot_h}\" fill=\"{fill}\"/><line x1=\"{x0:.1}\" y1=\"{y0}\" x2=\"{x0:.1}\" y2=\"{y1}\" stroke=\"#64748b\" stroke-dasharray=\"4 3\"/><line x1=\"{x1:.1}\" y1=\"{y0}\" x2=\"{x1:.1}\" y2=\"{y1}\" stroke=\"#64748b\" stroke-dasharray=\"4 3\"/><text x=\"{tx:.1}\" y=\"{ty}\" fill=\"#475569\">phase {name}</text>",
            name = escape(&phase.name),
            w = (x1 - x0).max(0.5),
            fill = if i % 2 == 0 { "#eef2ff" } else { "#f1f5f9" },
            y0 = TOP - 6.0,
            y1 = TOP + plot_h,
            tx = x0 + 4.0,
            ty = TOP - 9.0,
        );
    }
    for i in 0..=4 {
        let value = y_max * f64::from(i) / 4.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{py:.1}\" x2=\"{x2}\" y2=\"{py:.1}\" stroke=\"#e2e8f0\"/><text x=\"{tx}\" y=\"{ty:.1}\" text-anchor=\"end\" fill=\"#475569\">{label}</text>",
            py = y(value),
            x2 = LEFT + plot_w,
            tx = LEFT - 6.0,
            ty = y(value) + 4.0,
            label = number(value),
        );
    }
    let step = nice(x_max / 8.0);
    let mut tick = 0.0;
    while tick <= x_max + 1e-9 {
        let _ = writeln!(
            svg,
            "<text x=\"{tx:.1}\" y=\"{ty}\" text-anchor=\"middle\" fill=\"#475569\">{label}s</text>",
            tx = x(tick),
            ty = TOP + plot_h + 16.0,
            label = number(tick),
        );
        tick += step;
    }
    let _ = writeln!(
        svg,
        "<line x1=\"{LEFT}\" y1=\"{y0}\" x2=\"{x2}\" y2=\"{y0}\" stroke=\"#94a3b8\"/>",
        y0 = TOP + plot_h,
        x2 = LEFT + plot_w
    );
    for (i, s) in series.iter().enumerate() {
        let mut points = String::new();
        for (from, to, value) in &s.steps {
            let _ = write!(
                points,
                "{:.1},{:.1} {:.1},{:.1} ",
                x(*from),
                y(*value),
                x(*to),
                y(*value)
            );
        }
        let _ = writeln!(
            svg,
            "<polyline class=\"series\" data-series=\"{key}\" data-points=\"{n}\" points=\"{points}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.8\" stroke-linejoin=\"round\"/><rect x=\"{lx:.1}\" y=\"8\" width=\"12\" height=\"3\" fill=\"{colour}\"/><text x=\"{tx:.1}\" y=\"13\" fill=\"#1e293b\">{label}</text>",
            key = s.key,
            n = s.steps.len(),
            points = points.trim_end(),
            colour = s.colour,
            lx = LEFT + plot_w - 230.0 + 115.0 * i as f64,
            tx = LEFT + plot_w - 214.0 + 115.0 * i as f64,
            label = escape(s.label),
        );
    }
    if points == 0 {
        let _ = writeln!(
            svg,
            "<text x=\"{cx}\" y=\"{cy}\" text-anchor=\"middle\" fill=\"#64748b\" font-size=\"14\">no load ran: nothing to chart</text>",
            cx = LEFT + plot_w / 2.0,
            cy = TOP + plot_h / 2.0
        );
    }
    let _ = writeln!(
        svg,
        "<line class=\"guide\" x1=\"0\" y1=\"{TOP}\" x2=\"0\" y2=\"{y1}\" stroke=\"#0f172a\" stroke-width=\"1\" visibility=\"hidden\"/>\n</svg><figcaption>{}</figcaption></figure>",
        escape(title),
        y1 = TOP + plot_h,
    );
    svg
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `value`.
fn nice(value: f64) -> f64 {
    if value <= 0.0 || !value.is_finite() {
        return 1.0;
    }
    let exponent = 10f64.powf(value.log10().floor());
    let fraction = value / exponent;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * exponent
}

fn number(value: f64) -> String {
    if (value - value.round()).abs() < 1e-9 {
        format!("{}", value.round() as i64)
    } else {
        format!("{value:.2}")
    }
}

/// The rates as JSON for the hover read-out: `[[from, to, requests, errors, violations], …]`,
/// with `<` escaped so the data cannot close its script element.
fn rates_json(timeline: &Timeline) -> String {
    let mut from = timeline.samples.first().map_or(0.0, |s| s.at_secs);
    let rows: Vec<[f64; 5]> = timeline
        .rates()
        .iter()
        .map(|r| {
            let row = [
                round(from),
                round(r.at_secs),
                round(r.requests),
                round(r.errors),
                round(r.violations),
            ];
            from = r.at_secs;
            row
        })
        .collect();
    serde_json::to_string(&rows)
        .unwrap_or_else(|_| "[]".into())
        .replace('<', "\\u003c")
}

/// `2026-11-23 10:10:33 UTC` from an RFC 3339 time; the text as is otherwise.
fn date_time(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%Y-%m-%d %H:%M:%S UTC")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

/// `10:10:33.614` from an RFC 3339 time, the date being in the header; the text as is otherwise.
fn clock(rfc3339: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .map(|t| {
            t.with_timezone(&chrono::Utc)
                .format("%H:%M:%S%.3f")
                .to_string()
        })
        .unwrap_or_else(|_| rfc3339.to_owned())
}

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

fn phases_section(page: &mut String, summary: &Summary) {
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

fn checks_section(page: &mut String, summary: &Summary) {
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

/// Each probable cause the run's findings point to, with what to look at; absent when none did.
fn causes_section(page: &mut String, summary: &Summary) {
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

/// The scenario's thresholds, each with its limit and the measured value; absent when it set none.
fn thresholds_section(page: &mut String, summary: &Summary) {
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

fn accounts_section(page: &mut String, summary: &Summary) {
    let accounts = &summary.affected_accounts;
    let _ = writeln!(
        page,
        "<section id=\"affected\">\n<h2>Affected accounts <span class=\"count\">{}</span></h2>",
        accounts.len()
    );
    if accounts.is_empty() {
        page.push_str("<p>No account's data was seen by anyone else.</p>\n</section>\n");
        return;
    }
    if let Some(window) = &summary.exposure {
        let _ = writeln!(
            page,
            "<p>Exposed from <b>{}</b> to <b>{}</b> ({:.1} s). Each row: whose data was seen, by which simulated users (their accounts), on which pages, which fields, first and last time. <a href=\"{}\">affected.csv</a> has every row, for the cancellations and the notices.</p>",
            escape(&window.first_seen),
            escape(&window.last_seen),
            window.duration_secs,
            super::AFFECTED
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
            super::seconds_between(&account.first_seen, &account.last_seen),
            account.findings,
        );
    }
    page.push_str("</tbody>\n</table>\n");
    if accounts.len() > SHOWN_ACCOUNTS {
        let _ = writeln!(
            page,
            "<p class=\"hint\">… and {} more in affected.csv.</p>",
            accounts.len() - SHOWN_ACCOUNTS
        );
    }
    page.push_str("</section>\n");
}

fn cross_writes_section(page: &mut String, summary: &Summary) {
    let writes = &summary.cross_writes;
    let _ = writeln!(
        page,
        "<section id=\"cross-writes\">\n<h2>Writes under a wrong identity <span class=\"count\">{}</span></h2>",
        writes.len()
    );
    if writes.is_empty() {
        page.push_str(
            "<p>No write was seen landing in another beneficiary's file.</p>\n</section>\n",
        );
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

fn evidence_section(page: &mut String, recorded: &[Finding]) {
    let _ = writeln!(
        page,
        "<section id=\"evidence\">\n<h2>Evidence <span class=\"count\">{}</span></h2>",
        recorded.len()
    );
    if recorded.is_empty() {
        page.push_str("<p>No finding.</p>\n</section>\n");
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
        finding_block(page, i, finding);
    }
    if recorded.len() > SHOWN_FINDINGS {
        let _ = writeln!(
            page,
            "<p class=\"hint\">… and {} more findings in findings.jsonl and evidence.har.</p>",
            recorded.len() - SHOWN_FINDINGS
        );
    }
    page.push_str("</section>\n");
}

fn finding_block(page: &mut String, index: usize, finding: &Finding) {
    let kind = finding.kind.name();
    let needles: Vec<&str> = finding.foreign.iter().map(|f| f.value.as_str()).collect();
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
    page.push_str("</table>\n<h4>Headers that matter</h4>\n<table class=\"headers\">\n");
    for name in HEADERS_THAT_MATTER {
        match header(finding, name) {
            Some(value) => {
                let _ = writeln!(
                    page,
                    "<tr><th>{}</th><td><code>{}</code></td></tr>",
                    escape(name),
                    highlight(value, &needles)
                );
            }
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
            let _ = writeln!(
                page,
                "<tr><th>{}</th><td><code>{}</code></td></tr>",
                escape(name),
                highlight(value, &needles)
            );
        }
    }
    page.push_str("</table>\n");
    if !finding.foreign.is_empty() {
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
    let _ = writeln!(
        page,
        "<h4>Response excerpt</h4>\n<pre class=\"excerpt\">{}</pre>\n</div>\n</details>",
        highlight(&finding.response.excerpt, &needles)
    );
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

/// Runs first: any script error is counted on the root element, so a browser test can see it.
const ERROR_TRAP: &str = "window.addEventListener('error',function(e){var r=document.documentElement;r.setAttribute('data-js-errors',String((+r.getAttribute('data-js-errors')||0)+1));r.setAttribute('data-js-error',String(e.message));});";

const STYLE: &str = r#"
:root{--fg:#0f172a;--muted:#475569;--line:#e2e8f0;--bad:#dc2626;--warn:#d97706;--ok:#16a34a}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1200px;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h1 .run{font-weight:400;color:var(--muted);font-size:16px}
h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
h2 .count{font-weight:400;color:var(--muted)}
h4{margin:12px 0 4px;font-size:13px;color:var(--muted)}
.status{padding:10px 12px;border-radius:6px;border-left:6px solid;margin:8px 0}
.s-clean{background:#f0fdf4;border-color:var(--ok)}.s-violations{background:#fef2f2;border-color:var(--bad)}
.s-inconclusive,.s-interrupted,.s-thresholds_failed{background:#fffbeb;border-color:var(--warn)}.s-unreachable,.s-usage_error{background:#f1f5f9;border-color:#64748b}
.notice{padding:8px 12px;border-radius:6px;margin:8px 0}
.notice.masked{background:#f1f5f9}.notice.revealed{background:#fee2e2;border:2px solid var(--bad)}
.facts{display:grid;grid-template-columns:repeat(auto-fill,minmax(210px,1fr));gap:6px 16px;margin:12px 0}
.facts div{border-bottom:1px solid var(--line);padding:2px 0}.facts dt{color:var(--muted);font-size:12px}.facts dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.files{margin:8px 0;color:var(--muted)}
a{color:#1d4ed8}
table{border-collapse:collapse;width:100%;margin:6px 0;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f8fafc;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.scroll{overflow-x:auto}td time,td.t{white-space:nowrap}
td.bad,.o-failed{color:var(--bad);font-weight:600}.o-warned{color:var(--warn);font-weight:600}.o-passed{color:var(--ok)}.o-not-run{color:var(--muted)}
.absent{color:#94a3b8;font-style:italic}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
figure.chart{margin:8px 0 16px}figure.chart svg{width:100%;height:auto;display:block;border:1px solid var(--line);border-radius:6px;background:#fff}
figcaption{color:var(--muted);font-size:12px}
.readout{position:fixed;pointer-events:none;background:#0f172a;color:#fff;padding:4px 8px;border-radius:4px;font-size:12px}
.hint{color:var(--muted);font-size:12px}
details.finding{border:1px solid var(--line);border-radius:6px;margin:6px 0;padding:0 10px}
details.finding summary{cursor:pointer;padding:6px 0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:0 6px;border-radius:4px;color:#fff;font-size:12px}.badge.fail{background:var(--bad)}.badge.warn{background:var(--warn)}
.kv th{width:110px}.headers th{width:140px}
pre.excerpt{white-space:pre-wrap;overflow-wrap:anywhere;background:#f8fafc;border:1px solid var(--line);padding:8px;border-radius:4px;max-height:320px;overflow:auto}
mark{background:#fde047;color:#000;padding:0 1px;border-radius:2px}
.filter button{border:1px solid var(--line);background:#fff;border-radius:4px;padding:2px 8px;cursor:pointer}.filter button.on{background:#0f172a;color:#fff}
footer{margin-top:32px;color:var(--muted);font-size:12px}
"#;

/// The hover read-out over the charts and the evidence filter; marks the page `data-js="ready"`.
const SCRIPT: &str = r#"
(function(){
  var rates = JSON.parse(document.getElementById('rates').textContent || '[]');
  var readout = document.getElementById('readout');
  function fmt(v){ return (Math.round(v * 10) / 10).toString(); }
  Array.prototype.forEach.call(document.querySelectorAll('svg.chart'), function(svg){
    var guide = svg.querySelector('line.guide');
    var xMax = +svg.getAttribute('data-x-max'), left = +svg.getAttribute('data-left');
    var plotWidth = +svg.getAttribute('data-plot-width');
    svg.addEventListener('mousemove', function(event){
      var box = svg.getBoundingClientRect();
      var x = (event.clientX - box.left) * (svg.viewBox.baseVal.width / box.width);
      var t = (x - left) / plotWidth * xMax;
      var row = null;
      for (var i = 0; i < rates.length; i++) { if (t >= rates[i][0] && t <= rates[i][1]) { row = rates[i]; break; } }
      if (!row) { readout.hidden = true; guide.setAttribute('visibility', 'hidden'); return; }
      guide.setAttribute('x1', x); guide.setAttribute('x2', x); guide.setAttribute('visibility', 'visible');
      readout.textContent = fmt(row[0]) + '–' + fmt(row[1]) + ' s: ' + fmt(row[2]) + ' requests/s, ' + fmt(row[3]) + ' errors/s, ' + fmt(row[4]) + ' violations/s';
      readout.style.left = (event.clientX + 12) + 'px'; readout.style.top = (event.clientY + 12) + 'px';
      readout.hidden = false;
    });
    svg.addEventListener('mouseleave', function(){ readout.hidden = true; guide.setAttribute('visibility', 'hidden'); });
  });
  var filter = document.getElementById('filter');
  if (filter) {
    filter.addEventListener('click', function(event){
      var kind = event.target.getAttribute && event.target.getAttribute('data-kind');
      if (!kind) { return; }
      Array.prototype.forEach.call(filter.querySelectorAll('button'), function(b){ b.classList.toggle('on', b === event.target); });
      Array.prototype.forEach.call(document.querySelectorAll('details.finding'), function(d){
        d.hidden = kind !== 'all' && d.getAttribute('data-kind') !== kind;
      });
    });
  }
  document.documentElement.setAttribute('data-js', 'ready');
  document.documentElement.setAttribute('data-rates', String(rates.length));
})();
"#;

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

    #[test]
    fn backquoted_parts_become_code() {
        assert_eq!(
            with_code("add `Vary` and `private` &amp; more"),
            "add <code>Vary</code> and <code>private</code> &amp; more"
        );
    }

    #[test]
    fn nice_rounds_up_to_one_two_five() {
        assert_eq!(nice(0.3), 0.5);
        assert_eq!(nice(7.0), 10.0);
        assert_eq!(nice(120.0), 200.0);
        assert_eq!(nice(0.0), 1.0);
    }

    #[test]
    fn rates_json_cannot_close_its_script_element() {
        assert!(!rates_json(&crate::report::timeline::tests::timeline()).contains('<'));
    }
}
