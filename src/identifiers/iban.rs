//! French IBAN (`FR` + 2 check digits + bank + branch + account + RIB key), strictly parsed and built.
//! Both checks are enforced: the IBAN mod-97 and the French RIB key.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Characters in a French IBAN: `FR`, 2 check digits, 5 bank, 5 branch, 11 account, 2 RIB key.
const LENGTH: usize = 27;
const BANK: std::ops::Range<usize> = 4..9;
const BRANCH: std::ops::Range<usize> = 9..14;
const ACCOUNT: std::ops::Range<usize> = 14..25;
const RIB_KEY: std::ops::Range<usize> = 25..27;

/// A valid French IBAN, stored compact and uppercase (`FR7630001007941234567890185`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iban([u8; LENGTH]);

/// Why a string is not a French IBAN, or why parts cannot make one.
/// Positions count characters of the compact form, from 0.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IbanError {
    #[error("spaces must split the IBAN into groups of 4 with single spaces, as `FR76 3000 1007 9412 3456 7890 185`: found groups of {found:?} characters")]
    Spacing { found: Vec<usize> },
    #[error("a French IBAN has 27 characters, found {found}: copy the whole IBAN from the RIB")]
    Length { found: usize },
    #[error("unexpected {found:?} at position {position}: {expected}")]
    Character {
        position: usize,
        found: char,
        expected: &'static str,
    },
    #[error("the IBAN starts with {found:?}, not FR: only French IBANs are accepted")]
    Country { found: String },
    #[error("IBAN check digits {found:02} do not match the other characters, whose check digits are {expected:02}: check the two digits after FR")]
    Checksum { expected: u8, found: u8 },
    #[error("RIB key {found:02} does not match the bank, branch and account, whose key is {expected:02}: check those 21 characters and the key")]
    RibKey { expected: u8, found: u8 },
    #[error("bank code {value} has more than 5 digits: use 0–99999")]
    BankCode { value: u32 },
    #[error("branch code {value} has more than 5 digits: use 0–99999")]
    BranchCode { value: u32 },
    #[error("account number {found:?} must be exactly 11 uppercase ASCII letters or digits")]
    Account { found: String },
}

impl Iban {
    /// Strict parse of the compact form or the grouped presentation
    /// (`FR76 3000 1007 9412 3456 7890 185`): uppercase only, both checks enforced.
    pub fn parse(input: &str) -> Result<Self, IbanError> {
        let compact = unspace(input)?;
        if let Some((position, found)) = compact.chars().enumerate().find(|(_, c)| !c.is_ascii()) {
            return Err(IbanError::Character {
                position,
                found,
                expected: "an IBAN has only ASCII letters and digits: retype it without full-width or accented characters",
            });
        }
        let bytes = compact.as_bytes();
        if bytes.len() != LENGTH {
            return Err(IbanError::Length { found: bytes.len() });
        }
        if &bytes[..2] != b"FR" {
            if bytes[..2].eq_ignore_ascii_case(b"FR") {
                let position = usize::from(bytes[0] == b'F');
                return Err(IbanError::Character {
                    position,
                    found: char::from(bytes[position]),
                    expected: "write the IBAN in uppercase",
                });
            }
            return Err(IbanError::Country {
                found: String::from_utf8_lossy(&bytes[..2]).into_owned(),
            });
        }
        expect_digits(bytes, 2..4, "the IBAN check digits are two digits")?;
        expect_digits(bytes, BANK, "the bank code is five digits")?;
        expect_digits(bytes, BRANCH, "the branch code is five digits")?;
        for position in ACCOUNT {
            let c = bytes[position];
            if !(c.is_ascii_digit() || c.is_ascii_uppercase()) {
                let expected = if c.is_ascii_lowercase() {
                    "write the IBAN in uppercase"
                } else {
                    "the account number is 11 letters or digits"
                };
                return Err(IbanError::Character {
                    position,
                    found: char::from(c),
                    expected,
                });
            }
        }
        expect_digits(bytes, RIB_KEY, "the RIB key is two digits")?;
        let mut iban = [0u8; LENGTH];
        iban.copy_from_slice(bytes);
        // The RIB key first: it covers only the bank details, so its error points closer.
        let found = number(&iban[RIB_KEY]) as u8;
        let expected = rib_key(&iban[BANK], &iban[BRANCH], &iban[ACCOUNT]);
        if found != expected {
            return Err(IbanError::RibKey { expected, found });
        }
        let found = number(&iban[2..4]) as u8;
        let expected = check_digits(&iban[4..]);
        if found != expected {
            return Err(IbanError::Checksum { expected, found });
        }
        Ok(Self(iban))
    }

