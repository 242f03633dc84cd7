//! Synthetic beneficiaries, deterministic from a seed, with identifying values unique by construction.
//! Also reads and writes them as JSON Lines and CSV (and writes SQL), to seed a staging database or read its export back;
//! reads a staging export of any shape (`staging`); and answers, for either, what a run knows of each owner ([`Owners`]).
//!
//! # Uniqueness
//!
//! Every identifying value is an injective function of the beneficiary's index, never a random
//! draw checked against the others: the numéro allocataire and the NIR come from affine
//! permutations of `0..10^7` (the NIR's then split into sex, month, birth year, place, commune
//! and order), the two IBANs' account numbers from a permutation of `2·id` and `2·id + 1`, the
//! e-mail embeds the numéro allocataire. A population read from a file is checked instead
//! ([`Population::check_unique`]), with errors naming both beneficiaries and the fields.
//!
//! # Phone numbers
//!
//! The regulator reserves six blocks for fiction — 01 99 00, 02 61 91, 03 53 01, 04 65 71,
//! 05 36 49 and 06 39 98, each followed by 4 digits: 60,000 numbers in all. Beneficiaries 0 to
//! 59,999 get those numbers, so a small population's phones are real-looking and reach nobody.
//! Past that, a phone cannot be both a valid French number and unique without reaching someone,
//! so beneficiaries from 60,000 on get the same 6-digit fiction prefixes followed by 7 digits:
//! 13-digit numbers (`0639981234567`) that no French line can have and no call or SMS can reach.
//! They stay identifying values (the oracle matches whole words, and their spaced form
//! `06 39 98 123 4567` never contains a spaced 10-digit number), but a target that validates
//! phone numbers as 10 digits will refuse them: keep populations for such targets under 60,000.
//! Seven digits, not six: 6 prefixes × 10^6 would stop at 6,060,000 beneficiaries.

mod error;
mod export;
mod field;
mod generate;
mod io;
mod model;
mod names;
mod owners;
mod parallel;
mod render;
mod source;
mod sql;
mod staging;
mod validate;

pub use error::{Location, PopulationError};
pub use export::{export, ProgressLine, EXPORT_BATCH};
pub use field::Field;
pub use generate::{GenerateOptions, FICTION_PHONES, MAX_SIZE};
pub use io::{OutputFormat, PopulationWriter, COLUMNS};
pub use model::{Beneficiary, OwnerId, PasswordState, Payment};
pub use owners::{
    beneficiary_value, LoadedPopulation, Owners, WrittenFields, BENEFICIARY_VARIABLES,
};
pub use source::PopulationSource;
pub use sql::ROWS_PER_INSERT;
/// For `crate::har`, which reads the same exports to find a recording's user.
pub(crate) use staging::{export_columns, read_records};
pub use staging::{
    read_mapped, ColumnKind, ColumnMap, ExportError, FileFormat, Owner, WatchedPopulation,
};

/// Beneficiaries whose ids are their positions `0..len`, each identifying value owned by one.
///
/// `beneficiaries` is public for reading; build a population with [`Population::generate`],
/// [`Population::new`] or a reader, which check the invariants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Population {
    pub beneficiaries: Vec<Beneficiary>,
}

impl Population {
    /// Checks `beneficiaries` as a file would be checked (ids, values, households, uniqueness).
    pub fn new(beneficiaries: Vec<Beneficiary>) -> Result<Population, PopulationError> {
        let mut loader = validate::Loader::default();
        for (index, beneficiary) in beneficiaries.into_iter().enumerate() {
            loader.push(Location::Record(index), beneficiary)?;
        }
        loader.finish()
    }

    pub fn len(&self) -> usize {
        self.beneficiaries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.beneficiaries.is_empty()
    }

    pub fn get(&self, id: OwnerId) -> Option<&Beneficiary> {
        self.beneficiaries.get(id as usize)
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Beneficiary> {
        self.beneficiaries.iter()
    }

    /// The members of `id`'s household in id order, `id` included (alone if single); empty
    /// for an unknown id. Members are consecutive ids starting at the household id.
    pub fn household_of(&self, id: OwnerId) -> &[Beneficiary] {
        let Some(member) = self.get(id) else {
            return &[];
        };
        let household = member.household;
        let start = household as usize;
        if start > id as usize {
            return std::slice::from_ref(member);
        }
        let end = self.beneficiaries[start..]
            .iter()
            .position(|b| b.household != household)
            .map_or(self.beneficiaries.len(), |offset| start + offset);
        &self.beneficiaries[start..end.max(id as usize + 1)]
    }

    /// Whether `a` may see `b`'s data: the same beneficiary, or two members of one household.
    pub fn same_household(&self, a: OwnerId, b: OwnerId) -> bool {
        a == b
            || matches!(
                (self.get(a), self.get(b)),
                (Some(x), Some(y)) if x.household == y.household
            )
    }
}

impl<'a> IntoIterator for &'a Population {
    type Item = &'a Beneficiary;
    type IntoIter = std::slice::Iter<'a, Beneficiary>;
    fn into_iter(self) -> Self::IntoIter {
        self.beneficiaries.iter()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::identifiers::{Iban, Nir, NumeroAllocataire};

    /// Hélène Lefèvre, beneficiary 0, alone in her household.
    pub(crate) fn sample() -> Beneficiary {
        Beneficiary {
            id: 0,
            numero_allocataire: NumeroAllocataire::from_number(42).unwrap(),
            nir: Nir::parse("184122A00401633").unwrap(),
            first_name: "Hélène".into(),
            last_name: "Lefèvre".into(),
            street: "12 place de l'Église".into(),
            postcode: "20000".into(),
            city: "Ajaccio".into(),
            phone: "0639981234".into(),
            email: "helene.lefevre.0000042@exemple.test".into(),
            iban: "FR7630001007941234567890185".into(),
            spare_iban: Iban::from_parts(20041, 1005, "0500013M026")
                .unwrap()
                .to_string(),
            household: 0,
            password: "s3cretPassw0".into(),
            password_state: PasswordState::Provisional,
            payments: vec![Payment {
                date: "2026-03-05".into(),
                label: "Prime d'activité".into(),
                amount_cents: 18_250,
            }],
        }
    }

    #[test]
    fn household_of_returns_the_consecutive_members() {
        let population = Population::generate(&GenerateOptions {
            size: 6,
            household_share: 1.0,
            ..GenerateOptions::default()
        })
        .unwrap();
        let ids =
            |id| -> Vec<OwnerId> { population.household_of(id).iter().map(|b| b.id).collect() };
        assert_eq!(ids(0), [0, 1]);
        assert_eq!(ids(1), [0, 1]);
        assert_eq!(ids(5), [4, 5]);
        assert!(ids(6).is_empty());
        assert!(population.same_household(2, 3));
        assert!(!population.same_household(1, 2));
        assert!(!population.same_household(1, 99));
        assert!(population.same_household(99, 99));
    }

    #[test]
    fn household_of_tolerates_records_edited_after_construction() {
        let mut population = Population::generate(&GenerateOptions {
            size: 4,
            household_share: 0.0,
            ..GenerateOptions::default()
        })
        .unwrap();
        population.beneficiaries[1].household = 3;
        population.beneficiaries[2].household = 0;
        assert_eq!(population.household_of(1).len(), 1);
        assert!(population.household_of(2).iter().any(|b| b.id == 2));
    }
}
