//! Connection establishment: TCP to the target or its proxy (a CONNECT tunnel for `https`), TLS
//! with ALPN, the HTTP version both sides agree on, and why a connection could not be made.

use super::http1::{read_response, Failure};
use super::proxy::Proxy;
use super::tls::wants_client_cert;
use super::{http2, origin, Io, Open, Transport, Wire, WireError};
use crate::scenario::HttpVersion;
use rustls::pki_types::ServerName;
use std::net::IpAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use url::{Host, Url};

/// How long `reach` waits after a TLS handshake for a server's refusal of a client without a
/// certificate (one round trip; a server that wants a request first says nothing).
const CLIENT_CERT_REFUSAL: Duration = Duration::from_millis(300);

/// A socket to an origin, whether it is TLS, and whether it is to speak HTTP/2.
type Socket = (Box<dyn Io>, bool, bool);

impl Transport {
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

    /// A connection to `url`'s origin speaking the HTTP version `[target] http` and, on TLS, the
    /// server's ALPN choice agree on.
    pub(super) async fn connect(
        &self,
        url: &Url,
        proxy: Option<&Proxy>,
    ) -> Result<Open, WireError> {
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
    async fn connect_io(&self, url: &Url, proxy: Option<&Proxy>) -> Result<Socket, WireError> {
        let https = is_https(url)?;
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
        let connecting = async {
            let tcp = open_tcp(&host, port, proxy, https, &target).await?;
            if !https {
                return Ok((
                    Box::new(tcp) as Box<dyn Io>,
                    false,
                    self.http == HttpVersion::Http2,
                ));
            }
            self.secure(tcp, host, &target).await
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

    /// The TLS handshake on `tcp` with `host`, and the HTTP version the server chose by ALPN.
    async fn secure(
        &self,
        tcp: TcpStream,
        host: Host<&str>,
        target: &str,
    ) -> Result<Socket, WireError> {
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
            .map_err(|source| self.tls_failure(target, source))?;
        let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
        if self.http == HttpVersion::Http2 && !h2 {
            return Err(WireError::Http2(format!(
                "{target} did not agree to HTTP/2 in the TLS handshake (ALPN)"
            )));
        }
        Ok((Box::new(tls) as Box<dyn Io>, true, h2))
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
}

/// Whether `url` is to be spoken to over TLS; a URL that is not HTTP is an error.
fn is_https(url: &Url) -> Result<bool, WireError> {
    match url.scheme() {
        "http" => Ok(false),
        "https" => Ok(true),
        other => Err(WireError::Transport(format!(
            "{url} is a {other}: URL, not HTTP"
        ))),
    }
}

/// A TCP connection to `host:port`, or to `proxy` (through a CONNECT tunnel for `https`), with
/// Nagle off.
async fn open_tcp(
    host: &Host<&str>,
    port: u16,
    proxy: Option<&Proxy>,
    https: bool,
    target: &str,
) -> Result<TcpStream, WireError> {
    let failed = |source| WireError::Connect {
        target: target.to_owned(),
        source,
    };
    let mut tcp = match proxy {
        Some(proxy) => TcpStream::connect((&*proxy.host, proxy.port))
            .await
            .map_err(|source| WireError::Connect {
                target: format!("the proxy {}:{} (for {target})", proxy.host, proxy.port),
                source,
            })?,
        None => match *host {
            Host::Domain(name) => TcpStream::connect((name, port)).await,
            Host::Ipv4(ip) => TcpStream::connect((ip, port)).await,
            Host::Ipv6(ip) => TcpStream::connect((ip, port)).await,
        }
        .map_err(failed)?,
    };
    // Requests go out in one write and wait for their answer: Nagle only adds delay.
    tcp.set_nodelay(true).map_err(failed)?;
    if let (true, Some(proxy)) = (https, proxy) {
        tunnel(&mut tcp, target, proxy).await?;
    }
    Ok(tcp)
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
