//! The tester under a misbehaving target: each test runs crossleak against a deliberately broken
//! HTTP server on loopback. Every failure must be counted as an error with its cause (or a body
//! cut at the scan cap), never as a violation, and the run must end by itself.

mod common;

use common::{population, spec, ONE_ATTACK_AT_A_TIME};
use crossleak::outcome::Status;
use crossleak::run::{self, RunResult};
use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug)]
enum Misbehaviour {
    /// Accepts, reads the request, then resets the connection.
    Reset,
    /// Accepts and reads, never answers.
    Hang,
    /// Sends a status line, then nothing.
    SlowHeaders,
    /// Sends headers announcing 1,000 bytes, then one byte every half second.
    SlowBody,
    /// 500 with a body that names nobody.
    ServerError,
    /// Announces 1,000 bytes, sends 10, closes.
    TruncatedBody,
    /// Bytes that are not HTTP.
    Garbage,
    /// A 200 whose gzip body inflates to 256 MiB of zeros.
    GzipBomb,
    /// A 200 announcing and streaming 100 MB.
    HugeBody,
    /// A header name with a space and a cookie with control characters.
    InvalidHeaders,
}

fn gzip_bomb() -> &'static [u8] {
    static BOMB: OnceLock<Vec<u8>> = OnceLock::new();
    BOMB.get_or_init(|| {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..256 {
            encoder.write_all(&zeros).unwrap();
        }
        encoder.finish().unwrap()
    })
}

async fn read_request(socket: &mut TcpStream) {
    let mut buffer = vec![0u8; 16 * 1024];
    let mut seen = Vec::new();
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match tokio::time::timeout(Duration::from_secs(2), socket.read(&mut buffer)).await {
            Ok(Ok(n)) if n > 0 => seen.extend_from_slice(&buffer[..n]),
            _ => return,
        }
    }
}

async fn misbehave(mut socket: TcpStream, mode: Misbehaviour) {
    read_request(&mut socket).await;
    let forever = Duration::from_secs(30);
    match mode {
        Misbehaviour::Reset => {
            let _ = socket.set_zero_linger();
            drop(socket);
        }
        Misbehaviour::Hang => tokio::time::sleep(forever).await,
        Misbehaviour::SlowHeaders => {
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\n").await;
            tokio::time::sleep(forever).await;
        }
        Misbehaviour::SlowBody => {
            let head =
                b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\n";
            if socket.write_all(head).await.is_ok() {
                for _ in 0..60 {
                    if socket.write_all(b"x").await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
            }
        }
        Misbehaviour::ServerError => {
            let body = "<html>Erreur interne</html>";
            let response = format!(
                "HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = socket.write_all(response.as_bytes()).await;
        }
        Misbehaviour::TruncatedBody => {
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789")
                .await;
        }
        Misbehaviour::Garbage => {
            let _ = socket
                .write_all(b"\x00\xff\xfeNOT HTTP AT ALL\r\n\x07\x08\r\n\r\n")
                .await;
        }
        Misbehaviour::GzipBomb => {
            let bomb = gzip_bomb();
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                bomb.len()
            );
            if socket.write_all(head.as_bytes()).await.is_ok() {
                let _ = socket.write_all(bomb).await;
            }
        }
        Misbehaviour::HugeBody => {
            let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000000\r\nConnection: close\r\n\r\n";
            if socket.write_all(head).await.is_ok() {
                let chunk = vec![b'a'; 64 * 1024];
                for _ in 0..(100_000_000 / chunk.len()) {
                    if socket.write_all(&chunk).await.is_err() {
                        return;
                    }
                }
            }
        }
        Misbehaviour::InvalidHeaders => {
            let _ = socket
                .write_all(b"HTTP/1.1 200 OK\r\nSet-Cookie: \x01\x02=\x7f;;\r\nX-Bad Header: y\r\nContent-Length: 5\r\n\r\nhello")
                .await;
        }
    }
}

/// Serves `mode` on an ephemeral loopback port until the test ends.
async fn broken_server(mode: Misbehaviour) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            tokio::spawn(misbehave(socket, mode));
        }
    });
    format!("http://{addr}")
}

/// Runs 4 users for 2 s against `mode`; the run must end by itself, with no violation.
async fn run_against(mode: Misbehaviour) -> RunResult {
    let _one = ONE_ATTACK_AT_A_TIME.lock().await;
    let target = broken_server(mode).await;
    let reports = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let result = run::execute(spec(
        target,
        population(20, 3),
        reports.path(),
        4,
        Duration::from_millis(700),
    ))
    .await
    .unwrap_or_else(|e| panic!("{mode:?}: the run failed instead of reporting: {e}"));
    let summary = &result.summary;
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{mode:?}: run took {:?}",
        started.elapsed()
    );
    assert_eq!(summary.violations, 0, "{mode:?}: {:?}", summary.evidence);
    assert_ne!(summary.status, Status::Violations, "{mode:?}");
    // Nobody could log in: the run proved nothing and says so.
    assert_eq!(
        summary.status,
        Status::Inconclusive,
        "{mode:?}: {}",
        summary.reason
    );
    assert!(result.dir.join("summary.json").exists());
    result
}

/// Runs against `mode` (see `run_against`): some requests were counted as errors, under `cause`
/// when one is named.
async fn counted_as_errors(mode: Misbehaviour, cause: Option<&str>) {
    let summary = run_against(mode).await.summary;
    let counted = match cause {
        Some(cause) => summary.errors_by_cause.get(cause).copied().unwrap_or(0),
        None => summary.errors,
    };
    assert!(counted > 0, "{mode:?}: {:?}", summary.errors_by_cause);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_connection_is_a_transport_error() {
    counted_as_errors(Misbehaviour::Reset, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_that_hangs_is_a_timeout() {
    counted_as_errors(Misbehaviour::Hang, Some("timeout")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_are_a_timeout() {
    counted_as_errors(Misbehaviour::SlowHeaders, Some("timeout")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_is_a_timeout() {
    counted_as_errors(Misbehaviour::SlowBody, Some("timeout")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_5xx_is_a_server_error() {
    counted_as_errors(Misbehaviour::ServerError, Some("server_error")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_body_is_a_body_error() {
    counted_as_errors(Misbehaviour::TruncatedBody, Some("body")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_bytes_are_a_transport_error() {
    counted_as_errors(Misbehaviour::Garbage, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_is_cut_at_the_scan_cap() {
    let result = run_against(Misbehaviour::GzipBomb).await;
    // Inflated by the client, read only up to the cap: memory stays bounded.
    assert!(result.summary.truncated_bodies > 0, "{:?}", result.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_100_mb_body_is_cut_at_the_scan_cap() {
    let result = run_against(Misbehaviour::HugeBody).await;
    assert!(result.summary.truncated_bodies > 0, "{:?}", result.summary);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_headers_and_cookies_are_a_transport_error() {
    counted_as_errors(Misbehaviour::InvalidHeaders, None).await;
}
