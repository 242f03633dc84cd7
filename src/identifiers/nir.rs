//! NIR (numéro de sécurité sociale): 13 characters plus a 2-digit key, strictly parsed.
//! Layout: sex, year, month, place (department + commune, 97x + commune, or 99 + country), order, key.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A valid 15-character NIR, stored compact and uppercase (`184122A00401633`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Nir([u8; 15]);

/// The 13 characters of a NIR without its key: what the CAF login asks for since 2021.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NirBody([u8; 13]);

/// Where a person was born, as the NIR encodes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Place {
    /// Metropolitan department `01`–`96` (not `20`) or Corsica `2A`/`2B`, then a 3-digit commune.
    Department { code: [u8; 2], commune: u16 },
    /// Overseas department `971`–`976`, then a 2-digit commune.
    Overseas { department: u16, commune: u8 },
    /// Born abroad: `99` then a 3-digit country code.
    Abroad { country: u16 },
}

/// The parts of a NIR, for building one and for reading one back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NirParts {
    /// 1 (man) or 2 (woman); temporary numbers (7, 8) cannot log in and are refused.
    pub sex: u8,
    /// Last two digits of the birth year, 0–99.
    pub year: u8,
    /// 1–12, or 20–42 / 50–99 for incomplete civil records.
    pub month: u8,
    pub place: Place,
    /// Order number within the commune and month, 1–999.
    pub order: u16,
}

/// Why a string is not a NIR. Positions count characters of the compact form, from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NirError {
    #[error("a NIR has 15 characters (13 and a 2-digit key), found {found}: {hint}")]
    Length { found: usize, hint: &'static str },
    #[error("unexpected {found:?} at position {position}: {expected}")]
    Character {
        position: usize,
        found: char,
        expected: &'static str,
    },
    #[error("spaces must split the NIR as `1 84 12 2A 004 016 54` (or `2 84 12 976 01 016 54` overseas): found groups of {found:?} characters")]
    Spacing { found: Vec<usize> },
    #[error("sex digit {found} is a temporary number (7 or 8), which cannot log in: use the person's definitive NIR")]
    TemporaryNumber { found: u8 },
    #[error("sex digit must be 1 or 2, found {found}")]
    Sex { found: char },
    #[error(
        "month {found:02} does not exist: use 01–12, or 20–42 / 50–99 for incomplete civil records"
    )]
    Month { found: u8 },
    #[error("department {found:?} does not exist: use 01–96 (Corsica is 2A or 2B, never 20), 971–976, or 99 for the foreign-born")]
    Department { found: String },
    #[error("commune or country code {found:?} is not valid: it must be digits and not all zeros")]
    Commune { found: String },
    #[error("order number 000 is not valid: it runs from 001 to 999")]
    Order,
    #[error("key {found:02} does not match the other 13 characters, whose key is {expected:02}: check every digit")]
    Key { expected: u8, found: u8 },
}

const SPACED_METROPOLITAN: [usize; 7] = [1, 2, 2, 2, 3, 3, 2];
const SPACED_OVERSEAS: [usize; 7] = [1, 2, 2, 3, 2, 3, 2];

impl Nir {
    /// Strict parse of the compact form or the spaced presentation (`1 84 12 2A 004 016 33`).
    pub fn parse(input: &str) -> Result<Self, NirError> {
        let compact = unspace(input)?;
        let length = compact.chars().count();
        if length != 15 {
            let hint = if length == 13 {
                "this looks like the 13-character login form; add the key or parse it as a NirBody"
            } else {
                "write all 15 characters"
            };
            return Err(NirError::Length {
                found: length,
                hint,
            });
        }
        let bytes = ascii_bytes(&compact)?;
        let body = NirBody::from_ascii(bytes[..13].try_into().expect("15 bytes"))?;
        let found = two_digits(bytes, 13, "the key is two digits")?;
        let expected = body.key();
        if found != expected {
            return Err(NirError::Key { expected, found });
        }
        Ok(body.with_key())
    }

