//! Login paths, logout, password change, and the rules every response follows (content type, 404, cache headers).

use super::*;
use crate::identifiers::NirBody;
use crate::portal::pages;

#[tokio::test]
async fn login_by_numero_allocataire_sets_an_http_only_session_cookie() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    signed_in(&client, &portal, &people[2]).await;
    let page = get(&client, format!("{}/mon-compte", portal.base_url())).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.expect("body").contains("Anaïs Müller"));
    portal.shutdown().await;
}

#[tokio::test]
async fn login_by_nir_accepts_the_13_character_form_and_the_full_nir_compact_or_spaced() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let person = &people[3];
    for typed in [
        person.nir.body().as_str().to_owned(),
        person.nir.as_str().to_owned(),
        person.nir.spaced(),
    ] {
        let client = browser();
        let response = login_nir(&client, &portal, &typed, &person.password).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{typed}");
        session_cookie(response.headers());
        let dossier: serde_json::Value = get(&client, format!("{}/api/dossier", portal.base_url()))
            .await
            .json()
            .await
            .expect("json");
        assert_eq!(dossier["nir"], person.nir.as_str(), "{typed}");
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn wrong_password_or_unknown_account_is_401_on_both_paths() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    let person = &people[0];
    let wrong =
        login_allocataire(&client, &portal, person.numero_allocataire.as_str(), "nope").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert!(wrong.headers().get(SET_COOKIE).is_none());
    let wrong = login_nir(
        &client,
        &portal,
        person.nir.body().as_str(),
        &people[1].password,
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let unknown = login_allocataire(&client, &portal, "9999999", &person.password).await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    assert!(unknown.text().await.expect("body").contains("incorrect"));
    portal.shutdown().await;
}

#[tokio::test]
async fn malformed_identifiers_are_400_with_the_strict_parsers_message() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    let password = &people[0].password;
    let mut wrong_key = people[0].nir.as_str().to_owned();
    let key = people[0].nir.key();
    wrong_key.replace_range(13.., &format!("{:02}", (key % 97) + 1));
    for typed in ["1841275", "3841275123456", "1 84 12 75", wrong_key.as_str()] {
        let response = login_nir(&client, &portal, typed, password).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{typed}");
        let expected = if typed.contains(' ') || typed.len() == 15 {
            crate::identifiers::Nir::parse(typed)
                .expect_err("malformed")
                .to_string()
        } else {
            NirBody::parse(typed).expect_err("malformed").to_string()
        };
        let body = response.text().await.expect("body");
        assert!(body.contains(&pages::escape(&expected)), "{typed}: {body}");
    }
    let response = login_allocataire(&client, &portal, "12 345", password).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let expected = crate::identifiers::NumeroAllocataire::parse("12 345").expect_err("malformed");
    assert!(response
        .text()
        .await
        .expect("body")
        .contains(&pages::escape(&expected.to_string())));
    portal.shutdown().await;
}

#[tokio::test]
async fn logout_makes_the_old_cookie_useless() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let client = browser();
    let token = signed_in(&client, &portal, &people[0]).await;
    let out = post(&client, format!("{}/deconnexion", portal.base_url()), &[]).await;
    assert_eq!(out.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&out, "location"), Some("/connexion"));
    assert!(header(&out, "set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    // Someone who kept a copy of the cookie replays it.
    let replay = browser();
    let cookie = format!("{COOKIE_NAME}={token}");
    let page = replay
        .get(format!("{}/mon-compte", portal.base_url()))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&page, "location"), Some("/connexion"));
    let json = replay
        .get(format!("{}/api/dossier", portal.base_url()))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("request");
    assert_eq!(json.status(), StatusCode::UNAUTHORIZED);
    let error: serde_json::Value = json.json().await.expect("json");
    assert!(error["error"].is_string());
    portal.shutdown().await;
}

