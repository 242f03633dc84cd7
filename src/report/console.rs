//! What a person sees in the terminal at the end of a run: the summary table on stdout.
//! (The live progress line belongs to the run: `run::Progress`.)

use super::Summary;
use crate::findings::FindingKind;
use std::path::Path;

/// Prints the final table to stdout.
pub fn print_summary(summary: &Summary, dir: &Path) {
    let row = |label: &str, value: String| println!("  {label:<20} {value}");
    println!();
    println!(
        "crossleak {} — target {} — faults: {}",
        summary.command,
        summary.target,
        if summary.faults.is_empty() {
            "none".to_owned()
        } else {
            summary.faults.join(", ")
        }
    );
    row(
        "users",
        format!(
            "{} ({} beneficiaries in the population)",
            summary.users, summary.population
        ),
    );
    row(
        "requests",
        format!(
            "{} in {:.1} s ({:.0}/s)",
            summary.requests, summary.duration_secs, summary.requests_per_second
        ),
    );
    row("checked responses", summary.checked_responses.to_string());
    row("errors", errors_line(summary));
    row(
        "connections",
        format!(
            "{} HTTP/1.1, {} HTTP/2",
            summary.connections.http1, summary.connections.http2
        ),
    );
    row(
        "logins",
        format!(
            "{} ok, {} failed ({} landed on a page without the user's must_show values), {} again after a lost session",
            summary.logins.succeeded,
            summary.logins.failed,
            summary.logins.failed_must_show,
            summary.logins.again
        ),
    );
    row(
        "violations",
        violations_breakdown(summary.violations, |kind| summary.count(kind)),
    );
    let lost = summary.count(FindingKind::LostWrite);
    if lost > 0 {
        row(
            "warnings",
            format!("{lost} lost write(s): a user's own page without the value it just wrote"),
        );
    }
    row(
        "affected accounts",
        summary.affected_accounts.len().to_string(),
    );
    print_affected(summary);
    print_thresholds(summary);
    row("reports", dir.display().to_string());
    row("open", dir.join(super::HTML).display().to_string());
    println!(
        "RESULT: {} — {} (exit {})",
        summary.status.label(),
        summary.reason,
        summary.status.exit_code()
    );
}

/// `0`, or the total and each cause: `7 (timeout 5, server_error 2)`.
fn errors_line(summary: &Summary) -> String {
    if summary.errors == 0 {
        return "0".to_owned();
    }
    format!("{} ({})", summary.errors, summary.error_causes().join(", "))
}

/// The first ten exposed accounts, one line each.
fn print_affected(summary: &Summary) {
    let affected = &summary.affected_accounts;
    for account in affected.iter().take(10) {
        println!(
            "    n° {} — seen by {} user(s) on {}, fields: {}",
            account.numero_allocataire,
            account.seen_by.len() + usize::from(account.seen_by_observer),
            account.pages.iter().cloned().collect::<Vec<_>>().join(", "),
            account
                .fields
                .iter()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if affected.len() > 10 {
        println!("    … and {} more in summary.json", affected.len() - 10);
    }
}

/// Each scenario threshold: passed or failed, its limit and the measured value.
fn print_thresholds(summary: &Summary) {
    let row = |label: &str, value: String| println!("  {label:<20} {value}");
    for result in &summary.thresholds {
        let measured = result.measured.map_or_else(
            || "not measured".to_owned(),
            |v| super::thresholds::measure(v, result.unit),
        );
        row(
            "threshold",
            format!(
                "{} {} — limit {}, measured {measured}",
                if result.passed { "passed" } else { "FAILED" },
                result.rule,
                super::thresholds::measure(result.limit, result.unit),
            ),
        );
    }
}

/// `12 (foreign data 9, cross-writes 1, wrong identities 0, stale sessions 2, token collisions 0)`:
/// every kind that fails a run, so the parts add up to the total.
fn violations_breakdown(total: u64, count: impl Fn(FindingKind) -> u64) -> String {
    let parts: Vec<String> = FindingKind::ALL
        .iter()
        .filter(|kind| kind.fails_run())
        .map(|kind| format!("{} {}", kind_label(*kind), count(*kind)))
        .collect();
    format!("{total} ({})", parts.join(", "))
}

fn kind_label(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::Violation => "foreign data",
        FindingKind::CrossWrite => "cross-writes",
        FindingKind::WrongIdentity => "wrong identities",
        FindingKind::LostWrite => "lost writes",
        FindingKind::StaleSession => "stale sessions",
        FindingKind::TokenCollision => "token collisions",
        FindingKind::CacheablePage => "cacheable pages",
        FindingKind::ParserFailure => "parser failures",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_violations_breakdown_adds_up_to_the_total() {
        let count = |kind: FindingKind| match kind {
            FindingKind::Violation => 3,
            FindingKind::StaleSession => 2,
            FindingKind::TokenCollision => 1,
            FindingKind::CacheablePage => 40,
            _ => 0,
        };
        let total: u64 = FindingKind::ALL
            .iter()
            .filter(|k| k.fails_run())
            .map(|k| count(*k))
            .sum();
        let line = violations_breakdown(total, count);
        assert_eq!(
            line,
            "6 (foreign data 3, cross-writes 0, wrong identities 0, stale sessions 2, token collisions 1)"
        );
    }
}
