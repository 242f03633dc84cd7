//! What a run knows of each owner, whatever the population's source: crossleak's beneficiaries
//! and a staging export's owners answer one [`Owners`] trait, so the load, the oracle's watch list
//! and the checks depend on neither.

use super::staging::WatchedPopulation;
use super::{Beneficiary, Field, OwnerId, Population};
use crate::oracle::ValueKind;
use std::borrow::Cow;

/// The variables of a crossleak beneficiary, and the oracle field each is watched under.
pub const BENEFICIARY_VARIABLES: [(&str, Option<&str>); 14] = [
    ("numero_allocataire", Some("numero_allocataire")),
    ("nir", Some("nir")),
    ("nir13", Some("nir")),
    ("first_name", None),
    ("last_name", None),
    ("street", None),
    ("postcode", None),
    ("city", None),
    ("phone", Some("phone")),
    ("email", Some("email")),
    ("iban", Some("iban")),
    ("spare_iban", Some("written_iban")),
    ("written_iban", Some("written_iban")),
    ("password", None),
];

/// A beneficiary's value of `variable` (see [`BENEFICIARY_VARIABLES`]); `password` is the one on
/// file, which a run may have changed since.
pub fn beneficiary_value(b: &Beneficiary, variable: &str) -> Option<String> {
    Some(match variable {
        "numero_allocataire" => b.numero_allocataire.as_str().to_owned(),
        "nir" => b.nir.as_str().to_owned(),
        "nir13" => b.nir.body().as_str().to_owned(),
        "first_name" => b.first_name.clone(),
        "last_name" => b.last_name.clone(),
        "street" => b.street.clone(),
        "postcode" => b.postcode.clone(),
        "city" => b.city.clone(),
        "phone" => b.phone.clone(),
        "email" => b.email.clone(),
        "iban" => b.iban.clone(),
        "spare_iban" | "written_iban" => b.spare_iban.clone(),
        "password" => b.password.clone(),
        _ => return None,
    })
}

/// What a run needs to know of each owner, whatever the population's source: the values its
/// requests send, the values the oracle watches for, its household, how reports name it.
/// crossleak's beneficiaries and a staging export read through `[population.columns]` both
/// answer it, so the load, the oracle's watch list and the checks never depend on either.
pub trait Owners: Send + Sync {
    /// Owners are `0..len`.
    fn len(&self) -> usize;

    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The owner's value of a template variable (`numero_allocataire`, a mapped `email_login`,
    /// `password` as on file); `None` for a name the population does not offer.
    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>>;

    /// The account reference reports show (masked by default): the numéro allocataire of a
    /// beneficiary, the first mapped identifier of an exported owner.
    fn reference(&self, owner: OwnerId) -> Option<&str>;

    /// Owners with the same household number may see each other's data.
    fn household(&self, owner: OwnerId) -> u32;

    /// Every identifying value of the owner the oracle watches for, as `(field, value)`.
    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)>;

    /// The kind of a watched field's values, which says in what presentations the oracle finds
    /// them.
    fn kind(&self, field: &str) -> ValueKind;

    /// Which watched fields a run's writes put into files, given the fields the scenario's
    /// `[[write]]` values name: another owner's value of one of these in a user's own file is a
    /// cross-write, and one missing from it right after the write is a lost write.
    fn written_fields(&self, named_by_writes: &[String]) -> WrittenFields {
        WrittenFields {
            cross_write: named_by_writes.to_vec(),
            lost_write: named_by_writes.to_vec(),
        }
    }
}

/// See [`Owners::written_fields`]: oracle field names.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WrittenFields {
    pub cross_write: Vec<String>,
    pub lost_write: Vec<String>,
}

impl Owners for Population {
    fn len(&self) -> usize {
        self.beneficiaries.len()
    }

    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>> {
        beneficiary_value(self.get(owner)?, variable).map(Cow::Owned)
    }

    fn reference(&self, owner: OwnerId) -> Option<&str> {
        Some(self.get(owner)?.numero_allocataire.as_str())
    }

