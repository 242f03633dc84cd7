//! `crossleak report merge`: joins the run folders of several shards into one — counts summed,
//! affected accounts united (first and last sighting kept), findings concatenated, the most serious
//! status (`Status`'s order). Reads and writes files only; reads each summary into typed fields
//! (every field it does not merge is carried through), so any crossleak version's shards merge.

use crate::findings::AccountRef;
use crate::outcome::{deserialize_status, serialize_with_exit_code, Status};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{path}: {source}; pass the run folders the shards wrote (each holds summary.json)")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a crossleak summary: {reason}")]
    Invalid { path: PathBuf, reason: String },
    #[error("{path} has status {status:?}, which this crossleak does not know ({known}): merge it with the crossleak version that wrote it")]
    UnknownStatus {
        path: PathBuf,
        status: String,
        known: String,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nothing to merge: pass at least one run folder")]
    Empty,
}

/// A shard's `summary.json`: the fields the merge combines, typed; every other field as written.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardSummary {
    pub schema_version: u32,
    pub run_id: String,
    /// Written back as `status` and the `exit_code` derived from it.
    #[serde(
        flatten,
        serialize_with = "serialize_with_exit_code",
        deserialize_with = "deserialize_status"
    )]
    pub status: Status,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub users: u64,
    #[serde(default)]
    pub requests: u64,
    #[serde(default)]
    pub requests_per_second: f64,
    #[serde(default)]
    pub users_started_per_second: f64,
    #[serde(default)]
    pub errors: u64,
    #[serde(default)]
    pub checked_responses: u64,
    #[serde(default)]
    pub truncated_bodies: u64,
    #[serde(default)]
    pub violations: u64,
    #[serde(default)]
    pub warnings: u64,
    #[serde(default)]
    pub distinct_findings: u64,
    #[serde(default)]
    pub findings_by_kind: BTreeMap<String, u64>,
    #[serde(default)]
    pub findings_by_cause: BTreeMap<String, u64>,
    #[serde(default)]
    pub errors_by_cause: BTreeMap<String, u64>,
    #[serde(default)]
    pub connections: BTreeMap<String, u64>,
    #[serde(default)]
    pub logins: BTreeMap<String, u64>,
    #[serde(default)]
    pub replays: BTreeMap<String, u64>,
    #[serde(default)]
    pub affected_accounts: Vec<ShardAccount>,
    #[serde(default)]
    pub thresholds: Vec<ShardThreshold>,
    #[serde(default)]
    pub evidence: Vec<Value>,
    /// Every other field, carried through from the first shard.
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// An exposed account as a shard's summary lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardAccount {
    pub owner: u32,
    #[serde(default)]
    pub seen_by: BTreeSet<u32>,
    #[serde(default)]
    pub seen_by_accounts: Vec<AccountRef>,
    #[serde(default)]
    pub pages: BTreeSet<String>,
    #[serde(default)]
    pub fields: BTreeSet<String>,
    #[serde(default)]
    pub phases: BTreeSet<String>,
    #[serde(default)]
    pub seen_by_observer: bool,
    pub first_seen: String,
    pub last_seen: String,
    #[serde(default)]
    pub findings: u64,
    #[serde(default)]
    pub probable_causes: BTreeSet<String>,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

/// A threshold result as a shard's summary lists it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShardThreshold {
    #[serde(default)]
    pub detail: String,
    #[serde(flatten)]
    pub rest: Map<String, Value>,
}

