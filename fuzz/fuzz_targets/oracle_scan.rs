//! oracle_scan: scanning any bytes never panics and never names an owner whose value is not at
//! the place the sighting says.
#![no_main]

use crossleak::fuzzing::OracleFixture;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn fixture() -> &'static OracleFixture {
    static FIXTURE: OnceLock<OracleFixture> = OnceLock::new();
    FIXTURE.get_or_init(OracleFixture::new)
}

fuzz_target!(|data: &[u8]| fixture().check(data));
