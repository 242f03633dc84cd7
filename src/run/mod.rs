//! One run from start to exit status: check the target, build the oracle, open the findings file,
//! drive the load, write the reports. `demo` wraps it around the embedded portal.

mod demo;
mod interrupt;
mod target;

pub use demo::{demo, DemoOptions};
pub use target::{check_target, TargetError};

use crate::findings::{Collector, CollectorError, Masking};
use crate::load::{self, Behaviours, LoadContext, LoadPlan, LoadSetup, Shard, Site, Watchlist};
use crate::oracle::OracleError;
use crate::outcome::Status;
use crate::population::Population;
use crate::report::{self, Progress, RunFacts, Sampler, ScenarioInfo, Summary};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything a run needs, validated.
pub struct RunSpec {
    pub command: String,
    /// Base URL, already through `check_target`.
    pub target: String,
    pub faults: Vec<String>,
    pub seed: Option<u64>,
    pub population: Arc<Population>,
    pub site: Site,
    pub plan: LoadPlan,
    pub behaviours: Behaviours,
    /// This runner's slice of the population (the whole of it unless sharded).
    pub shard: Shard,
    pub checks: bool,
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
    let watch = Arc::new(Watchlist::build(&spec.population)?);
    let (collector, sink) = Collector::start(&dir.join("findings.jsonl"))?;
    let started_at = chrono::Utc::now();
    let plain_http = spec.target.starts_with("http://");
    let ctx = Arc::new(LoadContext::new(LoadSetup {
        site: spec.site,
        population: Arc::clone(&spec.population),
        watch,
        sink,
        masking: spec.masking,
        checks: spec.checks,
        phase: "load".to_owned(),
        request_timeout: spec.plan.request_timeout,
        think_time: spec.plan.think_time,
        plain_http,
        behaviours: spec.behaviours,
        shard: spec.shard,
    })?);
    let (mut timeline, mut interrupted_by) = (None, None);
    let goose = if reachable(&spec.target, spec.plan.request_timeout).await {
        let progress = Progress::start(Arc::clone(&ctx), spec.plan.duration, spec.quiet);
        let sampler = Sampler::start(Arc::clone(&ctx), started_at, &ctx.phase);
        let watch = interrupt::InterruptWatch::start();
        let mut plan = spec.plan.clone();
        plan.goose_report = Some(dir.join("goose-report.html"));
        let figures = load::run(&spec.target, &plan, Arc::clone(&ctx)).await;
        interrupted_by = watch.finish();
        timeline = Some(sampler.stop());
        progress.stop();
        Some(figures?)
    } else {
        None
    };
    let findings = collector.finish();
    let recorded = report::read_findings(&dir);
    let facts = RunFacts {
        run_id: &run_id,
        command: &spec.command,
        target: &spec.target,
        scenario: ScenarioInfo::built_in(&spec.command, &ctx.site),
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
    };
    let mut summary = Summary::from_facts(facts);
    if goose.is_none() {
        summary.status = Status::Unreachable;
        summary.exit_code = Status::Unreachable.exit_code();
        summary.reason = format!(
            "nothing accepted a connection on {} within {:?}: start the target or fix --target",
            spec.target, spec.plan.request_timeout
        );
    }
    for error in report::write_all(&dir, &summary, timeline.as_ref(), &recorded) {
        eprintln!("warning: {error}");
    }
    Ok(RunResult { summary, dir })
}

/// The target is reachable when something accepts a TCP connection on its host and port; what
/// it then answers (garbage, 5xx, nothing) is measured by the run as errors.
async fn reachable(target: &str, timeout: Duration) -> bool {
    let Ok(url) = reqwest::Url::parse(target) else {
        return false;
    };
    let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
        return false;
    };
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let connect = tokio::net::TcpStream::connect((host, port));
    matches!(
        tokio::time::timeout(timeout.min(Duration::from_secs(10)), connect).await,
        Ok(Ok(_))
    )
}
