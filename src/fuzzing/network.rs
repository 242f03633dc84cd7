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
//! logins, and a run where most baselines fail proves nothing (inconclusive, as a load run).

use super::mutate::{IdentifierKind, Mutation};
use crate::findings::{
    AccountRef, Collector, Finding, FindingKind, FindingSink, Masking, RequestEvidence,
    ResponseEvidence,
};
use crate::load::{
    check, CheckContext, Counters, ErrorCause, Exchange, Site, Watchlist, DEFAULT_MAX_BODY_BYTES,
};
use crate::outcome::Status;
use crate::population::{Beneficiary, OwnerId, Population};
use crate::report::{self, PhaseSpan, RunFacts, Sample, ScenarioInfo, Summary, Timeline};
use crate::run::{RunError, RunResult};
use crate::scenario::{
    beneficiary_value, LoadedPopulation, LoginFlow, Logout, Page, PopulationSource, RenderedBody,
    Request, Scenario, SessionCarrier,
};
use crate::transport::{self as wire, Connection, Jar, Settings, Transport};
use http::header::HeaderMap;
use http::Method;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// Mutated attempts per beneficiary and flow, after its baseline.
const MUTATIONS_PER_LOGIN: usize = 6;
/// The longest wait between two requests, whatever `--rate` says.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);
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

/// What a password attempt sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Password {
    Own,
    /// Another beneficiary's password.
    Other(OwnerId),
    Empty,
    /// The own password without its last character.
    Truncated,
    /// The own password with its case flipped.
    CaseFlipped,
}

impl Password {
    fn value(self, owner: &Beneficiary, population: &Population) -> String {
        match self {
            Password::Own => owner.password.clone(),
            Password::Other(other) => population
                .get(other)
                .map_or_else(String::new, |b| b.password.clone()),
            Password::Empty => String::new(),
            Password::Truncated => {
                let mut p = owner.password.clone();
                p.pop();
                p
            }
            Password::CaseFlipped => owner
                .password
                .chars()
                .map(|c| {
                    if c.is_uppercase() {
                        c.to_ascii_lowercase()
                    } else {
                        c.to_ascii_uppercase()
                    }
                })
                .collect(),
        }
    }

    fn label(self) -> String {
        match self {
            Password::Own => "own password".into(),
            Password::Other(other) => format!("owner {other}'s password"),
            Password::Empty => "an empty password".into(),
            Password::Truncated => "its password cut short".into(),
            Password::CaseFlipped => "its password with the case flipped".into(),
        }
    }
}

/// One planned login attempt.
#[derive(Clone, Copy, Debug)]
struct Attempt {
    owner: OwnerId,
    flow: usize,
    mutation: Mutation,
    password: Password,
    baseline: bool,
}

/// A login flow the fuzzer can drive: it types an identifier in one of its steps.
struct Fuzzable<'a> {
    flow: &'a LoginFlow,
    kind: IdentifierKind,
}

/// The flows that type an identifier, with the identifier each types.
fn fuzzable(flows: &[LoginFlow]) -> Vec<Fuzzable<'_>> {
    flows
        .iter()
        .filter_map(|flow| {
            let kind = flow
                .steps
                .iter()
                .flat_map(|s| s.request.templates())
                .flat_map(|t| t.variables())
                .find_map(IdentifierKind::of_variable)?;
            Some(Fuzzable { flow, kind })
        })
        .collect()
}

