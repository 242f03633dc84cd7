//! The `{{variables}}` a template may use and where: the population's per user, the step's own
//! extractions, none per user in `at_start`. Says what to write instead of an unknown one.

use super::Validator;
use crate::scenario::error::{suggestion_listing, ErrorKind};
use crate::scenario::population::Variable;
use crate::scenario::raw::*;

impl Validator<'_> {
    /// Whether `raw` names a population variable (any, `password` excepted).
    pub(super) fn known_variable(
        &mut self,
        raw: &Text,
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> bool {
        let Some(vars) = vocabulary.variables else {
            return true;
        };
        let name = raw.get_ref().trim();
        if name != "password" && vars.iter().any(|v| v.name == name) {
            return true;
        }
        let names: Vec<&str> = vars
            .iter()
            .map(|v| v.name.as_str())
            .filter(|n| *n != "password")
            .collect();
        self.at(
            raw.span(),
            ErrorKind::UnknownVariable,
            format!("field {name:?} in {what} is not a variable of the population"),
            suggestion_listing(name, names.iter().copied(), "available"),
        );
        false
    }
}

/// The variables templates may use, and where.
pub(crate) struct Vocabulary<'a> {
    /// `None` when the population itself is broken: names are then not checked.
    pub variables: Option<&'a [Variable]>,
}

/// The names one template may use.
pub(crate) struct Scope<'a> {
    pub variables: Option<&'a [Variable]>,
    /// Population variables apply (per-user requests); `false` for `at_start` actions.
    pub per_user: bool,
    /// Names the context adds: extracted values, `value`, `new_password`.
    pub extra: Vec<String>,
}

impl<'a> Vocabulary<'a> {
    pub(crate) fn user(&self, extra: &[&str]) -> Scope<'a> {
        Scope {
            variables: self.variables,
            per_user: true,
            extra: extra.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    pub(crate) fn once(&self) -> Scope<'a> {
        Scope {
            variables: self.variables,
            per_user: false,
            extra: Vec::new(),
        }
    }

    /// The watched variable `name` and its oracle field.
    pub(crate) fn watched(&self, name: &str) -> Result<Option<String>, Vec<&'a str>> {
        let Some(vars) = self.variables else {
            return Ok(None);
        };
        match vars.iter().find(|v| v.name == name) {
            Some(Variable {
                field: Some(field), ..
            }) => Ok(Some(field.clone())),
            _ => Err(vars
                .iter()
                .filter(|v| v.field.is_some())
                .map(|v| v.name.as_str())
                .collect()),
        }
    }
}

/// `None` when `name` has a value in `scope`; otherwise what to write instead.
pub(super) fn unknown_variable(name: &str, scope: &Scope<'_>) -> Option<String> {
    if scope.extra.iter().any(|e| e == name) {
        return None;
    }
    let vars = scope.variables?;
    if scope.per_user && vars.iter().any(|v| v.name == name) {
        return None;
    }
    if !scope.per_user {
        return Some("at_start requests are sent once for the whole run, not per user: write the value itself, or {{env:NAME}} for a secret".to_owned());
    }
    let mut available: Vec<&str> = vars.iter().map(|v| v.name.as_str()).collect();
    available.extend(scope.extra.iter().map(String::as_str));
    Some(match name {
        "value" => "{{value}} exists in a [[write]] request only".to_owned(),
        "new_password" => "{{new_password}} exists in password_changes only".to_owned(),
        _ => suggestion_listing(name, available.iter().copied(), "available"),
    })
}
