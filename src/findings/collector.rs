//! The one place findings are counted, explained and written: each distinct finding is appended to
//! `findings.jsonl` and flushed once it has settled ([`SETTLE`]), so an interrupted run keeps its evidence.
//! Repeats (same kind, page, viewer and foreign owners) are counted, not written again.

use super::recall::Recall;
use super::{AccountRef, Cause, Finding, FindingKind};
use crate::population::OwnerId;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How many findings `summary.json` carries in full; every one is in `findings.jsonl`.
pub const EVIDENCE_KEPT: usize = 50;

#[derive(Debug, thiserror::Error)]
pub enum CollectorError {
    #[error("cannot create {path}: {source}; choose a writable --report-dir")]
    Create {
        path: PathBuf,
        source: std::io::Error,
    },
}

enum Message {
    Finding(Box<Finding>),
    /// An owner's request given up on mid-flight, this many ms into the run.
    Abandoned(OwnerId, u64),
    Stop,
}

/// A cheap, clonable handle the load runner sends findings through.
#[derive(Clone)]
pub struct FindingSink {
    sender: mpsc::Sender<Message>,
    counts: Arc<LiveCounts>,
}

#[derive(Default)]
struct LiveCounts {
    by_kind: [AtomicU64; FindingKind::ALL.len()],
}

impl LiveCounts {
    /// What is known when the writer thread died: every finding sent, by kind, none explained.
    fn after_a_panic(&self) -> FindingsSummary {
        let by_kind: BTreeMap<String, u64> = FindingKind::ALL
            .iter()
            .map(|kind| {
                (
                    kind.name().to_owned(),
                    self.by_kind[*kind as usize].load(Ordering::Relaxed),
                )
            })
            .filter(|(_, n)| *n > 0)
            .collect();
        let sent = by_kind.values().sum();
        FindingsSummary {
            by_kind,
            write_failures: sent,
            first_write_error: Some(format!(
                "the findings writer thread panicked (a crossleak bug: please report it); {sent} finding(s) were sent, findings.jsonl may lack some of them"
            )),
            ..FindingsSummary::default()
        }
    }
}

impl FindingSink {
    pub fn send(&self, finding: Finding) {
        self.counts.by_kind[finding.kind as usize].fetch_add(1, Ordering::Relaxed);
        // The collector only stops after the run; a finding sent later still counts above.
        let _ = self.sender.send(Message::Finding(Box::new(finding)));
    }

    /// `owner` gave up on a request `elapsed_ms` into the run (the clock findings use): an answer
    /// that turns up elsewhere soon after is put down to it.
    pub fn abandoned(&self, owner: OwnerId, elapsed_ms: u64) {
        let _ = self.sender.send(Message::Abandoned(owner, elapsed_ms));
    }

    /// Findings of `kind` sent so far (for the live progress line).
    pub fn count(&self, kind: FindingKind) -> u64 {
        self.counts.by_kind[kind as usize].load(Ordering::Relaxed)
    }
}

/// Every exposed account: whose data was seen, by whom, on which pages, which fields, when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AffectedAccount {
    pub owner: u32,
    pub numero_allocataire: String,
    /// The viewers' owner numbers.
    pub seen_by: BTreeSet<u32>,
    /// The viewers by their account (file number masked like any identifying value).
    pub seen_by_accounts: Vec<AccountRef>,
    /// The pages (request names, as in the metrics) that showed the account's data.
    pub pages: BTreeSet<String>,
    /// Whether the anonymous observer (no session at all) saw it.
    pub seen_by_observer: bool,
    pub fields: BTreeSet<String>,
    pub phases: BTreeSet<String>,
    pub first_seen: String,
    pub last_seen: String,
    pub findings: u64,
    /// The probable causes of the findings that exposed it.
    pub probable_causes: BTreeSet<Cause>,
}

