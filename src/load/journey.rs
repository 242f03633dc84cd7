//! What one simulated beneficiary does, as goose transactions: log in by its flow, read its pages,
//! change its RIB, and the named behaviours that open race windows (crowd, cancellation, session
//! replay, cache probes). One GooseUser is one beneficiary; observers have no session at all.

use super::check::{check, session_finding, CheckContext, Exchange, SessionEvent};
use super::counters::ErrorCause;
use super::tokens::{cookie_value, set_cookie_value};
use super::LoadContext;
use crate::findings::FindingKind;
use crate::population::{Field, OwnerId};
use goose::goose::GooseMethod;
use goose::prelude::*;
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{COOKIE, SET_COOKIE};
use std::sync::Arc;
use std::time::Duration;

/// Per-user state kept in goose's session data.
#[derive(Clone)]
struct Visitor {
    owner: OwnerId,
    /// The user's own cookie jar, readable so the journey can see its session token.
    jar: Arc<Jar>,
    password: String,
    logged_in: bool,
    logins: u32,
    /// The last logout was the journey's own (a replay), not a lost session.
    left_on_purpose: bool,
    /// Login failures in a row, for the backoff.
    failed_logins: u32,
    wrote_spare: bool,
    reads: u64,
    password_changes: u32,
    probes: usize,
}

/// Where a request ended up.
struct Landing {
    status: u16,
    path: String,
    /// A 2xx on the expected page that showed the viewer's own identity and nothing foreign.
    own_page: bool,
    /// The response says a cache served it (a hit header, or Age > 0).
    cache_hit: bool,
}

type StepFuture<'r> =
    std::pin::Pin<Box<dyn std::future::Future<Output = TransactionResult> + Send + 'r>>;

/// A step of the journey; the `usize` says which page (or probe) the step is about.
type Step = for<'r> fn(&'r mut GooseUser, Arc<LoadContext>, usize) -> StepFuture<'r>;

fn transaction(ctx: &Arc<LoadContext>, argument: usize, step: Step) -> Transaction {
    let ctx = Arc::clone(ctx);
    Transaction::new(Arc::new(move |user| step(user, Arc::clone(&ctx), argument)))
}

