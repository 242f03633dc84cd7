//! The timeline section: requests, errors and violations per second as two charts over the run,
//! and the same rates as JSON for the hover read-out.

use super::chart::{chart, nice, Series};
use crate::report::{Rate, Timeline};

pub(super) fn section(page: &mut String, timeline: &Timeline) {
    let rates = timeline.rates();
    let start = timeline.samples.first().map_or(0.0, |s| s.at_secs);
    let steps = |value: fn(&Rate) -> f64| -> Vec<(f64, f64, f64)> {
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

/// The rates as JSON for the hover read-out: `[[from, to, requests, errors, violations], …]`,
/// with `<` escaped so the data cannot close its script element.
pub(super) fn rates_json(timeline: &Timeline) -> String {
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

fn round(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_json_cannot_close_its_script_element() {
        assert!(!rates_json(&crate::report::timeline::tests::timeline()).contains('<'));
    }
}
