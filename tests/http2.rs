//! crossleak over HTTP/2: the demo portal served by the h2 crate's server, on TLS with ALPN `h2`
//! (as a CDN or an ingress speaks to browsers) or with prior knowledge on plain TCP. A clean run is
//! checked and counted as HTTP/2, a leak is caught, each connection carries one user only; and the
//! transport's retry rules, decoding and ALPN refusals on small HTTP/2 servers of their own.

mod common;

use axum::Router;
use bytes::Bytes;
use crossleak::load::{ErrorCause, DEMO_SCENARIO};
use crossleak::outcome::Status;
use crossleak::portal::{router, Fault, PortalConfig};
use crossleak::run::RunResult;
use crossleak::scenario::{HttpVersion, ProxySetting, Scenario};
use crossleak::transport::{Body, Connection, Request, Response, Settings, Transport, WireError};
use http::header::{CONTENT_ENCODING, COOKIE, SET_COOKIE};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

const SESSION_COOKIE: &str = "crossleak_session";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One request as the server saw it: its connection, the beneficiary a login named, the session
/// cookie it carried, the session cookie its answer set.
#[derive(Clone, Debug)]
struct Seen {
    connection: usize,
    login: Option<String>,
    cookie: Option<String>,
    issued: Option<String>,
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// The session cookie's value among `fields` (`Cookie` or `Set-Cookie`), when one is set.
fn session<'a>(fields: impl Iterator<Item = &'a http::HeaderValue>) -> Option<String> {
    fields
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().strip_prefix(&format!("{SESSION_COOKIE}=")))
        .find(|value| !value.is_empty())
        .map(str::to_owned)
}

/// Whom a login form names: its `numero_allocataire` or `nir` field.
fn login_of(form: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(form)
        .find(|(key, _)| key == "numero_allocataire" || key == "nir")
        .map(|(_, value)| value.into_owned())
}

/// Answers one HTTP/2 stream with the portal's router, as an HTTP/2 front of a framework does.
async fn answer(
    mut app: Router,
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
    connection: usize,
    log: Log,
) {
    let (parts, mut incoming) = request.into_parts();
    let mut form = Vec::new();
    while let Some(Ok(chunk)) = incoming.data().await {
        let _ = incoming.flow_control().release_capacity(chunk.len());
        form.extend_from_slice(&chunk);
    }
    let login = (parts.method == http::Method::POST && parts.uri.path().starts_with("/connexion/"))
        .then(|| login_of(&form))
        .flatten();
    let cookie = session(parts.headers.get_all(COOKIE).iter());
    let request = http::Request::from_parts(parts, axum::body::Body::from(form));
    let Ok(response) = tower_service::Service::call(&mut app, request).await;
    let (parts, body) = response.into_parts();
    let Ok(body) = axum::body::to_bytes(body, usize::MAX).await else {
        return;
    };
    log.lock().unwrap().push(Seen {
        connection,
        login,
        cookie,
        issued: session(parts.headers.get_all(SET_COOKIE).iter()),
    });
    let head = http::Response::from_parts(parts, ());
    let Ok(mut stream) = respond.send_response(head, body.is_empty()) else {
        return;
    };
    if !body.is_empty() {
        let _ = stream.send_data(body, true);
    }
}

/// The demo portal (the demo scenario's population, `faults` on) over HTTP/2 on a loopback port:
/// on TLS with ALPN `h2` only and the test CA's certificate (`https://localhost:PORT`), or with
/// prior knowledge on plain TCP (`http://127.0.0.1:PORT`). Every request it answers is logged.
async fn serve_portal(faults: Vec<Fault>, tls: bool) -> (String, Log) {
    let scenario = Scenario::parse(DEMO_SCENARIO, "scenarios/demo.toml").unwrap();
    let crossleak::scenario::PopulationSource::Generated(options) = &scenario.population else {
        panic!("the demo scenario generates its population");
    };
    let population = crossleak::population::Population::generate(options).unwrap();
    let config = PortalConfig {
        faults,
        ..PortalConfig::default()
    };
    let app = router(population.beneficiaries, config).unwrap();
    let log = Log::default();
    let served = Arc::clone(&log);
    let base_url = serve(tls, move |connection, request, respond| {
        tokio::spawn(answer(
            app.clone(),
            request,
            respond,
            connection,
            Arc::clone(&served),
        ));
    })
    .await;
    (base_url, log)
}

