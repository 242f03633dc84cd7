//! HTTP/1.1 on the wire for one exchange: the request written in one buffer, the response head
//! parsed and its body framed (RFC 9112), decoded, cut at the cap. No sockets here.

use super::decode::decode;
use super::message::{field, given, payload, DEFAULT_FIELDS};
use super::proxy::Proxy;
use super::tls::wants_client_cert;
use super::{Body, WireError};
use http::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_LENGTH, TRANSFER_ENCODING,
};
use http::Method;
use tokio::io::{AsyncRead, AsyncReadExt};
use url::Url;

/// A response head, a chunk-size line or a trailer longer than this is refused, not buffered.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Header fields a response head may carry (hyper's default too).
const MAX_HEADERS: usize = 100;
/// Trailer fields after a chunked body, beyond which the response is refused.
const MAX_TRAILERS: usize = 100;
/// The read buffer of one exchange starts this small (most heads fit) and is dropped after it.
const READ_START: usize = 4 * 1024;

/// One hop's answer before redirects are looked at.
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    pub(super) truncated: bool,
    /// The connection may carry the next request.
    pub(super) reusable: bool,
}

/// How one attempt on a connection failed.
pub(super) enum Failure {
    /// Nothing of a response came back on a connection used before: the server had closed it
    /// while idle, so the request can be sent again on a new one.
    Stale,
    /// The server says it did not process the request (HTTP/2's `REFUSED_STREAM`, a `GOAWAY` that
    /// leaves its stream out), or the connection was gone before it was sent: any method may go
    /// again.
    Unprocessed,
    /// The server asked for a client certificate and got none (a TLS alert at the first read).
    ClientCertRequired,
    Error(WireError),
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Self {
        Failure::Error(error)
    }
}

/// The request's head and body in one buffer, so it leaves in one write; `proxy` when a plain-HTTP
/// request goes through one.
pub(super) fn encode(
    method: &Method,
    url: &Url,
    headers: &[(&str, &str)],
    cookie: Option<&HeaderValue>,
    body: Option<Body<'_>>,
    proxy: Option<&Proxy>,
) -> Result<Vec<u8>, WireError> {
    let (content_type, payload) = payload(body)?;
    let given = |name: &str| given(headers, name);
    let mut out = Vec::with_capacity(256 + payload.len());
    let mut line = |name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    // Through a proxy, a plain-HTTP request names its whole URL (RFC 9112, 3.2.2).
    let mut target = match proxy {
        Some(_) => url[..url::Position::AfterPath].to_owned(),
        None => url.path().to_owned(),
    };
    if let Some(query) = url.query() {
        target.push('?');
        target.push_str(query);
    }
    let host = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    };
    let request_line = format!("{} {target} HTTP/1.1", method.as_str());
    if !given("host") {
        line(b"Host", host.as_bytes());
    }
    for (name, value) in DEFAULT_FIELDS {
        if !given(name) {
            line(name.as_bytes(), value.as_bytes());
        }
    }
    if let Some(authorization) = proxy.and_then(|p| p.authorization.as_deref()) {
        line(b"Proxy-Authorization", authorization.as_bytes());
    }
    if let (Some(cookie), false) = (cookie, given("cookie")) {
        line(b"Cookie", cookie.as_bytes());
    }
    for (name, value) in headers {
        field(name, value)?;
        line(name.as_bytes(), value.as_bytes());
    }
    if body.is_some() && !given("content-type") {
        line(b"Content-Type", content_type.as_bytes());
    }
    // A POST, PUT or PATCH says it has no body, as hyper does: some servers answer 411 otherwise.
    if body.is_some() || matches!(*method, Method::POST | Method::PUT | Method::PATCH) {
        line(b"Content-Length", payload.len().to_string().as_bytes());
    }
    let mut message = Vec::with_capacity(request_line.len() + out.len() + payload.len() + 4);
    message.extend_from_slice(request_line.as_bytes());
    message.extend_from_slice(b"\r\n");
    message.extend_from_slice(&out);
    message.extend_from_slice(b"\r\n");
    message.extend_from_slice(&payload);
    Ok(message)
}

/// How the body of a response is delimited (RFC 9112, section 6.3).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Framing {
    Empty,
    Chunked,
    Length(u64),
    UntilClose,
}

