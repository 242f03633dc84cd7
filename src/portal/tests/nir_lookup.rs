//! The `nir-lookup` fault: a provisional-password beneficiary who logs in by NIR with their own valid
//! credentials opens the first provisional account of their (sex, birth year, birth month) block;
//! the numéro allocataire path and changed passwords are unaffected; off, everyone opens their own.

use super::*;
use crate::population::{GenerateOptions, PasswordState, Population};
use tokio::task::JoinSet;

/// Logs in by the 13-character NIR and returns the owners `/api/dossier` then shows.
async fn nir_login_opens(
    portal: &RunningPortal,
    person: &Beneficiary,
    people: &[Beneficiary],
) -> Vec<OwnerId> {
    let client = browser();
    let login = login_nir(
        &client,
        portal,
        person.nir.body().as_str(),
        &person.password,
    )
    .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER, "owner {}", person.id);
    let body = get(&client, format!("{}/api/dossier", portal.base_url()))
        .await
        .text()
        .await
        .expect("body");
    owners_in(&body, people)
}

#[tokio::test]
async fn with_nir_lookup_a_provisional_user_opens_the_first_account_of_their_block() {
    // Fixture NIRs repeat sex, birth year and month every 60 people: 0 and 60 share a block,
    // both provisional (even), and 0 comes first in numéro order. 1 and 61 share one, both changed.
    let people = fixtures::crowd(62);
    let (first, second) = (&people[0], &people[60]);
    assert_eq!(&first.nir.as_str()[..5], &second.nir.as_str()[..5]);
    let portal = serve(&people, with(&[Fault::NirLookup])).await;
    assert_eq!(nir_login_opens(&portal, second, &people).await, [first.id]);
    // The numéro allocataire path and the first of the block are unaffected.
    let legacy = browser();
    signed_in(&legacy, &portal, second).await;
    let own = get(&legacy, format!("{}/api/dossier", portal.base_url())).await;
    assert_eq!(
        owners_in(&own.text().await.expect("body"), &people),
        [second.id]
    );
    assert_eq!(nir_login_opens(&portal, first, &people).await, [first.id]);
    // Changed passwords never go through activation.
    let (changed, other_changed) = (&people[1], &people[61]);
    assert_eq!(changed.password_state, PasswordState::Changed);
    assert_eq!(
        nir_login_opens(&portal, other_changed, &people).await,
        [other_changed.id]
    );
    assert_eq!(
        nir_login_opens(&portal, changed, &people).await,
        [changed.id]
    );
    // Someone else's password still fails: the check is on the typed NIR's account.
    let wrong = login_nir(
        &browser(),
        &portal,
        second.nir.body().as_str(),
        &first.password,
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    portal.shutdown().await;
}

#[tokio::test]
async fn with_nir_lookup_the_victim_changing_their_password_leaves_the_block() {
    let people = fixtures::crowd(62);
    let (first, second) = (&people[0], &people[60]);
    let portal = serve(&people, with(&[Fault::NirLookup])).await;
    let client = browser();
    signed_in(&client, &portal, first).await;
    let changed = post(
        &client,
        format!("{}/mon-compte/mot-de-passe", portal.base_url()),
        &[
            ("ancien", &first.password),
            ("nouveau", "un-nouveau-secret"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(nir_login_opens(&portal, second, &people).await, [second.id]);
    portal.shutdown().await;
}

/// The NIR users (odd owners, as the load runner alternates paths) among the first 300 of a
/// default generated population log in at once; returns how many opened someone else's file.
async fn misdirected_nir_logins(config: PortalConfig) -> usize {
    let population = Population::generate(&GenerateOptions::default()).expect("population");
    let portal = serve(&population.beneficiaries, config).await;
    let population = std::sync::Arc::new(population);
    let mut users = JoinSet::new();
    let nir_users = population.iter().take(300).filter(|p| p.id % 2 == 1);
    for person in nir_users.cloned().collect::<Vec<_>>() {
        let (base, population) = (portal.base_url(), std::sync::Arc::clone(&population));
        users.spawn(async move {
            let client = browser();
            let login = post(
                &client,
                format!("{base}/connexion/nir"),
                &[
                    ("nir", person.nir.body().as_str()),
                    ("mot_de_passe", &person.password),
                ],
            )
            .await;
            assert_eq!(login.status(), StatusCode::SEE_OTHER);
            let body = get(&client, format!("{base}/mon-compte"))
                .await
                .text()
                .await
                .expect("body");
            // A household partner appears on the page by right; anyone else is a leak.
            let shown = owners_in(&body, &population.beneficiaries);
            shown
                .iter()
                .any(|owner| !population.same_household(*owner, person.id))
        });
    }
    let mut misdirected = 0;
    while let Some(done) = users.join_next().await {
        misdirected += usize::from(done.expect("user"));
    }
    portal.shutdown().await;
    misdirected
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_generated_population_triggers_nir_lookup_and_the_correct_portal_does_not() {
    let faulty = misdirected_nir_logins(with(&[Fault::NirLookup])).await;
    assert!(
        faulty >= 5,
        "only {faulty} of 150 NIR users were misdirected"
    );
    assert_eq!(misdirected_nir_logins(PortalConfig::default()).await, 0);
}
