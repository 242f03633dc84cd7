//! Serde's errors made readable: where in the document a span points, which section and key it
//! names, plain type names, and an example line for every key a fix may need.

use super::Validator;
use super::ARRAY_SECTIONS;
use crate::scenario::error::{suggestion, ErrorKind};
use std::ops::Range;
use toml::de::{DeTable, DeValue};
use toml::Spanned;

impl<'t> Validator<'t> {
    pub(super) fn serde_error(&mut self, error: &toml::de::Error) {
        let span = error.span().unwrap_or(0..0);
        let message = error.message().trim();
        let (segs, on_key) = self.path_at(&span);
        let quoted = backticked(message);
        if let Some(rest) = message.strip_prefix("unknown field ") {
            let given = quoted.first().copied().unwrap_or(rest);
            let section_segs = if on_key {
                &segs[..segs.len().saturating_sub(1)]
            } else {
                &segs[..]
            };
            let section = section_name(section_segs);
            let valid: Vec<&str> = quoted.iter().skip(1).copied().collect();
            let help = special_unknown_key(given).unwrap_or_else(|| {
                if valid.is_empty() {
                    format!("{section} takes no keys")
                } else {
                    suggestion(given, valid.iter().copied())
                }
            });
            self.at(
                span,
                ErrorKind::UnknownKey,
                format!("unknown key {given:?} in {section}"),
                help,
            );
        } else if message.starts_with("missing field ") {
            let missing = quoted.first().copied().unwrap_or("?");
            let section = section_name(&segs);
            let help = match example(&keys_of(&segs), missing) {
                Some(example) => format!("add {example}"),
                None => format!("add the key {missing:?}; see scenarios/README.md"),
            };
            self.at(
                span,
                ErrorKind::MissingKey,
                format!("missing key {missing:?} in {section}"),
                help,
            );
        } else if let Some(rest) = message
            .strip_prefix("invalid type: ")
            .or_else(|| message.strip_prefix("invalid value: "))
        {
            let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "?"));
            let key_at = segs.iter().rposition(|s| matches!(s, Seg::Key(_)));
            let key = key_at.map_or(String::new(), |at| match &segs[at] {
                Seg::Key(k) => k.clone(),
                Seg::Index => String::new(),
            });
            let section = section_name(&segs[..key_at.unwrap_or(0)]);
            let expected = plain_type(expected);
            let help = match example(&keys_of(&segs[..key_at.unwrap_or(0)]), &key) {
                Some(example) => format!("write {example}"),
                None => format!("write {expected}"),
            };
            self.at(
                span,
                ErrorKind::WrongType,
                format!(
                    "{key:?} in {section} is {}, expected {expected}",
                    plain_found(found)
                ),
                help,
            );
        } else {
            let section = section_name(&segs);
            self.at(
                span,
                ErrorKind::InvalidValue,
                format!("{message} in {section}"),
                "see scenarios/README.md for this key",
            );
        }
    }

    /// The document path at `span`, and whether the span is a key's (not a value's).
    pub(super) fn path_at(&self, span: &Range<usize>) -> (Vec<Seg>, bool) {
        let mut best = (Vec::new(), false);
        let mut path = Vec::new();
        search_table(&self.root, span, &mut path, &mut best);
        best
    }
}

/// A path into the TOML document.
#[derive(Clone, Debug)]
pub(super) enum Seg {
    Key(String),
    Index,
}

pub(super) fn search_table(
    table: &DeTable<'_>,
    span: &Range<usize>,
    path: &mut Vec<Seg>,
    best: &mut (Vec<Seg>, bool),
) {
    for (key, value) in table.iter() {
        path.push(Seg::Key(key.get_ref().to_string()));
        if key.span() == *span {
            *best = (path.clone(), true);
        }
        search_value(value, span, path, best);
        path.pop();
    }
}

pub(super) fn search_value(
    value: &Spanned<DeValue<'_>>,
    span: &Range<usize>,
    path: &mut Vec<Seg>,
    best: &mut (Vec<Seg>, bool),
) {
    let own = value.span();
    if own.start <= span.start && span.end <= own.end && !(span.is_empty() && own.is_empty()) {
        *best = (path.clone(), false);
    }
    match value.get_ref() {
        DeValue::Table(t) => search_table(t, span, path, best),
        DeValue::Array(items) => {
            for item in items.iter() {
                path.push(Seg::Index);
                search_value(item, span, path, best);
                path.pop();
            }
        }
        _ => {}
    }
}

