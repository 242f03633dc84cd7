//! Where a scenario's beneficiaries come from, which `{{variables}}` they offer to templates, and a
//! reader for a staging export in the portal's own shape (any columns, mapped by the scenario).

use super::error::{suggestion, ErrorKind, ScenarioError};
use crate::oracle::{mask, ValueKind};
use crate::population::{Beneficiary, Field, GenerateOptions, OwnerId, Population};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

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

/// One `{{variable}}` a population offers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    /// The oracle field the value is watched under, if it is an identifying value.
    pub field: Option<String>,
}

/// The variables of a crossleak beneficiary, and the oracle field each is watched under.
pub const BENEFICIARY_VARIABLES: [(&str, Option<&str>); 14] = [
    ("numero_allocataire", Some("numero_allocataire")),
    ("nir", Some("nir")),
    ("nir13", Some("nir")),
    ("first_name", None),
    ("last_name", None),
    ("street", None),
    ("postcode", None),
    ("city", None),
    ("phone", Some("phone")),
    ("email", Some("email")),
    ("iban", Some("iban")),
    ("spare_iban", Some("written_iban")),
    ("written_iban", Some("written_iban")),
    ("password", None),
];

/// Names a template may use that no population column may take.
pub(crate) const RESERVED: [&str; 4] = ["password", "new_password", "value", "household"];

/// A beneficiary's value of `variable` (see [`BENEFICIARY_VARIABLES`]); `password` is the one on
/// file, which a run may have changed since.
pub fn beneficiary_value(b: &Beneficiary, variable: &str) -> Option<String> {
    Some(match variable {
        "numero_allocataire" => b.numero_allocataire.as_str().to_owned(),
        "nir" => b.nir.as_str().to_owned(),
        "nir13" => b.nir.body().as_str().to_owned(),
        "first_name" => b.first_name.clone(),
        "last_name" => b.last_name.clone(),
        "street" => b.street.clone(),
        "postcode" => b.postcode.clone(),
        "city" => b.city.clone(),
        "phone" => b.phone.clone(),
        "email" => b.email.clone(),
        "iban" => b.iban.clone(),
        "spare_iban" | "written_iban" => b.spare_iban.clone(),
        "password" => b.password.clone(),
        _ => return None,
    })
}

/// What a run needs to know of each owner, whatever the population's source: the values its
/// requests send, the values the oracle watches for, its household, how reports name it.
/// crossleak's beneficiaries and a staging export read through `[population.columns]` both
/// answer it, so the load, the oracle's watch list and the checks never depend on either.
pub trait Owners: Send + Sync {
    /// Owners are `0..len`.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The owner's value of a template variable (`numero_allocataire`, a mapped `email_login`,
    /// `password` as on file); `None` for a name the population does not offer.
    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>>;

    /// The account reference reports show (masked by default): the numéro allocataire of a
    /// beneficiary, the first mapped identifier of an exported owner.
    fn reference(&self, owner: OwnerId) -> Option<&str>;

    /// Owners with the same household number may see each other's data.
    fn household(&self, owner: OwnerId) -> u32;

    /// Every identifying value of the owner the oracle watches for, as `(field, value)`.
    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)>;

    /// The kind of a watched field's values, which says in what presentations the oracle finds
    /// them.
    fn kind(&self, field: &str) -> ValueKind;

    /// Which watched fields a run's writes put into files, given the fields the scenario's
    /// `[[write]]` values name: another owner's value of one of these in a user's own file is a
    /// cross-write, and one missing from it right after the write is a lost write.
    fn written_fields(&self, named_by_writes: &[String]) -> WrittenFields {
        WrittenFields {
            cross_write: named_by_writes.to_vec(),
            lost_write: named_by_writes.to_vec(),
        }
    }
}

/// See [`Owners::written_fields`]: oracle field names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WrittenFields {
    pub cross_write: Vec<String>,
    pub lost_write: Vec<String>,
}

impl Owners for Population {
    fn len(&self) -> usize {
        self.beneficiaries.len()
    }

    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>> {
        beneficiary_value(self.get(owner)?, variable).map(Cow::Owned)
    }

