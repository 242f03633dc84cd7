//! The export's columns as the scenario maps them (identifiers the login sends, the password,
//! the values watched, the household), and the population read as a run of the scenario will.

use super::compare;
use super::draft::{ColumnsDraft, PopulationDraft};
use super::error::HarError;
use super::export::Export;
use super::recording::Exchange;
use super::seen::Seer;
use super::template::Templater;
use super::user::User;
use super::writer;
use crate::population::FileFormat;
use crate::scenario::{PopulationSource, Scenario};

/// Columns whose name says they group owners into households.
const HOUSEHOLD_NAMES: [&str; 5] = ["household", "foyer", "famille", "family", "menage"];

/// A mapped export's columns: identifiers are the unique, complete columns the login sends;
/// every other unique column is watched for now (narrowed by [`finish_watch`]).
pub fn mapping(
    export: &Export,
    user: &User,
    credential: &Exchange,
    file: &str,
) -> Result<Option<ColumnsDraft>, HarError> {
    if export.own_format {
        return Ok(None);
    }
    let sent = credential.sent_values();
    let identifiers: Vec<(String, String)> = user
        .values
        .iter()
        .filter(|v| v.watchable && export.columns[v.column].complete)
        .filter(|v| sent.iter().any(|(_, s)| compare::same(s, &v.value)))
        .map(|v| (v.variable.clone(), export.columns[v.column].column.clone()))
        .collect();
    if identifiers.is_empty() {
        return Err(HarError::inference(
            file,
            format!(
                "the login (entry {}) sends no value of a column that is unique and filled for every owner",
                credential.entry
            ),
            "the export needs the login's identifier as a column (client number, login, e-mail)",
        ));
    }
    let watch = user
        .values
        .iter()
        .filter(|v| v.watchable && !identifiers.iter().any(|(i, _)| *i == v.variable))
        .map(|v| (v.variable.clone(), export.columns[v.column].column.clone()))
        .collect();
    let household = export
        .columns
        .iter()
        .find(|c| {
            !c.unique
                && HOUSEHOLD_NAMES
                    .iter()
                    .any(|w| c.column.to_ascii_lowercase().contains(w))
        })
        .map(|c| c.column.clone());
    Ok(Some(ColumnsDraft {
        identifiers,
        password: export.columns[user.password_column].column.clone(),
        watch,
        household,
    }))
}

/// Keeps the watched columns the scenario uses or the recording showed; names the others.
pub fn finish_watch(
    columns: &mut ColumnsDraft,
    templater: &Templater<'_>,
    seen: &[String],
    written: &[String],
    review: &mut Vec<String>,
) {
    let used = templater.used.borrow();
    let (keep, left): (Vec<_>, Vec<_>) = columns.watch.drain(..).partition(|(variable, _)| {
        used.contains(variable) || seen.contains(variable) || written.contains(variable)
    });
    columns.watch = keep;
    if !left.is_empty() {
        review.push(format!(
            "also unique in the export but not seen in the recording, so not watched: {} (add them to watch to look for them too)",
            left.iter().map(|(_, c)| c.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    if let Some(household) = &columns.household {
        review.push(format!(
            "household: owners with the same {household} may see each other's data"
        ));
    }
}

/// Owners whose values the user's pages showed share the user's household if a column says so:
/// the named household column, or else the one column whose value they all share with the user.
pub fn household(
    columns: &mut ColumnsDraft,
    export: &Export,
    owner: usize,
    others: &[usize],
    review: &mut Vec<String>,
) {
    if others.is_empty() {
        return;
    }
    let lines: Vec<String> = others
        .iter()
        .map(|o| export.lines[*o].to_string())
        .collect();
    let shares = |c: usize| {
        let mine = export.value(owner, c);
        mine.is_some() && others.iter().all(|o| export.value(*o, c) == mine)
    };
    let named = columns
        .household
        .as_ref()
        .and_then(|h| export.columns.iter().position(|c| c.column == *h));
    if let Some(c) = named {
        if !shares(c) {
            review.push(format!(
                "the user's pages show the data of line(s) {} of the export, which are not in the user's {} household: a leak in the recording itself, or a household column to fix",
                lines.join(", "),
                export.columns[c].column
            ));
        }
        return;
    }
    let password = columns.password.as_str();
    let shared = (0..export.columns.len()).find(|c| {
        let column = &export.columns[*c];
        !column.unique && column.column != password && shares(*c)
    });
    match shared {
        Some(c) => {
            let column = export.columns[c].column.clone();
            review.push(format!(
                "household = {column:?}: the user's pages show line(s) {} of the export, which share the user's {column}",
                lines.join(", ")
            ));
            columns.household = Some(column);
        }
        None => review.push(format!(
            "the user's pages show the data of line(s) {} of the export and no column groups them with the user: a leak in the recording itself, or a household the export does not hold",
            lines.join(", ")
        )),
    }
}

/// What the run's oracle will see: the population read from the export as the scenario maps it.
pub fn seer(
    export: &Export,
    columns: Option<&ColumnsDraft>,
    owner: usize,
    file: &str,
) -> Result<Seer, HarError> {
    let source = population_source(export, columns, file)?;
    Seer::new(&source, owner).map_err(|message| HarError::Population {
        file: export.path.display().to_string(),
        message,
        help: "the export must be readable as the scenario will read it".into(),
    })
}

/// The population as the written scenario will read it: its `[population]` section, validated by
/// the scenario parser (so every key a run honours is honoured here too), the file absolute.
fn population_source(
    export: &Export,
    columns: Option<&ColumnsDraft>,
    file: &str,
) -> Result<PopulationSource, HarError> {
    let path = export
        .path
        .canonicalize()
        .unwrap_or_else(|_| export.path.clone());
    let probe = writer::population_probe(&PopulationDraft {
        file: path.display().to_string(),
        format: format_name(export),
        columns: columns.cloned(),
    });
    Scenario::parse(&probe, &format!("{file} (its population)"))
        .map(|scenario| scenario.population)
        .map_err(|errors| HarError::Population {
            file: export.path.display().to_string(),
            message: format!("the columns found do not make a valid mapping: {errors}"),
            help: "check that the export's identifying columns are unique across owners".into(),
        })
}

/// The `format` the scenario reads the export as: crossleak's own file, or a staging export.
pub fn format_name(export: &Export) -> &'static str {
    match (export.own_format, export.format) {
        (true, FileFormat::Csv) => "crossleak-csv",
        (true, FileFormat::Jsonl) => "crossleak-jsonl",
        (false, FileFormat::Csv) => "csv",
        (false, FileFormat::Jsonl) => "jsonl",
    }
}
