//! `evidence.har`: every distinct finding's exchange as HAR 1.2, to open in a browser's devtools
//! (Network → Import HAR). Only what the evidence kept: masked headers that matter, a body excerpt.

use super::Summary;
use crate::findings::Finding;
use serde_json::{json, Value};

/// More entries than this make devtools slow; the rest stay in `findings.jsonl`.
const MAX_ENTRIES: usize = 5_000;

pub fn har(summary: &Summary, recorded: &[Finding]) -> Value {
    let entries: Vec<Value> = recorded.iter().take(MAX_ENTRIES).map(entry).collect();
    let mut comment = format!(
        "crossleak run {} against {}: {} — evidence is {} ({})",
        summary.run_id,
        summary.target,
        summary.reason,
        summary.masking,
        "request headers and bodies are not recorded; response headers are the ones that matter for a leak, the body an excerpt around the first foreign value"
    );
    if recorded.len() > MAX_ENTRIES {
        comment.push_str(&format!(
            "; the first {MAX_ENTRIES} of {} findings, all of them in findings.jsonl",
            recorded.len()
        ));
    }
    json!({
        "log": {
            "version": "1.2",
            "creator": {"name": "crossleak", "version": env!("CARGO_PKG_VERSION")},
            "pages": [],
            "entries": entries,
            "comment": comment,
        }
    })
}

fn entry(finding: &Finding) -> Value {
    let headers: Vec<Value> = finding
        .response
        .headers
        .iter()
        // A header sent several times is kept one value a line.
        .flat_map(|(name, values)| values.split('\n').map(move |value| (name, value)))
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect();
    let cookies: Vec<Value> = finding
        .response
        .headers
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("set-cookie"))
        .flat_map(|(_, value)| value.split('\n'))
        .filter_map(cookie)
        .collect();
    let mime = super::header(finding, "content-type").unwrap_or("text/plain");
    let status = finding.response.status;
    let status_text = http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("");
    let redirected = finding.response.final_url != finding.request.url;
    json!({
        "startedDateTime": finding.at,
        "time": 0,
        "request": {
            "method": finding.request.method,
            "url": finding.request.url,
            "httpVersion": "HTTP/1.1",
            "headers": [],
            "queryString": query_string(&finding.request.url),
            "cookies": [],
            "headersSize": -1,
            "bodySize": -1,
        },
        "response": {
            "status": status,
            "statusText": status_text,
            "httpVersion": "HTTP/1.1",
            "headers": headers,
            "cookies": cookies,
            "content": {
                "size": finding.response.excerpt.len(),
                "mimeType": mime,
                "text": finding.response.excerpt,
                "comment": "an excerpt of the body around the first foreign value",
            },
            "redirectURL": "",
            "headersSize": -1,
            "bodySize": -1,
            "comment": if redirected {
                format!("redirects followed; the final URL was {}", finding.response.final_url)
            } else {
                String::new()
            },
        },
        "cache": {},
        "timings": {"send": 0, "wait": 0, "receive": 0, "comment": "not recorded"},
        "comment": format!("{}: {}", finding.kind.name(), super::describe(finding)),
        "_crossleak": {
            "kind": finding.kind.name(),
            "phase": finding.phase,
            "user": finding.user,
            "viewer": finding.viewer,
            "foreign": finding.foreign,
            "missing": finding.missing,
            "detail": finding.detail,
        },
    })
}

/// `name=value; Path=/…` as a HAR cookie (name and value only).
fn cookie(header: &str) -> Option<Value> {
    let pair = header.split(';').next()?.trim();
    let (name, value) = pair.split_once('=')?;
    Some(json!({"name": name.trim(), "value": value.trim()}))
}

fn query_string(url: &str) -> Vec<Value> {
    let Ok(url) = url::Url::parse(url) else {
        return Vec::new();
    };
    url.query_pairs()
        .map(|(name, value)| json!({"name": name, "value": value}))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::FindingKind;
    use crate::report::fixtures::finding;

    #[test]
    fn an_entry_has_the_query_the_cookie_and_the_excerpt() {
        let entry = entry(&finding(FindingKind::Violation, 1, 2));
        assert_eq!(entry["request"]["queryString"][0]["name"], "onglet");
        assert_eq!(entry["request"]["queryString"][1]["value"], "1");
        assert_eq!(entry["response"]["cookies"][0]["name"], "crossleak_session");
        assert_eq!(entry["response"]["statusText"], "OK");
        assert_eq!(
            entry["response"]["content"]["mimeType"],
            "text/html; charset=utf-8"
        );
        assert!(entry["response"]["comment"]
            .as_str()
            .unwrap()
            .contains("final URL"));
    }
}
