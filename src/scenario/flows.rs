//! Validation of everything that sends requests: login flows, pages, writes, phases and the
//! templates in them. Every `{{name}}` is checked against what the population and the step offer.

use super::error::{suggestion, suggestion_listing, ErrorKind};
use super::model::*;
use super::raw::*;
use super::template::{Body, JsonTemplate, Template, TemplateSyntax};
use super::validate::{Scope, Validator, Vocabulary};
use std::ops::Range;
use toml::Spanned;

impl Validator<'_> {
    // ----- requests and templates -----

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
        let method = match raw.method {
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
                    span.clone(),
                    ErrorKind::MissingKey,
                    format!("{what} sends a body but has no method"),
                    "add method = \"POST\" (a request with no method is a GET, which has no body)",
                );
                None
            }
            None => Some(Method::Get),
        };
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
        let headers = match raw.headers {
            Some(h) => self.fields(h, scope, what, "headers"),
            None => Some(Vec::new()),
        };
        if let Some(headers) = &headers {
            for (name, _) in headers {
                if name.is_empty()
                    || !name
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_!#$%&'*+.^`|~".contains(&b))
                {
                    self.at(raw.headers.map_or(span.clone(), Spanned::span), ErrorKind::InvalidValue, format!("{name:?} in {what} is not an HTTP header name"), "use letters, digits and dashes, as in headers = { \"X-Admin-Token\" = \"secret\" }");
                    ok = false;
                }
            }
        }
        Some(Request {
            method: method?,
            path: path?,
            headers: headers?,
            body,
        })
        .filter(|_| ok)
    }

    /// A table of scalars (form fields, headers), each value a template, in file order.
    fn fields(
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

    fn json(
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

    fn json_value(
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
    fn must_show(
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

    fn statuses(&mut self, raw: Option<&Spanned<StatusList>>, what: &str) -> Option<Vec<u16>> {
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

    fn path_text(&mut self, raw: &Text, what: &str) -> Option<String> {
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

    fn success(
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

    // ----- [[login_flow]] -----

    /// The valid flows, and the name of every flow declared (valid or not), so that a phase
    /// naming a broken flow is not told the flow does not exist.
    pub(crate) fn login_flows(
        &mut self,
        raw: Vec<Spanned<RawLoginFlow>>,
        broken: bool,
        vocabulary: &Vocabulary<'_>,
    ) -> (Vec<LoginFlow>, Vec<String>) {
        let mut declared: Vec<String> = Vec::new();
        for flow in &raw {
            let name = flow.get_ref().name.get_ref().trim().to_owned();
            if !declared.contains(&name) {
                declared.push(name);
            }
        }
        if raw.is_empty() && !broken {
            self.at(0..0, ErrorKind::MissingKey, "the scenario has no [[login_flow]]", "add a [[login_flow]] with a name, steps, success and session (see scenarios/README.md)");
        }
        let mut out: Vec<LoginFlow> = Vec::new();
        for flow in raw {
            let f = flow.into_inner();
            let name = f.name.get_ref().trim().to_owned();
            if !is_flow_name(&name) {
                self.at(
                    f.name.span(),
                    ErrorKind::InvalidValue,
                    format!("login flow name {name:?} is not a simple name"),
                    "use letters, digits, - and _, as in name = \"legacy\"",
                );
                continue;
            }
            if out.iter().any(|o| o.name == name) {
                self.at(
                    f.name.span(),
                    ErrorKind::Conflict,
                    format!("two login flows are named {name:?}"),
                    "give each [[login_flow]] its own name",
                );
                continue;
            }
            let what = format!("login flow {name:?}");
            if f.steps.get_ref().is_empty() {
                self.at(
                    f.steps.span(),
                    ErrorKind::MissingKey,
                    format!("{what} has no steps"),
                    "add a [[login_flow.steps]] table with method, path and form",
                );
                continue;
            }
            let steps = self.steps(f.steps.get_ref(), &[], vocabulary, &what);
            let success = self.success(&f.success, vocabulary, &what);
            let session = self.session(&f.session, &what);
            let on_expired = match &f.on_expired {
                None => Some(OnExpired::LoginAgain),
                Some(t) => match t.get_ref().as_str() {
                    "login_again" => Some(OnExpired::LoginAgain),
                    "fail" => Some(OnExpired::Fail),
                    other => {
                        self.at(
                            t.span(),
                            ErrorKind::InvalidValue,
                            format!("on_expired {other:?} in {what} is not a choice"),
                            suggestion(other, ["login_again", "fail"]),
                        );
                        None
                    }
                },
            };
            let expired_when = match &f.expired_when {
                None => Some(Expiry {
                    status: vec![401],
                    landing_path: None,
                }),
                Some(e) => {
                    let status = self.statuses(e.get_ref().status.as_ref(), &what);
                    let landing = present(
                        e.get_ref()
                            .landing_path
                            .as_ref()
                            .map(|p| self.path_text(p, "landing_path")),
                    );
                    match (status, landing) {
                        (Some(status), Some(landing_path))
                            if !status.is_empty() || landing_path.is_some() =>
                        {
                            Some(Expiry {
                                status,
                                landing_path,
                            })
                        }
                        (Some(_), Some(_)) => {
                            self.at(e.span(), ErrorKind::MissingKey, format!("expired_when in {what} has no condition"), "write expired_when = { status = [401], landing_path = \"/connexion\" }");
                            None
                        }
                        _ => None,
                    }
                }
            };
            if let (
                Some(steps),
                Some(success),
                Some(session),
                Some(on_expired),
                Some(expired_when),
            ) = (steps, success, session, on_expired, expired_when)
            {
                out.push(LoginFlow {
                    name,
                    steps,
                    success,
                    session,
                    on_expired,
                    expired_when,
                });
            }
        }
        (out, declared)
    }

    /// Requests sent in order, each able to extract values the later ones use; `given` are the
    /// values known before the first (for a logout, what every login flow extracted).
    fn steps(
        &mut self,
        raw: &[Spanned<RawStep>],
        given: &[String],
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<Vec<LoginStep>> {
        let mut ok = true;
        let mut extracted: Vec<String> = Vec::new();
        let mut steps = Vec::new();
        for step in raw {
            let names: Vec<&str> = given.iter().chain(&extracted).map(String::as_str).collect();
            let scope = vocabulary.user(&names);
            let request = self.request(step.get_ref().request(), step.span(), &scope, what);
            let mut extract = Vec::new();
            for e in step.get_ref().extract.iter().flatten() {
                // A later step may take a name again (a CSRF token renewed on every page): the
                // newest value is sent. One step takes a name once.
                match self.extraction(e, vocabulary, &extract, what) {
                    Some(x) => {
                        extracted.push(x.name.clone());
                        extract.push(x);
                    }
                    None => ok = false,
                }
            }
            match request {
                Some(request) => steps.push(LoginStep { request, extract }),
                None => ok = false,
            }
        }
        ok.then_some(steps)
    }

    // ----- [logout] -----

    /// `[logout]`: one request, or `[[logout.steps]]`. Either may use what every login flow
    /// extracts (a user of any flow logs out with it); steps may extract values of their own.
    pub(crate) fn logout(
        &mut self,
        raw: &Spanned<RawLogout>,
        flows: &[LoginFlow],
        vocabulary: &Vocabulary<'_>,
    ) -> Option<Logout> {
        let what = "[logout]";
        let l = raw.get_ref();
        let given: Vec<String> = flows
            .first()
            .map(|first| {
                first
                    .extracted()
                    .filter(|name| flows.iter().all(|f| f.extracted().any(|n| n == *name)))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        match (l.request(), &l.steps) {
            (Some(request), None) => {
                let names: Vec<&str> = given.iter().map(String::as_str).collect();
                let request = self.request(request, raw.span(), &vocabulary.user(&names), what)?;
                Some(Logout {
                    steps: vec![LoginStep {
                        request,
                        extract: Vec::new(),
                    }],
                })
            }
            (None, Some(steps)) => {
                if l.method.is_some() || l.headers.is_some() || l.form.is_some() || l.json.is_some()
                {
                    self.at(raw.span(), ErrorKind::Conflict, "[logout] has [[logout.steps]] and keys of a single request (method, headers, form or json)", "put each request's keys in its own [[logout.steps]] table");
                    return None;
                }
                if steps.get_ref().is_empty() {
                    self.at(
                        steps.span(),
                        ErrorKind::MissingKey,
                        "[logout] has an empty steps list",
                        "add a [[logout.steps]] table with method and path",
                    );
                    return None;
                }
                self.steps(steps.get_ref(), &given, vocabulary, what)
                    .map(|steps| Logout { steps })
            }
            (Some(_), Some(steps)) => {
                self.at(
                    steps.span(),
                    ErrorKind::Conflict,
                    "[logout] has both a path and [[logout.steps]]",
                    "write one request (method, path, …) or [[logout.steps]], not both",
                );
                None
            }
            (None, None) => {
                self.at(
                    raw.span(),
                    ErrorKind::MissingKey,
                    "[logout] has neither a path nor steps",
                    "add path = \"/logout\" (with method = \"POST\"), or [[logout.steps]] tables",
                );
                None
            }
        }
    }

    fn extraction(
        &mut self,
        raw: &Spanned<RawExtract>,
        vocabulary: &Vocabulary<'_>,
        same_step: &[Extraction],
        what: &str,
    ) -> Option<Extraction> {
        let e = raw.get_ref();
        let name = e.name.get_ref().trim().to_owned();
        if !super::template::is_valid_name(&name) {
            self.at(
                e.name.span(),
                ErrorKind::InvalidValue,
                format!("extracted name {name:?} in {what} is not a variable name"),
                "use letters, digits and _, as in name = \"csrf\"",
            );
            return None;
        }
        let taken = vocabulary
            .variables
            .is_some_and(|vars| vars.iter().any(|v| v.name == name))
            || super::population::RESERVED.contains(&name.as_str())
            || same_step.iter().any(|x| x.name == name);
        if taken {
            self.at(
                e.name.span(),
                ErrorKind::Conflict,
                format!("extracted name {name:?} in {what} is already a variable"),
                "give the extracted value its own name, as in name = \"csrf\"",
            );
            return None;
        }
        let from = match e.from.as_ref().map(|f| f.get_ref().trim()) {
            None | Some("body") => Some(ExtractFrom::Body),
            Some(other) => match other.strip_prefix("header:") {
                Some(h) if !h.trim().is_empty() => {
                    Some(ExtractFrom::Header(h.trim().to_ascii_lowercase()))
                }
                _ => {
                    self.at(
                        e.from.as_ref().map_or(raw.span(), Spanned::span),
                        ErrorKind::InvalidValue,
                        format!("extract from {other:?} in {what} is not a source"),
                        "write from = \"body\" or from = \"header:X-CSRF-Token\"",
                    );
                    None
                }
            },
        };
        if let Some(attribute) = &e.attribute {
            if e.css.is_none() {
                self.at(
                    attribute.span(),
                    ErrorKind::InvalidValue,
                    format!("extract {name:?} in {what} names an attribute but no CSS selector"),
                    "attribute goes with css, as in css = 'meta[name=\"csrf\"]', attribute = \"content\"",
                );
                return None;
            }
        }
        if let Some(css) = &e.css {
            return self.css_extraction(e, css, name, from, what);
        }
        let pattern = match (&e.regex, &e.json_pointer) {
            (Some(r), None) => match regex::Regex::new(r.get_ref()) {
                Ok(re) if re.captures_len() <= 2 => Some(Pattern::Regex(re)),
                Ok(_) => {
                    self.at(
                        r.span(),
                        ErrorKind::InvalidValue,
                        format!("the regex of {name:?} in {what} has more than one capture group"),
                        "keep one group around the value, and write others as (?:…)",
                    );
                    None
                }
                Err(err) => {
                    let first = err
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or_default()
                        .trim()
                        .trim_start_matches("error: ")
                        .to_owned();
                    self.at(
                        r.span(),
                        ErrorKind::InvalidValue,
                        format!("the regex of {name:?} in {what} does not compile: {first}"),
                        "fix the regex; in TOML, 'single quotes' keep backslashes as they are",
                    );
                    None
                }
            },
            (None, Some(p)) => self.pointer(p, what).map(Pattern::JsonPointer),
            (Some(r), Some(_)) => {
                self.at(
                    r.span(),
                    ErrorKind::Conflict,
                    format!("extract {name:?} in {what} has both regex and json_pointer"),
                    "keep one of them",
                );
                None
            }
            (None, None) => {
                self.at(
                    raw.span(),
                    ErrorKind::MissingKey,
                    format!("extract {name:?} in {what} says neither regex, json_pointer nor css"),
                    "add css = 'input[name=\"csrf\"]' with attribute = \"value\" (HTML), regex = 'value=\"([^\"]+)\"' or json_pointer = \"/csrf\" (JSON)",
                );
                None
            }
        };
        Some(Extraction {
            name,
            from: from?,
            pattern: pattern?,
        })
    }

    /// `css = "…"` with an optional `attribute`: the selector is parsed now, so a typo is a
    /// file:line error rather than a login that never finds its token.
    fn css_extraction(
        &mut self,
        e: &RawExtract,
        css: &Text,
        name: String,
        from: Option<ExtractFrom>,
        what: &str,
    ) -> Option<Extraction> {
        let other = e.regex.as_ref().or(e.json_pointer.as_ref());
        if let Some(other) = other {
            self.at(
                other.span(),
                ErrorKind::Conflict,
                format!("extract {name:?} in {what} has both css and a regex or json_pointer"),
                "keep one of them",
            );
            return None;
        }
        if let Some(ExtractFrom::Header(header)) = &from {
            self.at(
                css.span(),
                ErrorKind::InvalidValue,
                format!(
                    "extract {name:?} in {what} applies a CSS selector to the header {header:?}"
                ),
                "a CSS selector reads an HTML body: drop from, or use a regex for a header",
            );
            return None;
        }
        let attribute = match &e.attribute {
            Some(a) if a.get_ref().trim().is_empty() => {
                self.at(
                    a.span(),
                    ErrorKind::InvalidValue,
                    format!("extract {name:?} in {what} has an empty attribute name"),
                    "name the attribute, as in attribute = \"value\", or leave it out to take the element's text",
                );
                return None;
            }
            Some(a) => Some(a.get_ref().trim().to_ascii_lowercase()),
            None => None,
        };
        let source = css.get_ref().trim();
        match CssPattern::parse(source, attribute) {
            Ok(pattern) => Some(Extraction {
                name,
                from: from?,
                pattern: Pattern::Css(pattern),
            }),
            Err(problem) => {
                self.at(
                    css.span(),
                    ErrorKind::InvalidValue,
                    format!("the CSS selector {source:?} of {name:?} in {what} does not parse: {problem}"),
                    "write a CSS selector such as 'input[name=\"_csrf\"]' or 'meta[name=csrf]', quoting attribute values that are not plain words",
                );
                None
            }
        }
    }

    fn pointer(&mut self, raw: &Text, what: &str) -> Option<String> {
        let p = raw.get_ref();
        if !p.is_empty() && !p.starts_with('/') {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("JSON pointer {p:?} in {what} does not start with /"),
                format!(
                    "write it as \"/{}\" (RFC 6901: /key/0/inner)",
                    p.trim_start_matches(['.', '$'])
                ),
            );
            return None;
        }
        Some(p.clone())
    }

    fn session(&mut self, raw: &Spanned<RawSession>, what: &str) -> Option<SessionCarrier> {
        let s = raw.get_ref();
        match (&s.cookie, &s.bearer) {
            (Some(cookie), None) => {
                let name = cookie.get_ref().trim();
                if name.is_empty() || name.contains(['=', ';', ' ']) {
                    self.at(
                        cookie.span(),
                        ErrorKind::InvalidValue,
                        format!("{name:?} in {what} is not a cookie name"),
                        "write the cookie's name alone, as in cookie = \"session_id\"",
                    );
                    return None;
                }
                Some(SessionCarrier::Cookie {
                    name: name.to_owned(),
                })
            }
            (None, Some(bearer)) => {
                let b = bearer.get_ref();
                let json_pointer = self.pointer(&b.json_pointer, what)?;
                Some(SessionCarrier::Bearer {
                    json_pointer,
                    header: b.header.as_ref().map_or_else(
                        || "Authorization".to_owned(),
                        |h| h.get_ref().trim().to_owned(),
                    ),
                    prefix: b.prefix.clone().unwrap_or_else(|| "Bearer ".to_owned()),
                })
            }
            (Some(cookie), Some(_)) => {
                self.at(
                    cookie.span(),
                    ErrorKind::Conflict,
                    format!("the session of {what} is both a cookie and a bearer token"),
                    "keep the one the portal uses",
                );
                None
            }
            (None, None) => {
                self.at(raw.span(), ErrorKind::MissingKey, format!("the session of {what} says neither cookie nor bearer"), "add session = { cookie = \"session_id\" } or session = { bearer = { json_pointer = \"/token\" } }");
                None
            }
        }
    }

    // ----- [[page]] and [[write]] -----

    /// The pages; `flows` are the login flows declared, when they could be read (a page's `flows`
    /// must name them).
    pub(crate) fn pages(
        &mut self,
        raw: Vec<Spanned<RawPage>>,
        flows: Option<&[&str]>,
        vocabulary: &Vocabulary<'_>,
    ) -> Vec<Page> {
        let mut out = Vec::new();
        for page in raw {
            let span = page.span();
            let p = page.get_ref();
            let what = format!("[[page]] {:?}", p.path.get_ref());
            let request = self.request(p.request(), span.clone(), &vocabulary.user(&[]), &what);
            let must_show = self.must_show(p.must_show.as_ref(), vocabulary, &what);
            let mut json_equals = Some(Vec::new());
            for eq in p.json_equals.iter().flatten() {
                let e = eq.get_ref();
                let pointer = self.pointer(&e.pointer, &what);
                let variable = e.field.get_ref().trim().to_owned();
                let known = self.known_variable(&e.field, vocabulary, &what);
                match (pointer, known, json_equals.as_mut()) {
                    (Some(pointer), true, Some(list)) => {
                        list.push(JsonEquals { pointer, variable })
                    }
                    _ => json_equals = None,
                }
            }
            let read_by = self.page_flows(p.flows.as_ref(), flows, &what);
            if let (Some(request), Some(must_show), Some(json_equals), Some(read_by)) =
                (request, must_show, json_equals, read_by)
            {
                let name = p.name.as_ref().map_or_else(
                    || format!("{} {}", request.method.as_str(), request.path),
                    |n| n.get_ref().clone(),
                );
                out.push(Page {
                    name,
                    request,
                    must_show,
                    json_equals,
                    flows: read_by,
                });
            }
        }
        out
    }

    /// A page's `flows`: login flow names, each one a `[[login_flow]]` declares.
    fn page_flows(
        &mut self,
        raw: Option<&Spanned<Vec<Text>>>,
        declared: Option<&[&str]>,
        what: &str,
    ) -> Option<Vec<String>> {
        let Some(raw) = raw else {
            return Some(Vec::new());
        };
        if raw.get_ref().is_empty() {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("flows of {what} is empty, so nobody reads the page"),
                "name the login flows whose users read it, as in flows = [\"session\"], or leave flows out for every user",
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for name in raw.get_ref() {
            let flow = name.get_ref().trim();
            if let Some(declared) = declared.filter(|d| !d.contains(&flow)) {
                self.at(
                    name.span(),
                    ErrorKind::UnknownLoginFlow,
                    format!("{what} names login flow {flow:?}, which no [[login_flow]] defines"),
                    suggestion_listing(flow, declared.iter().copied(), "flows"),
                );
                ok = false;
            } else if !out.iter().any(|f| f == flow) {
                out.push(flow.to_owned());
            }
        }
        ok.then_some(out)
    }

    /// Whether `raw` names a population variable (any, `password` excepted).
    fn known_variable(&mut self, raw: &Text, vocabulary: &Vocabulary<'_>, what: &str) -> bool {
        let Some(vars) = vocabulary.variables else {
            return true;
        };
        let name = raw.get_ref().trim();
        if name != "password" && vars.iter().any(|v| v.name == name) {
            return true;
        }
        let names: Vec<&str> = vars
            .iter()
            .map(|v| v.name.as_str())
            .filter(|n| *n != "password")
            .collect();
        self.at(
            raw.span(),
            ErrorKind::UnknownVariable,
            format!("field {name:?} in {what} is not a variable of the population"),
            suggestion_listing(name, names.iter().copied(), "available"),
        );
        false
    }

    pub(crate) fn writes(
        &mut self,
        raw: Vec<Spanned<RawWrite>>,
        vocabulary: &Vocabulary<'_>,
    ) -> Vec<Write> {
        let mut out = Vec::new();
        for write in raw {
            let span = write.span();
            let w = write.get_ref();
            let what = format!("[[write]] {:?}", w.path.get_ref());
            let request = self.request(
                w.request(),
                span.clone(),
                &vocabulary.user(&["value"]),
                &what,
            );
            if let Some(r) = &request {
                if !r
                    .templates()
                    .iter()
                    .any(|t| t.variables().any(|v| v == "value"))
                {
                    self.at(span.clone(), ErrorKind::MissingKey, format!("{what} never sends {{{{value}}}}"), "put {{value}} where the written value goes, as in form = { iban = \"{{value}}\" }");
                    continue;
                }
            }
            let mut values = Some(Vec::new());
            if w.values.get_ref().is_empty() {
                self.at(w.values.span(), ErrorKind::MissingKey, format!("{what} writes no value"), "name the watched variable(s) written in turn, as in values = [\"spare_iban\", \"iban\"]");
                values = None;
            }
            for v in w.values.get_ref() {
                match vocabulary.watched(v.get_ref().trim()) {
                    Ok(field) => {
                        if let Some(list) = values.as_mut() {
                            let variable = v.get_ref().trim().to_owned();
                            let field = field.unwrap_or_else(|| variable.clone());
                            list.push(WrittenValue { variable, field });
                        }
                    }
                    Err(watched) => {
                        self.at(v.span(), ErrorKind::UnknownVariable, format!("{what} writes {:?}, which is not a watched value of the population", v.get_ref()), format!("a written value must be watched so a cross-write can be seen: {}", suggestion_listing(v.get_ref(), watched.iter().copied(), "watched")));
                        values = None;
                    }
                }
            }
            let mut then_read = Some(Vec::new());
            if w.then_read.get_ref().is_empty() {
                self.at(w.then_read.span(), ErrorKind::MissingKey, format!("{what} reads nothing back"), "name the page(s) that must then show the value, as in then_read = [\"/mon-compte\"]");
                then_read = None;
            }
            for path in w.then_read.get_ref() {
                match (self.path_text(path, "then_read path"), then_read.as_mut()) {
                    (Some(p), Some(list)) => list.push(p),
                    _ => then_read = None,
                }
            }
            if let (Some(request), Some(values), Some(then_read)) = (request, values, then_read) {
                let name = w.name.as_ref().map_or_else(
                    || format!("{} {}", request.method.as_str(), request.path),
                    |n| n.get_ref().clone(),
                );
                out.push(Write {
                    name,
                    request,
                    values,
                    then_read,
                });
            }
        }
        out
    }

    // ----- [[phase]] -----

    pub(crate) fn phases(
        &mut self,
        raw: Vec<Spanned<RawPhase>>,
        broken: bool,
        flows: Option<&[&str]>,
        default_users: Option<(usize, Range<usize>)>,
        load: Option<&LoadShape>,
        vocabulary: &Vocabulary<'_>,
    ) -> Vec<Phase> {
        if raw.is_empty() && !broken {
            self.at(
                0..0,
                ErrorKind::MissingKey,
                "the scenario has no [[phase]]",
                "add a [[phase]] with name, duration, users and login_flows = { legacy = 1.0 }",
            );
        }
        let mut out: Vec<Phase> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (index, phase) in raw.into_iter().enumerate() {
            let span = phase.span();
            let p = phase.into_inner();
            let name = match &p.name {
                Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().trim().to_owned(),
                _ => {
                    self.at(
                        p.name.as_ref().map_or(span.clone(), Spanned::span),
                        ErrorKind::MissingKey,
                        format!("phase {} has no name", index + 1),
                        "add name = \"cut-over\" (reports say in which phase a finding happened)",
                    );
                    continue;
                }
            };
            if names.contains(&name) {
                self.at(
                    p.name.as_ref().map_or(span.clone(), Spanned::span),
                    ErrorKind::Conflict,
                    format!("two phases are named {name:?}"),
                    "give each [[phase]] its own name",
                );
                continue;
            }
            names.push(name.clone());
            let what = format!("phase {name:?}");
            let mut ok = true;
            let duration = match &p.duration {
                None => {
                    self.at(
                        span.clone(),
                        ErrorKind::EmptyPhase,
                        format!("{what} has no duration"),
                        "add duration = \"30s\"",
                    );
                    None
                }
                Some(d) => match humantime::parse_duration(d.get_ref().trim()) {
                    Ok(x) if x.is_zero() => {
                        self.at(
                            d.span(),
                            ErrorKind::EmptyPhase,
                            format!("{what} lasts zero seconds"),
                            "give it a duration, as in duration = \"30s\", or remove the phase",
                        );
                        None
                    }
                    Ok(x) => Some(x),
                    Err(_) => self.duration(d, "duration"),
                },
            };
            let users = match (&p.users, &default_users) {
                (Some(u), _) if *u.get_ref() == 0 => {
                    self.at(
                        u.span(),
                        ErrorKind::EmptyPhase,
                        format!("{what} has zero users"),
                        "give it at least 1 user, as in users = 50, or remove the phase",
                    );
                    None
                }
                (Some(u), _) => Some(*u.get_ref() as usize),
                (None, Some((n, _))) => Some(*n),
                (None, None) => {
                    self.at(
                        span.clone(),
                        ErrorKind::EmptyPhase,
                        format!("{what} has no users"),
                        "add users = 50 to this phase, or to [load] for every phase",
                    );
                    None
                }
            };
            let login_mix = self.login_mix(p.login_flows.as_ref(), flows, &what, span.clone());
            let mut at_start = Vec::new();
            for action in p.at_start.iter().flatten() {
                let request = self.request(
                    action.get_ref().request(),
                    action.span(),
                    &vocabulary.once(),
                    &format!("at_start of {what}"),
                );
                let expect = self.statuses(action.get_ref().expect_status.as_ref(), &what);
                match (request, expect) {
                    (Some(request), Some(expect_status)) => at_start.push(Action {
                        request,
                        expect_status,
                    }),
                    _ => ok = false,
                }
            }
            let password_changes = match &p.password_changes {
                None => Some(None),
                Some(raw) => self.password_changes(raw, vocabulary, &what).map(Some),
            };
            if let (true, Some(duration), Some(users), Some(login_mix), Some(password_changes)) =
                (ok, duration, users, login_mix, password_changes)
            {
                let phase = Phase {
                    name,
                    duration,
                    users,
                    login_mix,
                    at_start,
                    password_changes,
                };
                if let (Some(load), Some(d)) = (load, &p.duration) {
                    if let Err(ramp) = phase.ramp_fits(load.increase_rate, load.observers) {
                        self.at(d.span(), ErrorKind::InvalidValue, ramp.fact, ramp.fix);
                        continue;
                    }
                }
                out.push(phase);
            }
        }
        out
    }

    fn login_mix(
        &mut self,
        raw: Option<&Spanned<std::collections::BTreeMap<Text, Spanned<f64>>>>,
        flows: Option<&[&str]>,
        what: &str,
        span: Range<usize>,
    ) -> Option<Vec<(String, f64)>> {
        let example = match flows.and_then(|f| f.first()) {
            Some(first) => format!("login_flows = {{ {first} = 1.0 }}"),
            None => {
                "login_flows = { legacy = 1.0 } (and a [[login_flow]] named \"legacy\")".to_owned()
            }
        };
        let Some(raw) = raw else {
            self.at(
                span,
                ErrorKind::EmptyPhase,
                format!("{what} names no login flow"),
                format!("add {example}"),
            );
            return None;
        };
        let mut entries: Vec<_> = raw.get_ref().iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        if entries.is_empty() {
            self.at(
                raw.span(),
                ErrorKind::EmptyPhase,
                format!("{what} names no login flow"),
                format!("write {example}"),
            );
            return None;
        }
        let mut mix = Vec::new();
        let mut ok = true;
        for (name, weight) in entries {
            let flow = name.get_ref().trim();
            let unknown = flows.filter(|f| !f.contains(&flow));
            if let Some(flows) = unknown {
                self.at(
                    name.span(),
                    ErrorKind::UnknownLoginFlow,
                    format!("{what} names login flow {flow:?}, which no [[login_flow]] defines"),
                    suggestion_listing(flow, flows.iter().copied(), "flows"),
                );
                ok = false;
            }
            let w = *weight.get_ref();
            if !(w.is_finite() && w >= 0.0) {
                self.at(
                    weight.span(),
                    ErrorKind::InvalidValue,
                    format!("the weight of {flow:?} in {what} is {w}"),
                    "give a weight of 0 or more, as in legacy = 0.7",
                );
                ok = false;
            }
            mix.push((flow.to_owned(), w));
        }
        if ok && mix.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            self.at(
                raw.span(),
                ErrorKind::EmptyPhase,
                format!("every login flow of {what} has weight 0, so nobody logs in"),
                format!("give at least one flow a weight above 0, as in {example}"),
            );
            ok = false;
        }
        ok.then_some(mix)
    }

    fn password_changes(
        &mut self,
        raw: &Spanned<RawPasswordChanges>,
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<PasswordChanges> {
        let c = raw.get_ref();
        let what = format!("password_changes of {what}");
        let share = self.share(Some(&c.share), "share", 0.0);
        if share == Some(0.0) {
            self.at(
                c.share.span(),
                ErrorKind::InvalidValue,
                format!("the share of {what} is 0, so nobody changes a password"),
                "give a share above 0, as in share = 0.3, or remove password_changes",
            );
            return None;
        }
        let request = self.request(
            c.request(),
            raw.span(),
            &vocabulary.user(&["new_password"]),
            &what,
        );
        if let Some(r) = &request {
            if !r
                .templates()
                .iter()
                .any(|t| t.variables().any(|v| v == "new_password"))
            {
                self.at(raw.span(), ErrorKind::MissingKey, format!("{what} never sends {{{{new_password}}}}"), "send the new password, as in form = { ancien = \"{{password}}\", nouveau = \"{{new_password}}\" }");
                return None;
            }
        }
        let success = self.success(&c.success, vocabulary, &what);
        Some(PasswordChanges {
            share: share?,
            request: request?,
            success: success?,
        })
    }
}

/// An optional value that was checked: absent is fine (`Some(None)`), present but refused is not.
fn present<T>(checked: Option<Option<T>>) -> Option<Option<T>> {
    match checked {
        None => Some(None),
        Some(None) => None,
        Some(Some(value)) => Some(Some(value)),
    }
}

fn is_flow_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// `None` when `name` has a value in `scope`; otherwise what to write instead.
fn unknown_variable(name: &str, scope: &Scope<'_>) -> Option<String> {
    if scope.extra.iter().any(|e| e == name) {
        return None;
    }
    let vars = scope.variables?;
    if scope.per_user && vars.iter().any(|v| v.name == name) {
        return None;
    }
    if !scope.per_user {
        return Some("at_start requests are sent once for the whole run, not per user: write the value itself, or {{env:NAME}} for a secret".to_owned());
    }
    let mut available: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    available.extend(scope.extra.iter().map(String::as_str));
    Some(match name {
        "value" => "{{value}} exists in a [[write]] request only".to_owned(),
        "new_password" => "{{new_password}} exists in password_changes only".to_owned(),
        _ => suggestion_listing(name, available.iter().copied(), "available"),
    })
}