fn read(path: &Path) -> Result<String, MergeError> {
    std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Reads one shard's `summary.json`; an unknown status is refused by name.
pub fn read_summary(path: &Path) -> Result<ShardSummary, MergeError> {
    let text = read(path)?;
    let invalid = |reason: String| MergeError::Invalid {
        path: path.to_owned(),
        reason,
    };
    let raw: Value = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    let status = raw
        .get("status")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("no status".into()))?;
    if !Status::ALL.iter().any(|known| known.name() == status) {
        return Err(MergeError::UnknownStatus {
            path: path.to_owned(),
            status: status.to_owned(),
            known: Status::ALL.map(Status::name).join(", "),
        });
    }
    let mut summary: ShardSummary =
        serde_json::from_value(raw).map_err(|e| invalid(e.to_string()))?;
    // Derived from the status, written again from the merged one.
    summary.rest.remove("exit_code");
    Ok(summary)
}

/// Merges the run folders `dirs` into `out` (summary.json and findings.jsonl); returns the merged
/// summary.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<ShardSummary, MergeError> {
    let mut summaries = Vec::new();
    let mut findings = String::new();
    for dir in dirs {
        summaries.push(read_summary(&dir.join("summary.json"))?);
        findings.push_str(&read(&dir.join("findings.jsonl"))?);
    }
    let merged = combine(&summaries).ok_or(MergeError::Empty)?;
    std::fs::create_dir_all(out).map_err(|source| MergeError::Write {
        path: out.to_owned(),
        source,
    })?;
    let write = |name: &str, text: String| {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|source| MergeError::Write { path, source })
    };
    write(
        "summary.json",
        serde_json::to_string_pretty(&merged).unwrap_or_default() + "\n",
    )?;
    write("findings.jsonl", findings)?;
    Ok(merged)
}

/// The shards as one summary: the first one's fields, counts summed, the most serious status.
fn combine(summaries: &[ShardSummary]) -> Option<ShardSummary> {
    let mut merged = summaries.first()?.clone();
    let sum = |count: fn(&ShardSummary) -> u64| summaries.iter().map(count).sum::<u64>();
    let rate = |rate: fn(&ShardSummary) -> f64| summaries.iter().map(rate).sum::<f64>();
    merged.users = sum(|s| s.users);
    merged.requests = sum(|s| s.requests);
    merged.requests_per_second = rate(|s| s.requests_per_second);
    merged.users_started_per_second = rate(|s| s.users_started_per_second);
    merged.errors = sum(|s| s.errors);
    merged.checked_responses = sum(|s| s.checked_responses);
    merged.truncated_bodies = sum(|s| s.truncated_bodies);
    merged.violations = sum(|s| s.violations);
    merged.warnings = sum(|s| s.warnings);
    merged.distinct_findings = sum(|s| s.distinct_findings);
    merged.findings_by_kind = sum_maps(summaries, |s| &s.findings_by_kind);
    merged.findings_by_cause = sum_maps(summaries, |s| &s.findings_by_cause);
    merged.errors_by_cause = sum_maps(summaries, |s| &s.errors_by_cause);
    merged.connections = sum_maps(summaries, |s| &s.connections);
    merged.logins = sum_maps(summaries, |s| &s.logins);
    merged.replays = sum_maps(summaries, |s| &s.replays);
    merged.status = summaries.iter().map(|s| s.status).max()?;
    let run_ids: Vec<&str> = summaries.iter().map(|s| s.run_id.as_str()).collect();
    merged.reason = format!(
        "{} shards merged ({}): {} isolation failure(s)",
        summaries.len(),
        run_ids.join(", "),
        merged.violations
    );
    merged.affected_accounts = affected(summaries);
    // Each shard judged its own thresholds on its own load: every result is kept, its shard named.
    merged.thresholds = summaries
        .iter()
        .flat_map(|s| {
            s.thresholds.iter().map(|result| ShardThreshold {
                detail: format!("shard {}: {}", s.run_id, result.detail),
                rest: result.rest.clone(),
            })
        })
        .collect();
    merged.evidence = summaries
        .iter()
        .flat_map(|s| s.evidence.iter().cloned())
        .take(50)
        .collect();
    Some(merged)
}