    /// Builds the NIR for `parts`, computing its key.
    pub fn from_parts(parts: NirParts) -> Result<Self, NirError> {
        let place = match parts.place {
            Place::Department { code, commune } => {
                format!("{}{commune:03}", String::from_utf8_lossy(&code))
            }
            Place::Overseas {
                department,
                commune,
            } => format!("{department:03}{commune:02}"),
            Place::Abroad { country } => format!("99{country:03}"),
        };
        let text = format!(
            "{}{:02}{:02}{place}{:03}",
            parts.sex, parts.year, parts.month, parts.order
        );
        Ok(NirBody::parse(&text)?.with_key())
    }

    /// The compact 15-character form.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII")
    }

    /// The 13 characters without the key, as typed at the CAF login.
    pub fn body(&self) -> NirBody {
        NirBody(self.0[..13].try_into().expect("15 bytes"))
    }

    pub fn key(&self) -> u8 {
        (self.0[13] - b'0') * 10 + (self.0[14] - b'0')
    }

    /// The spaced presentation printed on cards and letters: `1 84 12 2A 004 016 33`.
    pub fn spaced(&self) -> String {
        let groups = if self.body().is_overseas() {
            SPACED_OVERSEAS
        } else {
            SPACED_METROPOLITAN
        };
        let mut out = String::with_capacity(21);
        let mut at = 0;
        for (index, len) in groups.iter().enumerate() {
            if index > 0 {
                out.push(' ');
            }
            out.push_str(&self.as_str()[at..at + len]);
            at += len;
        }
        out
    }

    pub fn parts(&self) -> NirParts {
        self.body().parts()
    }
}

impl NirBody {
    /// Strict parse of the 13-character form (no key, no spaces).
    pub fn parse(input: &str) -> Result<Self, NirError> {
        let length = input.chars().count();
        if length != 13 {
            return Err(NirError::Length {
                found: length,
                hint: "the login form has exactly 13 characters, without the key",
            });
        }
        let bytes = ascii_bytes(input)?;
        Self::from_ascii(bytes.try_into().expect("13 bytes"))
    }

    fn from_ascii(bytes: [u8; 13]) -> Result<Self, NirError> {
        let body = Self(bytes);
        body.validate()?;
        Ok(body)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII")
    }

    /// The key: 97 − (N mod 97), N being the 13 characters as a number with 2A→19, 2B→18.
    pub fn key(&self) -> u8 {
        let mut digits = self.0;
        match &digits[5..7] {
            b"2A" => digits[5..7].copy_from_slice(b"19"),
            b"2B" => digits[5..7].copy_from_slice(b"18"),
            _ => {}
        }
        let n = digits
            .iter()
            .fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0'));
        (97 - n % 97) as u8
    }

    pub fn with_key(&self) -> Nir {
        let key = self.key();
        let mut out = [0u8; 15];
        out[..13].copy_from_slice(&self.0);
        out[13] = b'0' + key / 10;
        out[14] = b'0' + key % 10;
        Nir(out)
    }

    fn is_overseas(&self) -> bool {
        &self.0[5..7] == b"97"
    }

    fn parts(&self) -> NirParts {
        let b = &self.0;
        let num = |range: std::ops::Range<usize>| -> u16 {
            b[range]
                .iter()
                .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
        };
        let place = match &b[5..7] {
            b"97" => Place::Overseas {
                department: num(5..8),
                commune: num(8..10) as u8,
            },
            b"99" => Place::Abroad {
                country: num(7..10),
            },
            code => Place::Department {
                code: [code[0], code[1]],
                commune: num(7..10),
            },
        };
        NirParts {
            sex: b[0] - b'0',
            year: num(1..3) as u8,
            month: num(3..5) as u8,
            place,
            order: num(10..13),
        }
    }

