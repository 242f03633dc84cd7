//! Response bodies decoded from their `Content-Encoding` (gzip, deflate, br, undone in the reverse
//! of the order they were applied), up to the scan cap. Pure: bytes in, bytes out.

use super::WireError;
use http::header::{HeaderMap, CONTENT_ENCODING, CONTENT_LENGTH};
use std::io::{BufRead, BufReader, Read};

/// What crossleak asks for, and all it can undo.
pub(super) const ACCEPT_ENCODING: &str = "gzip, deflate, br";

/// The body as the server meant it: decoded when it carries a `Content-Encoding`, and then
/// without the encoding's fields (what reqwest's decompression leaves). `cut` says the encoded
/// body was already cut at the cap; the result says whether the decoded one was.
pub(super) fn decode(
    headers: &mut HeaderMap,
    body: Vec<u8>,
    cut: bool,
    cap: usize,
) -> Result<(Vec<u8>, bool), WireError> {
    let mut codings = Vec::new();
    for value in headers.get_all(CONTENT_ENCODING) {
        let value = value.to_str().map_err(|_| {
            WireError::Encoding(format!("a Content-Encoding of {value:?} in the response"))
        })?;
        codings.extend(
            value
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .filter(|c| !c.is_empty() && c != "identity"),
        );
    }
    if codings.is_empty() {
        return Ok((body, cut));
    }
    // The last coding applied is the first undone.
    let mut reader: Box<dyn Read + '_> = Box::new(&body[..]);
    for coding in codings.iter().rev() {
        reader = match coding.as_str() {
            "gzip" | "x-gzip" => Box::new(flate2::read::MultiGzDecoder::new(reader)),
            "deflate" => deflate(reader),
            "br" => Box::new(brotli_decompressor::Decompressor::new(reader, 4096)),
            other => {
                return Err(WireError::Encoding(format!(
                    "a body in the {other:?} encoding, which crossleak cannot decode (it decodes {ACCEPT_ENCODING})"
                )))
            }
        };
    }
    let mut decoded = Vec::new();
    // One byte over the cap tells a long body from one exactly the cap's length.
    match reader.take(cap as u64 + 1).read_to_end(&mut decoded) {
        Ok(_) => {}
        // An encoded body cut at the cap ends early: what came out of it is kept.
        Err(_) if cut => {}
        Err(e) => {
            return Err(WireError::Encoding(format!(
                "the {} body does not decode: {e}",
                codings.join(", ")
            )))
        }
    }
    headers.remove(CONTENT_ENCODING);
    headers.remove(CONTENT_LENGTH);
    if decoded.len() > cap {
        decoded.truncate(cap);
        return Ok((decoded, true));
    }
    Ok((decoded, cut))
}