fn framing(status: u16, head_only: bool, headers: &HeaderMap) -> Result<Framing, WireError> {
    if head_only || status == 204 || status == 304 {
        return Ok(Framing::Empty);
    }
    if let Some(last) = headers.get_all(TRANSFER_ENCODING).iter().next_back() {
        let chunked = last
            .to_str()
            .ok()
            .and_then(|codings| codings.rsplit(',').next())
            .is_some_and(|coding| coding.trim().eq_ignore_ascii_case("chunked"));
        return Ok(if chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        });
    }
    let mut length = None;
    for value in headers.get_all(CONTENT_LENGTH) {
        for part in value.to_str().unwrap_or("x").split(',') {
            let part = part.trim();
            let parsed = (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
                .then(|| part.parse::<u64>().ok())
                .flatten();
            match (parsed, length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(m)) if n == m => {}
                _ => {
                    return Err(WireError::Transport(format!(
                        "a Content-Length of {value:?} in the response"
                    )))
                }
            }
        }
    }
    Ok(length.map_or(Framing::UntilClose, Framing::Length))
}

fn says_close(headers: &HeaderMap) -> bool {
    headers.get_all(CONNECTION).iter().any(|value| {
        value
            .to_str()
            .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case("close")))
    })
}

/// Reads one response (after any interim 1xx) and its body, up to `cap` bytes of it.
pub(super) async fn read_response<R: AsyncRead + Unpin>(
    io: &mut R,
    head_only: bool,
    cap: usize,
) -> Result<Reply, Failure> {
    let mut incoming = Incoming {
        io,
        buf: Vec::with_capacity(READ_START),
        start: 0,
        received: false,
    };
    let Head {
        status,
        http_1_1,
        headers,
    } = loop {
        let head = incoming.head().await?;
        match head.status {
            101 => {
                return Err(WireError::Transport(
                    "a 101 Switching Protocols crossleak never asked for".to_owned(),
                )
                .into())
            }
            100..=199 => continue,
            _ => break head,
        }
    };
    let framing = framing(status, head_only, &headers)?;
    let mut body = Vec::new();
    let truncated = match framing {
        Framing::Empty => false,
        Framing::Length(length) => {
            body.reserve(length.min(cap as u64) as usize);
            incoming.copy(length, &mut body, cap).await?
        }
        Framing::Chunked => incoming.chunked(&mut body, cap).await?,
        Framing::UntilClose => incoming.until_close(&mut body, cap).await?,
    };
    let reusable = http_1_1
        && !truncated
        && framing != Framing::UntilClose
        && !says_close(&headers)
        && incoming.unread().is_empty();
    let mut headers = headers;
    let (body, truncated) = decode(&mut headers, body, truncated, cap)?;
    Ok(Reply {
        status,
        headers,
        body,
        truncated,
        reusable,
    })
}

/// A response's status line and fields.
struct Head {
    status: u16,
    http_1_1: bool,
    headers: HeaderMap,
}

/// What has been read from the socket and not yet used: `buf[start..]`.
struct Incoming<'a, R> {
    io: &'a mut R,
    buf: Vec<u8>,
    start: usize,
    /// Any byte came back: a close from now on is not a stale connection.
    received: bool,
}

fn body_error(what: &str) -> Failure {
    Failure::Error(WireError::Body(what.to_owned()))
}

