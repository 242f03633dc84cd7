//! What one simulated beneficiary does, as goose transactions: log in by its flow, read its pages,
//! write its data, and the named behaviours that open race windows (crowd, cancellation, session
//! replay, cache probes). One GooseUser is one beneficiary; observers have no session at all.

use super::cache_status;
use super::check::{check, json_mismatch, session_finding, CheckContext, Exchange, SessionEvent};
use super::counters::ErrorCause;
use super::tokens::cookie_value;
use super::LoadContext;
use crate::findings::FindingKind;
use crate::population::{OwnerId, Owners};
use crate::scenario::{
    LoginFlow, Logout, Method, Phase, RenderedRequest, ReplayIdentity, Request, SessionCarrier,
};
use crate::transport::{self as wire, Connection, Jar};
use goose::prelude::*;
use http::header::{HeaderMap, COOKIE};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

/// Per-user state kept in goose's session data.
#[derive(Clone)]
struct Visitor {
    owner: OwnerId,
    /// The user's number in its phase: picks its login flow and whether it changes its password.
    number: usize,
    phase: Arc<Phase>,
    flow: usize,
    /// The user's own cookie jar, readable so the journey can see its session token.
    jar: Arc<Jar>,
    /// The session token of a bearer-token flow.
    bearer: Option<String>,
    /// What the last login extracted (`{{csrf}}`): a logout may send it.
    extracted: Vec<(String, String)>,
    password: String,
    logged_in: bool,
    logins: u32,
    /// The last logout was the journey's own (a replay), not a lost session.
    left_on_purpose: bool,
    /// Login failures in a row, for the backoff.
    failed_logins: u32,
    /// Per write, which of its values comes next.
    write_turns: Vec<usize>,
    reads: u64,
    password_changed: bool,
    probes: usize,
}

/// What goose keeps for one user between its transactions. The connection is taken out for each
/// request and put back, never cloned: only the journey state is copied per transaction.
#[derive(Clone, Default)]
struct Session {
    /// `None` for an observer, which has no identity.
    visitor: Option<Visitor>,
    connection: Connection,
}

/// The user's session data, made on its first use.
fn session(user: &mut GooseUser) -> &mut Session {
    if user.get_session_data::<Session>().is_none() {
        user.set_session_data(Session::default());
    }
    user.get_session_data_unchecked_mut::<Session>()
}

/// Where a request ended up, and what came back.
struct Landing {
    /// The URL asked for, before redirects.
    url: String,
    /// The request carried an `Authorization` header.
    authorization: bool,
    status: u16,
    path: String,
    headers: HeaderMap,
    body: Vec<u8>,
    /// A 2xx on the expected page (not redirected elsewhere), whatever it showed.
    expected_page: bool,
    /// The expected page, and it showed the viewer's own identity and nothing foreign.
    own_page: bool,
    /// The response says a cache served it (a hit header, or Age > 0).
    cache_hit: bool,
}

type StepFuture<'r> =
    std::pin::Pin<Box<dyn std::future::Future<Output = TransactionResult> + Send + 'r>>;

/// A step of the journey; the `usize` says which page, write or probe the step is about.
type Step = for<'r> fn(&'r mut GooseUser, Arc<LoadContext>, usize) -> StepFuture<'r>;

fn transaction(ctx: &Arc<LoadContext>, argument: usize, step: Step) -> Transaction {
    let ctx = Arc::clone(ctx);
    Transaction::new(Arc::new(move |user| step(user, Arc::clone(&ctx), argument)))
}

