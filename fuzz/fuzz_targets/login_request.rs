//! login_request: any login request (mistyped identifier, any password, form or JSON or raw body,
//! any cookie) to the demo portal's real router is answered, never with a 5xx, and a session it
//! hands out opens only the file whose identifier and password the request carried. `Debug` of
//! the case is a reproducer: rename `Case` to `crossleak::fuzzing::LoginRequest`.
#![no_main]

use arbitrary::Arbitrary;
use crossleak::fuzzing::{LoginFixture, LoginRequest};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

#[derive(Arbitrary, Debug)]
struct Case {
    nir_path: bool,
    owner: u8,
    full_nir: bool,
    mutation: u8,
    mutation_parameter: u8,
    raw_identifier: Option<String>,
    password: u8,
    raw_password: String,
    other: u8,
    encoding: u8,
    raw_body: Vec<u8>,
    extra_fields: Vec<(String, String)>,
    cookie: u8,
    raw_cookie: String,
}

fn fixture() -> &'static LoginFixture {
    static FIXTURE: OnceLock<LoginFixture> = OnceLock::new();
    FIXTURE.get_or_init(LoginFixture::new)
}

fuzz_target!(|case: Case| {
    let request = LoginRequest {
        nir_path: case.nir_path,
        owner: case.owner,
        full_nir: case.full_nir,
        mutation: case.mutation,
        mutation_parameter: case.mutation_parameter,
        raw_identifier: case.raw_identifier,
        password: case.password,
        raw_password: case.raw_password,
        other: case.other,
        encoding: case.encoding,
        raw_body: case.raw_body,
        extra_fields: case.extra_fields,
        cookie: case.cookie,
        raw_cookie: case.raw_cookie,
    };
    if let Err(failure) = fixture().check(&request) {
        panic!("{failure}");
    }
});
