//! Requests and templates: method, path, query, form or JSON body, headers, the statuses and
//! landing path a step expects, and `must_show`. Every `{{name}}` is checked.

use super::vocabulary::{unknown_variable, Scope, Vocabulary};
use super::Validator;
use crate::scenario::error::{suggestion, suggestion_listing, ErrorKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::template::{Body, JsonTemplate, Template, TemplateSyntax};
use std::ops::Range;
use toml::Spanned;

impl Validator<'_> {
    /// Checks one request; `what` names it in messages (`[[page]] "/mon-compte"`).
    pub(crate) fn request(
        &mut self,
        raw: RequestRef<'_>,
        span: Range<usize>,
        scope: &Scope<'_>,
        what: &str,
    ) -> Option<Request> {
        let mut ok = true;
        let path = self.template(raw.path, scope, what);
        if let Some(path) = &path {
            if !path.as_str().starts_with('/') {
                let help = if path.as_str().starts_with("http") {
                    "paths are relative to the target: write path = \"/mon-compte\" and put the host in [target] base_url"
                } else {
                    "start the path with /, as in path = \"/mon-compte\""
                };
                self.at(
                    raw.path.span(),
                    ErrorKind::InvalidValue,
                    format!("path {:?} in {what} does not start with /", path.as_str()),
                    help,
                );
                ok = false;
            }
        }
        let body = match (raw.form, raw.json) {
            (Some(form), Some(_)) => {
                self.at(
                    form.span(),
                    ErrorKind::Conflict,
                    format!("{what} has both form and json"),
                    "send one body: form = { … } for a form, json = { … } for JSON",
                );
                None
            }
            (Some(form), None) => self.fields(form, scope, what, "form").map(Body::Form),
            (None, Some(json)) => self.json(json, scope, what).map(Body::Json),
            (None, None) => None,
        };
        let has_body = raw.form.is_some() || raw.json.is_some();
        ok &= body.is_some() || !has_body;
        let method = self.method(raw.method, span.clone(), has_body, what);
        if method == Some(Method::Get) && has_body {
            let at = raw.method.map_or(span.clone(), Spanned::span);
            self.at(
                at,
                ErrorKind::Conflict,
                format!("{what} is a GET with a body"),
                "write method = \"POST\", or remove the form / json",
            );
            ok = false;
        }
        let headers = self.headers(raw.headers, scope, what);
        Some(Request {
            method: method?,
            path: path?,
            headers: headers?,
            body,
        })
        .filter(|_| ok)
    }

    /// `method`: one of [`Method::NAMES`]; a GET when absent, unless the request has a body.
    fn method(
        &mut self,
        raw: Option<&Text>,
        span: Range<usize>,
        has_body: bool,
        what: &str,
    ) -> Option<Method> {
        match raw {
            Some(m) => match Method::parse(&m.get_ref().trim().to_ascii_uppercase()) {
                Some(method) => Some(method),
                None => {
                    self.at(
                        m.span(),
                        ErrorKind::InvalidValue,
                        format!("unknown HTTP method {:?} in {what}", m.get_ref()),
                        suggestion(m.get_ref(), Method::NAMES),
                    );
                    None
                }
            },
            None if has_body => {
                self.at(
                    span,
                    ErrorKind::MissingKey,
                    format!("{what} sends a body but has no method"),
                    "add method = \"POST\" (a request with no method is a GET, which has no body)",
                );
                None
            }
            None => Some(Method::Get),
        }
    }

    /// `headers`: each name a valid HTTP header name, each value a template.
    fn headers(
        &mut self,
        raw: Option<&Fields>,
        scope: &Scope<'_>,
        what: &str,
    ) -> Option<Vec<(String, Template)>> {
        let Some(raw) = raw else {
            return Some(Vec::new());
        };
        let headers = self.fields(raw, scope, what, "headers")?;
        let mut ok = true;
        for (name, _) in &headers {
            if name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b))
            {
                self.at(raw.span(), ErrorKind::InvalidValue, format!("{name:?} in {what} is not an HTTP header name"), "use letters, digits and dashes, as in headers = { \"X-Admin-Token\" = \"secret\" }");
                ok = false;
            }
        }
        ok.then_some(headers)
    }

    /// A table of scalars (form fields, headers), each value a template, in file order.
    pub(super) fn fields(
        &mut self,
        raw: &Fields,
        scope: &Scope<'_>,
        what: &str,
        key: &str,
    ) -> Option<Vec<(String, Template)>> {
        let mut entries: Vec<_> = raw.get_ref().iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut out = Vec::new();
        let mut ok = true;
        for (name, value) in entries {
            let text = match value.get_ref() {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    self.at(
                        value.span(),
                        ErrorKind::WrongType,
                        format!(
                            "{key} value {:?} in {what} is {}, expected a string",
                            name.get_ref(),
                            other.type_str()
                        ),
                        format!("write {} = \"…\"", name.get_ref()),
                    );
                    ok = false;
                    continue;
                }
            };
            match self.template(&Spanned::new(value.span(), text), scope, what) {
                Some(t) => out.push((name.get_ref().clone(), t)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    pub(super) fn json(
        &mut self,
        raw: &Spanned<toml::Value>,
        scope: &Scope<'_>,
        what: &str,
    ) -> Option<JsonTemplate> {
        if !matches!(raw.get_ref(), toml::Value::Table(_) | toml::Value::Array(_)) {
            self.at(
                raw.span(),
                ErrorKind::WrongType,
                format!("json in {what} is not a table or a list"),
                "write json = { login = \"{{email}}\", password = \"{{password}}\" }",
            );
            return None;
        }
        self.json_value(raw.get_ref(), raw.span(), scope, what)
    }

    pub(super) fn json_value(
        &mut self,
        value: &toml::Value,
        span: Range<usize>,
        scope: &Scope<'_>,
        what: &str,
    ) -> Option<JsonTemplate> {
        Some(match value {
            toml::Value::String(s) => {
                JsonTemplate::String(self.template(&Spanned::new(span, s.clone()), scope, what)?)
            }
            toml::Value::Integer(i) => JsonTemplate::Number((*i).into()),
            toml::Value::Float(f) => match serde_json::Number::from_f64(*f) {
                Some(n) => JsonTemplate::Number(n),
                None => {
                    self.at(
                        span,
                        ErrorKind::InvalidValue,
                        format!("json in {what} holds {f}, which JSON cannot carry"),
                        "use a finite number",
                    );
                    return None;
                }
            },
            toml::Value::Boolean(b) => JsonTemplate::Bool(*b),
            toml::Value::Datetime(_) => {
                self.at(
                    span,
                    ErrorKind::WrongType,
                    format!("json in {what} holds a TOML date"),
                    "write the date as a string in quotes",
                );
                return None;
            }
            toml::Value::Array(items) => JsonTemplate::Array(
                items
                    .iter()
                    .map(|i| self.json_value(i, span.clone(), scope, what))
                    .collect::<Option<_>>()?,
            ),
            toml::Value::Table(t) => JsonTemplate::Object(
                t.iter()
                    .map(|(k, v)| Some((k.clone(), self.json_value(v, span.clone(), scope, what)?)))
                    .collect::<Option<_>>()?,
            ),
        })
    }

    /// Parses a template and checks every `{{name}}` against the scope.
    pub(crate) fn template(
        &mut self,
        raw: &Text,
        scope: &Scope<'_>,
        what: &str,
    ) -> Option<Template> {
        let template = match Template::parse(raw.get_ref()) {
            Ok(t) => t,
            Err(TemplateSyntax::Unclosed) => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!(
                        "{:?} in {what} opens {{{{ without closing it",
                        raw.get_ref()
                    ),
                    "close each placeholder with }}, as in \"{{numero_allocataire}}\"",
                );
                return None;
            }
            Err(TemplateSyntax::BadName(name)) => {
                self.at(raw.span(), ErrorKind::InvalidValue, format!("{{{{{name}}}}} in {what} is not a variable name"), "use letters, digits and _, as in {{numero_allocataire}}, or {{env:NAME}} for an environment variable");
                return None;
            }
        };
        let mut ok = true;
        for name in template.variables() {
            if let Some(help) = unknown_variable(name, scope) {
                self.at(
                    raw.span(),
                    ErrorKind::UnknownVariable,
                    format!("{{{{{name}}}}} in {what} has no value"),
                    help,
                );
                ok = false;
            }
        }
        if self.check_files {
            for name in template.env_vars() {
                if std::env::var_os(name).is_none() {
                    self.at(raw.span(), ErrorKind::UnknownVariable, format!("{{{{env:{name}}}}} in {what} names an environment variable that is not set"), format!("set {name} before running, or write the value in the file"));
                    ok = false;
                }
            }
        }
        ok.then_some(template)
    }

    /// A list of watched variables (must_show), as oracle field names.
    pub(super) fn must_show(
        &mut self,
        raw: Option<&Vec<Text>>,
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut ok = true;
        for name in raw.into_iter().flatten() {
            match vocabulary.watched(name.get_ref()) {
                Ok(Some(field)) => {
                    if !out.contains(&field) {
                        out.push(field);
                    }
                }
                Ok(None) => {}
                Err(watched) => {
                    self.at(name.span(), ErrorKind::UnknownVariable, format!("must_show in {what} names {:?}, which is not a watched value of the population", name.get_ref()), suggestion_listing(name.get_ref(), watched.iter().copied(), "watched"));
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }

    pub(super) fn statuses(
        &mut self,
        raw: Option<&Spanned<StatusList>>,
        what: &str,
    ) -> Option<Vec<u16>> {
        let Some(raw) = raw else {
            return Some(Vec::new());
        };
        let mut out = Vec::new();
        for &code in &raw.get_ref().0 {
            match u16::try_from(code) {
                Ok(c) if (100..=599).contains(&c) => out.push(c),
                _ => {
                    self.at(
                        raw.span(),
                        ErrorKind::InvalidValue,
                        format!("{code} in {what} is not an HTTP status"),
                        "use a status from 100 to 599, as in status = 200",
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    pub(super) fn path_text(&mut self, raw: &Text, what: &str) -> Option<String> {
        let text = raw.get_ref().trim();
        if !text.starts_with('/') {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("{what} {text:?} does not start with /"),
                "write a path on the target, as in \"/mon-compte\"",
            );
            return None;
        }
        Some(text.to_owned())
    }

    pub(super) fn success(
        &mut self,
        raw: &Spanned<RawSuccess>,
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<Success> {
        let s = raw.get_ref();
        if s.status.is_none() && s.landing_path.is_none() && s.body_contains.is_none() {
            self.at(raw.span(), ErrorKind::MissingKey, format!("the success of {what} has no condition"), "give at least one of status = 200, landing_path = \"/mon-compte\" or body_contains = \"…\"");
            return None;
        }
        let status = self.statuses(s.status.as_ref(), what);
        let landing_path = s
            .landing_path
            .as_ref()
            .map(|p| self.path_text(p, "landing_path"));
        let must_show = self.must_show(s.must_show.as_ref(), vocabulary, what);
        if s.body_contains
            .as_ref()
            .is_some_and(|b| b.get_ref().is_empty())
        {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("body_contains in {what} is empty"),
                "give a text only a successful page shows, or remove body_contains",
            );
            return None;
        }
        Some(Success {
            status: status?,
            landing_path: present(landing_path)?,
            body_contains: s.body_contains.as_ref().map(|b| b.get_ref().clone()),
            must_show: must_show?,
        })
    }
}

/// An optional value that was checked: absent is fine (`Some(None)`), present but refused is not.
pub(super) fn present<T>(checked: Option<Option<T>>) -> Option<Option<T>> {
    match checked {
        None => Some(None),
        Some(None) => None,
        Some(Some(value)) => Some(Some(value)),
    }
}
