//! The `simultaneous-access` fault: beneficiaries who open `/api/paiements` at the same instant get
//! one statement, the first one's; spaced out, or with the fault off, each gets their own.

use super::*;
use crate::portal::memo::BUCKET;

async fn crowd_reads_payments(config: PortalConfig) -> Vec<(OwnerId, Vec<OwnerId>)> {
    let people = fixtures::crowd(16);
    let portal = serve(&people, config).await;
    let browsers = browsers_signed_in(&portal, &people).await;
    let mut seen = Vec::new();
    for _ in 0..3 {
        seen.extend(read_together(&portal.base_url(), "/api/paiements", &people, &browsers).await);
    }
    portal.shutdown().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_simultaneous_access_a_crowd_gets_one_statement() {
    let seen = crowd_reads_payments(with(&[Fault::SimultaneousAccess])).await;
    // Every response shows exactly one file; most of a crowd's are someone else's.
    assert!(seen.iter().all(|(_, shown)| shown.len() == 1), "{seen:?}");
    let leaked = misdirected(&seen);
    assert!(leaked >= seen.len() / 2, "{leaked} of {}", seen.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_simultaneous_access_a_crowd_gets_its_own_statements() {
    let seen = crowd_reads_payments(PortalConfig::default()).await;
    assert_eq!(misdirected(&seen), 0, "{seen:?}");
}

#[tokio::test]
async fn with_simultaneous_access_readers_spaced_beyond_a_bucket_get_their_own() {
    let people = fixtures::crowd(3);
    let portal = serve(&people, with(&[Fault::SimultaneousAccess])).await;
    let browsers = browsers_signed_in(&portal, &people).await;
    for (person, client) in people.iter().zip(&browsers) {
        tokio::time::sleep(BUCKET * 2).await;
        let response = get(client, format!("{}/api/paiements", portal.base_url())).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(
            header(&response, "cache-control"),
            Some("private, no-store")
        );
        let statement: serde_json::Value = response.json().await.expect("json");
        assert_eq!(
            statement["numero_allocataire"],
            person.numero_allocataire.as_str()
        );
        assert_eq!(statement["paiements"][0]["date"], "2021-09-05");
    }
    portal.shutdown().await;
}
