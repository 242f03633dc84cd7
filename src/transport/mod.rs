//! How crossleak speaks to the target: one transport per run (TLS, proxies, timeouts, the cap, the
//! HTTP version), one connection per simulated user, HTTP/1.1 or HTTP/2. It is never shared.

mod canned;
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
use tls::wants_client_cert;
pub use tls::{client_config, TlsError};

use crate::error_cause::ErrorCause;
use crate::scenario::{self, HttpVersion, ProxySetting, RenderedBody, RenderedRequest, Tls};
use http::header::{HeaderMap, LOCATION, SET_COOKIE};
use http::Method;
use http1::{encode, read_response, Failure, Reply};
use proxy::{Proxies, Proxy};
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::{Host, Url};

/// Redirects followed within one exchange (reqwest's and browsers' count); one more is an error.
const MAX_REDIRECTS: usize = 10;
/// How long `reach` waits after a TLS handshake for a server's refusal of a client without a
/// certificate (one round trip; a server that wants a request first says nothing).
const CLIENT_CERT_REFUSAL: Duration = Duration::from_millis(300);

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
        let mut reused = connection.0.as_ref().is_some_and(|open| open.serves(url));
        if reused && !idempotent(method) {
            // A request that must not go twice goes on a connection known to be open: one the
            // server closed while it was idle is seen now, before the request is written.
            if let Some(open) = connection.0.as_mut() {
                if let Err(error) = still_open(open, url) {
                    connection.close();
                    reused = false;
                    if let Some(error) = error {
                        return Err(error);
                    }
                }
            }
        }
        let mut message = None;
        let mut resent = false;
        loop {
            let open = match connection.0.take() {
                Some(open) if reused => open,
                _ => {
                    let open = self.connect(url, proxy).await?;
                    let index = usize::from(matches!(open.wire, Wire::Http2(_)));
                    self.opened[index].fetch_add(1, Ordering::Relaxed);
                    open
                }
            };
            let open = connection.0.insert(open);
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
                Err(Failure::Stale) if reused && idempotent(method) => {
                    // Nothing of the response was read, and sending it twice does what sending
                    // it once does (RFC 9110, 9.2.2): send it again on a new connection.
                    connection.close();
                    reused = false;
                }
                Err(Failure::Stale) if reused => {
                    connection.close();
                    return Err(WireError::NotResent {
                        method: method.clone(),
                        url: url.clone(),
                    });
                }
                Err(Failure::Unprocessed) if !resent => {
                    // The server took none of it: any method may go again, once.
                    connection.close();
                    reused = false;
                    resent = true;
                }
                Err(failure) => {
                    connection.close();
                    return Err(match failure {
                        Failure::Error(error) => error,
                        Failure::ClientCertRequired => WireError::ClientCertRequired {
                            target: origin(url),
                        },
                        Failure::Unprocessed => WireError::Http2(format!(
                            "{url} refused the request twice, on two connections"
                        )),
                        Failure::Stale => WireError::Transport(format!(
                            "{url} closed the connection before answering"
                        )),
                    });
                }
            }
        }
    }

    /// Opens a connection to `url`'s origin (TCP, then TLS for `https`) and closes it: whether a
    /// run can reach its target at all, and if not, why.
    /// A mutual-TLS server that gets no client certificate says so just after a TLS 1.3
    /// handshake: that refusal is waited for, so the run ends unreachable for its reason.
    pub async fn reach(&self, url: &Url) -> Result<(), WireError> {
        let (mut io, https, _) = self.connect_io(url, self.proxies.for_url(url)).await?;
        if https && !self.tls.config().client_auth_cert_resolver.has_certs() {
            let mut byte = [0u8; 1];
            let read = tokio::time::timeout(CLIENT_CERT_REFUSAL, io.read(&mut byte)).await;
            if let Ok(Err(error)) = read {
                if wants_client_cert(&error) {
                    return Err(WireError::ClientCertRequired {
                        target: origin(url),
                    });
                }
            }
        }
        Ok(())
    }

    /// A failed handshake: for want of a client certificate (a TLS 1.2 server says so here), for
    /// want of an HTTP version both sides speak, or for any other reason.
    fn tls_failure(&self, target: &str, source: std::io::Error) -> WireError {
        let alert = source
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        if wants_client_cert(&source) {
            WireError::ClientCertRequired {
                target: target.to_owned(),
            }
        } else if let Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::NoApplicationProtocol,
        )) = alert
        {
            let offered: Vec<String> = self
                .tls
                .config()
                .alpn_protocols
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            WireError::NoCommonProtocol {
                target: target.to_owned(),
                offered: offered.join(", "),
            }
        } else {
            WireError::Tls {
                target: target.to_owned(),
                source,
            }
        }
    }

    /// A connection to `url`'s origin speaking the HTTP version `[target] http` and, on TLS, the
    /// server's ALPN choice agree on.
    async fn connect(&self, url: &Url, proxy: Option<&Proxy>) -> Result<Open, WireError> {
        let (io, https, h2) = self.connect_io(url, proxy).await?;
        let wire = if h2 {
            Wire::Http2(http2::handshake(io).await?)
        } else {
            Wire::Http1(io)
        };
        Ok(Open {
            wire,
            https,
            host: url.host_str().unwrap_or_default().into(),
            port: url.port_or_known_default().unwrap_or_default(),
        })
    }

    /// A socket to `url`'s origin, straight or through `proxy` (a tunnel for `https`), with
    /// whether it is TLS and whether it is to speak HTTP/2.
    async fn connect_io(
        &self,
        url: &Url,
        proxy: Option<&Proxy>,
    ) -> Result<(Box<dyn Io>, bool, bool), WireError> {
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
        let target = origin(url);
        if let (false, HttpVersion::Http2, Some(proxy)) = (https, self.http, proxy) {
            return Err(WireError::Http2(format!(
                "HTTP/2 with prior knowledge (h2c) to {target} cannot go through the proxy {}:{}, which forwards HTTP/1.1; set proxy = \"none\" or",
                proxy.host, proxy.port
            )));
        }
        let failed = |source| WireError::Connect {
            target: target.clone(),
            source,
        };
        let connecting = async {
            let mut tcp = match proxy {
                Some(proxy) => TcpStream::connect((&*proxy.host, proxy.port))
                    .await
                    .map_err(|source| WireError::Connect {
                        target: format!("the proxy {}:{} (for {target})", proxy.host, proxy.port),
                        source,
                    })?,
                None => match host {
                    Host::Domain(name) => TcpStream::connect((name, port)).await,
                    Host::Ipv4(ip) => TcpStream::connect((ip, port)).await,
                    Host::Ipv6(ip) => TcpStream::connect((ip, port)).await,
                }
                .map_err(failed)?,
            };
            // Requests go out in one write and wait for their answer: Nagle only adds delay.
            tcp.set_nodelay(true).map_err(failed)?;
            if let (true, Some(proxy)) = (https, proxy) {
                tunnel(&mut tcp, &target, proxy).await?;
            }
            if !https {
                return Ok((
                    Box::new(tcp) as Box<dyn Io>,
                    false,
                    self.http == HttpVersion::Http2,
                ));
            }
            let name = match host {
                Host::Domain(name) => ServerName::try_from(name.to_owned()).map_err(|e| {
                    WireError::Transport(format!("{name} is not a valid TLS server name: {e}"))
                })?,
                Host::Ipv4(ip) => ServerName::from(IpAddr::V4(ip)),
                Host::Ipv6(ip) => ServerName::from(IpAddr::V6(ip)),
            };
            let tls = self
                .tls
                .connect(name, tcp)
                .await
                .map_err(|source| self.tls_failure(&target, source))?;
            let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
            if self.http == HttpVersion::Http2 && !h2 {
                return Err(WireError::Http2(format!(
                    "{target} did not agree to HTTP/2 in the TLS handshake (ALPN)"
                )));
            }
            Ok((Box::new(tls) as Box<dyn Io>, true, h2))
        };
        tokio::time::timeout(self.connect_timeout, connecting)
            .await
            .map_err(|_| WireError::Connect {
                target: target.clone(),
                source: std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "no connection within {:?} (connect_timeout)",
                        self.connect_timeout
                    ),
                ),
            })?
    }
}