/// The attempts, in order: for each beneficiary (in a seeded order) and each flow, the baseline
/// then [`MUTATIONS_PER_LOGIN`] mutations, one in four a wrong password.
fn plan(population: &Population, flows: usize, seed: u64, max: usize) -> Vec<Attempt> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut owners: Vec<OwnerId> = population.iter().map(|b| b.id).collect();
    owners.shuffle(&mut rng);
    let mut attempts = Vec::new();
    'all: for owner in owners {
        for flow in 0..flows {
            for index in 0..=MUTATIONS_PER_LOGIN {
                if attempts.len() >= max {
                    break 'all;
                }
                let attempt = if index == 0 {
                    Attempt {
                        owner,
                        flow,
                        mutation: Mutation::Unchanged,
                        password: Password::Own,
                        baseline: true,
                    }
                } else if rng.random_range(0..4) == 0 {
                    let other = population.beneficiaries[rng.random_range(0..population.len())].id;
                    let password = match rng.random_range(0..4) {
                        0 if other != owner => Password::Other(other),
                        0 | 1 => Password::Empty,
                        2 => Password::Truncated,
                        _ => Password::CaseFlipped,
                    };
                    Attempt {
                        owner,
                        flow,
                        mutation: Mutation::Unchanged,
                        password,
                        baseline: false,
                    }
                } else {
                    let menu = &Mutation::MENU[1..];
                    Attempt {
                        owner,
                        flow,
                        mutation: menu[rng.random_range(0..menu.len())],
                        password: Password::Own,
                        baseline: false,
                    }
                };
                attempts.push(attempt);
            }
        }
    }
    attempts
}

/// At most one request per `interval`.
struct Pace {
    interval: Duration,
    next: tokio::time::Instant,
}

