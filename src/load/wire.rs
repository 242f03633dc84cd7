//! One simulated user's own HTTP/1.1 connection, driven inline in the user's task: no connection
//! task, no channels, no buffer kept while the user is idle. Never shared between users.

use super::counters::ErrorCause;
use reqwest::cookie::CookieStore;
use reqwest::header::{
    HeaderMap, HeaderName, HeaderValue, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, LOCATION,
    SET_COOKIE, TRANSFER_ENCODING,
};
use reqwest::{Method, Url};
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Host;

const USER_AGENT: &str = concat!("crossleak/", env!("CARGO_PKG_VERSION"));
/// reqwest's default policy follows this many redirects; one more is an error.
const MAX_REDIRECTS: usize = 10;
/// A response head, a chunk-size line or a trailer longer than this is refused, not buffered.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Header fields a response head may carry (hyper's default too).
const MAX_HEADERS: usize = 100;
/// Trailer fields after a chunked body, beyond which the response is refused.
const MAX_TRAILERS: usize = 100;
/// The read buffer of one exchange starts this small (most heads fit) and is dropped after it.
const READ_START: usize = 4 * 1024;

/// Why an exchange gave no usable response.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("cannot connect to {target}: {source}; check that the target is up and reachable")]
    Connect {
        target: String,
        source: std::io::Error,
    },
    #[error("no complete answer within {0:?}; raise the request timeout or lower the load")]
    Timeout(Duration),
    #[error("the response body could not be read whole: {0}; the target cut it short or framed it wrongly")]
    Body(String),
    #[error("{0}; the target does not speak HTTP/1.1 as crossleak expects")]
    Transport(String),
}

impl WireError {
    /// The cause the run counts it under.
    pub fn cause(&self) -> ErrorCause {
        match self {
            WireError::Connect { .. } => ErrorCause::Connect,
            WireError::Timeout(_) => ErrorCause::Timeout,
            WireError::Body(_) => ErrorCause::Body,
            WireError::Transport(_) => ErrorCause::Transport,
        }
    }
}

/// A request body, encoded when it is written (and again on a 307/308 hop).
#[derive(Clone, Copy)]
pub enum Body<'a> {
    Form(&'a [(String, String)]),
    Json(&'a serde_json::Value),
}

pub struct Request<'a> {
    pub method: Method,
    pub url: Url,
    /// The scenario's headers and any token header; they win over the defaults (a `Cookie` here
    /// replaces the jar's).
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: Option<Body<'a>>,
}

pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    /// At most the cap's worth of the body.
    pub body: Vec<u8>,
    /// The body was longer than the cap: only its first bytes are in `body`.
    pub truncated: bool,
    /// Where the last redirect led: the request's URL when there was none.
    pub url: Url,
    /// From the first byte sent to the last response head: goose's response time.
    pub head_after: Duration,
}

/// What every user's connection shares in a run: TLS configuration, timeouts, the body cap.
pub struct Transport {
    tls: tokio_rustls::TlsConnector,
    connect_timeout: Duration,
    timeout: Duration,
    max_body_bytes: usize,
}

