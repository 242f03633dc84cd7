//! Generation: beneficiary `i` of seed `s` is a pure function of `(s, i)`, drawn from ChaCha streams.
//! Identifying values are unique by construction (injective maps of the index), never by retry.

use super::names::{
    Department, BANKS, BENEFITS, COUNTRIES, DEPARTMENTS, FEMALE_FIRST_NAMES,
    FICTION_PHONE_PREFIXES, LAST_NAMES, MALE_FIRST_NAMES, STREETS,
};
use super::{parallel, Beneficiary, OwnerId, PasswordState, Payment, Population, PopulationError};
use crate::identifiers::{Iban, Nir, NirParts, NumeroAllocataire, Place};
use rand::distr::Alphanumeric;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The numéro allocataire has 7 digits: no population can be larger.
pub const MAX_SIZE: usize = 9_999_999;

/// Phone numbers in the regulator's fiction blocks: 6 blocks of 10,000.
pub const FICTION_PHONES: usize = 60_000;

/// Beneficiaries per thread, at least: below that, threads cost more than they save.
const GENERATION_CHUNK: usize = 20_000;
const NUMEROS: u64 = 10_000_000;
const ACCOUNTS: u64 = 100_000_000_000;
const SHORT_SUFFIXES: u64 = 10_000;
const LONG_SUFFIXES: u64 = 10_000_000;

/// Birth years run from 1940 to 2005: adults of every age.
const FIRST_BIRTH_YEAR: u64 = 1940;
const BIRTH_YEARS: u64 = 66;
/// Place kinds: every department (Corsica and overseas included), then every country.
const PLACES: u64 = (DEPARTMENTS.len() + COUNTRIES.len()) as u64;
/// Index space of (sex, month, year, place); what is left picks commune and order.
const PERSON_KINDS: u64 = 2 * 12 * BIRTH_YEARS * PLACES;
const LOCAL_INDEXES: u64 = NUMEROS.div_ceil(PERSON_KINDS);
// The smallest commune × order space (born abroad: order only) must hold every local index.
const _: () = assert!(LOCAL_INDEXES <= 999);

/// How to generate a population.
#[derive(Clone, Debug, PartialEq)]
pub struct GenerateOptions {
    /// Number of beneficiaries, 1 to 9,999,999.
    pub size: usize,
    /// The same seed always gives the same population.
    pub seed: u64,
    /// Fraction of beneficiaries who live in a two-adult household (0 to 1).
    pub household_share: f64,
    /// Fraction of accounts still on the provisional password (0 to 1).
    pub provisional_share: f64,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        Self {
            size: 1_000,
            seed: 0,
            household_share: 0.2,
            provisional_share: 0.5,
        }
    }
}

impl GenerateOptions {
    pub(super) fn validate(&self) -> Result<(), PopulationError> {
        if self.size == 0 || self.size > MAX_SIZE {
            return Err(PopulationError::Size { size: self.size });
        }
        for (name, value) in [
            ("household_share", self.household_share),
            ("provisional_share", self.provisional_share),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(PopulationError::Share { name, value });
            }
        }
        Ok(())
    }
}

impl Population {
    /// Generates `options.size` beneficiaries, deterministically from `options.seed`.
    /// A larger population with the same seed starts with the same beneficiaries (the last
    /// one of the smaller may differ only in its household).
    pub fn generate(options: &GenerateOptions) -> Result<Population, PopulationError> {
        let mut beneficiaries = Vec::with_capacity(options.size);
        Self::generate_in_batches(options, options.size, |batch| {
            beneficiaries.extend(batch);
            Ok::<(), PopulationError>(())
        })?;
        Ok(Population { beneficiaries })
    }

