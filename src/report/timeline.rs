//! The run's timeline: every second, a copy of the cumulative counters (requests, errors, checked
//! responses, findings by kind), and the phase boundaries. Data only: `run::Sampler` records it.

use crate::findings::FindingKind;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// The cumulative counters at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// Seconds since the run started.
    pub at_secs: f64,
    pub requests: u64,
    pub errors: u64,
    pub checked: u64,
    /// Occurrences of each finding kind so far, in `FindingKind::ALL` order.
    pub findings: Vec<u64>,
}

impl Sample {
    /// Occurrences so far of the kinds that fail a run.
    pub fn failing(&self) -> u64 {
        kinds_where(&self.findings, FindingKind::fails_run)
    }

    /// Occurrences so far of the warning kinds.
    pub fn warnings(&self) -> u64 {
        kinds_where(&self.findings, |k| !k.fails_run())
    }

    pub fn count(&self, kind: FindingKind) -> u64 {
        FindingKind::ALL
            .iter()
            .position(|k| *k == kind)
            .and_then(|i| self.findings.get(i))
            .copied()
            .unwrap_or(0)
    }
}

fn kinds_where(findings: &[u64], keep: impl Fn(FindingKind) -> bool) -> u64 {
    FindingKind::ALL
        .iter()
        .zip(findings)
        .filter(|(k, _)| keep(**k))
        .map(|(_, n)| n)
        .sum()
}

/// One phase of the run, from its start to its end.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PhaseSpan {
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// Seconds since the run started.
    pub start_secs: f64,
    pub end_secs: f64,
}

/// What happened during one phase: the difference of the counters at its two ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PhaseFigures {
    pub requests: u64,
    pub errors: u64,
    pub checked: u64,
    /// Occurrences by kind name, every kind present.
    pub findings_by_kind: BTreeMap<String, u64>,
}

impl PhaseFigures {
    pub fn count(&self, kind: FindingKind) -> u64 {
        self.findings_by_kind.get(kind.name()).copied().unwrap_or(0)
    }
}

/// Rates over one interval between two samples, placed at the interval's end.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rate {
    pub at_secs: f64,
    pub requests: f64,
    pub errors: f64,
    /// Findings that fail the run (violations, cross-writes, wrong identities…), per second.
    pub violations: f64,
    pub warnings: f64,
}

/// Every sample of a run and its phases.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timeline {
    pub samples: Vec<Sample>,
    pub phases: Vec<PhaseSpan>,
}

impl Timeline {
    /// Per-interval rates; intervals shorter than 50 ms (a final sample right after a tick) are
    /// folded into the next one.
    pub fn rates(&self) -> Vec<Rate> {
        let mut rates = Vec::new();
        let Some(mut previous) = self.samples.first() else {
            return rates;
        };
        for sample in &self.samples[1..] {
            let dt = sample.at_secs - previous.at_secs;
            if dt < 0.05 {
                continue;
            }
            let per_second = |now: u64, then: u64| now.saturating_sub(then) as f64 / dt;
            rates.push(Rate {
                at_secs: sample.at_secs,
                requests: per_second(sample.requests, previous.requests),
                errors: per_second(sample.errors, previous.errors),
                violations: per_second(sample.failing(), previous.failing()),
                warnings: per_second(sample.warnings(), previous.warnings()),
            });
            previous = sample;
        }
        rates
    }

    /// The counters' difference between the phase's first and last samples.
    pub fn figures(&self, phase: &PhaseSpan) -> PhaseFigures {
        const SLACK: f64 = 0.001;
        let inside: Vec<&Sample> = self
            .samples
            .iter()
            .filter(|s| {
                s.at_secs >= phase.start_secs - SLACK && s.at_secs <= phase.end_secs + SLACK
            })
            .collect();
        let (Some(first), Some(last)) = (inside.first(), inside.last()) else {
            return PhaseFigures {
                findings_by_kind: FindingKind::ALL
                    .iter()
                    .map(|k| (k.name().to_owned(), 0))
                    .collect(),
                ..PhaseFigures::default()
            };
        };
        PhaseFigures {
            requests: last.requests.saturating_sub(first.requests),
            errors: last.errors.saturating_sub(first.errors),
            checked: last.checked.saturating_sub(first.checked),
            findings_by_kind: FindingKind::ALL
                .iter()
                .map(|k| {
                    (
                        k.name().to_owned(),
                        last.count(*k).saturating_sub(first.count(*k)),
                    )
                })
                .collect(),
        }
    }

    /// Seconds from the run's start to its last sample.
    pub fn span_secs(&self) -> f64 {
        self.samples.last().map_or(0.0, |s| s.at_secs)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample(at_secs: f64, requests: u64, errors: u64, violations: u64) -> Sample {
        let mut findings = vec![0; FindingKind::ALL.len()];
        findings[0] = violations;
        Sample {
            at_secs,
            requests,
            errors,
            checked: requests,
            findings,
        }
    }

    pub(crate) fn timeline() -> Timeline {
        let start = Utc::now();
        Timeline {
            samples: vec![
                sample(0.5, 0, 0, 0),
                sample(1.5, 100, 0, 0),
                sample(2.5, 300, 2, 5),
                sample(2.52, 301, 2, 5),
                sample(3.5, 500, 2, 9),
            ],
            phases: vec![PhaseSpan {
                name: "load".into(),
                started_at: start,
                finished_at: start,
                start_secs: 0.5,
                end_secs: 3.5,
            }],
        }
    }

    #[test]
    fn rates_are_per_second_differences_and_skip_tiny_intervals() {
        let rates = timeline().rates();
        assert_eq!(rates.len(), 3);
        assert_eq!(rates[0].requests, 100.0);
        assert_eq!(rates[1].requests, 200.0);
        assert_eq!((rates[1].errors, rates[1].violations), (2.0, 5.0));
        // The 20 ms sample is folded into the last interval (2.5 → 3.5).
        assert_eq!(rates[2].requests, 200.0);
        assert_eq!(rates[2].violations, 4.0);
    }

    #[test]
    fn phase_figures_are_the_difference_between_its_ends() {
        let timeline = timeline();
        let figures = timeline.figures(&timeline.phases[0]);
        assert_eq!((figures.requests, figures.errors), (500, 2));
        assert_eq!(figures.count(FindingKind::Violation), 9);
        assert_eq!(figures.count(FindingKind::CrossWrite), 0);
        assert_eq!(figures.findings_by_kind.len(), FindingKind::ALL.len());
    }
}
