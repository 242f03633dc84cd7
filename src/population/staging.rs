//! A staging export in the portal's own shape — any CSV or JSON Lines columns, mapped by the
//! scenario's `[population.columns]` — read into owners the oracle can watch. Reads files only.

use super::OwnerId;
use crate::oracle::{mask, ValueKind};
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

/// Why an export cannot be read; `crate::scenario` shows it like any other scenario error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The whole file (unreadable, empty).
    #[error("{file}: {message}; {help}")]
    File {
        file: String,
        message: String,
        help: String,
    },
    /// One record of it, by its 1-based line.
    #[error("{file}:{line}:1: {message}; {help}")]
    Record {
        file: String,
        line: u64,
        message: String,
        help: String,
    },
}

impl ExportError {
    /// The 1-based line, when the error is about one record.
    pub fn line(&self) -> Option<u64> {
        match self {
            ExportError::File { .. } => None,
            ExportError::Record { line, .. } => Some(*line),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Csv,
    Jsonl,
}

/// Which columns of a staging export mean what. Each entry is `(variable, column)`: the variable
/// is the name templates, `must_show` and reports use; the column is the export's header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnMap {
    /// Values a login form sends (numéro, e-mail, NIR…); also watched in every response.
    pub identifiers: Vec<(String, String)>,
    /// The column holding the password (the `{{password}}` variable).
    pub password: String,
    /// Further identifying values to watch for (phone, IBAN…); the variable is the field name.
    pub watch: Vec<(String, String)>,
    /// Owners with the same value here share a household and may see each other's data.
    pub household: Option<String>,
    /// The kinds declared (`{ column = "…", kind = "iban" }`), by variable; the others are
    /// inferred from the column's values when the export is read.
    pub kinds: Vec<(String, ValueKind)>,
}

impl ColumnMap {
    /// Every `(role, variable, column)`, identifiers first.
    pub(crate) fn all(&self) -> Vec<(&'static str, &str, &str)> {
        let mut out: Vec<(&'static str, &str, &str)> = Vec::new();
        for (variable, column) in &self.identifiers {
            out.push(("identifiers", variable, column));
        }
        out.push(("password", "password", &self.password));
        for (variable, column) in &self.watch {
            out.push(("watch", variable, column));
        }
        if let Some(column) = &self.household {
            out.push(("household", "household", column));
        }
        out
    }
}

/// Owners of a portal crossleak does not know: credentials, the identifying values to watch for,
/// and households. What the oracle (`OracleBuilder::field/add/household`) and the runner need.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchedPopulation {
    /// Watched variable names, identifiers first: the oracle's field names.
    pub fields: Vec<String>,
    /// Each field's kind, in the order of `fields`.
    pub kinds: Vec<ColumnKind>,
    /// Ids are positions, `0..len`.
    pub owners: Vec<Owner>,
}

/// A watched column's kind, and whether the scenario declared it or crossleak inferred it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ColumnKind {
    pub kind: ValueKind,
    pub inferred: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    pub id: OwnerId,
    /// The id of the household's first owner (the owner's own id when alone).
    pub household: OwnerId,
    pub password: String,
    /// `(variable, value)` for every identifier and watched column with a value.
    pub values: Vec<(String, String)>,
    /// 1-based line of the export the owner came from.
    pub line: u64,
}

impl Owner {
    /// The owner's value of `variable` (`password` included).
    pub fn value(&self, variable: &str) -> Option<&str> {
        if variable == "password" {
            return Some(&self.password);
        }
        self.values
            .iter()
            .find(|(name, _)| name == variable)
            .map(|(_, v)| v.as_str())
    }
}

impl WatchedPopulation {
    pub fn len(&self) -> usize {
        self.owners.len()
    }

    pub fn is_empty(&self) -> bool {
        self.owners.is_empty()
    }

    pub fn get(&self, id: OwnerId) -> Option<&Owner> {
        self.owners.get(id as usize)
    }
}

pub(super) fn open(path: &Path) -> Result<File, ExportError> {
    File::open(path).map_err(|e| ExportError::File {
        file: path.display().to_string(),
        message: format!("cannot open the population file: {e}"),
        help: "check population.file (relative paths start at the scenario's folder)".into(),
    })
}