/// The goose scenarios for `ctx`: `users` beneficiaries, and the anonymous observers on top.
pub fn scenarios(ctx: &Arc<LoadContext>, users: usize) -> Result<Vec<Scenario>, GooseError> {
    let observers = ctx.behaviours.observers;
    let mut scenario = Scenario::new("beneficiary").set_weight(users)?;
    if let Some((min, max)) = ctx.think_time {
        scenario = scenario.set_wait_time(min, max)?;
    }
    scenario = scenario.register_transaction(
        transaction(ctx, 0, |user, ctx, _| Box::pin(log_in_if_needed(user, ctx)))
            .set_name("login")
            .set_on_start(),
    );
    for index in 0..ctx.site.pages.len() {
        let name = format!("read {}", ctx.site.pages[index].name);
        scenario = scenario.register_transaction(
            transaction(ctx, index, |user, ctx, index| {
                Box::pin(read_page(user, ctx, index))
            })
            .set_name(&name)
            .set_weight(6)?,
        );
    }
    for index in 0..ctx.site.writes.len() {
        let name = format!("write {}", ctx.site.writes[index].name);
        scenario = scenario.register_transaction(
            transaction(ctx, index, |user, ctx, index| {
                Box::pin(write(user, ctx, index))
            })
            .set_name(&name),
        );
    }
    if ctx.behaviours.session_reuse && ctx.site.logout.is_some() {
        scenario = scenario.register_transaction(
            transaction(ctx, 0, |user, ctx, _| {
                Box::pin(log_out_and_replay(user, ctx))
            })
            .set_name("log out, replay the old session"),
        );
    }
    if ctx.phase().password_changes.is_some() {
        scenario = scenario.register_transaction(
            transaction(ctx, 0, |user, ctx, _| Box::pin(change_password(user, ctx)))
                .set_name("change password"),
        );
    }
    if ctx.behaviours.cache_probes && !ctx.probe_paths.is_empty() {
        scenario = scenario.register_transaction(
            transaction(ctx, 0, |user, ctx, _| Box::pin(probe_cache(user, ctx)))
                .set_name("cache-deception probe"),
        );
    }
    let mut all = vec![scenario];
    if observers > 0 {
        let mut observer = Scenario::new("anonymous observer")
            .set_weight(observers)?
            .set_wait_time(Duration::from_millis(20), Duration::from_millis(80))?;
        for index in 0..ctx.observed_paths.len() {
            observer = observer.register_transaction(
                transaction(ctx, index, |user, ctx, index| {
                    Box::pin(observe(user, ctx, index))
                })
                .set_name("observe"),
            );
        }
        all.push(observer);
    }
    Ok(all)
}

fn visitor(user: &mut GooseUser, ctx: &LoadContext) -> Visitor {
    if let Some(visitor) = user
        .get_session_data::<Session>()
        .and_then(|s| s.visitor.as_ref())
    {
        return visitor.clone();
    }
    // First step of this user: its own cookie jar (its connection opens on its first request),
    // then its identity.
    let jar = Arc::new(Jar::default());
    ctx.counters.user_started(ctx.started.elapsed());
    // Goose numbers the observers among the beneficiaries: the phase's beneficiaries are
    // numbered apart, so that its users are exactly its first `users` owners.
    let number = ctx.next_beneficiary();
    let owner = ctx.owner_of(number);
    let phase = ctx.phase();
    let visitor = Visitor {
        owner,
        number,
        flow: ctx.site.flow_for(&phase, number),
        phase,
        jar,
        bearer: None,
        extracted: Vec::new(),
        password: ctx
            .population
            .value(owner, "password")
            .map(Cow::into_owned)
            .unwrap_or_default(),
        logged_in: false,
        logins: 0,
        left_on_purpose: false,
        failed_logins: 0,
        write_turns: vec![0; ctx.site.writes.len()],
        reads: 0,
        password_changed: false,
        probes: 0,
    };
    save(user, visitor.clone());
    visitor
}

fn save(user: &mut GooseUser, visitor: Visitor) {
    session(user).visitor = Some(visitor);
}

fn check_context<'a>(ctx: &'a LoadContext, user: &GooseUser, phase: &'a str) -> CheckContext<'a> {
    CheckContext {
        watch: &ctx.watch,
        population: ctx.population.as_ref(),
        masking: ctx.masking,
        phase,
        user: user.weighted_users_index,
        elapsed_ms: ctx.started.elapsed().as_millis() as u64,
    }
}

/// One owner of the population, as its user's requests see it: its variables.
#[derive(Clone, Copy)]
struct Own<'a> {
    owners: &'a dyn Owners,
    id: OwnerId,
}

impl<'a> Own<'a> {
    /// The owner a user plays, when the population has it.
    fn of(ctx: &'a LoadContext, id: OwnerId) -> Option<Own<'a>> {
        ((id as usize) < ctx.population.len()).then_some(Own {
            owners: ctx.population.as_ref(),
            id,
        })
    }

    fn value(&self, variable: &str) -> Option<String> {
        self.owners.value(self.id, variable).map(Cow::into_owned)
    }
}

/// Renders `request` for `visitor`: extra values first, then `password`, then the owner's.
fn render(
    request: &Request,
    own: Own<'_>,
    password: &str,
    extra: &[(String, String)],
) -> Option<RenderedRequest> {
    let values = |name: &str| -> Option<Cow<'_, str>> {
        if let Some((_, value)) = extra.iter().find(|(n, _)| n == name) {
            return Some(Cow::Owned(value.clone()));
        }
        if name == "password" {
            return Some(Cow::Owned(password.to_owned()));
        }
        own.owners.value(own.id, name)
    };
    request.render(&values).ok()
}

/// The session token the visitor holds: its bearer token, or its session cookie.
fn session_token(ctx: &LoadContext, visitor: &Visitor, user: &GooseUser) -> Option<String> {
    match &ctx.site.flows.get(visitor.flow)?.session {
        SessionCarrier::Bearer { .. } => visitor.bearer.clone(),
        SessionCarrier::Cookie { name } => {
            let header = visitor.jar.header(&user.base_url)?;
            cookie_value(header.to_str().ok()?, name)
        }
    }
}

