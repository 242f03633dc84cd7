//! The properties the fuzz targets check, as plain library functions: `fuzz/` calls them under
//! libFuzzer and `cargo test` replays every saved crash input through the same code.

mod inprocess;
mod login;
mod mutate;
pub mod network;
mod response;

pub use inprocess::{form_decode, form_encode, Answer, InProcessPortal, NoAnswer, Outgoing};
pub use login::{
    identifier_collision, Checked, IdentityPair, LoginFailure, LoginFixture, LoginRequest,
};
pub use mutate::{designates, normalize, IdentifierKind, Mutation};
pub use response::{response_reader, MAX_RESPONSE_INPUT};

use crate::identifiers::{Iban, Nir, NirBody, NirParts, NumeroAllocataire, Place};
use crate::load::Watchlist;
use crate::oracle::{Location, ValueKind};
use crate::population::{Field, GenerateOptions, OwnerId, Population};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// `nir_parse`: the login parser never panics on any bytes; whatever it accepts formats back to
/// the exact input, and the key of an accepted NIR is 97 − (N mod 97).
pub fn nir_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(nir) = Nir::parse(text) {
        let formatted = if text.contains(' ') {
            nir.spaced()
        } else {
            nir.as_str().to_owned()
        };
        assert_eq!(formatted, text, "accepted NIR does not format back");
        assert_eq!(nir.key(), nir.body().key(), "key check does not hold");
        assert_eq!(Nir::parse(nir.as_str()), Ok(nir));
    }
    if let Ok(body) = NirBody::parse(text) {
        assert_eq!(
            body.as_str(),
            text,
            "accepted NIR body does not format back"
        );
        assert_eq!(Nir::parse(body.with_key().as_str()), Ok(body.with_key()));
    }
    if let Ok(numero) = NumeroAllocataire::parse(text) {
        assert_eq!(numero.as_str(), text);
    }
    if let Ok(iban) = Iban::parse(text) {
        assert!(iban.as_str() == text || iban.grouped() == text);
    }
}

/// Raw NIR parts as a fuzzer produces them: any numbers, folded into the valid ranges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawNirParts {
    pub woman: bool,
    pub year: u8,
    pub month: u8,
    /// 0: metropolitan, 1: Corsica, 2: overseas, 3: born abroad.
    pub place_kind: u8,
    pub department: u8,
    pub commune: u16,
    pub order: u16,
}

impl RawNirParts {
    /// The valid identity these numbers stand for.
    pub fn fold(self) -> NirParts {
        // 85 valid months: 01–12, 20–42 and 50–99.
        let month = match self.month as usize % (12 + 23 + 50) {
            m if m < 12 => m as u8 + 1,
            m if m < 35 => m as u8 + 8,
            m => m as u8 + 15,
        };
        let place = match self.place_kind % 4 {
            0 => {
                let mut d = self.department % 95 + 1;
                if d == 20 {
                    d = 96;
                }
                let text = format!("{d:02}");
                Place::Department {
                    code: [text.as_bytes()[0], text.as_bytes()[1]],
                    commune: self.commune % 999 + 1,
                }
            }
            1 => Place::Department {
                code: if self.department % 2 == 0 {
                    *b"2A"
                } else {
                    *b"2B"
                },
                commune: self.commune % 999 + 1,
            },
            2 => Place::Overseas {
                department: 971 + u16::from(self.department % 6),
                commune: (self.commune % 99) as u8 + 1,
            },
            _ => Place::Abroad {
                country: self.commune % 999 + 1,
            },
        };
        NirParts {
            sex: if self.woman { 2 } else { 1 },
            year: self.year % 100,
            month,
            place,
            order: self.order % 999 + 1,
        }
    }
}

/// `nir_structured`: every valid identity is accepted, compact and spaced, and round-trips.
pub fn nir_structured(raw: RawNirParts) {
    let parts = raw.fold();
    let nir =
        Nir::from_parts(parts).unwrap_or_else(|e| panic!("valid identity {parts:?} refused: {e}"));
    assert_eq!(nir.parts(), parts);
    assert_eq!(Nir::parse(nir.as_str()), Ok(nir));
    assert_eq!(Nir::parse(&nir.spaced()), Ok(nir));
    assert_eq!(
        NirBody::parse(nir.body().as_str()).map(|b| b.with_key()),
        Ok(nir)
    );
}

