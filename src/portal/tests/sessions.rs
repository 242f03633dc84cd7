//! The session faults. `weak-session-id`: a crowd of logins shares tokens, and an earlier user's
//! cookie opens a later user's file. `stale-session`: a cookie kept after logout or a password
//! change still opens the file. With either fault off, neither happens.

use super::*;
use std::collections::HashMap;
use tokio::task::JoinSet;

const CROWD: u32 = 32;
const ROUNDS: usize = 10;

/// Crowds of `CROWD` logins released together, then every user reads `/api/dossier` with the
/// cookie their login set. Returns (tokens issued to more than one user, misdirected reads).
async fn crowd_logins(config: PortalConfig) -> (usize, usize) {
    let people = fixtures::crowd(CROWD);
    let portal = serve(&people, config).await;
    let (mut shared_tokens, mut misdirected_reads) = (0, 0);
    for _ in 0..ROUNDS {
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(people.len()));
        let mut logins = JoinSet::new();
        for person in people.iter().cloned() {
            let (base, barrier) = (portal.base_url(), std::sync::Arc::clone(&barrier));
            logins.spawn(async move {
                let client = browser();
                barrier.wait().await;
                let response = post(
                    &client,
                    format!("{base}/connexion/allocataire"),
                    &[
                        ("numero_allocataire", person.numero_allocataire.as_str()),
                        ("mot_de_passe", &person.password),
                    ],
                )
                .await;
                assert_eq!(response.status(), StatusCode::SEE_OTHER);
                (person.id, session_cookie(response.headers()), client)
            });
        }
        let mut sessions = Vec::new();
        while let Some(done) = logins.join_next().await {
            sessions.push(done.expect("login"));
        }
        let mut holders: HashMap<&str, usize> = HashMap::new();
        for (_, token, _) in &sessions {
            *holders.entry(token.as_str()).or_default() += 1;
        }
        shared_tokens += holders.values().filter(|n| **n > 1).count();
        for (me, _, client) in &sessions {
            let body = get(client, format!("{}/api/dossier", portal.base_url()))
                .await
                .text()
                .await
                .expect("body");
            let shown = owners_in(&body, &people);
            misdirected_reads += usize::from(shown.iter().any(|owner| owner != me));
        }
    }
    portal.shutdown().await;
    (shared_tokens, misdirected_reads)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_weak_session_id_a_crowd_of_logins_shares_tokens_and_files() {
    let (shared, misdirected) = crowd_logins(with(&[Fault::WeakSessionId])).await;
    assert!(
        shared > 0,
        "no two logins of {ROUNDS} crowds fell in one millisecond"
    );
    assert!(
        misdirected > 0,
        "{shared} shared tokens but no misdirected read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_weak_session_id_every_login_gets_its_own_token_and_file() {
    assert_eq!(crowd_logins(PortalConfig::default()).await, (0, 0));
}

/// Logs in on two devices, copies the first device's cookie, changes the password on the second
/// and logs the first out; returns the statuses of reading `/api/dossier` with the copied cookie
/// and with the second device's pre-change session kept on a third device.
async fn replay_after_logout_and_password_change(config: PortalConfig) -> (StatusCode, StatusCode) {
    let people = fixtures::beneficiaries();
    let person = &people[2];
    let portal = serve(&people, config).await;
    let base = portal.base_url();
    let (laptop, phone) = (browser(), browser());
    let copied = signed_in(&laptop, &portal, person).await;
    let kept = signed_in(&browser(), &portal, person).await;
    signed_in(&phone, &portal, person).await;
    let changed = post(
        &phone,
        format!("{base}/mon-compte/mot-de-passe"),
        &[
            ("ancien", &person.password),
            ("nouveau", "un-nouveau-secret"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    let out = post(&laptop, format!("{base}/deconnexion"), &[]).await;
    assert!(header(&out, "set-cookie").is_some_and(|c| c.contains("Max-Age=0")));
    let mut statuses = Vec::new();
    for token in [&copied, &kept] {
        let replay = browser()
            .get(format!("{base}/api/dossier"))
            .header("cookie", format!("{COOKIE_NAME}={token}"))
            .send()
            .await
            .expect("request");
        let status = replay.status();
        if status == StatusCode::OK {
            let body = replay.text().await.expect("body");
            assert_eq!(owners_in(&body, &people), [person.id]);
        }
        statuses.push(status);
    }
    portal.shutdown().await;
    (statuses[0], statuses[1])
}

#[tokio::test]
async fn with_stale_session_cookies_survive_logout_and_password_change() {
    let statuses = replay_after_logout_and_password_change(with(&[Fault::StaleSession])).await;
    assert_eq!(statuses, (StatusCode::OK, StatusCode::OK));
}

#[tokio::test]
async fn without_stale_session_logout_and_password_change_end_the_old_sessions() {
    let statuses = replay_after_logout_and_password_change(PortalConfig::default()).await;
    assert_eq!(
        statuses,
        (StatusCode::UNAUTHORIZED, StatusCode::UNAUTHORIZED)
    );
}