/// The socket a user keeps open between its requests, with the origin it speaks to.
struct Open {
    io: Box<dyn Io>,
    https: bool,
    host: Box<str>,
    port: u16,
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send + Sync {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + Sync> Io for T {}

impl Open {
    fn serves(&self, url: &Url) -> bool {
        self.https == (url.scheme() == "https")
            && url.host_str() == Some(&*self.host)
            && url.port_or_known_default() == Some(self.port)
    }
}

/// One user's connection: at most one open socket, to the origin of the user's requests.
#[derive(Default)]
pub struct Connection(Option<Open>);

/// Goose wants session data it can clone; a clone starts unconnected, so no two users ever share
/// a socket.
impl Clone for Connection {
    fn clone(&self) -> Self {
        Connection(None)
    }
}

impl Connection {
    /// Drops the socket, as a client that gives up on a request does.
    pub fn close(&mut self) {
        self.0 = None;
    }
}

/// One hop's answer before redirects are looked at.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Vec<u8>,
    truncated: bool,
    /// The connection may carry the next request.
    reusable: bool,
}

/// How one attempt on a connection failed.
enum Failure {
    /// Nothing of a response came back on a connection used before: the server had closed it
    /// while idle, so the request can be sent again on a new one.
    Stale,
    Error(WireError),
}

impl From<WireError> for Failure {
    fn from(error: WireError) -> Self {
        Failure::Error(error)
    }
}

impl Transport {
    pub fn new(
        tls: Arc<rustls::ClientConfig>,
        connect_timeout: Duration,
        timeout: Duration,
        max_body_bytes: usize,
    ) -> Self {
        Transport {
            tls: tokio_rustls::TlsConnector::from(tls),
            connect_timeout,
            timeout,
            max_body_bytes,
        }
    }

    /// Sends `request` on the user's `connection`, follows redirects as reqwest's default policy
    /// does, and reads the body up to the cap. Cookies come from and go to `jar` on every hop.
    pub async fn send(
        &self,
        connection: &mut Connection,
        jar: Option<&dyn CookieStore>,
        request: Request<'_>,
    ) -> Result<Response, WireError> {
        let started = Instant::now();
        match tokio::time::timeout(self.timeout, self.follow(connection, jar, request, started))
            .await
        {
            Ok(sent) => sent,
            Err(_) => {
                // Mid-exchange: what is left on the socket belongs to no request.
                connection.close();
                Err(WireError::Timeout(self.timeout))
            }
        }
    }

    async fn follow(
        &self,
        connection: &mut Connection,
        jar: Option<&dyn CookieStore>,
        request: Request<'_>,
        started: Instant,
    ) -> Result<Response, WireError> {
        let Request {
            mut method,
            mut url,
            mut headers,
            mut body,
        } = request;
        let home = url.clone();
        let mut redirects = 0;
        loop {
            let reply = if same_origin(&url, &home) {
                self.exchange(connection, jar, &method, &url, &headers, body)
                    .await?
            } else {
                // Another origin gets a connection of its own, closed after the hop; the user's
                // stays with the user's origin.
                let mut elsewhere = Connection::default();
                self.exchange(&mut elsewhere, jar, &method, &url, &headers, body)
                    .await?
            };
            let head_after = started.elapsed();
            if let Some(jar) = jar {
                if reply.headers.contains_key(SET_COOKIE) {
                    jar.set_cookies(&mut reply.headers.get_all(SET_COOKIE).iter(), &url);
                }
            }
            let next = matches!(reply.status, 301 | 302 | 303 | 307 | 308)
                .then(|| reply.headers.get(LOCATION))
                .flatten()
                .and_then(|location| location.to_str().ok())
                .and_then(|location| url.join(location).ok());
            let Some(next) = next else {
                return Ok(Response {
                    status: reply.status,
                    headers: reply.headers,
                    body: reply.body,
                    truncated: reply.truncated,
                    url,
                    head_after,
                });
            };
            if redirects == MAX_REDIRECTS {
                return Err(WireError::Transport(format!(
                    "more than {MAX_REDIRECTS} redirects, the last to {next}"
                )));
            }
            if !matches!(next.scheme(), "http" | "https") {
                return Err(WireError::Transport(format!(
                    "a redirect to {next}, which is not HTTP"
                )));
            }
            redirects += 1;
            if matches!(reply.status, 301..=303) {
                body = None;
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
                if method != Method::GET && method != Method::HEAD {
                    method = Method::GET;
                }
            }
            if next.host_str() != url.host_str()
                || next.port_or_known_default() != url.port_or_known_default()
            {
                // What reqwest strips before it follows a redirect to another host.
                headers.retain(|(name, _)| {
                    ![
                        "authorization",
                        "cookie",
                        "proxy-authorization",
                        "www-authenticate",
                    ]
                    .iter()
                    .any(|sensitive| name.eq_ignore_ascii_case(sensitive))
                });
            }
            url = next;
        }
    }

