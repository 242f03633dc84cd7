//! The watch list: the oracle built from a population, and the map between population fields and
//! the oracle's field ids. Built once per run, before any request.

use crate::oracle::{FieldId, Oracle, OracleBuilder, OracleError};
use crate::population::{Field, Population};

/// The oracle over every identifying value of a population.
pub struct Watchlist {
    pub oracle: Oracle,
    ids: Vec<(Field, FieldId)>,
}

impl Watchlist {
    pub fn build(population: &Population) -> Result<Self, OracleError> {
        let mut builder = OracleBuilder::new();
        let mut ids: Vec<(Field, FieldId)> = Vec::new();
        for beneficiary in &population.beneficiaries {
            for (field, value) in beneficiary.identifying_values() {
                let id = match ids.iter().find(|(f, _)| *f == field) {
                    Some((_, id)) => *id,
                    None => {
                        let id = builder.field(field.name());
                        ids.push((field, id));
                        id
                    }
                };
                builder.add(beneficiary.id, id, &value)?;
            }
            builder.household(beneficiary.id, beneficiary.household);
        }
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
