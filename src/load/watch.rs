//! The watch list: the oracle built from a population, and the map between population fields and
//! the oracle's field ids. Built once per run, before any request.

use crate::oracle::{FieldId, Oracle, OracleBuilder, OracleError};
use crate::population::{Field, OwnerId, Population};

/// The oracle over every identifying value of a population.
pub struct Watchlist {
    pub oracle: Oracle,
    ids: Vec<(Field, FieldId)>,
}

impl Watchlist {
    /// Indexes every beneficiary's identifying values. One thread renders the values while this
    /// one adds them to the index, so a large population takes about the time of the adding.
    pub fn build(population: &Population) -> Result<Self, OracleError> {
        /// Beneficiaries rendered per message between the two threads.
        const CHUNK: usize = 2048;
        type Rendered = Vec<(OwnerId, u32, Vec<(Field, String)>)>;
        let mut builder = OracleBuilder::new();
        let per_beneficiary = population
            .beneficiaries
            .first()
            .map_or(0, |b| b.identifying_values().len());
        builder.reserve(per_beneficiary * population.len());
        let mut ids: Vec<(Field, FieldId)> = Vec::new();
        std::thread::scope(|scope| {
            let (send, receive) = std::sync::mpsc::sync_channel::<Rendered>(4);
            scope.spawn(move || {
                for chunk in population.beneficiaries.chunks(CHUNK) {
                    let rendered = chunk
                        .iter()
                        .map(|b| (b.id, b.household, b.identifying_values()))
                        .collect();
                    if send.send(rendered).is_err() {
                        return; // the indexing thread stopped on an error
                    }
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
                                let id = builder.field(field.name());
                                ids.push((*field, id));
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
        Ok(Self {
            oracle: builder.build()?,
            ids,
        })
    }

    /// The oracle's id for a population field (fields no beneficiary has map to none).
    pub fn id(&self, field: Field) -> Option<FieldId> {
        self.ids
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, id)| *id)
    }

    pub fn ids(&self, fields: &[Field]) -> Vec<FieldId> {
        fields.iter().filter_map(|f| self.id(*f)).collect()
    }
}
