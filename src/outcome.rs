//! The outcome of a command and its documented exit code, the contract with CI.
//! 0 clean, 1 isolation failures found, 2 usage or configuration error, 3 target unreachable, 4 inconclusive,
//! 5 a scenario threshold failed (error rate, latency, cache warnings), 130 interrupted (Ctrl-C or SIGTERM: the reports hold what was seen until then).

use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every checked response carried only its user's own (or household) data.
    Clean,
    /// At least one response carried another beneficiary's data, or a write landed in another file.
    Violations,
    /// The command line, scenario or population was wrong; nothing was sent.
    UsageError,
    /// The target did not answer at all.
    Unreachable,
    /// The run proved nothing: no response checked, or most users never logged in.
    Inconclusive,
    /// No isolation failure, but a scenario `[thresholds]` rule failed: the error rate, a
    /// latency, or cache warnings with `fail_on_cache_warnings`.
    ThresholdsFailed,
    /// The run was cut short by Ctrl-C (SIGINT) or SIGTERM; the reports hold what was seen until
    /// then. Findings already seen are real; the absence of others proves nothing.
    Interrupted,
}

impl Status {
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Clean => 0,
            Self::Violations => 1,
            Self::UsageError => 2,
            Self::Unreachable => 3,
            Self::Inconclusive => 4,
            Self::ThresholdsFailed => 5,
            // 128 + SIGINT, the shell's convention for a command stopped by Ctrl-C.
            Self::Interrupted => 130,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Clean => "CLEAN",
            Self::Violations => "VIOLATIONS",
            Self::UsageError => "USAGE ERROR",
            Self::Unreachable => "UNREACHABLE",
            Self::Inconclusive => "INCONCLUSIVE",
            Self::ThresholdsFailed => "THRESHOLDS FAILED",
            Self::Interrupted => "INTERRUPTED",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<u8> = [
            Status::Clean,
            Status::Violations,
            Status::UsageError,
            Status::Unreachable,
            Status::Inconclusive,
            Status::ThresholdsFailed,
            Status::Interrupted,
        ]
        .iter()
        .map(|s| s.exit_code())
        .collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 130]);
    }
}