    /// One request and its response on `connection`, connecting first when it is not open to
    /// `url`'s origin. A connection used before that turns out closed is replaced once.
    async fn exchange(
        &self,
        connection: &mut Connection,
        jar: Option<&dyn CookieStore>,
        method: &Method,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> Result<Reply, WireError> {
        let cookie = jar.and_then(|jar| jar.cookies(url));
        let message = encode(method, url, headers, cookie.as_ref(), body)?;
        let head_only = *method == Method::HEAD;
        let mut reused = connection.0.as_ref().is_some_and(|open| open.serves(url));
        loop {
            let open = match connection.0.take() {
                Some(open) if reused => open,
                _ => self.connect(url).await?,
            };
            let open = connection.0.insert(open);
            match attempt(open, &message, head_only, self.max_body_bytes).await {
                Ok(reply) => {
                    if !reply.reusable {
                        connection.close();
                    }
                    return Ok(reply);
                }
                Err(Failure::Stale) if reused => {
                    // Only safe because nothing of the response was read: send it again.
                    connection.close();
                    reused = false;
                }
                Err(failure) => {
                    connection.close();
                    return Err(match failure {
                        Failure::Error(error) => error,
                        Failure::Stale => WireError::Transport(format!(
                            "{url} closed the connection before answering"
                        )),
                    });
                }
            }
        }
    }

    async fn connect(&self, url: &Url) -> Result<Open, WireError> {
        let https = match url.scheme() {
            "http" => false,
            "https" => true,
            other => {
                return Err(WireError::Transport(format!(
                    "{url} is a {other}: URL, not HTTP"
                )))
            }
        };
        let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else {
            return Err(WireError::Transport(format!("{url} names no host")));
        };
        let target = format!("{}:{port}", url.host_str().unwrap_or_default());
        let failed = |source| WireError::Connect {
            target: target.clone(),
            source,
        };
        let connecting = async {
            let tcp = match host {
                Host::Domain(name) => TcpStream::connect((name, port)).await,
                Host::Ipv4(ip) => TcpStream::connect((ip, port)).await,
                Host::Ipv6(ip) => TcpStream::connect((ip, port)).await,
            }
            .map_err(failed)?;
            // Requests go out in one write and wait for their answer: Nagle only adds delay.
            tcp.set_nodelay(true).map_err(failed)?;
            let io: Box<dyn Io> = if https {
                let name = match host {
                    Host::Domain(name) => ServerName::try_from(name.to_owned()).map_err(|e| {
                        WireError::Transport(format!("{name} is not a valid TLS server name: {e}"))
                    })?,
                    Host::Ipv4(ip) => ServerName::from(IpAddr::V4(ip)),
                    Host::Ipv6(ip) => ServerName::from(IpAddr::V6(ip)),
                };
                Box::new(self.tls.connect(name, tcp).await.map_err(failed)?)
            } else {
                Box::new(tcp)
            };
            Ok(Open {
                io,
                https,
                host: url.host_str().unwrap_or_default().into(),
                port,
            })
        };
        tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| WireError::Timeout(self.connect_timeout))?
    }
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Writes the request and reads its response. A write that fails, or a close before the first
/// byte of a response, is `Stale`: the caller decides whether that may be retried.
async fn attempt(
    open: &mut Open,
    message: &[u8],
    head_only: bool,
    cap: usize,
) -> Result<Reply, Failure> {
    if open.io.write_all(message).await.is_err() || open.io.flush().await.is_err() {
        return Err(Failure::Stale);
    }
    read_response(&mut open.io, head_only, cap).await
}

/// The request's head and body in one buffer, so it leaves in one write.
fn encode(
    method: &Method,
    url: &Url,
    headers: &[(&str, &str)],
    cookie: Option<&HeaderValue>,
    body: Option<Body<'_>>,
) -> Result<Vec<u8>, WireError> {
    let (content_type, payload) = match body {
        Some(Body::Form(pairs)) => (
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string(pairs)
                .map_err(|e| WireError::Transport(format!("cannot encode the form: {e}")))?
                .into_bytes(),
        ),
        Some(Body::Json(value)) => (
            "application/json",
            serde_json::to_vec(value)
                .map_err(|e| WireError::Transport(format!("cannot encode the JSON body: {e}")))?,
        ),
        None => ("", Vec::new()),
    };
    let given = |name: &str| headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name));
    let mut out = Vec::with_capacity(256 + payload.len());
    let mut line = |name: &[u8], value: &[u8]| {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    };
    let mut target = url.path().to_owned();
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
    if !given("user-agent") {
        line(b"User-Agent", USER_AGENT.as_bytes());
    }
    if !given("accept") {
        line(b"Accept", b"*/*");
    }
    // reqwest (built with gzip by goose) asked for gzip and inflated it: portals compress.
    if !given("accept-encoding") {
        line(b"Accept-Encoding", b"gzip");
    }
    if let (Some(cookie), false) = (cookie, given("cookie")) {
        line(b"Cookie", cookie.as_bytes());
    }
    for (name, value) in headers {
        // What reqwest's builder refuses: a name that is no token, a value that breaks the line.
        if HeaderName::from_bytes(name.as_bytes()).is_err() || HeaderValue::from_str(value).is_err()
        {
            return Err(WireError::Transport(format!(
                "the header {name:?} cannot be sent as it is"
            )));
        }
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
async fn read_response<R: AsyncRead + Unpin>(
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
    let (body, truncated) = if gzipped(&headers) {
        // What reqwest's decompression leaves: the inflated body, without the encoding's fields.
        headers.remove(CONTENT_ENCODING);
        headers.remove(CONTENT_LENGTH);
        gunzip(&body, truncated, cap)?
    } else {
        (body, truncated)
    };
    Ok(Reply {
        status,
        headers,
        body,
        truncated,
        reusable,
    })
}

fn gzipped(headers: &HeaderMap) -> bool {
    headers.get_all(CONTENT_ENCODING).iter().any(|value| {
        value.to_str().is_ok_and(|codings| {
            codings.split(',').any(|c| {
                c.trim().eq_ignore_ascii_case("gzip") || c.trim().eq_ignore_ascii_case("x-gzip")
            })
        })
    })
}

/// Inflates a gzip body up to `cap` bytes; `true` when more was left (in the inflated body, or
/// in a compressed body already cut at the cap).
fn gunzip(compressed: &[u8], cut: bool, cap: usize) -> Result<(Vec<u8>, bool), Failure> {
    use std::io::Read;
    let mut inflated = Vec::new();
    let decoder = flate2::read::MultiGzDecoder::new(compressed);
    // One byte over the cap tells a long body from one exactly the cap's length.
    match decoder.take(cap as u64 + 1).read_to_end(&mut inflated) {
        Ok(_) => {}
        // A compressed body cut at the cap ends early: what came out of it is kept.
        Err(_) if cut => {}
        Err(e) => return Err(body_error(&format!("the gzip body does not inflate: {e}"))),
    }
    if inflated.len() > cap {
        inflated.truncate(cap);
        return Ok((inflated, true));
    }
    Ok((inflated, cut))
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
fn chunk_size(line: &[u8]) -> Option<u64> {
    let digits = line.split(|&b| b == b';').next().unwrap_or_default();
    let digits = digits.trim_ascii();
    if digits.is_empty() || digits.len() > 15 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u64::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

#[cfg(test)]
mod tests;
