//! The population export a recording is matched against: crossleak's own file (its variables) or
//! any CSV / JSON Lines export (its columns), with which values could be watched. Reads files only.

use super::compare;
use super::error::HarError;
use crate::population::{
    beneficiary_value, export_columns, read_records, FileFormat, Population, BENEFICIARY_VARIABLES,
};
use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};

/// One column (or crossleak variable) of the export.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The template variable the scenario will use.
    pub variable: String,
    /// The export's header; the variable itself for crossleak's own files.
    pub column: String,
    /// Every value present is unique across owners and long enough: it could be watched.
    pub unique: bool,
    /// Every owner has a value: it could be an identifier.
    pub complete: bool,
    /// crossleak's own files: the oracle field it shows as (`nir13` as `nir`, `spare_iban` as
    /// `written_iban`); `None` for a value that is not watched (the password).
    pub shown_as: Option<String>,
}

/// The export, read.
#[derive(Clone, Debug)]
pub struct Export {
    pub path: PathBuf,
    pub format: FileFormat,
    /// crossleak's own format: variables and mapping are built in.
    pub own_format: bool,
    pub columns: Vec<Column>,
    /// `values[owner][column]`, trimmed; `None` for an empty cell.
    pub values: Vec<Vec<Option<String>>>,
    /// 1-based line of each owner.
    pub lines: Vec<u64>,
}

impl Export {
    /// Reads `path`; `format` defaults from the extension (`.csv`, else JSON Lines).
    pub fn read(path: &Path, format: Option<FileFormat>) -> Result<Export, HarError> {
        let format = format.unwrap_or_else(|| {
            if path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
            {
                FileFormat::Csv
            } else {
                FileFormat::Jsonl
            }
        });
        let error = |message: String, help: &str| HarError::Population {
            file: path.display().to_string(),
            message,
            help: help.to_owned(),
        };
        let file = File::open(path).map_err(|e| {
            error(
                format!("cannot open the population export ({e})"),
                "give --population the staging export the recorded user is in",
            )
        })?;
        let own = match format {
            FileFormat::Csv => Population::read_csv(file),
            FileFormat::Jsonl => Population::read_jsonl(file),
        };
        let export = match own {
            Ok(population) => Export::own(path, format, &population),
            Err(_) => {
                let records = read_records(path, format)
                    .map_err(|e| error(e.to_string(), "fix the export, or pass --format"))?;
                let mut header = export_columns(path, format).unwrap_or_default();
                for record in &records {
                    let mut names: Vec<&String> = record.cells.keys().collect();
                    names.sort();
                    for name in names {
                        if !header.contains(name) {
                            header.push(name.clone());
                        }
                    }
                }
                let values = records
                    .iter()
                    .map(|r| {
                        header
                            .iter()
                            .map(|h| r.cells.get(h).filter(|v| !v.is_empty()).cloned())
                            .collect()
                    })
                    .collect();
                let columns = header
                    .iter()
                    .map(|h| Column {
                        variable: variable_name(h),
                        column: h.clone(),
                        unique: false,
                        complete: false,
                        shown_as: None,
                    })
                    .collect();
                Export {
                    path: path.to_owned(),
                    format,
                    own_format: false,
                    columns,
                    values,
                    lines: records.iter().map(|r| r.line).collect(),
                }
            }
        };
        if export.values.is_empty() {
            return Err(error(
                "the export has no owners".into(),
                "give the export the recorded user is in",
            ));
        }
        Ok(export.with_column_facts())
    }

    fn own(path: &Path, format: FileFormat, population: &Population) -> Export {
        // The watched variables (each with the oracle field it shows as), then the password.
        let variables: Vec<(&str, Option<&str>)> = BENEFICIARY_VARIABLES
            .iter()
            .filter(|(name, field)| {
                (field.is_some() && *name != "written_iban") || *name == "password"
            })
            .copied()
            .collect();
        Export {
            path: path.to_owned(),
            format,
            own_format: true,
            columns: variables
                .iter()
                .map(|(name, shown)| Column {
                    variable: (*name).to_owned(),
                    column: (*name).to_owned(),
                    unique: false,
                    complete: false,
                    shown_as: shown.map(str::to_owned),
                })
                .collect(),
            values: population
                .beneficiaries
                .iter()
                .map(|b| {
                    variables
                        .iter()
                        .map(|(name, _)| beneficiary_value(b, name))
                        .collect()
                })
                .collect(),
            lines: (1..=population.len() as u64).collect(),
        }
    }