/// An HTTP/2 server on loopback handing each stream to `on_stream` with its connection's number.
async fn serve(
    tls: bool,
    on_stream: impl Fn(usize, http::Request<h2::RecvStream>, h2::server::SendResponse<Bytes>)
        + Send
        + Sync
        + 'static,
) -> String {
    let acceptor = tls.then(|| {
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![CertificateDer::from_pem_file(fixture("server.crt")).unwrap()],
            PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap(),
        )
        .unwrap();
        config.alpn_protocols = vec![b"h2".to_vec()];
        TlsAcceptor::from(Arc::new(config))
    });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let on_stream = Arc::new(on_stream);
    let connections = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, on_stream) = (acceptor.clone(), Arc::clone(&on_stream));
            let number = connections.fetch_add(1, Ordering::Relaxed);
            tokio::spawn(async move {
                let io: Box<dyn Io> = match acceptor {
                    Some(acceptor) => match acceptor.accept(tcp).await {
                        Ok(tls) => Box::new(tls),
                        Err(_) => return,
                    },
                    None => Box::new(tcp),
                };
                let Ok(mut connection) = h2::server::handshake(io).await else {
                    return;
                };
                while let Some(Ok((request, respond))) = connection.accept().await {
                    on_stream(number, request, respond);
                }
            });
        }
    });
    if tls {
        format!("https://localhost:{port}")
    } else {
        format!("http://127.0.0.1:{port}")
    }
}

/// The demo scenario against `base_url` with `extra` keys in `[target]`, the test CA trusted,
/// and no replay as another owner (which sends another user's session on purpose).
fn scenario(base_url: &str, extra: &str) -> Scenario {
    let ca = fixture("ca.crt").display().to_string();
    let text = DEMO_SCENARIO
        .replace(
            "embedded = true\nfaults = []\n",
            &format!("base_url = \"{base_url}\"\n{extra}\n"),
        )
        .replace(
            "\n[population]\n",
            &format!("\n[target.tls]\nca_file = {ca:?}\n\n[population]\n"),
        )
        .replace(
            "replay = { share = 0.05, as = [\"other_user\", \"anonymous\"] }\n",
            "",
        );
    assert!(
        text.contains(base_url) && !text.contains("other_user"),
        "the demo scenario's [target] or [load] moved"
    );
    Scenario::parse(&text, "tests/http2.rs").unwrap_or_else(|e| panic!("{e}"))
}

