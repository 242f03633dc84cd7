//! Latency thresholds as written in a scenario (`"p95 < 500ms"`), parsed into typed rules that map
//! onto goose's `--threshold` syntax. An unknown metric is an error, never a rule that passes.

use std::fmt;
use std::time::Duration;

/// What a latency rule measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum LatencyMetric {
    /// A response-time percentile, strictly between 0 and 100 (`p95`, `p99.9`).
    Percentile(f64),
    Average,
    Maximum,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Less,
    LessOrEqual,
}

/// `<metric> <op> <duration> [for <request>]`, such as `p95 < 500ms` or `max <= 2s for GET /api/dossier`.
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyThreshold {
    pub metric: LatencyMetric,
    pub comparison: Comparison,
    pub limit: Duration,
    /// Only this request (as the metrics name it), or all requests together.
    pub request: Option<String>,
}

/// The metric names, for messages.
pub const METRICS: &str = "pNN (a percentile such as p50, p95, p99 or p99.9), avg or max";

/// Why a latency rule was refused: what is wrong, and what to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RuleProblem {
    pub unknown_metric: bool,
    pub message: String,
    pub help: String,
}

impl RuleProblem {
    /// A rule refused for its shape, not for its metric's name.
    fn new(message: String, help: &str) -> Self {
        RuleProblem {
            unknown_metric: false,
            message,
            help: help.to_owned(),
        }
    }
}

impl LatencyThreshold {
    /// `rule`, read left to right: the metric, the comparison, the limit, the request it is for.
    pub(crate) fn parse(text: &str) -> Result<LatencyThreshold, RuleProblem> {
        let rule = text.trim();
        let Some(at) = rule.find(['<', '>', '=']) else {
            return Err(RuleProblem::new(
                format!("latency rule {rule:?} has no comparison"),
                "write it as \"p95 < 500ms\"",
            ));
        };
        let metric = metric(rule[..at].trim(), rule)?;
        let (comparison, rest) = comparison(&rule[at..], rule)?;
        let (value, request) = value_and_request(rest, rule)?;
        let limit = humantime::parse_duration(value).map_err(|_| {
            RuleProblem::new(
                format!("{value:?} in latency rule {rule:?} is not a duration"),
                "write a number with a unit, as in 500ms or 2s",
            )
        })?;
        if limit.is_zero() && comparison == Comparison::Less {
            return Err(RuleProblem::new(
                format!("latency rule {rule:?} can never pass"),
                "give a limit above 0, as in \"p95 < 500ms\"",
            ));
        }
        Ok(LatencyThreshold {
            metric,
            comparison,
            limit,
            request: request.map(str::to_owned),
        })
    }

    /// The rule in goose's `--threshold` syntax: `p95<500ms`, `max<=2000ms for GET /`.
    pub fn goose_rule(&self) -> String {
        let micros = self.limit.as_micros();
        let limit = if micros % 1000 == 0 {
            format!("{}ms", micros / 1000)
        } else {
            format!("{micros}us")
        };
        let op = match self.comparison {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
        };
        let mut rule = format!("{}{op}{limit}", self.metric);
        if let Some(request) = &self.request {
            rule.push_str(" for ");
            rule.push_str(request);
        }
        rule
    }
}

impl fmt::Display for LatencyMetric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LatencyMetric::Percentile(p) => write!(f, "p{p}"),
            LatencyMetric::Average => f.write_str("avg"),
            LatencyMetric::Maximum => f.write_str("max"),
        }
    }
}

/// The metric `name` (the words of `rule` before its comparison) measures.
fn metric(name: &str, rule: &str) -> Result<LatencyMetric, RuleProblem> {
    match name {
        "avg" => Ok(LatencyMetric::Average),
        "max" => Ok(LatencyMetric::Maximum),
        _ => match name.strip_prefix('p').and_then(plain_number) {
            Some(p) if p > 0.0 && p < 100.0 => Ok(LatencyMetric::Percentile(p)),
            Some(_) => Err(RuleProblem::new(
                format!("percentile {name:?} in {rule:?} is out of range"),
                "a percentile is strictly between p0 and p100, such as p95 or p99.9",
            )),
            None => Err(unknown_metric(name, rule)),
        },
    }
}

