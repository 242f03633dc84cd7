//! One run folder from its opening to its last report: opened only once the run is validated,
//! findings collected while a driver (the load, fuzz-login) works, then judged and reported.
//! Every path that opened a folder ends in `Session::finish`, so every report is always written.

use super::RunError;
use crate::findings::{Collector, FindingSink};
use crate::report::{self, Observed, RunDescription, RunFacts, Summary};
use crate::scenario::Phase;
use crate::transport::{self, Connection, Transport};
use chrono::{DateTime, Utc};
use std::path::{Path, PathBuf};

/// The summary of a finished run and the folder holding its reports.
pub struct RunResult {
    pub summary: Summary,
    pub dir: PathBuf,
}

/// A run folder being filled: its findings file open, its collector running.
pub struct Session {
    run_id: String,
    dir: PathBuf,
    started_at: DateTime<Utc>,
    collector: Collector,
    sink: FindingSink,
}

impl Session {
    /// Creates `<report_root>/<run-id>/` and starts collecting findings into it. Call it once
    /// everything the run needs is validated: a usage error must leave no folder behind. When the
    /// findings file cannot be opened, the folder just made is removed again.
    pub fn open(report_root: &Path) -> Result<Session, RunError> {
        let run_id = report::run_id();
        let dir = report_root.join(&run_id);
        std::fs::create_dir_all(&dir).map_err(|source| RunError::ReportDir {
            path: dir.clone(),
            source,
        })?;
        let (collector, sink) = match Collector::start(&dir.join(report::FINDINGS)) {
            Ok(started) => started,
            Err(error) => {
                let _ = std::fs::remove_dir(&dir);
                return Err(error.into());
            }
        };
        Ok(Session {
            run_id,
            dir,
            started_at: Utc::now(),
            collector,
            sink,
        })
    }

    /// Where the driver's checks send their findings.
    pub fn sink(&self) -> &FindingSink {
        &self.sink
    }

    pub fn started_at(&self) -> DateTime<Utc> {
        self.started_at
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the target answers at all; the reason it does not names the cause and the fix.
    pub async fn reach(&self, transport: &Transport, target: &str) -> Result<(), String> {
        reachable(transport, target).await
    }

    /// Stops collecting, judges the run (`Summary::from_facts`) and writes every report; a report
    /// that cannot be written is a warning on stderr, the others still are.
    pub fn finish(self, described: RunDescription, observed: Observed) -> RunResult {
        let findings = self.collector.finish();
        let recorded = report::read_findings(&self.dir);
        let summary = Summary::from_facts(RunFacts {
            run_id: &self.run_id,
            started_at: self.started_at,
            described,
            observed: &observed,
            findings,
            recorded: &recorded,
            goose_reports: report::goose_reports(&self.dir),
        });
        for error in report::write_all(&self.dir, &summary, observed.timeline.as_ref(), &recorded) {
            eprintln!("warning: {error}");
        }
        RunResult {
            summary,
            dir: self.dir,
        }
    }
}

/// Sends a phase's `at_start` actions in order; a refusal stops the run, since the phase would
/// not test what it says (e.g. the NIR login was never switched on).
pub(crate) async fn phase_actions(
    transport: &Transport,
    target: &str,
    phase: &Phase,
) -> Result<(), String> {
    for action in &phase.at_start {
        let rendered = action
            .request
            .render(&|_: &str| None)
            .map_err(|e| format!("phase {:?}: {e}", phase.name))?;
        let url = format!("{target}{}", rendered.path);
        let parsed = url::Url::parse(&url).map_err(|e| {
            format!(
                "phase {:?}: its start action's URL {url} is not valid: {e}",
                phase.name
            )
        })?;
        let method = rendered.method.as_str().to_owned();
        // Its own connection, closed after the action: nothing a user sends shares it.
        let status = transport
            .send(
                &mut Connection::default(),
                None,
                transport::Request::rendered(&rendered, parsed, None),
            )
            .await
            .map_err(|error| {
                format!(
                    "phase {:?}: its start action {method} {url} failed: {error}",
                    phase.name
                )
            })?
            .status;
        let expected = if action.expect_status.is_empty() {
            (200..400).contains(&status)
        } else {
            action.expect_status.contains(&status)
        };
        if !expected {
            return Err(format!(
                "phase {:?}: its start action {method} {url} answered {status}, so the phase would not test what it says; the run stopped there",
                phase.name
            ));
        }
    }
    Ok(())
}

/// The target is reachable when a connection to its origin opens: TCP, and the TLS handshake for
/// an `https` target. What it then answers (garbage, 5xx, nothing) the run measures as errors.
/// The reason it is not names the cause and ends with what to do.
async fn reachable(transport: &Transport, target: &str) -> Result<(), String> {
    let url = url::Url::parse(target)
        .map_err(|e| format!("{target} is not a URL ({e}): fix --target or [target] base_url"))?;
    transport
        .reach(&url)
        .await
        .map_err(|error| format!("{target} cannot be reached: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;
    use crate::report::ScenarioInfo;
    use std::time::Duration;

    fn described() -> RunDescription {
        RunDescription {
            command: "run".into(),
            target: "http://127.0.0.1:9".into(),
            scenario: ScenarioInfo {
                name: "session".into(),
                file: None,
                login_flows: Vec::new(),
                pages: Vec::new(),
            },
            faults: Vec::new(),
            seed: None,
            users: 3,
            population: 10,
            checks: true,
            revealed: false,
            planned_duration: Duration::from_secs(5),
            thresholds: Default::default(),
        }
    }

    #[test]
    fn a_session_that_ran_nothing_still_writes_every_report_with_its_verdict() {
        let root = tempfile::tempdir().unwrap();
        let session = Session::open(root.path()).unwrap();
        let dir = session.dir().to_owned();
        assert!(dir.join(report::FINDINGS).is_file(), "findings open first");
        let result = session.finish(
            described(),
            Observed {
                unreachable: Some("http://127.0.0.1:9 cannot be reached".into()),
                ..Observed::default()
            },
        );
        assert_eq!(result.dir, dir);
        assert_eq!(result.summary.status, Status::Unreachable);
        assert!(!result.summary.files.contains_key("goose_report"));
        for (_, name) in report::FILES {
            assert!(dir.join(name).is_file(), "{name} was not written");
        }
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(report::SUMMARY)).unwrap())
                .unwrap();
        assert_eq!(
            (written["status"].as_str(), written["exit_code"].as_u64()),
            (Some("unreachable"), Some(3))
        );
    }

    #[test]
    fn a_report_root_that_cannot_be_made_is_an_error_and_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("a-file");
        std::fs::write(&file, "not a folder").unwrap();
        let error = Session::open(&file)
            .err()
            .expect("a file is no report root");
        assert!(matches!(error, RunError::ReportDir { .. }), "{error}");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }
}