fn export_error(path: &Path, line: u64, message: String, help: &str) -> ExportError {
    ExportError::Record {
        file: path.display().to_string(),
        line,
        message,
        help: help.to_owned(),
    }
}

/// The column names of an export: the CSV header, or the keys of the first JSON line.
pub(crate) fn export_columns(path: &Path, format: FileFormat) -> Result<Vec<String>, String> {
    let file = File::open(path).map_err(|e| e.to_string())?;
    match format {
        FileFormat::Csv => {
            let mut reader = csv::Reader::from_reader(file);
            let headers = reader.headers().map_err(|e| e.to_string())?;
            Ok(headers.iter().map(|h| h.trim().to_owned()).collect())
        }
        FileFormat::Jsonl => {
            for line in BufReader::new(file).lines() {
                let line = line.map_err(|e| e.to_string())?;
                if line.trim().is_empty() {
                    continue;
                }
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&line)
                        .map_err(|e| format!("line 1 is not a JSON object: {e}"))?;
                return Ok(object.keys().cloned().collect());
            }
            Err("the file is empty".into())
        }
    }
}

/// One record of an export: its line and a column lookup.
pub(crate) struct Record {
    pub(crate) line: u64,
    pub(crate) cells: HashMap<String, String>,
}

/// Every record of an export, cells trimmed; errors name the file and line.
pub(crate) fn read_records(path: &Path, format: FileFormat) -> Result<Vec<Record>, ExportError> {
    let file = open(path)?;
    let mut records = Vec::new();
    match format {
        FileFormat::Csv => {
            let mut reader = csv::Reader::from_reader(file);
            let headers: Vec<String> = reader
                .headers()
                .map_err(|e| {
                    export_error(
                        path,
                        1,
                        format!("unreadable CSV header: {e}"),
                        "the first line must name the columns",
                    )
                })?
                .iter()
                .map(|h| h.trim().to_owned())
                .collect();
            for record in reader.records() {
                let record = record.map_err(|e| {
                    let line = e.position().map_or(0, |p| p.line());
                    export_error(
                        path,
                        line,
                        format!("malformed CSV record: {e}"),
                        "every record needs as many fields as the header",
                    )
                })?;
                let line = record.position().map_or(0, |p| p.line());
                let cells = headers
                    .iter()
                    .cloned()
                    .zip(record.iter().map(|c| c.trim().to_owned()))
                    .collect();
                records.push(Record { line, cells });
            }
        }
        FileFormat::Jsonl => {
            for (index, line) in BufReader::new(file).lines().enumerate() {
                let number = index as u64 + 1;
                let line = line.map_err(|e| {
                    export_error(
                        path,
                        number,
                        format!("unreadable line: {e}"),
                        "the file must be UTF-8 JSON Lines",
                    )
                })?;
                if line.trim().is_empty() {
                    continue;
                }
                let object: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&line).map_err(|e| {
                        export_error(
                            path,
                            number,
                            format!("not a JSON object: {e}"),
                            "write one JSON object per line",
                        )
                    })?;
                let cells = object
                    .into_iter()
                    .filter_map(|(k, v)| match v {
                        serde_json::Value::String(s) => Some((k, s.trim().to_owned())),
                        serde_json::Value::Number(n) => Some((k, n.to_string())),
                        _ => None,
                    })
                    .collect();
                records.push(Record {
                    line: number,
                    cells,
                });
            }
        }
    }
    Ok(records)
}

