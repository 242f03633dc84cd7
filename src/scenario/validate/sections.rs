//! Reading the sections: the TOML parsed once, each section deserialised on its own so that a
//! broken one reports its own errors and the others are still checked.

use super::wording::*;
use super::Validator;
use super::{RawScenario, VersionValue, TOP_KEYS};
use crate::scenario::error::{suggestion, ErrorKind};
use serde::de::DeserializeOwned;
use toml::de::{DeTable, DeValue, ValueDeserializer};
use toml::Spanned;

impl<'t> Validator<'t> {
    pub(super) fn sections(&mut self, root: DeTable<'t>) -> RawScenario {
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
    pub(super) fn section<T: DeserializeOwned>(
        &mut self,
        value: Spanned<DeValue<'t>>,
    ) -> Option<T> {
        match T::deserialize(ValueDeserializer::from(value)) {
            Ok(t) => Some(t),
            Err(e) => {
                self.serde_error(&e);
                None
            }
        }
    }

    pub(super) fn table_section<T: DeserializeOwned>(
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

    pub(super) fn items<T: DeserializeOwned>(
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
}
