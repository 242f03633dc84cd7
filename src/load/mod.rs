//! The load runner: goose drives many simulated beneficiaries at once, each with its own cookie jar
//! and connections, and every response goes through the oracle. Never parses a command line.

mod cache_status;
mod check;
mod counters;
mod crowd;
mod extracted;
mod journey;
mod latency;
mod shard;
mod site;
mod tokens;
mod watch;

pub use crate::error_cause::ErrorCause;
pub use check::{cache_audit, check, CheckContext, Exchange};
pub use counters::{Counters, CountersSnapshot};
pub use crowd::{CrowdPlan, Gate};
pub use extracted::keep_newest;
pub use latency::ResponseTimes;
pub use shard::{Shard, ShardError};
pub use site::{demo_scenario, fields, Site, DEMO_SCENARIO};
pub use watch::Watchlist;

use crate::findings::{FindingSink, Masking};
use crate::population::Owners;
use crate::scenario::{ramp_time, Method, Phase, Replay, ReplayIdentity};
use crate::transport::Transport;
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
    /// Users started per second, observers included.
    pub increase_rate: f64,
    /// Wall time from the first user's start, the ramp included.
    pub duration: Duration,
    pub request_timeout: Duration,
    /// Pause between a user's transactions, drawn between the two bounds.
    pub think_time: Option<(Duration, Duration)>,
    /// Where goose writes its own HTML report, if anywhere.
    pub goose_report: Option<PathBuf>,
}

/// The suffixes a cache-deception probe appends to a personal path: a static-looking file the
/// origin may ignore while a cache keys on it.
pub const PROBE_SUFFIXES: [&str; 4] = ["/crossleak.css", ";crossleak.js", "/%2F..", ".json"];

/// The named load behaviours that open the race windows a steady load rarely hits.
#[derive(Clone, Debug, PartialEq)]
pub struct Behaviours {
    /// Release users on the same step at the same instant.
    pub crowd: Option<CrowdPlan>,
    /// The one step the crowd gathers at (0: the login, 1 + i: page i); every step when `None`.
    pub crowd_at: Option<usize>,
    /// Share (0 to 1) of page reads preceded by a request the client cancels `cancel_after` after
    /// sending it, as an impatient client or a proxy timeout does.
    pub cancel_share: f64,
    pub cancel_after: Duration,
    /// Log out (and change the password on another device), then replay the old session cookie.
    pub session_reuse: bool,
    /// Users with no session at all that read the personal pages, on top of the load's users;
    /// they must never see any data.
    pub observers: usize,
    /// Fetch personal paths with static-looking suffixes (`/x.css`, `;.js`…) by several users.
    pub cache_probes: bool,
    /// Send a share of page reads again as another owner (its values, the user's session) or
    /// with no session; the target must refuse them.
    pub replay: Option<Replay>,
}

impl Default for Behaviours {
    fn default() -> Self {
        Behaviours {
            crowd: None,
            crowd_at: None,
            cancel_share: 0.0,
            cancel_after: Duration::from_millis(5),
            session_reuse: false,
            observers: 0,
            cache_probes: false,
            replay: None,
        }
    }
}

impl Behaviours {
    /// Every behaviour on, with the settings the demo uses.
    pub fn all() -> Self {
        Behaviours {
            crowd: Some(CrowdPlan {
                size: 32,
                max_wait: Duration::from_millis(100),
            }),
            crowd_at: None,
            cancel_share: 0.05,
            cancel_after: Duration::from_millis(5),
            session_reuse: true,
            observers: 2,
            cache_probes: true,
            replay: Some(Replay {
                share: 0.05,
                identities: vec![ReplayIdentity::OtherUser, ReplayIdentity::Anonymous],
            }),
        }
    }
}