/// Asks `proxy` for a tunnel to `authority` (`host:port`) and reads its answer: a 2xx opens it.
async fn tunnel(tcp: &mut TcpStream, authority: &str, proxy: &Proxy) -> Result<(), WireError> {
    let mut request = format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n");
    if let Some(authorization) = &proxy.authorization {
        request.push_str(&format!("Proxy-Authorization: {authorization}\r\n"));
    }
    request.push_str("\r\n");
    let refused = |reason: String| WireError::Connect {
        target: format!(
            "{authority} through the proxy {}:{}",
            proxy.host, proxy.port
        ),
        source: std::io::Error::other(reason),
    };
    tcp.write_all(request.as_bytes())
        .await
        .map_err(|e| refused(format!("the CONNECT request could not be written: {e}")))?;
    // A proxy sends nothing after its answer until the client speaks: the head is all there is.
    match read_response(tcp, true, 0).await {
        Ok(reply) if (200..300).contains(&reply.status) => Ok(()),
        Ok(reply) => Err(refused(format!(
            "the proxy answered {} to CONNECT{}",
            reply.status,
            if reply.status == 407 {
                ": it wants credentials, give them in the proxy URL (http://user:password@host:port)"
            } else {
                ""
            }
        ))),
        Err(Failure::Stale | Failure::Unprocessed | Failure::ClientCertRequired) => {
            Err(refused("the proxy closed the connection".to_owned()))
        }
        Err(Failure::Error(error)) => Err(refused(error.to_string())),
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