pub(super) fn keys_of(segs: &[Seg]) -> Vec<&str> {
    segs.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index => None,
        })
        .collect()
}

/// `[load]`, `[[login_flow.steps]]`, or `the top level`.
pub(super) fn section_name(segs: &[Seg]) -> String {
    let keys = keys_of(segs);
    if keys.is_empty() {
        return "the top level".into();
    }
    let dotted = keys.join(".");
    if matches!(segs.last(), Some(Seg::Index))
        || (keys.len() == 1 && ARRAY_SECTIONS.contains(&keys[0]))
    {
        format!("[[{dotted}]]")
    } else {
        format!("[{dotted}]")
    }
}

/// The words between backticks in a serde message.
pub(super) fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// serde's type names in the words of a TOML user.
pub(super) fn plain_type(expected: &str) -> String {
    let e = expected.trim();
    match e {
        "u8" | "u16" | "u32" | "u64" | "usize" | "i64" | "i32" => {
            "a whole number (no quotes)".into()
        }
        "f32" | "f64" => "a number (no quotes)".into(),
        "a boolean" => "true or false (no quotes)".into(),
        "a string" => "a string in double quotes".into(),
        "a sequence" => "a list in square brackets".into(),
        "a map" => "a table".into(),
        _ if e.starts_with("struct ") => "a table".into(),
        _ => e.to_owned(),
    }
}

pub(super) fn plain_found(found: &str) -> String {
    let f = found.trim();
    if let Some(s) = f.strip_prefix("string ") {
        format!("the string {s}")
    } else if let Some(n) = f.strip_prefix("integer ") {
        format!(
            "the number {}",
            n.trim_matches('`').split(' ').next().unwrap_or(n)
        )
    } else if let Some(n) = f.strip_prefix("floating point ") {
        format!("the number {}", n.trim_matches('`'))
    } else if let Some(b) = f.strip_prefix("boolean ") {
        b.trim_matches('`').to_owned()
    } else if f == "sequence" {
        "a list".into()
    } else if f == "map" {
        "a table".into()
    } else {
        f.to_owned()
    }
}

pub(super) fn article(type_name: &str) -> &'static str {
    if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Keys users reach for that crossleak refuses on purpose.
pub(super) fn special_unknown_key(given: &str) -> Option<String> {
    match given {
        "max_violations" | "fail_on_violations" | "violations" => {
            Some("violations always fail a run and cannot be tolerated; remove this key".into())
        }
        "observer" => Some("write observers = 2 (how many anonymous observers)".into()),
        _ => None,
    }
}

/// An example line for `key` within the section whose keys are `section`.
pub(crate) fn example(section: &[&str], key: &str) -> Option<String> {
    let in_context = example_in_context(section, key);
    let anywhere = || {
        EXAMPLES
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, example)| *example)
    };
    in_context.or_else(anywhere).map(str::to_owned)
}

/// The example for the keys whose example depends on the section they are in.
fn example_in_context(section: &[&str], key: &str) -> Option<&'static str> {
    let in_section = |name: &str| section.first() == Some(&name);
    let last = section.last().copied().unwrap_or("");
    Some(match key {
        "name" if in_section("phase") => "name = \"cut-over\"",
        "name" if last == "extract" => "name = \"csrf\"",
        "name" if in_section("login_flow") => "name = \"legacy\"",
        "size" if last == "crowd" => "size = 32",
        "steps" if in_section("logout") => "a [[logout.steps]] table with method and path",
        "path" if in_section("phase") => "path = \"/admin/switch\"",
        _ => return None,
    })
}