    fn household(&self, owner: OwnerId) -> u32 {
        self.get(owner).map_or(owner, |b| b.household)
    }

    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)> {
        self.get(owner).map_or_else(Vec::new, |b| {
            b.watched_values()
                .into_iter()
                .map(|(field, value)| (field.name(), Cow::Owned(value)))
                .collect()
        })
    }

    fn kind(&self, field: &str) -> ValueKind {
        Field::ALL
            .into_iter()
            .find(|f| f.name() == field)
            .map_or(ValueKind::Text, Field::kind)
    }

    /// A beneficiary's writes put its spare IBAN (`written_iban`), which no file holds before,
    /// so only that field makes a cross-write; a write may also put the original IBAN back, so
    /// both may be missing right after one.
    fn written_fields(&self, _named_by_writes: &[String]) -> WrittenFields {
        WrittenFields {
            cross_write: vec![Field::WrittenIban.name().to_owned()],
            lost_write: vec![
                Field::Iban.name().to_owned(),
                Field::WrittenIban.name().to_owned(),
            ],
        }
    }
}

impl Owners for WatchedPopulation {
    fn len(&self) -> usize {
        self.owners.len()
    }

    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>> {
        self.get(owner)?.value(variable).map(Cow::Borrowed)
    }

    fn reference(&self, owner: OwnerId) -> Option<&str> {
        // Identifiers come first and none is empty.
        self.get(owner)?.values.first().map(|(_, v)| v.as_str())
    }

    fn household(&self, owner: OwnerId) -> u32 {
        self.get(owner).map_or(owner, |o| o.household)
    }

    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)> {
        self.get(owner).map_or_else(Vec::new, |o| {
            o.values
                .iter()
                .map(|(field, value)| (field.as_str(), Cow::Borrowed(value.as_str())))
                .collect()
        })
    }

    fn kind(&self, field: &str) -> ValueKind {
        self.fields
            .iter()
            .position(|f| f == field)
            .map_or(ValueKind::Text, |i| self.kinds[i].kind)
    }
}

impl Owners for LoadedPopulation {
    fn len(&self) -> usize {
        self.owners().len()
    }

    fn value(&self, owner: OwnerId, variable: &str) -> Option<Cow<'_, str>> {
        self.owners().value(owner, variable)
    }

    fn reference(&self, owner: OwnerId) -> Option<&str> {
        self.owners().reference(owner)
    }

    fn household(&self, owner: OwnerId) -> u32 {
        self.owners().household(owner)
    }

    fn watched(&self, owner: OwnerId) -> Vec<(&str, Cow<'_, str>)> {
        self.owners().watched(owner)
    }

    fn kind(&self, field: &str) -> ValueKind {
        self.owners().kind(field)
    }

    fn written_fields(&self, named_by_writes: &[String]) -> WrittenFields {
        self.owners().written_fields(named_by_writes)
    }
}

impl LoadedPopulation {
    fn owners(&self) -> &dyn Owners {
        match self {
            LoadedPopulation::Beneficiaries(population) => population,
            LoadedPopulation::Watched(population) => population,
        }
    }

    /// crossleak's own beneficiaries, which the embedded demo portal can serve.
    pub fn beneficiaries(&self) -> Option<&Population> {
        match self {
            LoadedPopulation::Beneficiaries(population) => Some(population),
            LoadedPopulation::Watched(_) => None,
        }
    }
}

/// Beneficiaries in crossleak's model, or owners read through a column mapping.
#[derive(Clone, Debug, PartialEq)]
pub enum LoadedPopulation {
    Beneficiaries(Population),
    Watched(WatchedPopulation),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beneficiaries_answer_through_the_same_interface() {
        let b = crate::population::tests::sample();
        let population = Population::new(vec![b.clone()]).unwrap();
        let owners: &dyn Owners = &population;
        assert_eq!(owners.reference(0), Some(b.numero_allocataire.as_str()));
        assert_eq!(owners.value(0, "nir13").unwrap().len(), 13);
        assert!(owners.watched(0).iter().any(|(f, _)| *f == "written_iban"));
        assert_eq!(owners.written_fields(&[]).cross_write, ["written_iban"]);
    }

    #[test]
    fn every_beneficiary_variable_has_a_value() {
        let b = crate::population::tests::sample();
        for (name, _) in BENEFICIARY_VARIABLES {
            assert!(beneficiary_value(&b, name).is_some(), "{name}");
        }
        assert_eq!(beneficiary_value(&b, "nir13").unwrap().len(), 13);
        assert_eq!(beneficiary_value(&b, "nope"), None);
    }
}
