//! How crossleak speaks to the target: one transport per run (TLS, proxies, timeouts, the cap, the
//! HTTP version), one connection per simulated user, HTTP/1.1 or HTTP/2. It is never shared.

mod canned;
mod connect;
mod decode;
mod http1;
mod http2;
mod jar;
mod message;
mod proxy;
mod tls;

pub use canned::{read_canned, CannedRead};
pub use jar::Jar;
pub use proxy::ProxyError;
pub use tls::{client_config, TlsError};

use crate::error_cause::ErrorCause;
use crate::scenario::{self, HttpVersion, ProxySetting, RenderedBody, RenderedRequest, Tls};
use http::header::{HeaderMap, LOCATION, SET_COOKIE};
use http::Method;
use http1::{encode, read_response, Failure, Reply};
use proxy::{Proxies, Proxy};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use url::Url;

/// Redirects followed within one exchange (reqwest's and browsers' count); one more is an error.
const MAX_REDIRECTS: usize = 10;

/// Why an exchange gave no usable response.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("cannot connect to {target}: {source}; check that the target is up and reachable")]
    Connect {
        target: String,
        source: std::io::Error,
    },
    #[error("the TLS handshake with {target} failed: {source}; if its certificate comes from a private CA, give that CA as [target.tls] ca_file")]
    Tls {
        target: String,
        source: std::io::Error,
    },
    #[error("{target} asked for a client certificate (mutual TLS) and crossleak has none to give; set [target.tls] client_cert and client_key to the PEM files of one it trusts")]
    ClientCertRequired { target: String },
    #[error("{target} accepts none of the HTTP versions offered in the TLS handshake (ALPN {offered}); set [target] http = \"auto\" to offer both h2 and http/1.1")]
    NoCommonProtocol { target: String, offered: String },
    #[error("no complete answer within {0:?}; raise the request timeout or lower the load")]
    Timeout(Duration),
    #[error("{0}; ask the target for gzip, deflate, br or no encoding")]
    Encoding(String),
    #[error("{method} {url} was sent on a kept-alive connection that closed before any answer; it may have reached the server, so it was not sent again")]
    NotResent { method: Method, url: Url },
    #[error("the response body could not be read whole: {0}; the target cut it short or framed it wrongly")]
    Body(String),
    #[error("{0}; the target does not speak HTTP/1.1 as crossleak expects")]
    Transport(String),
    #[error("{0}; the target does not speak HTTP/2 as crossleak expects: [target] http = \"1.1\" speaks HTTP/1.1 to it")]
    Http2(String),
}