/// An example line for each key, in any section: a table of data, one row a key.
const EXAMPLES: &[(&str, &str)] = &[
    ("version", "version = 1"),
    ("name", "name = \"account page\""),
    ("description", "description = \"what this scenario tests\""),
    ("base_url", "base_url = \"http://127.0.0.1:8080\""),
    ("embedded", "embedded = true"),
    ("faults", "faults = [\"shared-cache\"]"),
    ("nir_login", "nir_login = false"),
    ("allowed_hosts", "allowed_hosts = [\"staging.example.org\"]"),
    ("allow_remote", "allow_remote = true"),
    ("request_timeout", "request_timeout = \"10s\""),
    ("connect_timeout", "connect_timeout = \"5s\""),
    ("proxy", "proxy = \"http://proxy.example.org:3128\""),
    ("http", "http = \"auto\""),
    ("tls", "[target.tls] with accept_invalid_certs = true"),
    ("accept_invalid_certs", "accept_invalid_certs = true"),
    ("ca_file", "ca_file = \"staging-ca.pem\""),
    ("client_cert", "client_cert = \"crossleak-client.pem\""),
    ("client_key", "client_key = \"crossleak-client.key\""),
    ("generate", "generate = { size = 1000, seed = 1 }"),
    ("size", "size = 1000"),
    ("seed", "seed = 1"),
    ("household_share", "household_share = 0.2"),
    ("provisional_share", "provisional_share = 0.5"),
    ("file", "file = \"export.csv\""),
    ("format", "format = \"csv\""),
    ("columns", "[population.columns] with identifiers and password"),
    ("identifiers", "identifiers = { numero_allocataire = \"num_alloc\" }"),
    ("password", "password = \"mot_de_passe\""),
    ("watch", "watch = { email = \"courriel\" }"),
    ("column", "watch = { rib = { column = \"IBAN\", kind = \"iban\" } }"),
    ("kind", "kind = \"iban\" (one of \"nir\", \"iban\", \"phone_fr\", \"email\", \"text\")"),
    ("household", "household = \"foyer\""),
    ("steps", "a [[login_flow.steps]] table with method and path"),
    ("method", "method = \"POST\""),
    ("path", "path = \"/mon-compte\""),
    ("headers", "headers = { \"X-Admin-Token\" = \"secret\" }"),
    ("form", "form = { numero_allocataire = \"{{numero_allocataire}}\", mot_de_passe = \"{{password}}\" }"),
    ("json", "json = { login = \"{{email}}\", password = \"{{password}}\" }"),
    ("extract", "extract = [{ name = \"csrf\", from = \"body\", regex = 'name=\"csrf\" value=\"([^\"]+)\"' }]"),
    ("from", "from = \"body\""),
    ("regex", "regex = 'name=\"csrf\" value=\"([^\"]+)\"'"),
    ("json_pointer", "json_pointer = \"/token\""),
    ("success", "success = { landing_path = \"/mon-compte\" }"),
    ("status", "status = 200"),
    ("landing_path", "landing_path = \"/mon-compte\""),
    ("body_contains", "body_contains = \"Déconnexion\""),
    ("must_show", "must_show = [\"numero_allocataire\"]"),
    ("session", "session = { cookie = \"session_id\" }"),
    ("cookie", "cookie = \"session_id\""),
    ("bearer", "bearer = { json_pointer = \"/token\" }"),
    ("header", "header = \"Authorization\""),
    ("prefix", "prefix = \"Bearer \""),
    ("on_expired", "on_expired = \"login_again\""),
    ("expired_when", "expired_when = { status = [401], landing_path = \"/connexion\" }"),
    ("json_equals", "json_equals = [{ pointer = \"/numero_allocataire\", field = \"numero_allocataire\" }]"),
    ("flows", "flows = [\"session\"]"),
    ("pointer", "pointer = \"/numero_allocataire\""),
    ("field", "field = \"numero_allocataire\""),
    ("values", "values = [\"spare_iban\", \"iban\"]"),
    ("then_read", "then_read = [\"/mon-compte\"]"),
    ("duration", "duration = \"30s\""),
    ("users", "users = 50"),
    ("login_flows", "login_flows = { legacy = 0.5, nir = 0.5 }"),
    ("at_start", "a [[phase.at_start]] table with method and path"),
    ("expect_status", "expect_status = 200"),
    ("password_changes", "a [phase.password_changes] table with share, method, path, form and success"),
    ("share", "share = 0.3"),
    ("increase_rate", "increase_rate = 10"),
    ("think_time", "think_time = \"0ms..200ms\""),
    ("max_requests_per_second", "max_requests_per_second = 200"),
    ("crowd", "crowd = { size = 32, step = \"login\" }"),
    ("step", "step = \"login\""),
    ("max_wait", "max_wait = \"100ms\""),
    ("cancel_share", "cancel_share = 0.05"),
    ("cancel_after", "cancel_after = \"5ms\""),
    ("observers", "observers = 2"),
    ("cache_probes", "cache_probes = true"),
    ("session_replay", "session_replay = true"),
    ("replay", "replay = { share = 0.05, as = [\"other_user\", \"anonymous\"] }"),
    ("as", "as = [\"other_user\", \"anonymous\"]"),
    ("max_error_rate", "max_error_rate = 0.01"),
    ("latency", "latency = [\"p95 < 500ms\"]"),
    ("fail_on_cache_warnings", "fail_on_cache_warnings = true"),
    ("css", "css = 'input[name=\"_csrf\"]'"),
    ("attribute", "attribute = \"value\""),
];
