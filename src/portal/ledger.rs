//! The payments ledger: a small line-protocol server on 127.0.0.1 that the portal queries over a
//! pool of real sockets, as it would a remote store. Every personal read waits on it.
//!
//! Protocol: the client writes `GET <owner>\n`; `latency` later the server writes one line, the
//! owner's statement as JSON (`{"numero_allocataire":…,"paiements":[…]}`) or `{"error":…}`.
//! Queries on one connection are answered in order, one at a time, like Redis or a database.
//!
//! The `dirty-pooled-connection` fault (ChatGPT, March 2023) lives in [`Checkout`]'s `Drop`. A
//! request that is cancelled after sending its query and before reading the reply — hyper drops
//! the handler when the client disconnects, and the portal's own [`QUERY_TIMEOUT`] gives up on a
//! slow ledger — drops its checkout with a reply still on its way. The correct pool closes such a
//! connection. The faulty one does what redis-py did: it puts the connection back, so the next
//! request on it sends its query and reads the *previous* query's reply — another beneficiary's
//! statement — and leaves its own for the one after, until the connection breaks.

use super::accounts::{Accounts, Identity};
use crate::population::{OwnerId, Payment};
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OnceCell, Semaphore, SemaphorePermit};
use tokio::task::{JoinHandle, JoinSet};

/// How long the portal waits for one reply before it gives up on the query (a 503).
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// Connections open at once, idle or in use; beyond that a request waits for one.
const MAX_CONNECTIONS: usize = 256;

/// The reply to an owner the ledger does not know.
const UNKNOWN_OWNER: &str = "{\"error\":\"unknown owner\"}\n";
/// The reply to a line that is not `GET <owner>`.
const BAD_QUERY: &str = "{\"error\":\"expected GET <owner>\"}\n";

/// One file's payments, as the ledger keeps them and `/api/paiements` serves them.
#[derive(Debug, Serialize, Deserialize)]
pub struct Statement {
    /// The file the payments belong to.
    pub numero_allocataire: String,
    pub paiements: Vec<StatementLine>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct StatementLine {
    pub date: String,
    pub libelle: String,
    pub montant_centimes: i64,
}

impl Statement {
    /// `identity`'s statement, lengthened to `history` lines when it has fewer (see [`lengthen`]).
    fn of(identity: &Identity, history: usize) -> Self {
        Self {
            numero_allocataire: identity.numero_allocataire.as_str().to_owned(),
            paiements: lengthen(identity.payments.clone(), history)
                .iter()
                .map(|payment| StatementLine {
                    date: payment.date.clone(),
                    libelle: payment.label.clone(),
                    montant_centimes: payment.amount_cents,
                })
                .collect(),
        }
    }

    /// Reads a ledger reply; an `{"error":…}` reply or anything else is a [`LedgerError::Reply`].
    pub fn parse(reply: &str) -> Result<Self, LedgerError> {
        serde_json::from_str(reply).map_err(|_| LedgerError::Reply {
            reply: reply.chars().take(80).collect(),
        })
    }
}

/// Why a personal read got no statement.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("the payments ledger could not listen on 127.0.0.1: {0}")]
    Start(#[source] std::io::Error),
    #[error("the payments ledger connection failed: {0}")]
    Io(#[source] std::io::Error),
    #[error("the payments ledger closed the connection")]
    Closed,
    #[error("the payments ledger did not answer within {0:?}")]
    Timeout(Duration),
    #[error("the payments ledger answered something that is not a statement: {reply:?}")]
    Reply { reply: String },
}

/// The server side: its address, and its task, stopped when the ledger is dropped.
struct Server {
    addr: SocketAddr,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The ledger's data (served by its own server task) and the portal's pool of connections to it.
pub struct Ledger {
    /// Where the server reads the payments from.
    accounts: Arc<Accounts>,
    latency: Duration,
    /// Lines per statement, when more than the owner's own payments (see [`lengthen`]).
    history: usize,
    /// `dirty-pooled-connection`: take back connections whose reply was never read.
    return_unread: bool,
    /// Started on first use, inside the runtime that serves the portal.
    server: OnceCell<Server>,
    idle: Mutex<Vec<BufReader<TcpStream>>>,
    permits: Semaphore,
}

impl Ledger {
    /// A ledger serving the payments of `accounts` (read when a query comes, never copied),
    /// each statement lengthened to `history` lines.
    pub fn new(
        accounts: Arc<Accounts>,
        latency: Duration,
        history: usize,
        return_unread: bool,
    ) -> Self {
        Self {
            accounts,
            latency,
            history,
            return_unread,
            server: OnceCell::new(),
            idle: Mutex::default(),
            permits: Semaphore::new(MAX_CONNECTIONS),
        }
    }

    /// `owner`'s statement, as the ledger's JSON line (without its newline), over a pooled connection.
    pub async fn statement(&self, owner: OwnerId) -> Result<Arc<str>, LedgerError> {
        let server = self
            .server
            .get_or_try_init(|| serve(Arc::clone(&self.accounts), self.latency, self.history))
            .await
            .map_err(LedgerError::Start)?;
        let mut checkout = self.checkout(server.addr).await?;
        checkout.query(owner).await
    }

    async fn checkout(&self, addr: SocketAddr) -> Result<Checkout<'_>, LedgerError> {
        let permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| LedgerError::Closed)?;
        let pooled = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => {
                let stream = TcpStream::connect(addr).await.map_err(LedgerError::Io)?;
                let _ = stream.set_nodelay(true);
                BufReader::new(stream)
            }
        };
        Ok(Checkout {
            ledger: self,
            connection: Some(connection),
            reply_pending: false,
            _permit: permit,
        })
    }
}

