//! nir_parse: the strict NIR parser never panics, and what it accepts formats back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| crossleak::fuzzing::nir_parse(data));
