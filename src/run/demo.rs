//! `crossleak demo`: the embedded portal on an ephemeral loopback port, a generated population, the
//! demo journey (`scenarios/demo.toml`, compiled in), every response checked. The first command.

use super::scenario_run::{run_scenario, RunOptions};
use super::{RunError, RunResult};
use crate::load::{demo_scenario, Behaviours, Shard};
use crate::population::GenerateOptions;
use crate::portal::Fault;
use crate::scenario::{Endpoint, PopulationSource};
use std::path::PathBuf;
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
    /// Users started per second (default: every user, observers included, within two seconds, or
    /// within half the duration when that is shorter).
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
    let mut scenario = demo_scenario().map_err(|e| RunError::Usage(e.to_string()))?;
    scenario.population = PopulationSource::Generated(GenerateOptions {
        size,
        seed: options.seed,
        ..GenerateOptions::default()
    });
    scenario.target.endpoint = Endpoint::Embedded {
        faults: options.faults.clone(),
        nir_login: true,
    };
    // By default every user (observers included) starts within two seconds, or within half the
    // run when it is shorter: the duration is the whole run, the ramp included.
    let ramp_secs = (options.duration.as_secs_f64() / 2.0).min(2.0);
    let started = options.users + options.behaviours.observers;
    scenario.load.increase_rate = options
        .increase_rate
        .unwrap_or((started as f64 / ramp_secs).max(1.0));
    run_scenario(
        scenario,
        RunOptions {
            command: "demo".into(),
            target: None,
            duration: Some(options.duration),
            users: Some(options.users),
            report_root: options.report_root,
            shard: Shard::whole(),
            allow_remote: false,
            checks: options.checks,
            reveal: options.reveal,
            quiet: options.quiet,
            behaviours: Some(options.behaviours),
        },
    )
    .await
}
