//! Infers the login flow: the steps up to the request that sends the password, the tokens a step
//! sends back from an earlier response (CSS selector, JSON pointer or header), and the session.

use super::draft::{ExtractDraft, LoginDraft, SessionDraft, StepDraft};
use super::error::HarError;
use super::recording::{json_leaves, Exchange};
use super::seen::Seer;
use super::template::{is_browser_header, Templater};
use super::visits::Visit;
use crate::scenario::CssPattern;
use serde_json::Value;

/// Tokens shorter than this are not looked for in earlier responses (`1`, `on`, `fr`).
const MIN_TOKEN: usize = 6;

/// What the login inference found, with the visits it used.
pub struct Login {
    pub draft: LoginDraft,
    /// Index (into the visits) of the visit that sent the password.
    pub credential: usize,
    /// The oracle fields the landing page showed (filtered against the writes later).
    pub shown: Vec<String>,
}

/// `kept` lists the visits (indexes into `visits`) that are not noise, in order.
pub fn infer(
    exchanges: &[Exchange],
    visits: &[Visit],
    kept: &[usize],
    templater: &mut Templater<'_>,
    seer: &Seer,
    notes: &mut Vec<String>,
    file: &str,
) -> Result<Login, HarError> {
    let password = templater.password().to_owned();
    let credential_at = kept
        .iter()
        .position(|v| visits[*v].sends(exchanges, &password))
        .ok_or_else(|| {
            HarError::inference(
                file,
                "no request of the recorded host sends the user's password".into(),
                "record the login itself, from the login page on",
            )
        })?;
    let credential = kept[credential_at];
    let mut steps = trace_steps(exchanges, visits, kept, credential, templater, notes);
    steps.sort_by_key(|(v, _)| *v);
    let (session, token) = session(exchanges, visits, kept, steps[0].0, credential)
        .ok_or_else(|| {
            HarError::inference(
                file,
                "no session found: no cookie set during the login is sent afterwards, and no token of the login's JSON answer is sent in a header".into(),
                "export the HAR with its sensitive data (Chrome: \"Export HAR (with sensitive data)\"), and record at least one page after the login",
            )
        })?;
    if let SessionDraft::Bearer { header, .. } = &session {
        templater.session_header = Some(header.clone());
    }
    if let Some(token) = &token {
        templater.secrets.push(token.clone());
    }
    let steps: Vec<StepDraft> = steps
        .into_iter()
        .map(|(v, extract)| StepDraft {
            request: templater.request(visits[v].first(exchanges), notes),
            extract,
            entries: visits[v].entries(exchanges),
        })
        .collect();
    let last = &visits[credential];
    let landing = last.last(exchanges);
    let shown = seer.own_fields(landing);
    let landing_path = (last.hops.len() > 1).then(|| landing.url.path().to_owned());
    let name = flow_name(last.first(exchanges));
    Ok(Login {
        draft: LoginDraft {
            name,
            steps,
            session,
            status: landing_path.is_none().then_some(landing.status),
            landing_path,
            must_show: Vec::new(),
        },
        credential: credential_at,
        shown,
    })
}

/// The login's steps found so far (a visit and the tokens extracted from its response), and the
/// steps whose own requests are still to be traced back.
struct Steps {
    found: Vec<(usize, Vec<ExtractDraft>)>,
    pending: Vec<usize>,
}

impl Steps {
    /// The extracts of `visit`'s step; a visit not yet a step becomes one, to be traced.
    fn of(&mut self, visit: usize) -> &mut Vec<ExtractDraft> {
        let at = match self.found.iter().position(|(s, _)| *s == visit) {
            Some(at) => at,
            None => {
                self.found.push((visit, Vec::new()));
                self.pending.push(visit);
                self.found.len() - 1
            }
        };
        &mut self.found[at].1
    }
}