/// A connection taken from the pool for one query; dropping it gives the connection back or closes it.
struct Checkout<'a> {
    ledger: &'a Ledger,
    /// `None` once the connection broke.
    connection: Option<BufReader<TcpStream>>,
    /// A query was (perhaps partly) sent and its reply not read in full.
    reply_pending: bool,
    _permit: SemaphorePermit<'a>,
}

/// What one exchange on a connection came to.
enum Exchange {
    Reply(String),
    TimedOut,
    Broken(LedgerError),
}

impl Checkout<'_> {
    async fn query(&mut self, owner: OwnerId) -> Result<Arc<str>, LedgerError> {
        let Some(connection) = self.connection.as_mut() else {
            return Err(LedgerError::Closed);
        };
        self.reply_pending = true;
        let exchange = async {
            let query = format!("GET {owner}\n");
            if let Err(error) = connection.get_mut().write_all(query.as_bytes()).await {
                return Exchange::Broken(LedgerError::Io(error));
            }
            let mut line = String::new();
            match tokio::time::timeout(QUERY_TIMEOUT, connection.read_line(&mut line)).await {
                Err(_) => Exchange::TimedOut,
                Ok(Err(error)) => Exchange::Broken(LedgerError::Io(error)),
                Ok(Ok(0)) => Exchange::Broken(LedgerError::Closed),
                Ok(Ok(_)) => Exchange::Reply(line),
            }
        };
        match exchange.await {
            Exchange::Reply(mut line) => {
                self.reply_pending = false;
                line.truncate(line.trim_end().len());
                Ok(Arc::from(line))
            }
            // The reply is still on its way: `Drop` decides what becomes of the connection.
            Exchange::TimedOut => Err(LedgerError::Timeout(QUERY_TIMEOUT)),
            Exchange::Broken(error) => {
                self.connection = None;
                Err(error)
            }
        }
    }
}

impl Drop for Checkout<'_> {
    fn drop(&mut self) {
        let Some(connection) = self.connection.take() else {
            return;
        };
        // The fault is the `return_unread` half of this test: a connection with a reply still
        // in flight goes back to the pool as if it were clean.
        if self.reply_pending && !self.ledger.return_unread {
            return;
        }
        let mut idle = self
            .ledger
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_CONNECTIONS {
            idle.push(connection);
        }
    }
}

/// Binds 127.0.0.1:0 and answers queries on a spawned task until the [`Server`] is dropped.
async fn serve(
    accounts: Arc<Accounts>,
    latency: Duration,
    history: usize,
) -> std::io::Result<Server> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        // Dropping the set (when the task is aborted) aborts every connection's task.
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        let _ = stream.set_nodelay(true);
                        connections.spawn(answer(stream, Arc::clone(&accounts), latency, history));
                    }
                    // Out of descriptors, most likely: wait for connections to close.
                    Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
    });
    Ok(Server { addr, task })
}

