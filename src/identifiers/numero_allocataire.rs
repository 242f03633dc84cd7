//! Numéro allocataire (now "numéro de dossier"): 7 digits, leading zeros significant, no check digit.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A CAF file number, always exactly 7 ASCII digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NumeroAllocataire([u8; 7]);

/// Why a string is not a numéro allocataire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumeroAllocataireError {
    #[error("a numéro allocataire has 7 digits, found {found} characters: write all 7 digits, leading zeros included")]
    Length { found: usize },
    #[error("a numéro allocataire has only digits, found {found:?} at position {position}: remove separators and letters")]
    NotDigit { position: usize, found: char },
    #[error("{value} does not fit in a numéro allocataire (at most 9999999)")]
    TooLarge { value: u32 },
}

impl NumeroAllocataire {
    /// Strict parse: exactly 7 ASCII digits, nothing else (no spaces, no sign).
    pub fn parse(input: &str) -> Result<Self, NumeroAllocataireError> {
        let count = input.chars().count();
        if count != 7 {
            return Err(NumeroAllocataireError::Length { found: count });
        }
        let mut digits = [0u8; 7];
        for (position, c) in input.chars().enumerate() {
            if !c.is_ascii_digit() {
                return Err(NumeroAllocataireError::NotDigit { position, found: c });
            }
            digits[position] = c as u8;
        }
        Ok(Self(digits))
    }

    /// The file number for `value`, zero-padded to 7 digits.
    pub fn from_number(value: u32) -> Result<Self, NumeroAllocataireError> {
        if value > 9_999_999 {
            return Err(NumeroAllocataireError::TooLarge { value });
        }
        let text = format!("{value:07}");
        let mut digits = [0u8; 7];
        digits.copy_from_slice(text.as_bytes());
        Ok(Self(digits))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).expect("ASCII digits")
    }

    pub fn value(&self) -> u32 {
        self.as_str().parse().expect("7 ASCII digits")
    }
}

impl fmt::Display for NumeroAllocataire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TryFrom<String> for NumeroAllocataire {
    type Error = NumeroAllocataireError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<NumeroAllocataire> for String {
    fn from(value: NumeroAllocataire) -> Self {
        value.as_str().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn leading_zeros_are_kept() {
        let n = NumeroAllocataire::from_number(42).unwrap();
        assert_eq!(n.as_str(), "0000042");
        assert_eq!(NumeroAllocataire::parse("0000042").unwrap(), n);
        assert_eq!(n.value(), 42);
    }

    #[test]
    fn rejects_short_long_and_non_digits() {
        assert_eq!(
            NumeroAllocataire::parse("42"),
            Err(NumeroAllocataireError::Length { found: 2 })
        );
        assert_eq!(
            NumeroAllocataire::parse("00000420"),
            Err(NumeroAllocataireError::Length { found: 8 })
        );
        assert_eq!(
            NumeroAllocataire::parse("000 042"),
            Err(NumeroAllocataireError::NotDigit {
                position: 3,
                found: ' '
            })
        );
        // Full-width digits are digits to a person but not to the login parser.
        assert!(matches!(
            NumeroAllocataire::parse("０００００４２"),
            Err(NumeroAllocataireError::NotDigit { position: 0, .. })
        ));
        assert!(NumeroAllocataire::from_number(10_000_000).is_err());
    }

    proptest! {
        #[test]
        fn format_then_parse_round_trips(value in 0u32..10_000_000) {
            let n = NumeroAllocataire::from_number(value).unwrap();
            prop_assert_eq!(NumeroAllocataire::parse(n.as_str()).unwrap(), n);
            prop_assert_eq!(n.value(), value);
        }

        #[test]
        fn never_panics(input in ".{0,12}") {
            let _ = NumeroAllocataire::parse(&input);
        }
    }
}