impl Pace {
    fn new(rate: f64) -> Self {
        Self {
            // At most one request an hour: a tiny --rate is not a reason to panic.
            interval: Duration::try_from_secs_f64(1.0 / rate)
                .unwrap_or(MAX_INTERVAL)
                .min(MAX_INTERVAL),
            next: tokio::time::Instant::now(),
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep_until(self.next).await;
        self.next = self.next.max(tokio::time::Instant::now()) + self.interval;
    }
}

/// One response, read whole, redirects followed.
struct Landing {
    status: u16,
    /// The request carried an `Authorization` header (what a shared cache may store depends on it).
    authorization: bool,
    url: String,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Landing {
    fn path(&self) -> String {
        Url::parse(&self.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }
}

/// Why an attempt stopped before it could be judged.
enum Broke {
    /// A 5xx: the login parser (or what stands behind it) failed on this input.
    ServerError {
        request: String,
        landing: Landing,
    },
    Transport(ErrorCause),
}

/// Everything an attempt needs, shared by all of them.
struct Fuzzer<'a> {
    target: &'a str,
    transport: &'a Transport,
    population: &'a Population,
    watch: &'a Watchlist,
    sink: &'a FindingSink,
    counters: &'a Counters,
    masking: Masking,
    /// The scenario's pages: an attempt reads the first one its flow's users read.
    pages: &'a [Page],
    logout: Option<&'a Logout>,
    started: Instant,
    pace: Pace,
}

/// One attempt's browser: its own cookie jar and connection, shared with no other attempt.
#[derive(Default)]
struct Device {
    jar: Jar,
    connection: Connection,
}

impl Fuzzer<'_> {
    /// Sends one rendered request from `device` (its jar, its connection), redirects within the
    /// target followed, and reads the final response up to the scan cap.
    async fn send(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&RenderedBody>,
        device: &mut Device,
    ) -> Result<Landing, Broke> {
        let url = Url::parse(&format!("{}{path}", self.target))
            .map_err(|_| Broke::Transport(ErrorCause::Transport))?;
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::GET);
        let authorization = headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("authorization"));
        self.pace.wait().await;
        self.counters.request();
        let request = wire::Request {
            method: method.clone(),
            url: url.clone(),
            headers: headers
                .iter()
                .map(|(name, value)| (name.as_str(), value.as_str()))
                .collect(),
            body: body.map(wire::Body::of),
        };
        let response = self
            .transport
            .send(&mut device.connection, Some(&device.jar), request)
            .await
            .map_err(|e| Broke::Transport(e.cause()))?;
        let landing = Landing {
            status: response.status,
            authorization,
            url: response.url.to_string(),
            headers: response.headers,
            body: response.body,
        };
        if landing.status >= 500 {
            return Err(Broke::ServerError {
                request: format!("{method} {url}"),
                landing,
            });
        }
        Ok(landing)
    }

    /// Plays one attempt and sends what it finds to the collector.
    async fn attempt(&mut self, fuzzable: &Fuzzable<'_>, attempt: Attempt) {
        let Some(owner) = self.population.get(attempt.owner) else {
            return;
        };
        let flow = fuzzable.flow;
        let typed = attempt
            .mutation
            .apply(&fuzzable.kind.value(owner), fuzzable.kind);
        let password = attempt.password.value(owner, self.population);
        // A variant equal to the real password (digits only, flipped case; a shared password in
        // an export) is the owner's own: its success is no finding.
        let wrong_password = attempt.password != Password::Own && password != owner.password;
        let own_value = fuzzable.kind.value(owner);
        let name = format!(
            "POST {} ({}) {}",
            flow.steps
                .last()
                .map(|s| s.request.path.as_str())
                .unwrap_or(""),
            flow.name,
            if attempt.password == Password::Own {
                attempt.mutation.label()
            } else {
                attempt.password.label()
            }
        );
        let mut device = Device::default();
        let mut extracted: Vec<(String, String)> = Vec::new();
        let mut landing = None;
        let mut login_request = (String::new(), String::new());
        for step in &flow.steps {
            let values = |variable: &str| -> Option<Cow<'_, str>> {
                if let Some((_, value)) = extracted.iter().find(|(n, _)| n == variable) {
                    return Some(Cow::Owned(value.clone()));
                }
                if variable == "password" {
                    return Some(Cow::Owned(password.clone()));
                }
                if variable == fuzzable.kind.variable() {
                    return Some(Cow::Owned(typed.clone()));
                }
                beneficiary_value(owner, variable).map(Cow::Owned)
            };
            let Ok(rendered) = step.request.render(&values) else {
                return;
            };
            login_request = (
                rendered.method.as_str().to_owned(),
                format!("{}{}", self.target, rendered.path),
            );
            let answer = self
                .send(
                    rendered.method.as_str(),
                    &rendered.path,
                    &rendered.headers,
                    rendered.body.as_ref(),
                    &mut device,
                )
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(broke) => return self.broke(owner, attempt, &name, &typed, broke),
            };
            for extraction in &step.extract {
                if let Some(value) = extraction.take(&answer.body, &answer.headers) {
                    extracted.push((extraction.name.clone(), value));
                }
            }
            landing = Some(answer);
        }
        let Some(landing) = landing else { return };
        let success = flow
            .success
            .met_by(landing.status, &landing.path(), &landing.body);
        if attempt.baseline {
            if success {
                self.counters.login(false);
            } else {
                self.counters.login_failed();
            }
        }
        let must_show: &[String] = if success {
            &flow.success.must_show
        } else {
            &[]
        };
        // The oracle's field for what was typed: every NIR form is indexed as `nir`.
        let typed_field = match fuzzable.kind {
            IdentifierKind::Numero => "numero_allocataire",
            IdentifierKind::Nir | IdentifierKind::NirBody => "nir",
        };
        let echoed = (typed != own_value).then_some((typed_field, typed.as_str()));
        let (method, url) = &login_request;
        let opened_landing = self.judge(
            owner, method, &name, &landing, must_show, &typed, echoed, attempt,
        );
        if !success {
            return;
        }
        let mut opened_page = false;
        // The session's first page, where the opened file shows even when the landing does not.
        let bearer = flow.session.bearer_token(&landing.body);
        let session_headers: Vec<(String, String)> = match (&flow.session, &bearer) {
            (SessionCarrier::Bearer { header, prefix, .. }, Some(token)) => {
                vec![(header.clone(), format!("{prefix}{token}"))]
            }
            _ => Vec::new(),
        };
        let pages = self.pages;
        if let Some(page) = pages.iter().find(|p| p.read_by(&flow.name)) {
            match self
                .send_in_session(&page.request, owner, &session_headers, &mut device)
                .await
            {
                Some(Ok(read)) => {
                    let page_name = format!("{name} then {}", page.name);
                    opened_page = self.judge(
                        owner,
                        page.request.method.as_str(),
                        &page_name,
                        &read,
                        &page.must_show,
                        &typed,
                        echoed,
                        attempt,
                    );
                }
                Some(Err(broke)) => return self.broke(owner, attempt, &name, &typed, broke),
                None => {}
            }
        }
        // Met the success conditions with a wrong password, and some file actually showed.
        if wrong_password && (opened_landing || opened_page) {
            let finding =
                self.wrong_password(owner, &format!("{method} {url}"), &name, &landing, attempt);
            self.sink.send(finding);
        }
        // Ends the session; a step that needs a value extracted at login is not sent.
        if let Some(logout) = self.logout {
            for step in &logout.steps {
                let _ = self
                    .send_in_session(&step.request, owner, &session_headers, &mut device)
                    .await;
            }
        }
    }

    /// Sends `request` as `owner` in the attempt's session (its jar, its bearer header); `None`
    /// when the request cannot be rendered for this owner.
    async fn send_in_session(
        &mut self,
        request: &Request,
        owner: &Beneficiary,
        session_headers: &[(String, String)],
        device: &mut Device,
    ) -> Option<Result<Landing, Broke>> {
        let rendered = request
            .render(&|v: &str| beneficiary_value(owner, v).map(Cow::Owned))
            .ok()?;
        let mut headers = rendered.headers.clone();
        headers.extend(session_headers.iter().cloned());
        Some(
            self.send(
                rendered.method.as_str(),
                &rendered.path,
                &headers,
                rendered.body.as_ref(),
                device,
            )
            .await,
        )
    }

    /// Whether a response carries anyone's identifying data: a file was opened.
    fn carries_data(&self, landing: &Landing) -> bool {
        !self.watch.oracle.scan(&landing.body).is_empty()
    }

    /// The load run's check on one response seen as `owner`; what the attempt typed goes in the
    /// detail. Returns whether the response carried anyone's data (a file was opened).
    ///
    /// A mutated login whose answers carry nobody's data was refused, whatever the success
    /// conditions say (a status-only condition cannot tell a 200 error page from a file): only
    /// the unmutated baseline, or a response that did open a file, is held to `must_show`.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &self,
        owner: &Beneficiary,
        method: &str,
        name: &str,
        landing: &Landing,
        must_show: &[String],
        typed: &str,
        echoed: Option<(&str, &str)>,
        attempt: Attempt,
    ) -> bool {
        self.counters.checked();
        let opened = self.carries_data(landing);
        let must_show = if attempt.baseline || opened {
            must_show
        } else {
            &[]
        };
        let ctx = self.context();
        let findings = check(
            &ctx,
            Some(owner.id),
            &Exchange {
                method,
                name,
                url: &landing.url,
                status: landing.status,
                final_url: &landing.url,
                authorization: landing.authorization,
                headers: &landing.headers,
                body: &landing.body,
            },
            must_show,
        );
        // A refused login that echoes the mistyped identifier ("dossier 1234568 inconnu") shows
        // whoever that typo happens to designate: no leak, unless other values come with it.
        let body = String::from_utf8_lossy(&landing.body);
        let echo_field = echoed
            .filter(|(_, typed)| !typed.is_empty() && body.contains(typed))
            .map(|(field, _)| field);
        for mut finding in findings {
            if finding.kind == FindingKind::Violation
                && echo_field.is_some_and(|field| finding.foreign.iter().all(|f| f.field == field))
            {
                continue;
            }
            if finding.kind == FindingKind::Violation {
                finding.detail = format!(
                    "{}: a login with {} ({:?} typed as {}) opened an account other than the identifier owner's",
                    finding.detail,
                    attempt.password.label(),
                    self.masking.apply(typed),
                    attempt.mutation.label()
                );
            }
            self.sink.send(finding);
        }
        opened
    }

    fn context(&self) -> CheckContext<'_> {
        CheckContext {
            watch: self.watch,
            population: self.population,
            masking: self.masking,
            phase: PHASE,
            user: 0,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
        }
    }

    fn account(&self, owner: OwnerId) -> AccountRef {
        AccountRef {
            owner,
            numero_allocataire: self
                .population
                .get(owner)
                .map(|b| self.masking.apply(b.numero_allocataire.as_str()))
                .unwrap_or_default(),
        }
    }

    fn evidence(
        &self,
        request: &str,
        name: &str,
        landing: &Landing,
    ) -> (RequestEvidence, ResponseEvidence) {
        let (method, url) = request.split_once(' ').unwrap_or(("POST", request));
        let headers: BTreeMap<String, String> =
            ["set-cookie", "content-type", "location", "cache-control"]
                .into_iter()
                .filter_map(|h| {
                    let value = landing.headers.get(h)?.to_str().ok()?;
                    let value = if h == "set-cookie" {
                        self.masking.apply(value)
                    } else {
                        value.to_owned()
                    };
                    Some((h.to_owned(), value))
                })
                .collect();
        let excerpt: String = String::from_utf8_lossy(&landing.body)
            .chars()
            .take(300)
            .collect();
        (
            RequestEvidence {
                method: method.to_owned(),
                name: name.to_owned(),
                url: url.to_owned(),
            },
            ResponseEvidence {
                status: landing.status,
                final_url: landing.url.clone(),
                headers,
                excerpt,
            },
        )
    }

    fn finding(
        &self,
        kind: FindingKind,
        owner: OwnerId,
        detail: String,
        evidence: (RequestEvidence, ResponseEvidence),
    ) -> Finding {
        Finding {
            kind,
            at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            phase: PHASE.to_owned(),
            user: 0,
            viewer: Some(self.account(owner)),
            foreign: Vec::new(),
            missing: Vec::new(),
            detail,
            request: evidence.0,
            response: evidence.1,
        }
    }

    /// A login that met the flow's success conditions with a password that is not the owner's.
    fn wrong_password(
        &self,
        owner: &Beneficiary,
        request: &str,
        name: &str,
        landing: &Landing,
        attempt: Attempt,
    ) -> Finding {
        let mut evidence = self.evidence(request, name, landing);
        evidence.1.excerpt.clear();
        self.finding(
            FindingKind::Violation,
            owner.id,
            format!(
                "a login with owner {}'s identifier and {} succeeded: an account opened without its password",
                owner.id,
                attempt.password.label()
            ),
            evidence,
        )
    }

    fn broke(&self, owner: &Beneficiary, attempt: Attempt, name: &str, typed: &str, broke: Broke) {
        match broke {
            Broke::Transport(cause) => self.counters.error(cause),
            Broke::ServerError { request, landing } => {
                self.counters.error(ErrorCause::ServerError);
                let evidence = self.evidence(&request, name, &landing);
                let finding = self.finding(
                    FindingKind::ParserFailure,
                    owner.id,
                    format!(
                        "the target answered {} to a login with {} ({:?} typed as {}): its login parser failed",
                        landing.status,
                        attempt.password.label(),
                        self.masking.apply(typed),
                        attempt.mutation.label()
                    ),
                    evidence,
                );
                self.sink.send(finding);
            }
        }
    }
}

