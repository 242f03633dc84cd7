//! Collects every owner's identifying values and households, rejects the ones that could not be
//! attributed (duplicates across owners, too short), and builds the [`Oracle`]. No I/O.

use super::error::{mask, OracleError, MIN_VALUE_CHARS};
use super::index::{Households, MatcherKind, Oracle, PatternTable};
use super::{FieldId, OwnerId};
use std::collections::hash_map::Entry;
use std::collections::HashMap;

/// The most distinct field names one builder interns (one `u16` value is kept as a marker for
/// "too many").
const MAX_FIELDS: usize = u16::MAX as usize;

/// Gathers `(owner, field, value)` triples and households, then [`build`](Self::build)s the
/// [`Oracle`]. Values are compared ASCII-case-insensitively, as the oracle matches them.
#[derive(Debug, Default)]
pub struct OracleBuilder {
    field_names: Vec<String>,
    field_ids: HashMap<String, FieldId>,
    too_many_fields: bool,
    /// ASCII-lowercased value → its pattern index in `table`.
    values: HashMap<Box<[u8]>, u32>,
    table: PatternTable,
    households: Households,
    household_conflict: Option<(OwnerId, u32, u32)>,
}

impl OracleBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Interns a field name (`"nir"`, `"iban"`, `"written_iban"`, ...): the same name always
    /// gives the same id. Past 65,535 distinct names the builder remembers the overflow and
    /// [`build`](Self::build) fails with [`OracleError::TooManyFields`].
    pub fn field(&mut self, name: &str) -> FieldId {
        if let Some(&id) = self.field_ids.get(name) {
            return id;
        }
        if self.field_names.len() >= MAX_FIELDS {
            self.too_many_fields = true;
            return FieldId(u16::MAX);
        }
        let id = FieldId(self.field_names.len() as u16);
        self.field_names.push(name.to_owned());
        self.field_ids.insert(name.to_owned(), id);
        id
    }

    /// Indexes `value` as `owner`'s `field`.
    ///
    /// The same value (ASCII case aside) added again for the same owner is ignored, except that a
    /// new field is remembered, so a sighting of the value counts for every field it was added
    /// under (a `must_show` of either is satisfied). The same value for two owners is an error:
    /// a sighting of it could not be attributed. Values that are empty, shorter than
    /// [`MIN_VALUE_CHARS`] characters, or padded with whitespace are errors too.
    pub fn add(&mut self, owner: OwnerId, field: FieldId, value: &str) -> Result<(), OracleError> {
        let Some(field_name) = self.field_names.get(field.index()) else {
            return Err(OracleError::UnknownField {
                owner,
                field: field.0,
                known: self.field_names.len(),
            });
        };
        if value.is_empty() {
            return Err(OracleError::EmptyValue {
                owner,
                field: field_name.clone(),
            });
        }
        if value.trim() != value {
            return Err(OracleError::SurroundingWhitespace {
                owner,
                field: field_name.clone(),
                value: mask(value),
            });
        }
        let chars = value.chars().count();
        if chars < MIN_VALUE_CHARS {
            return Err(OracleError::ValueTooShort {
                owner,
                field: field_name.clone(),
                value: value.to_owned(),
                chars,
            });
        }

        let key = value.as_bytes().to_ascii_lowercase().into_boxed_slice();
        match self.values.entry(key) {
            Entry::Occupied(entry) => {
                let pattern = *entry.get();
                let (first_owner, first_field) = self.table.primary(pattern);
                if first_owner != owner {
                    return Err(OracleError::DuplicateValue {
                        value: mask(value),
                        first_owner,
                        first_field: self.field_names[first_field.index()].clone(),
                        second_owner: owner,
                        second_field: field_name.clone(),
                    });
                }
                self.table.add_field(pattern, field);
                Ok(())
            }
            Entry::Vacant(entry) => {
                entry.insert(self.table.push(owner, field)?);
                Ok(())
            }
        }
    }

    /// Puts `owner` in `household`: owners sharing a household id may see each other's data
    /// (two adults on one file). An owner without a household shares data with no one. Putting
    /// one owner in two different households makes [`build`](Self::build) fail.
    pub fn household(&mut self, owner: OwnerId, household: u32) {
        if let Some(first) = self.households.insert(owner, household) {
            if first != household && self.household_conflict.is_none() {
                self.household_conflict = Some((owner, first, household));
            }
        }
    }

    /// Builds the matcher over every value added. Fails on an earlier misuse remembered by
    /// [`field`](Self::field) or [`household`](Self::household), or when the matcher cannot
    /// be built.
    pub fn build(self) -> Result<Oracle, OracleError> {
        self.build_with(MatcherKind::default())
    }

    pub(super) fn build_with(self, kind: MatcherKind) -> Result<Oracle, OracleError> {
        if self.too_many_fields {
            return Err(OracleError::TooManyFields { max: MAX_FIELDS });
        }
        if let Some((owner, first, second)) = self.household_conflict {
            return Err(OracleError::HouseholdConflict {
                owner,
                first,
                second,
            });
        }
        let mut patterns: Vec<Box<[u8]>> = vec![Box::default(); self.values.len()];
        for (value, index) in self.values {
            patterns[index as usize] = value;
        }
        Oracle::new(
            &patterns,
            kind,
            self.table,
            self.households,
            self.field_names,
            self.field_ids,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_interning_returns_the_same_id_for_the_same_name() {
        let mut builder = OracleBuilder::new();
        let nir = builder.field("nir");
        let iban = builder.field("iban");
        assert_ne!(nir, iban);
        assert_eq!(builder.field("nir"), nir);
        assert_eq!((nir.index(), iban.index()), (0, 1));
    }

    #[test]
    fn same_value_for_two_owners_is_an_error_naming_both() {
        let mut builder = OracleBuilder::new();
        let email = builder.field("email");
        let login = builder.field("login");
        builder.add(3, email, "marie.curie@example.fr").unwrap();
        let err = builder.add(9, login, "Marie.Curie@EXAMPLE.fr").unwrap_err();
        assert!(
            matches!(
                &err,
                OracleError::DuplicateValue {
                    first_owner: 3,
                    second_owner: 9,
                    first_field,
                    second_field,
                    ..
                } if first_field == "email" && second_field == "login"
            ),
            "{err:?}"
        );
        let message = err.to_string();
        assert!(message.contains("owner 3 (field `email`)"), "{message}");
        assert!(message.contains("owner 9 (field `login`)"), "{message}");
        assert!(message.contains("`Ma******************fr`"), "{message}");
        assert!(
            !message.contains("curie"),
            "value must be masked: {message}"
        );
        assert!(
            message.contains("make the population's values unique"),
            "{message}"
        );
        assert_eq!(builder.build().unwrap().patterns(), 1);
    }

    #[test]
    fn same_value_twice_for_one_owner_is_ignored() {
        let mut builder = OracleBuilder::new();
        let nir = builder.field("nir");
        builder.add(1, nir, "185057800608436").unwrap();
        builder.add(1, nir, "185057800608436").unwrap();
        let oracle = builder.build().unwrap();
        assert_eq!((oracle.patterns(), oracle.owners()), (1, 1));
    }

    #[test]
    fn empty_short_or_padded_values_are_rejected() {
        let mut builder = OracleBuilder::new();
        let name = builder.field("first_name");
        assert!(matches!(
            builder.add(1, name, ""),
            Err(OracleError::EmptyValue { owner: 1, .. })
        ));
        let err = builder.add(1, name, "Zoé").unwrap_err();
        assert!(
            matches!(err, OracleError::ValueTooShort { chars: 3, .. }),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains("`Zoé` has 3 characters, fewer than 5"),
            "{err}"
        );
        let err = builder.add(1, name, " Jean Dupont").unwrap_err();
        assert!(
            matches!(err, OracleError::SurroundingWhitespace { .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("` J********nt`"), "{err}");
        assert!(err.to_string().contains("trim it"), "{err}");
        builder.add(1, name, "Élise").unwrap();
        assert_eq!(builder.build().unwrap().patterns(), 1);
    }

    #[test]
    fn field_id_from_another_builder_is_rejected() {
        let mut other = OracleBuilder::new();
        other.field("nir");
        let foreign = other.field("iban");
        let mut builder = OracleBuilder::new();
        builder.field("nir");
        let err = builder
            .add(5, foreign, "FR7630006000011234567890189")
            .unwrap_err();
        assert!(
            matches!(
                err,
                OracleError::UnknownField {
                    owner: 5,
                    field: 1,
                    known: 1
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn owner_in_two_households_fails_the_build() {
        let mut builder = OracleBuilder::new();
        builder.household(5, 2);
        builder.household(5, 2);
        builder.household(5, 7);
        let err = builder.build().unwrap_err();
        assert!(matches!(
            err,
            OracleError::HouseholdConflict {
                owner: 5,
                first: 2,
                second: 7
            }
        ));
        assert!(err.to_string().contains("exactly one household"), "{err}");
    }

    #[test]
    fn empty_builder_builds_an_oracle_that_sees_nothing() {
        let oracle = OracleBuilder::new().build().unwrap();
        assert_eq!((oracle.owners(), oracle.patterns()), (0, 0));
        assert!(oracle.scan(b"Jean Dupont 185057800608436").is_empty());
    }
}