/// Everything a simulated user reads while it runs; shared, never mutated but for counters.
pub struct LoadContext {
    pub site: Site,
    /// Who the users are: crossleak's beneficiaries or owners read from a staging export.
    pub population: Arc<dyn Owners>,
    pub watch: Arc<Watchlist>,
    pub sink: FindingSink,
    pub counters: Counters,
    pub masking: Masking,
    /// `false` for `--no-checks`: bodies are still read, nothing is scanned.
    pub checks: bool,
    /// The phase under way; users read it once, when they start.
    phase: std::sync::RwLock<Arc<Phase>>,
    pub started: Instant,
    pub request_timeout: Duration,
    pub think_time: Option<(Duration, Duration)>,
    /// How users send their requests: each on its own connection, with these timeouts and cap.
    transport: Transport,
    pub behaviours: Behaviours,
    /// One crowd gate per step: the login, then each page.
    gates: Vec<Gate>,
    tokens: tokens::TokenRegistry,
    probe_paths: Vec<String>,
    /// What the anonymous observer asks for: the literal personal paths, then the probes.
    observed_paths: Vec<String>,
    /// The owners this runner's users are (its shard of the population).
    owners: std::ops::Range<usize>,
    /// Beneficiaries started in the phase under way: the next one's number.
    beneficiaries: std::sync::atomic::AtomicUsize,
}

/// What `LoadContext::new` needs beside the site and the population.
pub struct LoadSetup {
    pub site: Site,
    pub population: Arc<dyn Owners>,
    pub watch: Arc<Watchlist>,
    pub sink: FindingSink,
    pub masking: Masking,
    pub checks: bool,
    pub phase: Phase,
    pub request_timeout: Duration,
    pub think_time: Option<(Duration, Duration)>,
    /// How the users' requests reach the target, built once for the run.
    pub transport: Transport,
    pub behaviours: Behaviours,
    pub shard: Shard,
}

impl LoadContext {
    pub fn new(setup: LoadSetup) -> Result<Self, LoadError> {
        let owners = setup.shard.owners(setup.population.len())?;
        let gates = match setup.behaviours.crowd {
            Some(plan) => (0..=setup.site.pages.len())
                .map(|_| Gate::new(plan))
                .collect(),
            None => Vec::new(),
        };
        // Personal paths with no per-user placeholder: the ones another client can ask for.
        let literal: Vec<String> = setup
            .site
            .pages
            .iter()
            .filter(|p| p.request.path.is_literal() && p.request.method == Method::Get)
            .map(|p| p.request.path.as_str().to_owned())
            .collect();
        let probe_paths: Vec<String> = if setup.behaviours.cache_probes {
            literal
                .iter()
                .flat_map(|p| PROBE_SUFFIXES.iter().map(move |s| format!("{p}{s}")))
                .collect()
        } else {
            Vec::new()
        };
        let observed_paths = literal.iter().chain(&probe_paths).cloned().collect();
        Ok(LoadContext {
            site: setup.site,
            population: setup.population,
            watch: setup.watch,
            sink: setup.sink,
            counters: Counters::default(),
            masking: setup.masking,
            checks: setup.checks,
            phase: std::sync::RwLock::new(Arc::new(setup.phase)),
            started: Instant::now(),
            request_timeout: setup.request_timeout,
            think_time: setup.think_time,
            transport: setup.transport,
            behaviours: setup.behaviours,
            gates,
            tokens: tokens::TokenRegistry::default(),
            probe_paths,
            observed_paths,
            owners,
            beneficiaries: std::sync::atomic::AtomicUsize::new(0),
        })
    }

    /// The beneficiary goose user `index` plays: users cycle over this runner's shard.
    fn owner_of(&self, user_index: usize) -> u32 {
        (self.owners.start + user_index % self.owners.len()) as u32
    }

