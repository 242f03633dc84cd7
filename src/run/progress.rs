//! The live progress line while a load runs, redrawn every second on stderr from the load's
//! counters. It turns itself off when stderr is not a terminal or with `--quiet`.

use crate::findings::FindingKind;
use crate::load::LoadContext;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The live progress line, redrawn every second on stderr.
pub struct Progress {
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Progress {
    pub fn start(ctx: Arc<LoadContext>, planned: Duration, quiet: bool) -> Progress {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress { task: None };
        }
        let task = tokio::spawn(async move {
            let started = Instant::now();
            let mut last_requests = 0;
            let mut tick = tokio::time::interval(Duration::from_secs(1));
            tick.tick().await;
            loop {
                tick.tick().await;
                let snap = ctx.counters.snapshot();
                let failures: u64 = FindingKind::ALL
                    .iter()
                    .filter(|k| k.fails_run())
                    .map(|k| ctx.sink.count(*k))
                    .sum();
                let elapsed = started.elapsed().as_secs();
                eprint!(
                    "\r\x1b[2K[{elapsed:>3}s/{}s] {:>6} req/s · {} checked · {} errors · {} violations",
                    planned.as_secs(),
                    snap.requests - last_requests,
                    snap.checked_responses,
                    snap.errors,
                    failures,
                );
                let _ = std::io::stderr().flush();
                last_requests = snap.requests;
            }
        });
        Progress { task: Some(task) }
    }

    pub fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
            eprint!("\r\x1b[2K");
        }
    }
}