/// `oracle_scan`'s fixed world: a small population and the values each owner has.
pub struct OracleFixture {
    watch: Watchlist,
    values: HashMap<OwnerId, Vec<String>>,
}

impl OracleFixture {
    pub fn new() -> Self {
        let population = Population::generate(&GenerateOptions {
            size: 40,
            seed: 5,
            household_share: 0.5,
            ..GenerateOptions::default()
        })
        .expect("a valid fixture population");
        let watch = Watchlist::build(&population).expect("unique fixture values");
        let values = population
            .beneficiaries
            .iter()
            .map(|b| {
                let mut values: Vec<String> = b
                    .identifying_values()
                    .into_iter()
                    .map(|(_, v)| v.to_ascii_lowercase())
                    .collect();
                // The canonical forms the oracle indexes, which its presentations read back to.
                for (field, value) in b.watched_values() {
                    for form in field.kind().canonical(&value).unwrap_or_default() {
                        values.push(form.to_ascii_lowercase());
                    }
                }
                (b.id, values)
            })
            .collect();
        OracleFixture { watch, values }
    }

    /// One value of `owner`, for building inputs that must be found.
    pub fn value(&self, owner: OwnerId, index: usize) -> &str {
        let values = &self.values[&owner];
        &values[index % values.len()]
    }

    /// `oracle_scan`: never panics, and every sighting names an owner one of whose values is at
    /// exactly that place in the input.
    pub fn check(&self, data: &[u8]) {
        for sighting in self.watch.oracle.scan(data) {
            assert_eq!(sighting.location, Location::Body);
            let found = data
                .get(sighting.start..sighting.end)
                .unwrap_or_else(|| panic!("sighting out of range: {sighting:?}"))
                .to_ascii_lowercase();
            // A presentation of a value of the field's kind is that value.
            let kind = Field::ALL
                .into_iter()
                .find(|f| f.name() == self.watch.oracle.field_name(sighting.field))
                .map_or(ValueKind::Text, Field::kind);
            let read = kind.read_back(&found);
            let owned = self.values.get(&sighting.owner).is_some_and(|values| {
                values.iter().any(|v| {
                    v.as_bytes() == found.as_slice()
                        || read.iter().any(|r| r.eq_ignore_ascii_case(v))
                })
            });
            assert!(
                owned,
                "owner {} named for {:?}, not one of its values",
                sighting.owner,
                String::from_utf8_lossy(&found)
            );
        }
    }
}

impl Default for OracleFixture {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_and_survives_hostile_inputs() {
        for input in [
            &b"184122A00401633"[..],
            b"1 84 12 2A 004 016 33",
            b"184122A004016",
            b"\xff\xfe",
            "１８４１２２Ａ００４０１６５４".as_bytes(),
            b"",
            b"1 84 12 2A 004 016 5\xc3\xa9",
        ] {
            nir_parse(input);
        }
    }

    #[test]
    fn folded_parts_are_always_valid() {
        for seed in 0..2_000u32 {
            let b = seed.to_le_bytes();
            nir_structured(RawNirParts {
                woman: seed % 2 == 0,
                year: b[0],
                month: b[1].wrapping_mul(7),
                place_kind: b[2],
                department: b[3].wrapping_add(b[0]),
                commune: seed as u16,
                order: (seed * 31) as u16,
            });
        }
    }

    #[test]
    fn the_oracle_fixture_finds_what_is_there_and_invents_nothing() {
        let fixture = OracleFixture::new();
        let page = format!(
            "<p>{}</p><p>{}</p>",
            fixture.value(3, 0),
            fixture.value(7, 4)
        );
        fixture.check(page.as_bytes());
        fixture.check(b"\x00\xff random 0639 98 12 34 FR76");
        let sightings = fixture.watch.oracle.scan(page.as_bytes());
        assert!(sightings.iter().any(|s| s.owner == 3));
        assert!(sightings.iter().any(|s| s.owner == 7));
    }
}
