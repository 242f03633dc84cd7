//! The properties the fuzz targets check, as plain library functions: `fuzz/` calls them under
//! libFuzzer and `cargo test` replays every saved crash input through the same code.

use crate::identifiers::{Iban, Nir, NirBody, NumeroAllocataire};

/// `nir_parse`: the login parser never panics on any bytes; whatever it accepts formats back to
/// the exact input, and the key of an accepted NIR is 97 − (N mod 97).
pub fn nir_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(nir) = Nir::parse(text) {
        let formatted = if text.contains(' ') {
            nir.spaced()
        } else {
            nir.as_str().to_owned()
        };
        assert_eq!(formatted, text, "accepted NIR does not format back");
        assert_eq!(nir.key(), nir.body().key(), "key check does not hold");
        assert_eq!(Nir::parse(nir.as_str()), Ok(nir));
    }
    if let Ok(body) = NirBody::parse(text) {
        assert_eq!(
            body.as_str(),
            text,
            "accepted NIR body does not format back"
        );
        assert_eq!(Nir::parse(body.with_key().as_str()), Ok(body.with_key()));
    }
    if let Ok(numero) = NumeroAllocataire::parse(text) {
        assert_eq!(numero.as_str(), text);
    }
    if let Ok(iban) = Iban::parse(text) {
        assert!(iban.as_str() == text || iban.grouped() == text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_and_survives_hostile_inputs() {
        for input in [
            &b"184122A00401633"[..],
            b"1 84 12 2A 004 016 33",
            b"184122A004016",
            b"\xff\xfe",
            "１８４１２２Ａ００４０１６５４".as_bytes(),
            b"",
            b"1 84 12 2A 004 016 5\xc3\xa9",
        ] {
            nir_parse(input);
        }
    }
}
