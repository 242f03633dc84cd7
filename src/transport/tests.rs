//! The HTTP/1.1 codec on canned bytes, and the whole transport against a loopback server.

use super::http1::chunk_size;
use super::*;
use http::HeaderValue;
use proptest::prelude::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::sync::Mutex;
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

const CAP: usize = 1024;

fn read(bytes: &[u8], step: usize, head_only: bool, cap: usize) -> Result<Reply, Failure> {
    super::canned::read_reply(bytes, &[step], head_only, cap)
}

/// Reads `bytes` whole and one byte at a time; both must agree.
fn reply(bytes: &[u8], head_only: bool, cap: usize) -> Reply {
    let whole = read(bytes, usize::MAX, head_only, cap).unwrap_or_else(|_| panic!("a reply"));
    let trickled = read(bytes, 1, head_only, cap).unwrap_or_else(|_| panic!("a reply"));
    assert_eq!(
        (whole.status, &whole.body, whole.truncated, whole.reusable),
        (
            trickled.status,
            &trickled.body,
            trickled.truncated,
            trickled.reusable
        )
    );
    whole
}

fn error_cause(bytes: &[u8]) -> ErrorCause {
    match read(bytes, usize::MAX, false, CAP) {
        Err(Failure::Error(error)) => error.cause(),
        Err(Failure::Stale | Failure::Unprocessed) => panic!("a stale connection, not an error"),
        Err(Failure::ClientCertRequired) => panic!("a TLS alert from plain bytes"),
        Ok(_) => panic!("a reply"),
    }
}

#[test]
fn content_length_body_is_read_and_the_connection_kept() {
    let r = reply(
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello",
        false,
        CAP,
    );
    assert_eq!(
        (r.status, &r.body[..], r.truncated, r.reusable),
        (200, &b"hello"[..], false, true)
    );
    assert_eq!(r.headers["x-a"], "1");
}

#[test]
fn chunked_body_with_extensions_and_trailers_is_decoded() {
    let r = reply(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;name=value\r\nhello\r\n1 ; x\r\n,\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n",
        false,
        CAP,
    );
    assert_eq!(&r.body[..], b"hello, world");
    assert!(r.reusable && !r.truncated);
}

#[test]
fn a_body_delimited_by_close_is_read_to_the_end_and_the_connection_dropped() {
    let r = reply(b"HTTP/1.1 200 OK\r\n\r\nuntil the end", false, CAP);
    assert_eq!(&r.body[..], b"until the end");
    assert!(!r.reusable);
}

#[test]
fn interim_1xx_responses_are_skipped() {
    let r = reply(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n\
          HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
        false,
        CAP,
    );
    assert_eq!((r.status, &r.body[..]), (201, &b"ok"[..]));
    assert!(!r.headers.contains_key("link"));
}