/// What the collector knows at the end of a run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FindingsSummary {
    /// Every occurrence, by kind.
    pub by_kind: BTreeMap<String, u64>,
    /// Every occurrence, by probable cause.
    pub by_cause: BTreeMap<String, u64>,
    /// Distinct findings (the lines of `findings.jsonl`).
    pub distinct: u64,
    pub affected: Vec<AffectedAccount>,
    /// The first findings in full (all of them are in `findings.jsonl`).
    pub evidence: Vec<Finding>,
    /// Findings that could not be written to disk (disk full, permissions), with the first cause.
    pub write_failures: u64,
    pub first_write_error: Option<String>,
}

impl FindingsSummary {
    pub fn count(&self, kind: FindingKind) -> u64 {
        self.by_kind.get(kind.name()).copied().unwrap_or(0)
    }

    /// Occurrences of the kinds that fail a run (warnings excluded).
    pub fn failing(&self) -> u64 {
        FindingKind::ALL
            .iter()
            .filter(|k| k.fails_run())
            .map(|k| self.count(*k))
            .sum()
    }
}

/// Owns `findings.jsonl` on its own thread.
pub struct Collector {
    sender: mpsc::Sender<Message>,
    thread: JoinHandle<FindingsSummary>,
    /// The sink's counts, kept apart from the thread: they survive it.
    counts: Arc<LiveCounts>,
}

