//! The checks a population read from outside must pass before the oracle may trust it:
//! well-formed values, ids in order, households as consecutive runs, every rendering unique.

use super::{parallel, Beneficiary, Field, Location, OwnerId, Population, PopulationError};
use crate::identifiers::Iban;
use std::collections::{HashMap, HashSet};

/// Builds a population one record at a time, checking each as it comes.
#[derive(Default)]
pub(super) struct Loader {
    beneficiaries: Vec<Beneficiary>,
}

impl Loader {
    pub(super) fn push(&mut self, at: Location, b: Beneficiary) -> Result<(), PopulationError> {
        let expected = self.beneficiaries.len() as OwnerId;
        if b.id != expected {
            return Err(PopulationError::IdOrder {
                at,
                expected,
                found: b.id,
            });
        }
        check_values(&b).map_err(|(column, message)| PopulationError::Value {
            at,
            column,
            message,
        })?;
        self.check_household(at, &b)?;
        self.beneficiaries.push(b);
        Ok(())
    }

    pub(super) fn finish(self) -> Result<Population, PopulationError> {
        if self.beneficiaries.is_empty() {
            return Err(PopulationError::Empty);
        }
        let population = Population {
            beneficiaries: self.beneficiaries,
        };
        population.check_unique()?;
        Ok(population)
    }

    /// A household is a run of consecutive ids whose first member's id is the household id.
    fn check_household(&self, at: Location, b: &Beneficiary) -> Result<(), PopulationError> {
        if b.household == b.id {
            return Ok(());
        }
        let reason = if b.household > b.id {
            Some("that id comes after theirs")
        } else if self.beneficiaries[b.household as usize].household != b.household {
            Some("beneficiary with that id is not the first member of a household")
        } else if self.beneficiaries[b.id as usize - 1].household != b.household {
            Some("the beneficiary just before is not in that household")
        } else {
            None
        };
        match reason {
            None => Ok(()),
            Some(reason) => Err(PopulationError::Household {
                at,
                id: b.id,
                household: b.household,
                reason,
            }),
        }
    }
}

/// The first malformed value of a record, as (column, what is wrong and what to do).
fn check_values(b: &Beneficiary) -> Result<(), (&'static str, String)> {
    for (column, value) in [("iban", &b.iban), ("spare_iban", &b.spare_iban)] {
        let iban = Iban::parse(value).map_err(|e| (column, e.to_string()))?;
        if iban.as_str() != value {
            return Err((column, "write the IBAN compact, without spaces".into()));
        }
    }
    if !is_phone(&b.phone) {
        return Err((
            "phone",
            format!(
                "{:?} is not a phone number: write 10 digits starting with 0 and without spaces (0639981234)",
                b.phone
            ),
        ));
    }
    if b.email.is_empty() || !b.email.contains('@') || b.email != b.email.to_lowercase() {
        return Err((
            "email",
            format!(
                "{:?} is not a lowercase e-mail address: write it in lowercase, with an @",
                b.email
            ),
        ));
    }
    for (column, value) in [
        ("first_name", &b.first_name),
        ("last_name", &b.last_name),
        ("password", &b.password),
    ] {
        if value.is_empty() {
            return Err((column, "must not be empty".into()));
        }
    }
    if b.postcode.len() != 5 || !b.postcode.bytes().all(|c| c.is_ascii_digit()) {
        return Err((
            "postcode",
            format!("{:?} is not a postcode: write 5 digits", b.postcode),
        ));
    }
    for payment in &b.payments {
        if !is_date(&payment.date) {
            return Err((
                "payments",
                format!(
                    "payment date {:?} is not a date: write YYYY-MM-DD",
                    payment.date
                ),
            ));
        }
        if payment.label.is_empty() {
            return Err(("payments", "a payment label must not be empty".into()));
        }
    }
    Ok(())
}

/// 10 digits starting with `0` and a non-zero digit, or a 13-digit synthetic number
/// (6-digit fiction prefix and 7 digits) as generated past the 60,000 fiction numbers.
fn is_phone(phone: &str) -> bool {
    let bytes = phone.as_bytes();
    bytes.iter().all(u8::is_ascii_digit)
        && bytes.first() == Some(&b'0')
        && match bytes.len() {
            10 => bytes[1] != b'0',
            13 => super::names::FICTION_PHONE_PREFIXES
                .iter()
                .any(|prefix| phone.starts_with(prefix)),
            _ => false,
        }
}