#[tokio::test]
async fn password_change_makes_the_old_password_fail_and_closes_other_sessions() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let person = &people[0];
    let base = portal.base_url();
    let (client, elsewhere) = (browser(), browser());
    signed_in(&client, &portal, person).await;
    signed_in(&elsewhere, &portal, person).await;
    let url = || format!("{base}/mon-compte/mot-de-passe");
    let wrong = post(
        &client,
        url(),
        &[("ancien", "nope"), ("nouveau", "un-nouveau-secret")],
    )
    .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let short = post(
        &client,
        url(),
        &[("ancien", &person.password), ("nouveau", "court")],
    )
    .await;
    assert_eq!(short.status(), StatusCode::BAD_REQUEST);
    let changed = post(
        &client,
        url(),
        &[
            ("ancien", &person.password),
            ("nouveau", "un-nouveau-secret"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(header(&changed, "location"), Some("/mon-compte"));
    let dossier: serde_json::Value = get(&client, format!("{base}/api/dossier"))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(dossier["statut_mot_de_passe"], "changed");
    let other = get(&elsewhere, format!("{base}/api/dossier")).await;
    assert_eq!(
        other.status(),
        StatusCode::UNAUTHORIZED,
        "the other session knew only the old password"
    );
    let numero = person.numero_allocataire.as_str();
    let old = login_allocataire(&browser(), &portal, numero, &person.password).await;
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let new = login_allocataire(&browser(), &portal, numero, "un-nouveau-secret").await;
    assert_eq!(new.status(), StatusCode::SEE_OTHER);
    portal.shutdown().await;
}

#[tokio::test]
async fn every_response_has_a_content_type_and_unknown_paths_are_404() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let base = portal.base_url();
    let client = browser();
    let expectations = [
        ("GET", "/", StatusCode::OK),
        ("GET", "/static/site.css", StatusCode::OK),
        ("GET", "/connexion", StatusCode::OK),
        ("GET", "/mon-compte", StatusCode::SEE_OTHER),
        ("GET", "/api/dossier", StatusCode::UNAUTHORIZED),
        ("POST", "/mon-compte/rib", StatusCode::UNAUTHORIZED),
        ("POST", "/deconnexion", StatusCode::SEE_OTHER),
        ("GET", "/deconnexion", StatusCode::METHOD_NOT_ALLOWED),
        ("GET", "/nulle-part", StatusCode::NOT_FOUND),
        ("GET", "/mon-compte/", StatusCode::NOT_FOUND),
    ];
    for (method, path, status) in expectations {
        let request = match method {
            "GET" => client.get(format!("{base}{path}")),
            _ => client.post(format!("{base}{path}")).form(&[("iban", "")]),
        };
        let response = request.send().await.expect("request");
        assert_eq!(response.status(), status, "{method} {path}");
        assert!(
            header(&response, "content-type").is_some(),
            "{method} {path}"
        );
        assert!(
            header(&response, "cache-control").is_some(),
            "{method} {path}"
        );
    }
    let css = get(&client, format!("{base}/static/site.css")).await;
    assert_eq!(header(&css, "cache-control"), Some("public, max-age=3600"));
    assert!(header(&css, "content-type").is_some_and(|t| t.starts_with("text/css")));
    let login = get(&client, format!("{base}/connexion"))
        .await
        .text()
        .await
        .expect("body");
    for field in [
        "numero_allocataire",
        "nir",
        "mot_de_passe",
        "/connexion/allocataire",
        "/connexion/nir",
    ] {
        assert!(login.contains(&format!("\"{field}\"")), "{field}");
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn binding_a_busy_port_is_an_error_and_shutdown_closes_the_port() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let busy = start(people.clone(), PortalConfig::default(), portal.addr()).await;
    assert!(matches!(busy, Err(crate::portal::PortalError::Bind { .. })));
    let base = portal.base_url();
    portal.shutdown().await;
    let after = browser().get(format!("{base}/")).send().await;
    assert!(after.is_err(), "the port still answers after shutdown");
}
