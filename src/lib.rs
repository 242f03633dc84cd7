//! crossleak: many simulated beneficiaries at once, and every response checked for whose data it carries.
//! The library holds every part; `main.rs` only parses arguments and maps the outcome to an exit code.

pub mod cli;
pub mod error_cause;
pub mod faults;
pub mod findings;
pub mod fuzzing;
pub mod har;
pub mod identifiers;
pub mod load;
pub mod oracle;
pub mod outcome;
pub mod population;
pub mod portal;
pub mod report;
pub mod run;
pub mod scenario;
pub mod transport;