impl WireError {
    /// The cause the run counts it under.
    pub fn cause(&self) -> ErrorCause {
        match self {
            WireError::Connect { .. } => ErrorCause::Connect,
            WireError::Tls { .. } => ErrorCause::Tls,
            WireError::ClientCertRequired { .. } => ErrorCause::TlsClientCertRequired,
            WireError::Timeout(_) => ErrorCause::Timeout,
            WireError::Encoding(_) => ErrorCause::Encoding,
            WireError::NotResent { .. } => ErrorCause::NotResent,
            WireError::Body(_) => ErrorCause::Body,
            WireError::Transport(_) | WireError::Http2(_) | WireError::NoCommonProtocol { .. } => {
                ErrorCause::Transport
            }
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

impl<'a> Request<'a> {
    /// A scenario's rendered request to `url`, its headers first, then `extra` (a token header).
    pub fn rendered(
        rendered: &'a RenderedRequest,
        url: Url,
        extra: Option<(&'a str, &'a str)>,
    ) -> Self {
        Request {
            method: match rendered.method {
                scenario::Method::Get => Method::GET,
                scenario::Method::Post => Method::POST,
                scenario::Method::Put => Method::PUT,
                scenario::Method::Patch => Method::PATCH,
                scenario::Method::Delete => Method::DELETE,
            },
            url,
            headers: rendered
                .headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .chain(extra)
                .collect(),
            body: rendered.body.as_ref().map(Body::of),
        }
    }
}

impl<'a> Body<'a> {
    /// A scenario's rendered body, encoded as it says.
    pub fn of(body: &'a RenderedBody) -> Self {
        match body {
            RenderedBody::Form(pairs) => Body::Form(pairs),
            RenderedBody::Json(value) => Body::Json(value),
        }
    }
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

/// What a run's transport is built from beside its target URL: the scenario's `[target]` keys.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub tls: Tls,
    pub proxy: ProxySetting,
    pub connect_timeout: Duration,
    pub http: HttpVersion,
}

impl Settings {
    pub fn of(target: &scenario::Target) -> Self {
        Settings {
            tls: target.tls.clone(),
            proxy: target.proxy.clone(),
            connect_timeout: target.timeouts.connect,
            http: target.http,
        }
    }
}

/// The scenario's defaults: the platform's roots, the environment's proxies, 5 s to connect.
impl Default for Settings {
    fn default() -> Self {
        Settings {
            tls: Tls::default(),
            proxy: ProxySetting::Environment,
            connect_timeout: Duration::from_secs(5),
            http: HttpVersion::Auto,
        }
    }
}

/// Why a run's transport cannot be built; nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    Proxy(#[from] ProxyError),
}

/// What every user's connection shares in a run: TLS configuration, proxies, timeouts, the cap,
/// the HTTP version, and how many connections each version carried.
pub struct Transport {
    tls: tokio_rustls::TlsConnector,
    proxies: Proxies,
    connect_timeout: Duration,
    timeout: Duration,
    max_body_bytes: usize,
    http: HttpVersion,
    /// Connections opened for requests, HTTP/1.1 then HTTP/2.
    opened: [AtomicU64; 2],
}

/// The connections a run opened for its requests, by the HTTP version they spoke (negotiated by
/// ALPN on TLS). The reachability check's connection is not among them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Connections {
    pub http1: u64,
    pub http2: u64,
}

/// The socket a user keeps open between its requests, with the origin it speaks to.
struct Open {
    wire: Wire,
    https: bool,
    host: Box<str>,
    port: u16,
}

/// The HTTP version spoken on an open connection.
enum Wire {
    Http1(Box<dyn Io>),
    Http2(http2::Session),
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

    /// Whether the open socket serves `url`'s origin and may carry `method`: a request that must
    /// not go twice goes on a connection known to be open, so one the server closed while it was
    /// idle is seen now, before the request is written (and dropped).
    fn reusable_for(&mut self, method: &Method, url: &Url) -> Result<bool, WireError> {
        let Some(open) = self.0.as_mut().filter(|open| open.serves(url)) else {
            return Ok(false);
        };
        if idempotent(method) {
            return Ok(true);
        }
        match still_open(open, url) {
            Ok(()) => Ok(true),
            Err(error) => {
                self.close();
                error.map_or(Ok(false), Err)
            }
        }
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
            proxies: Proxies::default(),
            connect_timeout,
            timeout,
            max_body_bytes,
            http: HttpVersion::Auto,
            opened: Default::default(),
        }
    }

    /// The connections opened for requests so far, by HTTP version.
    pub fn connections(&self) -> Connections {
        Connections {
            http1: self.opened[0].load(Ordering::Relaxed),
            http2: self.opened[1].load(Ordering::Relaxed),
        }
    }

    /// The transport of one run against `base_url`: its TLS configuration built once from the
    /// scenario's `[target.tls]` (none to speak of for a plain-HTTP target), its proxies decided
    /// once from `[target] proxy` or the environment, its timeouts and body cap.
    pub fn for_run(
        settings: &Settings,
        base_url: &str,
        timeout: Duration,
        max_body_bytes: usize,
    ) -> Result<Self, SetupError> {
        let config = client_config(
            &settings.tls,
            base_url.starts_with("http://"),
            settings.http,
        )?;
        let proxies = Proxies::resolve(&settings.proxy, |name| std::env::var(name).ok())?;
        Ok(Transport {
            proxies,
            http: settings.http,
            ..Transport::new(
                Arc::new(config),
                settings.connect_timeout,
                timeout,
                max_body_bytes,
            )
        })
    }

