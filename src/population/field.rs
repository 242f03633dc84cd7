//! The kinds of identifying value a beneficiary has: what the oracle looks for in every response.
//! Names only; the renderings themselves come from `Beneficiary::identifying_values`.

use super::PopulationError;
use crate::oracle::ValueKind;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A kind of value that identifies one beneficiary and no one else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The NIR: compact 15 characters, spaced presentation, or the 13-character login form.
    Nir,
    NumeroAllocataire,
    /// The IBAN on file when the run starts.
    Iban,
    /// The spare IBAN a RIB change writes during a run.
    WrittenIban,
    Phone,
    Email,
}

impl Field {
    /// Every field, in declaration order.
    pub const ALL: [Field; 6] = [
        Field::Nir,
        Field::NumeroAllocataire,
        Field::Iban,
        Field::WrittenIban,
        Field::Phone,
        Field::Email,
    ];

    /// The kind of the field's values: in which presentations the oracle finds them.
    pub fn kind(self) -> ValueKind {
        match self {
            Field::Nir => ValueKind::Nir,
            Field::NumeroAllocataire => ValueKind::Text,
            Field::Iban | Field::WrittenIban => ValueKind::Iban,
            Field::Phone => ValueKind::PhoneFr,
            Field::Email => ValueKind::Email,
        }
    }

    /// The snake_case name used in files, reports and the oracle.
    pub fn name(self) -> &'static str {
        match self {
            Field::Nir => "nir",
            Field::NumeroAllocataire => "numero_allocataire",
            Field::Iban => "iban",
            Field::WrittenIban => "written_iban",
            Field::Phone => "phone",
            Field::Email => "email",
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A field is named where a name is expected (`must_show`, the oracle's field names).
impl AsRef<str> for Field {
    fn as_ref(&self) -> &str {
        self.name()
    }
}

impl FromStr for Field {
    type Err = PopulationError;

    /// Exact snake_case name only, as [`Field::name`] writes it.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Field::ALL
            .into_iter()
            .find(|field| field.name() == s)
            .ok_or_else(|| PopulationError::UnknownField {
                found: s.to_owned(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_match_serde() {
        for field in Field::ALL {
            assert_eq!(field.name().parse::<Field>().unwrap(), field);
            assert_eq!(
                serde_json::to_string(&field).unwrap(),
                format!("\"{}\"", field.name())
            );
        }
    }

    #[test]
    fn unknown_names_list_the_valid_ones() {
        let message = "Nir".parse::<Field>().unwrap_err().to_string();
        assert!(message.contains("\"Nir\""), "{message}");
        assert!(message.contains("numero_allocataire"), "{message}");
    }
}
