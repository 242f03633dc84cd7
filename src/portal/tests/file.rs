//! The beneficiary's file: its pages show only that person (and household partner), to each user their own,
//! and a RIB change is what the next read shows.

use super::*;
use crate::portal::pages;
use tokio::task::JoinSet;

#[tokio::test]
async fn account_page_shows_own_file_and_partner_and_nothing_of_anyone_else() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    let (me, partner) = (&people[0], &people[1]);
    signed_in(&client, &portal, me).await;
    let page = get(&client, format!("{}/mon-compte", portal.base_url())).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(header(&page, "cache-control"), Some("private, no-store"));
    assert!(header(&page, "content-type").is_some_and(|t| t.starts_with("text/html")));
    assert!(header(&page, "x-cache").is_none());
    let body = page.text().await.expect("body");
    for own in [
        "Zoé",
        "Lefèvre",
        me.numero_allocataire.as_str(),
        &me.nir.spaced(),
        &me.street,
        &me.postcode,
        &me.city,
        &pages::phone_spaced(&me.phone),
        &me.email,
        &crate::identifiers::Iban::parse(&me.iban)
            .expect("iban")
            .grouped(),
        "139,00 €",
        "Aide personnalisée au logement",
    ] {
        assert!(body.contains(own), "missing {own:?}");
    }
    let partner_line = format!(
        "Conjoint·e : Étienne N'Diaye, n° allocataire {}",
        partner.numero_allocataire
    );
    assert!(body.contains(&partner_line), "{body}");
    assert_no_foreign_data(&body, me, &[partner, &people[2], &people[3]]);
    portal.shutdown().await;
}

#[tokio::test]
async fn dossier_json_carries_own_fields_and_the_household_only() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    let me = &people[1];
    signed_in(&client, &portal, me).await;
    let response = get(&client, format!("{}/api/dossier", portal.base_url())).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        header(&response, "cache-control"),
        Some("private, no-store")
    );
    assert!(header(&response, "content-type").is_some_and(|t| t.starts_with("application/json")));
    let body = response.text().await.expect("body");
    assert_no_foreign_data(&body, me, &[&people[0], &people[2], &people[3]]);
    let dossier: serde_json::Value = serde_json::from_str(&body).expect("json");
    let expected = serde_json::json!({
        "numero_allocataire": me.numero_allocataire.as_str(),
        "nir": me.nir.as_str(),
        "prenom": "Étienne",
        "nom": "N'Diaye",
        "adresse": {"rue": me.street, "code_postal": me.postcode, "ville": me.city},
        "telephone": me.phone,
        "email": me.email,
        "iban": me.iban,
        "statut_mot_de_passe": "changed",
        "paiements": [
            {"date": "2021-09-05", "libelle": "Allocations familiales", "montant_centimes": 13_901},
            {"date": "2021-10-05", "libelle": "Aide personnalisée au logement", "montant_centimes": 24_100},
        ],
        "foyer": [{"prenom": "Zoé", "nom": "Lefèvre", "numero_allocataire": people[0].numero_allocataire.as_str()}],
    });
    assert_eq!(dossier, expected);
    portal.shutdown().await;
}

#[tokio::test]
async fn concurrent_users_with_their_own_cookie_jars_each_see_their_own_file() {
    let people = fixtures::crowd(60);
    let portal = serve(&people, PortalConfig::default()).await;
    let base = portal.base_url();
    let mut users = JoinSet::new();
    for (index, me) in people.iter().cloned().enumerate() {
        let base = base.clone();
        users.spawn(async move {
            let client = browser();
            let path = if index % 2 == 0 { "allocataire" } else { "nir" };
            let (field, value) = match path {
                "allocataire" => (
                    "numero_allocataire",
                    me.numero_allocataire.as_str().to_owned(),
                ),
                _ => ("nir", me.nir.body().as_str().to_owned()),
            };
            let login = post(
                &client,
                format!("{base}/connexion/{path}"),
                &[
                    (field, value.as_str()),
                    ("mot_de_passe", me.password.as_str()),
                ],
            )
            .await;
            assert_eq!(login.status(), StatusCode::SEE_OTHER);
            let mut seen = Vec::new();
            for _ in 0..3 {
                let page = get(&client, format!("{base}/mon-compte"))
                    .await
                    .text()
                    .await
                    .expect("body");
                assert!(
                    page.contains(&me.email),
                    "owner {} got someone else's page",
                    me.id
                );
                let dossier: serde_json::Value = get(&client, format!("{base}/api/dossier"))
                    .await
                    .json()
                    .await
                    .expect("json");
                assert_eq!(
                    dossier["numero_allocataire"],
                    me.numero_allocataire.as_str()
                );
                seen.push(page);
            }
            (me, seen)
        });
    }
    let mut pages_by_owner = Vec::new();
    while let Some(done) = users.join_next().await {
        pages_by_owner.push(done.expect("user task"));
    }
    let everyone: Vec<&Beneficiary> = people.iter().collect();
    for (me, seen) in &pages_by_owner {
        let others: Vec<&Beneficiary> =
            everyone.iter().copied().filter(|p| p.id != me.id).collect();
        for page in seen {
            assert_no_foreign_data(page, me, &others);
        }
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn rib_change_is_what_the_next_read_shows_and_an_invalid_iban_is_400() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let base = portal.base_url();
    let client = browser();
    let me = &people[2];
    signed_in(&client, &portal, me).await;
    let spare = crate::identifiers::Iban::parse(&me.spare_iban).expect("iban");
    let changed = post(
        &client,
        format!("{base}/mon-compte/rib"),
        &[("iban", &spare.grouped())],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&changed, "location"), Some("/mon-compte"));
    let dossier: serde_json::Value = get(&client, format!("{base}/api/dossier"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(dossier["iban"], me.spare_iban);
    let page = get(&client, format!("{base}/mon-compte"))
        .await
        .text()
        .await
        .expect("body");
    assert!(page.contains(&spare.grouped()));
    let mut broken = me.iban.clone();
    broken.replace_range(2..4, "00");
    let refused = post(
        &client,
        format!("{base}/mon-compte/rib"),
        &[("iban", &broken)],
    )
    .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let expected = crate::identifiers::Iban::parse(&broken)
        .expect_err("bad checksum")
        .to_string();
    assert!(refused
        .text()
        .await
        .expect("body")
        .contains(&pages::escape(&expected)));
    let dossier: serde_json::Value = get(&client, format!("{base}/api/dossier"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(
        dossier["iban"], me.spare_iban,
        "a refused change leaves the IBAN as it was"
    );
    portal.shutdown().await;
}