fn is_date(date: &str) -> bool {
    let b = date.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|i| b[*i].is_ascii_digit())
        && (1..=12).contains(&((b[5] - b'0') * 10 + (b[6] - b'0')))
        && (1..=31).contains(&((b[8] - b'0') * 10 + (b[9] - b'0')))
}

impl Population {
    /// Checks that every rendering of every identifying value belongs to one beneficiary only.
    ///
    /// First pass: a 64-bit hash of each rendering, radix-sorted; no repeated hash proves
    /// uniqueness. Only if some hash repeats does a second pass compare the actual strings, so
    /// a hash collision never causes a false error and the error names the first clashing pair.
    pub fn check_unique(&self) -> Result<(), PopulationError> {
        let chunks = parallel::map_ranges(self.len(), HASH_CHUNK, |range| {
            let mut hashes = Vec::with_capacity(range.len() * 13);
            for b in &self.beneficiaries[range] {
                push_value_hashes(b, &mut hashes);
            }
            hashes
        });
        let repeated = repeated_hashes(&chunks.concat());
        if repeated.is_empty() {
            return Ok(());
        }
        let mut owners: HashMap<String, (OwnerId, Field)> = HashMap::new();
        for b in &self.beneficiaries {
            for (field, value) in b.identifying_values() {
                if !repeated.contains(&hash(&value)) {
                    continue;
                }
                match owners.get(&value) {
                    Some(&(first, first_field)) if first != b.id => {
                        return Err(PopulationError::Duplicate {
                            first,
                            first_field,
                            second: b.id,
                            second_field: field,
                        });
                    }
                    Some(_) => {}
                    None => {
                        owners.insert(value, (b.id, field));
                    }
                }
            }
        }
        Ok(())
    }
}

/// Beneficiaries per thread, at least, when hashing their values.
const HASH_CHUNK: usize = 50_000;

/// Appends the hash of each of `b`'s identifying values.
pub(super) fn push_value_hashes(b: &Beneficiary, hashes: &mut Vec<u64>) {
    for (_, value) in b.identifying_values() {
        hashes.push(hash(&value));
    }
}

/// The hashes that occur more than once, found with an open-addressing table (linear
/// probing, at most half full): linear time, and fast even at opt-level 0 (tests).
pub(super) fn repeated_hashes(hashes: &[u64]) -> HashSet<u64> {
    let capacity = (hashes.len() * 2).next_power_of_two().max(16);
    let mask = capacity - 1;
    // 0 marks an empty slot, so the hash 0 is counted apart.
    let mut table = vec![0u64; capacity];
    let mut zeros = 0;
    let mut repeated = HashSet::new();
    for &h in hashes {
        if h == 0 {
            zeros += 1;
            if zeros > 1 {
                repeated.insert(0);
            }
            continue;
        }
        // The low bits of a well-mixed hash are as good a slot as any.
        let mut slot = h as usize & mask;
        loop {
            let here = table[slot];
            if here == 0 {
                table[slot] = h;
                break;
            }
            if here == h {
                repeated.insert(h);
                break;
            }
            slot = (slot + 1) & mask;
        }
    }
    repeated
}

