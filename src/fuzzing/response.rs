//! `response_reader`: the HTTP/1.1 response reader never panics, never keeps more than the cap,
//! and reads the same answer however the network cuts the bytes (chunking from the fuzz input).

use crate::transport::{read_canned, CannedRead};

/// Inputs past this are not looked at: a head or chunk line over 64 KB is refused only once
/// 64 KB have arrived, so a longer one read whole and read in pieces may rightly differ.
pub const MAX_RESPONSE_INPUT: usize = 16 * 1024;

/// `data` = one flags byte (bit 0: the answer to a HEAD; bits 1-3: the cap, 1 B to 64 KB), one
/// count byte `k`, `k % 16` read sizes (1-256 B each), then the bytes the server sent.
pub fn response_reader(data: &[u8]) {
    let ([flags, count, rest @ ..], true) = (data, data.len() <= MAX_RESPONSE_INPUT) else {
        return;
    };
    let head_only = flags & 1 == 1;
    let cap = [1, 7, 64, 512, 1024, 4096, 16 * 1024, 64 * 1024][usize::from(flags >> 1 & 7)];
    let k = usize::from(count % 16).min(rest.len());
    let (sizes, response) = rest.split_at(k);
    let sizes: Vec<usize> = sizes.iter().map(|&b| usize::from(b) + 1).collect();
    let cut = without_reuse(read_canned(response, &sizes, head_only, cap));
    if let CannedRead::Response { body, .. } = &cut {
        assert!(
            body.len() <= cap,
            "{} bytes kept over a cap of {cap}",
            body.len()
        );
    }
    // Whether bytes after the response were already read (and so the connection is not reused)
    // depends on the cuts; everything else must not.
    let whole = without_reuse(read_canned(response, &[], head_only, cap));
    assert_eq!(cut, whole, "read in pieces of {sizes:?}, then whole");
    let trickled = without_reuse(read_canned(response, &[1], head_only, cap));
    assert_eq!(
        cut, trickled,
        "read in pieces of {sizes:?}, then byte by byte"
    );
}

fn without_reuse(mut read: CannedRead) -> CannedRead {
    if let CannedRead::Response { reusable, .. } = &mut read {
        *reusable = false;
    }
    read
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Responses a server may send, framed every way the reader knows, with bytes after them.
    fn answer() -> impl Strategy<Value = Vec<u8>> {
        let body = proptest::collection::vec(any::<u8>(), 0..300);
        (
            0usize..4,
            body,
            proptest::collection::vec(any::<u8>(), 0..40),
        )
            .prop_map(|(framing, body, after)| {
                let mut bytes = match framing {
                    0 => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len()),
                    1 => format!(
                        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                        body.len()
                    ),
                    2 => "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.0 200 OK\r\n\r\n".to_owned(),
                    _ => "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 9\r\n\r\n"
                        .to_owned(),
                }
                .into_bytes();
                bytes.extend(&body);
                if framing == 1 {
                    bytes.extend(b"\r\n0\r\n\r\n");
                }
                bytes.extend(after);
                bytes
            })
    }

    proptest! {
        #[test]
        fn any_cuts_of_a_framed_answer_read_the_same(
            flags in any::<u8>(),
            sizes in proptest::collection::vec(any::<u8>(), 0..16),
            answer in answer(),
        ) {
            let mut data = vec![flags, sizes.len() as u8];
            data.extend(&sizes);
            data.extend(answer);
            response_reader(&data);
        }
    }
}
