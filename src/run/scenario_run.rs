//! A scenario, plus the command line's overrides, turned into a run: population read, target
//! checked (or the embedded portal started), phases scaled, behaviours chosen, then `execute`.

use super::{check_target, execute, RunError, RunResult, RunSpec};
use crate::findings::Masking;
use crate::load::{Behaviours, CrowdPlan, LoadPlan, Shard, Site};
use crate::population::Population;
use crate::portal::{self, PortalConfig, RunningPortal};
use crate::scenario::{CrowdStep, Endpoint, Phase, Scenario};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// What the command line may change in a scenario.
#[derive(Clone, Debug)]
pub struct RunOptions {
    pub command: String,
    /// Overrides the scenario's base URL (or its embedded portal).
    pub target: Option<String>,
    /// The whole run's length; the phases keep their proportions.
    pub duration: Option<Duration>,
    /// Users in every phase.
    pub users: Option<usize>,
    pub report_root: PathBuf,
    pub shard: Shard,
    pub allow_remote: bool,
    pub checks: bool,
    pub reveal: bool,
    pub quiet: bool,
    /// Replaces the scenario's `[load]` behaviours (the demo's `--plain` and friends).
    pub behaviours: Option<Behaviours>,
}

/// The behaviours a scenario's `[load]` asks for.
pub fn behaviours_of(scenario: &Scenario) -> Behaviours {
    let load = &scenario.load;
    Behaviours {
        crowd: load.crowd.as_ref().map(|c| CrowdPlan {
            size: c.size,
            max_wait: c.max_wait,
        }),
        crowd_at: load.crowd.as_ref().map(|c| match &c.step {
            CrowdStep::Login => 0,
            CrowdStep::Page { index, .. } => 1 + index,
        }),
        cancel_share: load.cancel_share,
        cancel_after: load.cancel_after,
        session_reuse: load.session_replay,
        observers: load.observers,
        cache_probes: load.cache_probes,
        replay: load.replay.clone(),
    }
}

/// The scenario's phases with the command line's `--duration` (proportions kept) and `--users`,
/// and the behaviours to run; refused when no phase has users or a ramp no longer fits.
fn scaled_phases(
    scenario: &Scenario,
    options: &RunOptions,
) -> Result<(Vec<Phase>, usize, Behaviours), RunError> {
    let mut phases = scenario.phases.clone();
    if let Some(total) = options.duration {
        let planned = scenario.duration().as_secs_f64().max(0.001);
        for phase in &mut phases {
            let share = phase.duration.as_secs_f64() / planned;
            phase.duration = Duration::from_secs_f64((total.as_secs_f64() * share).max(1.0));
        }
    }
    if let Some(users) = options.users {
        for phase in &mut phases {
            phase.users = users;
        }
    }
    let users = phases.iter().map(|p| p.users).max().unwrap_or(0);
    if users == 0 {
        return Err(RunError::Usage(
            "no phase has users: set users in [[phase]] or [load], or pass --users".into(),
        ));
    }
    let behaviours = options
        .behaviours
        .clone()
        .unwrap_or_else(|| behaviours_of(scenario));
    // `check` judged the file's own phases; --duration and --users may have changed them.
    for phase in &phases {
        phase
            .ramp_fits(scenario.load.increase_rate, behaviours.observers)
            .map_err(|ramp| RunError::Usage(ramp.to_string()))?;
    }
    Ok((phases, users, behaviours))
}

pub async fn run_scenario(scenario: Scenario, options: RunOptions) -> Result<RunResult, RunError> {
    let population = scenario
        .population
        .read()
        .map_err(|e| RunError::Usage(e.to_string()))?;
    let (phases, users, behaviours) = scaled_phases(&scenario, &options)?;
    let (target, faults, portal) = resolve_target(
        &scenario,
        options.target.as_deref(),
        options.allow_remote,
        population.beneficiaries(),
    )
    .await?;
    let seed = match &scenario.population {
        crate::scenario::PopulationSource::Generated(g) => Some(g.seed),
        _ => None,
    };
    let spec = RunSpec {
        command: options.command.clone(),
        target,
        faults,
        seed,
        population: Arc::new(population),
        scenario: (
            scenario.name.clone(),
            Some(scenario.file.display().to_string()),
        ),
        site: Site::from_scenario(&scenario),
        plan: LoadPlan {
            users,
            increase_rate: scenario.load.increase_rate,
            duration: phases.iter().map(|p| p.duration).sum(),
            request_timeout: scenario.target.request_timeout,
            think_time: scenario.load.think_time,
            goose_report: None,
        },
        connecting: crate::transport::Settings::of(&scenario.target),
        phases,
        behaviours,
        shard: options.shard,
        checks: options.checks,
        thresholds: scenario.thresholds.clone(),
        masking: if options.reveal {
            Masking::Revealed
        } else {
            Masking::Masked
        },
        report_root: options.report_root,
        quiet: options.quiet,
    };
    let result = execute(spec).await;
    if let Some(portal) = portal {
        portal.shutdown().await;
    }
    result
}

/// The target URL (`target` overriding the scenario's, checked), the faults of an embedded
/// portal, and that portal when one started for `beneficiaries` (`None`: a staging export, which
/// the demo portal cannot serve).
pub(crate) async fn resolve_target(
    scenario: &Scenario,
    target: Option<&str>,
    allow_remote: bool,
    beneficiaries: Option<&Population>,
) -> Result<(String, Vec<String>, Option<RunningPortal>), RunError> {
    let url = match (target, &scenario.target.endpoint) {
        (Some(url), _) => url,
        (None, Endpoint::Url(url)) => url.as_str(),
        (None, Endpoint::Embedded { faults, nir_login }) => {
            let Some(beneficiaries) = beneficiaries else {
                return Err(RunError::Usage(format!(
                    "{}: the embedded demo portal serves crossleak's own beneficiaries, not a staging export read through [population.columns]: use [population] generate, or set [target] base_url to the portal the export comes from",
                    scenario.file.display()
                )));
            };
            let config = PortalConfig {
                faults: faults.clone(),
                nir_login: *nir_login,
                ..PortalConfig::default()
            };
            let portal = portal::start(
                beneficiaries.beneficiaries.clone(),
                config,
                SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            )
            .await
            .map_err(|e| RunError::Portal(e.to_string()))?;
            let names = faults.iter().map(|f| f.name().to_owned()).collect();
            return Ok((portal.base_url(), names, Some(portal)));
        }
    };
    Ok((allowed(scenario, url, allow_remote)?, Vec::new(), None))
}

/// The target URL, checked: loopback, or opted in and (when the scenario lists them) an allowed host.
fn allowed(scenario: &Scenario, url: &str, allow_remote: bool) -> Result<String, RunError> {
    let opted_in = allow_remote || scenario.target.allow_remote;
    let target = check_target(url, opted_in)?;
    let host = url::Url::parse(&target)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let loopback = check_target(&target, false).is_ok();
    if !loopback
        && !scenario.target.allowed_hosts.is_empty()
        && !scenario.target.allowed_hosts.iter().any(|h| h == &host)
    {
        return Err(RunError::Usage(format!(
            "{host} is not in [target] allowed_hosts ({}): add it there if this host is yours to test",
            scenario.target.allowed_hosts.join(", ")
        )));
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_demo_scenario_replays_as_the_demo_command_does() {
        let demo = crate::load::demo_scenario().expect("the demo scenario validates");
        let behaviours = behaviours_of(&demo);
        assert!(behaviours.replay.is_some());
        assert_eq!(behaviours.replay, Behaviours::all().replay);
    }
}