/// How to send `token` again: a `Cookie` header or the bearer header.
fn token_header(flow: &LoginFlow, token: &str) -> (String, String) {
    match &flow.session {
        SessionCarrier::Cookie { name } => (COOKIE.as_str().to_owned(), format!("{name}={token}")),
        SessionCarrier::Bearer { header, prefix, .. } => {
            (header.clone(), format!("{prefix}{token}"))
        }
    }
}

/// Registers a token the user was just given; one already given to another user is a finding.
fn register_token(ctx: &LoadContext, user: &GooseUser, visitor: &Visitor, token: &str, via: &str) {
    if let Some(other) = ctx.tokens.issue(token, visitor.owner) {
        let url = user.build_url(via).unwrap_or_default();
        let finding = session_finding(
            &check_context(ctx, user, &visitor.phase.name),
            SessionEvent {
                kind: FindingKind::TokenCollision,
                viewer: visitor.owner,
                other: Some(other),
                token,
                method: "POST",
                name: via,
                url: &url,
                status: 0,
                detail: "the session token this login received was already issued to another user"
                    .to_owned(),
            },
        );
        ctx.sink.send(finding);
    }
}

/// Runs `flow`'s steps in order, keeping what each extracts; the last step's landing decides.
async fn run_login_steps(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    flow: &LoginFlow,
    own: Own<'_>,
    extracted: &mut Vec<(String, String)>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    let mut last = None;
    for (index, step) in flow.steps.iter().enumerate() {
        let Some(rendered) = render(&step.request, own, &visitor.password, extracted) else {
            return Ok(None);
        };
        let final_step = index + 1 == flow.steps.len();
        if final_step {
            ctx.crowd(0).await;
        }
        let name = format!(
            "{} {} ({})",
            step.request.method.as_str(),
            step.request.path.as_str(),
            flow.name
        );
        let must_show = if final_step {
            flow.success.must_show.clone()
        } else {
            Vec::new()
        };
        let Some(landing) = exchange(
            user,
            ctx,
            Some(visitor),
            Outgoing {
                rendered,
                name: &name,
                expect_path: flow.success.landing_path.as_deref(),
                must_show: &must_show,
                token: None,
                refusal_expected: false,
            },
        )
        .await?
        else {
            return Ok(None);
        };
        for extraction in &step.extract {
            if let Some(value) = extraction.take(&landing.body, &landing.headers) {
                extracted.push((extraction.name.clone(), value));
            }
        }
        last = Some(landing);
    }
    Ok(last)
}

async fn log_in_if_needed(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    let mut visitor = visitor(user, &ctx);
    if visitor.logged_in {
        return Ok(());
    }
    let (Some(own), Some(flow)) = (
        Own::of(&ctx, visitor.owner),
        ctx.site.flows.get(visitor.flow),
    ) else {
        return Ok(());
    };
    let mut extracted = Vec::new();
    let landing = run_login_steps(user, &ctx, &visitor, flow, own, &mut extracted).await?;
    let met = landing
        .as_ref()
        .is_some_and(|l| flow.success.met_by(l.status, &l.path, &l.body));
    // A landing page without the user's own must_show values (or with someone else's) is not
    // the user's account: the login failed, whatever else it looked like. Unknowable unchecked.
    let shows_own = flow.success.must_show.is_empty()
        || !ctx.checks
        || landing.as_ref().is_some_and(|l| l.own_page);
    if met && !shows_own {
        ctx.counters.login_landed_elsewhere();
    }
    match landing {
        Some(landing) if met && shows_own => {
            ctx.counters
                .login(visitor.logins > 0 && !visitor.left_on_purpose);
            visitor.logged_in = true;
            visitor.left_on_purpose = false;
            visitor.failed_logins = 0;
            visitor.logins += 1;
            visitor.bearer = flow.session.bearer_token(&landing.body);
            visitor.extracted = extracted;
            if let Some(token) = session_token(&ctx, &visitor, user) {
                let via = flow
                    .steps
                    .last()
                    .map(|s| s.request.path.as_str())
                    .unwrap_or("");
                register_token(&ctx, user, &visitor, &token, via);
            }
        }
        _ => {
            ctx.counters.login_failed();
            visitor.failed_logins += 1;
            let pause = login_backoff(visitor.failed_logins);
            save(user, visitor);
            // A login that fails is not retried at once: a struggling target is not hammered.
            tokio::time::sleep(pause).await;
            return Ok(());
        }
    }
    save(user, visitor);
    Ok(())
}

/// 100 ms after the first failure, doubling up to 3.2 s.
fn login_backoff(failures: u32) -> Duration {
    Duration::from_millis(100 << failures.saturating_sub(1).min(5))
}

