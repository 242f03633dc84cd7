//! Whether the load was cut short. goose catches Ctrl-C (SIGINT) itself: it trips its killswitch
//! and returns its metrics normally. SIGTERM (CI cancelling a job) is caught here and trips the same
//! killswitch, so both end the same way: the load stops, every report is written, status interrupted.
//! fuzz-login, which runs without goose, waits for either signal with `signal`.

/// Watches for SIGTERM while the load runs.
pub struct InterruptWatch {
    #[cfg(unix)]
    task: Option<tokio::task::JoinHandle<()>>,
    #[cfg(unix)]
    terminated: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl InterruptWatch {
    pub fn start() -> InterruptWatch {
        #[cfg(unix)]
        {
            use std::sync::atomic::{AtomicBool, Ordering};
            use std::sync::Arc;
            use tokio::signal::unix::{signal, SignalKind};
            let terminated = Arc::new(AtomicBool::new(false));
            let task = signal(SignalKind::terminate()).ok().map(|mut sigterm| {
                let terminated = Arc::clone(&terminated);
                tokio::spawn(async move {
                    if sigterm.recv().await.is_some() {
                        terminated.store(true, Ordering::SeqCst);
                        goose::trigger_killswitch("SIGTERM received");
                    }
                })
            });
            InterruptWatch { task, terminated }
        }
        #[cfg(not(unix))]
        InterruptWatch {}
    }

    /// The signal that cut the load short so far, if one did; the watch goes on.
    pub fn interrupted(&self) -> Option<&'static str> {
        #[cfg(unix)]
        if self.terminated.load(std::sync::atomic::Ordering::SeqCst) {
            return Some("SIGTERM");
        }
        goose::is_killswitch_triggered().then_some("SIGINT")
    }

    /// Stops watching; the signal that cut the load short, if one did. Call right after the load
    /// returns: goose clears its killswitch only when the next load starts.
    pub fn finish(self) -> Option<&'static str> {
        #[cfg(unix)]
        {
            if let Some(task) = self.task {
                task.abort();
            }
            if self.terminated.load(std::sync::atomic::Ordering::SeqCst) {
                return Some("SIGTERM");
            }
        }
        goose::is_killswitch_triggered().then_some("SIGINT")
    }
}

/// Waits for Ctrl-C or SIGTERM, whichever comes first, and names it: for a driver that runs
/// without goose (fuzz-login), so without goose's own Ctrl-C handler.
pub async fn signal() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
}