    /// The beneficiaries [`generate`](Self::generate) gives, handed to `sink` in id order, at
    /// most `batch` at a time (each batch made on every core): a population of any size goes
    /// to a file without being held whole. Stops at the first error `sink` returns.
    pub fn generate_in_batches<E: From<PopulationError>>(
        options: &GenerateOptions,
        batch: usize,
        mut sink: impl FnMut(Vec<Beneficiary>) -> Result<(), E>,
    ) -> Result<(), E> {
        options.validate()?;
        let plan = Plan::new(options);
        let batch = batch.max(1);
        for start in (0..options.size).step_by(batch) {
            let range = start..(start + batch).min(options.size);
            let mut beneficiaries = Vec::with_capacity(range.len());
            for chunk in parallel::map_within(range, GENERATION_CHUNK, |range| {
                range
                    .map(|index| plan.beneficiary(index as u64))
                    .collect::<Vec<_>>()
            }) {
                beneficiaries.extend(chunk);
            }
            sink(beneficiaries)?;
        }
        Ok(())
    }
}

/// `x ↦ (multiplier·x + offset) mod modulus`, a bijection of `0..modulus` when the
/// multiplier is coprime with the modulus.
#[derive(Clone, Copy, Debug)]
struct Affine {
    multiplier: u64,
    offset: u64,
    modulus: u64,
}

impl Affine {
    /// A random bijection of `0..modulus`, where `modulus` is a power of ten (≥ 10): the
    /// multiplier ends in 1, 3, 7 or 9, so it is coprime with it.
    fn coprime_with_ten(rng: &mut ChaCha8Rng, modulus: u64) -> Self {
        let pick = rng.random_range(0..modulus / 10 * 4);
        Self {
            multiplier: pick / 4 * 10 + [1, 3, 7, 9][(pick % 4) as usize],
            offset: rng.random_range(0..modulus),
            modulus,
        }
    }

    fn apply(self, x: u64) -> u64 {
        let product = u128::from(self.multiplier) * u128::from(x) + u128::from(self.offset);
        (product % u128::from(self.modulus)) as u64
    }
}

/// A keyed pseudo-random bijection of `0..modulus` (modulus ≤ 2^24): a four-round Feistel network
/// on 24 bits, cycle-walked back into range.
///
/// Used for the NIR, whose low mixed-radix digits are the birth data. An affine map would hand
/// consecutive indexes evenly spaced birth data (for a thousand people, never the same sex, birth
/// year and month twice); real people do share them, and the `nir-lookup` fault of the demo
/// portal reproduces a lookup keyed by exactly those traits. With this map two beneficiaries
/// share them about as often as in a real population of that size.
#[derive(Clone, Copy, Debug)]
struct Permutation {
    keys: [u64; 4],
    modulus: u64,
}

impl Permutation {
    const HALF_BITS: u32 = 12;
    const HALF_MASK: u64 = (1 << Self::HALF_BITS) - 1;

    fn new(rng: &mut ChaCha8Rng, modulus: u64) -> Self {
        assert!(modulus <= 1 << (2 * Self::HALF_BITS), "modulus above 2^24");
        Self {
            keys: rng.random(),
            modulus,
        }
    }

    /// Cycle walking: the Feistel network permutes `0..2^24`, so following the cycle from an
    /// `x` below the modulus reaches a value below it again, and distinct `x` reach distinct ones.
    fn apply(self, x: u64) -> u64 {
        let mut value = self.feistel(x);
        while value >= self.modulus {
            value = self.feistel(value);
        }
        value
    }

    fn feistel(self, value: u64) -> u64 {
        let (mut left, mut right) = (value >> Self::HALF_BITS, value & Self::HALF_MASK);
        for key in self.keys {
            let round = mix(right ^ key) & Self::HALF_MASK;
            (left, right) = (right, left ^ round);
        }
        (left << Self::HALF_BITS) | right
    }
}