    /// Sends `request` on the user's `connection`, follows redirects within its origin (up to ten,
    /// a 301-303 turning into a body-less GET as browsers do), and reads the body up to the cap.
    /// Cookies come from and go to `jar` on every hop. The one redirect policy of crossleak.
    pub async fn send(
        &self,
        connection: &mut Connection,
        jar: Option<&Jar>,
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
        jar: Option<&Jar>,
        request: Request<'_>,
        started: Instant,
    ) -> Result<Response, WireError> {
        let Request {
            mut method,
            mut url,
            mut headers,
            mut body,
        } = request;
        let mut redirects = 0;
        loop {
            let reply = self
                .exchange(connection, jar, &method, &url, &headers, body)
                .await?;
            let head_after = started.elapsed();
            if let Some(jar) = jar {
                if reply.headers.contains_key(SET_COOKIE) {
                    jar.store(&reply.headers, &url);
                }
            }
            let next = matches!(reply.status, 301 | 302 | 303 | 307 | 308)
                .then(|| reply.headers.get(LOCATION))
                .flatten()
                .and_then(|location| location.to_str().ok())
                .and_then(|location| url.join(location).ok())
                // Within the request's origin only: crossleak connects to its target (and its
                // proxy) alone, so a redirect elsewhere is the answer, judged as it is.
                .filter(|next| same_origin(next, &url));
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
            redirects += 1;
            if matches!(reply.status, 301..=303) {
                body = None;
                headers.retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
                if method != Method::GET && method != Method::HEAD {
                    method = Method::GET;
                }
            }
            url = next;
        }
    }

    /// One request and its response on `connection`, connecting first when it is not open to
    /// `url`'s origin. A connection used before that turns out closed is replaced once (for an
    /// idempotent request); a request the server says it did not process goes again once.
    async fn exchange(
        &self,
        connection: &mut Connection,
        jar: Option<&Jar>,
        method: &Method,
        url: &Url,
        headers: &[(&str, &str)],
        body: Option<Body<'_>>,
    ) -> Result<Reply, WireError> {
        let cookie = jar.and_then(|jar| jar.header(url));
        let proxy = self.proxies.for_url(url);
        let forward = proxy.filter(|_| url.scheme() == "http");
        let head_only = *method == Method::HEAD;
        let mut reused = connection.reusable_for(method, url)?;
        let mut message = None;
        let mut resent = false;
        loop {
            let open = self.open_for(connection, reused, url, proxy).await?;
            let cap = self.max_body_bytes;
            let answer = match &mut open.wire {
                Wire::Http1(io) => {
                    if message.is_none() {
                        message = Some(encode(
                            method,
                            url,
                            headers,
                            cookie.as_ref(),
                            body,
                            forward,
                        )?);
                    }
                    let message = message.as_deref().unwrap_or_default();
                    attempt(io, message, head_only, cap).await
                }
                Wire::Http2(session) => {
                    let (request, payload) =
                        http2::request(method, url, headers, cookie.as_ref(), body)?;
                    http2::exchange(session, request, payload, cap).await
                }
            };
            match answer {
                Ok(reply) => {
                    if !reply.reusable {
                        connection.close();
                    }
                    return Ok(reply);
                }
                Err(failure) => {
                    // A failed attempt leaves the connection in no known state.
                    connection.close();
                    if !may_send_again(&failure, reused, resent, method) {
                        return Err(given_up(failure, reused, method, url));
                    }
                    resent |= matches!(failure, Failure::Unprocessed);
                    reused = false;
                }
            }
        }
    }

