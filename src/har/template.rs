//! Turns a recorded request into a scenario request: the user's values become `{{variables}}`,
//! extracted tokens their names, browser headers and secrets (cookies, tokens) are left out.

use super::compare;
use super::draft::{BodyDraft, RequestDraft};
use super::recording::{Exchange, RequestBody};
use super::user::{User, UserValue};
use serde_json::Value;
use std::cell::RefCell;
use std::collections::BTreeSet;

/// Headers a browser or proxy adds by itself, or that carry the session: never written.
const BROWSER_HEADERS: [&str; 21] = [
    "host",
    "connection",
    "content-length",
    "content-type",
    "accept",
    "user-agent",
    "referer",
    "origin",
    "cookie",
    "cache-control",
    "pragma",
    "upgrade-insecure-requests",
    "dnt",
    "priority",
    "te",
    "keep-alive",
    "authorization",
    "proxy-authorization",
    "purpose",
    "x-client-data",
    "via",
];

pub fn is_browser_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with(':')
        || name.starts_with("sec-")
        || name.starts_with("accept-")
        || name.starts_with("if-")
        || BROWSER_HEADERS.contains(&name.as_str())
}

/// What a recorded value becomes.
pub struct Templater<'a> {
    user: &'a User,
    /// `(name, recorded value)` of the tokens extracted so far.
    pub extracted: Vec<(String, String)>,
    /// Values that must never be written: cookies and session tokens of the recording.
    pub secrets: Vec<String>,
    /// The header the session token goes in (left out of every request).
    pub session_header: Option<String>,
    /// The population variables written so far: a mapped export must map each.
    pub used: RefCell<BTreeSet<String>>,
}

