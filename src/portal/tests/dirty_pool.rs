//! The `dirty-pooled-connection` fault, driven the way a load does: a client gives up on a personal
//! read a few milliseconds after sending it (hyper then drops the handler while it waits on the
//! ledger), and later reads on the same ledger connection get the previous query's statement.
//! With the fault off the same cancellations never do.

use super::*;
use std::time::Instant;

/// A browser that gives up `after` sending: the impatient client, or a proxy timeout.
fn impatient(after: Duration) -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(after)
        .build()
        .expect("client")
}

/// Hyper drops a handler when its client disconnects: a request cancelled at 150 ms never
/// completes its 1.5 s ledger query, whose reply the pool then finds unread. (150 ms, not 5: on a
/// loaded machine the request must reach its handler before the client gives up.)
#[tokio::test]
async fn hyper_drops_the_handler_when_the_client_gives_up() {
    let people = fixtures::crowd(2);
    let config = PortalConfig {
        ledger_latency: Duration::from_millis(1500),
        ..with(&[Fault::DirtyPooledConnection])
    };
    let portal = serve(&people, config).await;
    let base = portal.base_url();
    let (a, b) = (&people[0], &people[1]);
    let cookie = signed_in(&browser(), &portal, a).await;
    let started = Instant::now();
    let cancelled = impatient(Duration::from_millis(150))
        .get(format!("{base}/api/paiements"))
        .header("cookie", format!("{COOKIE_NAME}={cookie}"))
        .send()
        .await;
    assert!(cancelled.is_err_and(|e| e.is_timeout()));
    // B asks 20 ms later (hyper sees the disconnect), long before A's 1.5 s query would have
    // finished: B's handler takes A's connection from the pool, so A's handler was dropped.
    tokio::time::sleep(Duration::from_millis(20)).await;
    let bob = browser();
    signed_in(&bob, &portal, b).await;
    let body = get(&bob, format!("{base}/api/paiements"))
        .await
        .text()
        .await
        .expect("body");
    assert_eq!(owners_in(&body, &people), [a.id], "B reads A's statement");
    assert!(started.elapsed() >= Duration::from_millis(1500));
    portal.shutdown().await;
}

/// `users` beneficiaries each make `reads` rounds of: one read of `/api/paiements` cancelled
/// `cancel_after` after sending (every third round), then a full read of `/api/paiements` and of
/// `/mon-compte`. Returns (cancelled requests, misdirected full reads).
async fn reads_with_cancellations(
    config: PortalConfig,
    cancel_after: Duration,
    users: u32,
    reads: usize,
) -> (usize, usize) {
    let people = fixtures::crowd(users);
    let portal = serve(&people, config).await;
    let mut tasks = tokio::task::JoinSet::new();
    for person in people.iter().cloned() {
        let (base, everyone) = (portal.base_url(), people.clone());
        tasks.spawn(async move {
            let client = browser();
            let login = post(
                &client,
                format!("{base}/connexion/allocataire"),
                &[
                    ("numero_allocataire", person.numero_allocataire.as_str()),
                    ("mot_de_passe", &person.password),
                ],
            )
            .await;
            let cookie = format!("{COOKIE_NAME}={}", session_cookie(login.headers()));
            let impatient = impatient(cancel_after);
            let (mut cancelled, mut misdirected) = (0, 0);
            for round in 0..reads {
                if round % 3 == 0 {
                    let sent = impatient
                        .get(format!("{base}/api/paiements"))
                        .header("cookie", &cookie)
                        .send()
                        .await;
                    cancelled += usize::from(sent.is_err_and(|e| e.is_timeout()));
                }
                for path in ["/api/paiements", "/mon-compte"] {
                    let body = get(&client, format!("{base}{path}"))
                        .await
                        .text()
                        .await
                        .expect("body");
                    let shown = owners_in(&body, &everyone);
                    misdirected += usize::from(shown.iter().any(|owner| *owner != person.id));
                }
            }
            (cancelled, misdirected)
        });
    }
    let (mut cancelled, mut misdirected) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        let (c, m) = done.expect("user");
        cancelled += c;
        misdirected += m;
    }
    portal.shutdown().await;
    (cancelled, misdirected)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_dirty_pooled_connection_requests_cancelled_at_5_ms_leak_statements() {
    let (cancelled, misdirected) = reads_with_cancellations(
        with(&[Fault::DirtyPooledConnection]),
        Duration::from_millis(5),
        20,
        9,
    )
    .await;
    assert!(cancelled > 0, "no request was cancelled");
    assert!(
        misdirected > 0,
        "{cancelled} cancellations, no misdirected read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_dirty_pooled_connection_the_same_cancellations_leak_nothing() {
    let (cancelled, misdirected) =
        reads_with_cancellations(PortalConfig::default(), Duration::from_millis(5), 20, 9).await;
    assert!(cancelled > 0, "no request was cancelled");
    assert_eq!(misdirected, 0);
}