/// The owners of a staging export, read through `columns`: every identifier present, every
/// value valid for its column's kind, no identifying value shared by two owners.
pub fn read_mapped(
    path: &Path,
    format: FileFormat,
    columns: &ColumnMap,
) -> Result<WatchedPopulation, ExportError> {
    let records = read_records(path, format)?;
    if records.is_empty() {
        return Err(ExportError::File {
            file: path.display().to_string(),
            message: "the population file has no owners".into(),
            help: "give a file with at least one record".into(),
        });
    }
    let watched: Vec<&(String, String)> =
        columns.identifiers.iter().chain(&columns.watch).collect();
    let kinds = column_kinds(&records, &watched, columns);
    let mut owners = Vec::with_capacity(records.len());
    let mut seen: HashMap<String, (u64, String)> = HashMap::new();
    let mut households: HashMap<String, OwnerId> = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        let id = index as OwnerId;
        let mut values = Vec::with_capacity(watched.len());
        for ((variable, column), kind) in watched.iter().zip(&kinds) {
            let required = columns.identifiers.iter().any(|(v, _)| v == variable);
            let Some(value) = record.cell(path, column)? else {
                if required {
                    return Err(export_error(
                        path,
                        record.line,
                        format!("column {column:?} (identifier {variable:?}) is empty"),
                        "every owner needs a value for each identifier column",
                    ));
                }
                continue;
            };
            unique_value(
                path,
                record,
                (variable, column),
                value,
                kind.kind,
                &mut seen,
            )?;
            values.push((variable.clone(), value.to_owned()));
        }
        let Some(password) = record.cell(path, &columns.password)? else {
            return Err(export_error(
                path,
                record.line,
                format!("password column {:?} is empty", columns.password),
                "every owner needs a password to log in with",
            ));
        };
        let household = match &columns.household {
            Some(column) => match record.cell(path, column)? {
                Some(key) => *households.entry(key.to_owned()).or_insert(id),
                None => id,
            },
            None => id,
        };
        owners.push(Owner {
            id,
            household,
            password: password.to_owned(),
            values,
            line: record.line,
        });
    }
    Ok(WatchedPopulation {
        fields: watched.iter().map(|(v, _)| v.clone()).collect(),
        kinds,
        owners,
    })
}

/// Each watched column's kind: declared in `columns.kinds`, or inferred from its values.
fn column_kinds(
    records: &[Record],
    watched: &[&(String, String)],
    columns: &ColumnMap,
) -> Vec<ColumnKind> {
    watched
        .iter()
        .map(
            |(variable, column)| match columns.kinds.iter().find(|(v, _)| v == variable) {
                Some(&(_, kind)) => ColumnKind {
                    kind,
                    inferred: false,
                },
                None => ColumnKind {
                    kind: ValueKind::infer(
                        records
                            .iter()
                            .filter_map(|r| r.cells.get(column.as_str()))
                            .map(String::as_str)
                            .filter(|v| !v.is_empty()),
                    ),
                    inferred: true,
                },
            },
        )
        .collect()
}

/// Checks that `value` (of `variable`, in `column`) is valid for `kind` and that no other
/// record holds it; `seen` maps each canonical value to the line and variable that hold it.
fn unique_value(
    path: &Path,
    record: &Record,
    (variable, column): (&str, &str),
    value: &str,
    kind: ValueKind,
    seen: &mut HashMap<String, (u64, String)>,
) -> Result<(), ExportError> {
    let Some(forms) = kind.canonical(value) else {
        return Err(export_error(
            path,
            record.line,
            format!(
                "column {column:?} ({variable:?}, kind {kind}) holds {}, which is not a valid {kind} value",
                mask(value),
            ),
            "fix the value, or declare the column kind = \"text\" to match it exactly as written",
        ));
    };
    // Two presentations of one value are one value: compare canonical forms.
    let key = forms
        .last()
        .map_or(value, String::as_str)
        .to_ascii_lowercase();
    if let Some((line, other)) = seen.get(&key) {
        if *line != record.line {
            return Err(export_error(
                path,
                record.line,
                format!("this record's {variable:?} is the same value as line {line}'s {other:?}"),
                "identifying values must be unique across owners, or a sighting could not be attributed",
            ));
        }
    }
    seen.insert(key, (record.line, variable.to_owned()));
    Ok(())
}