/// Whether `landing` says the session is gone (per the flow's `expired_when`).
fn expired(flow: &LoginFlow, landing: &Landing) -> bool {
    flow.expired_when.status.contains(&landing.status)
        || flow
            .expired_when
            .landing_path
            .as_ref()
            .is_some_and(|path| *path == landing.path)
}

/// Reads `request` as the logged-in visitor, checks it, and notes a lost session.
async fn read_as(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &mut Visitor,
    request: &Request,
    name: &str,
    must_show: &[String],
) -> Result<Option<Landing>, Box<TransactionError>> {
    let Some(own) = Own::of(ctx, visitor.owner) else {
        return Ok(None);
    };
    let Some(rendered) = render(request, own, &visitor.password, &[]) else {
        return Ok(None);
    };
    let expect = rendered
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let landing = exchange(
        user,
        ctx,
        Some(visitor),
        Outgoing {
            rendered,
            name,
            expect_path: Some(&expect),
            must_show,
            token: None,
            refusal_expected: false,
        },
    )
    .await?;
    if let (Some(landing), Some(flow)) = (&landing, ctx.site.flows.get(visitor.flow)) {
        if expired(flow, landing) {
            ctx.counters.session_lost();
            visitor.logged_in = false;
        }
    }
    Ok(landing)
}

async fn read_page(user: &mut GooseUser, ctx: Arc<LoadContext>, index: usize) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx);
    if !visitor.logged_in {
        return Ok(());
    }
    let page = &ctx.site.pages[index];
    // A page limited to some login flows (`flows = ["session"]`) is not this user's to read.
    if !ctx
        .site
        .flows
        .get(visitor.flow)
        .is_some_and(|flow| page.read_by(&flow.name))
    {
        return Ok(());
    }
    visitor.reads += 1;
    if ctx.cancels(visitor.reads) {
        cancel_one(user, &ctx, &visitor, &page.request).await;
    }
    ctx.crowd(1 + index).await;
    let must_show = page.must_show.clone();
    let landing = read_as(
        user,
        &ctx,
        &mut visitor,
        &page.request,
        &page.name,
        &must_show,
    )
    .await?;
    if let (Some(landing), Some(own)) = (landing, Own::of(&ctx, visitor.owner)) {
        // Also on a page that already carried another owner's data: a leaked profile is a wrong
        // identity too, with the viewer's values it lacks.
        if landing.expected_page && !page.json_equals.is_empty() {
            let expected: Vec<(String, String, String)> = page
                .json_equals
                .iter()
                .filter_map(|rule| {
                    let value = own.value(&rule.variable)?;
                    Some((rule.pointer.clone(), value, rule.variable.clone()))
                })
                .collect();
            let final_url = user.build_url(&landing.path).unwrap_or_default();
            let exchange = Exchange {
                method: page.request.method.as_str(),
                name: &page.name,
                url: &landing.url,
                status: landing.status,
                final_url: &final_url,
                authorization: landing.authorization,
                headers: &landing.headers,
                body: &landing.body,
            };
            if let Some(finding) = json_mismatch(
                &check_context(&ctx, user, &visitor.phase.name),
                visitor.owner,
                &exchange,
                &expected,
            ) {
                ctx.sink.send(finding);
            }
        }
    }
    if let Some(identity) = ctx.replay_as(visitor.number, visitor.reads, index) {
        replay_read(user, &ctx, &visitor, index, identity).await?;
    }
    save(user, visitor);
    Ok(())
}

/// Sends page `index` again as `identity`: under the user's own session with another owner's
/// values (outside its household), or the user's own request with no session. A correct target
/// refuses it (401, 403, 404 or a redirect elsewhere: counted); any data it serves is a finding whose detail says so.
async fn replay_read(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    index: usize,
    identity: ReplayIdentity,
) -> TransactionResult {
    let page = &ctx.site.pages[index];
    let (owner, asker, note) = match identity {
        ReplayIdentity::OtherUser => {
            let Some(other) = ctx.other_owner(visitor.owner, visitor.reads) else {
                return Ok(());
            };
            let note = format!(
                "replayed as other_user: owner {}'s session sent the request with owner {other}'s values ({})",
                visitor.owner,
                ctx.population.reference(other).map_or_else(
                    || "no reference".to_owned(),
                    |r| ctx.masking.apply(r)
                ),
            );
            (other, Some(visitor), note)
        }
        ReplayIdentity::Anonymous => (
            visitor.owner,
            None,
            format!(
                "replayed as anonymous: owner {}'s own request sent with no session",
                visitor.owner
            ),
        ),
    };
    let Some(own) = Own::of(ctx, owner) else {
        return Ok(());
    };
    let Some(rendered) = render(&page.request, own, &visitor.password, &[]) else {
        return Ok(());
    };
    let name = format!("{} (replayed as {})", page.name, identity.name());
    let asked = rendered
        .path
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    let landing = exchange_noting(
        user,
        ctx,
        asker,
        Outgoing {
            rendered,
            name: &name,
            expect_path: None,
            must_show: &[],
            token: None,
            refusal_expected: true,
        },
        Some(&note),
    )
    .await?;
    // Refused: 401, 403, 404, or sent elsewhere (the login page), as a correct portal does.
    let refused = landing.is_some_and(|l| matches!(l.status, 401 | 403 | 404) || l.path != asked);
    ctx.counters.replayed_as(identity, refused);
    Ok(())
}