/// A metric crossleak does not know, with the one the user most likely meant.
fn unknown_metric(name: &str, rule: &str) -> RuleProblem {
    let help = match name {
        "mean" | "average" => "did you mean \"avg\"?".to_owned(),
        "median" => "did you mean \"p50\"?".to_owned(),
        "error-rate" | "error_rate" | "errors" => {
            "the error rate has its own key: max_error_rate = 0.01".to_owned()
        }
        _ => format!("use {METRICS}, as in \"p95 < 500ms\""),
    };
    RuleProblem {
        unknown_metric: true,
        message: format!("unknown latency metric {name:?} in {rule:?}"),
        help,
    }
}

/// The comparison `rest` (the rule from its first `<`, `>` or `=`) starts with, and what follows.
fn comparison<'r>(rest: &'r str, rule: &str) -> Result<(Comparison, &'r str), RuleProblem> {
    if let Some(rest) = rest.strip_prefix("<=") {
        Ok((Comparison::LessOrEqual, rest))
    } else if let Some(rest) = rest.strip_prefix('<') {
        Ok((Comparison::Less, rest))
    } else {
        Err(RuleProblem::new(
            format!("latency rule {rule:?} must bound the time from above"),
            "use < or <=, as in \"p95 < 500ms\"",
        ))
    }
}

/// The limit's text and the request after ` for `, if any: `500ms for GET /` → (`500ms`, `GET /`).
fn value_and_request<'r>(
    rest: &'r str,
    rule: &str,
) -> Result<(&'r str, Option<&'r str>), RuleProblem> {
    let (value, request) = match rest.find(" for ") {
        Some(at) => (rest[..at].trim(), Some(rest[at + 5..].trim())),
        None => match rest.strip_suffix(" for") {
            Some(value) => (value.trim(), Some("")),
            None => (rest.trim(), None),
        },
    };
    if request == Some("") {
        return Err(RuleProblem::new(
            format!("latency rule {rule:?} ends with \"for\" but names no request"),
            "name the request as the report does, as in \"p99 < 2s for GET /api/dossier\"",
        ));
    }
    Ok((value, request))
}

/// Digits with at most one dot: no sign, exponent or `inf`.
fn plain_number(text: &str) -> Option<f64> {
    let ok = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.matches('.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    ok.then(|| text.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_map_onto_goose_syntax() {
        let rule = LatencyThreshold::parse("p95 < 500ms").unwrap();
        assert_eq!(rule.metric, LatencyMetric::Percentile(95.0));
        assert_eq!(rule.limit, Duration::from_millis(500));
        assert_eq!(rule.goose_rule(), "p95<500ms");
        let rule = LatencyThreshold::parse("p99.9<=2s for GET /api/dossier").unwrap();
        assert_eq!(rule.goose_rule(), "p99.9<=2000ms for GET /api/dossier");
        assert_eq!(
            LatencyThreshold::parse("avg<250us").unwrap().goose_rule(),
            "avg<250us"
        );
        assert_eq!(
            LatencyThreshold::parse("max < 1s").unwrap().metric,
            LatencyMetric::Maximum
        );
    }

    #[test]
    fn unknown_metrics_are_refused_with_the_valid_ones() {
        let problem = LatencyThreshold::parse("p95x < 1s").unwrap_err();
        assert!(problem.unknown_metric);
        assert!(problem.help.contains("avg or max"), "{problem:?}");
        let problem = LatencyThreshold::parse("mean < 1s").unwrap_err();
        assert!(problem.help.contains("\"avg\""), "{problem:?}");
    }

    #[test]
    fn malformed_rules_say_why() {
        for (rule, fragment) in [
            ("p95 500ms", "no comparison"),
            ("p95 > 500ms", "from above"),
            ("p100 < 1s", "out of range"),
            ("p95 < fast", "not a duration"),
            ("p95 < 0ms", "never pass"),
            ("p95 < 1s for ", "names no request"),
        ] {
            let problem = LatencyThreshold::parse(rule).unwrap_err();
            assert!(!problem.unknown_metric, "{rule}");
            assert!(problem.message.contains(fragment), "{rule}: {problem:?}");
        }
    }
}
