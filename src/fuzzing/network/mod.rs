//! `crossleak fuzz-login`: mistyped identifiers of known beneficiaries (and other people's
//! passwords) sent through a scenario's login flows on a live target, each landing judged by the
//! oracle. Bounded by count and time, paced, and reported like a load run. Never changes a password.
//!
//! Every attempt is one beneficiary logging in with one [`Mutation`] of its own identifier (or
//! its own identifier and a wrong password), in a fresh cookie jar: the flow's steps rendered with
//! the mutated value in place of `{{nir}}`, `{{nir13}}` or `{{numero_allocataire}}`, values a step
//! extracts (a CSRF token) passed to the next, redirects followed within the target's origin by
//! the run's transport, as for the load users. Then:
//! - the landing page, and the scenario's first page read in that session, go through the same
//!   check as a load run's responses: another beneficiary's data there is a violation (the login
//!   opened an account other than the identifier owner's), no identity where one is due a wrong
//!   identity;
//! - a login that meets the flow's success conditions with a wrong password is a violation;
//! - a 5xx answer is a `parser_failure` (a warning: it exposes no one, but the parser broke).
//!
//! Each beneficiary's first attempt on a flow is the unmutated baseline: they count as the run's

mod attempt;
mod evidence;
mod plan;

use attempt::{Fuzzer, Pace};
use plan::{fuzzable, plan, Fuzzable};

use crate::findings::{FindingKind, Masking};
use crate::load::{Counters, Site, Watchlist, DEFAULT_MAX_BODY_BYTES};
use crate::population::{LoadedPopulation, Population};
use crate::report::{Observed, PhaseSpan, RunDescription, Sample, ScenarioInfo, Timeline};
use crate::run::{phase_actions, RunError, RunResult, Session};
use crate::scenario::{PopulationSource, Scenario};
use crate::transport::{Settings, Transport};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The longest run, whatever `--duration` says: a year.
const MAX_DURATION: Duration = Duration::from_secs(365 * 24 * 3600);
/// The phase name findings and the timeline carry.
const PHASE: &str = "fuzz-login";

/// `crossleak fuzz-login`'s options, as the command line gives them.
#[derive(Clone, Debug)]
pub struct FuzzLoginOptions {
    pub command: String,
    /// Overrides the scenario's base URL (or its embedded portal).
    pub target: Option<String>,
    /// The longest the fuzzer runs.
    pub duration: Duration,
    /// The most login attempts it makes.
    pub max_attempts: usize,
    /// Requests per second, at most.
    pub rate: f64,
    pub report_root: PathBuf,
    pub allow_remote: bool,
    pub reveal: bool,
    pub quiet: bool,
    /// Picks the order of beneficiaries and the mutations each gets.
    pub seed: u64,
}

impl Default for FuzzLoginOptions {
    fn default() -> Self {
        Self {
            command: "fuzz-login".into(),
            target: None,
            duration: Duration::from_secs(60),
            max_attempts: 2_000,
            rate: 50.0,
            report_root: PathBuf::from("reports"),
            allow_remote: false,
            reveal: false,
            quiet: false,
            seed: 0,
        }
    }
}

/// Runs the login fuzzer over `scenario`'s login flows and writes a load run's reports.
pub async fn fuzz_login(
    scenario: Scenario,
    options: FuzzLoginOptions,
) -> Result<RunResult, RunError> {
    if !(options.rate > 0.0 && options.rate.is_finite()) {
        return Err(RunError::Usage(format!(
            "--rate {} is not a rate: write requests per second above 0, e.g. --rate 50",
            options.rate
        )));
    }
    if options.max_attempts == 0 {
        return Err(RunError::Usage(
            "--max-attempts 0 sends nothing: write at least 1".into(),
        ));
    }
    let population = match scenario
        .population
        .read()
        .map_err(|e| RunError::Usage(e.to_string()))?
    {
        LoadedPopulation::Beneficiaries(population) => population,
        LoadedPopulation::Watched(_) => {
            return Err(RunError::Usage(format!(
                "{}: the login fuzzer needs each beneficiary's identifiers and password, in crossleak's own population format: export it with `crossleak portal --export`",
                scenario.file.display()
            )))
        }
    };
    let flows = fuzzable(&scenario.login_flows);
    if flows.is_empty() {
        return Err(RunError::Usage(format!(
            "{}: no login flow types an identifier: a step must use {{{{nir}}}}, {{{{nir13}}}} or {{{{numero_allocataire}}}}",
            scenario.file.display()
        )));
    }
    let (target, faults, portal) = crate::run::resolve_target(
        &scenario,
        options.target.as_deref(),
        options.allow_remote,
        Some(&population),
    )
    .await?;
    let result = match prepare(&scenario, population, flows, &target) {
        Ok(prepared) => fuzz(&scenario, &options, prepared, &target, faults).await,
        Err(error) => Err(error),
    };
    if let Some(portal) = portal {
        portal.shutdown().await;
    }
    result
}

/// What a fuzz run needs that can be wrong, checked before its run folder is opened.
struct Prepared<'a> {
    population: Population,
    flows: Vec<Fuzzable<'a>>,
    watch: Watchlist,
    transport: Transport,
}

fn prepare<'a>(
    scenario: &Scenario,
    population: Population,
    flows: Vec<Fuzzable<'a>>,
    target: &str,
) -> Result<Prepared<'a>, RunError> {
    let watch = Watchlist::build(&population)?;
    let transport = Transport::for_run(
        &Settings::of(&scenario.target),
        target,
        scenario.target.timeouts.request,
        DEFAULT_MAX_BODY_BYTES,
    )?;
    Ok(Prepared {
        population,
        flows,
        watch,
        transport,
    })
}