/// Sends a request and gives up on it `cancel_after` later, as an impatient client or a proxy
/// timeout does: the server may be mid-way through it. Not a goose request, not an error.
async fn cancel_one(user: &mut GooseUser, ctx: &LoadContext, visitor: &Visitor, request: &Request) {
    let Some(own) = Own::of(ctx, visitor.owner) else {
        return;
    };
    let Some(rendered) = render(request, own, &visitor.password, &[]) else {
        return;
    };
    let Ok(url) = user.base_url.join(&rendered.path) else {
        return;
    };
    let token = bearer_header(ctx, Some(visitor));
    let request = wire::Request {
        method: http::Method::GET,
        url,
        headers: token
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect(),
        body: None,
    };
    let mut connection = take_connection(user);
    let sent = ctx
        .transport
        .send(&mut connection, Some(&*visitor.jar), request);
    match tokio::time::timeout(ctx.behaviours.cancel_after, sent).await {
        Ok(_) => {}
        Err(_) => {
            // Giving up mid-request leaves the connection in an unknown state: drop it.
            connection.close();
            ctx.counters.cancelled();
        }
    }
    put_connection(user, connection);
}

/// The user's connection, taken out of its session data for one request.
fn take_connection(user: &mut GooseUser) -> Connection {
    std::mem::take(&mut session(user).connection)
}

fn put_connection(user: &mut GooseUser, connection: Connection) {
    session(user).connection = connection;
}

/// The visitor's bearer header, when its flow carries the session in one.
fn bearer_header(ctx: &LoadContext, visitor: Option<&Visitor>) -> Option<(String, String)> {
    let visitor = visitor?;
    let flow = ctx.site.flows.get(visitor.flow)?;
    visitor
        .bearer
        .as_ref()
        .map(|token| token_header(flow, token))
}

async fn write(user: &mut GooseUser, ctx: Arc<LoadContext>, index: usize) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx);
    let (Some(write), Some(own)) = (ctx.site.writes.get(index), Own::of(&ctx, visitor.owner))
    else {
        return Ok(());
    };
    if !visitor.logged_in || write.values.is_empty() {
        return Ok(());
    }
    // Each write is a value unique to this user: its own values, in turn.
    let written = &write.values[visitor.write_turns[index] % write.values.len()];
    let Some(value) = own.value(&written.variable) else {
        return Ok(());
    };
    let extra = [("value".to_owned(), value)];
    let Some(rendered) = render(&write.request, own, &visitor.password, &extra) else {
        return Ok(());
    };
    let name = format!(
        "{} {}",
        write.request.method.as_str(),
        write.request.path.as_str()
    );
    let landing = exchange(
        user,
        &ctx,
        Some(&visitor),
        Outgoing {
            rendered,
            name: &name,
            expect_path: None,
            must_show: &[],
            token: None,
            refusal_expected: false,
        },
    )
    .await?;
    let Some(landing) = landing.filter(|l| is_success(l.status)) else {
        save(user, visitor);
        return Ok(());
    };
    if ctx
        .site
        .flows
        .get(visitor.flow)
        .is_some_and(|f| expired(f, &landing))
    {
        ctx.counters.session_lost();
        visitor.logged_in = false;
        save(user, visitor);
        return Ok(());
    }
    visitor.write_turns[index] += 1;
    // Read back: the page must show the value just written, and the user's identity.
    let mut must_show = ctx
        .site
        .flows
        .get(visitor.flow)
        .map(|f| f.success.must_show.clone())
        .unwrap_or_default();
    must_show.push(written.field.clone());
    for path in &write.then_read {
        let request = Request {
            method: Method::Get,
            path: crate::scenario::Template::literal(path),
            headers: Vec::new(),
            body: None,
        };
        let name = format!("GET {path} (after {})", write.name);
        read_as(user, &ctx, &mut visitor, &request, &name, &must_show).await?;
    }
    save(user, visitor);
    Ok(())
}

