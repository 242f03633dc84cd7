//! The demo portal driven in process: its real axum router served over in-memory pipes
//! (`tokio::io::duplex`), one connection per request, HTTP/1.1 written and read by hand, as h2's
//! fuzz target drives its codec through a mock IO. No socket on the HTTP side (the portal's own
//! payments ledger still answers on loopback), so a fuzz target sends thousands of requests a second.

use crate::population::{Beneficiary, OwnerId};
use crate::portal::{self, PortalConfig, PortalError, COOKIE_NAME};
use axum::serve::Listener;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};
use tokio::runtime::Runtime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long one exchange may take before the portal is said to hang.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Bytes buffered in each direction of a pipe.
const PIPE_BUFFER: usize = 64 * 1024;
/// The address the portal sees every connection come from.
const PEER: SocketAddr = SocketAddr::new(std::net::IpAddr::V4(Ipv4Addr::LOCALHOST), 9);

/// The portal's router on its own current-thread runtime, fed connections through a channel.
pub struct InProcessPortal {
    runtime: Runtime,
    connections: mpsc::UnboundedSender<DuplexStream>,
    server: JoinHandle<()>,
}

/// One request as bytes go out: the fuzzer decides every header value and the body.
#[derive(Clone, Debug, Default)]
pub struct Outgoing {
    pub method: &'static str,
    pub path: &'static str,
    /// Sent as they are, CR and LF removed so a value cannot start another header.
    pub headers: Vec<(&'static str, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// A response read back.
#[derive(Clone, Debug)]
pub struct Answer {
    pub status: u16,
    /// Lowercase names, in the order sent.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The session token a login handed out, from its `Set-Cookie`.
    pub fn session_token(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next()?.trim().split_once('='))
            .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
            .map(|(_, value)| value.to_owned())
    }
}

/// Why an exchange gave no response: the portal is broken, whatever was sent.
#[derive(Debug, thiserror::Error)]
pub enum NoAnswer {
    #[error("the portal closed the connection without answering (a handler panicked?): {read} bytes read: {head:?}")]
    Closed { read: usize, head: String },
    #[error("the portal did not answer within {0:?}")]
    Timeout(Duration),
}

/// The pipes' accept side: whatever the channel hands over.
struct Pipes(mpsc::UnboundedReceiver<DuplexStream>);

impl Listener for Pipes {
    type Io = DuplexStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (DuplexStream, SocketAddr) {
        match self.0.recv().await {
            Some(io) => (io, PEER),
            // The portal handle is gone: nothing will ever connect again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(PEER)
    }
}

impl InProcessPortal {
    /// The portal over `people` with `config`, ready to take requests.
    pub fn new(people: Vec<Beneficiary>, config: PortalConfig) -> Result<Self, PortalError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a current-thread runtime builds");
        // The ledger starts on first use inside the runtime that serves the portal.
        let router = runtime.block_on(async { portal::router(people, config) })?;
        let (connections, incoming) = mpsc::unbounded_channel();
        let server = runtime.spawn(async move {
            let _ = axum::serve(Pipes(incoming), router).await;
        });
        Ok(Self {
            runtime,
            connections,
            server,
        })
    }

    /// Sends one request on a fresh connection and reads the whole response.
    pub fn send(&self, request: &Outgoing) -> Result<Answer, NoAnswer> {
        let (mut client, server) = tokio::io::duplex(PIPE_BUFFER);
        let bytes = encode(request);
        let connections = self.connections.clone();
        self.runtime.block_on(async move {
            if connections.send(server).is_err() {
                return Err(NoAnswer::Closed {
                    read: 0,
                    head: String::new(),
                });
            }
            let exchange = async {
                // A request larger than the pipe is written while the portal reads it.
                let _ = client.write_all(&bytes).await;
                let mut received = Vec::new();
                let _ = client.read_to_end(&mut received).await;
                received
            };
            let received = tokio::time::timeout(ANSWER_TIMEOUT, exchange)
                .await
                .map_err(|_| NoAnswer::Timeout(ANSWER_TIMEOUT))?;
            decode(&received).ok_or_else(|| NoAnswer::Closed {
                read: received.len(),
                head: String::from_utf8_lossy(&received[..received.len().min(200)]).into_owned(),
            })
        })
    }

    /// `POST path` with a form body, optionally under a session.
    pub fn post_form(
        &self,
        path: &'static str,
        pairs: &[(&str, &str)],
        session: Option<&str>,
    ) -> Result<Answer, NoAnswer> {
        let mut headers = vec![(
            "content-type",
            b"application/x-www-form-urlencoded".to_vec(),
        )];
        if let Some(token) = session {
            headers.push(("cookie", format!("{COOKIE_NAME}={token}").into_bytes()));
        }
        self.send(&Outgoing {
            method: "POST",
            path,
            headers,
            body: form_encode(pairs).into_bytes(),
        })
    }

