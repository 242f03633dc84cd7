//! What one simulated beneficiary does, as goose transactions: log in by its flow, read its pages,
//! write its data, and the named behaviours that open race windows (crowd, cancellation, session
//! replay, cache probes). One GooseUser is one beneficiary; observers have no session at all.

mod behaviours;
mod exchange;
mod login;
mod reads;

use super::check::CheckContext;
use super::LoadContext;
use crate::population::OwnerId;
use crate::scenario::{Owners, Phase, RenderedRequest, Request};
use crate::transport::{Connection, Jar};
use behaviours::{change_password, log_out_and_replay, write};
use goose::prelude::*;
use login::log_in_if_needed;
use reads::{observe, probe_cache, read_page};
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
