//! What a scan reports: whose value was seen, which field, where (body or a named header) and at
//! which bytes. Plain data: no matching, no verdicts, no I/O.

use serde::Serialize;

/// Index of a beneficiary; the same number as `population::OwnerId`, kept here so the oracle
/// does not depend on the population module.
pub type OwnerId = u32;

/// An interned field name (`"nir"`, `"iban"`, `"written_iban"`, ...). Only meaningful for the
/// [`OracleBuilder`](super::OracleBuilder) that issued it and the [`Oracle`](super::Oracle) it
/// built; [`Oracle::field_name`](super::Oracle::field_name) turns it back into its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct FieldId(pub(super) u16);

impl FieldId {
    /// The interning index (0 for the first field named), for tables keyed by field.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// Where in a response a value was seen.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Location {
    Body,
    /// The value of the header with this (ASCII-lowercased) name; offsets are into that value.
    Header(String),
}

/// One occurrence of one owner's value: `haystack[start..end]` equals the value, ASCII case aside.
///
/// The derived order (owner, field, location, start, end) is the order verdicts list evidence in.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Sighting {
    pub owner: OwnerId,
    pub field: FieldId,
    pub location: Location,
    pub start: usize,
    pub end: usize,
}
