//! `[population.columns]`: which column of a staging export is which variable, with its kind;
//! names must be template names and must not take a reserved one.

use super::Validator;
use crate::oracle::ValueKind;
use crate::population::ColumnMap;
use crate::scenario::error::{quoted_list, suggestion_listing, ErrorKind};
use crate::scenario::population::RESERVED;
use crate::scenario::raw::*;
use crate::scenario::template::is_valid_name;
use std::ops::Range;
use toml::Spanned;

impl Validator<'_> {
    /// The mapping, and the span of each variable's column (`password` and `household` included).
    pub(super) fn columns(&mut self, raw: Spanned<RawColumns>) -> Option<(ColumnMap, ColumnSpans)> {
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

    pub(super) fn column_entries(
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
    pub(super) fn column_entry(
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
}

/// Where each mapped variable's column is written in the scenario.
pub(super) type ColumnSpans = Vec<(String, Range<usize>)>;