/// SplitMix64's finaliser: every input bit affects every output bit.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Everything the seed decides once; each beneficiary is then a function of its index.
struct Plan {
    size: u64,
    household_share: f64,
    provisional_share: f64,
    person_key: [u8; 32],
    household_key: [u8; 32],
    numero: Affine,
    nir: Permutation,
    account: Affine,
    short_phone: Affine,
    long_phone: Affine,
    /// Each name list as it goes into an e-mail address, folded once rather than per beneficiary.
    female_emails: Vec<String>,
    male_emails: Vec<String>,
    last_name_emails: Vec<String>,
}

/// What two members of a household share: a last name (an index in `LAST_NAMES`) and an address.
struct Home {
    last_name: usize,
    street: String,
    postcode: &'static str,
    city: &'static str,
}

impl Plan {
    fn new(options: &GenerateOptions) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
        Self {
            size: options.size as u64,
            household_share: options.household_share,
            provisional_share: options.provisional_share,
            person_key: rng.random(),
            household_key: rng.random(),
            numero: Affine::coprime_with_ten(&mut rng, NUMEROS),
            nir: Permutation::new(&mut rng, NUMEROS),
            account: Affine::coprime_with_ten(&mut rng, ACCOUNTS),
            short_phone: Affine::coprime_with_ten(&mut rng, SHORT_SUFFIXES),
            long_phone: Affine::coprime_with_ten(&mut rng, LONG_SUFFIXES),
            female_emails: FEMALE_FIRST_NAMES.iter().map(|n| email_word(n)).collect(),
            male_emails: MALE_FIRST_NAMES.iter().map(|n| email_word(n)).collect(),
            last_name_emails: LAST_NAMES.iter().map(|n| email_word(n)).collect(),
        }
    }

    fn stream(key: [u8; 32], index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(key);
        rng.set_stream(index);
        rng
    }

    fn beneficiary(&self, index: u64) -> Beneficiary {
        let mut rng = Self::stream(self.person_key, index);
        let (nir, birthplace) = self.nir(index);
        let (first_names, first_emails) = if nir.parts().sex == 1 {
            (MALE_FIRST_NAMES, &self.male_emails)
        } else {
            (FEMALE_FIRST_NAMES, &self.female_emails)
        };
        let first_name = rng.random_range(0..first_names.len());
        // Households are the pairs (2k, 2k+1); the pair's own stream decides whether it lives
        // together, and if so its shared name and address, placed in the first member's birthplace.
        let block = index / 2;
        let mut home_rng = Self::stream(self.household_key, block);
        let together = home_rng.random_bool(self.household_share) && block * 2 + 1 < self.size;
        let (household, home) = if together {
            let first = block * 2;
            let first_birthplace = if first == index {
                birthplace
            } else {
                self.nir(first).1
            };
            (first, home(&mut home_rng, first_birthplace))
        } else {
            (index, home(&mut rng, birthplace))
        };
        let numero_allocataire = NumeroAllocataire::from_number(self.numero.apply(index) as u32)
            .expect("the affine map stays below 10^7");
        let email = format!(
            "{}.{}.{}@exemple.test",
            first_emails[first_name], self.last_name_emails[home.last_name], numero_allocataire
        );
        let iban = self.iban(&mut rng, 2 * index);
        let spare_iban = self.iban(&mut rng, 2 * index + 1);
        let password = (&mut rng)
            .sample_iter(Alphanumeric)
            .take(12)
            .map(char::from)
            .collect();
        let password_state = if rng.random_bool(self.provisional_share) {
            PasswordState::Provisional
        } else {
            PasswordState::Changed
        };
        Beneficiary {
            id: index as OwnerId,
            numero_allocataire,
            nir,
            first_name: first_names[first_name].to_owned(),
            last_name: LAST_NAMES[home.last_name].to_owned(),
            street: home.street,
            postcode: home.postcode.to_owned(),
            city: home.city.to_owned(),
            phone: self.phone(index),
            email,
            iban,
            spare_iban,
            household: household as u32,
            password,
            password_state,
            payments: payments(&mut rng),
        }
    }

    /// The NIR of `index`, and the department whose prefecture makes a plausible home.
    ///
    /// A pseudo-random bijection of `0..10^7` ([`Permutation`]) scatters the index; its
    /// mixed-radix digits are sex, month, birth year and place kind, so people share birth data
    /// as real ones do; the rest (< 58) picks commune and order through a bijection
    /// of the commune × order space of that place. Each step is injective, so the NIR is.
    fn nir(&self, index: u64) -> (Nir, Option<&'static Department>) {
        let mut rest = self.nir.apply(index);
        let mut digit = |radix: u64| {
            let d = rest % radix;
            rest /= radix;
            d
        };
        let sex = digit(2) as u8 + 1;
        let month = digit(12) as u8 + 1;
        let year = ((FIRST_BIRTH_YEAR + digit(BIRTH_YEARS)) % 100) as u8;
        let kind = digit(PLACES) as usize;
        let local = rest;
        // 1,000,003 is prime, so coprime with every local space below.
        let scatter = |space: u64| (local * 1_000_003 + 7_919) % space;
        let (place, order, department) = match (DEPARTMENTS.get(kind), kind) {
            (Some(department), _) if department.code.len() == 3 => {
                let y = scatter(99 * 999);
                let place = Place::Overseas {
                    department: department.code.parse().expect("971–976"),
                    commune: (y % 99 + 1) as u8,
                };
                (place, y / 99 + 1, Some(department))
            }
            (Some(department), _) => {
                let y = scatter(999 * 999);
                let code = department.code.as_bytes();
                let place = Place::Department {
                    code: [code[0], code[1]],
                    commune: (y % 999 + 1) as u16,
                };
                (place, y / 999 + 1, Some(department))
            }
            (None, kind) => {
                let country = COUNTRIES[kind - DEPARTMENTS.len()];
                (Place::Abroad { country }, scatter(999) + 1, None)
            }
        };
        let parts = NirParts {
            sex,
            year,
            month,
            place,
            order: order as u16,
        };
        let nir = Nir::from_parts(parts).expect("generated NIR parts are valid");
        (nir, department)
    }

    /// An IBAN whose 11-digit account number is a bijection of `slot` (2·id or 2·id + 1).
    fn iban(&self, rng: &mut ChaCha8Rng, slot: u64) -> String {
        let bank = BANKS[rng.random_range(0..BANKS.len())];
        let branch = rng.random_range(0..=99_999);
        let account = format!("{:011}", self.account.apply(slot));
        Iban::from_parts(bank, branch, &account)
            .expect("5-digit bank and branch, 11-digit account")
            .as_str()
            .to_owned()
    }

    /// Below 60,000: a number in the regulator's fiction blocks. Past that: the same 6-digit
    /// fiction prefix and 7 more digits, 13 digits that no French line can have.
    fn phone(&self, index: u64) -> String {
        let blocks = FICTION_PHONE_PREFIXES.len() as u64;
        if index < FICTION_PHONES as u64 {
            let prefix = FICTION_PHONE_PREFIXES[(index % blocks) as usize];
            format!("{prefix}{:04}", self.short_phone.apply(index / blocks))
        } else {
            let long = index - FICTION_PHONES as u64;
            let prefix = FICTION_PHONE_PREFIXES[(long % blocks) as usize];
            format!("{prefix}{:07}", self.long_phone.apply(long / blocks))
        }
    }
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, items: &[T]) -> T {
    items[rng.random_range(0..items.len())]
}

