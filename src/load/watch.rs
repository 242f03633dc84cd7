//! The watch list: the oracle built from a population's owners, and the map between field names
//! (as scenarios and reports write them) and the oracle's field ids. Built once per run, before
//! any request.

use crate::oracle::{FieldId, Oracle, OracleBuilder, OracleError};
use crate::population::{OwnerId, Owners, Population};
use std::borrow::Cow;

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

    /// The watch list of any owners; `written` are the fields the scenario's writes name. One
    /// thread renders the values while this one adds them to the index, so a large population
    /// takes about the time of the adding.
    pub fn of(owners: &dyn Owners, written: &[String]) -> Result<Self, OracleError> {
        /// Owners rendered per message between the two threads.
        const CHUNK: u32 = 2048;
        type Rendered<'a> = Vec<(OwnerId, u32, Vec<(&'a str, Cow<'a, str>)>)>;
        let mut builder = OracleBuilder::new();
        let count = owners.len() as OwnerId;
        let per_owner = if count == 0 {
            0
        } else {
            owners.watched(0).len()
        };
        builder.reserve(per_owner * owners.len());
        let mut ids: Vec<(String, FieldId)> = Vec::new();
        std::thread::scope(|scope| {
            let (send, receive) = std::sync::mpsc::sync_channel::<Rendered<'_>>(4);
            scope.spawn(move || {
                let mut first = 0;
                while first < count {
                    let last = first.saturating_add(CHUNK).min(count);
                    let rendered = (first..last)
                        .map(|o| (o, owners.household(o), owners.watched(o)))
                        .collect();
                    if send.send(rendered).is_err() {
                        return; // the indexing thread stopped on an error
                    }
                    first = last;
                }
            });
            for rendered in receive {
                let mut batch: Vec<(OwnerId, FieldId, &str)> = Vec::new();
                for (owner, household, values) in &rendered {
                    batch.clear();
                    for (field, value) in values {
                        let id = match ids.iter().find(|(f, _)| f == field) {
                            Some((_, id)) => *id,
                            None => {
                                let id = builder.field_of_kind(field, owners.kind(field));
                                ids.push(((*field).to_owned(), id));
                                id
                            }
                        };
                        batch.push((*owner, id, value));
                    }
                    builder.add_batch(&batch)?;
                    builder.household(*owner, *household);
                }
            }
            Ok::<(), OracleError>(())
        })?;
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