impl<'a> Templater<'a> {
    pub fn new(user: &'a User, exchanges: &[Exchange]) -> Templater<'a> {
        let mut secrets: Vec<String> = exchanges
            .iter()
            .flat_map(|e| {
                e.request_cookies
                    .iter()
                    .map(|(_, v)| v.clone())
                    .chain(e.set_cookies.iter().map(|c| c.value.clone()))
            })
            .filter(|v| v.len() >= 8)
            .collect();
        secrets.sort();
        secrets.dedup();
        Templater {
            user,
            extracted: Vec::new(),
            secrets,
            session_header: None,
            used: RefCell::default(),
        }
    }

    /// A value as a template, or `None` when it holds a secret and must be left out.
    pub fn value(&self, recorded: &str) -> Option<String> {
        if recorded == self.user.password {
            return Some("{{password}}".into());
        }
        if let Some((name, _)) = self.extracted.iter().find(|(_, v)| v == recorded) {
            return Some(format!("{{{{{name}}}}}"));
        }
        if let Some(v) = self.variables().find(|v| v.value == recorded) {
            return Some(self.named(v));
        }
        if let Some(v) = self.variables().find(|v| compare::same(recorded, &v.value)) {
            return Some(self.named(v));
        }
        let mut text = recorded.to_owned();
        for (name, value) in &self.extracted {
            if compare::attributable(value) {
                text = text.replace(value.as_str(), &format!("{{{{{name}}}}}"));
            }
        }
        for v in self.variables() {
            if text.contains(v.value.as_str()) {
                text = text.replace(v.value.as_str(), &self.named(v));
            }
        }
        if !self.user.password.is_empty() {
            text = text.replace(self.user.password.as_str(), "{{password}}");
        }
        if self.secrets.iter().any(|s| text.contains(s.as_str())) {
            return None;
        }
        Some(text)
    }

    pub fn password(&self) -> &str {
        &self.user.password
    }

    /// Whether `name` is one of the population's variables.
    pub fn is_variable(&self, name: &str) -> bool {
        self.user
            .values
            .iter()
            .any(|v| v.variable == name || v.shown_as == name)
    }

    /// The user's values that may become variables: those that could be watched.
    fn variables(&self) -> impl Iterator<Item = &UserValue> {
        self.user.values.iter().filter(|v| v.watchable)
    }

    fn named(&self, v: &UserValue) -> String {
        self.used.borrow_mut().insert(v.variable.clone());
        format!("{{{{{}}}}}", v.variable)
    }

    /// Whether a value is the user's own (templated as a population variable or the password).
    pub fn is_users(&self, recorded: &str) -> bool {
        recorded == self.user.password
            || self
                .variables()
                .any(|v| v.value == recorded || compare::same(recorded, &v.value))
    }

    /// The request, templated; `notes` gets a line for each value left out.
    pub fn request(&self, e: &Exchange, notes: &mut Vec<String>) -> RequestDraft {
        let mut path = self.path(e);
        let query = self.query(e, notes);
        if !query.is_empty() {
            path = format!("{path}?{}", query.join("&"));
        }
        RequestDraft {
            method: e.method.clone(),
            path,
            headers: self.headers(e, notes),
            body: self.body(e, notes),
        }
    }

    /// The URL's path, each segment templated (one that holds a secret stays as recorded).
    fn path(&self, e: &Exchange) -> String {
        let mut path: String = e
            .url
            .path_segments()
            .map(|segments| {
                segments
                    .map(|s| {
                        let decoded = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
                        self.value(&decoded).unwrap_or_else(|| s.to_owned())
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .unwrap_or_default();
        path.insert(0, '/');
        path
    }

    /// The query's `name=value` pairs, templated; one that holds a secret is left out.
    fn query(&self, e: &Exchange, notes: &mut Vec<String>) -> Vec<String> {
        e.url
            .query_pairs()
            .filter_map(|(k, v)| match self.value(&v) {
                Some(t) => Some(format!("{k}={t}")),
                None => {
                    notes.push(left_out_note(e, "query parameter", &k));
                    None
                }
            })
            .collect()
    }

    /// The headers the browser did not add by itself, templated, without the session's; one
    /// that holds a secret is left out.
    fn headers(&self, e: &Exchange, notes: &mut Vec<String>) -> Vec<(String, String)> {
        let mut headers = Vec::new();
        for (name, value) in &e.request_headers {
            let session = self
                .session_header
                .as_deref()
                .is_some_and(|h| h.eq_ignore_ascii_case(name));
            if is_browser_header(name) || session {
                continue;
            }
            match self.value(value) {
                Some(t) => headers.push((name.clone(), t)),
                None => notes.push(left_out_note(e, "header", name)),
            }
        }
        headers
    }

    /// The body as form fields or JSON, templated; a form field that holds a secret is left out,
    /// and a body of another kind is not sent.
    fn body(&self, e: &Exchange, notes: &mut Vec<String>) -> BodyDraft {
        match &e.body {
            RequestBody::None => BodyDraft::None,
            RequestBody::Form(fields) => BodyDraft::Form(
                fields
                    .iter()
                    .filter_map(|(k, v)| match self.value(v) {
                        Some(t) => Some((k.clone(), t)),
                        None => {
                            notes.push(left_out_note(e, "form field", k));
                            None
                        }
                    })
                    .collect(),
            ),
            RequestBody::Json(value) => BodyDraft::Json(self.json(value)),
            RequestBody::Other(mime) => {
                notes.push(format!(
                    "entry {}: a {mime} body cannot be written as form or json; the request is sent without it",
                    e.entry
                ));
                BodyDraft::None
            }
        }
    }

    fn json(&self, value: &Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.value(s).unwrap_or_default()),
            Value::Array(items) => Value::Array(items.iter().map(|v| self.json(v)).collect()),
            Value::Object(map) => {
                Value::Object(map.iter().map(|(k, v)| (k.clone(), self.json(v))).collect())
            }
            other => other.clone(),
        }
    }
}

/// The note for a part of a request that held a secret: `entry 3: header "X-Token" held…`.
fn left_out_note(e: &Exchange, part: &str, name: &str) -> String {
    format!(
        "entry {}: {part} {name:?} held a cookie or token and was left out",
        e.entry
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::har::recording::SetCookie;
    use crate::har::user::UserValue;

    fn user() -> User {
        let value = |column, variable: &str, value: &str| UserValue {
            column,
            variable: variable.into(),
            value: value.into(),
            watchable: true,
            shown_as: variable.into(),
        };
        User {
            owner: 0,
            line: 2,
            password: "Provisoire-1!".into(),
            password_column: 1,
            values: vec![
                value(2, "email", "alice.martin@exemple.test"),
                value(0, "client", "C-2000001"),
            ],
        }
    }

    #[test]
    fn the_user_s_values_and_tokens_become_variables_and_secrets_are_left_out() {
        let user = user();
        let mut e = crate::har::visits::tests::exchange(3, "POST", "http://127.0.0.1/dossier/C-2000001?mail=alice.martin%40exemple.test&sid=cookie-value-123", 200);
        e.set_cookies.push(SetCookie {
            name: "sid".into(),
            value: "cookie-value-123".into(),
            deleted: false,
        });
        e.request_headers = vec![
            ("User-Agent".into(), "Mozilla/5.0".into()),
            ("Cookie".into(), "sid=cookie-value-123".into()),
            (":authority".into(), "127.0.0.1".into()),
            ("X-CSRF".into(), "tok-0123456789".into()),
            ("Authorization".into(), "Bearer abc".into()),
        ];
        e.body = RequestBody::Form(vec![
            ("login".into(), "C 2000001".into()),
            ("pw".into(), "Provisoire-1!".into()),
            ("note".into(), "for alice.martin@exemple.test".into()),
        ]);
        let mut templater = Templater::new(&user, std::slice::from_ref(&e));
        templater
            .extracted
            .push(("csrf".into(), "tok-0123456789".into()));
        let mut notes = Vec::new();
        let request = templater.request(&e, &mut notes);
        assert_eq!(request.path, "/dossier/{{client}}?mail={{email}}");
        assert_eq!(
            request.headers,
            [("X-CSRF".to_owned(), "{{csrf}}".to_owned())]
        );
        assert_eq!(
            request.body,
            BodyDraft::Form(vec![
                ("login".into(), "{{client}}".into()),
                ("pw".into(), "{{password}}".into()),
                ("note".into(), "for {{email}}".into()),
            ])
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("query parameter \"sid\""), "{notes:?}");
        let used: Vec<String> = templater.used.borrow().iter().cloned().collect();
        assert_eq!(used, ["client", "email"]);
    }
}
