//! A scenario's `[thresholds]` judged against what the run measured: the error rate from the
//! run's own counters, latencies from goose's response times, cache warnings from the findings.
//! Pure: each rule becomes a result naming its limit and the measured value.

use crate::load::GooseFigures;
use crate::scenario::{Comparison, LatencyMetric, LatencyThreshold, Thresholds};
use serde::Serialize;
use std::time::Duration;

/// One threshold and how the run measured against it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ThresholdResult {
    /// The `[thresholds]` key: `max_error_rate`, `latency` or `fail_on_cache_warnings`.
    pub threshold: &'static str,
    /// The rule in words: `error rate <= 0.01`, `p95 < 500ms for GET /x`, `cache warnings = 0`.
    pub rule: String,
    /// What `limit` and `measured` count: `share` (0 to 1), `ms` or `warnings`.
    pub unit: &'static str,
    pub limit: f64,
    /// `None` when nothing was measured (no request, or no request of that name).
    pub measured: Option<f64>,
    pub passed: bool,
    /// One sentence: the measure, and what it was compared with.
    pub detail: String,
}

/// What the run measured, as the thresholds read it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Measured<'a> {
    /// Response times, per goose row.
    pub goose: Option<&'a GooseFigures>,
    /// Requests sent and errors (by the run's own counters: refused, timed out, unreadable, 5xx).
    pub requests: u64,
    pub errors: u64,
    /// Occurrences of `cacheable_page` findings.
    pub cache_warnings: u64,
}

/// Every threshold of `thresholds` against what the run measured; empty when the scenario sets
/// none. A rule that could not be measured fails: a threshold never passes by default.
pub fn evaluate(thresholds: &Thresholds, measured: Measured<'_>) -> Vec<ThresholdResult> {
    let mut results = Vec::new();
    if let Some(limit) = thresholds.max_error_rate {
        results.push(error_rate(limit, measured.requests, measured.errors));
    }
    let empty = GooseFigures::default();
    let goose = measured.goose.unwrap_or(&empty);
    let cache_warnings = measured.cache_warnings;
    for rule in &thresholds.latency {
        results.push(latency(rule, goose));
    }
    if thresholds.fail_on_cache_warnings {
        results.push(ThresholdResult {
            threshold: "fail_on_cache_warnings",
            rule: "cache warnings (cacheable_page) = 0".to_owned(),
            unit: "warnings",
            limit: 0.0,
            measured: Some(cache_warnings as f64),
            passed: cache_warnings == 0,
            detail: if cache_warnings == 0 {
                "no personalised response was cacheable by a shared cache".to_owned()
            } else {
                format!("{cache_warnings} personalised response(s) a shared cache may store or did serve, and fail_on_cache_warnings is on")
            },
        });
    }
    results
}

fn error_rate(limit: f64, requests: u64, errors: u64) -> ThresholdResult {
    let rule = format!("error rate <= {limit}");
    if requests == 0 {
        return ThresholdResult {
            threshold: "max_error_rate",
            rule,
            unit: "share",
            limit,
            measured: None,
            passed: false,
            detail: "no request was sent, so no error rate was measured".to_owned(),
        };
    }
    let rate = errors as f64 / requests as f64;
    let passed = rate <= limit;
    ThresholdResult {
        threshold: "max_error_rate",
        rule,
        unit: "share",
        limit,
        measured: Some(rate),
        passed,
        detail: format!(
            "{} error(s) in {} requests: {:.4}, {} the limit {limit}",
            errors,
            requests,
            rate,
            if passed { "within" } else { "above" }
        ),
    }
}

fn latency(rule: &LatencyThreshold, goose: &GooseFigures) -> ThresholdResult {
    let op = match rule.comparison {
        Comparison::Less => "<",
        Comparison::LessOrEqual => "<=",
    };
    let limit_ms = rule.limit.as_secs_f64() * 1000.0;
    let mut text = format!(
        "{} {op} {}",
        rule.metric,
        humantime::format_duration(rule.limit)
    );
    if let Some(request) = &rule.request {
        text.push_str(" for ");
        text.push_str(request);
    }
    let unmeasured = |detail: String| ThresholdResult {
        threshold: "latency",
        rule: text.clone(),
        unit: "ms",
        limit: limit_ms,
        measured: None,
        passed: false,
        detail,
    };
    let Some(times) = goose.times(rule.request.as_deref()) else {
        let names: Vec<&str> = goose.pages.iter().map(|p| p.name.as_str()).collect();
        return unmeasured(format!(
            "no request named {:?} was measured; name one the report lists: {}",
            rule.request.as_deref().unwrap_or_default(),
            names.join(", ")
        ));
    };
    let measured = match rule.metric {
        LatencyMetric::Percentile(p) => times.percentile(p),
        LatencyMetric::Average => times.average(),
        LatencyMetric::Maximum => times.maximum(),
    };
    let Some(measured) = measured else {
        return unmeasured("no response was timed".to_owned());
    };
    let passed = match rule.comparison {
        Comparison::Less => measured < rule.limit,
        Comparison::LessOrEqual => measured <= rule.limit,
    };
    ThresholdResult {
        threshold: "latency",
        rule: text.clone(),
        unit: "ms",
        limit: limit_ms,
        measured: Some(round_ms(measured)),
        passed,
        detail: format!(
            "{} of {} response(s){}: {:.3} ms, {} the limit {}",
            rule.metric,
            times.count(),
            rule.request
                .as_deref()
                .map(|r| format!(" to {r}"))
                .unwrap_or_default(),
            measured.as_secs_f64() * 1000.0,
            if passed { "within" } else { "above" },
            humantime::format_duration(rule.limit)
        ),
    }
}

