//! One run from start to exit status: check the target, build the oracle, open the findings file,
//! drive the load, write the reports. `demo` wraps it around the embedded portal.

mod demo;
mod interrupt;
mod scenario_run;
mod target;

pub use demo::{demo, DemoOptions};
pub(crate) use scenario_run::resolve_target;
pub use scenario_run::{behaviours_of, run_scenario, RunOptions};
pub use target::{check_target, TargetError};

use crate::findings::{Collector, CollectorError, Masking};
use crate::load::{
    self, Behaviours, GooseFigures, LoadContext, LoadPlan, LoadSetup, Shard, Site, Watchlist,
};
use crate::oracle::OracleError;
use crate::outcome::Status;
use crate::report::{self, Progress, RunFacts, Sampler, ScenarioInfo, Summary};
use crate::scenario::{Owners, Phase, Thresholds};
use crate::transport::{self, Connection, Transport};
use std::path::PathBuf;
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

/// The summary of a finished run and the folder holding its reports.
pub struct RunResult {
    pub summary: Summary,
    pub dir: PathBuf,
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
    Load(#[from] load::LoadError),
    #[error(transparent)]
    Transport(#[from] transport::SetupError),
    #[error("{0}")]
    Usage(String),
    #[error("the demo portal could not start: {0}")]
    Portal(String),
}

impl RunError {
    /// Every error before the load starts is a usage or configuration error (exit 2).
    pub fn status(&self) -> Status {
        Status::UsageError
    }
}

/// Runs `spec` and writes its reports; an unreachable target is a result (exit 3), not an error.
pub async fn execute(spec: RunSpec) -> Result<RunResult, RunError> {
    let run_id = report::run_id();
    let dir = spec.report_root.join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|source| RunError::ReportDir {
        path: dir.clone(),
        source,
    })?;
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
    let written: Vec<String> = spec
        .site
        .writes
        .iter()
        .flat_map(|w| w.values.iter().map(|v| v.field.clone()))
        .collect();
    let watch = Arc::new(Watchlist::of(spec.population.as_ref(), &written)?);
    let (collector, sink) = Collector::start(&dir.join("findings.jsonl"))?;
    let started_at = chrono::Utc::now();
    // Built once for the run: every user's connection starts from its TLS configuration.
    let transport = Transport::for_run(
        &spec.connecting,
        &spec.target,
        spec.plan.request_timeout,
        load::DEFAULT_MAX_BODY_BYTES,
    )?;
    let first = spec
        .phases
        .first()
        .cloned()
        .ok_or_else(|| RunError::Usage("the scenario has no phase: add a [[phase]]".into()))?;
    let ctx = Arc::new(LoadContext::new(LoadSetup {
        site: spec.site.clone(),
        population: Arc::clone(&spec.population),
        watch,
        sink,
        masking: spec.masking,
        checks: spec.checks,
        phase: first.clone(),
        request_timeout: spec.plan.request_timeout,
        think_time: spec.plan.think_time,
        transport,
        behaviours: spec.behaviours,
        shard: spec.shard,
    })?);
    let (mut timeline, mut interrupted_by, mut aborted) = (None, None, None);
    let reached = reachable(ctx.transport(), &spec.target).await;
    let goose = if reached.is_ok() {
        let progress = Progress::start(Arc::clone(&ctx), spec.plan.duration, spec.quiet);
        let sampler = Sampler::start(Arc::clone(&ctx), started_at, &first.name);
        let watch = interrupt::InterruptWatch::start();
        let mut figures: Option<GooseFigures> = None;
        for (index, phase) in spec.phases.iter().enumerate() {
            if index > 0 {
                ctx.begin_phase(phase.clone());
                sampler.begin_phase(&phase.name);
            }
            if let Err(reason) = phase_actions(ctx.transport(), &spec.target, phase).await {
                aborted = Some(reason);
                break;
            }
            let mut plan = spec.plan.clone();
            plan.users = phase.users;
            plan.duration = phase.duration;
            plan.goose_report = Some(dir.join(if spec.phases.len() == 1 {
                "goose-report.html".to_owned()
            } else {
                format!("goose-report-{}.html", index + 1)
            }));
            let phase_figures = load::run(&spec.target, &plan, Arc::clone(&ctx)).await;
            match phase_figures {
                Ok(phase_figures) => {
                    figures = Some(match figures {
                        Some(so_far) => so_far.merge(phase_figures),
                        None => phase_figures,
                    });
                }
                Err(error) => {
                    progress.stop();
                    return Err(error.into());
                }
            }
            if watch.interrupted().is_some() {
                break;
            }
        }
        interrupted_by = watch.finish();
        timeline = Some(sampler.stop());
        progress.stop();
        Some(figures.unwrap_or_default())
    } else {
        None
    };
    let findings = collector.finish();
    let recorded = report::read_findings(&dir);
    let facts = RunFacts {
        run_id: &run_id,
        command: &spec.command,
        target: &spec.target,
        scenario: ScenarioInfo::from_site(&spec.scenario.0, spec.scenario.1.clone(), &spec.site),
        faults: spec.faults,
        seed: spec.seed,
        users: spec.plan.users,
        population: spec.population.len(),
        checks: spec.checks,
        revealed: spec.masking == Masking::Revealed,
        started_at,
        counters: ctx.counters.snapshot(),
        findings,
        goose: goose.clone().unwrap_or_default(),
        planned_duration: spec.plan.duration,
        timeline: timeline.as_ref(),
        recorded: &recorded,
        interrupted_by,
        connections: ctx.transport().connections(),
    };
    let mut summary = Summary::from_facts(facts);
    if goose.is_some() {
        summary.judge_thresholds(&spec.thresholds);
    }
    if let Some(reason) = aborted {
        if !matches!(
            summary.status,
            Status::Violations | Status::Interrupted | Status::ThresholdsFailed
        ) {
            summary.status = Status::Inconclusive;
            summary.exit_code = Status::Inconclusive.exit_code();
            summary.reason = reason;
        }
    }
    if let Err(reason) = reached {
        summary.status = Status::Unreachable;
        summary.exit_code = Status::Unreachable.exit_code();
        summary.reason = reason;
    }
    for error in report::write_all(&dir, &summary, timeline.as_ref(), &recorded) {
        eprintln!("warning: {error}");
    }
    Ok(RunResult { summary, dir })
}

/// Sends a phase's `at_start` actions in order; a refusal stops the run, since the phase would
/// not test what it says (e.g. the NIR login was never switched on).
pub(crate) async fn phase_actions(
    transport: &Transport,
    target: &str,
    phase: &Phase,
) -> Result<(), String> {
    for action in &phase.at_start {
        let rendered = action
            .request
            .render(&|_: &str| None)
            .map_err(|e| format!("phase {:?}: {e}", phase.name))?;
        let url = format!("{target}{}", rendered.path);
        let parsed = url::Url::parse(&url).map_err(|e| {
            format!(
                "phase {:?}: its start action's URL {url} is not valid: {e}",
                phase.name
            )
        })?;
        // Its own connection, closed after the action: nothing a user sends shares it.
        let sent = transport
            .send(
                &mut Connection::default(),
                None,
                transport::Request::rendered(&rendered, parsed, None),
            )
            .await;
        let status = match sent {
            Ok(response) => response.status,
            Err(error) => {
                return Err(format!(
                    "phase {:?}: its start action {} {url} failed: {error}",
                    phase.name,
                    rendered.method.as_str()
                ))
            }
        };
        let expected = if action.expect_status.is_empty() {
            (200..400).contains(&status)
        } else {
            action.expect_status.contains(&status)
        };
        if !expected {
            return Err(format!(
                "phase {:?}: its start action {} {url} answered {status}, so the phase would not test what it says; the run stopped there",
                phase.name,
                rendered.method.as_str()
            ));
        }
    }
    Ok(())
}

/// The target is reachable when a connection to its origin opens: TCP, and the TLS handshake for
/// an `https` target. What it then answers (garbage, 5xx, nothing) the run measures as errors.
/// The reason it is not names the cause and ends with what to do.
pub(crate) async fn reachable(transport: &Transport, target: &str) -> Result<(), String> {
    let url = url::Url::parse(target)
        .map_err(|e| format!("{target} is not a URL ({e}): fix --target or [target] base_url"))?;
    transport
        .reach(&url)
        .await
        .map_err(|error| format!("{target} cannot be reached: {error}"))
}
