//! The scenario's `[population]`: where its owners come from and which `{{variables}}` they offer
//! to templates. Reading them is `crate::population`'s job; this only names the source.

use super::error::{suggestion, ErrorKind, ScenarioError};
use crate::population::{
    read_mapped, ColumnMap, ExportError, FileFormat, GenerateOptions, LoadedPopulation, Population,
    BENEFICIARY_VARIABLES,
};
use std::path::PathBuf;

/// The population of a scenario.
#[derive(Clone, Debug, PartialEq)]
pub enum PopulationSource {
    /// Synthetic beneficiaries, deterministic from the seed.
    Generated(GenerateOptions),
    /// A file in crossleak's own format (`Population::write_csv` / `write_jsonl`).
    Export { path: PathBuf, format: FileFormat },
    /// A staging export in the portal's own shape, read through a column mapping.
    Mapped {
        path: PathBuf,
        format: FileFormat,
        columns: ColumnMap,
    },
}

/// One `{{variable}}` a population offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// The oracle field the value is watched under, if it is an identifying value.
    pub field: Option<String>,
}

/// Names a template may use that no population column may take.
pub(crate) const RESERVED: [&str; 4] = ["password", "new_password", "value", "household"];

impl PopulationSource {
    /// The variables this population offers to templates, in a stable order.
    pub fn variables(&self) -> Vec<Variable> {
        match self {
            PopulationSource::Generated(_) | PopulationSource::Export { .. } => {
                BENEFICIARY_VARIABLES
                    .iter()
                    .map(|(name, field)| Variable {
                        name: (*name).to_owned(),
                        field: field.map(str::to_owned),
                    })
                    .collect()
            }
            PopulationSource::Mapped { columns, .. } => {
                let watched = columns.identifiers.iter().chain(&columns.watch);
                let mut out: Vec<Variable> = watched
                    .map(|(name, _)| Variable {
                        name: name.clone(),
                        field: Some(name.clone()),
                    })
                    .collect();
                out.push(Variable {
                    name: "password".into(),
                    field: None,
                });
                out
            }
        }
    }

    /// The variables the oracle watches under their own name (`numero_allocataire`, a mapped
    /// `email_login`…): the ones a replay as another owner templates with that owner's values.
    pub fn watched_variables(&self) -> Vec<String> {
        self.variables()
            .into_iter()
            .filter(|v| v.field.as_deref() == Some(v.name.as_str()))
            .map(|v| v.name)
            .collect()
    }

    /// Reads (or generates) the beneficiaries. Errors name the export's file and line.
    pub fn read(&self) -> Result<LoadedPopulation, ScenarioError> {
        match self {
            PopulationSource::Generated(options) => Population::generate(options)
                .map(LoadedPopulation::Beneficiaries)
                .map_err(|e| ScenarioError::File {
                    file: "[population.generate]".into(),
                    message: e.to_string(),
                    help: "fix the generate options".into(),
                }),
            PopulationSource::Export { path, format } => {
                let file = std::fs::File::open(path).map_err(|e| ScenarioError::File {
                    file: path.display().to_string(),
                    message: format!("cannot open the population file: {e}"),
                    help: "check population.file (relative paths start at the scenario's folder)"
                        .into(),
                })?;
                let read = match format {
                    FileFormat::Csv => Population::read_csv(file),
                    FileFormat::Jsonl => Population::read_jsonl(file),
                };
                read.map(LoadedPopulation::Beneficiaries)
                    .map_err(|e| ScenarioError::File {
                        file: path.display().to_string(),
                        message: e.to_string(),
                        help: "this file must be in crossleak's own format; for another shape use format = \"csv\" or \"jsonl\" with [population.columns]".into(),
                    })
            }
            PopulationSource::Mapped {
                path,
                format,
                columns,
            } => read_mapped(path, *format, columns)
                .map(LoadedPopulation::Watched)
                .map_err(ScenarioError::from),
        }
    }
}

/// `Some(help)` when `column` is not among `header`.
pub(crate) fn missing_column(column: &str, header: &[String]) -> Option<String> {
    if header.iter().any(|h| h == column) {
        return None;
    }
    Some(suggestion(column, header.iter().map(String::as_str)))
}

/// An export's error, shown as the scenario's (a record's line is a located `population` error).
impl From<ExportError> for ScenarioError {
    fn from(error: ExportError) -> Self {
        match error {
            ExportError::File {
                file,
                message,
                help,
            } => ScenarioError::File {
                file,
                message,
                help,
            },
            ExportError::Record {
                file,
                line,
                message,
                help,
            } => ScenarioError::Invalid {
                file,
                line: line as usize,
                column: 1,
                kind: ErrorKind::Population,
                message,
                help,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_column_suggests_the_closest_header() {
        let header = ["identifiant", "mdp", "courriel"].map(String::from);
        assert_eq!(missing_column("courriel", &header), None);
        assert_eq!(
            missing_column("courriels", &header).as_deref(),
            Some("did you mean \"courriel\"?")
        );
    }

    #[test]
    fn an_export_record_error_reads_as_a_located_population_error() {
        let error = ScenarioError::from(ExportError::Record {
            file: "staging.csv".into(),
            line: 3,
            message: "no column \"mdp\" in this record".into(),
            help: "every record needs every mapped column".into(),
        });
        assert_eq!(error.kind(), ErrorKind::Population);
        assert_eq!(error.line(), Some(3));
        assert_eq!(
            error.to_string(),
            "staging.csv:3:1: no column \"mdp\" in this record; every record needs every mapped column"
        );
    }
}
