//! `crossleak run` against the demo portal behind TLS with a private CA, as a staging portal is:
//! clean with `[target.tls] ca_file`, unreachable (exit 3, the certificate named) without it, and
//! mutual TLS with `client_cert` and `client_key`, and through a `CONNECT` proxy. Certificates:
//! tests/fixtures/tls/.

mod common;

use crossleak::load::ErrorCause;
use crossleak::load::DEMO_SCENARIO;
use crossleak::portal::{router, PortalConfig};
use crossleak::run::RunResult;
use crossleak::scenario::{Scenario, Tls};
use crossleak::transport::{Connection, Request, Settings, Transport};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/tls")
        .join(name)
}

/// Accepts TLS connections for axum; a client that fails its handshake is dropped.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The demo portal (the demo scenario's population) on `https://localhost:PORT`, its certificate
/// signed by the test CA; with `client_ca`, it asks for a client certificate signed by it.
async fn serve_https(client_ca: bool) -> String {
    let scenario = Scenario::parse(DEMO_SCENARIO, "scenarios/demo.toml").unwrap();
    let crossleak::scenario::PopulationSource::Generated(options) = &scenario.population else {
        panic!("the demo scenario generates its population");
    };
    let population = crossleak::population::Population::generate(options).unwrap();
    let app = router(population.beneficiaries, PortalConfig::default()).unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = if client_ca {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(fixture("ca.crt")).unwrap())
            .unwrap();
        let verifier =
            rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        builder.with_client_cert_verifier(verifier)
    } else {
        builder.with_no_client_auth()
    };
    let mut config = builder
        .with_single_cert(
            vec![CertificateDer::from_pem_file(fixture("server.crt")).unwrap()],
            PrivateKeyDer::from_pem_file(fixture("server.key")).unwrap(),
        )
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("https://localhost:{port}")
}

/// The demo scenario pointed at `base_url`, with `tls` as its `[target.tls]` table.
fn scenario(base_url: &str, tls: &str) -> Scenario {
    scenario_with(&format!("base_url = \"{base_url}\""), tls)
}

/// The demo scenario with `target` in place of its embedded portal and `tls` as `[target.tls]`.
fn scenario_with(target: &str, tls: &str) -> Scenario {
    let text = DEMO_SCENARIO
        .replace("embedded = true\nfaults = []\n", &format!("{target}\n"))
        .replace(
            "\n[population]\n",
            &format!("\n[target.tls]\n{tls}\n[population]\n"),
        );
    assert_ne!(text, DEMO_SCENARIO, "the demo scenario's [target] moved");
    Scenario::parse(&text, "tests/tls.rs").unwrap_or_else(|e| panic!("{e}"))
}

fn pem_keys(keys: &[(&str, &str)]) -> String {
    keys.iter()
        .map(|(key, file)| format!("{key} = {:?}\n", fixture(file).display().to_string()))
        .collect()
}

fn assert_clean(result: &RunResult) {
    common::assert_checked_clean(result);
    let summary = &result.summary;
    assert_eq!(summary.errors_by_cause["tls"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_with_a_private_ca_is_checked_and_clean_with_ca_file() {
    let base_url = serve_https(false).await;
    let result = common::short_run(scenario(&base_url, &pem_keys(&[("ca_file", "ca.crt")]))).await;
    assert_clean(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_ca_file_the_run_is_unreachable_and_names_the_certificate() {
    let base_url = serve_https(false).await;
    let result = common::short_run(scenario(&base_url, "accept_invalid_certs = false")).await;
    let summary = &result.summary;
    common::assert_unreachable_naming(summary, &["TLS handshake", "certificate", "ca_file"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accept_invalid_certs_takes_a_certificate_nobody_trusts() {
    let base_url = serve_https(false).await;
    let result = common::short_run(scenario(&base_url, "accept_invalid_certs = true")).await;
    assert_clean(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_portal_that_requires_a_client_certificate_is_checked_with_client_cert() {
    let base_url = serve_https(true).await;
    let keys = [
        ("ca_file", "ca.crt"),
        ("client_cert", "client.crt"),
        ("client_key", "client.key"),
    ];
    let result = common::short_run(scenario(&base_url, &pem_keys(&keys))).await;
    assert_clean(&result);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_client_cert_a_mutual_tls_portal_is_unreachable_and_says_to_set_client_cert() {
    let base_url = serve_https(true).await;
    let result = common::short_run(scenario(&base_url, &pem_keys(&[("ca_file", "ca.crt")]))).await;
    let summary = &result.summary;
    common::assert_unreachable_naming(
        summary,
        &[
            "asked for a client certificate",
            "client_cert",
            "client_key",
        ],
    );
    assert_eq!(summary.checked_responses, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_without_client_cert_to_a_mutual_tls_portal_counts_as_tls_client_cert_required() {
    let base_url = serve_https(true).await;
    let settings = Settings {
        tls: Tls {
            ca_file: Some(fixture("ca.crt")),
            ..Tls::default()
        },
        ..Settings::default()
    };
    let transport =
        Transport::for_run(&settings, &base_url, Duration::from_secs(5), 1 << 20).unwrap();
    let request = Request {
        method: http::Method::GET,
        url: url::Url::parse(&format!("{base_url}/login")).unwrap(),
        headers: vec![],
        body: None,
    };
    let error = transport
        .send(&mut Connection::default(), None, request)
        .await
        .err()
        .expect("refused for want of a client certificate");
    assert_eq!(error.cause(), ErrorCause::TlsClientCertRequired, "{error}");
    assert_eq!(error.cause().name(), "tls_client_cert_required");
}

/// A loopback proxy that only tunnels: it reads `CONNECT host:port`, answers 200, relays the
/// bytes both ways, and counts the tunnels it opened.
async fn serve_connect_proxy() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let tunnels = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&tunnels);
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let counted = Arc::clone(&counted);
            tokio::spawn(async move {
                let mut head = Vec::new();
                while !head.ends_with(b"\r\n\r\n") {
                    let mut byte = [0u8; 1];
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let Some(authority) = head
                    .strip_prefix("CONNECT ")
                    .and_then(|r| r.split(' ').next())
                else {
                    return;
                };
                let Ok(mut upstream) = TcpStream::connect(authority).await else {
                    return;
                };
                counted.fetch_add(1, Ordering::Relaxed);
                if client
                    .write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n")
                    .await
                    .is_ok()
                {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
            });
        }
    });
    (url, tunnels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_through_a_proxy_tunnels_every_connection_and_is_clean() {
    let base_url = serve_https(false).await;
    let (proxy, tunnels) = serve_connect_proxy().await;
    let target = format!("base_url = \"{base_url}\"\nproxy = \"{proxy}\"");
    let result =
        common::short_run(scenario_with(&target, &pem_keys(&[("ca_file", "ca.crt")]))).await;
    assert_clean(&result);
    // The reachability check, then at least one kept connection per user.
    assert!(tunnels.load(Ordering::Relaxed) > 6, "{tunnels:?}");
}
