//! identifier_collision (differential): two accounts with distinct valid NIRs, each logging in by
//! NIR with its own password on the demo portal's real router, land each in their own file. Runs
//! the correct portal; `CROSSLEAK_FAULT=nir-lookup` in the environment switches that fault on, and
//! the target then finds it. `Debug` of the case is a reproducer: rename `Case` to
//! `crossleak::fuzzing::IdentityPair` and import `crossleak::fuzzing::RawNirParts`.
#![no_main]

use arbitrary::Arbitrary;
use crossleak::fuzzing::{identifier_collision, Checked, IdentityPair};
use libfuzzer_sys::{fuzz_target, Corpus};
use std::sync::OnceLock;

/// Mirrors `crossleak::fuzzing::RawNirParts`, under the same name so `Debug` pastes as is.
#[derive(Arbitrary, Debug)]
struct RawNirParts {
    woman: bool,
    year: u8,
    month: u8,
    place_kind: u8,
    department: u8,
    commune: u16,
    order: u16,
}

impl From<RawNirParts> for crossleak::fuzzing::RawNirParts {
    fn from(p: RawNirParts) -> Self {
        crossleak::fuzzing::RawNirParts {
            woman: p.woman,
            year: p.year,
            month: p.month,
            place_kind: p.place_kind,
            department: p.department,
            commune: p.commune,
            order: p.order,
        }
    }
}

#[derive(Arbitrary, Debug)]
struct Case {
    first: RawNirParts,
    second: RawNirParts,
    shared: u8,
    provisional: u8,
    second_numbered_first: bool,
    typed: u8,
    second_logs_in_first: bool,
}

/// Whether the portal runs with the `nir-lookup` fault (set `CROSSLEAK_FAULT=nir-lookup`).
fn nir_lookup() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var("CROSSLEAK_FAULT").is_ok_and(|f| f == "nir-lookup"))
}

fuzz_target!(|case: Case| -> Corpus {
    let pair = IdentityPair {
        first: case.first.into(),
        second: case.second.into(),
        shared: case.shared,
        provisional: case.provisional,
        second_numbered_first: case.second_numbered_first,
        typed: case.typed,
        second_logs_in_first: case.second_logs_in_first,
    };
    match identifier_collision(&pair, nir_lookup()) {
        Ok(Checked::Passed) => Corpus::Keep,
        Ok(Checked::Rejected) => Corpus::Reject,
        Err(failure) => panic!("{failure}"),
    }
});
