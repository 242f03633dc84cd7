//! Hand-built beneficiaries for the portal's tests, independent of the population generator.
//! Every identifying value is unique and valid (NIR key, IBAN checksums), names carry accents and apostrophes.

use crate::identifiers::{Iban, Nir, NirParts, NumeroAllocataire, Place};
use crate::population::{Beneficiary, PasswordState, Payment};

/// `n` distinct beneficiaries (n ≤ 999), each alone in its household.
pub fn crowd(n: u32) -> Vec<Beneficiary> {
    (0..n).map(person).collect()
}

/// Four beneficiaries: 0 and 1 share a household; 3 was born in Corsica (2A).
pub fn beneficiaries() -> Vec<Beneficiary> {
    let mut people = crowd(4);
    let names = [
        ("Zoé", "Lefèvre"),
        ("Étienne", "N'Diaye"),
        ("Anaïs", "Müller"),
        ("Jean-Noël", "Da Silva"),
    ];
    for (person, (first, last)) in people.iter_mut().zip(names) {
        person.first_name = first.to_owned();
        person.last_name = last.to_owned();
    }
    people[1].household = people[0].household;
    people[3].nir = nir(NirParts {
        sex: 1,
        year: 71,
        month: 6,
        place: Place::Department {
            code: *b"2A",
            commune: 4,
        },
        order: 17,
    });
    people
}

fn person(i: u32) -> Beneficiary {
    let order = u16::try_from(i + 1).expect("fixtures hold at most 999 people");
    Beneficiary {
        id: i,
        numero_allocataire: NumeroAllocataire::from_number(2_000_000 + i).expect("7 digits"),
        nir: nir(NirParts {
            sex: 1 + (i % 2) as u8,
            year: 80 + (i % 20) as u8,
            month: 1 + (i % 12) as u8,
            place: Place::Department {
                code: *b"75",
                commune: 111,
            },
            order,
        }),
        first_name: format!("Prénom{i}"),
        last_name: format!("Nom{i}"),
        street: format!("{} rue de l'Église", 100 + i),
        postcode: "75011".to_owned(),
        city: "Paris".to_owned(),
        phone: format!("06{:08}", 39_980_000 + i),
        email: format!("personne{i}@exemple.fr"),
        iban: iban(30001, 794, 12_345_000 + i),
        spare_iban: iban(30002, 100, 98_765_000 + i),
        household: 5_000 + i,
        password: format!("provisoire-{i}"),
        password_state: if i % 2 == 0 {
            PasswordState::Provisional
        } else {
            PasswordState::Changed
        },
        payments: vec![
            Payment {
                date: "2021-09-05".to_owned(),
                label: "Allocations familiales".to_owned(),
                amount_cents: 13_900 + i64::from(i),
            },
            Payment {
                date: "2021-10-05".to_owned(),
                label: "Aide personnalisée au logement".to_owned(),
                amount_cents: 24_100,
            },
        ],
    }
}

fn nir(parts: NirParts) -> Nir {
    Nir::from_parts(parts).expect("valid NIR parts")
}

fn iban(bank: u32, branch: u32, account: u32) -> String {
    Iban::from_parts(bank, branch, &format!("{account:011}"))
        .expect("valid IBAN parts")
        .as_str()
        .to_owned()
}