/// The credential visit and every earlier visit it needs, traced back from it: one whose response
/// holds a token a step sends back (with where it is), one that set a cookie a step sends.
fn trace_steps(
    exchanges: &[Exchange],
    visits: &[Visit],
    kept: &[usize],
    credential: usize,
    templater: &mut Templater<'_>,
    notes: &mut Vec<String>,
) -> Vec<(usize, Vec<ExtractDraft>)> {
    let mut steps = Steps {
        found: vec![(credential, Vec::new())],
        pending: vec![credential],
    };
    while let Some(v) = steps.pending.pop() {
        let request = visits[v].first(exchanges);
        // The kept visits before this one, in order: each search goes nearest first.
        let earlier = &kept[..kept.iter().position(|k| *k == v).unwrap_or(0)];
        for (field, value) in request.sent_values() {
            if value.len() < MIN_TOKEN
                || is_browser_header(&field)
                || templater.is_users(&value)
                || templater.extracted.iter().any(|(_, t)| *t == value)
            {
                continue;
            }
            let name = extract_name(&field, templater);
            match token_source(exchanges, visits, earlier, &value, &name) {
                Some((source, extract)) => {
                    templater.extracted.push((name, value));
                    steps.of(source).push(extract);
                }
                None if looks_like_token(&value) => notes.push(format!(
                    "entry {}: {field:?} sends a token no earlier response of the recording holds; it is written as recorded: if the portal issues it per visit, record from the page that does",
                    request.entry
                )),
                None => {}
            }
        }
        // A cookie the login sends that an earlier visit set (a pre-login session): keep that visit.
        for (name, value) in &request.request_cookies {
            if let Some(setter) = cookie_setter(exchanges, visits, earlier, name, value) {
                steps.of(setter);
            }
        }
    }
    steps.found
}

/// The nearest of the `earlier` visits whose response holds the token `value`, with where.
fn token_source(
    exchanges: &[Exchange],
    visits: &[Visit],
    earlier: &[usize],
    value: &str,
    name: &str,
) -> Option<(usize, ExtractDraft)> {
    earlier.iter().rev().find_map(|source| {
        locate(visits[*source].last(exchanges), value, name).map(|extract| (*source, extract))
    })
}

/// The nearest of the `earlier` visits that set the cookie `name=value`.
fn cookie_setter(
    exchanges: &[Exchange],
    visits: &[Visit],
    earlier: &[usize],
    name: &str,
    value: &str,
) -> Option<usize> {
    earlier.iter().rev().copied().find(|s| {
        visits[*s].hops.iter().any(|h| {
            exchanges[*h]
                .set_cookies
                .iter()
                .any(|c| c.name == name && c.value == value)
        })
    })
}

/// Long, with letters and digits: a per-visit token rather than a constant such as `fr` or `on`.
fn looks_like_token(value: &str) -> bool {
    value.len() >= 16
        && value.bytes().any(|b| b.is_ascii_digit())
        && value.bytes().any(|b| b.is_ascii_alphabetic())
}

/// The flow's name: the credential request's last path segment (`allocataire`, `session`).
fn flow_name(e: &Exchange) -> String {
    let name: String = e
        .url
        .path_segments()
        .and_then(|mut s| s.rfind(|part| !part.is_empty()))
        .unwrap_or("login")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() {
        "login".into()
    } else {
        name
    }
}

/// A variable name for a token sent as `field`, not yet taken.
fn extract_name(field: &str, templater: &Templater<'_>) -> String {
    let base: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect::<String>()
        .trim_matches('_')
        .to_owned();
    let base = if base.is_empty() || base.starts_with(|c: char| c.is_ascii_digit()) {
        format!("token_{base}")
    } else {
        base
    };
    let taken = |name: &str| {
        templater.extracted.iter().any(|(n, _)| n == name)
            || templater.is_variable(name)
            || ["password", "new_password", "value", "household"].contains(&name)
    };
    if !taken(&base) {
        return base;
    }
    (2..)
        .map(|n| format!("{base}_{n}"))
        .find(|name| !taken(name))
        .unwrap_or(base)
}