    /// Builds the IBAN for a bank code, branch code and 11-character account number,
    /// computing the RIB key and the IBAN check digits.
    pub fn from_parts(bank: u32, branch: u32, account: &str) -> Result<Self, IbanError> {
        if bank > 99_999 {
            return Err(IbanError::BankCode { value: bank });
        }
        if branch > 99_999 {
            return Err(IbanError::BranchCode { value: branch });
        }
        let valid_account = account.len() == ACCOUNT.len()
            && account
                .bytes()
                .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase());
        if !valid_account {
            return Err(IbanError::Account {
                found: account.to_owned(),
            });
        }
        let mut iban = [0u8; LENGTH];
        iban[..4].copy_from_slice(b"FR00");
        iban[BANK].copy_from_slice(format!("{bank:05}").as_bytes());
        iban[BRANCH].copy_from_slice(format!("{branch:05}").as_bytes());
        iban[ACCOUNT].copy_from_slice(account.as_bytes());
        let key = rib_key(&iban[BANK], &iban[BRANCH], &iban[ACCOUNT]);
        iban[RIB_KEY].copy_from_slice(&two_ascii_digits(key));
        let check = check_digits(&iban[4..]);
        iban[2..4].copy_from_slice(&two_ascii_digits(check));
        Ok(Self(iban))
    }

    /// The compact 27-character form.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("only ASCII is ever stored")
    }

    /// The presentation printed on a RIB: groups of 4 separated by single spaces.
    pub fn grouped(&self) -> String {
        let mut out = String::with_capacity(LENGTH + LENGTH / 4);
        for (index, chunk) in self.as_str().as_bytes().chunks(4).enumerate() {
            if index > 0 {
                out.push(' ');
            }
            out.push_str(std::str::from_utf8(chunk).expect("ASCII"));
        }
        out
    }

    /// The 5-digit bank code (code banque).
    pub fn bank(&self) -> &str {
        &self.as_str()[BANK]
    }

    /// The 5-digit branch code (code guichet).
    pub fn branch(&self) -> &str {
        &self.as_str()[BRANCH]
    }

    /// The 11-character account number.
    pub fn account(&self) -> &str {
        &self.as_str()[ACCOUNT]
    }

    /// The 2-digit RIB key (clé RIB), 01–97.
    pub fn rib_key(&self) -> &str {
        &self.as_str()[RIB_KEY]
    }
}

/// Removes the presentation spaces, which must split the IBAN into groups of 4 (the last shorter).
fn unspace(input: &str) -> Result<String, IbanError> {
    if !input.contains(' ') {
        return Ok(input.to_owned());
    }
    let groups: Vec<&str> = input.split(' ').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.chars().count()).collect();
    let (last, full) = lengths
        .split_last()
        .expect("split yields at least one group");
    if full.iter().any(|len| *len != 4) || !(1..=4).contains(last) {
        return Err(IbanError::Spacing { found: lengths });
    }
    Ok(groups.concat())
}

fn expect_digits(
    bytes: &[u8],
    range: std::ops::Range<usize>,
    expected: &'static str,
) -> Result<(), IbanError> {
    for position in range {
        if !bytes[position].is_ascii_digit() {
            return Err(IbanError::Character {
                position,
                found: char::from(bytes[position]),
                expected,
            });
        }
    }
    Ok(())
}

/// Value of ASCII digits (at most 11 of them, so it fits).
fn number(digits: &[u8]) -> u64 {
    digits
        .iter()
        .fold(0, |acc, d| acc * 10 + u64::from(d - b'0'))
}

fn two_ascii_digits(value: u8) -> [u8; 2] {
    [b'0' + value / 10, b'0' + value % 10]
}

