//! Why a population could not be generated, read, written or trusted.
//! Every message names the values that matter and ends with what to do.

use super::{Field, OwnerId};
use std::fmt;

/// Where in the input a problem is: a line of a file, or a record handed to `Population::new`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Location {
    /// 1-based line of the file (for CSV, the line the record starts on).
    Line(u64),
    /// 0-based position in the vector given to `Population::new`.
    Record(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Line(line) => write!(f, "line {line}"),
            Location::Record(index) => write!(f, "record {index}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PopulationError {
    #[error("population size {size} is out of range: use 1 to 9999999 (the numéro allocataire has 7 digits)")]
    Size { size: usize },
    #[error("{name} is {value}, which is not a fraction: use a number from 0 to 1")]
    Share { name: &'static str, value: f64 },
    #[error("the population has no beneficiaries: give a file with at least one line")]
    Empty,
    #[error("unknown field {found:?}: use one of nir, numero_allocataire, iban, written_iban, phone, email")]
    UnknownField { found: String },
    #[error("{at}, column {column}: {message}: fix this line (one JSON object per line)")]
    Json {
        at: Location,
        column: usize,
        message: String,
    },
    #[error("{at}: unknown field {found:?}: a record has exactly the fields id, numero_allocataire, nir, first_name, last_name, street, postcode, city, phone, email, iban, spare_iban, household, password, password_state, payments")]
    UnknownColumn { at: Location, found: String },
    #[error("{at}: {message}: fix this CSV record")]
    Csv { at: Location, message: String },
    #[error("the CSV header is {found:?}: it must be exactly {expected:?}")]
    Header { found: String, expected: String },
    #[error("{at}, column {column}: {message}")]
    Value {
        at: Location,
        column: &'static str,
        message: String,
    },
    #[error(
        "{at}: id {found} where {expected} was expected: ids must run 0, 1, 2, … in file order"
    )]
    IdOrder {
        at: Location,
        expected: OwnerId,
        found: OwnerId,
    },
    #[error("{at}: beneficiary {id} is in household {household}, but {reason}: a household id is the id of its first member, and members follow one another")]
    Household {
        at: Location,
        id: OwnerId,
        household: u32,
        reason: &'static str,
    },
    #[error("beneficiaries {first} ({first_field}) and {second} ({second_field}) show the same identifying value, so a page showing it cannot be attributed: give each beneficiary its own")]
    Duplicate {
        first: OwnerId,
        first_field: Field,
        second: OwnerId,
        second_field: Field,
    },
    #[error("payment label {label:?} of beneficiary {id} contains '|' or ';', which the CSV payments column uses as separators: write this population as JSON Lines instead")]
    PaymentSeparator { id: OwnerId, label: String },
    #[error("reading or writing the population failed: {0}")]
    Io(#[from] std::io::Error),
}