/// A 64-bit hash of good quality, 8 bytes per step (MurmurHash3-style block mixing and
/// finaliser), written out because the crate builds at opt-level 0 in tests.
fn hash(value: &str) -> u64 {
    const C1: u64 = 0x87C3_7B91_1142_53D5;
    const C2: u64 = 0x4CF5_AD43_2745_937F;
    let bytes = value.as_bytes();
    let mut h = bytes.len() as u64;
    let mut blocks = bytes.chunks_exact(8);
    let mut mix = |block: u64| {
        h ^= block.wrapping_mul(C1).rotate_left(31).wrapping_mul(C2);
        h = h.rotate_left(27).wrapping_mul(5).wrapping_add(0x52DC_E729);
    };
    for block in blocks.by_ref() {
        mix(u64::from_le_bytes(block.try_into().expect("8 bytes")));
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let mut word = [0u8; 8];
        word[..tail.len()].copy_from_slice(tail);
        mix(u64::from_le_bytes(word));
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^= h >> 33;
    h = h.wrapping_mul(0xC4CE_B9FE_1A85_EC53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    fn two() -> Vec<Beneficiary> {
        let mut second = sample();
        second.id = 1;
        second.household = 1;
        second.numero_allocataire = crate::identifiers::NumeroAllocataire::from_number(43).unwrap();
        second.nir = crate::identifiers::NirBody::parse("2910797411123")
            .unwrap()
            .with_key();
        second.iban = crate::identifiers::Iban::from_parts(30004, 1, "00000000001")
            .unwrap()
            .to_string();
        second.spare_iban = crate::identifiers::Iban::from_parts(30004, 1, "00000000002")
            .unwrap()
            .to_string();
        second.phone = "0199001234".into();
        second.email = "jean.martin.0000043@exemple.test".into();
        vec![sample(), second]
    }

    #[test]
    fn a_valid_population_passes() {
        let population = Population::new(two()).unwrap();
        assert_eq!(population.len(), 2);
    }

    #[test]
    fn a_shared_value_names_both_beneficiaries_and_the_fields() {
        let mut records = two();
        records[1].spare_iban = records[0].iban.clone();
        let message = Population::new(records).unwrap_err().to_string();
        assert!(
            message.contains("beneficiaries 0 (iban) and 1 (written_iban)"),
            "{message}"
        );

        let mut records = two();
        records[1].phone = records[0].phone.clone();
        let message = Population::new(records).unwrap_err().to_string();
        assert!(message.contains("0 (phone) and 1 (phone)"), "{message}");
    }

    #[test]
    fn malformed_values_name_the_column() {
        type Spoil = fn(&mut Beneficiary);
        let cases: [(Spoil, &str); 8] = [
            (
                |b| b.iban = "FR76 3000 1007 9412 3456 7890 185".into(),
                "column iban: write the IBAN compact",
            ),
            (
                |b| b.spare_iban = "FR7630001007941234567890186".into(),
                "column spare_iban: RIB key 86",
            ),
            (|b| b.phone = "06 39 98 12 34".into(), "column phone"),
            (|b| b.phone = "0039981234".into(), "column phone"),
            (|b| b.email = "Helene@exemple.test".into(), "column email"),
            (|b| b.password.clear(), "column password: must not be empty"),
            (|b| b.postcode = "2A000".into(), "column postcode"),
            (
                |b| b.payments[0].date = "2026-13-05".into(),
                "column payments",
            ),
        ];
        for (spoil, needle) in cases {
            let mut records = two();
            spoil(&mut records[1]);
            let message = Population::new(records).unwrap_err().to_string();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
            assert!(message.starts_with("record 1"), "{message}");
        }
    }

    #[test]
    fn ids_must_run_in_order_and_households_be_consecutive_runs() {
        let mut records = two();
        records[1].id = 5;
        let message = Population::new(records).unwrap_err().to_string();
        assert!(message.contains("id 5 where 1 was expected"), "{message}");

        let mut records = two();
        records[0].household = 1;
        let message = Population::new(records).unwrap_err().to_string();
        assert!(message.contains("comes after"), "{message}");

        let mut records = two();
        records[1].household = 0;
        assert!(Population::new(records).is_ok());

        let mut records = two();
        records.push(records[1].clone());
        records[2].id = 2;
        records[2].household = 0;
        records[2].numero_allocataire =
            crate::identifiers::NumeroAllocataire::from_number(44).unwrap();
        let message = Population::new(records).unwrap_err().to_string();
        assert!(message.contains("just before"), "{message}");

        assert!(matches!(
            Population::new(Vec::new()),
            Err(PopulationError::Empty)
        ));
    }

    #[test]
    fn repeated_hashes_finds_exactly_the_repeats() {
        assert_eq!(
            repeated_hashes(&[5, 3, 5, 9, 3, 3, 0, 7]),
            HashSet::from([3, 5])
        );
        assert_eq!(repeated_hashes(&[0, 0, 1]), HashSet::from([0]));
        assert!(repeated_hashes(&[]).is_empty());
        // Many values landing on one slot still probe to the right answer.
        let crowded: Vec<u64> = (1..=40).map(|i| i << 32).collect();
        assert!(repeated_hashes(&crowded).is_empty());
        let mut twice = crowded.clone();
        twice.push(17 << 32);
        assert_eq!(repeated_hashes(&twice), HashSet::from([17 << 32]));
    }

    #[test]
    fn phones_and_dates() {
        assert!(is_phone("0639981234"));
        assert!(is_phone("0639981234567"));
        assert!(!is_phone("0612345678901"));
        assert!(!is_phone("063998123"));
        assert!(!is_phone("+33639981234"));
        assert!(is_date("2026-02-05"));
        assert!(!is_date("2026-2-5"));
        assert!(!is_date("2026-02-00"));
    }
}