    fn reference(&self, owner: OwnerId) -> Option<&str> {
        Some(self.get(owner)?.numero_allocataire.as_str())
    }

    fn household(&self, owner: OwnerId) -> u32 {
        self.get(owner).map_or(owner, |b| b.household)
    }

    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)> {
        self.get(owner).map_or_else(Vec::new, |b| {
            b.watched_values()
                .into_iter()
                .map(|(field, value)| (field.name(), Cow::Owned(value)))
                .collect()
        })
    }

    fn kind(&self, field: &str) -> ValueKind {
        Field::ALL
            .into_iter()
            .find(|f| f.name() == field)
            .map_or(ValueKind::Text, Field::kind)
    }

    /// A beneficiary's writes put its spare IBAN (`written_iban`), which no file holds before,
    /// so only that field makes a cross-write; a write may also put the original IBAN back, so
    /// both may be missing right after one.
    fn written_fields(&self, _named_by_writes: &[String]) -> WrittenFields {
        WrittenFields {
            cross_write: vec![Field::WrittenIban.name().to_owned()],
            lost_write: vec![
                Field::Iban.name().to_owned(),
                Field::WrittenIban.name().to_owned(),
            ],
        }
    }
}

impl Owners for WatchedPopulation {
    fn len(&self) -> usize {
        self.owners.len()
    }

    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>> {
        self.get(owner)?.value(variable).map(Cow::Borrowed)
    }

    fn reference(&self, owner: OwnerId) -> Option<&str> {
        // Identifiers come first and none is empty.
        self.get(owner)?.values.first().map(|(_, v)| v.as_str())
    }

    fn household(&self, owner: OwnerId) -> u32 {
        self.get(owner).map_or(owner, |o| o.household)
    }

    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)> {
        self.get(owner).map_or_else(Vec::new, |o| {
            o.values
                .iter()
                .map(|(field, value)| (field.as_str(), Cow::Borrowed(value.as_str())))
                .collect()
        })
    }

    fn kind(&self, field: &str) -> ValueKind {
        self.fields
            .iter()
            .position(|f| f == field)
            .map_or(ValueKind::Text, |i| self.kinds[i].kind)
    }
}

impl Owners for LoadedPopulation {
    fn len(&self) -> usize {
        self.owners().len()
    }

    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>> {
        self.owners().value(owner, variable)
    }

    fn reference(&self, owner: OwnerId) -> Option<&str> {
        self.owners().reference(owner)
    }

    fn household(&self, owner: OwnerId) -> u32 {
        self.owners().household(owner)
    }

    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)> {
        self.owners().watched(owner)
    }

    fn kind(&self, field: &str) -> ValueKind {
        self.owners().kind(field)
    }

    fn written_fields(&self, named_by_writes: &[String]) -> WrittenFields {
        self.owners().written_fields(named_by_writes)
    }
}

impl LoadedPopulation {
    fn owners(&self) -> &dyn Owners {
        match self {
            LoadedPopulation::Beneficiaries(population) => population,
            LoadedPopulation::Watched(population) => population,
        }
    }

    /// crossleak's own beneficiaries, which the embedded demo portal can serve.
    pub fn beneficiaries(&self) -> Option<&Population> {
        match self {
            LoadedPopulation::Beneficiaries(population) => Some(population),
            LoadedPopulation::Watched(_) => None,
        }
    }
}

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
                let file = open(path)?;
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
            } => read_mapped(path, *format, columns).map(LoadedPopulation::Watched),
        }
    }
}

/// Beneficiaries in crossleak's model, or owners read through a column mapping.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadedPopulation {
    Beneficiaries(Population),
    Watched(WatchedPopulation),
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

fn open(path: &Path) -> Result<File, ScenarioError> {
    File::open(path).map_err(|e| ScenarioError::File {
        file: path.display().to_string(),
        message: format!("cannot open the population file: {e}"),
        help: "check population.file (relative paths start at the scenario's folder)".into(),
    })
}

