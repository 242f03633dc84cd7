//! The `shared-cache` fault: with it on, the next user of `/mon-compte` or `/api/dossier` gets the first one's
//! response (`X-Cache: HIT`); with it off, never.

use super::*;
use crate::portal::Fault;

fn with_cache(ttl: Duration) -> PortalConfig {
    PortalConfig {
        cache_ttl: ttl,
        ..PortalConfig::with_faults([Fault::SharedCache])
    }
}

#[tokio::test]
async fn with_shared_cache_b_receives_a_s_page_and_json_from_the_cache() {
    let people = fixtures::beneficiaries();
    let (a, b) = (&people[0], &people[2]);
    // A long TTL keeps the test independent of timing; expiry has its own test.
    let portal = serve(&people, with_cache(Duration::from_secs(60))).await;
    let base = portal.base_url();
    let (alice, bob) = (browser(), browser());
    signed_in(&alice, &portal, a).await;
    signed_in(&bob, &portal, b).await;
    for path in ["/mon-compte", "/api/dossier"] {
        let first = get(&alice, format!("{base}{path}")).await;
        assert_eq!(header(&first, "x-cache"), Some("MISS"), "{path}");
        assert!(first.text().await.expect("body").contains(&a.email));
        let second = get(&bob, format!("{base}{path}")).await;
        assert_eq!(second.status(), StatusCode::OK);
        assert_eq!(header(&second, "x-cache"), Some("HIT"), "{path}");
        assert!(header(&second, "age").is_some(), "{path}");
        assert_eq!(
            header(&second, "cache-control"),
            Some("private, no-store"),
            "the origin's header is passed through: the evidence of a misconfigured cache"
        );
        let leaked = second.text().await.expect("body");
        assert!(
            leaked.contains(&a.email),
            "{path}: B should receive A's response"
        );
        assert!(!leaked.contains(&b.email), "{path}");
        // Even an anonymous visitor is served A's file.
        let anonymous = get(&browser(), format!("{base}{path}")).await;
        assert_eq!(header(&anonymous, "x-cache"), Some("HIT"), "{path}");
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn with_shared_cache_entries_expire_after_the_ttl_and_redirects_are_not_stored() {
    let people = fixtures::beneficiaries();
    let (a, b) = (&people[0], &people[2]);
    let portal = serve(&people, with_cache(Duration::from_millis(200))).await;
    let base = portal.base_url();
    let anonymous = get(&browser(), format!("{base}/mon-compte")).await;
    assert_eq!(anonymous.status(), StatusCode::SEE_OTHER);
    let (alice, bob) = (browser(), browser());
    signed_in(&alice, &portal, a).await;
    signed_in(&bob, &portal, b).await;
    let first = get(&alice, format!("{base}/mon-compte")).await;
    assert_eq!(
        header(&first, "x-cache"),
        Some("MISS"),
        "the redirect was not stored"
    );
    tokio::time::sleep(Duration::from_millis(400)).await;
    let after = get(&bob, format!("{base}/mon-compte")).await;
    assert_eq!(header(&after, "x-cache"), Some("MISS"));
    assert!(after.text().await.expect("body").contains(&b.email));
    portal.shutdown().await;
}

#[tokio::test]
async fn without_shared_cache_b_never_receives_a_s_page() {
    let people = fixtures::beneficiaries();
    let (a, b) = (&people[0], &people[2]);
    let portal = serve(&people, PortalConfig::default()).await;
    let base = portal.base_url();
    let (alice, bob) = (browser(), browser());
    signed_in(&alice, &portal, a).await;
    signed_in(&bob, &portal, b).await;
    for _ in 0..20 {
        for path in ["/mon-compte", "/api/dossier"] {
            get(&alice, format!("{base}{path}")).await;
            let mine = get(&bob, format!("{base}{path}")).await;
            assert!(header(&mine, "x-cache").is_none());
            let body = mine.text().await.expect("body");
            assert!(body.contains(&b.email));
            assert_no_foreign_data(&body, b, &[a]);
        }
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn shared_cache_with_a_zero_ttl_is_refused() {
    let error = crate::portal::router(fixtures::beneficiaries(), with_cache(Duration::ZERO))
        .expect_err("inert fault");
    assert!(matches!(
        error,
        crate::portal::PortalError::ZeroCacheTtl {
            fault: Fault::SharedCache
        }
    ));
}
