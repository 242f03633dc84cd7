//! From the raw file to the typed [`Scenario`]: parse the TOML once, deserialise each section on
//! its own (so every broken section reports), then check meaning. Collects every problem it can.

use super::error::{
    quoted_list, suggestion, suggestion_listing, ErrorKind, Lines, ScenarioError, ScenarioErrors,
};
use super::model::*;
use super::population::{
    export_columns, missing_column, ColumnMap, FileFormat, PopulationSource, Variable, RESERVED,
};
use super::raw::*;
use super::template::is_valid_name;
use super::threshold::LatencyThreshold;
use crate::oracle::ValueKind;
use crate::population::{GenerateOptions, MAX_SIZE};
use crate::portal::Fault;
use serde::de::DeserializeOwned;
use std::net::IpAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

/// The top-level keys, in the order the README describes them.
pub(crate) const TOP_KEYS: [&str; 12] = [
    "version",
    "name",
    "description",
    "target",
    "population",
    "login_flow",
    "page",
    "write",
    "logout",
    "phase",
    "load",
    "thresholds",
];

/// Sections written as arrays of tables (`[[page]]`).
const ARRAY_SECTIONS: [&str; 4] = ["login_flow", "page", "write", "phase"];

pub(crate) struct Validator<'t> {
    pub(crate) file: String,
    pub(crate) dir: PathBuf,
    lines: Lines<'t>,
    root: DeTable<'t>,
    pub(crate) errors: Vec<ScenarioError>,
    pub(crate) check_files: bool,
}

/// A path into the TOML document.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index,
}

/// The raw sections, each deserialised on its own.
#[derive(Default)]
struct RawScenario {
    version: Option<Spanned<VersionValue>>,
    name: Option<Text>,
    description: Option<Text>,
    target: Option<Spanned<RawTarget>>,
    population: Option<Spanned<RawPopulation>>,
    login_flows: Vec<Spanned<RawLoginFlow>>,
    pages: Vec<Spanned<RawPage>>,
    writes: Vec<Spanned<RawWrite>>,
    logout: Option<Spanned<RawLogout>>,
    phases: Vec<Spanned<RawPhase>>,
    load: Option<Spanned<RawLoad>>,
    thresholds: Option<Spanned<RawThresholds>>,
    /// Sections present but unreadable: their absence must not be reported again.
    broken: Vec<&'static str>,
}

/// `version` as found, before it is judged.
enum VersionValue {
    Integer(i64),
    Other(&'static str),
}

pub(crate) fn validate(
    text: &str,
    file: &str,
    check_files: bool,
) -> Result<Scenario, ScenarioErrors> {
    let (root, syntax) = DeTable::parse_recoverable(text);
    let lines = Lines::new(text);
    let mut v = Validator {
        file: file.to_owned(),
        dir: Path::new(file)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        lines,
        root: DeTable::default(),
        errors: Vec::new(),
        check_files,
    };
    if !syntax.is_empty() {
        for error in syntax {
            let span = error.span().unwrap_or(0..0);
            v.at(
                span,
                ErrorKind::Syntax,
                format!("this is not valid TOML: {}", error.message().trim_end_matches('.')),
                "fix the syntax (strings in double quotes, one key = value per line, tables as [name])",
            );
        }
        return Err(ScenarioErrors::new(v.errors));
    }
    v.root = root.get_ref().clone();
    let raw = v.sections(root.into_inner());
    let scenario = v.scenario(raw);
    match scenario {
        Some(s) if v.errors.is_empty() => Ok(s),
        _ => {
            if v.errors.is_empty() {
                v.errors.push(ScenarioError::File {
                    file: v.file.clone(),
                    message: "the scenario is incomplete".into(),
                    help: "see scenarios/README.md".into(),
                });
            }
            Err(ScenarioErrors::new(v.errors))
        }
    }
}

impl<'t> Validator<'t> {
    pub(crate) fn at(
        &mut self,
        span: Range<usize>,
        kind: ErrorKind,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        let (line, column) = self.lines.locate(span.start);
        self.errors.push(ScenarioError::Invalid {
            file: self.file.clone(),
            line,
            column,
            kind,
            message: message.into(),
            help: help.into(),
        });
    }

    // ----- reading the sections -----

    fn sections(&mut self, root: DeTable<'t>) -> RawScenario {
        let mut raw = RawScenario::default();
        let mut entries: Vec<_> = root.into_iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        for (key, value) in entries {
            let name = key.get_ref().to_string();
            let key_span = key.span();
            let span = value.span();
            match name.as_str() {
                "version" => {
                    let found = match value.get_ref() {
                        DeValue::Integer(i) => i
                            .as_str()
                            .parse::<i64>()
                            .map_or(VersionValue::Other("a number"), VersionValue::Integer),
                        other => VersionValue::Other(other.type_str()),
                    };
                    raw.version = Some(Spanned::new(span, found));
                }
                "name" => raw.name = self.section(value),
                "description" => raw.description = self.section(value),
                "target" => raw.target = self.table_section("target", value, &mut raw.broken),
                "population" => {
                    raw.population = self.table_section("population", value, &mut raw.broken)
                }
                "logout" => raw.logout = self.table_section("logout", value, &mut raw.broken),
                "load" => raw.load = self.table_section("load", value, &mut raw.broken),
                "thresholds" => {
                    raw.thresholds = self.table_section("thresholds", value, &mut raw.broken)
                }
                "login_flow" => raw.login_flows = self.items("login_flow", value, &mut raw.broken),
                "page" => raw.pages = self.items("page", value, &mut raw.broken),
                "write" => raw.writes = self.items("write", value, &mut raw.broken),
                "phase" => raw.phases = self.items("phase", value, &mut raw.broken),
                _ => {
                    let help = match name.as_str() {
                        "login_flows" | "loginflow" => {
                            "write each flow as a [[login_flow]] table".to_owned()
                        }
                        "pages" => "write each page as a [[page]] table".to_owned(),
                        "phases" => "write each phase as a [[phase]] table".to_owned(),
                        "writes" => "write each write as a [[write]] table".to_owned(),
                        _ => suggestion(&name, TOP_KEYS),
                    };
                    self.at(
                        key_span,
                        ErrorKind::UnknownKey,
                        format!("unknown key {name:?} at the top level"),
                        help,
                    );
                }
            }
        }
        raw
    }

