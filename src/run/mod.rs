//! One run from start to exit status: validate, open a `Session` (the run folder), drive the load
//! or the login fuzzer, judge, write the reports. `demo` wraps it around the embedded portal.

mod demo;
mod interrupt;
mod progress;
mod sampler;
mod scenario_run;
mod session;
mod target;

pub use demo::{demo, DemoOptions};
pub(crate) use interrupt::signal;
pub use progress::Progress;
pub use sampler::Sampler;
pub(crate) use scenario_run::resolve_target;
pub use scenario_run::{behaviours_of, run_scenario, RunOptions};
pub(crate) use session::phase_actions;
pub use session::{RunResult, Session};
pub use target::{check_target, TargetError};

use crate::findings::{CollectorError, Masking};
use crate::load::{
    self, Behaviours, GooseFigures, LoadContext, LoadPlan, LoadSetup, Shard, Site, Watchlist,
};
use crate::oracle::OracleError;
use crate::outcome::Status;
use crate::population::Owners;
use crate::report::{self, Observed, RunDescription, ScenarioInfo};
use crate::scenario::{Phase, Thresholds};
use crate::transport::{self, Transport};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Everything a run needs, validated.
pub struct RunSpec {
    pub command: String,
    /// Base URL, already through `check_target`.
    pub target: String,
    pub faults: Vec<String>,
    pub seed: Option<u64>,
    /// Who the users are: crossleak's beneficiaries, or owners read from a staging export.
    pub population: Arc<dyn Owners>,
    /// The scenario's name, and its file when it came from one.
    pub scenario: (String, Option<String>),
    pub site: Site,
    /// The phases, played in order; each is its own load with its users and duration.
    pub phases: Vec<Phase>,
    /// The load's shape; `users` and `duration` are the largest phase's users and the total.
    pub plan: LoadPlan,
    /// How connections to the target are opened: the scenario's `[target.tls]`, `proxy` and
    /// `connect_timeout`.
    pub connecting: transport::Settings,
    pub behaviours: Behaviours,
    /// This runner's slice of the population (the whole of it unless sharded).
    pub shard: Shard,
    pub checks: bool,
    /// The scenario's `[thresholds]`, judged after the load (none for the demo).
    pub thresholds: Thresholds,
    pub masking: Masking,
    /// The run writes `<report_root>/<run-id>/`.
    pub report_root: PathBuf,
    pub quiet: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Target(#[from] TargetError),
    #[error("the population cannot be watched: {0}")]
    Oracle(#[from] OracleError),
    #[error("cannot create the report folder {path}: {source}; choose a writable --report-dir")]
    ReportDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Findings(#[from] CollectorError),
    #[error(transparent)]
    Transport(#[from] transport::SetupError),
    #[error("{0}")]
    Usage(String),
    #[error("the demo portal could not start: {0}")]
    Portal(String),
}

impl RunError {
    /// A `RunError` only happens before a run folder is opened (what goes wrong after is a
    /// result, judged and reported): a usage or configuration error (exit 2).
    pub fn status(&self) -> Status {
        Status::UsageError
    }
}

/// Runs `spec` and writes its reports; an unreachable target, a refused phase action or a goose
/// failure mid-run is a result (its reports written), not an error. Everything that can be a usage
/// error is checked before the run folder is opened.
pub async fn execute(spec: RunSpec) -> Result<RunResult, RunError> {
    let (watch, transport, first) = validate(&spec)?;
    let session = Session::open(&spec.report_root)?;
    let setup = LoadSetup {
        site: spec.site.clone(),
        population: Arc::clone(&spec.population),
        watch,
        sink: session.sink().clone(),
        masking: spec.masking,
        checks: spec.checks,
        phase: first,
        request_timeout: spec.plan.request_timeout,
        think_time: spec.plan.think_time,
        transport,
        behaviours: spec.behaviours.clone(),
        shard: spec.shard,
    };
    let observed = match LoadContext::new(setup) {
        Ok(ctx) => load(&spec, &session, Arc::new(ctx)).await,
        Err(error) => Observed {
            stopped: Some(format!("the load could not start: {error}")),
            ..Observed::default()
        },
    };
    Ok(session.finish(describe(spec), observed))
}

/// What the run needs that can be wrong, checked before anything is written: the shard and the
/// users it can have, the phases, the watchlist, the TLS settings.
fn validate(spec: &RunSpec) -> Result<(Arc<Watchlist>, Transport, Phase), RunError> {
    let owners = spec
        .shard
        .owners(spec.population.len())
        .map_err(|e| RunError::Usage(e.to_string()))?;
    if spec.plan.users > owners.len() {
        return Err(RunError::Usage(format!(
            "{} users but only {} beneficiaries in {}: each simulated user is one beneficiary, so use --users {} or a larger population",
            spec.plan.users,
            owners.len(),
            if spec.shard.count() > 1 { format!("shard {}", spec.shard) } else { "the population".to_owned() },
            owners.len()
        )));
    }
    let first = spec
        .phases
        .first()
        .cloned()
        .ok_or_else(|| RunError::Usage("the scenario has no phase: add a [[phase]]".into()))?;
    let written: Vec<String> = spec
        .site
        .writes
        .iter()
        .flat_map(|w| w.values.iter().map(|v| v.field.clone()))
        .collect();
    let watch = Arc::new(Watchlist::of(spec.population.as_ref(), &written)?);
    // Built once for the run: every user's connection starts from its TLS configuration.
    let transport = Transport::for_run(
        &spec.connecting,
        &spec.target,
        spec.plan.request_timeout,
        load::DEFAULT_MAX_BODY_BYTES,
    )?;
    Ok((watch, transport, first))
}

/// The load driver: the target reached, then each phase's start actions and load in turn, until
/// the last phase, a refusal, a goose failure or an interrupt. Returns what it saw.
async fn load(spec: &RunSpec, session: &Session, ctx: Arc<LoadContext>) -> Observed {
    if let Err(reason) = session.reach(ctx.transport(), &spec.target).await {
        return Observed {
            counters: ctx.counters.snapshot(),
            unreachable: Some(reason),
            ..Observed::default()
        };
    }
    let progress = Progress::start(Arc::clone(&ctx), spec.plan.duration, spec.quiet);
    let sampler = Sampler::start(Arc::clone(&ctx), session.started_at(), &spec.phases[0].name);
    let watch = interrupt::InterruptWatch::start();
    let mut figures: Option<GooseFigures> = None;
    let mut stopped = None;
    for (index, phase) in spec.phases.iter().enumerate() {
        if index > 0 {
            ctx.begin_phase(phase.clone());
            sampler.begin_phase(&phase.name);
        }
        if let Err(reason) = phase_actions(ctx.transport(), &spec.target, phase).await {
            stopped = Some(reason);
            break;
        }
        match load::run(
            &spec.target,
            &phase_plan(spec, index, session.dir()),
            Arc::clone(&ctx),
        )
        .await
        {
            Ok(phase_figures) => {
                figures = Some(match figures {
                    Some(so_far) => so_far.merge(phase_figures),
                    None => phase_figures,
                });
            }
            Err(error) => {
                stopped = Some(format!(
                    "phase {:?} stopped: {error}; the reports hold what was seen until then",
                    phase.name
                ));
                break;
            }
        }
        if watch.interrupted().is_some() {
            break;
        }
    }
    let interrupted_by = watch.finish();
    let timeline = sampler.stop();
    progress.stop();
    Observed {
        counters: ctx.counters.snapshot(),
        goose: Some(figures.unwrap_or_default()),
        timeline: Some(timeline),
        interrupted_by,
        stopped,
        connections: ctx.transport().connections(),
        ..Observed::default()
    }
}

/// The load plan of phase `index`: its users and duration, and its own goose report in `dir`.
fn phase_plan(spec: &RunSpec, index: usize, dir: &Path) -> LoadPlan {
    let phase = &spec.phases[index];
    let mut plan = spec.plan.clone();
    plan.users = phase.users;
    plan.duration = phase.duration;
    plan.goose_report = Some(dir.join(report::goose_report_name(index, spec.phases.len())));
    plan
}

/// The run as its summary describes it.
fn describe(spec: RunSpec) -> RunDescription {
    RunDescription {
        scenario: ScenarioInfo::from_site(&spec.scenario.0, spec.scenario.1, &spec.site),
        command: spec.command,
        target: spec.target,
        faults: spec.faults,
        seed: spec.seed,
        users: spec.plan.users,
        population: spec.population.len(),
        checks: spec.checks,
        revealed: spec.masking == Masking::Revealed,
        planned_duration: spec.plan.duration,
        thresholds: spec.thresholds,
    }
}
