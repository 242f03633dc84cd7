//! `crossleak demo`: the embedded portal on an ephemeral loopback port, a generated population, the
//! default journey, every response checked. The command a new user runs first.

use super::{execute, RunError, RunResult, RunSpec};
use crate::findings::Masking;
use crate::load::{Behaviours, LoadPlan, Shard, Site};
use crate::population::{GenerateOptions, Population};
use crate::portal::{self, Fault, PortalConfig};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The demo's options, as `crossleak demo` takes them.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub faults: Vec<Fault>,
    pub users: usize,
    pub duration: Duration,
    pub seed: u64,
    /// Beneficiaries in the population; at least `users` (default: the larger of `users` and 1,000).
    pub population: Option<usize>,
    /// Users started per second (default: all of them within about two seconds).
    pub increase_rate: Option<f64>,
    pub report_root: PathBuf,
    pub checks: bool,
    pub reveal: bool,
    pub quiet: bool,
    pub behaviours: Behaviours,
}

pub async fn demo(options: DemoOptions) -> Result<RunResult, RunError> {
    if options.users == 0 {
        return Err(RunError::Usage(
            "--users must be at least 1: write --users 300".into(),
        ));
    }
    let size = options.population.unwrap_or(options.users.max(1_000));
    if size < options.users {
        return Err(RunError::Usage(format!(
            "--population {size} is smaller than --users {}: each simulated user is one beneficiary, so pass --population {} or more",
            options.users, options.users
        )));
    }
    let population = Population::generate(&GenerateOptions {
        size,
        seed: options.seed,
        ..GenerateOptions::default()
    })
    .map_err(|e| RunError::Usage(e.to_string()))?;
    let config = PortalConfig {
        faults: options.faults.clone(),
        ..PortalConfig::default()
    };
    let portal = portal::start(
        population.beneficiaries.clone(),
        config,
        SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
    )
    .await
    .map_err(|e| RunError::Portal(e.to_string()))?;
    let spec = RunSpec {
        command: "demo".into(),
        target: portal.base_url(),
        faults: options.faults.iter().map(|f| f.name().to_owned()).collect(),
        seed: Some(options.seed),
        population: Arc::new(population),
        site: Site::demo(),
        plan: LoadPlan {
            users: options.users,
            increase_rate: options
                .increase_rate
                .unwrap_or((options.users as f64 / 2.0).max(1.0)),
            duration: options.duration,
            request_timeout: Duration::from_secs(10),
            think_time: None,
            goose_report: None,
        },
        behaviours: options.behaviours,
        shard: Shard::whole(),
        checks: options.checks,
        masking: if options.reveal {
            Masking::Revealed
        } else {
            Masking::Masked
        },
        report_root: options.report_root,
        quiet: options.quiet,
    };
    let result = execute(spec).await;
    portal.shutdown().await;
    result
}
