//! One simulated user's own HTTP/1.1 connection, driven inline in the user's task: no connection
//! task, no channels, no buffer kept while the user is idle. Never shared between users.

mod http1;

use super::counters::ErrorCause;
use http1::{encode, read_response, Failure, Reply};
use reqwest::cookie::CookieStore;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Method, Url};
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Host;

/// reqwest's default policy follows this many redirects; one more is an error.
const MAX_REDIRECTS: usize = 10;

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

#[cfg(test)]
mod tests;