/// `deflate` is a zlib stream (RFC 9110), but some servers send the raw deflate data without its
/// zlib header, and browsers take both: so does crossleak.
fn deflate<'a>(reader: Box<dyn Read + 'a>) -> Box<dyn Read + 'a> {
    let mut buffered = BufReader::new(reader);
    let zlib = match buffered.fill_buf() {
        Ok([cmf, flg, ..]) => cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0,
        _ => true,
    };
    if zlib {
        Box::new(flate2::bufread::ZlibDecoder::new(buffered))
    } else {
        Box::new(flate2::bufread::DeflateDecoder::new(buffered))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error_cause::ErrorCause;
    use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
    use flate2::Compression;
    use http::HeaderValue;
    use std::io::Write;

    const CAP: usize = 1024;
    const PAGE: &[u8] = b"<p>NIR 1 84 12 75 123 456 78</p>";
    /// `PAGE` in br, from Python's `brotli.compress` (the crate here only decodes).
    const PAGE_BR: &[u8] = &[
        139, 15, 128, 60, 112, 62, 78, 73, 82, 32, 49, 32, 56, 52, 32, 49, 50, 32, 55, 53, 32, 49,
        50, 51, 32, 52, 53, 54, 32, 55, 56, 60, 47, 112, 62, 3,
    ];
    /// 100 KB of zeros in br: 14 bytes.
    const ZEROS_BR: &[u8] = &[91, 255, 143, 129, 127, 2, 32, 30, 11, 4, 114, 15, 3, 0];

    /// `bytes` through one of flate2's encoders.
    fn encode<W: Write>(
        mut encoder: W,
        bytes: &[u8],
        finish: impl FnOnce(W) -> std::io::Result<Vec<u8>>,
    ) -> Vec<u8> {
        encoder.write_all(bytes).unwrap();
        finish(encoder).unwrap()
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        encode(
            GzEncoder::new(Vec::new(), Compression::fast()),
            bytes,
            GzEncoder::finish,
        )
    }

    fn encoded(coding: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_ENCODING, HeaderValue::from_str(coding).unwrap());
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("10"));
        headers
    }

    fn decoded(coding: &str, body: &[u8]) -> (Vec<u8>, bool, HeaderMap) {
        let mut headers = encoded(coding);
        let (body, cut) = decode(&mut headers, body.to_vec(), false, CAP)
            .unwrap_or_else(|e| panic!("{coding}: {e}"));
        (body, cut, headers)
    }

    fn cause(coding: &str, body: &[u8]) -> ErrorCause {
        decode(&mut encoded(coding), body.to_vec(), false, CAP)
            .expect_err("an error")
            .cause()
    }

    #[test]
    fn gzip_deflate_and_br_bodies_are_decoded_and_lose_their_encoding_fields() {
        let zlib = encode(
            ZlibEncoder::new(Vec::new(), Compression::fast()),
            PAGE,
            ZlibEncoder::finish,
        );
        let raw = encode(
            DeflateEncoder::new(Vec::new(), Compression::fast()),
            PAGE,
            DeflateEncoder::finish,
        );
        for (coding, body) in [
            ("gzip", gzip(PAGE)),
            ("x-gzip", gzip(PAGE)),
            ("deflate", zlib),
            ("deflate", raw),
            ("br", PAGE_BR.to_vec()),
            ("BR", PAGE_BR.to_vec()),
        ] {
            let (decoded, cut, headers) = decoded(coding, &body);
            assert_eq!((&decoded[..], cut), (PAGE, false), "{coding}");
            assert!(
                headers.get(CONTENT_ENCODING).is_none() && headers.get(CONTENT_LENGTH).is_none()
            );
        }
    }

    #[test]
    fn stacked_encodings_are_undone_last_first() {
        let twice = gzip(PAGE_BR);
        assert_eq!(decoded("br, gzip", &twice).0, PAGE);
        assert_eq!(decoded("identity, br", PAGE_BR).0, PAGE);
    }

    #[test]
    fn no_encoding_leaves_the_body_and_its_fields_alone() {
        let mut headers = encoded("identity");
        let (body, cut) = decode(&mut headers, PAGE.to_vec(), true, CAP).unwrap();
        assert_eq!((&body[..], cut), (PAGE, true));
        assert!(headers.contains_key(CONTENT_LENGTH));
    }

    #[test]
    fn a_br_bomb_is_cut_at_the_cap() {
        let (body, cut, _) = decoded("br", ZEROS_BR);
        assert_eq!((body.len(), cut), (CAP, true));
    }

    #[test]
    fn an_encoding_crossleak_cannot_decode_is_an_encoding_error_never_a_body() {
        assert_eq!(cause("zstd", PAGE), ErrorCause::Encoding);
        assert_eq!(cause("gzip, compress", &gzip(PAGE)), ErrorCause::Encoding);
        assert_eq!(cause("br", PAGE), ErrorCause::Encoding);
        assert_eq!(cause("gzip", PAGE), ErrorCause::Encoding);
    }

    #[test]
    fn an_encoded_body_cut_at_the_cap_keeps_what_decoded() {
        let mut headers = encoded("br");
        let (body, cut) = decode(&mut headers, PAGE_BR[..20].to_vec(), true, CAP).unwrap();
        assert!(cut && PAGE.starts_with(&body), "{body:?}");
    }
}
