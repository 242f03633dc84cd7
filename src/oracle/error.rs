//! Why an oracle could not be built: each message names the owners, fields and (masked) values
//! involved and says what to do. Never prints a whole identifying value.

use super::{OwnerId, ValueKind};
use thiserror::Error;

/// The shortest value the oracle indexes, in characters. Shorter values (a first name, a
/// postcode) match unrelated text too often to attribute a response to one owner.
pub const MIN_VALUE_CHARS: usize = 5;

/// A failure to build an [`Oracle`](super::Oracle). Values appear masked (see [`mask`]).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum OracleError {
    #[error(
        "owner {owner}, field `{field}`: the value is empty; leave this field out for this owner"
    )]
    EmptyValue { owner: OwnerId, field: String },

    #[error(
        "owner {owner}, field `{field}`: value `{value}` has {chars} characters, fewer than {min}; \
         so short a value matches unrelated text, so leave it out or index a longer form \
         (the full name rather than the first name)",
        min = MIN_VALUE_CHARS
    )]
    ValueTooShort {
        owner: OwnerId,
        field: String,
        value: String,
        chars: usize,
    },

    #[error(
        "owner {owner}, field `{field}`: value `{value}` starts or ends with whitespace; \
         trim it before adding it (pages do not repeat the padding, so it would never match)"
    )]
    SurroundingWhitespace {
        owner: OwnerId,
        field: String,
        value: String,
    },

    #[error(
        "value `{value}` belongs to owner {first_owner} (field `{first_field}`) and to owner \
         {second_owner} (field `{second_field}`), so a sighting of it cannot be attributed; \
         make the population's values unique (regenerate it, or fix the loaded file) or leave \
         this field out of the oracle"
    )]
    DuplicateValue {
        value: String,
        first_owner: OwnerId,
        first_field: String,
        second_owner: OwnerId,
        second_field: String,
    },

    #[error(
        "owner {owner}, field `{field}`: value `{value}` is not a valid {kind} value; fix the \
         value, or declare the column's kind as \"text\" so it is matched exactly as written"
    )]
    NotOfKind {
        owner: OwnerId,
        field: String,
        value: String,
        kind: ValueKind,
    },

    #[error(
        "owner {owner}: field id #{field} was not issued by this builder (it knows {known} \
         fields); take field ids from this builder's `field`"
    )]
    UnknownField {
        owner: OwnerId,
        field: u16,
        known: usize,
    },

    #[error(
        "more than {max} distinct field names were interned; intern each field name once and \
         reuse its FieldId"
    )]
    TooManyFields { max: usize },

    #[error(
        "owner {owner}: the oracle already holds {max} values, the most one matcher takes; \
         index fewer fields per owner"
    )]
    TooManyValues { owner: OwnerId, max: usize },

    #[error(
        "owner {owner} was put in household {first} and then in household {second}; give each \
         owner exactly one household"
    )]
    HouseholdConflict {
        owner: OwnerId,
        first: u32,
        second: u32,
    },

    #[error(
        "building the matcher over {patterns} values failed: {source}; index fewer fields per \
         owner, or run the population in smaller shards"
    )]
    Matcher {
        patterns: usize,
        #[source]
        source: aho_corasick::BuildError,
    },
}

/// Masks an identifying value for messages and reports: values of at least
/// [`MIN_VALUE_CHARS`] characters keep their first 2 and last 2 characters, the rest become
/// `*` (so the length shows); shorter values are too short to identify anyone and stay as they are.
///
/// `mask("0639981234") == "06******34"`.
pub fn mask(value: &str) -> String {
    let chars = value.chars().count();
    if chars < MIN_VALUE_CHARS {
        return value.to_owned();
    }
    value
        .chars()
        .enumerate()
        .map(|(i, c)| if i < 2 || i >= chars - 2 { c } else { '*' })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mask_keeps_first_two_and_last_two_characters() {
        assert_eq!(mask("0639981234"), "06******34");
        assert_eq!(mask("jean.dupont@example.fr"), "je******************fr");
        assert_eq!(mask("Zoé Éloïse"), "Zo******se");
    }

    #[test]
    fn mask_leaves_values_too_short_to_identify() {
        assert_eq!(mask("Lee"), "Lee");
        assert_eq!(mask(""), "");
        assert_eq!(mask("abcde"), "ab*de");
    }
}
