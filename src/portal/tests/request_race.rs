//! The `request-state-race` fault: personal reads in flight at the same time render each other's
//! files; one at a time they never do; the correct portal never does.

use super::*;

const USERS: u32 = 16;
const ROUNDS: usize = 5;

/// `ROUNDS` crowds of `USERS` reading `path` together; the number of misdirected responses.
async fn crowds(config: PortalConfig, path: &str) -> usize {
    let people = fixtures::crowd(USERS);
    let portal = serve(&people, config).await;
    let browsers = browsers_signed_in(&portal, &people).await;
    let mut total = 0;
    for _ in 0..ROUNDS {
        let seen = read_together(&portal.base_url(), path, &people, &browsers).await;
        total += misdirected(&seen);
    }
    portal.shutdown().await;
    total
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_request_state_race_concurrent_readers_see_each_others_files() {
    for path in ["/mon-compte", "/api/dossier"] {
        let leaked = crowds(with(&[Fault::RequestStateRace]), path).await;
        assert!(leaked > 0, "{path}: no crowd of {USERS} raced");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_request_state_race_the_same_crowds_see_their_own() {
    for path in ["/mon-compte", "/api/dossier"] {
        assert_eq!(crowds(PortalConfig::default(), path).await, 0, "{path}");
    }
}

#[tokio::test]
async fn with_request_state_race_one_request_at_a_time_never_shows_it() {
    let people = fixtures::crowd(4);
    let portal = serve(&people, with(&[Fault::RequestStateRace])).await;
    let browsers = browsers_signed_in(&portal, &people).await;
    for _ in 0..5 {
        for (person, client) in people.iter().zip(&browsers) {
            let body = get(client, format!("{}/mon-compte", portal.base_url()))
                .await
                .text()
                .await
                .expect("body");
            assert_eq!(owners_in(&body, &people), [person.id]);
        }
    }
    portal.shutdown().await;
}