async fn fuzz(
    scenario: &Scenario,
    options: &FuzzLoginOptions,
    prepared: Prepared<'_>,
    target: &str,
    faults: Vec<String>,
) -> Result<RunResult, RunError> {
    let session = Session::open(&options.report_root)?;
    let counters = Counters::default();
    let (observed, baselines) =
        match prepare_target(scenario, &session, &prepared.transport, target).await {
            Err(observed) => (observed, 0),
            Ok(()) => attack(scenario, options, &prepared, &session, &counters, target).await,
        };
    let described = RunDescription {
        command: options.command.clone(),
        target: target.to_owned(),
        scenario: ScenarioInfo::from_site(
            &scenario.name,
            Some(scenario.file.display().to_string()),
            &Site::from_scenario(scenario),
        ),
        faults,
        seed: match &scenario.population {
            PopulationSource::Generated(g) => Some(g.seed),
            _ => None,
        },
        // The unmutated baselines are the run's users: their logins count as the run's logins.
        users: baselines.max(1),
        population: prepared.population.len(),
        checks: true,
        revealed: options.reveal,
        planned_duration: options.duration,
        thresholds: scenario.thresholds.clone(),
    };
    Ok(session.finish(described, observed))
}

/// The target reached and every phase's start actions sent, before any attempt; what the run
/// saw when one of them failed.
async fn prepare_target(
    scenario: &Scenario,
    session: &Session,
    transport: &Transport,
    target: &str,
) -> Result<(), Observed> {
    if let Err(reason) = session.reach(transport, target).await {
        return Err(Observed {
            unreachable: Some(reason),
            ..Observed::default()
        });
    }
    for phase in &scenario.phases {
        if let Err(reason) = phase_actions(transport, target, phase).await {
            return Err(Observed {
                stopped: Some(reason),
                timeline: Some(timeline(session, &Counters::default())),
                ..Observed::default()
            });
        }
    }
    Ok(())
}

/// The attempts, paced, until the plan, the duration or a signal ends them; what the run saw,
/// and how many baselines it made.
async fn attack(
    scenario: &Scenario,
    options: &FuzzLoginOptions,
    prepared: &Prepared<'_>,
    session: &Session,
    counters: &Counters,
    target: &str,
) -> (Observed, usize) {
    let population = &prepared.population;
    let attempts = plan(
        population,
        prepared.flows.len(),
        options.seed,
        options.max_attempts,
    );
    let mut fuzzer = Fuzzer {
        target,
        transport: &prepared.transport,
        population,
        watch: &prepared.watch,
        sink: session.sink(),
        counters,
        masking: if options.reveal {
            Masking::Revealed
        } else {
            Masking::Masked
        },
        pages: &scenario.pages,
        logout: scenario.logout.as_ref(),
        started: Instant::now(),
        pace: Pace::new(options.rate),
    };
    let deadline = tokio::time::Instant::now() + options.duration.min(MAX_DURATION);
    let signal = crate::run::signal();
    tokio::pin!(signal);
    let (mut made, mut baselines, mut interrupted_by) = (0usize, 0usize, None);
    for attempt in attempts {
        tokio::select! {
            _ = fuzzer.attempt(&prepared.flows[attempt.flow], attempt) => {}
            _ = tokio::time::sleep_until(deadline) => break,
            signal = &mut signal => {
                interrupted_by = Some(signal);
                break;
            }
        }
        made += 1;
        baselines += usize::from(attempt.baseline);
        if !options.quiet && made % 100 == 0 {
            eprintln!(
                "fuzz-login: {made} attempts, {} requests, {} violation(s), {} parser failure(s)",
                counters.snapshot().requests,
                session.sink().count(FindingKind::Violation),
                session.sink().count(FindingKind::ParserFailure)
            );
        }
    }
    let snapshot = counters.snapshot();
    let observed = Observed {
        proved: Some(format!(
            "{made} login attempts ({baselines} unmutated), {} responses checked: every login opened only its identifier owner's account, none without its password",
            snapshot.checked_responses
        )),
        timeline: Some(timeline(session, counters)),
        counters: snapshot,
        interrupted_by,
        connections: prepared.transport.connections(),
        ..Observed::default()
    };
    (observed, baselines)
}

/// The fuzzer's timeline: one sample at the start, one now, and its one phase between them.
fn timeline(session: &Session, counters: &Counters) -> Timeline {
    let snapshot = counters.snapshot();
    let started_at = session.started_at();
    let finished_at = chrono::Utc::now();
    let end_secs = ((finished_at - started_at).num_milliseconds() as f64 / 1000.0).max(0.0);
    Timeline {
        samples: vec![
            Sample {
                at_secs: 0.0,
                requests: 0,
                errors: 0,
                checked: 0,
                findings: vec![0; FindingKind::ALL.len()],
            },
            Sample {
                at_secs: end_secs,
                requests: snapshot.requests,
                errors: snapshot.errors,
                checked: snapshot.checked_responses,
                findings: FindingKind::ALL
                    .iter()
                    .map(|k| session.sink().count(*k))
                    .collect(),
            },
        ],
        phases: vec![PhaseSpan {
            name: PHASE.to_owned(),
            started_at,
            finished_at,
            start_secs: 0.0,
            end_secs,
        }],
    }
}