/// Answers one connection's queries in order until the client closes it.
async fn answer(stream: TcpStream, accounts: Arc<Accounts>, latency: Duration, history: usize) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let owner = line
            .strip_prefix("GET ")
            .and_then(|owner| owner.trim().parse::<OwnerId>().ok());
        let reply = match owner.map(|owner| accounts.get(owner)) {
            Some(Some(account)) => {
                let statement = Statement::of(&account.identity, history);
                let mut line = serde_json::to_string(&statement)
                    .expect("a statement of strings and integers serialises");
                line.push('\n');
                line
            }
            Some(None) => UNKNOWN_OWNER.to_owned(),
            None => BAD_QUERY.to_owned(),
        };
        if !latency.is_zero() {
            tokio::time::sleep(latency).await;
        }
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// `payments` lengthened to `lines` lines (never shortened): the same benefits, each repeated
/// a month earlier than the last, as an old file's long history. Dates stay `YYYY-MM-DD`.
fn lengthen(payments: Vec<Payment>, lines: usize) -> Vec<Payment> {
    let Some(earliest) = payments.iter().map(|p| p.date.as_str()).min() else {
        return payments;
    };
    // Months since year 0 of the earliest payment, and its day.
    let (months, day) = match (
        earliest.get(0..4).and_then(|y| y.parse::<i64>().ok()),
        earliest.get(5..7).and_then(|m| m.parse::<i64>().ok()),
        earliest.get(8..10),
    ) {
        (Some(year), Some(month), Some(day)) => (year * 12 + month - 1, day.to_owned()),
        _ => return payments,
    };
    let own = payments.len();
    let mut lines_out = payments;
    for k in own..lines {
        let model = &lines_out[k % own];
        let month = months - (k / own) as i64;
        let date = format!(
            "{:04}-{:02}-{day}",
            month.div_euclid(12),
            month.rem_euclid(12) + 1
        );
        let (label, amount_cents) = (model.label.clone(), model.amount_cents);
        lines_out.push(Payment {
            date,
            label,
            amount_cents,
        });
    }
    lines_out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lengthened_history_repeats_the_benefits_month_by_month_back_in_time() {
        let own = vec![
            Payment {
                date: "2026-02-05".into(),
                label: "Allocations familiales".into(),
                amount_cents: 14_000,
            },
            Payment {
                date: "2026-03-05".into(),
                label: "Aide au logement".into(),
                amount_cents: 25_000,
            },
        ];
        let long = lengthen(own.clone(), 7);
        assert_eq!(long.len(), 7);
        assert_eq!(long[..2], own[..]);
        let dates: Vec<&str> = long[2..].iter().map(|p| p.date.as_str()).collect();
        assert_eq!(
            dates,
            [
                "2026-01-05",
                "2026-01-05",
                "2025-12-05",
                "2025-12-05",
                "2025-11-05"
            ]
        );
        assert_eq!(long[3].label, "Aide au logement");
        assert_eq!(lengthen(own.clone(), 1), own, "never shortened");
    }
    use crate::portal::tests::fixtures;

    fn ledger(latency: Duration, return_unread: bool) -> (Ledger, Vec<String>) {
        let people = fixtures::crowd(8);
        let numeros = people
            .iter()
            .map(|p| p.numero_allocataire.as_str().to_owned())
            .collect();
        let accounts = Arc::new(Accounts::new(people).expect("accounts"));
        (Ledger::new(accounts, latency, 0, return_unread), numeros)
    }

    async fn numero_of(ledger: &Ledger, owner: OwnerId) -> String {
        let reply = tokio::time::timeout(Duration::from_secs(5), ledger.statement(owner))
            .await
            .expect("the ledger answers")
            .expect("a statement");
        Statement::parse(&reply).expect("parses").numero_allocataire
    }

    /// Sends owner 0's query and gives up on it 5 ms later, while the ledger (50 ms) is still
    /// working on it: what a cancelled request does.
    async fn cancel_a_query(ledger: &Ledger) {
        let cancelled = tokio::time::timeout(Duration::from_millis(5), ledger.statement(0)).await;
        assert!(
            cancelled.is_err(),
            "the query finished before it was cancelled"
        );
    }

    #[tokio::test]
    async fn each_owner_gets_their_own_statement_and_unknown_owners_an_error() {
        let (ledger, numeros) = ledger(Duration::ZERO, false);
        for owner in 0..8 {
            assert_eq!(numero_of(&ledger, owner).await, numeros[owner as usize]);
        }
        let unknown = ledger.statement(999).await.expect("a reply");
        assert!(matches!(
            Statement::parse(&unknown),
            Err(LedgerError::Reply { .. })
        ));
        assert_eq!(
            ledger.idle.lock().unwrap().len(),
            1,
            "one connection, reused"
        );
    }

    #[tokio::test]
    async fn with_the_fault_a_cancelled_query_leaves_its_reply_to_the_next_caller() {
        let (ledger, numeros) = ledger(Duration::from_millis(50), true);
        cancel_a_query(&ledger).await;
        assert_eq!(
            ledger.idle.lock().unwrap().len(),
            1,
            "the dirty connection went back"
        );
        // Owner 1 asks for their statement and reads owner 0's; owner 2 then reads owner 1's.
        assert_eq!(numero_of(&ledger, 1).await, numeros[0]);
        assert_eq!(numero_of(&ledger, 2).await, numeros[1]);
    }

    #[tokio::test]
    async fn without_the_fault_a_cancelled_query_closes_its_connection() {
        let (ledger, numeros) = ledger(Duration::from_millis(50), false);
        for _ in 0..3 {
            cancel_a_query(&ledger).await;
            assert_eq!(
                ledger.idle.lock().unwrap().len(),
                0,
                "the dirty connection was closed"
            );
        }
        for owner in 1..4 {
            assert_eq!(numero_of(&ledger, owner).await, numeros[owner as usize]);
        }
    }
}