fn assert_clean_over_http2(result: &RunResult) {
    common::assert_checked_clean(result);
    let summary = &result.summary;
    assert_eq!(summary.connections.http1, 0);
    assert!(summary.connections.http2 >= 6, "{:?}", summary.connections);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_offering_h2_by_alpn_is_checked_clean_over_http2_and_says_so() {
    let (base_url, _) = serve_portal(vec![], true).await;
    let result = common::short_run(scenario(&base_url, "")).await;
    assert_clean_over_http2(&result);
    let written = std::fs::read_to_string(result.dir.join("summary.json")).unwrap();
    let written: serde_json::Value = serde_json::from_str(&written).unwrap();
    assert_eq!(
        written["connections"]["http2"],
        result.summary.connections.http2
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leak_served_over_http2_is_caught() {
    let (base_url, _) = serve_portal(vec![Fault::SharedCache], true).await;
    let result = common::short_run(scenario(&base_url, "")).await;
    let summary = &result.summary;
    common::assert_status(summary, Status::Violations, 1);
    assert!(summary.violations > 0);
    assert!(summary.connections.http2 > 0, "{:?}", summary.connections);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_http2_connection_carries_one_users_requests_only() {
    let (base_url, log) = serve_portal(vec![], true).await;
    let result = common::short_run(scenario(&base_url, "")).await;
    assert_clean_over_http2(&result);
    let log = log.lock().unwrap().clone();
    // Whose each session is: the beneficiary whose login (or whose session's request) set it.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for seen in &log {
        let whose = seen
            .login
            .clone()
            .or_else(|| seen.cookie.as_ref().and_then(|c| owner.get(c).cloned()));
        if let (Some(issued), Some(whose)) = (&seen.issued, whose) {
            owner.insert(issued.clone(), whose);
        }
    }
    let mut carried: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    for seen in &log {
        let users = carried.entry(seen.connection).or_default();
        users.extend(seen.login.clone());
        users.extend(seen.cookie.as_ref().and_then(|c| owner.get(c).cloned()));
    }
    let shared: Vec<_> = carried
        .iter()
        .filter(|(_, users)| users.len() > 1)
        .collect();
    assert!(shared.is_empty(), "connections shared by users: {shared:?}");
    let users: BTreeSet<&String> = carried.values().flatten().collect();
    assert!(users.len() >= 6, "{users:?}");
    let with_a_user = carried.values().filter(|users| !users.is_empty()).count();
    assert!(with_a_user >= users.len(), "{carried:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_2_on_an_http_target_speaks_prior_knowledge_h2c() {
    let (base_url, _) = serve_portal(vec![], false).await;
    let result = common::short_run(scenario(&base_url, "http = \"2\"")).await;
    assert_clean_over_http2(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_1_1_against_a_server_that_speaks_only_h2_is_unreachable_naming_the_key() {
    let (base_url, _) = serve_portal(vec![], true).await;
    let result = common::short_run(scenario(&base_url, "http = \"1.1\"")).await;
    let summary = &result.summary;
    common::assert_unreachable_naming(summary, &["ALPN http/1.1", "http = \"auto\""]);
}

/// A transport speaking HTTP/2 with prior knowledge to a plain-TCP loopback server.
fn h2c() -> Transport {
    let settings = Settings {
        proxy: ProxySetting::Off,
        http: HttpVersion::Http2,
        ..Settings::default()
    };
    Transport::for_run(
        &settings,
        "http://127.0.0.1",
        Duration::from_secs(5),
        1 << 20,
    )
    .unwrap()
}

fn post<'a>(base_url: &str, form: &'a [(String, String)]) -> Request<'a> {
    Request {
        method: http::Method::POST,
        url: url::Url::parse(&format!("{base_url}/mon-compte/rib")).unwrap(),
        headers: vec![],
        body: Some(Body::Form(form)),
    }
}

/// Answers a stream 200 with the body it was sent.
async fn echo(
    request: http::Request<h2::RecvStream>,
    mut respond: h2::server::SendResponse<Bytes>,
) {
    let mut body = request.into_body();
    let mut form = Vec::new();
    while let Some(Ok(chunk)) = body.data().await {
        let _ = body.flow_control().release_capacity(chunk.len());
        form.extend_from_slice(&chunk);
    }
    if let Ok(mut stream) = respond.send_response(http::Response::new(()), false) {
        let _ = stream.send_data(Bytes::from(form), true);
    }
}

/// A server whose first stream is reset with `reason`; the others get 200 with the form they
/// sent. Counts the streams it was sent.
async fn serve_resetting_first(reason: h2::Reason) -> (String, Arc<AtomicUsize>) {
    let streams = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&streams);
    let base_url = serve(false, move |_, request, mut respond| {
        if counted.fetch_add(1, Ordering::Relaxed) == 0 {
            respond.send_reset(reason);
            return;
        }
        tokio::spawn(echo(request, respond));
    })
    .await;
    (base_url, streams)
}

/// POSTs a form to `base_url` and checks it is answered, with the form it sent.
async fn assert_post_answered(transport: &Transport, base_url: &str) {
    let form = [("iban".to_owned(), "FR76".to_owned())];
    let response = send(transport, post(base_url, &form))
        .await
        .expect("answered on the second connection");
    assert_eq!(
        (response.status, &response.body[..]),
        (200, &b"iban=FR76"[..])
    );
}

async fn send(transport: &Transport, request: Request<'_>) -> Result<Response, WireError> {
    transport
        .send(&mut Connection::default(), None, request)
        .await
}

#[tokio::test]
async fn a_post_refused_with_refused_stream_goes_again_on_a_new_connection() {
    let (base_url, streams) = serve_resetting_first(h2::Reason::REFUSED_STREAM).await;
    let transport = h2c();
    assert_post_answered(&transport, &base_url).await;
    assert_eq!(streams.load(Ordering::Relaxed), 2);
    assert_eq!(transport.connections().http2, 2);
}

#[tokio::test]
async fn a_post_whose_stream_is_reset_otherwise_is_an_error_never_sent_twice() {
    let (base_url, streams) = serve_resetting_first(h2::Reason::INTERNAL_ERROR).await;
    let transport = h2c();
    let form = [("iban".to_owned(), "FR76".to_owned())];
    let error = send(&transport, post(&base_url, &form))
        .await
        .err()
        .expect("a reset stream is no answer");
    assert_eq!(error.cause(), ErrorCause::Transport, "{error}");
    assert_eq!(streams.load(Ordering::Relaxed), 1);
}

#[tokio::test]
async fn a_gzip_body_over_http2_is_decoded_before_it_is_scanned() {
    let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gzip.write_all(b"<p>FR76 3000 6000</p>").unwrap();
    let gzipped = Bytes::from(gzip.finish().unwrap());
    let base_url = serve(false, move |_, _, mut respond| {
        let head = http::Response::builder()
            .header(CONTENT_ENCODING, "gzip")
            .body(())
            .unwrap();
        if let Ok(mut stream) = respond.send_response(head, false) {
            let _ = stream.send_data(gzipped.clone(), true);
        }
    })
    .await;
    let request = Request {
        method: http::Method::GET,
        url: url::Url::parse(&format!("{base_url}/mon-compte")).unwrap(),
        headers: vec![],
        body: None,
    };
    let response = send(&h2c(), request).await.unwrap();
    assert_eq!(response.body, b"<p>FR76 3000 6000</p>");
    assert!(response.headers.get(CONTENT_ENCODING).is_none());
}

/// Reads HTTP/2 frames from `socket` (after the client's preface) until a HEADERS frame: the
/// client has opened its stream.
async fn until_headers(socket: &mut tokio::net::TcpStream) {
    let mut preface = [0u8; 24];
    socket.read_exact(&mut preface).await.unwrap();
    loop {
        let mut head = [0u8; 9];
        socket.read_exact(&mut head).await.unwrap();
        let length = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
        let mut payload = vec![0u8; length];
        socket.read_exact(&mut payload).await.unwrap();
        if head[3] == 0x1 {
            return;
        }
    }
}

#[tokio::test]
async fn a_post_beyond_a_goaways_last_stream_goes_again_on_a_new_connection() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let answered = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&answered);
    tokio::spawn(async move {
        // The first connection: once the POST's stream is open, an empty SETTINGS and a GOAWAY
        // whose last stream is 0 with ENHANCE_YOUR_CALM, as a server shedding load says it.
        let (mut first, _) = listener.accept().await.unwrap();
        until_headers(&mut first).await;
        let settings = [0, 0, 0, 0x4, 0, 0, 0, 0, 0];
        let go_away = [0, 0, 8, 0x7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb];
        first.write_all(&settings).await.unwrap();
        first.write_all(&go_away).await.unwrap();
        let (second, _) = listener.accept().await.unwrap();
        let mut connection = h2::server::handshake(second).await.unwrap();
        while let Some(Ok((request, respond))) = connection.accept().await {
            counted.fetch_add(1, Ordering::Relaxed);
            echo(request, respond).await;
        }
        drop(first);
    });
    let transport = h2c();
    assert_post_answered(&transport, &base_url).await;
    assert_eq!(answered.load(Ordering::Relaxed), 1);
    assert_eq!(transport.connections().http2, 2);
}