    /// Deserialises one value; a failure is recorded and gives `None`.
    fn section<T: DeserializeOwned>(&mut self, value: Spanned<DeValue<'t>>) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(t) => Some(t),
            Err(e) => {
                self.serde_error(&e);
                None
            }
        }
    }

    fn table_section<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
        value: Spanned<DeValue<'t>>,
        broken: &mut Vec<&'static str>,
    ) -> Option<Spanned<T>> {
        let span = value.span();
        if !value.get_ref().is_table() {
            let found = value.get_ref().type_str();
            self.at(
                span,
                ErrorKind::WrongType,
                format!("{name} is {} {found}, expected a table", article(found)),
                format!("write it as a [{name}] section"),
            );
            broken.push(name);
            return None;
        }
        let parsed = self.section::<T>(value);
        if parsed.is_none() {
            broken.push(name);
        }
        parsed.map(|t| Spanned::new(span, t))
    }

    fn items<T: DeserializeOwned>(
        &mut self,
        name: &'static str,
        value: Spanned<DeValue<'t>>,
        broken: &mut Vec<&'static str>,
    ) -> Vec<Spanned<T>> {
        let span = value.span();
        let DeValue::Array(items) = value.into_inner() else {
            self.at(
                span,
                ErrorKind::WrongType,
                format!("{name} must be a list of tables"),
                format!("write each one under its own [[{name}]] header (double brackets)"),
            );
            broken.push(name);
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let span = item.span();
            if !item.get_ref().is_table() {
                self.at(
                    span,
                    ErrorKind::WrongType,
                    format!("each {name} must be a table"),
                    format!("write each one under its own [[{name}]] header"),
                );
                broken.push(name);
                continue;
            }
            match self.section::<T>(item) {
                Some(t) => out.push(Spanned::new(span, t)),
                None => broken.push(name),
            }
        }
        out
    }

    // ----- serde errors, made readable -----

    fn serde_error(&mut self, error: &toml::de::Error) {
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
    fn path_at(&self, span: &Range<usize>) -> (Vec<Seg>, bool) {
        let mut best = (Vec::new(), false);
        let mut path = Vec::new();
        search_table(&self.root, span, &mut path, &mut best);
        best
    }

    // ----- the whole scenario -----

    fn scenario(&mut self, raw: RawScenario) -> Option<Scenario> {
        let RawScenario {
            version,
            name,
            description,
            target,
            population,
            login_flows,
            pages,
            writes,
            logout,
            phases,
            load,
            thresholds,
            broken,
        } = raw;
        match version {
            None => self.at(
                0..0,
                ErrorKind::Version,
                "the scenario has no version",
                "add version = 1 as the first line",
            ),
            Some(v) => match v.get_ref() {
                VersionValue::Integer(1) => {}
                VersionValue::Integer(n) => self.at(
                    v.span(),
                    ErrorKind::Version,
                    format!("version {n} is not a scenario version this crossleak reads"),
                    "write version = 1 (the only version so far)",
                ),
                VersionValue::Other(found) => self.at(
                    v.span(),
                    ErrorKind::Version,
                    format!(
                        "version is {} {found}, expected the number 1",
                        article(found)
                    ),
                    "write version = 1, without quotes",
                ),
            },
        }
        let target = self.target(target, broken.contains(&"target"));
        let population = self.population(population, broken.contains(&"population"));
        let variables = population.as_ref().map(PopulationSource::variables);
        let vocabulary = Vocabulary {
            variables: variables.as_deref(),
        };
        let (flows, declared) =
            self.login_flows(login_flows, broken.contains(&"login_flow"), &vocabulary);
        let flow_names: Vec<&str> = declared.iter().map(String::as_str).collect();
        let known_flows = (!broken.contains(&"login_flow") && !flow_names.is_empty())
            .then_some(flow_names.as_slice());
        let pages = self.pages(pages, known_flows, &vocabulary);
        let writes = self.writes(writes, &vocabulary);
        let logout = logout.and_then(|l| self.logout(&l, &flows, &vocabulary));
        let (load, default_users) = self.load(load, &pages, logout.is_some());
        let phases = self.phases(
            phases,
            broken.contains(&"phase"),
            known_flows,
            default_users,
            load.as_ref(),
            &vocabulary,
        );
        let thresholds = self.thresholds(thresholds);
        let file_stem = Path::new(&self.file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        Some(Scenario {
            file: PathBuf::from(&self.file),
            name: name.map_or(file_stem, Spanned::into_inner),
            description: description.map(Spanned::into_inner),
            target: target?,
            population: population?,
            login_flows: flows,
            pages,
            writes,
            logout,
            phases,
            load: load?,
            thresholds: thresholds?,
        })
    }

    // ----- [target] -----

    fn target(&mut self, raw: Option<Spanned<RawTarget>>, broken: bool) -> Option<Target> {
        let Some(raw) = raw else {
            if !broken {
                self.at(
                    0..0,
                    ErrorKind::MissingKey,
                    "the scenario has no [target]",
                    "add [target] with base_url = \"http://127.0.0.1:8080\" (your portal) or embedded = true (the demo portal)",
                );
            }
            return None;
        };
        let span = raw.span();
        let t = raw.into_inner();
        let allow_remote = t.allow_remote.as_ref().is_some_and(|a| *a.get_ref());
        let mut allowed_hosts = Vec::new();
        for host in t.allowed_hosts.iter().flat_map(|h| h.get_ref()) {
            let text = host.get_ref().trim().to_ascii_lowercase();
            if text.is_empty() || text.contains("://") || text.contains('/') {
                self.at(
                    host.span(),
                    ErrorKind::InvalidValue,
                    format!("allowed host {:?} is not a host name", host.get_ref()),
                    "write the host alone, as in allowed_hosts = [\"staging.example.org\"]",
                );
            } else {
                allowed_hosts.push(text);
            }
        }
        let embedded = t.embedded.as_ref().is_some_and(|e| *e.get_ref());
        let endpoint = match (&t.base_url, embedded) {
            (Some(url), true) => {
                self.at(
                    url.span(),
                    ErrorKind::Conflict,
                    "[target] has both base_url and embedded = true",
                    "keep base_url to test your portal, or embedded = true for the demo portal, not both",
                );
                None
            }
            (Some(url), false) => {
                let checked = self.base_url(url, allow_remote, &allowed_hosts);
                checked.map(Endpoint::Url)
            }
            (None, true) => {
                let mut faults = Vec::new();
                for fault in t.faults.iter().flat_map(|f| f.get_ref()) {
                    match fault.get_ref().parse::<Fault>() {
                        Ok(f) => faults.push(f),
                        Err(e) => {
                            let names: Vec<&str> = Fault::all().iter().map(Fault::name).collect();
                            self.at(
                                fault.span(),
                                ErrorKind::UnknownFault,
                                format!("unknown portal fault {:?}", e.given),
                                suggestion(&e.given, names.iter().copied()),
                            );
                        }
                    }
                }
                Some(Endpoint::Embedded {
                    faults,
                    nir_login: t.nir_login.as_ref().is_none_or(|n| *n.get_ref()),
                })
            }
            (None, false) => {
                let at = t.embedded.as_ref().map_or(span.clone(), Spanned::span);
                self.at(
                    at,
                    ErrorKind::MissingKey,
                    "[target] names no portal",
                    "add base_url = \"http://127.0.0.1:8080\" (your portal) or embedded = true (the demo portal)",
                );
                None
            }
        };
        if !embedded {
            for (key, present) in [
                ("faults", t.faults.as_ref().map(Spanned::span)),
                ("nir_login", t.nir_login.as_ref().map(Spanned::span)),
            ] {
                if let Some(at) = present {
                    self.at(
                        at,
                        ErrorKind::Conflict,
                        format!("{key} applies to the embedded demo portal only"),
                        format!("remove {key}, or set embedded = true instead of base_url"),
                    );
                }
            }
        }
        let request_timeout = self.duration_or(
            t.request_timeout.as_ref(),
            "request_timeout",
            Duration::from_secs(10),
        );
        let connect_timeout = self.duration_or(
            t.connect_timeout.as_ref(),
            "connect_timeout",
            Duration::from_secs(5),
        );
        let mut tls = Tls::default();
        if let Some(raw_tls) = t.tls {
            let tls_span = raw_tls.span();
            let raw_tls = raw_tls.into_inner();
            if embedded {
                self.at(
                    tls_span,
                    ErrorKind::Conflict,
                    "[target.tls] applies to a base_url target",
                    "remove [target.tls]: the embedded portal speaks plain HTTP on loopback",
                );
            }
            tls.accept_invalid_certs = raw_tls.accept_invalid_certs.unwrap_or(false);
            tls.ca_file = raw_tls.ca_file.map(|ca| self.pem_file(&ca, "CA file"));
            let cert = raw_tls
                .client_cert
                .map(|c| (c.span(), self.pem_file(&c, "client certificate")));
            let key = raw_tls
                .client_key
                .map(|k| (k.span(), self.pem_file(&k, "client key")));
            match (cert, key) {
                (Some((_, cert)), Some((_, key))) => {
                    tls.client_auth = Some(ClientAuth { cert, key })
                }
                (Some((at, _)), None) | (None, Some((at, _))) => self.at(
                    at,
                    ErrorKind::MissingKey,
                    "client_cert and client_key go together",
                    "give both: the client certificate's PEM file and its private key's",
                ),
                (None, None) => {}
            }
        }
        let proxy = match &t.proxy {
            Some(text) => self.proxy(text, allow_remote)?,
            None => ProxySetting::Environment,
        };
        let http = match t.http.as_ref().map(|text| (text, text.get_ref().trim())) {
            None | Some((_, "auto")) => HttpVersion::Auto,
            Some((_, "1.1")) => HttpVersion::Http1,
            Some((_, "2")) => HttpVersion::Http2,
            Some((text, other)) => {
                self.at(
                    text.span(),
                    ErrorKind::InvalidValue,
                    format!("http {other:?} is not an HTTP version crossleak speaks"),
                    "write http = \"auto\" (HTTP/2 when the TLS target offers it), \"1.1\" or \"2\"",
                );
                return None;
            }
        };
        Some(Target {
            endpoint: endpoint?,
            allowed_hosts,
            allow_remote,
            request_timeout: request_timeout?,
            connect_timeout: connect_timeout?,
            tls,
            proxy,
            http,
        })
    }

    /// `proxy = "none"` or `"http://host:port"`; a proxy is a host crossleak connects to, so one
    /// that is not loopback needs `allow_remote` as a remote target does.
    fn proxy(&mut self, text: &Text, allow_remote: bool) -> Option<ProxySetting> {
        let value = text.get_ref().trim();
        if value.eq_ignore_ascii_case("none") {
            return Some(ProxySetting::Off);
        }
        let parsed = url::Url::parse(value).ok().filter(|u| {
            u.scheme() == "http"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && matches!(u.path(), "" | "/")
        });
        let Some(parsed) = parsed else {
            self.at(
                text.span(),
                ErrorKind::InvalidValue,
                format!("proxy {value:?} is neither \"none\" nor an http://host:port URL"),
                "write proxy = \"http://proxy.example.org:3128\" (a TLS target goes through CONNECT), or proxy = \"none\"",
            );
            return None;
        };
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if !allow_remote && !is_loopback(&host) {
            self.at(
                text.span(),
                ErrorKind::RemoteTarget,
                format!("refusing to connect to the proxy {host}, which is not a loopback address"),
                "if this proxy is yours to use, add allow_remote = true to [target]",
            );
            return None;
        }
        Some(ProxySetting::Through(parsed))
    }

    /// A PEM file named in `[target.tls]`, resolved against the scenario's folder; a missing one
    /// is an error at its line.
    fn pem_file(&mut self, name: &Text, what: &str) -> PathBuf {
        let path = self.dir.join(name.get_ref());
        if self.check_files && !path.is_file() {
            self.at(
                name.span(),
                ErrorKind::File,
                format!("{what} {} does not exist", path.display()),
                "give a PEM file; relative paths start at the scenario's folder",
            );
        }
        path
    }

    fn base_url(&mut self, url: &Text, allow_remote: bool, allowed: &[String]) -> Option<String> {
        let text = url.get_ref().trim();
        let parsed = match url::Url::parse(text) {
            Ok(p) => p,
            Err(e) => {
                self.at(
                    url.span(),
                    ErrorKind::InvalidValue,
                    format!("base_url {text:?} is not a URL ({e})"),
                    "write it as base_url = \"http://127.0.0.1:8080\"",
                );
                return None;
            }
        };
        if !matches!(parsed.scheme(), "http" | "https") {
            self.at(
                url.span(),
                ErrorKind::InvalidValue,
                format!(
                    "base_url uses {}: crossleak speaks http and https only",
                    parsed.scheme()
                ),
                "write it as base_url = \"https://staging.example.org\"",
            );
            return None;
        }
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if !is_loopback(&host) {
            if !allow_remote {
                self.at(
                    url.span(),
                    ErrorKind::RemoteTarget,
                    format!("refusing to load {host}, which is not a loopback address: a load test aimed at the wrong host is an incident"),
                    format!("if this host is yours to test, add allow_remote = true and allowed_hosts = [\"{host}\"] to [target]"),
                );
                return None;
            }
            if !allowed.contains(&host) {
                self.at(
                    url.span(),
                    ErrorKind::RemoteTarget,
                    format!("base_url's host {host} is not in allowed_hosts"),
                    format!("add allowed_hosts = [\"{host}\"] to [target] (the list pins the hosts this scenario may load)"),
                );
                return None;
            }
        }
        Some(text.trim_end_matches('/').to_owned())
    }

    // ----- [population] -----

    fn population(
        &mut self,
        raw: Option<Spanned<RawPopulation>>,
        broken: bool,
    ) -> Option<PopulationSource> {
        let Some(raw) = raw else {
            if !broken {
                self.at(
                    0..0,
                    ErrorKind::MissingKey,
                    "the scenario has no [population]",
                    "add [population] with generate = { size = 1000, seed = 1 }, or file = \"export.csv\" and format = \"csv\"",
                );
            }
            return None;
        };
        let span = raw.span();
        let p = raw.into_inner();
        match (p.generate, p.file) {
            (Some(_), Some(f)) => {
                self.at(
                    f.span(),
                    ErrorKind::Conflict,
                    "[population] has both generate and file",
                    "keep generate for synthetic beneficiaries, or file for a staging export, not both",
                );
                None
            }
            (Some(g), None) => {
                for (key, at) in [
                    ("format", p.format.as_ref().map(Spanned::span)),
                    ("columns", p.columns.as_ref().map(Spanned::span)),
                ] {
                    if let Some(at) = at {
                        self.at(
                            at,
                            ErrorKind::Conflict,
                            format!("{key} applies to a population file, not to generate"),
                            format!("remove {key}"),
                        );
                    }
                }
                self.generate(g)
            }
            (None, Some(file)) => self.population_file(file, p.format, p.columns, span),
            (None, None) => {
                self.at(
                    span,
                    ErrorKind::MissingKey,
                    "[population] says neither generate nor file",
                    "add generate = { size = 1000, seed = 1 }, or file = \"export.csv\" with format = \"csv\"",
                );
                None
            }
        }
    }

    fn generate(&mut self, raw: Spanned<RawGenerate>) -> Option<PopulationSource> {
        let g = raw.into_inner();
        let defaults = GenerateOptions::default();
        let size = *g.size.get_ref();
        let mut ok = true;
        if size == 0 || size > MAX_SIZE as u64 {
            self.at(
                g.size.span(),
                ErrorKind::InvalidValue,
                format!("population size {size} is out of range"),
                format!("use 1 to {MAX_SIZE} (the numéro allocataire has 7 digits)"),
            );
            ok = false;
        }
        let household_share = self.share(
            g.household_share.as_ref(),
            "household_share",
            defaults.household_share,
        );
        let provisional_share = self.share(
            g.provisional_share.as_ref(),
            "provisional_share",
            defaults.provisional_share,
        );
        Some(PopulationSource::Generated(GenerateOptions {
            size: size as usize,
            seed: g.seed.unwrap_or(defaults.seed),
            household_share: household_share?,
            provisional_share: provisional_share?,
        }))
        .filter(|_| ok)
    }

    fn population_file(
        &mut self,
        file: Text,
        format: Option<Text>,
        columns: Option<Spanned<RawColumns>>,
        span: Range<usize>,
    ) -> Option<PopulationSource> {
        const FORMATS: [&str; 4] = ["csv", "jsonl", "crossleak-csv", "crossleak-jsonl"];
        let path = self.dir.join(file.get_ref());
        let Some(format) = format else {
            self.at(
                span,
                ErrorKind::MissingKey,
                "[population] has a file but no format",
                "add format = \"csv\" or \"jsonl\" (with [population.columns]) for your own export, or \"crossleak-csv\" / \"crossleak-jsonl\" for a file crossleak wrote",
            );
            return None;
        };
        let (own, kind) = match format.get_ref().as_str() {
            "csv" => (false, FileFormat::Csv),
            "jsonl" => (false, FileFormat::Jsonl),
            "crossleak-csv" => (true, FileFormat::Csv),
            "crossleak-jsonl" => (true, FileFormat::Jsonl),
            other => {
                self.at(
                    format.span(),
                    ErrorKind::InvalidValue,
                    format!("unknown population format {other:?}"),
                    suggestion(other, FORMATS),
                );
                return None;
            }
        };
        if self.check_files && !path.is_file() {
            self.at(
                file.span(),
                ErrorKind::File,
                format!(
                    "population file {:?} does not exist (looked for {})",
                    file.get_ref(),
                    path.display()
                ),
                "check the path; relative paths start at the scenario's folder",
            );
            return None;
        }
        if own {
            if let Some(columns) = columns {
                self.at(
                    columns.span(),
                    ErrorKind::Conflict,
                    format!("format {:?} has crossleak's fixed columns, so [population.columns] does not apply", format.get_ref()),
                    "remove [population.columns], or use format = \"csv\" / \"jsonl\" for an export in your portal's shape",
                );
                return None;
            }
            return Some(PopulationSource::Export { path, format: kind });
        }
        let Some(columns) = columns else {
            self.at(
                format.span(),
                ErrorKind::MissingKey,
                format!("format {:?} needs [population.columns] to say which columns mean what", format.get_ref()),
                "add [population.columns] with identifiers = { numero_allocataire = \"num_alloc\" } and password = \"mot_de_passe\" (or use \"crossleak-csv\" for a file crossleak wrote)",
            );
            return None;
        };
        let columns = self.columns(columns)?;
        if self.check_files {
            match export_columns(&path, kind) {
                Ok(header) => {
                    for (_, variable, column) in columns.0.all() {
                        if let Some(help) = missing_column(column, &header) {
                            let at = columns
                                .1
                                .iter()
                                .find(|(v, _)| v == variable)
                                .map_or(span.clone(), |(_, s)| s.clone());
                            self.at(
                                at,
                                ErrorKind::File,
                                format!("{:?} has no column {column:?}", file.get_ref()),
                                format!(
                                    "{help} (its columns: {})",
                                    quoted_list(header.iter().map(String::as_str))
                                ),
                            );
                        }
                    }
                }
                Err(e) => self.at(
                    file.span(),
                    ErrorKind::File,
                    format!("cannot read the columns of {:?}: {e}", file.get_ref()),
                    "the file needs a header line (CSV) or one JSON object per line",
                ),
            }
        }
        Some(PopulationSource::Mapped {
            path,
            format: kind,
            columns: columns.0,
        })
    }

    /// The mapping, and the span of each variable's column (`password` and `household` included).
    fn columns(&mut self, raw: Spanned<RawColumns>) -> Option<(ColumnMap, ColumnSpans)> {
        let c = raw.into_inner();
        let mut spans: Vec<(String, Range<usize>)> = Vec::new();
        let mut ok = true;
        let identifiers_span = c.identifiers.span();
        let mut kinds = Vec::new();
        let identifiers = self.column_entries(
            c.identifiers,
            "identifiers",
            &mut spans,
            &mut kinds,
            &mut ok,
        );
        if identifiers.is_empty() {
            self.at(identifiers_span, ErrorKind::MissingKey, "identifiers maps no column", "add the login identifier, as in identifiers = { numero_allocataire = \"num_alloc\" }");
            ok = false;
        }
        let watch = match c.watch {
            Some(w) => self.column_entries(w, "watch", &mut spans, &mut kinds, &mut ok),
            None => Vec::new(),
        };
        spans.push(("password".into(), c.password.span()));
        if let Some(h) = &c.household {
            spans.push(("household".into(), h.span()));
        }
        let map = ColumnMap {
            identifiers,
            password: c.password.get_ref().trim().to_owned(),
            watch,
            household: c.household.map(|h| h.into_inner().trim().to_owned()),
            kinds,
        };
        ok.then_some((map, spans))
    }

    fn column_entries(
        &mut self,
        table: Spanned<std::collections::BTreeMap<Text, Spanned<toml::Value>>>,
        role: &str,
        spans: &mut Vec<(String, Range<usize>)>,
        kinds: &mut Vec<(String, ValueKind)>,
        ok: &mut bool,
    ) -> Vec<(String, String)> {
        let mut entries: Vec<_> = table.into_inner().into_iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        let mut out = Vec::new();
        for (variable, entry) in entries {
            let name = variable.get_ref().clone();
            let Some((column, kind)) = self.column_entry(&name, role, entry) else {
                *ok = false;
                continue;
            };
            if let Some(kind) = kind {
                kinds.push((name.clone(), kind));
            }
            if !is_valid_name(&name) {
                self.at(variable.span(), ErrorKind::InvalidValue, format!("{name:?} in {role} is not a usable variable name"), "use letters, digits and _ (it becomes {{name}} in templates), as in numero_allocataire = \"Num Alloc\"");
                *ok = false;
            } else if RESERVED.contains(&name.as_str()) {
                self.at(
                    variable.span(),
                    ErrorKind::InvalidValue,
                    format!("{name:?} is a reserved name"),
                    format!(
                        "{} are crossleak's own variables; name this one differently",
                        quoted_list(RESERVED)
                    ),
                );
                *ok = false;
            } else if spans.iter().any(|(n, _)| *n == name) {
                self.at(
                    variable.span(),
                    ErrorKind::Conflict,
                    format!("variable {name:?} is mapped twice"),
                    "map each variable once, in identifiers or in watch",
                );
                *ok = false;
            }
            if column.get_ref().trim().is_empty() {
                self.at(
                    column.span(),
                    ErrorKind::InvalidValue,
                    format!("the column of {name:?} is empty"),
                    "write the export's column header, as in email = \"courriel\"",
                );
                *ok = false;
            }
            spans.push((name.clone(), column.span()));
            out.push((name, column.get_ref().trim().to_owned()));
        }
        out
    }

    /// One `variable = "column"` or `variable = { column = "…", kind = "…" }`: the column (with
    /// its span) and the declared kind.
    fn column_entry(
        &mut self,
        name: &str,
        role: &str,
        entry: Spanned<toml::Value>,
    ) -> Option<(Text, Option<ValueKind>)> {
        let span = entry.span();
        let example = format!(
            "write {name} = \"COLUMN\" or {name} = {{ column = \"COLUMN\", kind = \"iban\" }}"
        );
        let kinds = ValueKind::ALL.map(ValueKind::name);
        match entry.into_inner() {
            toml::Value::String(column) => Some((Spanned::new(span, column), None)),
            toml::Value::Table(mut table) => {
                let column = table.remove("column");
                let kind = table.remove("kind");
                if let Some(key) = table.keys().next() {
                    self.at(
                        span,
                        ErrorKind::UnknownKey,
                        format!("{role}.{name} has no key {key:?}"),
                        format!("its keys are \"column\" and \"kind\": {example}"),
                    );
                    return None;
                }
                let Some(toml::Value::String(column)) = column else {
                    self.at(
                        span,
                        ErrorKind::MissingKey,
                        format!("{role}.{name} needs column = \"…\" (the export's header)"),
                        example,
                    );
                    return None;
                };
                let kind = match kind {
                    None => None,
                    Some(toml::Value::String(kind)) => {
                        match ValueKind::from_name(&kind) {
                            Some(kind) => Some(kind),
                            None => {
                                self.at(
                                span,
                                ErrorKind::InvalidValue,
                                format!("kind {kind:?} of {role}.{name} is not a kind crossleak knows"),
                                format!(
                                    "{} (leave kind out to infer it from the column's values)",
                                    suggestion_listing(&kind, kinds, "kinds")
                                ),
                            );
                                return None;
                            }
                        }
                    }
                    Some(other) => {
                        self.at(
                            span,
                            ErrorKind::WrongType,
                            format!(
                                "kind of {role}.{name} is a {}, not a string",
                                other.type_str()
                            ),
                            format!("write kind = \"iban\", one of {}", quoted_list(kinds)),
                        );
                        return None;
                    }
                };
                Some((Spanned::new(span, column), kind))
            }
            other => {
                self.at(
                    span,
                    ErrorKind::WrongType,
                    format!("{role}.{name} is a {}, not a column", other.type_str()),
                    example,
                );
                None
            }
        }
    }

    // ----- [load] -----

    fn load(
        &mut self,
        raw: Option<Spanned<RawLoad>>,
        pages: &[Page],
        has_logout: bool,
    ) -> (Option<LoadShape>, Option<(usize, Range<usize>)>) {
        let Some(raw) = raw else {
            return (
                Some(LoadShape {
                    increase_rate: DEFAULT_INCREASE_RATE,
                    think_time: None,
                    max_requests_per_second: None,
                    crowd: None,
                    cancel_share: 0.0,
                    cancel_after: DEFAULT_CANCEL_AFTER,
                    observers: 0,
                    cache_probes: false,
                    session_replay: false,
                    replay: None,
                }),
                None,
            );
        };
        let span = raw.span();
        let l = raw.into_inner();
        let mut ok = true;
        let users = l.users.as_ref().map(|u| (*u.get_ref() as usize, u.span()));
        if let Some((0, at)) = &users {
            self.at(
                at.clone(),
                ErrorKind::InvalidValue,
                "[load] users is 0",
                "give at least 1 user, as in users = 50",
            );
            ok = false;
        }
        let increase_rate = match &l.increase_rate {
            Some(rate) if !(rate.get_ref().is_finite() && *rate.get_ref() > 0.0) => {
                self.at(
                    rate.span(),
                    ErrorKind::InvalidValue,
                    format!(
                        "increase_rate {} is not a positive number of users per second",
                        rate.get_ref()
                    ),
                    "write increase_rate = 10",
                );
                ok = false;
                DEFAULT_INCREASE_RATE
            }
            Some(rate) => *rate.get_ref(),
            None => DEFAULT_INCREASE_RATE,
        };
        let think_time = l.think_time.as_ref().and_then(|t| {
            let parsed = self.think_time(t);
            ok &= parsed.is_some();
            parsed
        });
        let max_requests_per_second = match &l.max_requests_per_second {
            Some(cap) if !(cap.get_ref().is_finite() && *cap.get_ref() > 0.0) => {
                self.at(
                    cap.span(),
                    ErrorKind::InvalidValue,
                    format!(
                        "max_requests_per_second {} is not a positive rate",
                        cap.get_ref()
                    ),
                    "write max_requests_per_second = 200, or leave it out for no cap",
                );
                ok = false;
                None
            }
            Some(cap) => Some(*cap.get_ref()),
            None => None,
        };
        let crowd = l.crowd.and_then(|c| {
            let parsed = self.crowd(c, pages);
            ok &= parsed.is_some();
            parsed
        });
        let cancel_share = self.share(l.cancel_share.as_ref(), "cancel_share", 0.0);
        let cancel_after = self.duration_or(
            l.cancel_after.as_ref(),
            "cancel_after",
            DEFAULT_CANCEL_AFTER,
        );
        let session_replay = l.session_replay.unwrap_or(false);
        if session_replay && !has_logout {
            self.at(span, ErrorKind::MissingKey, "session_replay = true needs a [logout] request to end the session before replaying it", "add [logout] with method = \"POST\" and path = \"/logout\", or remove session_replay");
            ok = false;
        }
        let replay = l.replay.and_then(|r| {
            let parsed = self.replay(r);
            ok &= parsed.is_some();
            parsed
        });
        let shape = LoadShape {
            increase_rate,
            think_time,
            max_requests_per_second,
            crowd,
            cancel_share: cancel_share.unwrap_or(0.0),
            cancel_after: cancel_after.unwrap_or(DEFAULT_CANCEL_AFTER),
            observers: l.observers.unwrap_or(0) as usize,
            cache_probes: l.cache_probes.unwrap_or(false),
            session_replay,
            replay,
        };
        let ok = ok && cancel_share.is_some() && cancel_after.is_some();
        (ok.then_some(shape), users.filter(|(n, _)| *n > 0))
    }

    /// `replay = { share = 0.05, as = ["other_user", "anonymous"] }`; `as` defaults to both.
    fn replay(&mut self, raw: Spanned<RawReplay>) -> Option<Replay> {
        let span = raw.span();
        let raw = raw.into_inner();
        let share = self.share(raw.share.as_ref(), "replay.share", DEFAULT_REPLAY_SHARE)?;
        let Some(names) = raw.identities else {
            return Some(Replay {
                share,
                identities: vec![ReplayIdentity::OtherUser, ReplayIdentity::Anonymous],
            });
        };
        if names.is_empty() {
            self.at(
                span,
                ErrorKind::InvalidValue,
                "replay.as is empty: nobody would replay anything",
                "write as = [\"other_user\", \"anonymous\"], or remove replay",
            );
            return None;
        }
        let mut identities = Vec::new();
        for name in &names {
            let identity = match name.get_ref().as_str() {
                "other_user" => ReplayIdentity::OtherUser,
                "anonymous" => ReplayIdentity::Anonymous,
                other => {
                    self.at(
                        name.span(),
                        ErrorKind::InvalidValue,
                        format!("replay.as names {other:?}, which is not a replay identity"),
                        "use \"other_user\" (another owner's values under the user's session) or \"anonymous\" (no session)",
                    );
                    return None;
                }
            };
            if !identities.contains(&identity) {
                identities.push(identity);
            }
        }
        Some(Replay { share, identities })
    }

    fn think_time(&mut self, raw: &Spanned<ThinkTime>) -> Option<(Duration, Duration)> {
        let (min, max) = match raw.get_ref() {
            ThinkTime::Text(text) => match text.split_once("..") {
                Some((a, b)) => (a.trim().to_owned(), b.trim().to_owned()),
                None => (text.trim().to_owned(), text.trim().to_owned()),
            },
            ThinkTime::Bounds { min, max } => (min.clone(), max.clone()),
        };
        let parse = |text: &str| humantime::parse_duration(text).ok();
        match (parse(&min), parse(&max)) {
            (Some(a), Some(b)) if a <= b => Some((a, b)),
            (Some(_), Some(_)) => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!("think_time's minimum {min} is above its maximum {max}"),
                    "write the smaller bound first, as in think_time = \"0ms..200ms\"",
                );
                None
            }
            _ => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    "think_time is not a duration or a range of durations",
                    "write think_time = \"0ms..200ms\" (or \"100ms\" for a fixed pause)",
                );
                None
            }
        }
    }

    fn crowd(&mut self, raw: Spanned<RawCrowd>, pages: &[Page]) -> Option<Crowd> {
        let c = raw.into_inner();
        let size = *c.size.get_ref() as usize;
        let mut ok = true;
        if size < 2 {
            self.at(
                c.size.span(),
                ErrorKind::InvalidValue,
                format!("a crowd of {size} releases nobody together"),
                "give a crowd size of at least 2, as in size = 32",
            );
            ok = false;
        }
        let step_text = c.step.get_ref().trim();
        let step = if step_text == "login" {
            Some(CrowdStep::Login)
        } else if let Some(path) = step_text.strip_prefix("page:") {
            let path = path.trim();
            match pages.iter().position(|p| p.request.path.as_str() == path) {
                Some(index) => Some(CrowdStep::Page {
                    index,
                    path: path.to_owned(),
                }),
                None => {
                    let paths: Vec<&str> = pages.iter().map(|p| p.request.path.as_str()).collect();
                    self.at(
                        c.step.span(),
                        ErrorKind::UnknownPage,
                        format!("crowd step {step_text:?} names no [[page]]"),
                        if paths.is_empty() {
                            "add a [[page]] with that path first".to_owned()
                        } else {
                            format!(
                                "{} (pages: {})",
                                suggestion(path, paths.iter().copied()),
                                quoted_list(paths.iter().copied())
                            )
                        },
                    );
                    None
                }
            }
        } else {
            self.at(
                c.step.span(),
                ErrorKind::InvalidValue,
                format!("unknown crowd step {step_text:?}"),
                "write step = \"login\" or step = \"page:/mon-compte\" (a [[page]]'s path)",
            );
            None
        };
        let max_wait =
            self.duration_or(c.max_wait.as_ref(), "max_wait", Duration::from_millis(100));
        Some(Crowd {
            size,
            step: step?,
            max_wait: max_wait?,
        })
        .filter(|_| ok)
    }

    // ----- [thresholds] -----

    fn thresholds(&mut self, raw: Option<Spanned<RawThresholds>>) -> Option<Thresholds> {
        let Some(raw) = raw else {
            return Some(Thresholds::default());
        };
        let t = raw.into_inner();
        let mut ok = true;
        let max_error_rate = match &t.max_error_rate {
            Some(rate) => {
                let share = self.share(Some(rate), "max_error_rate", 0.0);
                ok &= share.is_some();
                share
            }
            None => None,
        };
        let mut latency = Vec::new();
        for rule in t.latency.iter().flatten() {
            match LatencyThreshold::parse(rule.get_ref()) {
                Ok(parsed) => latency.push(parsed),
                Err(problem) => {
                    let kind = if problem.unknown_metric {
                        ErrorKind::UnknownMetric
                    } else {
                        ErrorKind::InvalidValue
                    };
                    self.at(rule.span(), kind, problem.message, problem.help);
                    ok = false;
                }
            }
        }
        Some(Thresholds {
            max_error_rate,
            latency,
            fail_on_cache_warnings: t.fail_on_cache_warnings.unwrap_or(false),
        })
        .filter(|_| ok)
    }

    // ----- small values -----

    /// A share from 0 to 1; `default` when absent.
    pub(crate) fn share(
        &mut self,
        raw: Option<&Spanned<f64>>,
        key: &str,
        default: f64,
    ) -> Option<f64> {
        let Some(raw) = raw else { return Some(default) };
        let value = *raw.get_ref();
        if !(0.0..=1.0).contains(&value) {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("{key} is {value}, which is not a share"),
                format!("use a number from 0 to 1, as in {key} = 0.5"),
            );
            return None;
        }
        Some(value)
    }

    /// A positive duration such as `"10s"`; `default` when absent.
    pub(crate) fn duration_or(
        &mut self,
        raw: Option<&Text>,
        key: &str,
        default: Duration,
    ) -> Option<Duration> {
        match raw {
            None => Some(default),
            Some(text) => self.duration(text, key),
        }
    }

    pub(crate) fn duration(&mut self, raw: &Text, key: &str) -> Option<Duration> {
        match humantime::parse_duration(raw.get_ref().trim()) {
            Ok(d) if d.is_zero() => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!("{key} is zero"),
                    format!("give a duration above zero, as in {key} = \"10s\""),
                );
                None
            }
            Ok(d) => Some(d),
            Err(_) => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!("{key} {:?} is not a duration", raw.get_ref()),
                    format!("write a number with a unit (ms, s, m), as in {key} = \"10s\""),
                );
                None
            }
        }
    }
}

