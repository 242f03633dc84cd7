//! `[population]`: generated beneficiaries, crossleak's own export, or a staging export read
//! through `[population.columns]` (whose header is checked when files are).

use super::columns::ColumnSpans;
use super::Validator;
use crate::population::PopulationSource;
use crate::population::{export_columns, ColumnMap, FileFormat, GenerateOptions, MAX_SIZE};
use crate::scenario::error::{quoted_list, suggestion, ErrorKind};
use crate::scenario::population::missing_column;
use crate::scenario::raw::*;
use std::ops::Range;
use std::path::Path;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn population(
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

    pub(super) fn generate(&mut self, raw: Spanned<RawGenerate>) -> Option<PopulationSource> {
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

    pub(super) fn population_file(
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
            self.export_header(&file, &path, kind, &columns, span);
        }
        Some(PopulationSource::Mapped {
            path,
            format: kind,
            columns: columns.0,
        })
    }

    /// The export's header names every mapped column; each missing one is refused at the line
    /// that maps it (or at `[population]`, `span`), with the closest header.
    fn export_header(
        &mut self,
        file: &Text,
        path: &Path,
        kind: FileFormat,
        columns: &(ColumnMap, ColumnSpans),
        span: Range<usize>,
    ) {
        match export_columns(path, kind) {
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
}