/// The IBAN check digits for a French BBAN: 98 − (BBAN `FR00` mod 97), letters A=10 … Z=35.
fn check_digits(bban: &[u8]) -> u8 {
    let remainder = bban.iter().chain(b"FR00").fold(0u32, |acc, c| match c {
        b'0'..=b'9' => (acc * 10 + u32::from(c - b'0')) % 97,
        _ => (acc * 100 + u32::from(c - b'A') + 10) % 97,
    });
    (98 - remainder) as u8
}

/// The RIB key: 97 − ((89·bank + 15·branch + 3·account) mod 97), account letters
/// mapped A,J→1 B,K,S→2 C,L,T→3 D,M,U→4 E,N,V→5 F,O,W→6 G,P,X→7 H,Q,Y→8 I,R,Z→9.
fn rib_key(bank: &[u8], branch: &[u8], account: &[u8]) -> u8 {
    let account = account.iter().fold(0u64, |acc, c| {
        let value = match c {
            b'0'..=b'9' => c - b'0',
            b'A'..=b'I' => c - b'A' + 1,
            b'J'..=b'R' => c - b'J' + 1,
            // S maps to 2: the third run starts one further on.
            _ => c - b'S' + 2,
        };
        acc * 10 + u64::from(value)
    });
    let sum = 89 * number(bank) + 15 * number(branch) + 3 * account;
    (97 - sum % 97) as u8
}

impl fmt::Display for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Iban {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Iban({})", self.as_str())
    }
}

