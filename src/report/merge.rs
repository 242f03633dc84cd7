//! `crossleak report merge`: joins the run folders of several shards into one — counts summed,
//! affected accounts united (first and last sighting kept), findings concatenated, worst status.
//! Reads and writes files only; works on the published JSON, so any crossleak version's shards merge.

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
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("nothing to merge: pass at least one run folder")]
    Empty,
}

/// Numbers that add up across shards.
const SUMMED: [&str; 10] = [
    "requests",
    "requests_per_second",
    "users_started_per_second",
    "errors",
    "checked_responses",
    "truncated_bodies",
    "violations",
    "warnings",
    "distinct_findings",
    "users",
];
/// Maps of counts that add up key by key.
const SUMMED_MAPS: [&str; 5] = [
    "findings_by_kind",
    "errors_by_cause",
    "connections",
    "logins",
    "replays",
];
/// From the least to the most serious: the merged status is the most serious of the shards'.
const SEVERITY: [(&str, u64); 6] = [
    ("clean", 0),
    ("inconclusive", 4),
    ("unreachable", 3),
    ("thresholds_failed", 5),
    ("interrupted", 130),
    ("violations", 1),
];

fn read(path: &Path) -> Result<String, MergeError> {
    std::fs::read_to_string(path).map_err(|source| MergeError::Read {
        path: path.to_owned(),
        source,
    })
}

/// Merges the run folders `dirs` into `out` (summary.json and findings.jsonl); returns the merged
/// summary.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Value, MergeError> {
    let mut summaries = Vec::new();
    let mut findings = String::new();
    for dir in dirs {
        let path = dir.join("summary.json");
        let summary: Value =
            serde_json::from_str(&read(&path)?).map_err(|e| MergeError::Invalid {
                path: path.clone(),
                reason: e.to_string(),
            })?;
        if summary.get("schema_version").is_none() || summary.get("status").is_none() {
            return Err(MergeError::Invalid {
                path,
                reason: "no schema_version or status".into(),
            });
        }
        summaries.push(summary);
        let lines = read(&dir.join("findings.jsonl"))?;
        findings.push_str(&lines);
    }
    let mut merged = summaries.first().cloned().ok_or(MergeError::Empty)?;
    let object = merged.as_object_mut().expect("a summary is a JSON object");
    for key in SUMMED {
        let total: f64 = summaries.iter().filter_map(|s| s[key].as_f64()).sum();
        object.insert(key.to_owned(), number(total));
    }
    for key in SUMMED_MAPS {
        let mut totals: BTreeMap<String, f64> = BTreeMap::new();
        for summary in &summaries {
            if let Some(map) = summary[key].as_object() {
                for (k, v) in map {
                    *totals.entry(k.clone()).or_default() += v.as_f64().unwrap_or(0.0);
                }
            }
        }
        let map: Map<String, Value> = totals.into_iter().map(|(k, v)| (k, number(v))).collect();
        object.insert(key.to_owned(), Value::Object(map));
    }
    let (status, code) = summaries
        .iter()
        .filter_map(|s| SEVERITY.iter().position(|(name, _)| s["status"] == *name))
        .max()
        .map(|i| SEVERITY[i])
        .unwrap_or(SEVERITY[0]);
    object.insert("status".into(), Value::from(status));
    object.insert("exit_code".into(), Value::from(code));
    let run_ids: Vec<&str> = summaries
        .iter()
        .filter_map(|s| s["run_id"].as_str())
        .collect();
    object.insert(
        "reason".into(),
        Value::from(format!(
            "{} shards merged ({}): {} isolation failure(s)",
            summaries.len(),
            run_ids.join(", "),
            object["violations"]
        )),
    );
    object.insert("affected_accounts".into(), affected(&summaries));
    // Each shard judged its own thresholds on its own load: every result is kept, its shard named.
    let thresholds: Vec<Value> = summaries
        .iter()
        .flat_map(|s| {
            let run_id = s["run_id"].as_str().unwrap_or_default().to_owned();
            s["thresholds"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |mut result| {
                    let detail = result["detail"].as_str().unwrap_or_default();
                    result["detail"] = Value::from(format!("shard {run_id}: {detail}"));
                    result
                })
        })
        .collect();
    object.insert("thresholds".into(), Value::Array(thresholds));
    let evidence: Vec<Value> = summaries
        .iter()
        .flat_map(|s| s["evidence"].as_array().cloned().unwrap_or_default())
        .take(50)
        .collect();
    object.insert("evidence".into(), Value::Array(evidence));
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

/// Integers stay integers in the merged JSON.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

/// Affected accounts of all shards, one per owner.
fn affected(summaries: &[Value]) -> Value {
    let mut by_owner: BTreeMap<u64, Value> = BTreeMap::new();
    for account in summaries.iter().flat_map(|s| {
        s["affected_accounts"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }) {
        let Some(owner) = account["owner"].as_u64() else {
            continue;
        };
        match by_owner.get_mut(&owner) {
            None => {
                by_owner.insert(owner, account);
            }
            Some(merged) => {
                for set in ["seen_by", "seen_by_accounts", "pages", "fields", "phases"] {
                    let union: BTreeSet<String> = [&merged[set], &account[set]]
                        .iter()
                        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                        .map(|v| v.to_string())
                        .collect();
                    let mut values: Vec<Value> = union
                        .iter()
                        .filter_map(|v| serde_json::from_str(v).ok())
                        .collect();
                    // Viewers' accounts stay ordered by owner, as in each shard's summary.
                    values.sort_by_key(|v| v["owner"].as_u64());
                    merged[set] = Value::Array(values);
                }
                let first = min_text(&merged["first_seen"], &account["first_seen"]);
                let last = max_text(&merged["last_seen"], &account["last_seen"]);
                merged["first_seen"] = first;
                merged["last_seen"] = last;
                let findings = merged["findings"].as_u64().unwrap_or(0)
                    + account["findings"].as_u64().unwrap_or(0);
                merged["findings"] = Value::from(findings);
                let observer = merged["seen_by_observer"].as_bool().unwrap_or(false)
                    || account["seen_by_observer"].as_bool().unwrap_or(false);
                merged["seen_by_observer"] = Value::from(observer);
            }
        }
    }
    Value::Array(by_owner.into_values().collect())
}

fn min_text(a: &Value, b: &Value) -> Value {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => Value::from(x.min(y)),
        _ => a.clone(),
    }
}

fn max_text(a: &Value, b: &Value) -> Value {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => Value::from(x.max(y)),
        _ => a.clone(),
    }
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
        let merged = merge(&[a, b], &out).unwrap();
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
        let merged = merge(&[a.clone(), b.clone()], &root.path().join("m1")).unwrap();
        assert_eq!(
            (merged["status"].as_str(), merged["exit_code"].as_u64()),
            (Some("thresholds_failed"), Some(5))
        );
        assert_eq!(merged["thresholds"].as_array().unwrap().len(), 1);
        assert_eq!(merged["thresholds"][0]["detail"], "shard b: slow");
        shard(&c, "violations", 1, 7, 1, "2026-01-01T00:00:02Z");
        let merged = merge(&[b, c], &root.path().join("m2")).unwrap();
        assert_eq!(merged["status"], "violations");
    }

    #[test]
    fn a_folder_without_a_summary_is_a_clear_error() {
        let root = tempfile::tempdir().unwrap();
        let error = merge(&[root.path().join("nope")], &root.path().join("out")).unwrap_err();
        assert!(error.to_string().contains("summary.json"), "{error}");
    }
}