/// Logs out, then sends the old session token again: a correct portal has forgotten it. A logout
/// the target refused proves nothing about the old token: it is counted as an error of its own
/// (`logout_failed`) and the session is not replayed.
async fn log_out_and_replay(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx);
    let (Some(logout), Some(token), Some(own)) = (
        &ctx.site.logout,
        session_token(&ctx, &visitor, user),
        Own::of(&ctx, visitor.owner),
    ) else {
        return Ok(());
    };
    if !visitor.logged_in {
        return Ok(());
    }
    if !log_out(user, &ctx, &visitor, logout, own).await? {
        return Ok(());
    }
    visitor.logged_in = false;
    visitor.left_on_purpose = true;
    visitor.bearer = None;
    save(user, visitor.clone());
    replay(user, &ctx, &visitor, &token, "after logout").await
}

/// Sends the logout's steps in order, each with what the login and the earlier steps extracted
/// (a step's own value first). Whether the target accepted it: every step answered, the last
/// with a 2xx. A refusal (or a step that cannot be sent) counts as `logout_failed`; a transport
/// error or a 5xx is already counted under its own cause.
async fn log_out(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    logout: &Logout,
    own: Own<'_>,
) -> Result<bool, Box<TransactionError>> {
    let mut values = visitor.extracted.clone();
    let mut last_status = None;
    for step in &logout.steps {
        let Some(rendered) = render(&step.request, own, &visitor.password, &values) else {
            ctx.counters.error(ErrorCause::LogoutFailed);
            return Ok(false);
        };
        let name = format!(
            "{} {}",
            step.request.method.as_str(),
            step.request.path.as_str()
        );
        let Some(landing) = exchange(
            user,
            ctx,
            Some(visitor),
            Outgoing {
                rendered,
                name: &name,
                expect_path: None,
                must_show: &[],
                token: None,
                refusal_expected: false,
            },
        )
        .await?
        else {
            return Ok(false);
        };
        for extraction in &step.extract {
            if let Some(value) = extraction.take(&landing.body, &landing.headers) {
                values.insert(0, (extraction.name.clone(), value));
            }
        }
        last_status = Some(landing.status);
    }
    match last_status {
        Some(status) if is_success(status) => Ok(true),
        Some(status) if status >= 500 => Ok(false),
        _ => {
            ctx.counters.error(ErrorCause::LogoutFailed);
            Ok(false)
        }
    }
}

/// Changes the password once per phase for the phase's share of users. With session replay on,
/// a second device logs in first and its token is replayed after the change: a correct portal
/// closes the user's other sessions when the password changes.
async fn change_password(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx);
    let phase = Arc::clone(&visitor.phase);
    let (Some(change), Some(own), Some(flow)) = (
        &phase.password_changes,
        Own::of(&ctx, visitor.owner),
        ctx.site.flows.get(visitor.flow),
    ) else {
        return Ok(());
    };
    let chosen = (visitor.number as f64 * 0.618_033_988_749_895).fract() < change.share;
    if !visitor.logged_in || visitor.password_changed || !chosen {
        return Ok(());
    }
    let device_token = if ctx.behaviours.session_reuse {
        second_device_login(user, &ctx, &visitor, flow, own).await
    } else {
        None
    };
    if let Some(token) = &device_token {
        let via = flow
            .steps
            .last()
            .map(|s| s.request.path.as_str())
            .unwrap_or("");
        register_token(&ctx, user, &visitor, token, via);
    }
    // Unique to the owner and the moment, and shaped like the passwords portals ask for.
    let new_password = format!(
        "Crossleak-{}-{}!",
        visitor.owner,
        ctx.started.elapsed().as_millis()
    );
    let extra = [("new_password".to_owned(), new_password.clone())];
    let Some(rendered) = render(&change.request, own, &visitor.password, &extra) else {
        return Ok(());
    };
    let name = format!(
        "{} {}",
        change.request.method.as_str(),
        change.request.path.as_str()
    );
    let landing = exchange(
        user,
        &ctx,
        Some(&visitor),
        Outgoing {
            rendered,
            name: &name,
            expect_path: change.success.landing_path.as_deref(),
            must_show: &change.success.must_show,
            token: None,
            refusal_expected: false,
        },
    )
    .await?;
    if !landing
        .as_ref()
        .is_some_and(|l| change.success.met_by(l.status, &l.path, &l.body))
    {
        return Ok(());
    }
    visitor.password = new_password;
    visitor.password_changed = true;
    save(user, visitor.clone());
    match device_token {
        Some(token) => {
            replay(
                user,
                &ctx,
                &visitor,
                &token,
                "after a password change on another device",
            )
            .await
        }
        None => Ok(()),
    }
}