/// Where `value` is in a response: a header, a JSON pointer, an HTML element (checked with the
/// same CSS code a run uses), or as a last resort a regex around it.
pub fn locate(response: &Exchange, value: &str, name: &str) -> Option<ExtractDraft> {
    for (header, v) in &response.response_headers {
        if v == value && !header.eq_ignore_ascii_case("set-cookie") {
            return Some(ExtractDraft::Header {
                name: name.to_owned(),
                header: header.clone(),
            });
        }
    }
    let body = &response.response_body;
    if !body.contains(value) {
        return None;
    }
    if let Ok(json) = serde_json::from_str::<Value>(body) {
        if let Some(pointer) = pointer_to(&json, value, "") {
            return Some(ExtractDraft::Pointer {
                name: name.to_owned(),
                pointer,
            });
        }
    }
    if let Some((css, attribute)) = css_for(body, value) {
        return Some(ExtractDraft::Css {
            name: name.to_owned(),
            css,
            attribute,
        });
    }
    let at = body.find(value)?;
    let before: String = body[..at]
        .chars()
        .rev()
        .take(24)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    let regex = format!("{}([^\"'<>&\\s]+)", regex::escape(&before));
    let compiled = regex::Regex::new(&regex).ok()?;
    (compiled.captures(body)?.get(1)?.as_str() == value).then(|| ExtractDraft::Regex {
        name: name.to_owned(),
        regex,
    })
}

/// The RFC 6901 pointer of the first string (or number) equal to `value`.
fn pointer_to(json: &Value, value: &str, at: &str) -> Option<String> {
    match json {
        Value::String(s) if s == value => Some(at.to_owned()),
        Value::Number(n) if n.to_string() == value => Some(at.to_owned()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| pointer_to(v, value, &format!("{at}/{i}"))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            let key = k.replace('~', "~0").replace('/', "~1");
            pointer_to(v, value, &format!("{at}/{key}"))
        }),
        _ => None,
    }
}

/// A selector (and attribute) whose first match gives `value`: `input[name="_csrf"]` /
/// `value`, `meta[name="csrf"]` / `content`, `#token` (text)…, verified on the page.
fn css_for(body: &str, value: &str) -> Option<(String, Option<String>)> {
    let document = scraper::Html::parse_document(body);
    let all = scraper::Selector::parse("*").ok()?;
    for element in document.select(&all) {
        let e = element.value();
        let tag = e.name();
        let holder = e
            .attrs()
            .find(|(_, v)| *v == value)
            .map(|(a, _)| Some(a.to_owned()));
        let text = element.text().collect::<String>();
        let holder = holder.or_else(|| (text.trim() == value).then_some(None));
        let Some(attribute) = holder else { continue };
        let mut candidates = Vec::new();
        for key in ["name", "id", "property", "itemprop", "data-name"] {
            if let Some(v) = e.attr(key) {
                if Some(key) != attribute.as_deref() {
                    candidates.push(format!("{tag}[{key}=\"{}\"]", v.replace('"', "\\\"")));
                }
            }
        }
        if let Some(attribute) = &attribute {
            candidates.push(format!("{tag}[{attribute}]"));
        }
        for css in candidates {
            let Ok(pattern) = CssPattern::parse(&css, attribute.clone()) else {
                continue;
            };
            if pattern.extract(body).as_deref() == Some(value) {
                return Some((css, attribute));
            }
        }
    }
    None
}

