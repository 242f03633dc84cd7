//! Serving the portal on a socket: bind (port 0 for any), spawn, and shut down gracefully.
//! The only part of the portal that does network I/O; the load runner reaches it over HTTP alone.

use super::{router, PortalConfig, PortalError};
use crate::population::Beneficiary;
use axum::serve::ListenerExt;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long [`RunningPortal::shutdown`] lets in-flight requests finish before it aborts the server.
const GRACE: Duration = Duration::from_secs(5);

/// Pending connections the kernel may queue before the server accepts them.
const BACKLOG: u32 = 4096;

/// A portal being served. Dropping it also starts a graceful shutdown, without waiting for it.
#[derive(Debug)]
pub struct RunningPortal {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

/// Builds the portal, binds `addr` and serves it on a spawned task; returns once it is listening.
pub async fn start(
    accounts: Vec<Beneficiary>,
    config: PortalConfig,
    addr: SocketAddr,
) -> Result<RunningPortal, PortalError> {
    let app = router(accounts, config)?;
    let listener = listen(addr).map_err(|source| PortalError::Bind { addr, source })?;
    let addr = listener
        .local_addr()
        .map_err(|source| PortalError::Bind { addr, source })?;
    // Replies are small; Nagle's algorithm would only add latency between them.
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                // Either an explicit stop or the handle being dropped.
                let _ = stopped.await;
            })
            .await
    });
    Ok(RunningPortal { addr, stop, task })
}

/// A listening socket whose accept queue holds a crowd released at one instant (the kernel may
/// cap it lower, at `net.core.somaxconn`).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}

impl RunningPortal {
    /// The address actually bound (the ephemeral port when asked for port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT` (IPv6 addresses in brackets), without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting connections, lets in-flight requests finish for up to 5 s, then aborts.
    pub async fn shutdown(self) {
        let Self { stop, mut task, .. } = self;
        let _ = stop.send(());
        if tokio::time::timeout(GRACE, &mut task).await.is_err() {
            task.abort();
        }
    }
}