impl Collector {
    /// Creates `path` (truncating) and starts the writer thread.
    pub fn start(path: &Path) -> Result<(Collector, FindingSink), CollectorError> {
        let file = File::create(path).map_err(|source| CollectorError::Create {
            path: path.to_owned(),
            source,
        })?;
        let (sender, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("crossleak-findings".into())
            .spawn(move || collect(receiver, BufWriter::new(file)))
            .map_err(|source| CollectorError::Create {
                path: path.to_owned(),
                source,
            })?;
        let counts: Arc<LiveCounts> = Arc::default();
        let sink = FindingSink {
            sender: sender.clone(),
            counts: Arc::clone(&counts),
        };
        Ok((
            Collector {
                sender,
                thread,
                counts,
            },
            sink,
        ))
    }

    /// Writes what is queued, closes the file and returns the summary. Should the writer thread
    /// have panicked, the counts of what was sent still judge the run: a leak seen is never lost
    /// to a bug of ours (the findings it had not written are counted as write failures).
    pub fn finish(self) -> FindingsSummary {
        let _ = self.sender.send(Message::Stop);
        let counts = self.counts;
        self.thread
            .join()
            .unwrap_or_else(|_| counts.after_a_panic())
    }
}

/// How long a finding waits before it is explained and written: evidence sent a moment after it
/// (the token collision its login caused, sent once the login is judged) still counts.
pub const SETTLE: Duration = Duration::from_millis(250);

fn collect(receiver: mpsc::Receiver<Message>, out: BufWriter<File>) -> FindingsSummary {
    let mut tally = Tally::new(out);
    let mut pending: VecDeque<(Instant, Box<Finding>)> = VecDeque::new();
    loop {
        let message = match pending.front() {
            None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some((arrived, _)) => receiver.recv_timeout(SETTLE.saturating_sub(arrived.elapsed())),
        };
        match message {
            Ok(Message::Finding(finding)) => {
                tally.recall.heard(&finding);
                pending.push_back((Instant::now(), finding));
            }
            Ok(Message::Abandoned(owner, at_ms)) => tally.recall.abandoned(owner, at_ms),
            Ok(Message::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
        while pending
            .front()
            .is_some_and(|(arrived, _)| arrived.elapsed() >= SETTLE)
        {
            if let Some((_, finding)) = pending.pop_front() {
                tally.take(finding);
            }
        }
    }
    for (_, finding) in pending {
        tally.take(finding);
    }
    tally.finish()
}

/// The counts, the exposed accounts and the file, as the findings come.
struct Tally {
    summary: FindingsSummary,
    affected: BTreeMap<u32, AffectedAccount>,
    seen: HashSet<Signature>,
    recall: Recall,
    out: BufWriter<File>,
}

impl Tally {
    fn new(out: BufWriter<File>) -> Tally {
        let mut summary = FindingsSummary::default();
        for kind in FindingKind::ALL {
            summary.by_kind.insert(kind.name().to_owned(), 0);
        }
        for cause in Cause::ALL {
            summary.by_cause.insert(cause.name().to_owned(), 0);
        }
        Tally {
            summary,
            affected: BTreeMap::new(),
            seen: HashSet::new(),
            recall: Recall::default(),
            out,
        }
    }

    /// Explains `finding`, counts it, and writes it if it is the first of its kind.
    fn take(&mut self, mut finding: Box<Finding>) {
        finding.probable_cause = self.recall.explain(&finding);
        let summary = &mut self.summary;
        *summary
            .by_cause
            .entry(finding.probable_cause.cause.name().to_owned())
            .or_default() += 1;
        *summary
            .by_kind
            .entry(finding.kind.name().to_owned())
            .or_default() += 1;
        let first_time = self.seen.insert(Signature::of(&finding));
        if first_time {
            summary.distinct += 1;
            if let Err(error) = write_line(&mut self.out, &finding) {
                summary.write_failures += 1;
                summary.first_write_error.get_or_insert(error.to_string());
            }
        }
        self.expose(&finding);
        if first_time && self.summary.evidence.len() < EVIDENCE_KEPT {
            self.summary.evidence.push(*finding);
        }
    }

    /// Exposed: every other owner whose data was served to someone else. A stale session is a
    /// session finding: the old token reopened its own owner's file, for nobody else.
    fn expose(&mut self, finding: &Finding) {
        for foreign in &finding.foreign {
            let account = &foreign.account;
            let entry = self
                .affected
                .entry(account.owner)
                .or_insert_with(|| AffectedAccount {
                    owner: account.owner,
                    numero_allocataire: account.numero_allocataire.clone(),
                    first_seen: finding.at.clone(),
                    ..AffectedAccount::default()
                });
            match &finding.viewer {
                Some(viewer) => {
                    if entry.seen_by.insert(viewer.owner) {
                        entry.seen_by_accounts.push(viewer.clone());
                    }
                }
                None => entry.seen_by_observer = true,
            }
            entry.pages.insert(finding.request.name.clone());
            entry.fields.insert(foreign.field.clone());
            entry.phases.insert(finding.phase.clone());
            entry.probable_causes.insert(finding.probable_cause.cause);
            entry.last_seen = finding.at.clone();
        }
        let owners: BTreeSet<u32> = finding.foreign.iter().map(|f| f.account.owner).collect();
        for owner in owners {
            if let Some(entry) = self.affected.get_mut(&owner) {
                entry.findings += 1;
            }
        }
    }

    fn finish(mut self) -> FindingsSummary {
        if let Err(error) = self.out.flush() {
            self.summary
                .first_write_error
                .get_or_insert(error.to_string());
        }
        for entry in self.affected.values_mut() {
            entry.seen_by_accounts.sort_by_key(|account| account.owner);
        }
        self.summary.affected = self.affected.into_values().collect();
        self.summary
    }
}

/// What makes two findings the same one seen again (the same cause too: a repeat explained
/// otherwise is written, so every cause the run saw has its evidence on disk).
#[derive(Hash, PartialEq, Eq)]
struct Signature {
    kind: FindingKind,
    cause: Cause,
    page: String,
    viewer: Option<u32>,
    foreign: Vec<(u32, String)>,
    missing: Vec<String>,
}

impl Signature {
    fn of(finding: &Finding) -> Self {
        let mut foreign: Vec<(u32, String)> = finding
            .foreign
            .iter()
            .map(|f| (f.account.owner, f.field.clone()))
            .collect();
        foreign.sort_unstable();
        foreign.dedup();
        Signature {
            kind: finding.kind,
            cause: finding.probable_cause.cause,
            page: finding.request.name.clone(),
            viewer: finding.viewer.as_ref().map(|v| v.owner),
            foreign,
            missing: finding.missing.clone(),
        }
    }
}

fn write_line(out: &mut BufWriter<File>, finding: &Finding) -> std::io::Result<()> {
    serde_json::to_writer(&mut *out, finding)?;
    out.write_all(b"\n")?;
    // Flushed per finding: a run killed a moment later still has this one on disk.
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::fixtures::violation;

    fn finding(viewer: u32, foreign: u32, at: &str) -> Finding {
        let mut finding = violation(viewer, foreign);
        finding.at = at.into();
        finding
    }

    /// A bug in the writer thread must not turn a run that saw leaks into a clean one.
    #[test]
    fn a_panicked_writer_thread_still_counts_every_violation_sent() {
        let (sender, receiver) = mpsc::channel::<Message>();
        let thread = std::thread::spawn(move || -> FindingsSummary {
            let _ = receiver.recv();
            panic!("a bug in the findings writer");
        });
        let counts: Arc<LiveCounts> = Arc::default();
        let sink = FindingSink {
            sender: sender.clone(),
            counts: Arc::clone(&counts),
        };
        let collector = Collector {
            sender,
            thread,
            counts,
        };
        sink.send(finding(1, 2, "2026-01-01T00:00:00Z"));
        sink.send(finding(3, 2, "2026-01-01T00:00:01Z"));
        let summary = collector.finish();
        assert_eq!(summary.count(FindingKind::Violation), 2);
        assert_eq!(summary.failing(), 2);
        assert_eq!(summary.write_failures, 2);
        let error = summary.first_write_error.expect("the panic is said");
        assert!(
            error.contains("panicked") && error.contains("2 finding(s)"),
            "{error}"
        );
    }

    #[test]
    fn each_finding_is_on_disk_before_the_run_ends() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("findings.jsonl");
        let (collector, sink) = Collector::start(&path).unwrap();
        sink.send(finding(1, 2, "2026-01-01T00:00:00Z"));
        // Not finished yet: the line must already be readable.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let text = std::fs::read_to_string(&path).unwrap();
            if text.lines().count() == 1 {
                let back: Finding = serde_json::from_str(text.trim()).unwrap();
                assert_eq!(back.viewer.unwrap().owner, 1);
                break;
            }
            assert!(std::time::Instant::now() < deadline, "finding not flushed");
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        sink.send(finding(3, 2, "2026-01-01T00:00:05Z"));
        // The same finding again: counted, not written twice.
        sink.send(finding(3, 2, "2026-01-01T00:00:06Z"));
        let summary = collector.finish();
        assert_eq!(summary.count(FindingKind::Violation), 3);
        assert_eq!(summary.distinct, 2);
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 2);
        assert_eq!(sink.count(FindingKind::Violation), 3);
        assert_eq!(summary.affected.len(), 1);
        let account = &summary.affected[0];
        assert_eq!(account.owner, 2);
        assert_eq!(account.seen_by, BTreeSet::from([1, 3]));
        assert_eq!(account.first_seen, "2026-01-01T00:00:00Z");
        assert_eq!(account.last_seen, "2026-01-01T00:00:06Z");
        assert_eq!(account.findings, 3);
        assert_eq!(
            account.pages.iter().collect::<Vec<_>>(),
            ["GET /mon-compte"]
        );
        let viewers: Vec<(u32, &str)> = account
            .seen_by_accounts
            .iter()
            .map(|a| (a.owner, a.numero_allocataire.as_str()))
            .collect();
        assert_eq!(viewers, [(1, "00*****01"), (3, "00*****01")]);
    }

    #[test]
    fn a_stale_session_exposes_no_account_and_each_page_that_showed_one_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (collector, sink) = Collector::start(&dir.path().join("findings.jsonl")).unwrap();
        let mut stale = finding(4, 4, "2026-01-01T00:00:00Z");
        stale.kind = FindingKind::StaleSession;
        stale.foreign.clear();
        sink.send(stale);
        let mut on_api = finding(5, 2, "2026-01-01T00:00:01Z");
        on_api.request.name = "GET /api/dossier".into();
        sink.send(on_api);
        sink.send(finding(6, 2, "2026-01-01T00:00:02Z"));
        let summary = collector.finish();
        assert_eq!(summary.count(FindingKind::StaleSession), 1);
        let owners: Vec<u32> = summary.affected.iter().map(|a| a.owner).collect();
        assert_eq!(owners, [2]);
        assert_eq!(
            summary.affected[0].pages.iter().collect::<Vec<_>>(),
            ["GET /api/dossier", "GET /mon-compte"]
        );
    }
}
