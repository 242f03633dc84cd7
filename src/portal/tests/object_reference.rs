//! The file endpoints addressed by numéro allocataire: the correct portal opens only the session's
//! own household's files; under `object-reference` any session opens (and rewrites) anyone's.

use super::*;

/// Reads `/api/dossiers/{numero}` and, when the portal lets it, changes that file's RIB to
/// `target`'s spare IBAN; returns both statuses and whose file the read showed.
async fn read_and_change(
    portal: &RunningPortal,
    people: &[Beneficiary],
    client: &Client,
    target: &Beneficiary,
) -> (StatusCode, Vec<OwnerId>, StatusCode) {
    let base = portal.base_url();
    let numero = target.numero_allocataire.as_str();
    let read = get(client, format!("{base}/api/dossiers/{numero}")).await;
    let status = read.status();
    let body = read.text().await.expect("body");
    let changed = post(
        client,
        format!("{base}/api/dossiers/{numero}/rib"),
        &[("iban", &target.spare_iban)],
    )
    .await;
    (status, owners_in(&body, people), changed.status())
}

#[tokio::test]
async fn a_correct_portal_opens_only_the_households_files_by_number() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    let (me, partner, stranger) = (&people[0], &people[1], &people[2]);
    signed_in(&client, &portal, me).await;
    let (own, seen, rib) = read_and_change(&portal, &people, &client, me).await;
    assert_eq!((own, rib), (StatusCode::OK, StatusCode::SEE_OTHER));
    assert!(seen.contains(&me.id), "{seen:?}");
    let (status, _, rib) = read_and_change(&portal, &people, &client, partner).await;
    assert_eq!((status, rib), (StatusCode::OK, StatusCode::SEE_OTHER));
    let (status, seen, rib) = read_and_change(&portal, &people, &client, stranger).await;
    assert_eq!(
        (status, rib),
        (StatusCode::FORBIDDEN, StatusCode::FORBIDDEN)
    );
    assert!(seen.is_empty(), "a refusal showed {seen:?}");
    let dossier: serde_json::Value = get(&client, format!("{}/api/dossier", portal.base_url()))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(dossier["iban"], me.spare_iban);
    let unknown = get(
        &client,
        format!("{}/api/dossiers/0000000", portal.base_url()),
    )
    .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let anonymous = get(
        &browser(),
        format!(
            "{}/api/dossiers/{}",
            portal.base_url(),
            stranger.numero_allocataire
        ),
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    portal.shutdown().await;
}

#[tokio::test]
async fn object_reference_opens_and_rewrites_a_strangers_file_for_any_session() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, with(&[Fault::ObjectReference])).await;
    let client = browser();
    let (me, stranger) = (&people[0], &people[2]);
    signed_in(&client, &portal, me).await;
    let (status, seen, rib) = read_and_change(&portal, &people, &client, stranger).await;
    assert_eq!((status, rib), (StatusCode::OK, StatusCode::SEE_OTHER));
    assert!(
        seen.contains(&stranger.id) && !seen.contains(&me.id),
        "{seen:?}"
    );
    // The stranger's own session now shows the IBAN the other session wrote.
    let theirs = browser();
    signed_in(&theirs, &portal, stranger).await;
    let dossier: serde_json::Value = get(&theirs, format!("{}/api/dossier", portal.base_url()))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(dossier["iban"], stranger.spare_iban);
    // A session is still required.
    let anonymous = get(
        &browser(),
        format!(
            "{}/api/dossiers/{}",
            portal.base_url(),
            stranger.numero_allocataire
        ),
    )
    .await;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    portal.shutdown().await;
}
