//! The load runner: goose drives many simulated beneficiaries at once, each with its own cookie jar
//! and connections, and every response goes through the oracle. Never parses a command line.

mod check;
mod counters;
mod journey;
mod site;
mod watch;

pub use check::{check, CheckContext, Exchange};
pub use counters::{Counters, CountersSnapshot, ErrorCause};
pub use site::{LoginFlow, LoginIdentifier, Page, RibChange, Site};
pub use watch::Watchlist;

use crate::findings::{FindingSink, Masking};
use crate::population::Population;
use goose::config::GooseConfiguration;
use goose::prelude::*;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Bodies are scanned up to this many bytes; the rest is not read and the run counts it.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 * 1024 * 1024;

/// The shape of one load: how many users, how fast they arrive, for how long.
#[derive(Clone, Debug)]
pub struct LoadPlan {
    pub users: usize,
    /// Users started per second.
    pub increase_rate: f64,
    pub duration: Duration,
    pub request_timeout: Duration,
    /// Pause between a user's transactions, drawn between the two bounds.
    pub think_time: Option<(Duration, Duration)>,
    /// Where goose writes its own HTML report, if anywhere.
    pub goose_report: Option<PathBuf>,
}

/// Everything a simulated user reads while it runs; shared, never mutated but for counters.
pub struct LoadContext {
    pub site: Site,
    pub population: Arc<Population>,
    pub watch: Arc<Watchlist>,
    pub sink: FindingSink,
    pub counters: Counters,
    pub masking: Masking,
    /// `false` for `--no-checks`: bodies are still read, nothing is scanned.
    pub checks: bool,
    pub phase: String,
    pub started: Instant,
    pub request_timeout: Duration,
    pub max_body_bytes: usize,
    pub think_time: Option<(Duration, Duration)>,
    /// Whether the target is plain HTTP, so a user's client needs no TLS roots.
    pub plain_http: bool,
}

impl LoadContext {
    /// One user's own client: its own cookie jar and connection pool.
    fn client_builder(&self) -> reqwest::ClientBuilder {
        let builder = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(self.request_timeout)
            .connect_timeout(self.request_timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("crossleak/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if self.plain_http {
            // Loading the platform's root certificates costs ~100 KB and ~3 ms per client;
            // a plain-HTTP target never needs them.
            builder.tls_certs_only(Vec::new())
        } else {
            builder
        }
    }
}

/// What goose measured, reduced to what crossleak reports.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct GooseFigures {
    pub requests: u64,
    pub failed_requests: u64,
    pub duration_secs: f64,
    pub users: usize,
    /// Per page template: requests, failures, mean and p95 response time (ms, to first byte).
    pub pages: Vec<PageFigures>,
}

#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct PageFigures {
    pub name: String,
    pub requests: u64,
    pub failures: u64,
    pub mean_ms: f64,
    pub max_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("goose could not run the load: {0}")]
    Goose(#[from] GooseError),
}

/// Runs the load against `base_url` and returns goose's figures when every user has stopped.
pub async fn run(
    base_url: &str,
    plan: &LoadPlan,
    ctx: Arc<LoadContext>,
) -> Result<GooseFigures, LoadError> {
    let mut config = GooseConfiguration::default();
    config.host = Some(base_url.to_owned());
    config.users = Some(plan.users);
    config.increase_rate = Some(format!("{:.3}", plan.increase_rate.max(0.001)));
    config.run_time = Some(format!("{}", plan.duration.as_secs().max(1)));
    config.no_telnet = true;
    config.quiet = 1;
    config.no_print_metrics = true;
    config.no_error_summary = true;
    config.report_file = plan
        .goose_report
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let shared_placeholder = goose::client::GooseClientBuilder::new().without_cookies();
    let metrics = GooseAttack::initialize_with_config(config)?
        .register_scenario(journey::scenario(Arc::clone(&ctx))?)
        // Goose would build a full client per user before the run; each user builds its own
        // lighter one (own jar, own pool) on its first step instead.
        .set_client_builder_without_cookies(shared_placeholder)?
        .execute()
        .await?;
    Ok(figures(&metrics))
}

fn figures(metrics: &goose::metrics::GooseMetrics) -> GooseFigures {
    let mut pages: Vec<PageFigures> = metrics
        .requests
        .values()
        .map(|aggregate| {
            let timing = &aggregate.raw_data;
            let count = (aggregate.success_count + aggregate.fail_count) as u64;
            PageFigures {
                name: aggregate.path.clone(),
                requests: count,
                failures: aggregate.fail_count as u64,
                mean_ms: if timing.counter > 0 {
                    timing.total_time_us as f64 / timing.counter as f64 / 1000.0
                } else {
                    0.0
                },
                max_ms: timing.maximum_time_us / 1000,
            }
        })
        .collect();
    pages.sort_by(|a, b| a.name.cmp(&b.name));
    GooseFigures {
        requests: pages.iter().map(|p| p.requests).sum(),
        failed_requests: pages.iter().map(|p| p.failures).sum(),
        duration_secs: metrics.duration as f64,
        users: metrics.maximum_users,
        pages,
    }
}
