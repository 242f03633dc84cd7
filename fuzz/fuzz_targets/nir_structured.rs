//! nir_structured: every valid identity (arbitrary parts folded into range) is accepted and
//! round-trips through the compact and spaced forms. `Debug` of the case is a reproducer.
#![no_main]

use arbitrary::Arbitrary;
use crossleak::fuzzing::{nir_structured, RawNirParts};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Case {
    woman: bool,
    year: u8,
    month: u8,
    place_kind: u8,
    department: u8,
    commune: u16,
    order: u16,
}

fuzz_target!(|case: Case| {
    nir_structured(RawNirParts {
        woman: case.woman,
        year: case.year,
        month: case.month,
        place_kind: case.place_kind,
        department: case.department,
        commune: case.commune,
        order: case.order,
    })
});