    /// The number of the beneficiary that starts now in the phase under way: 0, 1, 2…
    fn next_beneficiary(&self) -> usize {
        self.beneficiaries
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Waits for the crowd at step `index` when the crowd behaviour is on there.
    async fn crowd(&self, index: usize) {
        if self.behaviours.crowd_at.is_some_and(|at| at != index) {
            return;
        }
        if let Some(gate) = self.gates.get(index) {
            gate.pass().await;
        }
    }

    /// The phase under way.
    pub fn phase(&self) -> Arc<Phase> {
        Arc::clone(&self.phase.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// Starts `phase`: users started from now on play it.
    pub fn begin_phase(&self, phase: Phase) {
        *self.phase.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(phase);
        self.beneficiaries
            .store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether a user's `reads`-th page read is preceded by a cancelled request.
    fn cancels(&self, reads: u64) -> bool {
        let share = self.behaviours.cancel_share;
        if share <= 0.0 {
            return false;
        }
        let every = (1.0 / share.min(1.0)).round().max(1.0) as u64;
        reads % every == 0
    }

    /// Who replays user `number`'s `reads`-th page read (of page `page`), if anyone: one read
    /// in `1 / share`, offset by the user's number so that every page gets its turn, and the
    /// identities of `[load] replay` in turn, skipping `other_user` on a page with no watched value.
    fn replay_as(&self, number: usize, reads: u64, page: usize) -> Option<ReplayIdentity> {
        let replayable = self.site.replayable.get(page).copied().unwrap_or(false);
        replay_turn(self.behaviours.replay.as_ref()?, replayable, number, reads)
    }

    /// The owner whose values `viewer` sends in its `turn`-th replay as another owner.
    fn other_owner(&self, viewer: u32, turn: u64) -> Option<u32> {
        other_owner(self.population.as_ref(), viewer, turn)
    }

    /// How this run's requests reach the target.
    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }
}

/// See [`LoadContext::replay_as`].
fn replay_turn(
    replay: &Replay,
    replayable: bool,
    number: usize,
    reads: u64,
) -> Option<ReplayIdentity> {
    if replay.share <= 0.0 || replay.identities.is_empty() {
        return None;
    }
    let every = (1.0 / replay.share.min(1.0)).round().max(1.0) as u64;
    let shifted = reads + number as u64;
    if shifted % every != 0 {
        return None;
    }
    let turn = (shifted / every) as usize;
    (0..replay.identities.len())
        .map(|i| replay.identities[(turn + i) % replay.identities.len()])
        .find(|identity| *identity == ReplayIdentity::Anonymous || replayable)
}

/// An owner picked from `viewer` and `turn`, never the viewer nor a member of its household
/// (who may see its data); `None` when everyone is.
fn other_owner(owners: &dyn Owners, viewer: u32, turn: u64) -> Option<u32> {
    let len = owners.len() as u64;
    let household = owners.household(viewer);
    let start = (u64::from(viewer) + 1 + turn.wrapping_mul(7_919)) % len.max(1);
    (0..len)
        .map(|step| ((start + step) % len) as u32)
        .find(|other| *other != viewer && owners.household(*other) != household)
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
    /// `METHOD name`, as goose keys the row; not written to reports.
    #[serde(skip)]
    pub key: String,
    /// Every response time of the row, for the latency thresholds; not written to reports.
    #[serde(skip)]
    pub times: ResponseTimes,
}

impl GooseFigures {
    /// The figures of two loads run one after the other (two phases).
    pub fn merge(mut self, other: GooseFigures) -> GooseFigures {
        for page in other.pages {
            // By goose's key (method and name): one name may be read with two methods.
            match self.pages.iter_mut().find(|p| p.key == page.key) {
                Some(mine) => {
                    let total = mine.requests + page.requests;
                    if total > 0 {
                        mine.mean_ms = (mine.mean_ms * mine.requests as f64
                            + page.mean_ms * page.requests as f64)
                            / total as f64;
                    }
                    mine.requests = total;
                    mine.failures += page.failures;
                    mine.max_ms = mine.max_ms.max(page.max_ms);
                    mine.times.merge(&page.times);
                }
                None => self.pages.push(page),
            }
        }
        self.pages.sort_by(|a, b| a.name.cmp(&b.name));
        self.requests += other.requests;
        self.failed_requests += other.failed_requests;
        self.duration_secs += other.duration_secs;
        self.users = self.users.max(other.users);
        self
    }

    /// The response times of the rows named `request` (a row's name, or `METHOD name`), or of
    /// every row together; `None` when no row has that name.
    pub fn times(&self, request: Option<&str>) -> Option<ResponseTimes> {
        let mut all = ResponseTimes::default();
        let mut found = false;
        for page in &self.pages {
            let named = request.is_none_or(|wanted| page.name == wanted || page.key == wanted);
            if named {
                all.merge(&page.times);
                found = true;
            }
        }
        found.then_some(all)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("goose could not run the load: {0}")]
    Goose(#[from] GooseError),
    #[error(transparent)]
    Shard(#[from] ShardError),
}

/// Runs the load against `base_url` and returns goose's figures when every user has stopped.
pub async fn run(
    base_url: &str,
    plan: &LoadPlan,
    ctx: Arc<LoadContext>,
) -> Result<GooseFigures, LoadError> {
    let mut config = GooseConfiguration::default();
    // Observers come on top of the beneficiaries, and start with them.
    let started = plan.users + ctx.behaviours.observers;
    config.host = Some(base_url.to_owned());
    config.users = Some(started);
    config.increase_rate = Some(format!("{:.3}", plan.increase_rate.max(0.001)));
    config.run_time =
        Some(hold_secs(plan.duration, ramp_time(started, plan.increase_rate)).to_string());
    // Goose would forget what it measured while users were starting: the logins among it.
    config.no_reset_metrics = true;
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
    let mut attack = GooseAttack::initialize_with_config(config)?;
    for scenario in journey::scenarios(&ctx, plan.users)? {
        attack = attack.register_scenario(scenario);
    }
    // Goose would build a full HTTP client per user before the run; users send through their
    // own transport connection instead, so every goose user holds this one shared, unused client.
    let metrics = attack
        .set_client_builder_without_cookies(shared_placeholder)?
        .execute()
        .await?;
    Ok(figures(&metrics))
}

/// Goose's `run_time`: how long it keeps every user running once the ramp is over, so that the
/// ramp and the hold together last `duration` from the first user's start. Whole seconds (goose
/// counts no finer), at least one (goose never stops a load without one).
fn hold_secs(duration: Duration, ramp: Duration) -> u64 {
    duration.saturating_sub(ramp).as_secs_f64().round().max(1.0) as u64
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
                // The users record their requests as custom ones labelled with the HTTP method.
                key: format!("{} {}", aggregate.method_label(), aggregate.path),
                times: ResponseTimes::from_goose(timing),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goose_holds_the_users_for_what_the_ramp_leaves_of_the_duration() {
        let hold = |duration: u64, ramp_ms: u64| {
            hold_secs(
                Duration::from_secs(duration),
                Duration::from_millis(ramp_ms),
            )
        };
        // `demo --users 20 --increase-rate 2 --duration 15s`: 10 s of ramp, 5 s of hold.
        assert_eq!(hold(15, 10_000), 5);
        assert_eq!(hold(20, 2_010), 18);
        assert_eq!(hold(3, 2_600), 1, "at least one second");
        assert_eq!(hold(5, 0), 5);
    }

    fn replay(identities: &[ReplayIdentity]) -> Replay {
        Replay {
            share: 0.25,
            identities: identities.to_vec(),
        }
    }

    #[test]
    fn one_read_in_four_is_replayed_by_each_identity_in_turn_offset_by_the_user() {
        let both = replay(&[ReplayIdentity::OtherUser, ReplayIdentity::Anonymous]);
        let turns: Vec<_> = (0..16)
            .filter_map(|reads| replay_turn(&both, true, 1, reads))
            .collect();
        use ReplayIdentity::{Anonymous, OtherUser};
        assert_eq!(turns, [Anonymous, OtherUser, Anonymous, OtherUser]);
        // User 1 replays reads 3, 7, 11…; user 2 reads 2, 6, 10…: the pages take turns.
        assert_eq!(replay_turn(&both, true, 1, 3), Some(Anonymous));
        assert_eq!(replay_turn(&both, true, 2, 3), None);
        assert!(replay_turn(&both, true, 2, 2).is_some());
    }

    #[test]
    fn a_page_without_a_watched_value_is_never_replayed_as_another_owner() {
        let both = replay(&[ReplayIdentity::OtherUser, ReplayIdentity::Anonymous]);
        let other = replay(&[ReplayIdentity::OtherUser]);
        for reads in 0..64 {
            assert_ne!(
                replay_turn(&both, false, 0, reads),
                Some(ReplayIdentity::OtherUser)
            );
            assert_eq!(replay_turn(&other, false, 0, reads), None);
        }
        assert!((0..64).any(|reads| replay_turn(&other, true, 0, reads).is_some()));
    }

    #[test]
    fn the_other_owner_is_never_the_viewer_nor_its_household() {
        let population =
            crate::population::Population::generate(&crate::population::GenerateOptions {
                size: 50,
                seed: 3,
                household_share: 0.6,
                provisional_share: 0.5,
            })
            .unwrap();
        let mut picked = std::collections::HashSet::new();
        for viewer in 0..50 {
            for turn in 0..20 {
                let other = other_owner(&population, viewer, turn).expect("someone else");
                assert_ne!(other, viewer);
                assert!(
                    !population.same_household(viewer, other),
                    "{viewer} {other}"
                );
                picked.insert(other);
            }
        }
        assert!(picked.len() > 25, "the choice spreads over the population");
        let alone = crate::population::Population::generate(&crate::population::GenerateOptions {
            size: 1,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(other_owner(&alone, 0, 0), None);
    }
}
