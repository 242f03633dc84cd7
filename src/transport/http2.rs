//! HTTP/2 on one user's connection (the `h2` crate): one stream per exchange, its body read up
//! to the cap and decoded as on HTTP/1.1. A task of the connection's own drives its frames.

use super::decode::decode;
use super::http1::{Failure, Reply};
use super::message::{field, given, payload, DEFAULT_FIELDS};
use super::tls::wants_client_cert;
use super::{Body, Io, WireError};
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, CONTENT_LENGTH, CONTENT_TYPE, COOKIE, HOST};
use http::Method;
use url::Url;

/// Fields that name a hop of an HTTP/1.1 connection; HTTP/2 has none (RFC 9113, 8.2.2), so a
/// scenario's are left out rather than refused by the peer.
const CONNECTION_FIELDS: [&str; 6] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "upgrade",
    "te",
];

/// One user's HTTP/2 connection: the handle that opens its streams, and the task that reads and
/// writes its frames (stopped when the session is dropped, which closes the connection).
pub(super) struct Session {
    send: h2::client::SendRequest<Bytes>,
    driver: tokio::task::JoinHandle<()>,
}

impl Drop for Session {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

/// Starts HTTP/2 on `io` (after ALPN chose it, or with prior knowledge on plain TCP). Server push
/// is refused: a user only reads what it asked for.
pub(super) async fn handshake(io: Box<dyn Io>) -> Result<Session, WireError> {
    let (send, connection) = h2::client::Builder::new()
        .enable_push(false)
        .handshake::<_, Bytes>(io)
        .await
        .map_err(|e| WireError::Http2(format!("the HTTP/2 handshake failed: {e}")))?;
    let driver = tokio::spawn(async move {
        // Its error reaches the streams waiting on it; the task has nothing more to do.
        let _ = connection.await;
    });
    Ok(Session { send, driver })
}

/// The request as HTTP/2 frames it: pseudo-fields from `url` (a scenario's `Host` becomes the
/// authority), the same default fields and body as HTTP/1.1.
pub(super) fn request(
    method: &Method,
    url: &Url,
    headers: &[(&str, &str)],
    cookie: Option<&HeaderValue>,
    body: Option<Body<'_>>,
) -> Result<(http::Request<()>, Vec<u8>), WireError> {
    let (content_type, payload) = payload(body)?;
    let authority = match headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")) {
        Some((_, host)) => (*host).to_owned(),
        None => url[url::Position::BeforeHost..url::Position::BeforePath].to_owned(),
    };
    let uri = format!(
        "{}://{authority}{}",
        url.scheme(),
        &url[url::Position::BeforePath..url::Position::AfterQuery]
    );
    let mut fields = HeaderMap::with_capacity(headers.len() + 6);
    for (name, value) in DEFAULT_FIELDS {
        if !given(headers, name) {
            let (name, value) = field(name, value)?;
            fields.append(name, value);
        }
    }
    if let (Some(cookie), false) = (cookie, given(headers, "cookie")) {
        fields.append(COOKIE, cookie.clone());
    }
    for (name, value) in headers {
        let (name, value) = field(name, value)?;
        if name != HOST && !CONNECTION_FIELDS.contains(&name.as_str()) {
            fields.append(name, value);
        }
    }
    if body.is_some() && !given(headers, "content-type") {
        fields.append(CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    if body.is_some() {
        fields.append(CONTENT_LENGTH, HeaderValue::from(payload.len()));
    }
    let mut request = http::Request::builder()
        .method(method.clone())
        .uri(&uri)
        .body(())
        .map_err(|e| WireError::Transport(format!("{uri} cannot be sent over HTTP/2: {e}")))?;
    *request.headers_mut() = fields;
    Ok((request, payload))
}

/// Sends `request` (its body `payload`) on a stream of `session` and reads its response, the
/// body up to `cap` bytes (the rest of the stream is cancelled, the connection kept). A HEAD's
/// answer ends with its head.
pub(super) async fn exchange(
    session: &mut Session,
    request: http::Request<()>,
    payload: Vec<u8>,
    cap: usize,
) -> Result<Reply, Failure> {
    // A connection that is gone took nothing of this request: it may go on a new one.
    let mut send = session
        .send
        .clone()
        .ready()
        .await
        .map_err(|e| failure(e, Stage::NotSent))?;
    let (answer, mut stream) = send
        .send_request(request, payload.is_empty())
        .map_err(|e| failure(e, Stage::NotSent))?;
    if !payload.is_empty() {
        stream
            .send_data(Bytes::from(payload), true)
            .map_err(|e| failure(e, Stage::Sent))?;
    }
    let answer = answer.await.map_err(|e| failure(e, Stage::Sent))?;
    let (parts, mut incoming) = answer.into_parts();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Some(chunk) = incoming.data().await {
        let chunk = chunk.map_err(|e| failure(e, Stage::Answered))?;
        // Read bytes make room for the server's next ones.
        let _ = incoming.flow_control().release_capacity(chunk.len());
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    let mut headers = parts.headers;
    let (body, truncated) = decode(&mut headers, body, truncated, cap)?;
    Ok(Reply {
        status: parts.status.as_u16(),
        headers,
        body,
        truncated,
        reusable: true,
    })
}

/// How far an exchange had gone when it failed.
#[derive(Clone, Copy, PartialEq)]
enum Stage {
    /// Nothing of the request had left.
    NotSent,
    /// The request left; no response head came back.
    Sent,
    /// The response head came back.
    Answered,
}

/// What a failed stream means for sending the request again. The server says it did not process
/// it with `REFUSED_STREAM`, or with a `GOAWAY` whose last stream id is below the stream's (h2
/// fails only those streams with the GOAWAY; RFC 9113, 8.7 and 6.8): any method may then go again
/// on a new connection. A connection that broke before any answer is stale, as on HTTP/1.1: only
/// idempotent methods go again.
fn failure(error: h2::Error, stage: Stage) -> Failure {
    if error.get_io().is_some_and(wants_client_cert) {
        return Failure::ClientCertRequired;
    }
    let refused = error.reason() == Some(h2::Reason::REFUSED_STREAM)
        || (error.is_go_away() && error.is_remote());
    match stage {
        Stage::NotSent => Failure::Unprocessed,
        Stage::Sent if refused => Failure::Unprocessed,
        Stage::Sent if error.is_io() => Failure::Stale,
        Stage::Sent => Failure::Error(WireError::Http2(format!("the stream failed: {error}"))),
        Stage::Answered => Failure::Error(WireError::Body(format!(
            "the HTTP/2 stream failed: {error}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Url {
        Url::parse(text).unwrap()
    }

    #[test]
    fn a_request_names_its_origin_in_the_uri_and_leaves_out_connection_fields() {
        let cookie = HeaderValue::from_static("sid=1");
        let (request, payload) = request(
            &Method::GET,
            &url("https://portal.test:8443/api/dossier?x=1#top"),
            &[("Connection", "keep-alive"), ("X-Trace", "7")],
            Some(&cookie),
            None,
        )
        .unwrap();
        assert_eq!(
            request.uri().to_string(),
            "https://portal.test:8443/api/dossier?x=1"
        );
        let fields = request.headers();
        assert!(fields.get("connection").is_none());
        assert_eq!(fields["x-trace"], "7");
        assert_eq!(fields["cookie"], "sid=1");
        assert_eq!(fields["accept-encoding"], "gzip, deflate, br");
        assert!(fields.get("content-length").is_none());
        assert!(payload.is_empty());
    }

    #[test]
    fn a_scenarios_host_becomes_the_authority_and_a_form_says_its_type_and_length() {
        let form = [("iban".to_owned(), "FR76 3000".to_owned())];
        let (request, payload) = request(
            &Method::POST,
            &url("http://127.0.0.1:8080/mon-compte/rib"),
            &[("Host", "portal.test")],
            None,
            Some(Body::Form(&form)),
        )
        .unwrap();
        assert_eq!(request.uri().authority().unwrap(), "portal.test");
        assert!(request.headers().get("host").is_none());
        assert_eq!(payload, b"iban=FR76+3000");
        assert_eq!(
            request.headers()["content-type"],
            "application/x-www-form-urlencoded"
        );
        assert_eq!(request.headers()["content-length"], "14");
    }

    #[test]
    fn only_a_refusal_or_a_connection_gone_before_sending_lets_any_method_go_again() {
        let refused = h2::Error::from(h2::Reason::REFUSED_STREAM);
        assert!(matches!(
            failure(refused, Stage::Sent),
            Failure::Unprocessed
        ));
        let reset = h2::Error::from(h2::Reason::INTERNAL_ERROR);
        assert!(matches!(failure(reset, Stage::Sent), Failure::Error(_)));
        let reset = h2::Error::from(h2::Reason::CANCEL);
        assert!(matches!(
            failure(reset, Stage::NotSent),
            Failure::Unprocessed
        ));
        let cut = h2::Error::from(h2::Reason::REFUSED_STREAM);
        assert!(matches!(failure(cut, Stage::Answered), Failure::Error(_)));
    }
}