impl Record {
    /// The record's value in `column`; `None` when empty, an error when the column is absent.
    fn cell(&self, path: &Path, column: &str) -> Result<Option<&str>, ExportError> {
        match self.cells.get(column) {
            Some(value) if value.is_empty() => Ok(None),
            Some(value) => Ok(Some(value)),
            None => Err(export_error(
                path,
                self.line,
                format!("no column {column:?} in this record"),
                "every record needs every mapped column",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::{LoadedPopulation, Owners};
    use std::io::Write;

    fn columns() -> ColumnMap {
        ColumnMap {
            identifiers: vec![("login".into(), "identifiant".into())],
            password: "mdp".into(),
            watch: vec![("email".into(), "courriel".into())],
            household: Some("foyer".into()),
            kinds: Vec::new(),
        }
    }

    fn export(text: &str) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        file
    }

    #[test]
    fn a_mapped_csv_reads_owners_values_and_households() {
        let file = export("identifiant,mdp,courriel,foyer\nAB-10001,pw1,a@x.test,F1\nAB-10002,pw2,b@x.test,F1\nAB-10003,pw3,,\n");
        let population = read_mapped(file.path(), FileFormat::Csv, &columns()).unwrap();
        assert_eq!(population.fields, ["login", "email"]);
        assert_eq!(population.len(), 3);
        assert_eq!(population.owners[1].household, 0);
        assert_eq!(population.owners[2].household, 2);
        assert_eq!(population.owners[1].value("email"), Some("b@x.test"));
        assert_eq!(population.owners[2].value("email"), None);
        assert_eq!(population.owners[0].value("password"), Some("pw1"));
        assert_eq!(population.owners[2].line, 4);
    }

    #[test]
    fn a_mapped_jsonl_reads_numbers_as_text() {
        let file = export("{\"identifiant\": 100042, \"mdp\": \"pw\", \"courriel\": \"a@x.test\", \"foyer\": \"\"}\n\n{\"identifiant\": 100043, \"mdp\": \"pw\", \"courriel\": \"b@x.test\"}\n");
        let mut map = columns();
        map.household = None;
        let population = read_mapped(file.path(), FileFormat::Jsonl, &map).unwrap();
        assert_eq!(population.owners[1].value("login"), Some("100043"));
        assert_eq!(population.owners[1].line, 3);
    }

    #[test]
    fn duplicate_values_name_both_lines() {
        let file = export(
            "identifiant,mdp,courriel,foyer\nAB-10001,pw1,a@x.test,\nAB-10002,pw2,A@X.test,\n",
        );
        let error = read_mapped(file.path(), FileFormat::Csv, &columns()).unwrap_err();
        let message = error.to_string();
        assert_eq!(error.line(), Some(3));
        assert!(message.contains("line 2"), "{message}");
    }

    #[test]
    fn empty_identifiers_are_refused_and_the_header_is_read() {
        let file = export("identifiant,mdp,courriel,foyer\n,pw1,a@x.test,\n");
        let error = read_mapped(file.path(), FileFormat::Csv, &columns()).unwrap_err();
        assert!(error.to_string().contains("is empty"), "{error}");
        let header = export_columns(file.path(), FileFormat::Csv).unwrap();
        assert_eq!(header, ["identifiant", "mdp", "courriel", "foyer"]);
    }

    #[test]
    fn mapped_owners_answer_like_beneficiaries() {
        let file = export("identifiant,mdp,courriel,foyer\nAB-10001,pw1,a@x.test,F1\nAB-10002,pw2,b@x.test,F1\nAB-10003,pw3,,\n");
        let owners = LoadedPopulation::Watched(
            read_mapped(file.path(), FileFormat::Csv, &columns()).unwrap(),
        );
        assert_eq!(owners.len(), 3);
        assert_eq!(owners.value(1, "login").as_deref(), Some("AB-10002"));
        assert_eq!(owners.value(1, "password").as_deref(), Some("pw2"));
        assert_eq!(owners.value(1, "nope"), None);
        assert_eq!(owners.reference(2), Some("AB-10003"));
        assert_eq!(
            [
                owners.household(0),
                owners.household(1),
                owners.household(2)
            ],
            [0, 0, 2]
        );
        let watched: Vec<(&str, String)> = owners
            .watched(0)
            .into_iter()
            .map(|(f, v)| (f, v.into_owned()))
            .collect();
        assert_eq!(
            watched,
            [
                ("login", "AB-10001".to_owned()),
                ("email", "a@x.test".to_owned())
            ]
        );
        assert_eq!(owners.watched(2).len(), 1, "an empty cell is not watched");
        let written = owners.written_fields(&["email".to_owned()]);
        assert_eq!(written.cross_write, ["email"]);
        assert!(owners.beneficiaries().is_none());
    }
}
