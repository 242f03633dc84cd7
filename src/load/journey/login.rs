//! Logging a user in by its flow (steps, extraction, backoff after a failure), a second device's
//! login, and the session tokens a login hands out. Never reads a personal page.

use super::exchange::{exchange, Landing, Outgoing};
use super::{check_context, render, save, visitor, Own, Visitor};
use crate::findings::{Asked, FindingKind};
use crate::load::check::{session_finding, SessionEvent};
use crate::load::keep_newest;
use crate::load::tokens::cookie_value;
use crate::load::LoadContext;
use crate::scenario::{LoginFlow, Request, SessionCarrier};
use crate::transport::{self as wire, Connection, Jar};
use goose::prelude::*;
use http::header::COOKIE;
use std::sync::Arc;
use std::time::Duration;

/// The session token the visitor holds: its bearer token, or its session cookie.
pub(super) fn session_token(
    ctx: &LoadContext,
    visitor: &Visitor,
    user: &GooseUser,
) -> Option<String> {
    match &ctx.site.flows.get(visitor.flow)?.session {
        SessionCarrier::Bearer { .. } => visitor.bearer.clone(),
        SessionCarrier::Cookie { name } => {
            let header = visitor.jar.header(&user.base_url)?;
            cookie_value(header.to_str().ok()?, name)
        }
    }
}

/// How to send `token` again: a `Cookie` header or the bearer header.
pub(super) fn token_header(flow: &LoginFlow, token: &str) -> (String, String) {
    match &flow.session {
        SessionCarrier::Cookie { name } => (COOKIE.as_str().to_owned(), format!("{name}={token}")),
        SessionCarrier::Bearer { header, prefix, .. } => {
            (header.clone(), format!("{prefix}{token}"))
        }
    }
}

/// Registers a token the user was just given; one already given to another user is a finding.
pub(super) fn register_token(
    ctx: &LoadContext,
    user: &GooseUser,
    visitor: &Visitor,
    token: &str,
    via: &str,
) {
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

/// The visitor's bearer header, when its flow carries the session in one.
pub(super) fn bearer_header(
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
) -> Option<(String, String)> {
    let visitor = visitor?;
    let flow = ctx.site.flows.get(visitor.flow)?;
    visitor
        .bearer
        .as_ref()
        .map(|token| token_header(flow, token))
}

/// Runs `flow`'s steps in order, keeping what each extracts; the last step's landing decides.
pub(super) async fn run_login_steps(
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
        let asked = if final_step {
            Asked::Login {
                via: name.clone(),
                identifier: identifier(flow, &step.request),
            }
        } else {
            Asked::Read
        };
        let Some(landing) = exchange(
            user,
            ctx,
            Some(visitor),
            Outgoing::new(rendered, &name)
                .landing(flow.success.landing_path.as_deref(), &must_show)
                .asked(asked),
        )
        .await?
        else {
            return Ok(None);
        };
        keep_newest(extracted, &step.extract, &landing.body, &landing.headers);
        last = Some(landing);
    }
    Ok(last)
}

/// The identifier a login step takes: its first variable that is neither the password nor a value
/// an earlier step extracted (`nir13`, `numero_allocataire`, `email`…).
fn identifier(flow: &LoginFlow, request: &Request) -> Option<String> {
    let extracted = |name: &str| {
        flow.steps
            .iter()
            .any(|step| step.extract.iter().any(|e| e.name == name))
    };
    request
        .templates()
        .into_iter()
        .flat_map(|template| template.variables())
        .find(|name| *name != "password" && !extracted(name))
        .map(str::to_owned)
}

pub(super) async fn log_in_if_needed(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
) -> TransactionResult {
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
            register_login_token(&ctx, user, &visitor, flow);
        }
        Some(landing) if met => {
            ctx.counters.login_landed_elsewhere();
            // The token this login was given is a fact whatever page it opened: one given to
            // another user too is a collision, and what explains the foreign landing page.
            let mut given = visitor.clone();
            given.bearer = flow.session.bearer_token(&landing.body);
            register_login_token(&ctx, user, &given, flow);
            return failed_login(&ctx, user, visitor).await;
        }
        _ => return failed_login(&ctx, user, visitor).await,
    }
    save(user, visitor);
    Ok(())
}

/// Registers the session token `visitor`'s login was given (its jar's cookie or its bearer).
fn register_login_token(ctx: &LoadContext, user: &GooseUser, visitor: &Visitor, flow: &LoginFlow) {
    if let Some(token) = session_token(ctx, visitor, user) {
        register_token(ctx, user, visitor, &token, login_path(flow));
    }
}

/// Counts a failed login and backs off: a login that fails is not retried at once, so a
/// struggling target is not hammered.
async fn failed_login(
    ctx: &LoadContext,
    user: &mut GooseUser,
    mut visitor: Visitor,
) -> TransactionResult {
    ctx.counters.login_failed();
    visitor.failed_logins += 1;
    let pause = login_backoff(visitor.failed_logins);
    save(user, visitor);
    tokio::time::sleep(pause).await;
    Ok(())
}

/// Logs the user in when it is not, then its visitor; `None` while it is still logged out.
pub(super) async fn logged_in_visitor(
    user: &mut GooseUser,
    ctx: &Arc<LoadContext>,
) -> Result<Option<Visitor>, Box<TransactionError>> {
    log_in_if_needed(user, Arc::clone(ctx)).await?;
    let visitor = visitor(user, ctx);
    Ok(visitor.logged_in.then_some(visitor))
}

/// 100 ms after the first failure, doubling up to 3.2 s.
pub(super) fn login_backoff(failures: u32) -> Duration {
    Duration::from_millis(100 << failures.saturating_sub(1).min(5))
}

/// Whether `landing` says the session is gone (per the flow's `expired_when`).
pub(super) fn expired(flow: &LoginFlow, landing: &Landing) -> bool {
    flow.expired_when.status.contains(&landing.status)
        || flow
            .expired_when
            .landing_path
            .as_ref()
            .is_some_and(|path| *path == landing.path)
}

/// The path a login's last step posts to: where its session token was given.
pub(super) fn login_path(flow: &LoginFlow) -> &str {
    flow.steps
        .last()
        .map(|s| s.request.path.as_str())
        .unwrap_or("")
}

/// Logs the visitor in from a second device (its own jar) and returns that session's token.
pub(super) async fn second_device_login(
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
        last_body = response.body;
        keep_newest(&mut extracted, &step.extract, &last_body, &response.headers);
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
