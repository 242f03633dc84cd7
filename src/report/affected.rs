//! `affected.csv`: every exposed account and every write made under a wrong identity — the list
//! an operator needs to cancel those actions and to inform the people concerned.

use super::Summary;
use crate::findings::{Cause, Finding, FindingKind};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// A write that landed in another beneficiary's file: who wrote, into whose file, seen when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CrossWrite {
    /// The owner of the file the value landed in.
    pub file_owner: u32,
    pub file_numero_allocataire: String,
    /// The beneficiary whose write it was.
    pub written_by: u32,
    pub written_by_numero_allocataire: String,
    pub fields: BTreeSet<String>,
    /// The pages that showed it.
    pub pages: BTreeSet<String>,
    pub phases: BTreeSet<String>,
    /// When the written value was first and last seen in the wrong file (the write came before).
    pub first_seen: String,
    pub last_seen: String,
    /// Distinct findings that showed it.
    pub findings: u64,
    /// Their probable causes.
    pub probable_causes: BTreeSet<Cause>,
}

/// Every cross-write among the recorded findings, one per (file, writer), ordered by file.
pub fn cross_writes(recorded: &[Finding]) -> Vec<CrossWrite> {
    let mut writes: BTreeMap<(u32, u32), CrossWrite> = BTreeMap::new();
    for finding in recorded
        .iter()
        .filter(|f| f.kind == FindingKind::CrossWrite)
    {
        // A cross-write is seen in the viewer's own file; the observer has none.
        let Some(file) = &finding.viewer else {
            continue;
        };
        for foreign in &finding.foreign {
            let write = writes
                .entry((file.owner, foreign.account.owner))
                .or_insert_with(|| CrossWrite {
                    file_owner: file.owner,
                    file_numero_allocataire: file.numero_allocataire.clone(),
                    written_by: foreign.account.owner,
                    written_by_numero_allocataire: foreign.account.numero_allocataire.clone(),
                    fields: BTreeSet::new(),
                    pages: BTreeSet::new(),
                    phases: BTreeSet::new(),
                    first_seen: finding.at.clone(),
                    last_seen: finding.at.clone(),
                    findings: 0,
                    probable_causes: BTreeSet::new(),
                });
            write.probable_causes.insert(finding.probable_cause.cause);
            write.fields.insert(foreign.field.clone());
            write.pages.insert(finding.request.name.clone());
            write.phases.insert(finding.phase.clone());
            if finding.at < write.first_seen {
                write.first_seen = finding.at.clone();
            }
            if finding.at > write.last_seen {
                write.last_seen = finding.at.clone();
            }
        }
        for (file_owner, writer) in finding
            .foreign
            .iter()
            .map(|f| (file.owner, f.account.owner))
            .collect::<BTreeSet<_>>()
        {
            if let Some(write) = writes.get_mut(&(file_owner, writer)) {
                write.findings += 1;
            }
        }
    }
    writes.into_values().collect()
}

const COLUMNS: [&str; 15] = [
    "record",
    "owner",
    "numero_allocataire",
    "seen_by",
    "seen_by_observer",
    "written_by",
    "written_by_numero_allocataire",
    "fields",
    "pages",
    "phases",
    "first_seen",
    "last_seen",
    "exposure_secs",
    "findings",
    "probable_causes",
];

fn joined<T: ToString>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn causes(causes: &BTreeSet<Cause>) -> String {
    joined(causes.iter().map(|cause| cause.name()))
}

/// Page names hold spaces (`GET /mon-compte`): they are separated by `; `.
fn pages(pages: &BTreeSet<String>) -> String {
    pages.iter().cloned().collect::<Vec<_>>().join("; ")
}

/// The CSV: one `exposed_account` row per account whose data another user (or the anonymous
/// observer) saw, then one `cross_write` row per write that landed in another file (`owner` is
/// then the file written into, `written_by` the writer). `seen_by` names each viewer as
/// `<owner>:<file number>` (masked unless the run revealed); `pages` are the request names that
/// showed the data, separated by `; `; `probable_causes` (as in `findings.jsonl`) and the other
/// lists are space-separated.
pub fn write_affected_csv(summary: &Summary) -> std::io::Result<Vec<u8>> {
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(COLUMNS)?;
    for account in &summary.affected_accounts {
        out.write_record([
            "exposed_account".to_owned(),
            account.owner.to_string(),
            account.numero_allocataire.clone(),
            joined(
                account
                    .seen_by_accounts
                    .iter()
                    .map(|viewer| format!("{}:{}", viewer.owner, viewer.numero_allocataire)),
            ),
            account.seen_by_observer.to_string(),
            String::new(),
            String::new(),
            joined(&account.fields),
            pages(&account.pages),
            joined(&account.phases),
            account.first_seen.clone(),
            account.last_seen.clone(),
            format!(
                "{:.3}",
                super::seconds_between(&account.first_seen, &account.last_seen)
            ),
            account.findings.to_string(),
            causes(&account.probable_causes),
        ])?;
    }
    for write in &summary.cross_writes {
        out.write_record([
            "cross_write".to_owned(),
            write.file_owner.to_string(),
            write.file_numero_allocataire.clone(),
            format!("{}:{}", write.file_owner, write.file_numero_allocataire),
            "false".to_owned(),
            write.written_by.to_string(),
            write.written_by_numero_allocataire.clone(),
            joined(&write.fields),
            pages(&write.pages),
            joined(&write.phases),
            write.first_seen.clone(),
            write.last_seen.clone(),
            format!(
                "{:.3}",
                super::seconds_between(&write.first_seen, &write.last_seen)
            ),
            write.findings.to_string(),
            causes(&write.probable_causes),
        ])?;
    }
    out.into_inner().map_err(|e| e.into_error())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::finding;

    #[test]
    fn a_cross_write_names_the_file_written_into_and_the_writer() {
        let mut seen_twice = finding(FindingKind::CrossWrite, 7, 9);
        seen_twice.foreign[0].field = "written_iban".into();
        let mut later = seen_twice.clone();
        later.at = "2026-11-23T10:00:05.000Z".into();
        later.request.name = "GET /api/dossier".into();
        let writes = cross_writes(&[seen_twice, later, finding(FindingKind::Violation, 1, 2)]);
        assert_eq!(writes.len(), 1);
        let write = &writes[0];
        assert_eq!((write.file_owner, write.written_by), (7, 9));
        assert_eq!(write.findings, 2);
        assert_eq!(write.pages.len(), 2);
        assert_eq!(write.first_seen, "2026-11-23T10:00:01.250Z");
        assert_eq!(write.last_seen, "2026-11-23T10:00:05.000Z");
        assert_eq!(write.probable_causes, BTreeSet::from([Cause::SharedCache]));
    }
}
