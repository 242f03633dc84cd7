//! The oracle's figures of issue 8: one scan of the demo portal's own pages (HTML and JSON, about
//! 2 KB and about 200 KB) with 1,000, 100,000 and 1,000,000 beneficiaries in the index, measured
//! by criterion on one core; the build time and index bytes per beneficiary are printed.
//!
//! `cargo bench --bench oracle` (add `-- --quick` for a rough pass). Populations come from
//! crossleak's own generator with seed 1: a larger one starts with the smaller one's
//! beneficiaries, so the pages (fetched from a demo portal serving the first thousand) show the
//! same owner in every index.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use crossleak::load::Watchlist;
use crossleak::population::{GenerateOptions, Population};
use crossleak::portal::{self, PortalConfig};
use std::hint::black_box;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant};

const SEED: u64 = 1;
const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];
/// The beneficiary whose pages are scanned.
const VIEWER: usize = 7;
/// The pages scanned: (kind, statement lines on the portal), so each is about 2 KB or 200 KB.
/// The account page with its own three payments is about 2 KB; the JSON file needs 20 lines.
const PAGES: [(Kind, usize); 4] = [
    (Kind::Html, 0),
    (Kind::Json, 20),
    (Kind::Html, 2_200),
    (Kind::Json, 2_600),
];

#[derive(Clone, Copy)]
enum Kind {
    /// `GET /mon-compte`
    Html,
    /// `GET /api/dossier`
    Json,
}

fn population(size: usize) -> Population {
    Population::generate(&GenerateOptions {
        size,
        seed: SEED,
        ..GenerateOptions::default()
    })
    .expect("a valid population")
}

/// The viewer's account page and JSON file, from a demo portal with `history` statement lines.
async fn fetch_pages(history: usize) -> (Vec<u8>, Vec<u8>) {
    let people = population(SIZES[0]);
    let viewer = people.beneficiaries[VIEWER].clone();
    let config = PortalConfig {
        ledger_latency: Duration::ZERO,
        payment_history: history,
        ..PortalConfig::default()
    };
    let running = portal::start(
        people.beneficiaries,
        config,
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .expect("the demo portal starts");
    let base = running.base_url();
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .no_proxy()
        .build()
        .expect("a client");
    let login = client
        .post(format!("{base}/connexion/allocataire"))
        .form(&[
            ("numero_allocataire", viewer.numero_allocataire.as_str()),
            ("mot_de_passe", viewer.password.as_str()),
        ])
        .send()
        .await
        .expect("the login answers");
    assert!(login.url().path().ends_with("/mon-compte"), "logged in");
    let mut pages = Vec::new();
    for path in ["/mon-compte", "/api/dossier"] {
        let response = client
            .get(format!("{base}{path}"))
            .send()
            .await
            .expect("the page answers");
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        pages.push(response.bytes().await.expect("a body").to_vec());
    }
    running.shutdown().await;
    let json = pages.pop().expect("two pages");
    (pages.pop().expect("two pages"), json)
}

fn scan(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let pages: Vec<(&str, Vec<u8>)> = PAGES
        .iter()
        .map(|&(kind, history)| {
            let (html, json) = runtime.block_on(fetch_pages(history));
            match kind {
                Kind::Html => ("html", html),
                Kind::Json => ("json", json),
            }
        })
        .collect();
    drop(runtime);
    let viewer = population(SIZES[0]).beneficiaries[VIEWER].id;

    let mut group = c.benchmark_group("scan");
    for size in SIZES {
        let started = Instant::now();
        let people = population(size);
        let generated = started.elapsed();
        let started = Instant::now();
        let watch = Watchlist::build(&people).expect("the population indexes");
        let built = started.elapsed();
        drop(people);
        let oracle = &watch.oracle;
        eprintln!(
            "oracle {size:>9} beneficiaries: generated in {:.2} s; index built in {:.2} s \
             ({} values), {:.1} MB = {:.0} bytes per beneficiary",
            generated.as_secs_f64(),
            built.as_secs_f64(),
            oracle.patterns(),
            oracle.memory_bytes() as f64 / 1e6,
            oracle.memory_bytes() as f64 / size as f64,
        );
        for (kind, page) in &pages {
            let sightings = oracle.scan(page);
            let foreign = sightings
                .iter()
                .filter(|s| !oracle.same_household(s.owner, viewer))
                .count();
            assert_eq!(
                foreign, 0,
                "the viewer's page carries only its household's data"
            );
            let label = format!("{kind}_{}KB", page.len().div_ceil(1024));
            if size == SIZES[0] {
                eprintln!(
                    "page {label}: {} bytes, {} sightings of the viewer's own values",
                    page.len(),
                    sightings.len()
                );
            }
            group.throughput(Throughput::Bytes(page.len() as u64));
            group.bench_with_input(BenchmarkId::new(label, size), page, |b, page| {
                b.iter(|| oracle.scan(black_box(page)))
            });
        }
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = scan
}
criterion_main!(benches);
