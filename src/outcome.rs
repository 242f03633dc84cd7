//! The verdict of a run and its documented exit code, the contract with CI: `judge` decides the
//! status from counts alone (no I/O), and the exit code is always derived from the status.
//! 0 clean, 1 isolation failures found, 2 usage or configuration error, 3 target unreachable, 4 inconclusive,
//! 5 a scenario threshold failed (error rate, latency, cache warnings), 130 interrupted (Ctrl-C or SIGTERM: the reports hold what was seen until then).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A run's status. The variants are declared in order of precedence, least serious first, and
/// `Ord` follows it: when two statuses apply (a threshold failed and a violation was found; one
/// shard clean, another interrupted), the greater one is the verdict — in [`judge`] and in
/// `report merge` alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every checked response carried only its user's own (or household) data.
    Clean,
    /// The run proved nothing: no response checked, most users never logged in, or the run was
    /// stopped (a phase's start action refused, goose failed) before it had tested what it says.
    Inconclusive,
    /// The target did not answer at all.
    Unreachable,
    /// No isolation failure, but a scenario `[thresholds]` rule failed: the error rate, a
    /// latency, or cache warnings with `fail_on_cache_warnings`.
    ThresholdsFailed,
    /// At least one response carried another beneficiary's data, or a write landed in another file.
    Violations,
    /// The run was cut short by Ctrl-C (SIGINT) or SIGTERM; the reports hold what was seen until
    /// then. Findings already seen are real (the reason counts them); the absence of others proves nothing.
    Interrupted,
    /// The command line, scenario or population was wrong; nothing was sent.
    UsageError,
}

impl Status {
    /// Every status, least serious first.
    pub const ALL: [Status; 7] = [
        Status::Clean,
        Status::Inconclusive,
        Status::Unreachable,
        Status::ThresholdsFailed,
        Status::Violations,
        Status::Interrupted,
        Status::UsageError,
    ];

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

    /// The status as `summary.json` writes it: `thresholds_failed`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Clean => "clean",
            Self::Violations => "violations",
            Self::UsageError => "usage_error",
            Self::Unreachable => "unreachable",
            Self::Inconclusive => "inconclusive",
            Self::ThresholdsFailed => "thresholds_failed",
            Self::Interrupted => "interrupted",
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

/// Writes `status` and, derived from it, `exit_code`, side by side: for a `#[serde(flatten)]`
/// status field, so that no struct stores the exit code beside the status.
pub fn serialize_with_exit_code<S: Serializer>(
    status: &Status,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut map = serializer.serialize_map(Some(2))?;
    map.serialize_entry("status", status)?;
    map.serialize_entry("exit_code", &status.exit_code())?;
    map.end()
}

/// Reads back what [`serialize_with_exit_code`] wrote: the `status` (the `exit_code` beside it
/// is left to the other fields, and derived again when written).
pub fn deserialize_status<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Status, D::Error> {
    #[derive(Deserialize)]
    struct Written {
        status: Status,
    }
    Written::deserialize(deserializer).map(|written| written.status)
}

/// A status and the one sentence that says why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub status: Status,
    pub reason: String,
}

/// Everything the verdict depends on, counted by the run.
#[derive(Clone, Debug, Default)]
pub struct Tally {
    /// Why the target could not be reached, when it could not: nothing was sent.
    pub unreachable: Option<String>,
    /// The signal that cut the run short, with the seconds run and planned.
    pub interrupted: Option<Interruption>,
    /// Why the run stopped before it had tested what it says (a phase's start action refused,
    /// goose failed mid-run).
    pub stopped: Option<String>,
    /// Occurrences of the finding kinds that fail a run.
    pub failing: u64,
    /// Accounts whose data was seen by someone else.
    pub exposed: usize,
    /// `false` for `--no-checks`.
    pub checks: bool,
    pub checked: u64,
    /// Simulated users, and how many of them logged in at least once.
    pub users: u64,
    pub logged_in: u64,
    pub login_failures: u64,
    /// The failed `[thresholds]` rules in one line, when one failed.
    pub thresholds_failed: Option<String>,
    /// What a clean run proved, in the driver's words; `None`: the load's sentence.
    pub proved: Option<String>,
}