/// Ctrl-C or SIGTERM, whichever comes first.
async fn interrupted() -> &'static str {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            return tokio::select! {
                _ = tokio::signal::ctrl_c() => "SIGINT",
                _ = term.recv() => "SIGTERM",
            };
        }
    }
    let _ = tokio::signal::ctrl_c().await;
    "SIGINT"
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
    let result = fuzz(&scenario, &options, population, &flows, &target, faults).await;
    if let Some(portal) = portal {
        portal.shutdown().await;
    }
    result
}

async fn fuzz(
    scenario: &Scenario,
    options: &FuzzLoginOptions,
    population: Population,
    flows: &[Fuzzable<'_>],
    target: &str,
    faults: Vec<String>,
) -> Result<RunResult, RunError> {
    let run_id = report::run_id();
    let dir = options.report_root.join(&run_id);
    std::fs::create_dir_all(&dir).map_err(|source| RunError::ReportDir {
        path: dir.clone(),
        source,
    })?;
    let population = Arc::new(population);
    let watch = Watchlist::build(&population)?;
    let (collector, sink) = Collector::start(&dir.join(report::FINDINGS))?;
    let counters = Counters::default();
    let started_at = chrono::Utc::now();
    let started = Instant::now();
    let timeout = scenario.target.request_timeout;
    let attempts = plan(&population, flows.len(), options.seed, options.max_attempts);
    let mut interrupted_by = None;
    let mut aborted = None;
    let transport = Transport::for_run(
        &Settings::of(&scenario.target),
        target,
        timeout,
        DEFAULT_MAX_BODY_BYTES,
    )?;
    let reached = crate::run::reachable(&transport, target).await;
    let mut made = 0usize;
    let mut baselines = 0usize;
    if reached.is_ok() {
        for phase in &scenario.phases {
            if let Err(reason) = crate::run::phase_actions(&transport, target, phase).await {
                aborted = Some(reason);
                break;
            }
        }
    }
    if reached.is_ok() && aborted.is_none() {
        let mut fuzzer = Fuzzer {
            target,
            transport: &transport,
            population: &population,
            watch: &watch,
            sink: &sink,
            counters: &counters,
            masking: if options.reveal {
                Masking::Revealed
            } else {
                Masking::Masked
            },
            pages: &scenario.pages,
            logout: scenario.logout.as_ref(),
            started,
            pace: Pace::new(options.rate),
        };
        let deadline = tokio::time::Instant::now() + options.duration.min(MAX_DURATION);
        let signal = interrupted();
        tokio::pin!(signal);
        for attempt in attempts {
            let run = fuzzer.attempt(&flows[attempt.flow], attempt);
            tokio::select! {
                _ = run => {}
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
                    sink.count(FindingKind::Violation),
                    sink.count(FindingKind::ParserFailure)
                );
            }
        }
    }
    let findings_so_far: Vec<u64> = FindingKind::ALL.iter().map(|k| sink.count(*k)).collect();
    let findings = collector.finish();
    let recorded = report::read_findings(&dir);
    let snapshot = counters.snapshot();
    let finished_at = chrono::Utc::now();
    let end_secs = started.elapsed().as_secs_f64();
    let timeline = reached.is_ok().then(|| Timeline {
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
                findings: findings_so_far,
            },
        ],
        phases: vec![PhaseSpan {
            name: PHASE.to_owned(),
            started_at,
            finished_at,
            start_secs: 0.0,
            end_secs,
        }],
    });
    let facts = RunFacts {
        run_id: &run_id,
        command: &options.command,
        target,
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
        users: baselines.max(1),
        population: population.len(),
        checks: true,
        revealed: options.reveal,
        started_at,
        counters: snapshot,
        findings,
        goose: Default::default(),
        planned_duration: options.duration,
        timeline: timeline.as_ref(),
        recorded: &recorded,
        interrupted_by,
        connections: transport.connections(),
    };
    let mut summary = Summary::from_facts(facts);
    // No goose load ran: there is no goose report to point to.
    summary.files.remove("goose_report");
    if let Some(reason) = aborted {
        if summary.status != Status::Violations {
            summary.status = Status::Inconclusive;
            summary.exit_code = Status::Inconclusive.exit_code();
            summary.reason = reason;
        }
    }
    if let Err(reason) = reached {
        summary.status = Status::Unreachable;
        summary.exit_code = Status::Unreachable.exit_code();
        summary.reason = reason;
    } else if summary.status == Status::Clean {
        summary.reason = format!(
            "{made} login attempts ({baselines} unmutated), {} responses checked: every login opened only its identifier owner's account, none without its password",
            summary.checked_responses
        );
    }
    for error in report::write_all(&dir, &summary, timeline.as_ref(), &recorded) {
        eprintln!("warning: {error}");
    }
    Ok(RunResult { summary, dir })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::population::GenerateOptions;

    #[test]
    fn the_plan_starts_each_login_with_its_baseline_and_stops_at_the_bound() {
        let population = Population::generate(&GenerateOptions {
            size: 30,
            seed: 1,
            ..GenerateOptions::default()
        })
        .expect("population");
        let attempts = plan(&population, 2, 9, 100);
        assert_eq!(attempts.len(), 100);
        for chunk in attempts.chunks(MUTATIONS_PER_LOGIN + 1) {
            assert!(chunk[0].baseline);
            assert_eq!(chunk[0].mutation, Mutation::Unchanged);
            assert_eq!(chunk[0].password, Password::Own);
            assert!(chunk[1..]
                .iter()
                .all(|a| !a.baseline && a.owner == chunk[0].owner));
        }
        assert!(attempts.iter().any(|a| a.password != Password::Own));
        assert!(attempts.iter().any(|a| a.mutation != Mutation::Unchanged));
        // The same seed, the same plan.
        let again = plan(&population, 2, 9, 100);
        assert!(attempts
            .iter()
            .zip(&again)
            .all(|(a, b)| a.owner == b.owner && a.mutation == b.mutation));
    }
}