/// A home in `department` (born abroad: anywhere in France).
fn home(rng: &mut ChaCha8Rng, department: Option<&'static Department>) -> Home {
    let last_name = rng.random_range(0..LAST_NAMES.len());
    let number = rng.random_range(1..=150);
    let street = format!("{number} {}", pick(rng, STREETS));
    let department =
        department.unwrap_or_else(|| &DEPARTMENTS[rng.random_range(0..DEPARTMENTS.len())]);
    Home {
        last_name,
        street,
        postcode: department.postcode,
        city: department.city,
    }
}

/// Three monthly payments in 2026, paid on the 5th.
fn payments(rng: &mut ChaCha8Rng) -> Vec<Payment> {
    let first_month = rng.random_range(1..=10);
    (0..3)
        .map(|k| {
            let benefit = &BENEFITS[rng.random_range(0..BENEFITS.len())];
            Payment {
                date: format!("2026-{:02}-05", first_month + k),
                label: benefit.label.to_owned(),
                amount_cents: rng.random_range(benefit.cents.clone()),
            }
        })
        .collect()
}

/// A name as it goes into an e-mail address: ASCII, lowercase, no spaces or apostrophes.
fn email_word(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        match c {
            'a'..='z' | '0'..='9' | '-' => out.push(c),
            'à' | 'â' | 'ä' => out.push('a'),
            'é' | 'è' | 'ê' | 'ë' => out.push('e'),
            'î' | 'ï' => out.push('i'),
            'ô' | 'ö' => out.push('o'),
            'ù' | 'û' | 'ü' => out.push('u'),
            'ç' => out.push('c'),
            'ÿ' => out.push('y'),
            'æ' => out.push_str("ae"),
            'œ' => out.push_str("oe"),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::Field;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::time::Instant;

    fn generate(size: usize, seed: u64) -> Population {
        Population::generate(&GenerateOptions {
            size,
            seed,
            ..GenerateOptions::default()
        })
        .unwrap()
    }

    #[test]
    fn the_same_seed_gives_the_same_population_and_another_seed_another() {
        let a = generate(500, 7);
        assert_eq!(a, generate(500, 7));
        let b = generate(500, 8);
        for (x, y) in a.beneficiaries.iter().zip(&b.beneficiaries) {
            assert_ne!(x.nir, y.nir);
            assert_ne!(x.numero_allocataire, y.numero_allocataire);
            assert_ne!(x.iban, y.iban);
            assert_ne!(x.password, y.password);
        }
    }

    #[test]
    fn a_larger_population_starts_with_the_smaller_one() {
        let small = generate(301, 3);
        let large = generate(1_000, 3);
        assert_eq!(small.beneficiaries[..300], large.beneficiaries[..300]);
    }

    #[test]
    fn rejects_sizes_and_shares_out_of_range() {
        let cases = [
            (
                GenerateOptions {
                    size: 0,
                    ..GenerateOptions::default()
                },
                "size 0",
            ),
            (
                GenerateOptions {
                    size: 10_000_000,
                    ..GenerateOptions::default()
                },
                "9999999",
            ),
            (
                GenerateOptions {
                    household_share: 1.5,
                    ..GenerateOptions::default()
                },
                "household_share is 1.5",
            ),
            (
                GenerateOptions {
                    provisional_share: -0.1,
                    ..GenerateOptions::default()
                },
                "provisional_share",
            ),
            (
                GenerateOptions {
                    provisional_share: f64::NAN,
                    ..GenerateOptions::default()
                },
                "NaN",
            ),
        ];
        for (options, needle) in cases {
            let message = Population::generate(&options).unwrap_err().to_string();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
        let edges = GenerateOptions {
            size: 3,
            household_share: 1.0,
            provisional_share: 0.0,
            seed: 1,
        };
        let population = Population::generate(&edges).unwrap();
        assert!(population
            .beneficiaries
            .iter()
            .all(|b| b.password_state == PasswordState::Changed));
        assert_eq!(population.household_of(0).len(), 2);
        assert_eq!(
            population.household_of(2).len(),
            1,
            "the odd one out lives alone"
        );
    }

    #[test]
    fn households_are_consecutive_pairs_sharing_name_and_address() {
        let population = generate(2_000, 11);
        let mut paired = 0;
        for b in &population.beneficiaries {
            let members = population.household_of(b.id);
            assert!(members.len() == 1 || members.len() == 2);
            assert_eq!(members[0].id, b.household);
            if members.len() == 2 {
                paired += 1;
                let (first, second) = (&members[0], &members[1]);
                assert_eq!(second.id, first.id + 1);
                assert_eq!(first.id % 2, 0);
                assert_eq!(
                    (&first.last_name, &first.street, &first.postcode),
                    (&second.last_name, &second.street, &second.postcode)
                );
                assert!(population.same_household(first.id, second.id));
            } else {
                assert_eq!(b.household, b.id);
            }
        }
        let share = f64::from(paired) / 2_000.0;
        assert!((0.15..0.25).contains(&share), "household share {share}");
    }

    #[test]
    fn provisional_share_is_roughly_respected() {
        for wanted in [0.1, 0.5, 0.9] {
            let population = Population::generate(&GenerateOptions {
                size: 4_000,
                provisional_share: wanted,
                ..GenerateOptions::default()
            })
            .unwrap();
            let provisional = population
                .beneficiaries
                .iter()
                .filter(|b| b.password_state == PasswordState::Provisional)
                .count() as f64
                / 4_000.0;
            assert!(
                (provisional - wanted).abs() < 0.03,
                "{provisional} for {wanted}"
            );
        }
    }

    #[test]
    fn nirs_cover_both_sexes_corsica_overseas_and_the_foreign_born() {
        let population = generate(3_000, 5);
        let nirs: Vec<&str> = population
            .beneficiaries
            .iter()
            .map(|b| b.nir.as_str())
            .collect();
        for (what, found) in [
            ("men", nirs.iter().any(|n| n.starts_with('1'))),
            ("women", nirs.iter().any(|n| n.starts_with('2'))),
            ("2A", nirs.iter().any(|n| &n[5..7] == "2A")),
            ("2B", nirs.iter().any(|n| &n[5..7] == "2B")),
            ("overseas", nirs.iter().any(|n| &n[5..7] == "97")),
            ("abroad", nirs.iter().any(|n| &n[5..7] == "99")),
        ] {
            assert!(found, "no NIR for {what}");
        }
        for b in &population.beneficiaries {
            assert_eq!(Nir::parse(b.nir.as_str()).unwrap(), b.nir);
            // A single or a household's first member lives in their birth department.
            let department = &b.nir.as_str()[5..7];
            if b.household == b.id && (department == "2A" || department == "2B") {
                assert!(b.postcode.starts_with("20"), "{:?}", b);
            }
        }
    }

    #[test]
    fn every_generated_value_is_well_formed() {
        let population = generate(1_000, 9);
        for b in &population.beneficiaries {
            assert_eq!(Iban::parse(&b.iban).unwrap().as_str(), b.iban);
            assert_eq!(Iban::parse(&b.spare_iban).unwrap().as_str(), b.spare_iban);
            assert_eq!(b.password.len(), 12);
            assert!(b.password.bytes().all(|c| c.is_ascii_alphanumeric()));
            assert!(b.email.ends_with("@exemple.test") && b.email.is_ascii());
            assert_eq!(b.email, b.email.to_lowercase());
            assert!(b.email.contains(b.numero_allocataire.as_str()));
            assert_eq!(b.payments.len(), 3);
            assert!(b
                .payments
                .iter()
                .all(|p| p.date.starts_with("2026-") && p.amount_cents > 0));
            assert_eq!(b.postcode.len(), 5);
        }
        let accented = population
            .beneficiaries
            .iter()
            .filter(|b| !b.first_name.is_ascii() || !b.last_name.is_ascii());
        assert!(
            accented.count() > 50,
            "pages must be tested with accented names"
        );
    }

    #[test]
    fn email_words_are_folded_to_ascii() {
        assert_eq!(email_word("Hélène"), "helene");
        assert_eq!(email_word("Lefèvre"), "lefevre");
        assert_eq!(email_word("N'Diaye"), "ndiaye");
        assert_eq!(email_word("Da Silva"), "dasilva");
        assert_eq!(email_word("Anne-Sophie"), "anne-sophie");
        assert_eq!(email_word("Françoise"), "francoise");
    }

    #[test]
    fn phones_leave_the_fiction_blocks_at_60000_and_grow_to_13_digits() {
        let plan = Plan::new(&GenerateOptions {
            size: MAX_SIZE,
            ..GenerateOptions::default()
        });
        for index in [0, 1, 5, 59_994, 59_999] {
            let phone = plan.phone(index);
            assert_eq!(phone.len(), 10, "{phone}");
            assert!(FICTION_PHONE_PREFIXES.iter().any(|p| phone.starts_with(p)));
        }
        for index in [60_000, 60_001, 1_000_000, MAX_SIZE as u64 - 1] {
            let phone = plan.phone(index);
            assert_eq!(phone.len(), 13, "{phone}");
            assert!(FICTION_PHONE_PREFIXES.iter().any(|p| phone.starts_with(p)));
        }
        let fiction: std::collections::HashSet<String> =
            (0..FICTION_PHONES as u64).map(|i| plan.phone(i)).collect();
        assert_eq!(
            fiction.len(),
            FICTION_PHONES,
            "all 60,000 fiction numbers, once each"
        );
    }

    #[test]
    fn the_permutations_are_bijections() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let map = Affine::coprime_with_ten(&mut rng, 10_000);
        let mut seen = vec![false; 10_000];
        for x in 0..10_000 {
            let y = map.apply(x) as usize;
            assert!(!seen[y]);
            seen[y] = true;
        }
        for modulus in [10_000, NUMEROS] {
            let map = Permutation::new(&mut rng, modulus);
            let mut seen = vec![false; modulus as usize];
            for x in 0..modulus {
                let y = map.apply(x) as usize;
                assert!(!seen[y], "{y} reached twice (modulus {modulus})");
                seen[y] = true;
            }
        }
    }

    proptest! {
        /// Beyond the first million: any two beneficiaries anywhere up to 9,999,999, for any
        /// seed, share no rendering of any identifying value.
        #[test]
        fn any_two_beneficiaries_share_no_identifying_value(
            seed in any::<u64>(),
            a in 0u64..MAX_SIZE as u64,
            b in 0u64..MAX_SIZE as u64,
        ) {
            prop_assume!(a != b);
            let plan = Plan::new(&GenerateOptions { size: MAX_SIZE, seed, ..GenerateOptions::default() });
            let (a, b) = (plan.beneficiary(a), plan.beneficiary(b));
            for (field, value) in a.identifying_values() {
                let clash = b.identifying_values().into_iter().find(|(_, other)| *other == value);
                prop_assert!(clash.is_none(), "{} {:?} of {} also belongs to {}: {:?}", field, value, a.id, b.id, clash);
            }
        }
    }

    /// The claim the oracle rests on: across a million beneficiaries, every rendering of every
    /// identifying value belongs to exactly one of them. Builds the population the public way
    /// and checks it with `Population::check_unique`, which compares every rendering.
    #[test]
    fn a_million_beneficiaries_have_unique_identifying_values() {
        let started = Instant::now();
        let population = generate(1_000_000, 2026);
        let generated = started.elapsed();
        population.check_unique().unwrap();
        let checked = started.elapsed() - generated;
        // What was checked spans every field and both kinds of phone number.
        let fields: BTreeSet<Field> = population.beneficiaries[0]
            .identifying_values()
            .into_iter()
            .map(|(field, _)| field)
            .collect();
        assert_eq!(fields.len(), Field::ALL.len());
        assert_eq!(population.beneficiaries[FICTION_PHONES - 1].phone.len(), 10);
        assert_eq!(population.beneficiaries[FICTION_PHONES].phone.len(), 13);
        eprintln!("1,000,000 beneficiaries: generated in {generated:?}, 13,000,000 renderings checked in {checked:?}");
    }
}