/// Where each mapped variable's column is written in the scenario.
type ColumnSpans = Vec<(String, Range<usize>)>;

pub(crate) const DEFAULT_INCREASE_RATE: f64 = 10.0;
pub(crate) const DEFAULT_CANCEL_AFTER: Duration = Duration::from_millis(5);
/// The share of page reads `replay` sends again when it gives no `share`.
pub(crate) const DEFAULT_REPLAY_SHARE: f64 = 0.05;

/// The variables templates may use, and where.
pub(crate) struct Vocabulary<'a> {
    /// `None` when the population itself is broken: names are then not checked.
    pub variables: Option<&'a [Variable]>,
}

/// The names one template may use.
pub(crate) struct Scope<'a> {
    pub variables: Option<&'a [Variable]>,
    /// Population variables apply (per-user requests); `false` for `at_start` actions.
    pub per_user: bool,
    /// Names the context adds: extracted values, `value`, `new_password`.
    pub extra: Vec<String>,
}

impl<'a> Vocabulary<'a> {
    pub(crate) fn user(&self, extra: &[&str]) -> Scope<'a> {
        Scope {
            variables: self.variables,
            per_user: true,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub(crate) fn once(&self) -> Scope<'a> {
        Scope {
            variables: self.variables,
            per_user: false,
            extra: Vec::new(),
        }
    }