    fn with_column_facts(mut self) -> Export {
        for (index, column) in self.columns.iter_mut().enumerate() {
            let mut seen: HashMap<String, usize> = HashMap::new();
            let mut unique = true;
            let mut complete = true;
            for owner in &self.values {
                match &owner[index] {
                    Some(value) => {
                        let key = value.to_ascii_lowercase();
                        if !compare::attributable(value) {
                            unique = false;
                        }
                        *seen.entry(key).or_default() += 1;
                    }
                    None => complete = false,
                }
            }
            if seen.values().any(|n| *n > 1) {
                unique = false;
            }
            column.unique = unique;
            column.complete = complete;
        }
        self
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// The owner's value of column `index`.
    pub fn value(&self, owner: usize, index: usize) -> Option<&str> {
        self.values.get(owner)?.get(index)?.as_deref()
    }

    pub fn column_named(&self, variable: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.variable == variable)
    }

    /// The file name as the scenario should write it, from the folder the scenario goes to.
    pub fn path_from(&self, scenario_dir: &Path) -> String {
        relative(&self.path, scenario_dir)
    }
}

/// A column header as a template variable: lowercase letters, digits and `_`, not reserved.
pub fn variable_name(column: &str) -> String {
    let mut name: String = column
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    name = name.trim_matches('_').to_owned();
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        name = format!("col_{name}");
    }
    if ["password", "new_password", "value", "household"].contains(&name.as_str()) {
        name.push_str("_column");
    }
    name
}

/// `target` relative to `from` when both resolve, else `target` as given.
fn relative(target: &Path, from: &Path) -> String {
    let (Ok(target_abs), Ok(from_abs)) = (target.canonicalize(), from.canonicalize()) else {
        return target.display().to_string();
    };
    let t: Vec<_> = target_abs.components().collect();
    let f: Vec<_> = from_abs.components().collect();
    let common = t.iter().zip(&f).take_while(|(a, b)| a == b).count();
    if common == 0 {
        return target_abs.display().to_string();
    }
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for part in &t[common..] {
        out.push(part);
    }
    out.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_staging_csv_gives_its_columns_with_what_each_could_be() {
        let mut file = tempfile::Builder::new().suffix(".csv").tempfile().unwrap();
        file.write_all(b"num_client,Mot de passe,courriel,foyer\nC-2000001,pw-1,a@x.test,F1\nC-2000002,pw-1,b@x.test,F1\nC-2000003,pw-3,,\n")
            .unwrap();
        let export = Export::read(file.path(), None).unwrap();
        assert!(!export.own_format);
        let names: Vec<&str> = export.columns.iter().map(|c| c.variable.as_str()).collect();
        assert_eq!(names, ["num_client", "mot_de_passe", "courriel", "foyer"]);
        let facts: Vec<(bool, bool)> = export
            .columns
            .iter()
            .map(|c| (c.unique, c.complete))
            .collect();
        assert_eq!(
            facts,
            [(true, true), (false, true), (true, false), (false, false)]
        );
        assert_eq!(export.value(1, 2), Some("b@x.test"));
        assert_eq!(export.value(2, 2), None);
        assert_eq!(export.lines, [2, 3, 4]);
    }

    #[test]
    fn crossleak_s_own_export_offers_its_variables() {
        let population = Population::generate(&crate::population::GenerateOptions {
            size: 3,
            seed: 1,
            ..Default::default()
        })
        .unwrap();
        let mut file = tempfile::Builder::new()
            .suffix(".jsonl")
            .tempfile()
            .unwrap();
        population.write_jsonl(&mut file).unwrap();
        let export = Export::read(file.path(), None).unwrap();
        assert!(export.own_format);
        let nir13 = export.column_named("nir13").unwrap();
        assert_eq!(export.columns[nir13].shown_as.as_deref(), Some("nir"));
        assert_eq!(export.value(0, nir13).unwrap().len(), 13);
        let password = export.column_named("password").unwrap();
        assert_eq!(export.columns[password].shown_as, None);
        assert!(export.columns[export.column_named("iban").unwrap()].unique);
    }

    #[test]
    fn headers_become_variable_names_that_are_not_reserved() {
        assert_eq!(variable_name("N° Dossier"), "n__dossier");
        assert_eq!(variable_name("password"), "password_column");
        assert_eq!(variable_name("2fa"), "col_2fa");
    }
}