/// The goose scenarios for `ctx`: beneficiaries, and anonymous observers when asked for.
pub fn scenarios(ctx: &Arc<LoadContext>, users: usize) -> Result<Vec<Scenario>, GooseError> {
    let observers = ctx.behaviours.observers.min(users.saturating_sub(1));
    let mut scenario = Scenario::new("beneficiary").set_weight(users - observers)?;
    if let Some((min, max)) = ctx.think_time {
        scenario = scenario.set_wait_time(min, max)?;
    }
    scenario = scenario.register_transaction(
        transaction(ctx, 0, |user, ctx, _| Box::pin(log_in_if_needed(user, ctx)))
            .set_name("login")
            .set_on_start(),
    );
    for index in 0..ctx.site.pages.len() {
        let name = format!("read {}", ctx.site.pages[index].path);
        scenario = scenario.register_transaction(
            transaction(ctx, index, |user, ctx, index| {
                Box::pin(read_page(user, ctx, index))
            })
            .set_name(&name)
            .set_weight(6)?,
        );
    }
    if ctx.site.rib_change.is_some() {
        scenario = scenario.register_transaction(
            transaction(ctx, 0, |user, ctx, _| Box::pin(change_rib(user, ctx)))
                .set_name("change rib"),
        );
    }
    if ctx.behaviours.session_reuse && ctx.site.session_cookie.is_some() {
        if ctx.site.logout.is_some() {
            scenario = scenario.register_transaction(
                transaction(ctx, 0, |user, ctx, _| {
                    Box::pin(log_out_and_replay(user, ctx))
                })
                .set_name("log out, replay the old cookie"),
            );
        }
        if ctx.site.password_change.is_some() {
            scenario = scenario.register_transaction(
                transaction(ctx, 0, |user, ctx, _| {
                    Box::pin(change_password_and_replay(user, ctx))
                })
                .set_name("change password, replay another device's cookie"),
            );
        }
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
        let targets = ctx.site.pages.len() + ctx.probe_paths.len();
        for index in 0..targets {
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

async fn visitor(
    user: &mut GooseUser,
    ctx: &LoadContext,
) -> Result<Visitor, Box<TransactionError>> {
    if let Some(visitor) = user.get_session_data::<Visitor>() {
        return Ok(visitor.clone());
    }
    // First step of this user: its own client (own cookie jar, own connections), then its identity.
    let jar = Arc::new(Jar::default());
    user.set_client_builder(ctx.client_builder().cookie_provider(Arc::clone(&jar)))
        .await
        .map_err(Box::new)?;
    let owner = ctx.owner_of(user.weighted_users_index);
    let visitor = Visitor {
        owner,
        jar,
        password: ctx
            .population
            .get(owner)
            .map(|b| b.password.clone())
            .unwrap_or_default(),
        logged_in: false,
        logins: 0,
        left_on_purpose: false,
        failed_logins: 0,
        wrote_spare: false,
        reads: 0,
        password_changes: 0,
        probes: 0,
    };
    user.set_session_data(visitor.clone());
    Ok(visitor)
}

fn save(user: &mut GooseUser, visitor: Visitor) {
    user.set_session_data(visitor);
}

fn check_context<'a>(ctx: &'a LoadContext, user: &GooseUser) -> CheckContext<'a> {
    CheckContext {
        watch: &ctx.watch,
        population: &ctx.population,
        masking: ctx.masking,
        phase: &ctx.phase,
        user: user.weighted_users_index,
        elapsed_ms: ctx.started.elapsed().as_millis() as u64,
    }
}

/// The session token in the user's jar, if the site says which cookie holds it.
fn session_token(ctx: &LoadContext, visitor: &Visitor, user: &GooseUser) -> Option<String> {
    let name = ctx.site.session_cookie.as_deref()?;
    let header = visitor.jar.cookies(&user.base_url)?;
    cookie_value(header.to_str().ok()?, name)
}

/// Registers a token the user was just given; one already given to another user is a finding.
fn register_token(ctx: &LoadContext, user: &GooseUser, owner: OwnerId, token: &str, via: &str) {
    if let Some(other) = ctx.tokens.issue(token, owner) {
        let url = user.build_url(via).unwrap_or_default();
        let finding = session_finding(
            &check_context(ctx, user),
            SessionEvent {
                kind: FindingKind::TokenCollision,
                viewer: owner,
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

async fn log_in_if_needed(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    let mut visitor = visitor(user, &ctx).await?;
    if visitor.logged_in {
        return Ok(());
    }
    let Some(beneficiary) = ctx.population.get(visitor.owner) else {
        return Ok(());
    };
    let flow = ctx.site.flow_for(visitor.owner);
    let form = vec![
        (
            flow.identifier_field.clone(),
            flow.identifier.value_of(beneficiary),
        ),
        (flow.password_field.clone(), visitor.password.clone()),
    ];
    let name = format!("POST {} ({})", flow.path, flow.name);
    ctx.crowd(0).await;
    let landing = exchange(
        user,
        &ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Post,
            path: &flow.path,
            name: &name,
            form: Some(form),
            cookie: None,
            expect_path: &flow.success_path,
            must_show: &flow.must_show,
            refusal_expected: false,
        },
    )
    .await?;
    match landing {
        Some(l) if is_success(l.status) && l.path == flow.success_path => {
            ctx.counters
                .login(visitor.logins > 0 && !visitor.left_on_purpose);
            visitor.logged_in = true;
            visitor.left_on_purpose = false;
            visitor.failed_logins = 0;
            visitor.logins += 1;
            if let Some(token) = session_token(&ctx, &visitor, user) {
                register_token(&ctx, user, visitor.owner, &token, &flow.path);
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

async fn read_page(user: &mut GooseUser, ctx: Arc<LoadContext>, index: usize) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx).await?;
    if !visitor.logged_in {
        return Ok(());
    }
    let page = &ctx.site.pages[index];
    visitor.reads += 1;
    if ctx.cancels(visitor.reads) {
        cancel_one(user, &ctx, &page.path).await;
    }
    let name = format!("GET {}", page.path);
    ctx.crowd(1 + index).await;
    let landing = exchange(
        user,
        &ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Get,
            path: &page.path,
            name: &name,
            form: None,
            cookie: None,
            expect_path: &page.path,
            must_show: &page.must_show,
            refusal_expected: false,
        },
    )
    .await?;
    if let Some(landing) = landing {
        if landing.status == 401 || landing.path == ctx.site.login_page {
            ctx.counters.session_lost();
            visitor.logged_in = false;
        }
    }
    save(user, visitor);
    Ok(())
}

/// Sends a request and gives up on it `cancel_after` later, as an impatient client or a proxy
/// timeout does: the server may be mid-way through it. Not a goose request, not an error.
async fn cancel_one(user: &mut GooseUser, ctx: &LoadContext, path: &str) {
    let Ok(url) = user.build_url(path) else {
        return;
    };
    let sent = user
        .client
        .get(url)
        .timeout(ctx.behaviours.cancel_after)
        .send()
        .await;
    if matches!(&sent, Err(e) if e.is_timeout()) {
        ctx.counters.cancelled();
    }
}

async fn change_rib(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx).await?;
    let (Some(rib), Some(beneficiary)) = (&ctx.site.rib_change, ctx.population.get(visitor.owner))
    else {
        return Ok(());
    };
    if !visitor.logged_in {
        return Ok(());
    }
    // Alternate between the beneficiary's two IBANs: each write is a value unique to this user.
    let (value, field) = if visitor.wrote_spare {
        (beneficiary.iban.clone(), Field::Iban)
    } else {
        (beneficiary.spare_iban.clone(), Field::WrittenIban)
    };
    let name = format!("POST {}", rib.path);
    let must_show = [Field::NumeroAllocataire, field];
    let landing = exchange(
        user,
        &ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Post,
            path: &rib.path,
            name: &name,
            form: Some(vec![(rib.form_field.clone(), value)]),
            cookie: None,
            expect_path: &rib.landing_path,
            must_show: &must_show,
            refusal_expected: false,
        },
    )
    .await?;
    match landing {
        Some(l) if is_success(l.status) && l.path == rib.landing_path => {
            visitor.wrote_spare = !visitor.wrote_spare;
        }
        Some(l) if l.status == 401 || l.path == ctx.site.login_page => {
            ctx.counters.session_lost();
            visitor.logged_in = false;
        }
        _ => {}
    }
    save(user, visitor);
    Ok(())
}

/// Logs out, then sends the old session cookie again: a correct portal has forgotten it.
async fn log_out_and_replay(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx).await?;
    let (Some(logout), Some(token)) = (&ctx.site.logout, session_token(&ctx, &visitor, user))
    else {
        return Ok(());
    };
    if !visitor.logged_in {
        return Ok(());
    }
    let name = format!("POST {logout}");
    exchange(
        user,
        &ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Post,
            path: logout,
            name: &name,
            form: None,
            cookie: None,
            expect_path: &ctx.site.login_page,
            must_show: &[],
            refusal_expected: false,
        },
    )
    .await?;
    visitor.logged_in = false;
    visitor.left_on_purpose = true;
    save(user, visitor.clone());
    replay(user, &ctx, &visitor, &token, "after logout").await
}

/// Logs a second device in, changes the password on the first, then replays the second device's
/// cookie: a correct portal closes the user's other sessions when the password changes.
async fn change_password_and_replay(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx).await?;
    let (Some(change), Some(beneficiary)) =
        (&ctx.site.password_change, ctx.population.get(visitor.owner))
    else {
        return Ok(());
    };
    if !visitor.logged_in {
        return Ok(());
    }
    let flow = ctx.site.flow_for(visitor.owner);
    let Some(device_token) = second_device_login(user, &ctx, &visitor).await else {
        return Ok(());
    };
    register_token(&ctx, user, visitor.owner, &device_token, &flow.path);
    let new_password = format!(
        "Crossleak-{}-{}!",
        beneficiary.numero_allocataire,
        visitor.password_changes + 1
    );
    let name = format!("POST {}", change.path);
    let landing = exchange(
        user,
        &ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Post,
            path: &change.path,
            name: &name,
            form: Some(vec![
                (change.old_field.clone(), visitor.password.clone()),
                (change.new_field.clone(), new_password.clone()),
            ]),
            cookie: None,
            expect_path: &change.landing_path,
            must_show: &[Field::NumeroAllocataire],
            refusal_expected: false,
        },
    )
    .await?;
    if !matches!(&landing, Some(l) if is_success(l.status) && l.path == change.landing_path) {
        return Ok(());
    }
    visitor.password = new_password;
    visitor.password_changes += 1;
    save(user, visitor.clone());
    replay(
        user,
        &ctx,
        &visitor,
        &device_token,
        "after a password change on another device",
    )
    .await
}

