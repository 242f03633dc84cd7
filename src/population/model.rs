//! The beneficiary record every part shares: identity, credentials, contact, bank and household.
//! Plain data: no generation, no I/O.

use crate::identifiers::{Nir, NumeroAllocataire};
use serde::{Deserialize, Serialize};

/// Index of a beneficiary in its population, 0-based; the oracle's name for an owner.
pub type OwnerId = u32;

/// Whether the account still uses the password the CAF mailed (the accounts the 2021 leak exposed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordState {
    Provisional,
    Changed,
}

/// One payment in the beneficiary's file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// ISO date, `YYYY-MM-DD`.
    pub date: String,
    pub label: String,
    pub amount_cents: i64,
}

/// A synthetic beneficiary. Every identifying value is unique across its population.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    pub id: OwnerId,
    pub numero_allocataire: NumeroAllocataire,
    pub nir: Nir,
    pub first_name: String,
    pub last_name: String,
    pub street: String,
    pub postcode: String,
    pub city: String,
    /// Canonical digits, no separators: `0639981234`.
    pub phone: String,
    /// Lowercase.
    pub email: String,
    /// Compact, no separators: `FR7630001007941234567890185`.
    pub iban: String,
    /// A second IBAN that belongs to this beneficiary alone: what a RIB change writes during a run.
    pub spare_iban: String,
    /// Beneficiaries with the same household id share a file and may see each other's data.
    pub household: u32,
    pub password: String,
    pub password_state: PasswordState,
    pub payments: Vec<Payment>,
}
