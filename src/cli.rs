//! The command line: clap definitions (raw) and `run`, which turns them into typed options and calls
//! the library. Prints errors once, with their cause, and returns the documented status.

use crate::fuzzing::network::{self, FuzzLoginOptions};
use crate::load::{Behaviours, CrowdPlan, Shard};
use crate::outcome::Status;
use crate::population::{
    self, GenerateOptions, OutputFormat, Population, PopulationError, ProgressLine,
};
use crate::portal::{self, Fault, PortalConfig};
use crate::report::print_summary;
use crate::run::{self, DemoOptions, RunOptions};
use crate::scenario::{LoadedPopulation, PopulationSource, Scenario};
use clap::{Args, Parser, Subcommand};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "crossleak",
    version,
    about = "Session-isolation load tester: many beneficiaries at once, every response checked for whose data it carries.",
    after_help = "Exit codes: 0 clean, 1 violations found, 2 usage or configuration error, 3 target unreachable, 4 inconclusive (nothing proved), 5 a scenario threshold failed, 130 interrupted (reports still written)."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the embedded demo portal on loopback and run the default journey against it.
    Demo(DemoArgs),
    /// Serve the embedded demo portal until Ctrl-C.
    Portal(PortalArgs),
    /// Validate a scenario file completely, without sending anything.
    Check(CheckArgs),
    /// Write scenario files.
    #[command(subcommand)]
    Scenario(ScenarioCommand),
    /// Run a scenario file against its target (or the embedded portal it names).
    Run(RunArgs),
    /// Send mistyped identifiers of known beneficiaries through the scenario's login flows and
    /// flag every login that opens someone else's account (or any account with a wrong password).
    FuzzLogin(FuzzLoginArgs),
    /// Work on run folders already written.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Write a generated population as CSV, JSON Lines or SQL, to seed a staging database; the
    /// CSV and JSON Lines read back with `[population] file`.
    Population(PopulationArgs),
}