/// Logs the visitor in from a second device (its own jar) and returns that session's token.
async fn second_device_login(
    user: &GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    flow: &LoginFlow,
    own: Own<'_>,
) -> Option<String> {
    // Its own jar and connection: nothing of the first device's session goes with it.
    let jar = Jar::default();
    let mut connection = Connection::default();
    let mut extracted: Vec<(String, String)> = Vec::new();
    let mut last_body = Vec::new();
    for step in &flow.steps {
        let rendered = render(&step.request, own, &visitor.password, &extracted)?;
        let url = user.build_url(&rendered.path).ok()?.parse().ok()?;
        let request = wire::Request::rendered(&rendered, url, None);
        let response = ctx
            .transport
            .send(&mut connection, Some(&jar), request)
            .await
            .ok()?;
        ctx.counters.request();
        let headers = response.headers;
        last_body = response.body;
        for extraction in &step.extract {
            let text = match &extraction.from {
                crate::scenario::ExtractFrom::Body => {
                    String::from_utf8_lossy(&last_body).into_owned()
                }
                crate::scenario::ExtractFrom::Header(name) => headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned(),
            };
            if let Some(value) = extraction.pattern.extract(&text) {
                extracted.push((extraction.name.clone(), value));
            }
        }
    }
    match &flow.session {
        SessionCarrier::Cookie { name } => {
            let header = jar.header(&user.base_url)?;
            cookie_value(header.to_str().ok()?, name)
        }
        SessionCarrier::Bearer { json_pointer, .. } => {
            let json: serde_json::Value = serde_json::from_slice(&last_body).ok()?;
            json.pointer(json_pointer)?.as_str().map(str::to_owned)
        }
    }
}

/// Sends `token` again on the first page; if the page still shows the owner's file, the session
/// outlived what should have ended it.
async fn replay(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    token: &str,
    when: &str,
) -> TransactionResult {
    let Some(flow) = ctx.site.flows.get(visitor.flow) else {
        return Ok(());
    };
    // The first page the user's flow reads.
    let (Some(page), Some(own)) = (
        ctx.site.pages.iter().find(|p| p.read_by(&flow.name)),
        Own::of(ctx, visitor.owner),
    ) else {
        return Ok(());
    };
    let Some(rendered) = render(&page.request, own, &visitor.password, &[]) else {
        return Ok(());
    };
    let expect = rendered.path.clone();
    let name = format!("{} (old session replayed)", page.name);
    ctx.counters.replayed();
    let landing = exchange(
        user,
        ctx,
        Some(visitor),
        Outgoing {
            rendered,
            name: &name,
            expect_path: Some(&expect),
            must_show: &page.must_show,
            token: Some(token_header(flow, token)),
            refusal_expected: true,
        },
    )
    .await?;
    // A page a cache served proves nothing about the session: the cache checks report it.
    if let Some(landing) = landing.filter(|l| l.own_page && !l.cache_hit) {
        let url = user.build_url(&expect).unwrap_or_default();
        let finding = session_finding(
            &check_context(ctx, user, &visitor.phase.name),
            SessionEvent {
                kind: FindingKind::StaleSession,
                viewer: visitor.owner,
                other: None,
                token,
                method: page.request.method.as_str(),
                name: &name,
                url: &url,
                status: landing.status,
                detail: format!("a session token still opened the file {when}"),
            },
        );
        ctx.sink.send(finding);
    }
    Ok(())
}

/// Fetches a personal path with a static-looking suffix under the user's own session; the shared
/// list means the next user (and the observer) asks for the very same URL.
async fn probe_cache(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx);
    if !visitor.logged_in {
        return Ok(());
    }
    let path = ctx.probe_paths[visitor.probes % ctx.probe_paths.len()].clone();
    visitor.probes += 1;
    save(user, visitor.clone());
    let name = format!("GET {path} (cache probe)");
    exchange(
        user,
        &ctx,
        Some(&visitor),
        Outgoing {
            rendered: get(&path),
            name: &name,
            expect_path: None,
            must_show: &[],
            token: None,
            refusal_expected: true,
        },
    )
    .await?;
    Ok(())
}

/// The anonymous observer: no session, asks for the personal pages and the probe URLs; it must
/// never see anyone's data.
async fn observe(user: &mut GooseUser, ctx: Arc<LoadContext>, index: usize) -> TransactionResult {
    let path = ctx.observed_paths[index].clone();
    let name = format!("GET {path} (observer)");
    exchange(
        user,
        &ctx,
        None,
        Outgoing {
            rendered: get(&path),
            name: &name,
            expect_path: None,
            must_show: &[],
            token: None,
            refusal_expected: true,
        },
    )
    .await?;
    Ok(())
}

fn get(path: &str) -> RenderedRequest {
    RenderedRequest {
        method: Method::Get,
        path: path.to_owned(),
        headers: Vec::new(),
        body: None,
    }
}

struct Outgoing<'a> {
    rendered: RenderedRequest,
    /// The metric row: a template, never a per-user value.
    name: &'a str,
    /// The page a correct answer lands on (`None`: wherever it lands); `must_show` is checked
    /// only on a 2xx there.
    expect_path: Option<&'a str>,
    must_show: &'a [String],
    /// A replayed session token: `(header, value)`, sent instead of the jar's or bearer's.
    token: Option<(String, String)>,
    /// A refusal (4xx) is a correct answer here (observer, probe, replayed token): not a failure.
    refusal_expected: bool,
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Sends one request, reads the body (up to the scan cap) and checks it. `None` when no usable
/// response came back: that is an error, counted by cause, never a violation.
async fn exchange(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
    request: Outgoing<'_>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    exchange_noting(user, ctx, visitor, request, None).await
}

