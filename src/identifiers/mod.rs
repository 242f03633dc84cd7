//! The login parser: strict parse, format and validation of the identifiers a beneficiary logs in with.
//! Never lenient: anything that is not exactly a valid identifier is a typed error saying what is wrong.

mod iban;
mod nir;
mod numero_allocataire;

pub use iban::{Iban, IbanError};
pub use nir::{Nir, NirBody, NirError, NirParts, Place};
pub use numero_allocataire::{NumeroAllocataire, NumeroAllocataireError};