    /// The watched variable `name` and its oracle field.
    pub(crate) fn watched(&self, name: &str) -> Result<Option<String>, Vec<&'a str>> {
        let Some(vars) = self.variables else {
            return Ok(None);
        };
        match vars.iter().find(|v| v.name == name) {
            Some(Variable {
                field: Some(field), ..
            }) => Ok(Some(field.clone())),
            _ => Err(vars
                .iter()
                .filter(|v| v.field.is_some())
                .map(|v| v.name.as_str())
                .collect()),
        }
    }
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

fn search_table(
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

fn search_value(
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

fn keys_of(segs: &[Seg]) -> Vec<&str> {
    segs.iter()
        .filter_map(|s| match s {
            Seg::Key(k) => Some(k.as_str()),
            Seg::Index => None,
        })
        .collect()
}

/// `[load]`, `[[login_flow.steps]]`, or `the top level`.
fn section_name(segs: &[Seg]) -> String {
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
fn backticked(message: &str) -> Vec<&str> {
    message.split('`').skip(1).step_by(2).collect()
}

/// serde's type names in the words of a TOML user.
fn plain_type(expected: &str) -> String {
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

fn plain_found(found: &str) -> String {
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

fn article(type_name: &str) -> &'static str {
    if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

/// Keys users reach for that crossleak refuses on purpose.
fn special_unknown_key(given: &str) -> Option<String> {
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
    let in_section = |name: &str| section.first() == Some(&name);
    let last = section.last().copied().unwrap_or("");
    Some(
        match key {
            "version" => "version = 1",
            "name" if in_section("phase") => "name = \"cut-over\"",
            "name" if last == "extract" => "name = \"csrf\"",
            "name" if in_section("login_flow") => "name = \"legacy\"",
            "name" => "name = \"account page\"",
            "description" => "description = \"what this scenario tests\"",
            "base_url" => "base_url = \"http://127.0.0.1:8080\"",
            "embedded" => "embedded = true",
            "faults" => "faults = [\"shared-cache\"]",
            "nir_login" => "nir_login = false",
            "allowed_hosts" => "allowed_hosts = [\"staging.example.org\"]",
            "allow_remote" => "allow_remote = true",
            "request_timeout" => "request_timeout = \"10s\"",
            "connect_timeout" => "connect_timeout = \"5s\"",
            "proxy" => "proxy = \"http://proxy.example.org:3128\"",
            "http" => "http = \"auto\"",
            "tls" => "[target.tls] with accept_invalid_certs = true",
            "accept_invalid_certs" => "accept_invalid_certs = true",
            "ca_file" => "ca_file = \"staging-ca.pem\"",
            "client_cert" => "client_cert = \"crossleak-client.pem\"",
            "client_key" => "client_key = \"crossleak-client.key\"",
            "generate" => "generate = { size = 1000, seed = 1 }",
            "size" if last == "crowd" => "size = 32",
            "size" => "size = 1000",
            "seed" => "seed = 1",
            "household_share" => "household_share = 0.2",
            "provisional_share" => "provisional_share = 0.5",
            "file" => "file = \"export.csv\"",
            "format" => "format = \"csv\"",
            "columns" => "[population.columns] with identifiers and password",
            "identifiers" => "identifiers = { numero_allocataire = \"num_alloc\" }",
            "password" => "password = \"mot_de_passe\"",
            "watch" => "watch = { email = \"courriel\" }",
            "column" => "watch = { rib = { column = \"IBAN\", kind = \"iban\" } }",
            "kind" => "kind = \"iban\" (one of \"nir\", \"iban\", \"phone_fr\", \"email\", \"text\")",
            "household" => "household = \"foyer\"",
            "steps" if in_section("logout") => "a [[logout.steps]] table with method and path",
            "steps" => "a [[login_flow.steps]] table with method and path",
            "method" => "method = \"POST\"",
            "path" if in_section("phase") => "path = \"/admin/switch\"",
            "path" => "path = \"/mon-compte\"",
            "headers" => "headers = { \"X-Admin-Token\" = \"secret\" }",
            "form" => "form = { numero_allocataire = \"{{numero_allocataire}}\", mot_de_passe = \"{{password}}\" }",
            "json" => "json = { login = \"{{email}}\", password = \"{{password}}\" }",
            "extract" => "extract = [{ name = \"csrf\", from = \"body\", regex = 'name=\"csrf\" value=\"([^\"]+)\"' }]",
            "from" => "from = \"body\"",
            "regex" => "regex = 'name=\"csrf\" value=\"([^\"]+)\"'",
            "json_pointer" => "json_pointer = \"/token\"",
            "success" => "success = { landing_path = \"/mon-compte\" }",
            "status" => "status = 200",
            "landing_path" => "landing_path = \"/mon-compte\"",
            "body_contains" => "body_contains = \"Déconnexion\"",
            "must_show" => "must_show = [\"numero_allocataire\"]",
            "session" => "session = { cookie = \"session_id\" }",
            "cookie" => "cookie = \"session_id\"",
            "bearer" => "bearer = { json_pointer = \"/token\" }",
            "header" => "header = \"Authorization\"",
            "prefix" => "prefix = \"Bearer \"",
            "on_expired" => "on_expired = \"login_again\"",
            "expired_when" => "expired_when = { status = [401], landing_path = \"/connexion\" }",
            "json_equals" => "json_equals = [{ pointer = \"/numero_allocataire\", field = \"numero_allocataire\" }]",
            "flows" => "flows = [\"session\"]",
            "pointer" => "pointer = \"/numero_allocataire\"",
            "field" => "field = \"numero_allocataire\"",
            "values" => "values = [\"spare_iban\", \"iban\"]",
            "then_read" => "then_read = [\"/mon-compte\"]",
            "duration" => "duration = \"30s\"",
            "users" => "users = 50",
            "login_flows" => "login_flows = { legacy = 0.5, nir = 0.5 }",
            "at_start" => "a [[phase.at_start]] table with method and path",
            "expect_status" => "expect_status = 200",
            "password_changes" => "a [phase.password_changes] table with share, method, path, form and success",
            "share" => "share = 0.3",
            "increase_rate" => "increase_rate = 10",
            "think_time" => "think_time = \"0ms..200ms\"",
            "max_requests_per_second" => "max_requests_per_second = 200",
            "crowd" => "crowd = { size = 32, step = \"login\" }",
            "step" => "step = \"login\"",
            "max_wait" => "max_wait = \"100ms\"",
            "cancel_share" => "cancel_share = 0.05",
            "cancel_after" => "cancel_after = \"5ms\"",
            "observers" => "observers = 2",
            "cache_probes" => "cache_probes = true",
            "session_replay" => "session_replay = true",
            "replay" => "replay = { share = 0.05, as = [\"other_user\", \"anonymous\"] }",
            "as" => "as = [\"other_user\", \"anonymous\"]",
            "max_error_rate" => "max_error_rate = 0.01",
            "latency" => "latency = [\"p95 < 500ms\"]",
            "fail_on_cache_warnings" => "fail_on_cache_warnings = true",
            "css" => "css = 'input[name=\"_csrf\"]'",
            "attribute" => "attribute = \"value\"",
            _ => return None,
        }
        .to_owned(),
    )
}