/// Maps of counts added key by key.
fn sum_maps(
    summaries: &[ShardSummary],
    map: fn(&ShardSummary) -> &BTreeMap<String, u64>,
) -> BTreeMap<String, u64> {
    let mut totals = BTreeMap::new();
    for (key, count) in summaries.iter().flat_map(map) {
        *totals.entry(key.clone()).or_default() += count;
    }
    totals
}

/// Affected accounts of all shards, one per owner.
fn affected(summaries: &[ShardSummary]) -> Vec<ShardAccount> {
    let mut by_owner: BTreeMap<u32, ShardAccount> = BTreeMap::new();
    for account in summaries.iter().flat_map(|s| &s.affected_accounts) {
        let Some(merged) = by_owner.get_mut(&account.owner) else {
            by_owner.insert(account.owner, account.clone());
            continue;
        };
        merged.seen_by.extend(account.seen_by.iter().copied());
        for viewer in &account.seen_by_accounts {
            if !merged.seen_by_accounts.contains(viewer) {
                merged.seen_by_accounts.push(viewer.clone());
            }
        }
        // Viewers' accounts stay ordered by owner, as in each shard's summary.
        merged.seen_by_accounts.sort_by_key(|viewer| viewer.owner);
        merged.pages.extend(account.pages.iter().cloned());
        merged.fields.extend(account.fields.iter().cloned());
        merged.phases.extend(account.phases.iter().cloned());
        merged
            .probable_causes
            .extend(account.probable_causes.iter().cloned());
        if account.first_seen < merged.first_seen {
            merged.first_seen = account.first_seen.clone();
        }
        if account.last_seen > merged.last_seen {
            merged.last_seen = account.last_seen.clone();
        }
        merged.findings += account.findings;
        merged.seen_by_observer |= account.seen_by_observer;
    }
    by_owner.into_values().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shard(dir: &Path, status: &str, violations: u64, owner: u64, seen_by: u64, at: &str) {
        std::fs::create_dir_all(dir).unwrap();
        let summary = json!({
            "schema_version": 1, "run_id": dir.file_name().unwrap().to_str().unwrap(),
            "status": status, "exit_code": 0, "reason": "", "requests": 10,
            "requests_per_second": 5.0, "errors": 1, "checked_responses": 9,
            "truncated_bodies": 0, "violations": violations, "warnings": 0,
            "distinct_findings": violations, "users": 3,
            "findings_by_kind": {"violation": violations},
            "errors_by_cause": {"timeout": 1},
            "logins": {"succeeded": 3, "failed": 0, "again": 0, "sessions_lost": 0},
            "affected_accounts": [{"owner": owner, "seen_by": [seen_by], "fields": ["nir"],
                "phases": ["load"], "first_seen": at, "last_seen": at, "findings": violations,
                "seen_by_observer": false, "numero_allocataire": "00***01"}],
            "evidence": []
        });
        std::fs::write(dir.join("summary.json"), summary.to_string()).unwrap();
        std::fs::write(
            dir.join("findings.jsonl"),
            format!("{{\"shard\":\"{at}\"}}\n"),
        )
        .unwrap();
    }

    #[test]
    fn counts_add_up_accounts_unite_and_the_worst_status_wins() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        shard(&a, "clean", 0, 7, 1, "2026-01-01T00:00:02Z");
        shard(&b, "violations", 2, 7, 4, "2026-01-01T00:00:01Z");
        let out = root.path().join("merged");
        let merged = serde_json::to_value(merge(&[a, b], &out).unwrap()).unwrap();
        assert_eq!(merged["status"], "violations");
        assert_eq!(merged["exit_code"], 1);
        assert_eq!(merged["requests"], 20);
        assert_eq!(merged["violations"], 2);
        assert_eq!(merged["errors_by_cause"]["timeout"], 2);
        assert_eq!(merged["logins"]["succeeded"], 6);
        let accounts = merged["affected_accounts"].as_array().unwrap();
        assert_eq!(accounts.len(), 1);
        assert_eq!(accounts[0]["seen_by"], json!([1, 4]));
        assert_eq!(accounts[0]["first_seen"], "2026-01-01T00:00:01Z");
        assert_eq!(accounts[0]["last_seen"], "2026-01-01T00:00:02Z");
        let lines = std::fs::read_to_string(out.join("findings.jsonl")).unwrap();
        assert_eq!(lines.lines().count(), 2);
    }

    #[test]
    fn a_failed_threshold_outranks_clean_and_inconclusive_but_not_violations() {
        let root = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            root.path().join("a"),
            root.path().join("b"),
            root.path().join("c"),
        );
        shard(&a, "inconclusive", 0, 7, 1, "2026-01-01T00:00:02Z");
        shard(&b, "thresholds_failed", 0, 7, 1, "2026-01-01T00:00:02Z");
        let mut summary: Value =
            serde_json::from_str(&std::fs::read_to_string(b.join("summary.json")).unwrap())
                .unwrap();
        summary["thresholds"] = json!([{"threshold": "latency", "rule": "p95 < 1ms",
            "unit": "ms", "limit": 1.0, "measured": 3.5, "passed": false, "detail": "slow"}]);
        std::fs::write(b.join("summary.json"), summary.to_string()).unwrap();
        let merged =
            serde_json::to_value(merge(&[a.clone(), b.clone()], &root.path().join("m1")).unwrap())
                .unwrap();
        assert_eq!(
            (merged["status"].as_str(), merged["exit_code"].as_u64()),
            (Some("thresholds_failed"), Some(5))
        );
        assert_eq!(merged["thresholds"].as_array().unwrap().len(), 1);
        assert_eq!(merged["thresholds"][0]["detail"], "shard b: slow");
        shard(&c, "violations", 1, 7, 1, "2026-01-01T00:00:02Z");
        let merged = merge(&[b, c], &root.path().join("m2")).unwrap();
        assert_eq!(merged.status, Status::Violations);
    }

    #[test]
    fn an_unknown_status_is_refused_naming_the_file_and_the_value() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (root.path().join("a"), root.path().join("b"));
        shard(&a, "clean", 0, 7, 1, "2026-01-01T00:00:02Z");
        shard(&b, "exploded", 0, 7, 1, "2026-01-01T00:00:02Z");
        let error = merge(&[a, b.clone()], &root.path().join("out")).unwrap_err();
        assert!(matches!(error, MergeError::UnknownStatus { .. }), "{error}");
        let message = error.to_string();
        assert!(
            message.contains(&b.join("summary.json").display().to_string()),
            "{message}"
        );
        assert!(message.contains("\"exploded\""), "{message}");
        assert!(!root.path().join("out").exists(), "nothing written");
    }

    #[test]
    fn the_merged_status_is_the_most_serious_in_the_run_precedence() {
        let root = tempfile::tempdir().unwrap();
        let mut dirs = Vec::new();
        for status in Status::ALL {
            let dir = root.path().join(status.name());
            shard(&dir, status.name(), 0, 7, 1, "2026-01-01T00:00:02Z");
            dirs.push(dir);
        }
        for (index, status) in Status::ALL.iter().enumerate() {
            let out = root.path().join(format!("merged-{index}"));
            let merged = merge(&dirs[..=index], &out).unwrap();
            assert_eq!(merged.status, *status);
            let text = std::fs::read_to_string(out.join("summary.json")).unwrap();
            assert_eq!(text.matches("\"status\"").count(), 1, "{text}");
            assert_eq!(text.matches("\"exit_code\"").count(), 1, "{text}");
            let written: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(written["status"], status.name());
            assert_eq!(written["exit_code"], status.exit_code());
        }
    }

    #[test]
    fn a_folder_without_a_summary_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let error = merge(&[root.path().join("nope")], &root.path().join("out")).unwrap_err();
        assert!(error.to_string().contains("summary.json"), "{error}");
    }
}
