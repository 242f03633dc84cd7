//! response_reader: the HTTP/1.1 response reader never panics, keeps at most the cap, and reads
//! the same answer however the network cuts the bytes: the cuts come from the input, as h2's
//! fuzz_e2e takes them, through a mock IO (no socket).
#![no_main]

use libfuzzer_sys::{fuzz_target, Corpus};

fuzz_target!(|data: &[u8]| -> Corpus {
    if data.len() > crossleak::fuzzing::MAX_RESPONSE_INPUT {
        return Corpus::Reject;
    }
    crossleak::fuzzing::response_reader(data);
    Corpus::Keep
});
