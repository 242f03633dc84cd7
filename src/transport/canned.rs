//! A response read from canned bytes handed out in reads of chosen sizes, as a network would cut
//! them: how the fuzz target, its regressions and the codec tests drive the reader, no socket.

use super::http1::{read_response, Failure, Reply};
use crate::error_cause::ErrorCause;
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, ReadBuf};

/// What reading one response gave.
#[derive(Debug, PartialEq, Eq)]
pub enum CannedRead {
    Response {
        status: u16,
        body: Vec<u8>,
        truncated: bool,
        /// The connection could carry the next request.
        reusable: bool,
    },
    /// Nothing came back: a connection the server had closed.
    Stale,
    Error(ErrorCause),
}

/// Hands `data` out in reads of `sizes[0]`, `sizes[1]`, … bytes (cycling; 0 counts as 1), then
/// the end of the stream. Never waits.
struct Chunks<'a> {
    data: &'a [u8],
    sizes: &'a [usize],
    reads: usize,
}

impl AsyncRead for Chunks<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let size = match self.sizes {
            [] => usize::MAX,
            sizes => sizes[self.reads % sizes.len()].max(1),
        };
        let n = size.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        self.reads += 1;
        Poll::Ready(Ok(()))
    }
}

/// Reads one response (a HEAD's when `head_only`) from `data` delivered in reads of `sizes`
/// (all at once when empty), bodies cut at `cap`.
pub fn read_canned(data: &[u8], sizes: &[usize], head_only: bool, cap: usize) -> CannedRead {
    match read_reply(data, sizes, head_only, cap) {
        Ok(reply) => CannedRead::Response {
            status: reply.status,
            body: reply.body,
            truncated: reply.truncated,
            reusable: reply.reusable,
        },
        Err(Failure::Stale | Failure::Unprocessed) => CannedRead::Stale,
        Err(Failure::ClientCertRequired) => CannedRead::Error(ErrorCause::TlsClientCertRequired),
        Err(Failure::Error(error)) => CannedRead::Error(error.cause()),
    }
}

/// [`read_canned`] with the reader's own answer, headers included.
pub(super) fn read_reply(
    data: &[u8],
    sizes: &[usize],
    head_only: bool,
    cap: usize,
) -> Result<Reply, Failure> {
    let mut io = Chunks {
        data,
        sizes,
        reads: 0,
    };
    let mut reading = pin!(read_response(&mut io, head_only, cap));
    // The canned stream is always ready, so the reader finishes in one poll: no runtime needed.
    let Poll::Ready(read) = reading
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    else {
        unreachable!("a reader over canned bytes waited");
    };
    read
}
