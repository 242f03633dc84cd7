//! Where a run's owners come from — generated, crossleak's own export, or a staging export
//! mapped by columns — and reading them into a [`LoadedPopulation`]. Reads files only.

use super::staging::{open, read_mapped, ColumnMap, ExportError, FileFormat};
use super::{GenerateOptions, LoadedPopulation, Population};
use std::path::PathBuf;

/// The population of a scenario (`[population]`).
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

impl PopulationSource {
    /// Reads (or generates) the owners. Errors name the export's file and line.
    pub fn read(&self) -> Result<LoadedPopulation, ExportError> {
        match self {
            PopulationSource::Generated(options) => Population::generate(options)
                .map(LoadedPopulation::Beneficiaries)
                .map_err(|e| ExportError::File {
                    file: "[population.generate]".into(),
                    message: e.to_string(),
                    help: "fix the generate options".into(),
                }),
            PopulationSource::Export { path, format } => {
                let file = open(path)?;
                let read = match format {
                    FileFormat::Csv => Population::read_csv(file),
                    FileFormat::Jsonl => Population::read_jsonl(file),
                };
                read.map(LoadedPopulation::Beneficiaries)
                    .map_err(|e| ExportError::File {
                        file: path.display().to_string(),
                        message: e.to_string(),
                        help: "this file must be in crossleak's own format; for another shape use format = \"csv\" or \"jsonl\" with [population.columns]".into(),
                    })
            }
            PopulationSource::Mapped {
                path,
                format,
                columns,
            } => read_mapped(path, *format, columns).map(LoadedPopulation::Watched),
        }
    }
}
