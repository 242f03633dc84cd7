//! The journey's writes and the behaviours that end or outlive a session: logout and replay of
//! the old token, a password change with a second device, and a request cancelled mid-way.

use super::exchange::{exchange, is_success, put_connection, row_name, take_connection, Outgoing};
use super::login::{
    bearer_header, expired, logged_in_visitor, login_path, register_token, second_device_login,
    session_token, token_header,
};
use super::reads::read_as;
use super::{check_context, render, save, Own, Visitor};
use crate::error_cause::ErrorCause;
use crate::findings::FindingKind;
use crate::load::check::{session_finding, SessionEvent};
use crate::load::keep_newest;
use crate::load::LoadContext;
use crate::scenario::{Logout, Method, PasswordChanges, Request, Write};
use crate::transport as wire;
use goose::prelude::*;
use std::sync::Arc;

pub(super) async fn write(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
    index: usize,
) -> TransactionResult {
    let Some(mut visitor) = logged_in_visitor(user, &ctx).await? else {
        return Ok(());
    };
    let (Some(write), Some(own)) = (ctx.site.writes.get(index), Own::of(&ctx, visitor.owner))
    else {
        return Ok(());
    };
    if write.values.is_empty() {
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
    let name = row_name(&write.request);
    let landing = exchange(user, &ctx, Some(&visitor), Outgoing::new(rendered, &name)).await?;
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
    read_back(user, &ctx, &mut visitor, write, &written.field).await?;
    save(user, visitor);
    Ok(())
}

/// Reads `write`'s `then_read` pages back: each must show the value just written (as `field`),
/// and the user's identity.
async fn read_back(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &mut Visitor,
    write: &Write,
    field: &str,
) -> TransactionResult {
    let mut must_show = ctx
        .site
        .flows
        .get(visitor.flow)
        .map(|f| f.success.must_show.clone())
        .unwrap_or_default();
    must_show.push(field.to_owned());
    for path in &write.then_read {
        let request = Request {
            method: Method::Get,
            path: crate::scenario::Template::literal(path),
            headers: Vec::new(),
            body: None,
        };
        let name = format!("GET {path} (after {})", write.name);
        read_as(user, ctx, visitor, &request, &name, &must_show).await?;
    }
    Ok(())
}

/// Logs out, then sends the old session token again: a correct portal has forgotten it. A logout
/// the target refused proves nothing about the old token: it is counted as an error of its own
/// (`logout_failed`) and the session is not replayed.
pub(super) async fn log_out_and_replay(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
) -> TransactionResult {
    let Some(mut visitor) = logged_in_visitor(user, &ctx).await? else {
        return Ok(());
    };
    let (Some(logout), Some(token), Some(own)) = (
        &ctx.site.logout,
        session_token(&ctx, &visitor, user),
        Own::of(&ctx, visitor.owner),
    ) else {
        return Ok(());
    };
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
pub(super) async fn log_out(
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
        let name = row_name(&step.request);
        let Some(landing) =
            exchange(user, ctx, Some(visitor), Outgoing::new(rendered, &name)).await?
        else {
            return Ok(false);
        };
        keep_newest(&mut values, &step.extract, &landing.body, &landing.headers);
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
pub(super) async fn change_password(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
) -> TransactionResult {
    let Some(mut visitor) = logged_in_visitor(user, &ctx).await? else {
        return Ok(());
    };
    let phase = Arc::clone(&visitor.phase);
    let (Some(change), Some(own), Some(flow)) = (
        &phase.password_changes,
        Own::of(&ctx, visitor.owner),
        ctx.site.flows.get(visitor.flow),
    ) else {
        return Ok(());
    };
    let chosen = (visitor.number as f64 * 0.618_033_988_749_895).fract() < change.share;
    if visitor.password_changed || !chosen {
        return Ok(());
    }
    let device_token = if ctx.behaviours.session_reuse {
        second_device_login(user, &ctx, &visitor, flow, own).await
    } else {
        None
    };
    if let Some(token) = &device_token {
        register_token(&ctx, user, &visitor, token, login_path(flow));
    }
    let Some(new_password) = send_password_change(user, &ctx, &visitor, change, own).await? else {
        return Ok(());
    };
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

/// Sends `change` with a new password for `visitor`; the new password when the target accepted it.
async fn send_password_change(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    change: &PasswordChanges,
    own: Own<'_>,
) -> Result<Option<String>, Box<TransactionError>> {
    // Unique to the owner and the moment, and shaped like the passwords portals ask for.
    let new_password = format!(
        "Crossleak-{}-{}!",
        visitor.owner,
        ctx.started.elapsed().as_millis()
    );
    let extra = [("new_password".to_owned(), new_password.clone())];
    let Some(rendered) = render(&change.request, own, &visitor.password, &extra) else {
        return Ok(None);
    };
    let name = row_name(&change.request);
    let landing = exchange(
        user,
        ctx,
        Some(visitor),
        Outgoing::new(rendered, &name).landing(
            change.success.landing_path.as_deref(),
            &change.success.must_show,
        ),
    )
    .await?;
    let accepted = landing
        .as_ref()
        .is_some_and(|l| change.success.met_by(l.status, &l.path, &l.body));
    Ok(accepted.then_some(new_password))
}

/// Sends `token` again on the first page; if the page still shows the owner's file, the session
/// outlived what should have ended it.
pub(super) async fn replay(
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
            token: Some(token_header(flow, token)),
            ..Outgoing::new(rendered, &name)
                .landing(Some(&expect), &page.must_show)
                .refused()
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

/// Sends a request and gives up on it `cancel_after` later, as an impatient client or a proxy
/// timeout does: the server may be mid-way through it. Not a goose request, not an error.
pub(super) async fn cancel_one(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    request: &Request,
) {
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
            // What answers elsewhere soon after may be this request's reply.
            ctx.sink
                .abandoned(visitor.owner, ctx.started.elapsed().as_millis() as u64);
        }
    }
    put_connection(user, connection);
}