#[test]
fn head_204_and_304_have_no_body_whatever_they_announce() {
    let head = reply(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", true, CAP);
    let no_content = reply(
        b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
        false,
        CAP,
    );
    let not_modified = reply(b"HTTP/1.1 304 Not Modified\r\n\r\n", false, CAP);
    for r in [head, no_content, not_modified] {
        assert!(r.body.is_empty() && r.reusable, "{}", r.status);
    }
}

#[test]
fn bodies_over_the_cap_are_cut_at_the_cap_and_the_connection_dropped() {
    let long = "x".repeat(10);
    let framed = [
        format!("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{long}"),
        format!("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\na\r\n{long}\r\n0\r\n\r\n"),
        format!("HTTP/1.1 200 OK\r\n\r\n{long}"),
    ];
    for bytes in &framed {
        let r = reply(bytes.as_bytes(), false, 4);
        assert_eq!(
            (&r.body[..], r.truncated, r.reusable),
            (&b"xxxx"[..], true, false)
        );
        let exact = reply(bytes.as_bytes(), false, 10);
        assert_eq!((exact.body.len(), exact.truncated), (10, false));
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

#[test]
fn gzip_bodies_are_inflated_up_to_the_cap() {
    let answer = |body: &[u8]| {
        let compressed = gzip(body);
        let mut bytes = format!(
            "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\n\r\n",
            compressed.len()
        )
        .into_bytes();
        bytes.extend(compressed);
        bytes
    };
    let small = reply(&answer(b"NIR 1 84 12 75 123 456 78"), false, CAP);
    assert_eq!(&small.body[..], b"NIR 1 84 12 75 123 456 78");
    assert!(!small.headers.contains_key("content-encoding") && small.reusable);
    let bomb = reply(&answer(&vec![0; 100 * CAP]), false, CAP);
    assert_eq!((bomb.body.len(), bomb.truncated), (CAP, true));
}

#[test]
fn http_1_0_and_connection_close_answers_are_not_reused() {
    let old = reply(b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na", false, CAP);
    let close = reply(
        b"HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\na",
        false,
        CAP,
    );
    assert!(!old.reusable && !close.reusable);
}

#[test]
fn malformed_answers_are_errors_by_cause() {
    assert_eq!(
        error_cause(b"HTTP/1.1 abc OK\r\n\r\n"),
        ErrorCause::Transport
    );
    assert_eq!(
        error_cause(b"SSH-2.0-OpenSSH\r\n\r\n"),
        ErrorCause::Transport
    );
    assert_eq!(
        error_cause(b"HTTP/1.1 200 OK\r\nContent-Length: 1, 2\r\n\r\nab"),
        ErrorCause::Transport
    );
    assert_eq!(
        error_cause(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort"),
        ErrorCause::Body
    );
    assert_eq!(
        error_cause(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
        ErrorCause::Body
    );
    assert_eq!(
        error_cause(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n"),
        ErrorCause::Body
    );
    assert_eq!(
        error_cause(b"HTTP/1.1 200 OK\r\nContent-"),
        ErrorCause::Transport
    );
}

#[test]
fn nothing_at_all_is_a_stale_connection() {
    assert!(matches!(read(b"", 1, false, CAP), Err(Failure::Stale)));
}

#[test]
fn chunk_sizes_allow_extensions_and_refuse_signs() {
    assert_eq!(chunk_size(b"1aF"), Some(0x1af));
    assert_eq!(chunk_size(b"10 ;a=b;c"), Some(16));
    assert_eq!(chunk_size(b"+5"), None);
    assert_eq!(chunk_size(b""), None);
    assert_eq!(chunk_size(b"ffffffffffffffffff"), None);
}

#[test]
fn a_request_is_written_with_its_defaults_cookies_and_form_body() {
    let url = Url::parse("http://127.0.0.1:8080/login?next=%2Fhome").unwrap();
    let cookie = HeaderValue::from_static("sid=1");
    let pairs = [("user".to_owned(), "a b&c".to_owned())];
    let message = encode(
        &Method::POST,
        &url,
        &[("X-Csrf", "t")],
        Some(&cookie),
        Some(Body::Form(&pairs)),
        None,
    )
    .unwrap();
    let text = String::from_utf8(message).unwrap();
    assert!(text.starts_with("POST /login?next=%2Fhome HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"));
    for line in [
        "\r\nUser-Agent: crossleak/",
        "\r\nAccept: */*\r\n",
        "\r\nAccept-Encoding: gzip, deflate, br\r\n",
        "\r\nCookie: sid=1\r\n",
        "\r\nX-Csrf: t\r\n",
        "\r\nContent-Type: application/x-www-form-urlencoded\r\n",
        "\r\nContent-Length: 12\r\n\r\nuser=a+b%26c",
    ] {
        assert!(text.contains(line), "{line:?} in {text:?}");
    }
}

#[test]
fn a_cookie_header_of_the_request_replaces_the_jar_and_a_broken_header_is_refused() {
    let url = Url::parse("http://example.test/").unwrap();
    let jar = HeaderValue::from_static("sid=jar");
    let message = encode(
        &Method::GET,
        &url,
        &[("Cookie", "sid=old")],
        Some(&jar),
        None,
        None,
    )
    .unwrap();
    let text = String::from_utf8(message).unwrap();
    assert!(text.contains("Cookie: sid=old") && !text.contains("sid=jar"));
    assert!(!text.contains("Content-Length"));
    assert!(encode(&Method::GET, &url, &[("X", "a\r\nB: c")], None, None, None).is_err());
}

proptest! {
    #[test]
    fn arbitrary_answers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600), step in 1usize..64) {
        let _ = read(&bytes, step, false, 64);
    }

    #[test]
    fn arbitrary_answers_after_a_valid_head_never_panic(
        tail in proptest::collection::vec(any::<u8>(), 0..400),
        chunked in any::<bool>(),
    ) {
        let mut bytes = if chunked {
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec()
        } else {
            b"HTTP/1.1 200 OK\r\nContent-Length: 300\r\n\r\n".to_vec()
        };
        bytes.extend(tail);
        let _ = read(&bytes, 7, false, 64);
    }
}

/// What the loopback server saw: per request, the number of its connection and the request.
type Seen = Arc<Mutex<Vec<(usize, String)>>>;

/// A loopback HTTP/1.1 server: `answer` gets each request (head and body as text) and returns
/// the response bytes and whether to close the connection after them, silently.
async fn serve(answer: fn(&str) -> (String, bool)) -> (Url, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    tokio::spawn(async move {
        for connection in 0..16 {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                for _ in 0..16 {
                    let Some(request) = next_request(&mut socket, &mut buf).await else {
                        return;
                    };
                    log.lock().unwrap().push((connection, request.clone()));
                    let (response, close) = answer(&request);
                    if socket.write_all(response.as_bytes()).await.is_err() || close {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

/// Reads one request (head, and a body of its Content-Length) off `socket`.
async fn next_request(socket: &mut (impl AsyncRead + Unpin), buf: &mut Vec<u8>) -> Option<String> {
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |n| n.parse().unwrap());
            if buf.len() >= end + 4 + length {
                let request = String::from_utf8_lossy(&buf[..end + 4 + length]).into_owned();
                buf.drain(..end + 4 + length);
                return Some(request);
            }
        }
        if socket.read_buf(buf).await.ok()? == 0 {
            return None;
        }
    }
}

fn ok(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

fn transport(timeout: Duration) -> Transport {
    let tls = Arc::new(
        client_config(&crate::scenario::Tls::default(), true, HttpVersion::Http1).unwrap(),
    );
    Transport::new(tls, timeout, timeout, CAP)
}

fn get(url: &Url, path: &str) -> Request<'static> {
    Request {
        method: Method::GET,
        url: url.join(path).unwrap(),
        headers: Vec::new(),
        body: None,
    }
}

fn requests(seen: &Seen) -> Vec<(usize, String)> {
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn a_user_keeps_its_connection_between_requests() {
    let (url, seen) = serve(|_| (ok("hi"), false)).await;
    let transport = transport(Duration::from_secs(5));
    let mut connection = Connection::default();
    for _ in 0..3 {
        let response = transport
            .send(&mut connection, None, get(&url, "/a"))
            .await
            .unwrap();
        assert_eq!((response.status, &response.body[..]), (200, &b"hi"[..]));
    }
    let connections: Vec<usize> = requests(&seen).iter().map(|(c, _)| *c).collect();
    assert_eq!(connections, [0, 0, 0]);
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced_once() {
    // The server closes after every answer without saying so: the next request finds it closed.
    let (url, seen) = serve(|_| (ok("hi"), true)).await;
    let transport = transport(Duration::from_secs(5));
    let mut connection = Connection::default();
    for _ in 0..2 {
        transport
            .send(&mut connection, None, get(&url, "/a"))
            .await
            .unwrap();
        // Lets the server's close reach this side before the next request.
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let connections: Vec<usize> = requests(&seen).iter().map(|(c, _)| *c).collect();
    assert_eq!(connections, [0, 1]);
}

fn post(url: &Url, path: &str) -> Request<'static> {
    Request {
        method: Method::POST,
        ..get(url, path)
    }
}

#[tokio::test]
async fn a_post_on_a_connection_the_server_closed_while_idle_goes_once_on_a_new_one() {
    let (url, seen) = serve(|_| (ok("hi"), true)).await;
    let transport = transport(Duration::from_secs(5));
    let mut connection = Connection::default();
    transport
        .send(&mut connection, None, get(&url, "/a"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let response = transport
        .send(&mut connection, None, post(&url, "/b"))
        .await
        .unwrap();
    assert_eq!(response.status, 200);
    let sent: Vec<(usize, bool)> = requests(&seen)
        .iter()
        .map(|(c, r)| (*c, r.starts_with("POST")))
        .collect();
    assert_eq!(sent, [(0, false), (1, true)]);
}

/// Answers everything but `/drop`, which it reads and then closes on without a word, as a server
/// that applied the request and died before answering would.
fn drops(request: &str) -> (String, bool) {
    if request.contains(" /drop ") {
        (String::new(), true)
    } else {
        (ok("hi"), false)
    }
}

#[tokio::test]
async fn a_post_whose_kept_alive_connection_closes_before_answering_is_not_sent_again() {
    let (url, seen) = serve(drops).await;
    let transport = transport(Duration::from_secs(5));
    let mut connection = Connection::default();
    transport
        .send(&mut connection, None, get(&url, "/a"))
        .await
        .unwrap();
    let error = transport
        .send(&mut connection, None, post(&url, "/drop"))
        .await
        .map(|r| r.status)
        .expect_err("a POST that may have been applied");
    assert_eq!(error.cause(), ErrorCause::NotResent, "{error}");
    let posts = requests(&seen)
        .iter()
        .filter(|(_, r)| r.starts_with("POST"))
        .count();
    assert_eq!(posts, 1);
}

#[tokio::test]
async fn a_get_whose_kept_alive_connection_closes_before_answering_is_sent_again() {
    let (url, seen) = serve(drops).await;
    let transport = transport(Duration::from_secs(5));
    let mut connection = Connection::default();
    transport
        .send(&mut connection, None, get(&url, "/a"))
        .await
        .unwrap();
    // Sent twice, dropped twice: the second time on a new connection, which is not retried.
    let error = transport
        .send(&mut connection, None, get(&url, "/drop"))
        .await
        .map(|r| r.status)
        .expect_err("dropped on the new connection too");
    assert_eq!(error.cause(), ErrorCause::Transport, "{error}");
    let gets: Vec<usize> = requests(&seen)
        .iter()
        .filter(|(_, r)| r.contains(" /drop "))
        .map(|(c, _)| *c)
        .collect();
    assert_eq!(gets, [0, 1]);
}

#[tokio::test]
async fn cookies_set_by_the_server_are_sent_back_from_the_jar() {
    let (url, seen) = serve(|request| {
        if request.starts_with("GET /login") {
            let body = "in";
            (
                format!("HTTP/1.1 200 OK\r\nSet-Cookie: sid=abc; Path=/\r\nContent-Length: {}\r\n\r\n{body}", body.len()),
                false,
            )
        } else {
            (ok("page"), false)
        }
    })
    .await;
    let transport = transport(Duration::from_secs(5));
    let mut connection = Connection::default();
    let jar = Jar::default();
    for path in ["/login", "/page"] {
        transport
            .send(&mut connection, Some(&jar), get(&url, path))
            .await
            .unwrap();
    }
    let seen = requests(&seen);
    assert!(!seen[0].1.contains("Cookie:"));
    assert!(
        seen[1].1.contains("\r\nCookie: sid=abc\r\n"),
        "{}",
        seen[1].1
    );
}

fn redirect(request: &str) -> (String, bool) {
    let status = if request.starts_with("POST /see-other") {
        Some("303 See Other")
    } else if request.starts_with("POST /temporary") {
        Some("307 Temporary Redirect")
    } else {
        None
    };
    match status {
        Some(status) => (
            format!("HTTP/1.1 {status}\r\nLocation: /done\r\nContent-Length: 0\r\n\r\n"),
            false,
        ),
        None => (ok("done"), false),
    }
}

async fn post_and_follow(path: &str) -> (Response, Vec<(usize, String)>) {
    let (url, seen) = serve(redirect).await;
    let pairs = [("rib".to_owned(), "FR76".to_owned())];
    let request = Request {
        method: Method::POST,
        url: url.join(path).unwrap(),
        headers: Vec::new(),
        body: Some(Body::Form(&pairs)),
    };
    let mut connection = Connection::default();
    let response = transport(Duration::from_secs(5))
        .send(&mut connection, None, request)
        .await
        .unwrap();
    (response, requests(&seen))
}

#[tokio::test]
async fn a_303_turns_the_post_into_a_get_without_body() {
    let (response, seen) = post_and_follow("/see-other").await;
    assert_eq!((response.status, response.url.path()), (200, "/done"));
    assert!(
        seen[1].1.starts_with("GET /done HTTP/1.1\r\n"),
        "{}",
        seen[1].1
    );
    assert!(!seen[1].1.contains("rib=") && !seen[1].1.contains("Content-Type"));
}

#[tokio::test]
async fn a_307_repeats_the_post_with_its_body() {
    let (response, seen) = post_and_follow("/temporary").await;
    assert_eq!((response.status, response.url.path()), (200, "/done"));
    assert!(
        seen[1].1.starts_with("POST /done HTTP/1.1\r\n"),
        "{}",
        seen[1].1
    );
    assert!(seen[1].1.ends_with("\r\n\r\nrib=FR76"), "{}", seen[1].1);
}

#[tokio::test]
async fn endless_redirects_stop_after_ten() {
    let (url, seen) = serve(|_| {
        (
            "HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n".to_owned(),
            false,
        )
    })
    .await;
    let mut connection = Connection::default();
    let error = transport(Duration::from_secs(5))
        .send(&mut connection, None, get(&url, "/"))
        .await
        .err()
        .expect("an error");
    assert_eq!(error.cause(), ErrorCause::Transport);
    assert_eq!(requests(&seen).len(), 11);
}

#[tokio::test]
async fn a_server_that_never_answers_is_a_timeout() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    let mut connection = Connection::default();
    let error = transport(Duration::from_millis(200))
        .send(&mut connection, None, get(&url, "/"))
        .await
        .err()
        .expect("an error");
    assert_eq!(error.cause(), ErrorCause::Timeout);
    drop(listener);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/", listener.local_addr().unwrap())).unwrap();
    drop(listener);
    let mut connection = Connection::default();
    let error = transport(Duration::from_secs(5))
        .send(&mut connection, None, get(&url, "/"))
        .await
        .err()
        .expect("an error");
    assert_eq!(error.cause(), ErrorCause::Connect);
}

/// The test certificate: self-signed for `localhost` and 127.0.0.1, valid until 2126 (made with
/// `openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500
/// -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1`).
fn test_certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    (
        CertificateDer::from_pem_slice(include_bytes!("testdata/localhost.crt")).unwrap(),
        PrivateKeyDer::from_pem_slice(include_bytes!("testdata/localhost.key")).unwrap(),
    )
}

/// A loopback HTTPS server with the test certificate: answers `hello <path>` to up to four
/// requests per connection, and notes each connection's server name (SNI).
async fn serve_https() -> (u16, Arc<Mutex<Vec<Option<String>>>>) {
    let (certificate, key) = test_certificate();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certificate], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let names = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&names);
    tokio::spawn(async move {
        for _ in 0..4 {
            let Ok((socket, _)) = listener.accept().await else {
                return;
            };
            let Ok(mut tls) = acceptor.accept(socket).await else {
                continue; // a client that refused the certificate
            };
            noted
                .lock()
                .unwrap()
                .push(tls.get_ref().1.server_name().map(str::to_owned));
            let mut buf = Vec::new();
            for _ in 0..4 {
                let Some(request) = next_request(&mut tls, &mut buf).await else {
                    break;
                };
                let path = request.split(' ').nth(1).unwrap_or_default().to_owned();
                if tls
                    .write_all(ok(&format!("hello {path}")).as_bytes())
                    .await
                    .is_err()
                {
                    break;
                }
            }
        }
    });
    (port, names)
}

/// A client configuration that trusts `roots` only, as `client_config` builds it otherwise.
fn client_trusting(roots: rustls::RootCertStore) -> Transport {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = rustls::client::Resumption::disabled();
    let timeout = Duration::from_secs(5);
    Transport::new(Arc::new(config), timeout, timeout, CAP)
}

#[tokio::test]
async fn https_targets_get_the_server_name_and_one_kept_connection() {
    let (port, names) = serve_https().await;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(test_certificate().0).unwrap();
    let transport = client_trusting(roots);
    let url = Url::parse(&format!("https://localhost:{port}/")).unwrap();
    let mut connection = Connection::default();
    for path in ["/a", "/b"] {
        let response = transport
            .send(&mut connection, None, get(&url, path))
            .await
            .expect("an answer over TLS");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, format!("hello {path}").as_bytes());
    }
    assert_eq!(*names.lock().unwrap(), [Some("localhost".to_owned())]);
}

#[tokio::test]
async fn an_https_target_with_a_certificate_nobody_trusts_is_a_tls_error_naming_ca_file() {
    let (port, _) = serve_https().await;
    let transport = client_trusting(rustls::RootCertStore::empty());
    let url = Url::parse(&format!("https://localhost:{port}/")).unwrap();
    let error = transport
        .send(&mut Connection::default(), None, get(&url, "/"))
        .await
        .err()
        .expect("the handshake is refused");
    assert_eq!(error.cause(), ErrorCause::Tls);
    let text = error.to_string();
    assert!(
        text.contains("certificate") && text.contains("ca_file"),
        "{text}"
    );
}

/// What a loopback proxy relayed: the first line of each connection it was asked for.
type Relayed = Arc<Mutex<Vec<String>>>;

/// A forward proxy on loopback: `CONNECT host:port` opens a tunnel; any other request names its
/// whole URL, and goes on to that URL's origin as it came, the rest of the connection after it.
async fn serve_proxy() -> (Url, Relayed) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    let relayed: Relayed = Arc::default();
    let log = Arc::clone(&relayed);
    tokio::spawn(async move {
        for _ in 0..8 {
            let Ok((mut client, _)) = listener.accept().await else {
                return;
            };
            let log = Arc::clone(&log);
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let Some(request) = next_request(&mut client, &mut buf).await else {
                    return;
                };
                let first = request.lines().next().unwrap_or_default().to_owned();
                log.lock().unwrap().push(first.clone());
                let mut parts = first.split(' ');
                let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
                let origin = if method == "CONNECT" {
                    target.to_owned()
                } else {
                    let url = Url::parse(target).unwrap();
                    format!("{}:{}", url.host_str().unwrap(), url.port().unwrap())
                };
                let mut upstream = tokio::net::TcpStream::connect(origin).await.unwrap();
                if method == "CONNECT" {
                    client
                        .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                        .await
                        .unwrap();
                } else {
                    upstream.write_all(request.as_bytes()).await.unwrap();
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (url, relayed)
}

fn through(proxy: &Url, tls: crate::scenario::Tls) -> Transport {
    let settings = Settings {
        tls,
        proxy: ProxySetting::Through(proxy.clone()),
        connect_timeout: Duration::from_secs(5),
        http: HttpVersion::Auto,
    };
    Transport::for_run(&settings, "https://localhost", Duration::from_secs(5), CAP).unwrap()
}

#[tokio::test]
async fn plain_http_goes_through_the_proxy_with_its_whole_url_on_one_kept_connection() {
    let (origin, seen) = serve(|_| (ok("hi"), false)).await;
    let (proxy, relayed) = serve_proxy().await;
    let transport = through(&proxy, crate::scenario::Tls::default());
    let mut connection = Connection::default();
    for path in ["/a?x=1", "/b"] {
        let response = transport
            .send(&mut connection, None, get(&origin, path))
            .await
            .expect("an answer through the proxy");
        assert_eq!((response.status, &response.body[..]), (200, &b"hi"[..]));
    }
    let base = origin.as_str().trim_end_matches('/');
    assert_eq!(
        *relayed.lock().unwrap(),
        [format!("GET {base}/a?x=1 HTTP/1.1")]
    );
    let lines: Vec<String> = requests(&seen)
        .iter()
        .map(|(_, r)| r.lines().next().unwrap().to_owned())
        .collect();
    assert_eq!(
        lines,
        [
            format!("GET {base}/a?x=1 HTTP/1.1"),
            format!("GET {base}/b HTTP/1.1")
        ]
    );
}

#[tokio::test]
async fn https_goes_through_a_connect_tunnel_with_the_server_name_inside() {
    let (port, names) = serve_https().await;
    let (proxy, relayed) = serve_proxy().await;
    let tls = crate::scenario::Tls {
        accept_invalid_certs: true,
        ..Default::default()
    };
    let transport = through(&proxy, tls);
    let url = Url::parse(&format!("https://localhost:{port}/")).unwrap();
    let mut connection = Connection::default();
    for path in ["/a", "/b"] {
        let response = transport
            .send(&mut connection, None, get(&url, path))
            .await
            .expect("an answer through the tunnel");
        assert_eq!(response.body, format!("hello {path}").as_bytes());
    }
    assert_eq!(
        *relayed.lock().unwrap(),
        [format!("CONNECT localhost:{port} HTTP/1.1")]
    );
    assert_eq!(*names.lock().unwrap(), [Some("localhost".to_owned())]);
}

#[tokio::test]
async fn a_proxy_that_refuses_the_tunnel_is_a_connect_error_with_its_status() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = Url::parse(&format!("http://{}", listener.local_addr().unwrap())).unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let _ = next_request(&mut socket, &mut Vec::new()).await;
        let _ = socket
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n")
            .await;
    });
    let transport = through(&proxy, crate::scenario::Tls::default());
    let url = Url::parse("https://localhost:1/").unwrap();
    let error = transport.reach(&url).await.expect_err("refused");
    assert_eq!(error.cause(), ErrorCause::Connect);
    assert!(error.to_string().contains("407"), "{error}");
}

#[tokio::test]
async fn a_redirect_to_another_origin_is_the_answer_never_followed() {
    let (url, seen) = serve(|_| {
        (
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.2:9/elsewhere\r\nContent-Length: 0\r\n\r\n"
                .to_owned(),
            false,
        )
    })
    .await;
    let response = transport(Duration::from_secs(5))
        .send(&mut Connection::default(), None, get(&url, "/login"))
        .await
        .unwrap();
    assert_eq!((response.status, response.url.path()), (302, "/login"));
    assert_eq!(requests(&seen).len(), 1);
}
