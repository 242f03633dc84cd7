//! What the unit tests of every check share: a small population, a page of one owner's file, and
//! `check` run on `GET /mon-compte` as one viewer would see it.

use super::{check, CheckContext, Exchange};
use crate::findings::{Asked, Finding, Masking};
use crate::load::watch::Watchlist;
use crate::population::{Field, GenerateOptions, OwnerId, Population};
use http::header::{HeaderMap, HeaderValue, CACHE_CONTROL};

/// The fields a personal page must show: the viewer's identity.
pub const IDENTITY: [Field; 2] = [Field::NumeroAllocataire, Field::Nir];

pub fn world() -> (Population, Watchlist) {
    let population = Population::generate(&GenerateOptions {
        size: 50,
        seed: 7,
        household_share: 0.5,
        ..GenerateOptions::default()
    })
    .unwrap();
    let watch = Watchlist::build(&population).unwrap();
    (population, watch)
}

pub fn page_of(population: &Population, owner: OwnerId, iban: &str) -> String {
    let b = population.get(owner).unwrap();
    format!(
        "<html><h1>{} {}</h1><p>N° allocataire {}</p><p>NIR {}</p><p>IBAN {}</p><p>Tél {}</p></html>",
        b.first_name,
        b.last_name,
        b.numero_allocataire,
        b.nir.spaced(),
        iban,
        b.phone_spaced()
    )
}

/// Response headers from `(name, value)` pairs, in order.
pub fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.append(*name, HeaderValue::from_static(value));
    }
    map
}

/// The context of user 3 of the load phase, 42 ms in.
pub fn context<'a>(
    population: &'a Population,
    watch: &'a Watchlist,
    masking: Masking,
) -> CheckContext<'a> {
    CheckContext {
        watch,
        population,
        masking,
        phase: "load",
        user: 3,
        elapsed_ms: 42,
    }
}

/// The one finding of `viewer`'s page, if any, about the oracle's verdict: the page is private,
/// as a correct one is, unless `headers` say otherwise.
pub fn run_check(
    population: &Population,
    watch: &Watchlist,
    viewer: OwnerId,
    body: &str,
    headers: &HeaderMap,
    must_show: &[Field],
    masking: Masking,
) -> Option<Finding> {
    let mut headers = headers.clone();
    headers
        .entry(CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("private, no-store"));
    let ctx = context(population, watch, masking);
    let mut findings = check_page(&ctx, Some(viewer), body, &headers, must_show);
    assert!(findings.len() <= 1, "{findings:?}");
    findings.pop()
}

/// Every finding of `viewer`'s page (`None`: the anonymous observer), which must show the viewer's
/// identity; evidence masked.
pub fn check_as(
    population: &Population,
    watch: &Watchlist,
    viewer: Option<OwnerId>,
    body: &str,
    headers: &HeaderMap,
) -> Vec<Finding> {
    let ctx = context(population, watch, Masking::Masked);
    check_page(&ctx, viewer, body, headers, &IDENTITY)
}

fn check_page(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    body: &str,
    headers: &HeaderMap,
    must_show: &[Field],
) -> Vec<Finding> {
    let exchange = Exchange {
        method: "GET",
        name: "GET /mon-compte",
        url: "http://127.0.0.1:1/mon-compte",
        status: 200,
        final_url: "http://127.0.0.1:1/mon-compte",
        authorization: false,
        headers,
        body: body.as_bytes(),
    };
    check(ctx, viewer, &exchange, must_show, &Asked::Read)
}

/// An owner outside owner 0's household: whatever of theirs owner 0 is shown is a leak.
pub fn stranger(watch: &Watchlist) -> OwnerId {
    (1..50)
        .find(|o| !watch.oracle.same_household(0, *o))
        .unwrap()
}

/// The one finding of `viewer`'s private page that must show the viewer's identity, if any;
/// evidence masked.
pub fn verdict(
    population: &Population,
    watch: &Watchlist,
    viewer: OwnerId,
    body: &str,
) -> Option<Finding> {
    run_check(
        population,
        watch,
        viewer,
        body,
        &HeaderMap::new(),
        &IDENTITY,
        Masking::Masked,
    )
}
