//! The caches in front of the whole portal. `default-cdn-cache`: personal pages that forgot
//! `Cache-Control` are stored and served to the next reader and to anonymous visitors.
//! `cache-deception`: the owner's page fetched under a static-looking suffix is stored and served
//! to whoever asks for that URL. `missing-cache-control`: the header is gone, nothing leaks. Off,
//! personal pages say `private, no-store` and suffixed paths are 404.

use super::*;

const PERSONAL: [&str; 3] = ["/mon-compte", "/api/dossier", "/api/paiements"];

#[tokio::test]
async fn with_default_cdn_cache_the_first_readers_pages_are_served_to_everyone() {
    let people = fixtures::beneficiaries();
    let (a, b) = (&people[0], &people[2]);
    let config = PortalConfig {
        cache_ttl: Duration::from_secs(60),
        ..with(&[Fault::DefaultCdnCache])
    };
    let portal = serve(&people, config).await;
    let base = portal.base_url();
    let browsers = browsers_signed_in(&portal, &[a.clone(), b.clone()]).await;
    for path in PERSONAL {
        let first = get(&browsers[0], format!("{base}{path}")).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        assert_eq!(
            header(&first, "cache-control"),
            None,
            "{path}: forgot the header"
        );
        assert_eq!(header(&first, "x-cache"), Some("MISS"), "{path}");
        assert!(owners_in(&first.text().await.expect("body"), &people).contains(&a.id));
        for reader in [&browsers[1], &browser()] {
            let leaked = get(reader, format!("{base}{path}")).await;
            assert_eq!(header(&leaked, "x-cache"), Some("HIT"), "{path}");
            assert!(header(&leaked, "age").is_some(), "{path}");
            let body = leaked.text().await.expect("body");
            assert!(owners_in(&body, &people).contains(&a.id), "{path}: {body}");
        }
    }
    // Responses that say how to cache, or set a cookie, are not stored.
    for path in ["/", "/connexion", "/static/site.css"] {
        get(&browser(), format!("{base}{path}")).await;
        let again = get(&browser(), format!("{base}{path}")).await;
        assert_eq!(header(&again, "x-cache"), None, "{path}");
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn with_cache_deception_a_suffixed_personal_path_is_stored_and_served_to_others() {
    let people = fixtures::beneficiaries();
    let (a, b) = (&people[0], &people[2]);
    let config = PortalConfig {
        cache_ttl: Duration::from_secs(60),
        ..with(&[Fault::CacheDeception])
    };
    let portal = serve(&people, config).await;
    let base = portal.base_url();
    let browsers = browsers_signed_in(&portal, &[a.clone(), b.clone()]).await;
    for path in [
        "/mon-compte/crossleak.css",
        "/mon-compte;crossleak.js",
        "/api/dossier/crossleak.css",
        "/api/paiements;crossleak.js",
    ] {
        let first = get(&browsers[0], format!("{base}{path}")).await;
        assert_eq!(first.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&first, "x-cache"), Some("MISS"), "{path}");
        assert_eq!(header(&first, "cache-control"), Some("private, no-store"));
        for reader in [&browsers[1], &browser()] {
            let leaked = get(reader, format!("{base}{path}")).await;
            assert_eq!(header(&leaked, "x-cache"), Some("HIT"), "{path}");
            let body = leaked.text().await.expect("body");
            assert!(shows_only(&body, &people, a), "{path}: {body}");
        }
    }
    // Served leniently but not cached: no static extension. Each reader gets their own.
    for path in ["/mon-compte/%2F..", "/api/dossier.json", "/mon-compte/"] {
        for (person, reader) in [a, b].into_iter().zip(&browsers) {
            let own = get(reader, format!("{base}{path}")).await;
            assert_eq!(own.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&own, "x-cache"), None, "{path}");
            let body = own.text().await.expect("body");
            assert!(shows_only(&body, &people, person), "{path}: {body}");
        }
    }
    // The plain page is not cached, and real routes below it keep their handlers.
    let plain = get(&browsers[1], format!("{base}/mon-compte")).await;
    assert_eq!(header(&plain, "x-cache"), None);
    assert!(shows_only(&plain.text().await.expect("body"), &people, b));
    let rib = get(&browsers[1], format!("{base}/mon-compte/rib")).await;
    assert_eq!(rib.status(), StatusCode::METHOD_NOT_ALLOWED);
    portal.shutdown().await;
}

#[tokio::test]
async fn without_cache_deception_suffixed_paths_are_404_and_nothing_is_cached() {
    let people = fixtures::beneficiaries();
    let portal = serve(&people, PortalConfig::default()).await;
    let base = portal.base_url();
    let client = browser();
    signed_in(&client, &portal, &people[0]).await;
    for path in [
        "/mon-compte/crossleak.css",
        "/mon-compte;crossleak.js",
        "/mon-compte/%2F..",
        "/api/dossier.json",
        "/api/paiements/x.png",
    ] {
        let response = get(&client, format!("{base}{path}")).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(owners_in(&response.text().await.expect("body"), &people).is_empty());
    }
    for path in PERSONAL {
        let response = get(&client, format!("{base}{path}")).await;
        assert_eq!(
            header(&response, "cache-control"),
            Some("private, no-store")
        );
        assert_eq!(header(&response, "x-cache"), None);
    }
    portal.shutdown().await;
}

#[tokio::test]
async fn with_missing_cache_control_the_header_is_gone_and_each_reader_still_gets_their_own() {
    let people = fixtures::beneficiaries();
    let (a, b) = (&people[0], &people[2]);
    let portal = serve(&people, with(&[Fault::MissingCacheControl])).await;
    let base = portal.base_url();
    let browsers = browsers_signed_in(&portal, &[a.clone(), b.clone()]).await;
    for path in PERSONAL {
        for (person, reader) in [a, b].into_iter().zip(&browsers) {
            let response = get(reader, format!("{base}{path}")).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            assert_eq!(header(&response, "cache-control"), None, "{path}");
            assert_eq!(header(&response, "x-cache"), None, "{path}");
            let body = response.text().await.expect("body");
            assert!(shows_only(&body, &people, person), "{path}: {body}");
        }
    }
    // Public and redirect responses keep theirs.
    let login = get(&browser(), format!("{base}/connexion")).await;
    assert_eq!(header(&login, "cache-control"), Some("no-store"));
    portal.shutdown().await;
}

#[tokio::test]
async fn every_fault_at_once_starts_and_serves_a_lone_user_their_file() {
    let people = fixtures::beneficiaries();
    let portal = serve(
        &people,
        PortalConfig::with_faults(Fault::all().iter().copied()),
    )
    .await;
    let client = browser();
    let person = &people[3];
    let login = login_nir(
        &client,
        &portal,
        person.nir.body().as_str(),
        &person.password,
    )
    .await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    for path in PERSONAL {
        let response = get(&client, format!("{}{path}", portal.base_url())).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let body = response.text().await.expect("body");
        assert_eq!(owners_in(&body, &people), [person.id], "{path}");
    }
    portal.shutdown().await;
}
