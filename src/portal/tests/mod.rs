//! End-to-end tests of the portal over real HTTP on 127.0.0.1:0, one reqwest client (own cookie jar) per user.
//! Every request has a timeout and every loop a fixed count, so a broken portal fails fast instead of hanging.

mod admin;
mod dirty_pool;
mod edge_caches;
mod file;
pub mod fixtures;
mod login;
mod nir_lookup;
mod object_reference;
mod request_race;
mod sessions;
mod shared_cache;
mod simultaneous;

use super::{start, Fault, PortalConfig, RunningPortal, COOKIE_NAME};
use crate::population::{Beneficiary, OwnerId};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use reqwest::{Client, Response, StatusCode};
use std::time::Duration;

/// A portal on an ephemeral loopback port.
async fn serve(people: &[Beneficiary], config: PortalConfig) -> RunningPortal {
    start(
        people.to_vec(),
        config,
        "127.0.0.1:0".parse().expect("loopback"),
    )
    .await
    .expect("portal starts")
}

/// A browser: its own cookie jar and connections; redirects are not followed, so tests see them.
fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client")
}

async fn post(client: &Client, url: String, form: &[(&str, &str)]) -> Response {
    client.post(url).form(form).send().await.expect("request")
}

async fn get(client: &Client, url: String) -> Response {
    client.get(url).send().await.expect("request")
}

async fn login_allocataire(
    client: &Client,
    portal: &RunningPortal,
    numero: &str,
    password: &str,
) -> Response {
    post(
        client,
        format!("{}/connexion/allocataire", portal.base_url()),
        &[("numero_allocataire", numero), ("mot_de_passe", password)],
    )
    .await
}

async fn login_nir(client: &Client, portal: &RunningPortal, nir: &str, password: &str) -> Response {
    post(
        client,
        format!("{}/connexion/nir", portal.base_url()),
        &[("nir", nir), ("mot_de_passe", password)],
    )
    .await
}

/// Logs `person` in with the numéro allocataire and checks the redirect; returns the token.
async fn signed_in(client: &Client, portal: &RunningPortal, person: &Beneficiary) -> String {
    let response = login_allocataire(
        client,
        portal,
        person.numero_allocataire.as_str(),
        &person.password,
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    session_cookie(response.headers())
}

/// The session token a login set, after checking the cookie's attributes.
fn session_cookie(headers: &HeaderMap) -> String {
    assert_eq!(
        headers.get(LOCATION).and_then(|v| v.to_str().ok()),
        Some("/mon-compte")
    );
    let cookie = headers
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("Set-Cookie");
    let (pair, attributes) = cookie.split_once(';').expect("attributes");
    assert!(attributes.contains("HttpOnly"), "{cookie}");
    assert!(attributes.contains("Path=/"), "{cookie}");
    assert!(attributes.contains("SameSite=Lax"), "{cookie}");
    let (name, token) = pair.split_once('=').expect("name=value");
    assert_eq!(name, COOKIE_NAME);
    assert_eq!(token.len(), 64, "32 random bytes in hex");
    token.to_owned()
}

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).and_then(|v| v.to_str().ok())
}

/// Values that identify `person` and appear nowhere else in a correct page of another person.
fn foreign_markers(person: &Beneficiary) -> Vec<String> {
    vec![
        person.nir.as_str().to_owned(),
        person.nir.spaced(),
        person.email.clone(),
        person.phone.clone(),
        super::pages::phone_spaced(&person.phone),
        person.iban.clone(),
        person.spare_iban.clone(),
        person.street.clone(),
    ]
}

/// Fails if `body`, served to `owner`, carries any identifying value of anyone in `others`.
fn assert_no_foreign_data(body: &str, owner: &Beneficiary, others: &[&Beneficiary]) {
    for other in others {
        for marker in foreign_markers(other) {
            assert!(
                !body.contains(&marker),
                "page served to owner {} carries {marker:?} of owner {}",
                owner.id,
                other.id
            );
        }
    }
}

/// A correct portal with `faults` switched on.
fn with(faults: &[Fault]) -> PortalConfig {
    PortalConfig::with_faults(faults.iter().copied())
}

/// The owners whose numéro allocataire or e-mail appears in `body`: exactly the reader (and their
/// household) in a correct response.
fn owners_in(body: &str, people: &[Beneficiary]) -> Vec<OwnerId> {
    people
        .iter()
        .filter(|p| body.contains(p.numero_allocataire.as_str()) || body.contains(&p.email))
        .map(|p| p.id)
        .collect()
}

/// Whether `body` shows `me` and no one outside `me`'s household.
fn shows_only(body: &str, people: &[Beneficiary], me: &Beneficiary) -> bool {
    let shown = owners_in(body, people);
    shown.contains(&me.id)
        && people
            .iter()
            .filter(|p| shown.contains(&p.id))
            .all(|p| p.household == me.household)
}

/// Logs each of `people` in on its own browser, by numéro allocataire.
async fn browsers_signed_in(portal: &RunningPortal, people: &[Beneficiary]) -> Vec<Client> {
    let mut browsers = Vec::with_capacity(people.len());
    for person in people {
        let client = browser();
        signed_in(&client, portal, person).await;
        browsers.push(client);
    }
    browsers
}

/// Each browser (`browsers[i]` is `people[i]`'s) reads `path` at the same instant, released
/// together by a barrier; returns, for each, the owners its response shows.
async fn read_together(
    base: &str,
    path: &str,
    people: &[Beneficiary],
    browsers: &[Client],
) -> Vec<(OwnerId, Vec<OwnerId>)> {
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(browsers.len()));
    let mut readers = tokio::task::JoinSet::new();
    for (person, client) in people.iter().zip(browsers) {
        let (client, barrier) = (client.clone(), std::sync::Arc::clone(&barrier));
        let (url, me, everyone) = (format!("{base}{path}"), person.id, people.to_vec());
        readers.spawn(async move {
            barrier.wait().await;
            let body = get(&client, url).await.text().await.expect("body");
            (me, owners_in(&body, &everyone))
        });
    }
    let mut seen = Vec::with_capacity(browsers.len());
    while let Some(done) = readers.join_next().await {
        seen.push(done.expect("reader"));
    }
    seen
}

/// The readers among `seen` whose response showed someone else.
fn misdirected(seen: &[(OwnerId, Vec<OwnerId>)]) -> usize {
    seen.iter()
        .filter(|(me, shown)| shown.iter().any(|owner| owner != me))
        .count()
}