#[derive(Debug, Args)]
pub struct PopulationArgs {
    /// Beneficiaries to generate, 1 to 9,999,999.
    #[arg(long)]
    pub size: usize,
    /// The same seed always gives the same population (as `[population] generate`).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// What to write.
    #[arg(long, value_enum)]
    pub format: OutputFormat,
    /// The file to write (default: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Share of beneficiaries living in a two-adult household (0 to 1).
    #[arg(long, default_value_t = 0.2)]
    pub household_share: f64,
    /// Share of accounts still on their provisional password (0 to 1).
    #[arg(long, default_value_t = 0.5)]
    pub provisional_share: f64,
    /// No progress line, no closing line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join the run folders of several shards into one; exits with the merged status's code.
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The run folders the shards wrote (each holds summary.json and findings.jsonl).
    #[arg(required = true)]
    pub runs: Vec<PathBuf>,
    /// Where the merged summary.json and findings.jsonl go.
    #[arg(long, default_value = "reports/merged")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The scenario file (TOML, version = 1).
    pub scenario: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum ScenarioCommand {
    /// Turn a browser recording (HAR) of one login, plus the population export the recorded user
    /// is in, into a commented scenario that `crossleak check` accepts.
    FromHar(FromHarArgs),
}

#[derive(Debug, Args)]
pub struct FromHarArgs {
    /// The recording: HAR 1.2, as Chrome, Firefox or a proxy exports it (with sensitive data).
    pub recording: PathBuf,
    /// The population export (CSV or JSON Lines) that holds the recorded user.
    #[arg(long, value_name = "EXPORT")]
    pub population: PathBuf,
    /// The export's format (default: from its extension, .csv or JSON Lines).
    #[arg(long, value_enum)]
    pub format: Option<ExportFormat>,
    /// Where to write the scenario (default: standard output).
    #[arg(long, value_name = "SCENARIO.toml")]
    pub out: Option<PathBuf>,
    /// The target the scenario loads (default: the recorded origin if loopback, else a loopback placeholder).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The scenario file (TOML, version = 1).
    pub scenario: PathBuf,
    /// Base URL of the target, instead of the scenario's.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The whole run's wall time, each phase's ramp included; phases keep their proportions.
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Users in every phase.
    #[arg(long)]
    pub users: Option<usize>,
    /// Where the run folder is written.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// This runner's slice of the population, e.g. 2/3; the oracle still watches everyone.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Allow a target that is not a loopback address (it must be yours to test).
    #[arg(long)]
    pub allow_remote: bool,
    /// Turn the oracle off: load only.
    #[arg(long)]
    pub no_checks: bool,
    /// Show identifying values unmasked in the evidence (reports say so).
    #[arg(long)]
    pub reveal: bool,
    /// No live progress line.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct FuzzLoginArgs {
    /// The scenario file (TOML, version = 1): its population, login flows and first page.
    pub scenario: PathBuf,
    /// Base URL of the target, instead of the scenario's.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// The longest the fuzzer runs.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    pub duration: Duration,
    /// The most login attempts it makes.
    #[arg(long, default_value_t = 2_000)]
    pub max_attempts: usize,
    /// Requests per second at most (a shared staging system may want fewer).
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Picks the beneficiaries and the mutations each gets.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Where the run folder is written.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Allow a target that is not a loopback address (it must be yours to test).
    #[arg(long)]
    pub allow_remote: bool,
    /// Show identifying values unmasked in the evidence (reports say so).
    #[arg(long)]
    pub reveal: bool,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Switch on a fault in the demo portal (repeatable); `crossleak portal --list-faults` lists them.
    #[arg(long = "fault", value_name = "NAME", value_parser = parse_fault)]
    pub faults: Vec<Fault>,
    /// Concurrent simulated beneficiaries.
    #[arg(long, default_value_t = 300)]
    pub users: usize,
    /// How long the run lasts from the first user's start, the ramp included, e.g. 20s, 2m.
    #[arg(long, default_value = "20s", value_parser = parse_duration)]
    pub duration: Duration,
    /// Seed of the generated population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Beneficiaries in the population (default: the larger of --users and 1000).
    #[arg(long)]
    pub population: Option<usize>,
    /// Users started per second (default: all, observers included, within 2 s or half the duration).
    #[arg(long)]
    pub increase_rate: Option<f64>,
    /// Where the run folder is written.
    #[arg(long, default_value = "reports")]
    pub report_dir: PathBuf,
    /// Turn the oracle off: load only, to measure what checking costs.
    #[arg(long)]
    pub no_checks: bool,
    /// Show identifying values unmasked in the evidence (reports say so).
    #[arg(long)]
    pub reveal: bool,
    /// No live progress line.
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub behaviours: BehaviourArgs,
}

/// The load behaviours that open race windows. The demo turns them all on unless `--plain`.
#[derive(Debug, Args)]
pub struct BehaviourArgs {
    /// A plain load: no crowd, no cancellation, no session replay, no observer, no cache probes.
    #[arg(long)]
    pub plain: bool,
    /// Release this many users on the same step at the same instant (0: no crowd).
    #[arg(long, value_name = "USERS")]
    pub crowd: Option<usize>,
    /// Share of page reads preceded by a request the client cancels mid-flight (0 to 1).
    #[arg(long, value_name = "SHARE")]
    pub cancel_share: Option<f64>,
    /// How long after sending a cancelled request is given up.
    #[arg(long, value_name = "DURATION", value_parser = parse_short_duration)]
    pub cancel_after: Option<Duration>,
    /// Anonymous observers: users with no session reading the personal pages.
    #[arg(long, value_name = "USERS")]
    pub observers: Option<usize>,
}

impl BehaviourArgs {
    fn behaviours(&self) -> Result<Behaviours, String> {
        let mut behaviours = if self.plain {
            Behaviours::default()
        } else {
            Behaviours::all()
        };
        if let Some(size) = self.crowd {
            behaviours.crowd = (size > 1).then(|| CrowdPlan {
                size,
                max_wait: Duration::from_millis(100),
            });
        }
        if let Some(share) = self.cancel_share {
            if !(0.0..=1.0).contains(&share) {
                return Err(format!(
                    "--cancel-share {share} is not a share: write a number from 0 to 1, e.g. 0.05"
                ));
            }
            behaviours.cancel_share = share;
        }
        if let Some(after) = self.cancel_after {
            behaviours.cancel_after = after;
        }
        if let Some(observers) = self.observers {
            behaviours.observers = observers;
        }
        Ok(behaviours)
    }
}

fn parse_short_duration(text: &str) -> Result<Duration, String> {
    humantime::parse_duration(text).map_err(|e| format!("{e}: write a duration such as 5ms"))
}

#[derive(Debug, Args)]
pub struct PortalArgs {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Switch on a fault (repeatable).
    #[arg(long = "fault", value_name = "NAME", value_parser = parse_fault)]
    pub faults: Vec<Fault>,
    /// Seed of the generated population.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Beneficiaries in the population.
    #[arg(long, default_value_t = 1_000)]
    pub population: usize,
    /// Write the population as JSON Lines to this file (to seed crossleak or a staging database).
    #[arg(long, value_name = "FILE")]
    pub export: Option<PathBuf>,
    /// Payment lines on each file's statement (0: each beneficiary's own three); 2000 make the
    /// account page about 200 KB, for benchmarks with long pages.
    #[arg(long, value_name = "LINES", default_value_t = 0)]
    pub payment_history: usize,
    /// List the faults, with their mechanism and the incident each models, and exit.
    #[arg(long)]
    pub list_faults: bool,
}

fn parse_fault(text: &str) -> Result<Fault, String> {
    text.parse::<Fault>().map_err(|e| e.to_string())
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let duration = humantime::parse_duration(text)
        .map_err(|e| format!("{e}: write a duration such as 20s, 90s or 2m"))?;
    if duration < Duration::from_secs(1) {
        return Err("the shortest run is 1s".into());
    }
    Ok(duration)
}

/// Runs one command and returns its status; errors are printed here, once.
pub async fn run(cli: Cli) -> Status {
    match cli.command {
        Command::Demo(args) => demo(args).await,
        Command::Portal(args) => serve_portal(args).await,
        Command::Check(args) => check(&args),
        Command::Scenario(ScenarioCommand::FromHar(args)) => from_har(args),
        Command::Run(args) => run_file(args).await,
        Command::FuzzLogin(args) => fuzz_login(args).await,
        Command::Report(ReportCommand::Merge(args)) => merge(&args),
        Command::Population(args) => write_population(&args),
    }
}

fn write_population(args: &PopulationArgs) -> Status {
    let options = GenerateOptions {
        size: args.size,
        seed: args.seed,
        household_share: args.household_share,
        provisional_share: args.provisional_share,
    };
    let mut progress = ProgressLine::new(args.quiet);
    let mut update = |written, total| progress.update(written, total);
    let (written, into) = match &args.out {
        Some(path) => (
            std::fs::File::create(path)
                .map_err(PopulationError::Io)
                .and_then(|file| population::export(&options, args.format, file, &mut update)),
            path.display().to_string(),
        ),
        None => (
            population::export(&options, args.format, std::io::stdout().lock(), &mut update),
            "standard output".to_owned(),
        ),
    };
    progress.finish();
    match written {
        Ok(count) => {
            if !args.quiet {
                eprintln!(
                    "population: {count} beneficiaries (seed {}) written to {into}",
                    args.seed
                );
            }
            Status::Clean
        }
        Err(error) => {
            eprintln!("error: cannot write the population to {into}: {error}");
            Status::UsageError
        }
    }
}

fn merge(args: &MergeArgs) -> Status {
    match crate::report::merge(&args.runs, &args.out) {
        Ok(merged) => {
            println!(
                "merged {} run(s) into {}: {} — {} violation(s), {} affected account(s)",
                args.runs.len(),
                args.out.display(),
                merged.status.name(),
                merged.violations,
                merged.affected_accounts.len()
            );
            merged.status
        }
        Err(error) => {
            eprintln!("error: {error}");
            Status::UsageError
        }
    }
}

fn from_har(args: FromHarArgs) -> Status {
    let options = crate::har::FromHar {
        recording: args.recording,
        population: args.population,
        format: args.format.map(|f| match f {
            ExportFormat::Csv => crate::scenario::FileFormat::Csv,
            ExportFormat::Jsonl => crate::scenario::FileFormat::Jsonl,
        }),
        out: args.out,
        base_url: args.base_url,
    };
    match crate::har::from_har(&options) {
        Ok(generated) => {
            let draft = &generated.draft;
            match &options.out {
                Some(out) => eprintln!(
                    "{}: written — login flow {:?} ({} step(s)), {} page(s), {} write(s); review its header, then: crossleak check {0}",
                    out.display(),
                    draft.login.name,
                    draft.login.steps.len(),
                    draft.pages.len(),
                    draft.writes.len()
                ),
                None => print!("{}", generated.text),
            }
            Status::Clean
        }
        Err(error) => {
            eprintln!("error: {error}");
            Status::UsageError
        }
    }
}

fn check(args: &CheckArgs) -> Status {
    match Scenario::load(&args.scenario) {
        Ok(scenario) => {
            println!(
                "{}: valid — {} login flow(s), {} page(s), {} write(s), {} phase(s) over {}",
                args.scenario.display(),
                scenario.login_flows.len(),
                scenario.pages.len(),
                scenario.writes.len(),
                scenario.phases.len(),
                humantime::format_duration(scenario.duration())
            );
            print_column_kinds(&scenario.population)
        }
        Err(errors) => {
            eprintln!("{errors}");
            Status::UsageError
        }
    }
}

/// For a mapped export, each watched column's kind (declared or inferred from its values):
/// what presentations the oracle will find. The export is read as a run would read it.
fn print_column_kinds(population: &PopulationSource) -> Status {
    let PopulationSource::Mapped { columns, .. } = population else {
        return Status::Clean;
    };
    let loaded = match population.read() {
        Ok(LoadedPopulation::Watched(loaded)) => loaded,
        Ok(LoadedPopulation::Beneficiaries(_)) => return Status::Clean,
        Err(error) => {
            eprintln!("{error}");
            return Status::UsageError;
        }
    };
    let mapped = columns.identifiers.iter().chain(&columns.watch);
    for ((variable, column), kind) in mapped.zip(&loaded.kinds) {
        let how = if kind.inferred {
            "inferred from its values"
        } else {
            "declared"
        };
        println!(
            "  column {column:?} ({variable}): kind {} ({how})",
            kind.kind
        );
    }
    Status::Clean
}

async fn run_file(args: RunArgs) -> Status {
    let scenario = match Scenario::load(&args.scenario) {
        Ok(scenario) => scenario,
        Err(errors) => {
            eprintln!("{errors}");
            return Status::UsageError;
        }
    };
    let options = RunOptions {
        command: "run".into(),
        target: args.target,
        duration: args.duration,
        users: args.users,
        report_root: args.report_dir,
        shard: args.shard.unwrap_or_else(Shard::whole),
        allow_remote: args.allow_remote,
        checks: !args.no_checks,
        reveal: args.reveal,
        quiet: args.quiet,
        behaviours: None,
    };
    finish(run::run_scenario(scenario, options).await)
}

async fn fuzz_login(args: FuzzLoginArgs) -> Status {
    let scenario = match Scenario::load(&args.scenario) {
        Ok(scenario) => scenario,
        Err(errors) => {
            eprintln!("{errors}");
            return Status::UsageError;
        }
    };
    let options = FuzzLoginOptions {
        command: "fuzz-login".into(),
        target: args.target,
        duration: args.duration,
        max_attempts: args.max_attempts,
        rate: args.rate,
        report_root: args.report_dir,
        allow_remote: args.allow_remote,
        reveal: args.reveal,
        quiet: args.quiet,
        seed: args.seed,
    };
    finish(network::fuzz_login(scenario, options).await)
}

/// Prints a run's table, or its error once; returns the status.
fn finish(result: Result<run::RunResult, run::RunError>) -> Status {
    match result {
        Ok(result) => {
            print_summary(&result.summary, &result.dir);
            result.summary.status
        }
        Err(error) => {
            eprintln!("error: {error}");
            error.status()
        }
    }
}

async fn demo(args: DemoArgs) -> Status {
    let quiet = args.quiet;
    let behaviours = match args.behaviours.behaviours() {
        Ok(behaviours) => behaviours,
        Err(message) => {
            eprintln!("error: {message}");
            return Status::UsageError;
        }
    };
    let options = DemoOptions {
        faults: args.faults,
        users: args.users,
        duration: args.duration,
        seed: args.seed,
        population: args.population,
        increase_rate: args.increase_rate,
        report_root: args.report_dir,
        checks: !args.no_checks,
        reveal: args.reveal,
        quiet,
        behaviours,
    };
    finish(run::demo(options).await)
}

async fn serve_portal(args: PortalArgs) -> Status {
    if args.list_faults {
        for fault in Fault::all() {
            println!(
                "{:<26} {} [{}]",
                fault.name(),
                fault.mechanism(),
                fault.incident()
            );
        }
        return Status::Clean;
    }
    let population = match Population::generate(&GenerateOptions {
        size: args.population,
        seed: args.seed,
        ..GenerateOptions::default()
    }) {
        Ok(population) => population,
        Err(error) => {
            eprintln!("error: {error}");
            return Status::UsageError;
        }
    };
    if let Some(path) = &args.export {
        let written = std::fs::File::create(path).and_then(|file| {
            let mut out = std::io::BufWriter::new(file);
            population
                .write_jsonl(&mut out)
                .map_err(std::io::Error::other)?;
            std::io::Write::flush(&mut out)
        });
        if let Err(error) = written {
            eprintln!("error: cannot write {}: {error}", path.display());
            return Status::UsageError;
        }
        println!(
            "population: {} beneficiaries written to {}",
            population.len(),
            path.display()
        );
    }
    let config = PortalConfig {
        faults: args.faults.clone(),
        payment_history: args.payment_history,
        ..PortalConfig::default()
    };
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, args.port));
    let portal = match portal::start(population.beneficiaries, config, addr).await {
        Ok(portal) => portal,
        Err(error) => {
            eprintln!("error: {error}");
            return Status::UsageError;
        }
    };
    let faults: Vec<&str> = args.faults.iter().map(|f| f.name()).collect();
    println!(
        "demo portal on {} (faults: {}); Ctrl-C stops it",
        portal.base_url(),
        if faults.is_empty() {
            "none".to_owned()
        } else {
            faults.join(", ")
        }
    );
    let _ = tokio::signal::ctrl_c().await;
    portal.shutdown().await;
    Status::Clean
}