/// Milliseconds to the microsecond.
fn round_ms(duration: Duration) -> f64 {
    duration.as_micros() as f64 / 1000.0
}

/// The failed results, in one line for a reason: `p95 < 1ms (measured 3.2 ms); …`.
pub fn failed_line(results: &[ThresholdResult]) -> Option<String> {
    let failed: Vec<String> = results
        .iter()
        .filter(|r| !r.passed)
        .map(|r| match r.measured {
            Some(value) => format!("{} (measured {})", r.rule, measure(value, r.unit)),
            None => format!("{} (not measured)", r.rule),
        })
        .collect();
    (!failed.is_empty()).then(|| failed.join("; "))
}

/// A measure with its unit, for people.
pub fn measure(value: f64, unit: &str) -> String {
    match unit {
        "ms" => format!("{value:.3} ms"),
        "share" => format!("{value:.4}"),
        _ => format!("{value}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::{PageFigures, ResponseTimes};

    fn figures() -> GooseFigures {
        let page = |name: &str, ms: u64| PageFigures {
            name: name.to_owned(),
            key: format!("GET {name}"),
            requests: 100,
            failures: 0,
            mean_ms: ms as f64,
            max_ms: ms,
            times: ResponseTimes::from_micros((0..100).map(|_| ms * 1000)),
        };
        GooseFigures {
            requests: 200,
            pages: vec![page("profile", 10), page("GET /slow", 900)],
            ..GooseFigures::default()
        }
    }

    fn measured(goose: &GooseFigures, requests: u64, errors: u64, cache: u64) -> Measured<'_> {
        Measured {
            goose: Some(goose),
            requests,
            errors,
            cache_warnings: cache,
        }
    }

    fn thresholds(latency: &[&str], max_error_rate: Option<f64>, cache: bool) -> Thresholds {
        Thresholds {
            max_error_rate,
            latency: latency
                .iter()
                .map(|r| LatencyThreshold::parse(r).unwrap())
                .collect(),
            fail_on_cache_warnings: cache,
        }
    }

    #[test]
    fn each_rule_names_its_limit_and_the_measured_value() {
        let t = thresholds(
            &["p95 < 1s", "max < 100ms", "avg <= 10ms for profile"],
            Some(0.01),
            true,
        );
        let results = evaluate(&t, measured(&figures(), 1000, 30, 2));
        let passed: Vec<(&str, bool)> = results
            .iter()
            .map(|r| (r.rule.as_str(), r.passed))
            .collect();
        assert_eq!(
            passed,
            [
                ("error rate <= 0.01", false),
                ("p95 < 1s", true),
                ("max < 100ms", false),
                ("avg <= 10ms for profile", true),
                ("cache warnings (cacheable_page) = 0", false),
            ]
        );
        assert_eq!(results[0].measured, Some(0.03));
        assert_eq!(results[2].measured, Some(900.0));
        assert_eq!(results[2].limit, 100.0);
        let line = failed_line(&results).unwrap();
        assert!(line.contains("max < 100ms (measured 900.000 ms)"), "{line}");
        assert!(
            line.contains("error rate <= 0.01 (measured 0.0300)"),
            "{line}"
        );
    }

    #[test]
    fn a_rule_that_cannot_be_measured_fails() {
        let t = thresholds(&["p99 < 1s for GET /nowhere"], Some(0.5), false);
        let results = evaluate(&t, measured(&figures(), 0, 0, 0));
        assert!(results.iter().all(|r| !r.passed && r.measured.is_none()));
        assert!(
            results[1].detail.contains("profile, GET /slow"),
            "{results:?}"
        );
        // A goose row is also found by its `METHOD name` key.
        let t = thresholds(&["p99 < 1s for GET profile"], None, false);
        assert!(evaluate(&t, measured(&figures(), 1, 0, 0))[0].passed);
    }

    #[test]
    fn no_thresholds_no_results() {
        let results = evaluate(&Thresholds::default(), measured(&figures(), 10, 10, 5));
        assert!(results.is_empty());
        assert_eq!(failed_line(&results), None);
    }
}