/// How a run was cut short.
#[derive(Clone, Debug)]
pub struct Interruption {
    pub signal: &'static str,
    pub ran_secs: f64,
    pub planned_secs: u64,
}

/// Decides the status: each fact that holds proposes a status, and the most serious proposal
/// wins (`Status`'s order); between two proposals of the same status the first listed below
/// gives the reason. The facts, in that listing order:
/// unreachable → `unreachable`; interrupted → `interrupted`; failing findings → `violations`;
/// a failed threshold → `thresholds_failed`; stopped early → `inconclusive`; checks on and no
/// response checked → `inconclusive`; fewer than half the users ever logged in →
/// `inconclusive`; otherwise `clean`.
pub fn judge(tally: &Tally) -> Outcome {
    proposals(tally)
        .into_iter()
        .reduce(|kept, next| {
            if next.status > kept.status {
                next
            } else {
                kept
            }
        })
        .expect("the clean proposal is always there")
}

fn proposals(t: &Tally) -> Vec<Outcome> {
    let propose = |status, reason: String| Outcome { status, reason };
    let mut proposals = Vec::new();
    if let Some(reason) = &t.unreachable {
        proposals.push(propose(Status::Unreachable, reason.clone()));
    }
    if let Some(cut) = &t.interrupted {
        proposals.push(propose(
            Status::Interrupted,
            format!(
                "interrupted by {} after {:.1} s of {} s planned: {} isolation failure(s) seen so far, {} account(s) exposed; a partial run proves nothing clean",
                cut.signal, cut.ran_secs, cut.planned_secs, t.failing, t.exposed
            ),
        ));
    }
    if t.failing > 0 {
        proposals.push(propose(
            Status::Violations,
            format!(
                "{} isolation failure(s): {} account(s) exposed",
                t.failing, t.exposed
            ),
        ));
    }
    if let Some(failed) = &t.thresholds_failed {
        proposals.push(propose(
            Status::ThresholdsFailed,
            format!("no isolation failure, but a scenario threshold failed: {failed}"),
        ));
    }
    if let Some(reason) = &t.stopped {
        proposals.push(propose(Status::Inconclusive, reason.clone()));
    }
    if t.checks && t.checked == 0 {
        proposals.push(propose(
            Status::Inconclusive,
            "no response was checked: nothing was proved".to_owned(),
        ));
    }
    if t.logged_in * 2 < t.users {
        proposals.push(propose(
            Status::Inconclusive,
            format!(
                "only {} of {} users ever logged in ({} login failures): the pages behind the login were barely checked",
                t.logged_in, t.users, t.login_failures
            ),
        ));
    }
    proposals.push(propose(Status::Clean, clean_reason(t)));
    proposals
}

