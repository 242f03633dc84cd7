//! `[thresholds]`: the latency and error limits a run is judged against after the load.

use super::Validator;
use crate::scenario::error::ErrorKind;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::threshold::LatencyThreshold;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn thresholds(&mut self, raw: Option<Spanned<RawThresholds>>) -> Option<Thresholds> {
        let Some(raw) = raw else {
            return Some(Thresholds::default());
        };
        let t = raw.into_inner();
        let mut ok = true;
        let max_error_rate = match &t.max_error_rate {
            Some(rate) => {
                let share = self.share(Some(rate), "max_error_rate", 0.0);
                ok &= share.is_some();
                share
            }
            None => None,
        };
        let mut latency = Vec::new();
        for rule in t.latency.iter().flatten() {
            match LatencyThreshold::parse(rule.get_ref()) {
                Ok(parsed) => latency.push(parsed),
                Err(problem) => {
                    let kind = if problem.unknown_metric {
                        ErrorKind::UnknownMetric
                    } else {
                        ErrorKind::InvalidValue
                    };
                    self.at(rule.span(), kind, problem.message, problem.help);
                    ok = false;
                }
            }
        }
        Some(Thresholds {
            max_error_rate,
            latency,
            fail_on_cache_warnings: t.fail_on_cache_warnings.unwrap_or(false),
        })
        .filter(|_| ok)
    }
}
