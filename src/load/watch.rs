//! The watch list: the oracle built from a population's owners, and the map between field names
//! (as scenarios and reports write them) and the oracle's field ids. Built once per run, before
//! any request.

use crate::oracle::{FieldId, Oracle, OracleBuilder, OracleError};
use crate::population::{OwnerId, Population};
use crate::scenario::Owners;

/// The oracle over every identifying value of a population.
pub struct Watchlist {
    pub oracle: Oracle,
    ids: Vec<(String, FieldId)>,
    /// Fields a write puts into a file: another owner's value of these beside the viewer's own
    /// is a cross-write rather than a plain violation.
    cross_write: Vec<FieldId>,
    /// Fields a write may change: missing from the user's own page, a lost write.
    lost_write: Vec<FieldId>,
}

impl Watchlist {
    /// The watch list of crossleak's beneficiaries.
    pub fn build(population: &Population) -> Result<Self, OracleError> {
        Self::of(population, &[])
    }

    /// The watch list of any owners; `written` are the fields the scenario's writes name.
    pub fn of(owners: &dyn Owners, written: &[String]) -> Result<Self, OracleError> {
        let mut builder = OracleBuilder::new();
        let mut ids: Vec<(String, FieldId)> = Vec::new();
        for owner in 0..owners.len() as OwnerId {
            for (field, value) in owners.watched(owner) {
                let id = match ids.iter().find(|(f, _)| f == field) {
                    Some((_, id)) => *id,
                    None => {
                        let id = builder.field(field);
                        ids.push((field.to_owned(), id));
                        id
                    }
                };
                builder.add(owner, id, &value)?;
            }
            builder.household(owner, owners.household(owner));
        }
        let written = owners.written_fields(written);
        let known = |names: &[String]| -> Vec<FieldId> {
            names
                .iter()
                .filter_map(|n| ids.iter().find(|(f, _)| f == n).map(|(_, id)| *id))
                .collect()
        };
        let (cross_write, lost_write) = (known(&written.cross_write), known(&written.lost_write));
        Ok(Self {
            oracle: builder.build()?,
            ids,
            cross_write,
            lost_write,
        })
    }

    /// The oracle's id for a field name (fields no owner has map to none).
    pub fn id(&self, field: &str) -> Option<FieldId> {
        self.ids.iter().find(|(f, _)| f == field).map(|(_, id)| *id)
    }

    /// The ids of `fields` (population fields or field names) that some owner has.
    pub fn ids<F: AsRef<str>>(&self, fields: &[F]) -> Vec<FieldId> {
        fields.iter().filter_map(|f| self.id(f.as_ref())).collect()
    }

    pub(crate) fn is_cross_write_field(&self, field: FieldId) -> bool {
        self.cross_write.contains(&field)
    }

    pub(crate) fn is_lost_write_field(&self, field: FieldId) -> bool {
        self.lost_write.contains(&field)
    }
}
