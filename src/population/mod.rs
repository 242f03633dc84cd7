//! Synthetic beneficiaries, deterministic from a seed, with identifying values unique by construction.
//! Also reads and writes them as JSON Lines and CSV, to seed a staging database or read its export back.

mod model;

pub use model::{Beneficiary, OwnerId, PasswordState, Payment};