    fn validate(&self) -> Result<(), NirError> {
        let b = &self.0;
        match b[0] {
            b'1' | b'2' => {}
            b'7' | b'8' => {
                return Err(NirError::TemporaryNumber { found: b[0] - b'0' });
            }
            other => {
                return Err(NirError::Sex {
                    found: other as char,
                })
            }
        }
        two_digits(b, 1, "the birth year is two digits")?;
        let month = two_digits(b, 3, "the birth month is two digits")?;
        if !matches!(month, 1..=12 | 20..=42 | 50..=99) {
            return Err(NirError::Month { found: month });
        }
        let department = &b[5..7];
        let (commune_range, commune_name) = match department {
            b"2A" | b"2B" => (7..10, "the commune is three digits"),
            [b'9', b'7'] => {
                let third = b[7];
                if !(b'1'..=b'6').contains(&third) {
                    return Err(NirError::Department {
                        found: String::from_utf8_lossy(&b[5..8]).into_owned(),
                    });
                }
                (8..10, "an overseas commune is two digits")
            }
            _ => {
                let code = two_digits(b, 5, "the department is two digits, or 2A/2B")?;
                if !(1..=96).contains(&code) && code != 99 || code == 20 {
                    return Err(NirError::Department {
                        found: String::from_utf8_lossy(department).into_owned(),
                    });
                }
                (7..10, "the commune or country code is three digits")
            }
        };
        for position in commune_range.clone() {
            digit(b, position, commune_name)?;
        }
        if b[commune_range.clone()].iter().all(|d| *d == b'0') {
            return Err(NirError::Commune {
                found: String::from_utf8_lossy(&b[commune_range]).into_owned(),
            });
        }
        for position in 10..13 {
            digit(b, position, "the order number is three digits")?;
        }
        if &b[10..13] == b"000" {
            return Err(NirError::Order);
        }
        Ok(())
    }
}

/// Removes the presentation spaces, which must split the NIR into its exact groups.
fn unspace(input: &str) -> Result<String, NirError> {
    if !input.contains(' ') {
        return Ok(input.to_owned());
    }
    let groups: Vec<&str> = input.split(' ').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.chars().count()).collect();
    let overseas = groups.get(3).is_some_and(|g| g.starts_with("97"));
    let expected = if overseas {
        SPACED_OVERSEAS
    } else {
        SPACED_METROPOLITAN
    };
    if lengths != expected {
        return Err(NirError::Spacing { found: lengths });
    }
    Ok(groups.concat())
}

fn ascii_bytes(input: &str) -> Result<&[u8], NirError> {
    if let Some((position, found)) = input.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
        return Err(NirError::Character {
            position,
            found,
            expected: "a NIR has only ASCII digits (and 2A/2B): retype it without full-width or accented characters",
        });
    }
    Ok(input.as_bytes())
}

fn digit(bytes: &[u8], position: usize, expected: &'static str) -> Result<u8, NirError> {
    let c = bytes[position];
    if c.is_ascii_digit() {
        Ok(c - b'0')
    } else {
        Err(NirError::Character {
            position,
            found: c as char,
            expected,
        })
    }
}

fn two_digits(bytes: &[u8], position: usize, expected: &'static str) -> Result<u8, NirError> {
    Ok(digit(bytes, position, expected)? * 10 + digit(bytes, position + 1, expected)?)
}

impl fmt::Display for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Nir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Nir({})", self.as_str())
    }
}

impl fmt::Display for NirBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for NirBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NirBody({})", self.as_str())
    }
}

