//! crossleak: many simulated beneficiaries at once, and every response checked for whose data it carries.
//! The library holds every part; `main.rs` only parses arguments and maps the outcome to an exit code.

pub mod identifiers;
pub mod population;