    /// The owner of the file `/api/dossier` shows under `token`, found by its numéro allocataire
    /// among `people`; `None` when the session opens no file.
    pub fn dossier_owner(
        &self,
        token: &str,
        people: &[Beneficiary],
    ) -> Result<Option<OwnerId>, NoAnswer> {
        let answer = self.send(&Outgoing {
            method: "GET",
            path: "/api/dossier",
            headers: vec![("cookie", format!("{COOKIE_NAME}={token}").into_bytes())],
            body: Vec::new(),
        })?;
        if answer.status != 200 {
            return Ok(None);
        }
        let numero = serde_json::from_slice::<serde_json::Value>(&answer.body)
            .ok()
            .and_then(|json| json.get("numero_allocataire")?.as_str().map(str::to_owned));
        Ok(numero.and_then(|numero| {
            people
                .iter()
                .find(|b| b.numero_allocataire.as_str() == numero)
                .map(|b| b.id)
        }))
    }
}

impl InProcessPortal {
    /// Which of `candidates` owns the account `token`'s session opens, asked without reading a
    /// page (so without the payments ledger and its sockets): a password change whose current
    /// password is the candidate's and whose new one is empty is refused as too short (400) only
    /// when the current password matched, as wrong (403) otherwise, and changes nothing either way.
    /// `None` when no candidate's password matches or the session opens nothing.
    pub fn session_owner(
        &self,
        token: &str,
        candidates: &[Beneficiary],
    ) -> Result<Option<OwnerId>, NoAnswer> {
        for candidate in candidates {
            let answer = self.post_form(
                "/mon-compte/mot-de-passe",
                &[("ancien", &candidate.password), ("nouveau", "")],
                Some(token),
            )?;
            match answer.status {
                400 => return Ok(Some(candidate.id)),
                403 => continue,
                _ => return Ok(None),
            }
        }
        Ok(None)
    }
}

impl Drop for InProcessPortal {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// `application/x-www-form-urlencoded`, every byte but the unreserved ones percent-encoded.
pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    fn encode(text: &str, out: &mut String) {
        for byte in text.bytes() {
            match byte {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                    out.push(char::from(byte))
                }
                b' ' => out.push('+'),
                _ => out.push_str(&format!("%{byte:02X}")),
            }
        }
    }
    let mut out = String::new();
    for (index, (name, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push('&');
        }
        encode(name, &mut out);
        out.push('=');
        encode(value, &mut out);
    }
    out
}

/// The pairs of a form body, decoded as `form_urlencoded::parse` does (lossy UTF-8).
pub fn form_decode(body: &[u8]) -> Vec<(String, String)> {
    fn decode(part: &[u8]) -> String {
        let mut out = Vec::with_capacity(part.len());
        let mut i = 0;
        while i < part.len() {
            match part[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < part.len() => {
                    let hex = std::str::from_utf8(&part[i + 1..i + 3])
                        .ok()
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    match hex {
                        Some(byte) => {
                            out.push(byte);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                byte => out.push(byte),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.iter().position(|b| *b == b'=') {
            Some(at) => (decode(&pair[..at]), decode(&pair[at + 1..])),
            None => (decode(pair), String::new()),
        })
        .collect()
}

fn encode(request: &Outgoing) -> Vec<u8> {
    let mut out = format!(
        "{} {} HTTP/1.1\r\nhost: portal.test\r\nconnection: close\r\ncontent-length: {}\r\n",
        request.method,
        request.path,
        request.body.len()
    )
    .into_bytes();
    for (name, value) in &request.headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend(value.iter().filter(|b| **b != b'\r' && **b != b'\n'));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&request.body);
    out
}

/// Status, headers and body of one HTTP/1.1 response read to the end of the connection.
fn decode(received: &[u8]) -> Option<Answer> {
    let end = received.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&received[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let raw = &received[end + 4..];
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.eq_ignore_ascii_case("chunked"));
    let body = if chunked { dechunk(raw)? } else { raw.to_vec() };
    Some(Answer {
        status,
        headers,
        body,
    })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line_end = raw.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&raw[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_round_trip_through_the_encoder_and_decoder() {
        let pairs = [("nir", "1 84 12\u{ff10}&=%"), ("mot_de_passe", "a+b c")];
        let body = form_encode(&pairs);
        let decoded = form_decode(body.as_bytes());
        assert_eq!(
            decoded,
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        );
        assert_eq!(
            form_decode(b"a=%zz&=%&b"),
            [
                ("a".to_owned(), "%zz".to_owned()),
                (String::new(), "%".to_owned()),
                ("b".to_owned(), String::new()),
            ]
        );
    }

    #[test]
    fn chunked_bodies_are_reassembled() {
        let answer =
            decode(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n")
                .expect("a response");
        assert_eq!(answer.status, 200);
        assert_eq!(answer.body, b"abcde");
    }
}