    /// The user's open connection when `reused` (it serves the request's origin), else a new one
    /// to `url`'s origin, counted by the HTTP version it speaks.
    async fn open_for<'c>(
        &self,
        connection: &'c mut Connection,
        reused: bool,
        url: &Url,
        proxy: Option<&Proxy>,
    ) -> Result<&'c mut Open, WireError> {
        let open = match connection.0.take() {
            Some(open) if reused => open,
            _ => {
                let open = self.connect(url, proxy).await?;
                let index = usize::from(matches!(open.wire, Wire::Http2(_)));
                self.opened[index].fetch_add(1, Ordering::Relaxed);
                open
            }
        };
        Ok(connection.0.insert(open))
    }
}

/// The methods a client may send again after a failure (RFC 9110, 9.2.2).
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS
    )
}

/// Looks at an idle connection without waiting: `Ok` while it is open and silent; `Err(None)`
/// when the server closed it; `Err(Some(error))` when bytes arrived that no request asked for
/// (they are dropped with the connection, and the request is counted as an error, not read
/// from them).
fn still_open(open: &mut Open, url: &Url) -> Result<(), Option<WireError>> {
    use std::task::{Context, Poll, Waker};
    // An HTTP/2 connection's own task reads it: a close there fails the next stream before
    // anything is sent, which any method may survive.
    let Wire::Http1(io) = &mut open.wire else {
        return Ok(());
    };
    let mut byte = [0u8; 1];
    let mut buf = tokio::io::ReadBuf::new(&mut byte);
    let mut context = Context::from_waker(Waker::noop());
    match std::pin::Pin::new(io).poll_read(&mut context, &mut buf) {
        Poll::Pending => Ok(()),
        Poll::Ready(Ok(())) if buf.filled().is_empty() => Err(None),
        Poll::Ready(Ok(())) => Err(Some(WireError::Transport(format!(
            "{url}'s server sent bytes on an idle connection, before any request"
        )))),
        Poll::Ready(Err(_)) => Err(None),
    }
}

/// Whether a request whose attempt failed goes again on a new connection: a connection used
/// before that closed unanswered, for an idempotent request (sending it twice does what sending
/// it once does, RFC 9110, 9.2.2); a request the server took none of, for any method, once.
fn may_send_again(failure: &Failure, reused: bool, resent: bool, method: &Method) -> bool {
    match failure {
        Failure::Stale => reused && idempotent(method),
        Failure::Unprocessed => !resent,
        Failure::ClientCertRequired | Failure::Error(_) => false,
    }
}

/// The error of a request that is not sent again after `failure`.
fn given_up(failure: Failure, reused: bool, method: &Method, url: &Url) -> WireError {
    match failure {
        Failure::Stale if reused => WireError::NotResent {
            method: method.clone(),
            url: url.clone(),
        },
        Failure::Error(error) => error,
        Failure::ClientCertRequired => WireError::ClientCertRequired {
            target: origin(url),
        },
        Failure::Unprocessed => WireError::Http2(format!(
            "{url} refused the request twice, on two connections"
        )),
        Failure::Stale => {
            WireError::Transport(format!("{url} closed the connection before answering"))
        }
    }
}

/// `host:port` of `url`, as errors name it.
fn origin(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme()
        && a.host_str() == b.host_str()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Writes the request and reads its response. A write that fails, or a close before the first
/// byte of a response, is `Stale`: the caller decides whether that may be retried.
async fn attempt(
    io: &mut Box<dyn Io>,
    message: &[u8],
    head_only: bool,
    cap: usize,
) -> Result<Reply, Failure> {
    if io.write_all(message).await.is_err() || io.flush().await.is_err() {
        return Err(Failure::Stale);
    }
    read_response(io, head_only, cap).await
}

#[cfg(test)]
mod tests;