/// [`exchange`], with `note` (how the request was made, e.g. a replay) ahead of the detail of
/// every finding that fails the run.
async fn exchange_noting(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
    request: Outgoing<'_>,
    note: Option<&str>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    let rendered = &request.rendered;
    let url = user
        .base_url
        .join(&rendered.path)
        .map_err(|e| Box::new(TransactionError::from(e)))?;
    let token = request
        .token
        .clone()
        .or_else(|| bearer_header(ctx, visitor));
    let authorization = rendered
        .headers
        .iter()
        .map(|(name, _)| name.as_str())
        .chain(token.as_ref().map(|(name, _)| name.as_str()))
        .any(|name| name.eq_ignore_ascii_case("authorization"));
    let extra = token
        .as_ref()
        .map(|(name, value)| (name.as_str(), value.as_str()));
    let outgoing = wire::Request::rendered(rendered, url.clone(), extra);
    let method = rendered.method.as_str();
    let started = std::time::Instant::now();
    let mut connection = take_connection(user);
    let jar = visitor.map(|v| &*v.jar);
    let sent = ctx.transport.send(&mut connection, jar, outgoing).await;
    put_connection(user, connection);
    ctx.counters.request();
    let response = match sent {
        Ok(response) => response,
        Err(error) => {
            let cause = error.cause();
            ctx.counters.error(cause);
            user.record_custom_request_duration(
                method,
                request.name,
                started.elapsed(),
                false,
                None,
                Some(cause.name()),
            )
            .await?;
            return Ok(None);
        }
    };
    if response.truncated {
        ctx.counters.truncated();
    }
    let status = response.status;
    // What goose decides for a request it sends: anything but a 2xx fails, under its status.
    let mut failure = (!is_success(status)).then(|| format!("{status}: {}", request.name));
    if status >= 500 {
        ctx.counters.error(ErrorCause::ServerError);
    } else if request.refusal_expected {
        failure = None;
    }
    let final_url = response.url;
    let head_after = response.head_after;
    let on_expected_page =
        is_success(status) && request.expect_path.is_none_or(|p| p == final_url.path());
    let mut landing = Landing {
        url: url.to_string(),
        authorization,
        status,
        path: final_url.path().to_owned(),
        expected_page: on_expected_page,
        own_page: false,
        cache_hit: cache_status::served_by_a_cache(&response.headers),
        headers: response.headers,
        body: response.body,
    };
    let mut failed_tag = None;
    if ctx.checks {
        let must_show = if on_expected_page {
            request.must_show
        } else {
            &[]
        };
        let exchange = Exchange {
            method,
            name: request.name,
            url: url.as_str(),
            status,
            final_url: final_url.as_str(),
            authorization,
            headers: &landing.headers,
            body: &landing.body,
        };
        ctx.counters.checked();
        let phase = visitor.map_or_else(|| ctx.phase(), |v| Arc::clone(&v.phase));
        let findings = check(
            &check_context(ctx, user, &phase.name),
            visitor.map(|v| v.owner),
            &exchange,
            must_show,
        );
        landing.own_page = on_expected_page
            && !must_show.is_empty()
            && findings.iter().all(|f| !f.kind.fails_run());
        for mut finding in findings {
            if finding.kind.fails_run() && failed_tag.is_none() {
                failed_tag = Some(finding.kind.tag());
            }
            if let Some(note) = note.filter(|_| finding.kind.fails_run()) {
                finding.detail = format!("{note}: {}", finding.detail);
            }
            ctx.sink.send(finding);
        }
    }
    // Goose counts a violation as a failure under one constant tag per check.
    let failure = failed_tag.map(str::to_owned).or(failure);
    record(
        user,
        method,
        request.name,
        head_after,
        status,
        failure.as_deref(),
    )
    .await?;
    Ok(Some(landing))
}

/// Gives goose the request's row: its name (a template), time to the response head, outcome.
async fn record(
    user: &mut GooseUser,
    method: &str,
    name: &str,
    head_after: Duration,
    status: u16,
    failure: Option<&str>,
) -> TransactionResult {
    user.record_custom_request_duration(
        method,
        name,
        head_after,
        failure.is_none(),
        Some(status),
        failure,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_logins_back_off_up_to_a_ceiling() {
        let pauses: Vec<u64> = (1..=8)
            .map(|n| login_backoff(n).as_millis() as u64)
            .collect();
        assert_eq!(pauses, [100, 200, 400, 800, 1600, 3200, 3200, 3200]);
    }
}