fn clean_reason(t: &Tally) -> String {
    match (&t.proved, t.checks) {
        (_, false) => {
            "checks were off (--no-checks): load only, nothing proved about isolation".to_owned()
        }
        (Some(proved), true) => proved.clone(),
        (None, true) => format!(
            "{} responses checked, each carried only its user's own or household data",
            t.checked
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let codes: Vec<u8> = Status::ALL.iter().map(|s| s.exit_code()).collect();
        assert_eq!(codes, [0, 4, 3, 5, 1, 130, 2]);
    }

    #[test]
    fn statuses_read_back_as_written_and_an_unknown_one_is_refused() {
        for status in Status::ALL {
            let text = serde_json::to_string(&status).unwrap();
            assert_eq!(serde_json::from_str::<Status>(&text).unwrap(), status);
        }
        assert_eq!(
            serde_json::to_string(&Status::ThresholdsFailed).unwrap(),
            "\"thresholds_failed\""
        );
        for status in Status::ALL {
            assert_eq!(
                serde_json::to_string(&status).unwrap(),
                format!("\"{}\"", status.name())
            );
        }
        let error = serde_json::from_str::<Status>("\"exploded\"").unwrap_err();
        assert!(error.to_string().contains("exploded"), "{error}");
    }

    /// A run where everything went well: every user logged in, responses checked.
    fn clean() -> Tally {
        Tally {
            checks: true,
            checked: 40,
            users: 10,
            logged_in: 10,
            ..Tally::default()
        }
    }

    /// A fact: its name, how it changes a tally, the status it brings.
    type Fact = (&'static str, fn(&mut Tally), Status);

    /// Each fact, alone on a clean run, and the status it brings.
    fn facts() -> Vec<Fact> {
        vec![
            (
                "unreachable",
                |t| t.unreachable = Some("down".into()),
                Status::Unreachable,
            ),
            (
                "interrupted",
                |t| {
                    t.interrupted = Some(Interruption {
                        signal: "SIGINT",
                        ran_secs: 1.0,
                        planned_secs: 9,
                    })
                },
                Status::Interrupted,
            ),
            ("failing", |t| t.failing = 3, Status::Violations),
            (
                "thresholds",
                |t| t.thresholds_failed = Some("p95 < 1ms".into()),
                Status::ThresholdsFailed,
            ),
            (
                "stopped",
                |t| t.stopped = Some("refused".into()),
                Status::Inconclusive,
            ),
            ("unchecked", |t| t.checked = 0, Status::Inconclusive),
            ("logins", |t| t.logged_in = 4, Status::Inconclusive),
        ]
    }

    #[test]
    fn a_run_with_no_fact_against_it_is_clean_and_says_what_it_checked() {
        let outcome = judge(&clean());
        assert_eq!(outcome.status, Status::Clean);
        assert!(
            outcome.reason.contains("40 responses checked"),
            "{}",
            outcome.reason
        );
        let proved = judge(&Tally {
            proved: Some("every login opened its own file".into()),
            ..clean()
        });
        assert_eq!(proved.reason, "every login opened its own file");
        let load_only = judge(&Tally {
            checks: false,
            checked: 0,
            ..clean()
        });
        assert_eq!(load_only.status, Status::Clean);
        assert!(load_only.reason.contains("--no-checks"));
    }

    #[test]
    fn every_combination_of_facts_gives_the_most_serious_of_their_statuses() {
        let facts = facts();
        for mask in 0u32..(1 << facts.len()) {
            let mut tally = clean();
            let mut expected = Status::Clean;
            for (index, (_, apply, status)) in facts.iter().enumerate() {
                if mask & (1 << index) != 0 {
                    apply(&mut tally);
                    expected = expected.max(*status);
                }
            }
            assert_eq!(judge(&tally).status, expected, "facts {mask:07b}");
        }
    }

    #[test]
    fn the_precedence_is_the_documented_one() {
        // `ALL` lists the statuses in the documented order (README, Exit codes); `Ord` agrees.
        assert!(Status::ALL.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(
            Status::ALL.map(Status::name).join(" < "),
            "clean < inconclusive < unreachable < thresholds_failed < violations < interrupted < usage_error"
        );
    }

    #[test]
    fn an_interrupted_run_counts_the_failures_seen_so_far() {
        let mut tally = clean();
        for (name, apply, _) in facts() {
            if name == "interrupted" || name == "failing" {
                apply(&mut tally);
            }
        }
        let outcome = judge(&tally);
        assert_eq!(outcome.status, Status::Interrupted);
        assert!(
            outcome
                .reason
                .contains("3 isolation failure(s) seen so far"),
            "{}",
            outcome.reason
        );
    }

    #[test]
    fn a_stop_names_its_cause_over_the_unchecked_responses_it_left() {
        let outcome = judge(&Tally {
            stopped: Some("phase \"nir\": its start action answered 403".into()),
            checked: 0,
            ..clean()
        });
        assert_eq!(outcome.status, Status::Inconclusive);
        assert!(outcome.reason.contains("403"), "{}", outcome.reason);
    }

    #[test]
    fn a_failed_threshold_outranks_an_inconclusive_run_but_not_a_violation() {
        let thresholds = Some("error rate < 1%".to_owned());
        let unchecked = judge(&Tally {
            thresholds_failed: thresholds.clone(),
            checked: 0,
            ..clean()
        });
        assert_eq!(unchecked.status, Status::ThresholdsFailed);
        assert!(unchecked.reason.contains("error rate < 1%"));
        let leaked = judge(&Tally {
            thresholds_failed: thresholds,
            failing: 1,
            ..clean()
        });
        assert_eq!(leaked.status, Status::Violations);
    }
}
