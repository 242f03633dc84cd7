//! The migration's cut-over: the NIR login closed (403) until an admin with the right token opens it
//! at run time; the numéro allocataire login is open throughout.

use super::*;
use crate::portal::DEFAULT_ADMIN_TOKEN;

async fn switch(portal: &RunningPortal, token: Option<&str>, active: &str) -> Response {
    let mut request = browser()
        .post(format!("{}/admin/connexion-nir", portal.base_url()))
        .form(&[("active", active)]);
    if let Some(token) = token {
        request = request.header("x-admin-token", token);
    }
    request.send().await.expect("request")
}

#[tokio::test]
async fn the_nir_login_stays_closed_until_an_admin_opens_it_and_closes_again() {
    let people = fixtures::beneficiaries();
    let config = PortalConfig {
        nir_login: false,
        ..PortalConfig::default()
    };
    let portal = serve(&people, config).await;
    let person = &people[3];
    let body = person.nir.body();
    let closed = login_nir(&browser(), &portal, body.as_str(), &person.password).await;
    assert_eq!(closed.status(), StatusCode::FORBIDDEN);
    assert!(closed.headers().get(SET_COOKIE).is_none());
    let page = closed.text().await.expect("body");
    assert!(
        page.contains("la connexion par NIR n'est pas encore ouverte"),
        "{page}"
    );
    // The legacy path is open throughout.
    signed_in(&browser(), &portal, person).await;
    for (token, active, status) in [
        (None, "1", StatusCode::FORBIDDEN),
        (Some("wrong"), "1", StatusCode::FORBIDDEN),
        (Some(""), "1", StatusCode::FORBIDDEN),
        (Some(DEFAULT_ADMIN_TOKEN), "oui", StatusCode::BAD_REQUEST),
    ] {
        let response = switch(&portal, token, active).await;
        assert_eq!(response.status(), status, "{token:?} {active}");
        assert_eq!(header(&response, "cache-control"), Some("no-store"));
        let still = login_nir(&browser(), &portal, body.as_str(), &person.password).await;
        assert_eq!(still.status(), StatusCode::FORBIDDEN, "{token:?} {active}");
    }
    let opened = switch(&portal, Some(DEFAULT_ADMIN_TOKEN), "1").await;
    assert_eq!(opened.status(), StatusCode::OK);
    let state: serde_json::Value = opened.json().await.expect("json");
    assert_eq!(state, serde_json::json!({"connexion_nir": true}));
    let open = login_nir(&browser(), &portal, body.as_str(), &person.password).await;
    assert_eq!(open.status(), StatusCode::SEE_OTHER);
    session_cookie(open.headers());
    let closed_again = switch(&portal, Some(DEFAULT_ADMIN_TOKEN), "0").await;
    assert_eq!(closed_again.status(), StatusCode::OK);
    let refused = login_nir(&browser(), &portal, body.as_str(), &person.password).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    portal.shutdown().await;
}

#[tokio::test]
async fn a_portal_with_its_own_admin_token_refuses_the_default_one_and_an_empty_one_is_refused() {
    let people = fixtures::beneficiaries();
    let config = PortalConfig {
        nir_login: false,
        admin_token: "secret-de-recette".into(),
        ..PortalConfig::default()
    };
    let portal = serve(&people, config.clone()).await;
    let default = switch(&portal, Some(DEFAULT_ADMIN_TOKEN), "1").await;
    assert_eq!(default.status(), StatusCode::FORBIDDEN);
    let own = switch(&portal, Some("secret-de-recette"), "1").await;
    assert_eq!(own.status(), StatusCode::OK);
    portal.shutdown().await;
    let empty = PortalConfig {
        admin_token: " ".into(),
        ..config
    };
    let error = crate::portal::router(people, empty).expect_err("empty token");
    assert!(matches!(error, crate::portal::PortalError::EmptyAdminToken));
}