impl TryFrom<String> for Nir {
    type Error = NirError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Nir> for String {
    fn from(value: Nir) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_spaced_presentation_with_corsica() {
        let nir = Nir::parse("1 84 12 2A 004 016 33").unwrap();
        assert_eq!(nir.as_str(), "184122A00401633");
        assert_eq!(nir.spaced(), "1 84 12 2A 004 016 33");
        assert_eq!(Nir::parse("184122A00401633").unwrap(), nir);
    }

    #[test]
    fn key_uses_19_for_2a_and_18_for_2b() {
        // 1841219004016 mod 97 = 64, key 33.
        let a = NirBody::parse("184122A004016").unwrap();
        assert_eq!(a.key(), 33);
        let b = NirBody::parse("184122B004016").unwrap();
        assert_eq!(u64::from(97 - b.key()), 1_841_218_004_016 % 97);
    }

    #[test]
    fn overseas_and_foreign_born() {
        let overseas = Nir::from_parts(NirParts {
            sex: 2,
            year: 91,
            month: 7,
            place: Place::Overseas {
                department: 974,
                commune: 11,
            },
            order: 123,
        })
        .unwrap();
        assert_eq!(&overseas.as_str()[..13], "2910797411123");
        assert_eq!(Nir::parse(&overseas.spaced()).unwrap(), overseas);
        assert_eq!(overseas.spaced().split(' ').nth(3), Some("974"));
        let abroad = NirBody::parse("1750599352042").unwrap().with_key();
        assert_eq!(abroad.parts().place, Place::Abroad { country: 352 });
    }

    #[test]
    fn every_error_says_what_is_wrong() {
        let cases = [
            ("18412", "15 characters"),
            ("184122A004016", "13-character login form"),
            ("384122A00401654", "sex digit must be 1 or 2"),
            ("784122A00401654", "temporary number"),
            ("184132A00401654", "month 13"),
            ("1841220004016XX", "Corsica is 2A or 2B"),
            ("184129800401654", "department"),
            (
                "184122A00401655",
                "key 55 does not match the other 13 characters, whose key is 33",
            ),
            ("184122A00400054", "order number 000"),
            ("184122a00401654", "unexpected 'a'"),
            ("1 84 12 2A 00401654", "spaces must split"),
            ("１84122A00401654", "ASCII"),
        ];
        for (input, needle) in cases {
            let message = Nir::parse(input).unwrap_err().to_string();
            assert!(
                message.contains(needle),
                "{input}: {message:?} lacks {needle:?}"
            );
        }
    }

    fn arb_parts() -> impl Strategy<Value = NirParts> {
        let place = prop_oneof![
            (1u8..=96, 1u16..=999)
                .prop_filter("20 is not a department", |(d, _)| *d != 20)
                .prop_map(|(d, commune)| {
                    let text = format!("{d:02}");
                    let code = [text.as_bytes()[0], text.as_bytes()[1]];
                    Place::Department { code, commune }
                }),
            (prop_oneof![Just(*b"2A"), Just(*b"2B")], 1u16..=999)
                .prop_map(|(code, commune)| Place::Department { code, commune }),
            (971u16..=976, 1u8..=99).prop_map(|(department, commune)| Place::Overseas {
                department,
                commune
            }),
            (1u16..=999).prop_map(|country| Place::Abroad { country }),
        ];
        let month = prop_oneof![1u8..=12, 20u8..=42, 50u8..=99];
        (1u8..=2, 0u8..=99, month, place, 1u16..=999).prop_map(
            |(sex, year, month, place, order)| NirParts {
                sex,
                year,
                month,
                place,
                order,
            },
        )
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(parts in arb_parts()) {
            let nir = Nir::from_parts(parts).unwrap();
            prop_assert_eq!(nir.parts(), parts);
            prop_assert_eq!(Nir::parse(nir.as_str()).unwrap(), nir);
            prop_assert_eq!(Nir::parse(&nir.spaced()).unwrap(), nir);
            prop_assert_eq!(NirBody::parse(nir.body().as_str()).unwrap().with_key(), nir);
        }

        #[test]
        fn the_key_catches_every_single_character_change(
            parts in arb_parts(),
            position in 0usize..15,
            replacement in prop_oneof![
                (b'0'..=b'9').prop_map(char::from),
                Just('A'),
                Just('B'),
            ],
        ) {
            let nir = Nir::from_parts(parts).unwrap();
            let mut changed: Vec<char> = nir.as_str().chars().collect();
            prop_assume!(changed[position] != replacement);
            changed[position] = replacement;
            let changed: String = changed.into_iter().collect();
            prop_assert!(Nir::parse(&changed).is_err(), "{} accepted after changing {}", changed, nir);
        }

        #[test]
        fn never_panics_and_accepted_input_formats_back(input in "[0-9AB ]{0,24}|.{0,24}") {
            if let Ok(nir) = Nir::parse(&input) {
                let again = if input.contains(' ') { nir.spaced() } else { nir.as_str().to_owned() };
                prop_assert_eq!(again, input);
            }
        }
    }
}