impl FromStr for Iban {
    type Err = IbanError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for Iban {
    type Error = IbanError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Iban> for String {
    fn from(value: Iban) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const EXAMPLE: &str = "FR7630001007941234567890185";

    #[test]
    fn parses_the_compact_and_grouped_forms() {
        let iban = Iban::parse(EXAMPLE).unwrap();
        assert_eq!(iban.as_str(), EXAMPLE);
        assert_eq!(iban.grouped(), "FR76 3000 1007 9412 3456 7890 185");
        assert_eq!(Iban::parse(&iban.grouped()).unwrap(), iban);
        assert_eq!(
            (iban.bank(), iban.branch(), iban.account(), iban.rib_key()),
            ("30001", "00794", "12345678901", "85")
        );
    }

    #[test]
    fn from_parts_computes_rib_key_and_check_digits() {
        let iban = Iban::from_parts(30001, 794, "12345678901").unwrap();
        assert_eq!(iban.as_str(), EXAMPLE);
        // Account numbers may hold letters (La Banque Postale's do).
        let lettered = Iban::from_parts(20041, 1005, "0500013M026").unwrap();
        assert_eq!(Iban::parse(lettered.as_str()).unwrap(), lettered);
        assert_eq!(lettered.account(), "0500013M026");
    }

    #[test]
    fn rib_key_maps_letters_in_three_runs() {
        let digits = rib_key(b"12345", b"67890", b"12345678999");
        assert_eq!(digits, rib_key(b"12345", b"67890", b"ABCDEFGHIRZ"));
        assert_eq!(digits, rib_key(b"12345", b"67890", b"JSTUVWXYZ99"));
        // A sum divisible by 97 gives key 97, never 00.
        assert_eq!(rib_key(b"00000", b"00000", b"00000000000"), 97);
    }

    #[test]
    fn serde_uses_the_compact_string() {
        let iban = Iban::parse(EXAMPLE).unwrap();
        let json = serde_json::to_string(&iban).unwrap();
        assert_eq!(json, format!("\"{EXAMPLE}\""));
        assert_eq!(serde_json::from_str::<Iban>(&json).unwrap(), iban);
        assert!(serde_json::from_str::<Iban>("\"FR7630001007941234567890186\"").is_err());
    }

    #[test]
    fn every_error_says_what_is_wrong() {
        let cases = [
            ("FR76300010079412345678901", "27 characters, found 25"),
            ("DE7630001007941234567890185", "not FR"),
            ("fr7630001007941234567890185", "uppercase"),
            ("FR76 3000 1007 9412 3456 7890 185 ", "groups of 4"),
            ("FR76  3000 1007 9412 3456 7890 185", "groups of 4"),
            ("FR763 000 1007 9412 3456 7890 185", "groups of 4"),
            ("FR76\t3000100794123456789018", "position 4"),
            ("FR7630001007941234567890186", "RIB key 86"),
            ("FR7730001007941234567890185", "check digits 77"),
            ("FR7630001007941234567890-85", "11 letters or digits"),
            ("FR763000100794123456789a185", "uppercase"),
            ("FR76300O1007941234567890185", "bank code"),
            ("FR7630001007941234567890１85", "ASCII"),
        ];
        for (input, needle) in cases {
            let message = Iban::parse(input).unwrap_err().to_string();
            assert!(
                message.contains(needle),
                "{input}: {message:?} lacks {needle:?}"
            );
        }
        let cases = [
            (Iban::from_parts(100_000, 1, "12345678901"), "bank code"),
            (Iban::from_parts(1, 100_000, "12345678901"), "branch code"),
            (Iban::from_parts(1, 1, "1234567890"), "11 uppercase"),
            (Iban::from_parts(1, 1, "1234567890a"), "11 uppercase"),
        ];
        for (result, needle) in cases {
            let message = result.unwrap_err().to_string();
            assert!(message.contains(needle), "{message:?} lacks {needle:?}");
        }
    }

    /// The one gap in the French scheme: a digit swapped with a letter the RIB key reads as
    /// the same digit (1↔A, 2↔K, …) is invisible to the RIB key, and the IBAN mod-97
    /// misses it about once in 97. Such a string is a valid IBAN; the parser must accept it.
    #[test]
    fn a_digit_turned_into_its_rib_letter_can_escape_both_checks() {
        let found = (0u64..10_000).find_map(|n| {
            let account = format!("{n:011}");
            let iban = Iban::from_parts(30001, 794, &account).ok()?;
            let mut changed = iban.0;
            let last = changed[ACCOUNT.end - 1];
            if last == b'0' {
                return None;
            }
            changed[ACCOUNT.end - 1] = b'A' + (last - b'1');
            let changed = String::from_utf8(changed.to_vec()).ok()?;
            Iban::parse(&changed).ok().map(|other| (iban, other))
        });
        let (original, changed) = found.expect("the scheme has this gap within 10,000 accounts");
        assert_ne!(original, changed);
    }

    fn arb_account() -> impl Strategy<Value = String> {
        prop_oneof![3 => "[0-9]{11}", 1 => "[0-9A-Z]{11}"]
    }

    /// A single change the French checks cannot see in principle: see the test above.
    fn is_rib_alias(original: u8, replacement: u8) -> bool {
        original.is_ascii_digit() != replacement.is_ascii_digit()
            && original.is_ascii_alphanumeric()
            && replacement.is_ascii_alphanumeric()
            && rib_key(b"0", b"0", &[original]) == rib_key(b"0", b"0", &[replacement])
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(
            bank in 0u32..=99_999,
            branch in 0u32..=99_999,
            account in arb_account(),
        ) {
            let iban = Iban::from_parts(bank, branch, &account).unwrap();
            prop_assert_eq!(iban.bank(), format!("{bank:05}"));
            prop_assert_eq!(iban.branch(), format!("{branch:05}"));
            prop_assert_eq!(iban.account(), account);
            prop_assert_eq!(Iban::parse(iban.as_str()).unwrap(), iban);
            prop_assert_eq!(Iban::parse(&iban.grouped()).unwrap(), iban);
        }

        #[test]
        fn any_single_character_change_is_rejected(
            bank in 0u32..=99_999,
            branch in 0u32..=99_999,
            account in arb_account(),
            position in 0usize..LENGTH,
            replacement in "[0-9A-Za-z ]",
        ) {
            let iban = Iban::from_parts(bank, branch, &account).unwrap();
            let replacement = replacement.as_bytes()[0];
            let original = iban.0[position];
            if original == replacement
                || ACCOUNT.contains(&position) && is_rib_alias(original, replacement)
            {
                return Ok(());
            }
            let mut changed = iban.0;
            changed[position] = replacement;
            let changed = String::from_utf8(changed.to_vec()).unwrap();
            prop_assert!(Iban::parse(&changed).is_err(), "{} accepted after changing {}", changed, iban);
        }

        #[test]
        fn never_panics_and_accepted_input_formats_back(input in "[0-9A-Z ]{0,34}|.{0,34}") {
            if let Ok(iban) = Iban::parse(&input) {
                let again = if input.contains(' ') { iban.grouped() } else { iban.as_str().to_owned() };
                prop_assert_eq!(again, input);
            }
        }
    }
}
