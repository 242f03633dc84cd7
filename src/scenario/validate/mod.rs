//! From the raw file to the typed [`Scenario`]: parse the TOML once, deserialise each section on
//! its own (so every broken section reports), then check meaning. Collects every problem it can.
//!
//! One file per section of the scenario (`target`, `population`, `columns`, `load`, `thresholds`,
//! `login`, `logout`, `pages`, `phases`), the requests and templates they share (`requests`,
//! `extraction`, `vocabulary`, `values`), and how serde's errors are worded (`wording`).

mod columns;
mod extraction;
mod load;
mod login;
mod logout;
mod pages;
mod phases;
mod population;
mod requests;
mod sections;
mod target;
mod thresholds;
mod values;
mod vocabulary;
mod wording;

pub(crate) use vocabulary::Vocabulary;
use wording::article;
#[cfg(test)]
pub(super) use wording::example;

use super::error::{ErrorKind, Lines, ScenarioError, ScenarioErrors};
use super::model::*;
use super::raw::*;
use crate::population::PopulationSource;
use std::ops::Range;
use std::path::{Path, PathBuf};
use toml::de::DeTable;
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
        self.version(version);
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

    /// `version = 1`, the only scenario version so far.
    fn version(&mut self, raw: Option<Spanned<VersionValue>>) {
        match raw {
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
    }
}