/// Logs the visitor in from a second client (no jar, no redirects) and returns its session token.
async fn second_device_login(
    user: &GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
) -> Option<String> {
    let cookie = ctx.site.session_cookie.as_deref()?;
    let beneficiary = ctx.population.get(visitor.owner)?;
    let flow = ctx.site.flow_for(visitor.owner);
    let form = [
        (
            flow.identifier_field.clone(),
            flow.identifier.value_of(beneficiary),
        ),
        (flow.password_field.clone(), visitor.password.clone()),
    ];
    let response = ctx
        .device_client
        .post(user.build_url(&flow.path).ok()?)
        .form(&form)
        .send()
        .await
        .ok()?;
    ctx.counters.request();
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| set_cookie_value(v, cookie))
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
    let (Some(cookie), Some(page)) = (&ctx.site.session_cookie, ctx.site.pages.first()) else {
        return Ok(());
    };
    let name = format!("GET {} (old cookie replayed)", page.path);
    ctx.counters.replayed();
    let landing = exchange(
        user,
        ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Get,
            path: &page.path,
            name: &name,
            form: None,
            cookie: Some(format!("{cookie}={token}")),
            expect_path: &page.path,
            must_show: &page.must_show,
            refusal_expected: true,
        },
    )
    .await?;
    // A page a cache served proves nothing about the session: the cache checks report it.
    if let Some(landing) = landing.filter(|l| l.own_page && !l.cache_hit) {
        let url = user.build_url(&page.path).unwrap_or_default();
        let finding = session_finding(
            &check_context(ctx, user),
            SessionEvent {
                kind: FindingKind::StaleSession,
                viewer: visitor.owner,
                other: None,
                token,
                method: "GET",
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
    let mut visitor = visitor(user, &ctx).await?;
    if !visitor.logged_in {
        return Ok(());
    }
    let path = &ctx.probe_paths[visitor.probes % ctx.probe_paths.len()];
    visitor.probes += 1;
    save(user, visitor.clone());
    let name = format!("GET {path} (cache probe)");
    exchange(
        user,
        &ctx,
        Some(visitor.owner),
        Request {
            method: GooseMethod::Get,
            path,
            name: &name,
            form: None,
            cookie: None,
            expect_path: path,
            must_show: &[],
            refusal_expected: true,
        },
    )
    .await?;
    Ok(())
}

/// The anonymous observer: no session, asks for the personal pages and the probe URLs; it must
/// never see anyone's data.
async fn observe(user: &mut GooseUser, ctx: Arc<LoadContext>, index: usize) -> TransactionResult {
    let path = match ctx.site.pages.get(index) {
        Some(page) => page.path.clone(),
        None => ctx.probe_paths[index - ctx.site.pages.len()].clone(),
    };
    let name = format!("GET {path} (observer)");
    exchange(
        user,
        &ctx,
        None,
        Request {
            method: GooseMethod::Get,
            path: &path,
            name: &name,
            form: None,
            cookie: None,
            expect_path: &path,
            must_show: &[],
            refusal_expected: true,
        },
    )
    .await?;
    Ok(())
}

struct Request<'a> {
    method: GooseMethod,
    path: &'a str,
    /// The metric row: a template, never a per-user value.
    name: &'a str,
    form: Option<Vec<(String, String)>>,
    /// An explicit `Cookie` header (a replayed token); the jar is not used then.
    cookie: Option<String>,
    /// The page a correct answer lands on; `must_show` is checked only there.
    expect_path: &'a str,
    must_show: &'a [Field],
    /// A refusal (4xx) is a correct answer here (observer, probe, replayed cookie): not a failure.
    refusal_expected: bool,
}

fn served_by_a_cache(headers: &reqwest::header::HeaderMap) -> bool {
    let hit = ["x-cache", "cf-cache-status", "x-cache-status"]
        .iter()
        .any(|name| {
            headers
                .get(*name)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.to_ascii_lowercase().contains("hit"))
        });
    let aged = headers
        .get("age")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_some_and(|age| age > 0);
    hit || aged
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Sends one request, reads the body (up to the scan cap) and checks it. `None` when no usable
/// response came back: that is an error, counted by cause, never a violation.
async fn exchange(
    user: &mut GooseUser,
    ctx: &LoadContext,
    viewer: Option<OwnerId>,
    request: Request<'_>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    let mut builder = user.get_request_builder(&request.method, request.path)?;
    if let Some(form) = &request.form {
        builder = builder.form(form);
    }
    if let Some(cookie) = &request.cookie {
        builder = builder.header(COOKIE, cookie);
    }
    let goose_request = GooseRequest::builder()
        .set_request_builder(builder)
        .name(request.name)
        .build();
    let mut goose = user.request(goose_request).await?;
    ctx.counters.request();
    let response = match goose.response {
        Ok(response) => response,
        Err(error) => {
            ctx.counters.error(ErrorCause::of(&error));
            return Ok(None);
        }
    };
    let status = response.status().as_u16();
    let final_url = response.url().clone();
    let headers = response.headers().clone();
    let body = match read_capped(response, ctx.max_body_bytes).await {
        Ok((body, truncated)) => {
            if truncated {
                ctx.counters.truncated();
            }
            body
        }
        Err(error) => {
            ctx.counters.error(ErrorCause::of(&error));
            let _ = user.set_failure(ErrorCause::Body.name(), &mut goose.request, None, None);
            return Ok(None);
        }
    };
    if status >= 500 {
        ctx.counters.error(ErrorCause::ServerError);
    } else if request.refusal_expected && !goose.request.success {
        user.set_success(&mut goose.request)?;
    }
    let on_expected_page = is_success(status) && final_url.path() == request.expect_path;
    let mut landing = Landing {
        status,
        path: final_url.path().to_owned(),
        own_page: false,
        cache_hit: served_by_a_cache(&headers),
    };
    if !ctx.checks {
        return Ok(Some(landing));
    }
    let must_show = if on_expected_page {
        request.must_show
    } else {
        &[]
    };
    let method = format!("{:?}", request.method).to_uppercase();
    let url = goose.request.raw.url.clone();
    let exchange = Exchange {
        method: &method,
        name: request.name,
        url: &url,
        status,
        final_url: final_url.as_str(),
        headers: &headers,
        body: &body,
    };
    ctx.counters.checked();
    let findings = check(&check_context(ctx, user), viewer, &exchange, must_show);
    landing.own_page =
        on_expected_page && !must_show.is_empty() && findings.iter().all(|f| !f.kind.fails_run());
    let mut failed_tag = None;
    for finding in findings {
        if finding.kind.fails_run() && failed_tag.is_none() {
            failed_tag = Some(finding.kind.tag());
        }
        ctx.sink.send(finding);
    }
    if let Some(tag) = failed_tag {
        // Goose counts the failure under one constant tag per check; the transaction goes on.
        let _ = user.set_failure(tag, &mut goose.request, None, None);
    }
    Ok(Some(landing))
}

/// Reads at most `cap` bytes of the body; says whether more was left unread.
async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<(Vec<u8>, bool), reqwest::Error> {
    let mut body =
        Vec::with_capacity(response.content_length().unwrap_or(0).min(cap as u64) as usize);
    while let Some(chunk) = response.chunk().await? {
        let room = cap - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            return Ok((body, true));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body, false))
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