impl<R: AsyncRead + Unpin> Incoming<'_, R> {
    fn unread(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        if self.start == self.buf.len() {
            self.buf.clear();
            self.start = 0;
        }
    }

    /// Reads more bytes after the unread ones; `false` at the end of the stream.
    async fn more(&mut self) -> std::io::Result<bool> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        if self.buf.len() == self.buf.capacity() {
            self.buf.reserve(self.buf.capacity().max(READ_START));
        }
        let read = self.io.read_buf(&mut self.buf).await?;
        self.received |= read > 0;
        Ok(read > 0)
    }

    /// The next response head: status, whether it is HTTP/1.1, its fields.
    async fn head(&mut self) -> Result<Head, Failure> {
        loop {
            if let Some((length, head)) = parse_head(self.unread())? {
                self.consume(length);
                return Ok(head);
            }
            if self.unread().len() >= MAX_LINE_BYTES {
                return Err(WireError::Transport(format!(
                    "a response head longer than {MAX_LINE_BYTES} bytes"
                ))
                .into());
            }
            match self.more().await {
                Ok(true) => {}
                Err(e) if wants_client_cert(&e) => return Err(Failure::ClientCertRequired),
                Ok(false) | Err(_) if !self.received => return Err(Failure::Stale),
                Ok(false) => {
                    return Err(WireError::Transport(
                        "the connection closed in the middle of a response head".to_owned(),
                    )
                    .into())
                }
                Err(e) => {
                    return Err(WireError::Transport(format!(
                        "the connection broke in a response head: {e}"
                    ))
                    .into())
                }
            }
        }
    }

    /// Moves the next `length` body bytes into `body`, up to `cap`; `true` when bytes were left
    /// over the cap (the rest stays unread).
    async fn copy(&mut self, length: u64, body: &mut Vec<u8>, cap: usize) -> Result<bool, Failure> {
        let mut left = length;
        while left > 0 {
            let room = cap.saturating_sub(body.len());
            if room == 0 {
                return Ok(true);
            }
            let want = left.min(room as u64) as usize;
            if !self.unread().is_empty() {
                let take = want.min(self.unread().len());
                body.extend_from_slice(&self.unread()[..take]);
                self.consume(take);
                left -= take as u64;
                continue;
            }
            // Nothing buffered: read straight into the body, never past this part of it.
            body.reserve(want);
            let read = (&mut *self.io)
                .take(want as u64)
                .read_buf(body)
                .await
                .map_err(|e| body_error(&format!("the connection broke: {e}")))?;
            if read == 0 {
                return Err(body_error(&format!(
                    "the connection closed {left} bytes before the end of the body"
                )));
            }
            self.received = true;
            left -= read as u64;
        }
        Ok(false)
    }

    /// The next line (without its CRLF), handed to `parse`.
    async fn line<T>(&mut self, parse: impl Fn(&[u8]) -> T) -> Result<T, Failure> {
        loop {
            if let Some(end) = self.unread().iter().position(|&b| b == b'\n') {
                let line = &self.unread()[..end];
                let parsed = parse(line.strip_suffix(b"\r").unwrap_or(line));
                self.consume(end + 1);
                return Ok(parsed);
            }
            if self.unread().len() >= MAX_LINE_BYTES {
                return Err(body_error("a chunk line longer than 64 KB"));
            }
            match self.more().await {
                Ok(true) => {}
                Ok(false) => return Err(body_error("the connection closed inside a chunked body")),
                Err(e) => return Err(body_error(&format!("the connection broke: {e}"))),
            }
        }
    }

    /// A chunked body: chunks (extensions ignored), the last chunk, trailers (ignored).
    async fn chunked(&mut self, body: &mut Vec<u8>, cap: usize) -> Result<bool, Failure> {
        loop {
            let size = self
                .line(chunk_size)
                .await?
                .ok_or_else(|| body_error("a malformed chunk size"))?;
            if size == 0 {
                for _ in 0..MAX_TRAILERS {
                    if self.line(|line| line.is_empty()).await? {
                        return Ok(false);
                    }
                }
                return Err(body_error("more than 100 trailer fields"));
            }
            if self.copy(size, body, cap).await? {
                return Ok(true);
            }
            if !self.line(|line| line.is_empty()).await? {
                return Err(body_error("a chunk longer than its size"));
            }
        }
    }

    /// A body that ends when the server closes the connection.
    async fn until_close(&mut self, body: &mut Vec<u8>, cap: usize) -> Result<bool, Failure> {
        loop {
            // One byte over the cap tells a long body from one exactly the cap's length.
            let want = (cap + 1 - body.len()).min(READ_START.max(body.len())) as u64;
            let read = if self.unread().is_empty() {
                body.reserve(want as usize);
                (&mut *self.io)
                    .take(want)
                    .read_buf(body)
                    .await
                    .map_err(|e| body_error(&format!("the connection broke: {e}")))?
            } else {
                let take = (want as usize).min(self.unread().len());
                body.extend_from_slice(&self.unread()[..take]);
                self.consume(take);
                take
            };
            if body.len() > cap {
                body.truncate(cap);
                return Ok(true);
            }
            if read == 0 {
                return Ok(false);
            }
        }
    }
}

/// A complete head at the start of `bytes`: its length, status, HTTP/1.1 or not, fields; `None`
/// while incomplete. Not async, so its slots (3 KB) never live in the user's waiting future.
fn parse_head(bytes: &[u8]) -> Result<Option<(usize, Head)>, WireError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut slots);
    let length = match parsed.parse(bytes) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            return Err(WireError::Transport(format!(
                "a malformed response head ({e})"
            )))
        }
    };
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for field in parsed.headers.iter() {
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(field.name.as_bytes()),
            HeaderValue::from_bytes(field.value),
        ) else {
            return Err(WireError::Transport(format!(
                "a malformed response header {:?}",
                field.name
            )));
        };
        headers.append(name, value);
    }
    let head = Head {
        status: parsed.code.unwrap_or_default(),
        http_1_1: parsed.version == Some(1),
        headers,
    };
    Ok(Some((length, head)))
}

/// A chunk-size line's size: hex digits, then optional whitespace and `;extensions`.
pub(super) fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = digits.trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}
