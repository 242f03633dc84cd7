//! The scenario's `[population]` as templates see it: which `{{variables}}` its source offers and
//! which names are reserved. The source itself, and reading it, are `crate::population`'s.

use super::error::suggestion;
use crate::population::{PopulationSource, BENEFICIARY_VARIABLES};

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

    /// The variables holding a value the oracle watches, under its own name or derived from one
    /// (`numero_allocataire`, `nir13`, `spare_iban`, a mapped `email_login`…): the ones a replay as
    /// another owner templates with that owner's values.
    pub fn watched_variables(&self) -> Vec<String> {
        self.variables()
            .into_iter()
            .filter(|v| v.field.is_some())
            .map(|v| v.name)
            .collect()
    }
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

    #[test]
    fn a_missing_column_suggests_the_closest_header() {
        let header = ["identifiant", "mdp", "courriel"].map(String::from);
        assert_eq!(missing_column("courriel", &header), None);
        assert_eq!(
            missing_column("courriels", &header).as_deref(),
            Some("did you mean \"courriel\"?")
        );
    }
}