/// The session: a bearer token of the credential visit's JSON answer sent in a later header, or
/// a cookie set during the login and sent afterwards. Returns it with the token's value.
fn session(
    exchanges: &[Exchange],
    visits: &[Visit],
    kept: &[usize],
    first_step: usize,
    credential: usize,
) -> Option<(SessionDraft, Option<String>)> {
    let answer = visits[credential].last(exchanges);
    let after: Vec<&Exchange> = kept
        .iter()
        .filter(|v| **v > credential)
        .flat_map(|v| visits[*v].hops.iter().map(|h| &exchanges[*h]))
        .collect();
    if let Ok(json) = serde_json::from_str::<Value>(&answer.response_body) {
        let mut leaves = Vec::new();
        json_leaves(&json, "", &mut leaves);
        for (_, token) in leaves.iter().filter(|(_, t)| t.len() >= 12) {
            for e in &after {
                for (header, value) in &e.request_headers {
                    if header.eq_ignore_ascii_case("cookie") || !value.ends_with(token.as_str()) {
                        continue;
                    }
                    let pointer = pointer_to(&json, token, "")?;
                    let prefix = value[..value.len() - token.len()].to_owned();
                    return Some((
                        SessionDraft::Bearer {
                            pointer,
                            header: canonical_header(header),
                            prefix,
                        },
                        Some(token.clone()),
                    ));
                }
            }
        }
    }
    let login_hops: Vec<usize> = visits
        .iter()
        .enumerate()
        .filter(|(v, _)| (first_step..=credential).contains(v))
        .flat_map(|(_, visit)| visit.hops.iter().copied())
        .collect();
    let mut set: Vec<(usize, &str, &str)> = login_hops
        .iter()
        .flat_map(|h| {
            exchanges[*h]
                .set_cookies
                .iter()
                .filter(|c| !c.deleted)
                .map(move |c| (*h, c.name.as_str(), c.value.as_str()))
        })
        // Sent afterwards: by a later hop of the login's own redirects, or by a later request.
        .filter(|(h, name, value)| {
            let later_hops = login_hops.iter().filter(|l| *l > h).map(|l| &exchanges[*l]);
            later_hops.chain(after.iter().copied()).any(|e| {
                e.request_cookies
                    .iter()
                    .any(|(n, v)| n == name && v == value)
            })
        })
        .collect();
    // The cookie the credential visit set (a session opened or renewed by the login) first.
    set.sort_by_key(|(h, name, _)| {
        (
            !visits[credential].hops.contains(h),
            !["sess", "sid", "auth", "token", "jwt"]
                .iter()
                .any(|w| name.to_ascii_lowercase().contains(w)),
        )
    });
    set.first().map(|(_, name, value)| {
        (
            SessionDraft::Cookie((*name).to_owned()),
            Some((*value).to_owned()),
        )
    })
}

/// `authorization` (HTTP/2 recordings) → `Authorization`.
fn canonical_header(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase()
            })
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(body: &str, mime: &str) -> Exchange {
        let mut e = crate::har::visits::tests::exchange(1, "GET", "http://127.0.0.1/login", 200);
        e.response_body = body.to_owned();
        e.mime = mime.to_owned();
        e
    }

    #[test]
    fn a_hidden_input_and_a_meta_tag_become_css_selectors() {
        let html = r#"<html><head><meta content="tok-meta-123" name="csrf-token"></head><body><form><input type="hidden" value="tok-input-456" name="_csrf"></form></body></html>"#;
        assert_eq!(
            locate(&page(html, "text/html"), "tok-input-456", "csrf"),
            Some(ExtractDraft::Css {
                name: "csrf".into(),
                css: "input[name=\"_csrf\"]".into(),
                attribute: Some("value".into())
            })
        );
        assert_eq!(
            locate(&page(html, "text/html"), "tok-meta-123", "csrf"),
            Some(ExtractDraft::Css {
                name: "csrf".into(),
                css: "meta[name=\"csrf-token\"]".into(),
                attribute: Some("content".into())
            })
        );
    }

    #[test]
    fn a_json_field_becomes_a_pointer_and_a_header_its_name() {
        let json = r#"{"login": {"nonce": "n-0123456789"}}"#;
        assert_eq!(
            locate(&page(json, "application/json"), "n-0123456789", "nonce"),
            Some(ExtractDraft::Pointer {
                name: "nonce".into(),
                pointer: "/login/nonce".into()
            })
        );
        let mut e = page("", "text/html");
        e.response_headers
            .push(("X-Flow-Id".into(), "flow-98765".into()));
        assert_eq!(
            locate(&e, "flow-98765", "flow"),
            Some(ExtractDraft::Header {
                name: "flow".into(),
                header: "X-Flow-Id".into()
            })
        );
        assert_eq!(locate(&e, "absent-token", "flow"), None);
    }

    #[test]
    fn a_value_in_a_script_falls_back_to_a_checked_regex() {
        let html = "<html><script>window.csrf = 'abc-123456';</script></html>";
        let Some(ExtractDraft::Regex { regex, .. }) =
            locate(&page(html, "text/html"), "abc-123456", "csrf")
        else {
            panic!("no regex")
        };
        let re = regex::Regex::new(&regex).unwrap();
        assert_eq!(&re.captures(html).unwrap()[1], "abc-123456");
        assert_eq!(canonical_header("x-csrf-token"), "X-Csrf-Token");
        assert!(looks_like_token("9f8e7d6c5b4a39281706"));
        assert!(!looks_like_token("remember-me-please") && !looks_like_token("a1"));
    }
}