fn export_error(path: &Path, line: u64, message: String, help: &str) -> ScenarioError {
    ScenarioError::Invalid {
        file: path.display().to_string(),
        line: line as usize,
        column: 1,
        kind: ErrorKind::Population,
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
pub(crate) fn read_records(path: &Path, format: FileFormat) -> Result<Vec<Record>, ScenarioError> {
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

fn read_mapped(
    path: &Path,
    format: FileFormat,
    columns: &ColumnMap,
) -> Result<WatchedPopulation, ScenarioError> {
    let records = read_records(path, format)?;
    if records.is_empty() {
        return Err(ScenarioError::File {
            file: path.display().to_string(),
            message: "the population file has no owners".into(),
            help: "give a file with at least one record".into(),
        });
    }
    let watched: Vec<&(String, String)> =
        columns.identifiers.iter().chain(&columns.watch).collect();
    let kinds: Vec<ColumnKind> = watched
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
        .collect();
    let mut owners = Vec::with_capacity(records.len());
    let mut seen: HashMap<String, (u64, String)> = HashMap::new();
    let mut households: HashMap<String, OwnerId> = HashMap::new();
    for (index, record) in records.iter().enumerate() {
        let id = index as OwnerId;
        let cell = |column: &str| -> Result<Option<&str>, ScenarioError> {
            match record.cells.get(column) {
                Some(value) if value.is_empty() => Ok(None),
                Some(value) => Ok(Some(value)),
                None => Err(export_error(
                    path,
                    record.line,
                    format!("no column {column:?} in this record"),
                    "every record needs every mapped column",
                )),
            }
        };
        let mut values = Vec::with_capacity(watched.len());
        for ((variable, column), kind) in watched.iter().zip(&kinds) {
            let required = columns.identifiers.iter().any(|(v, _)| v == variable);
            let Some(value) = cell(column)? else {
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
            let Some(forms) = kind.kind.canonical(value) else {
                return Err(export_error(
                    path,
                    record.line,
                    format!(
                        "column {column:?} ({variable:?}, kind {}) holds {}, which is not a valid {} value",
                        kind.kind,
                        mask(value),
                        kind.kind
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
            seen.insert(key, (record.line, variable.clone()));
            values.push((variable.clone(), value.to_owned()));
        }
        let Some(password) = cell(&columns.password)? else {
            return Err(export_error(
                path,
                record.line,
                format!("password column {:?} is empty", columns.password),
                "every owner needs a password to log in with",
            ));
        };
        let household = match &columns.household {
            Some(column) => match cell(column)? {
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

/// `Some(help)` when `column` is not among `header`.
pub(crate) fn missing_column(column: &str, header: &[String]) -> Option<String> {
    if header.iter().any(|h| h == column) {
        return None;
    }
    Some(suggestion(column, header.iter().map(String::as_str)))
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn empty_identifiers_and_missing_columns_are_refused() {
        let file = export("identifiant,mdp,courriel,foyer\n,pw1,a@x.test,\n");
        let error = read_mapped(file.path(), FileFormat::Csv, &columns()).unwrap_err();
        assert!(error.to_string().contains("is empty"), "{error}");
        let header = export_columns(file.path(), FileFormat::Csv).unwrap();
        assert_eq!(missing_column("courriel", &header), None);
        assert_eq!(
            missing_column("courriels", &header).as_deref(),
            Some("did you mean \"courriel\"?")
        );
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

    #[test]
    fn beneficiaries_answer_through_the_same_interface() {
        let b = crate::population::tests::sample();
        let population = Population::new(vec![b.clone()]).unwrap();
        let owners: &dyn Owners = &population;
        assert_eq!(owners.reference(0), Some(b.numero_allocataire.as_str()));
        assert_eq!(owners.value(0, "nir13").unwrap().len(), 13);
        assert!(owners.watched(0).iter().any(|(f, _)| *f == "written_iban"));
        assert_eq!(owners.written_fields(&[]).cross_write, ["written_iban"]);
    }

    #[test]
    fn every_beneficiary_variable_has_a_value() {
        let b = crate::population::tests::sample();
        for (name, _) in BENEFICIARY_VARIABLES {
            assert!(beneficiary_value(&b, name).is_some(), "{name}");
        }
        assert_eq!(beneficiary_value(&b, "nir13").unwrap().len(), 13);
        assert_eq!(beneficiary_value(&b, "nope"), None);
    }
}
