//! Reading pages: a user's own pages (and their JSON identity), the replay of a read as another
//! owner or with no session, the cache-deception probes and the anonymous observer.

use super::behaviours::cancel_one;
use super::exchange::{exchange, exchange_noting, get, Landing, Outgoing};
use super::login::{expired, logged_in_visitor};
use super::{check_context, render, save, Own, Visitor};
use crate::findings::Asked;
use crate::load::check::{json_mismatch, Exchange};
use crate::load::LoadContext;
use crate::scenario::{Page, ReplayIdentity, Request};
use goose::prelude::*;
use std::sync::Arc;

/// Reads `request` as the logged-in visitor, checks it, and notes a lost session.
pub(super) async fn read_as(
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
        Outgoing::new(rendered, name).landing(Some(&expect), must_show),
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

pub(super) async fn read_page(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
    index: usize,
) -> TransactionResult {
    let Some(mut visitor) = logged_in_visitor(user, &ctx).await? else {
        return Ok(());
    };
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
    if let Some(landing) = landing {
        check_json_identity(user, &ctx, &visitor, page, &landing);
    }
    if let Some(identity) = ctx.replay_as(visitor.number, visitor.reads, index) {
        replay_read(user, &ctx, &visitor, index, identity).await?;
    }
    save(user, visitor);
    Ok(())
}

/// Checks the `json_equals` rules of `page` on its `landing`: the JSON must carry the viewer's own
/// values. Also on a page that already carried another owner's data: a leaked profile is a wrong
/// identity too, with the viewer's values it lacks.
fn check_json_identity(
    user: &GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    page: &Page,
    landing: &Landing,
) {
    let Some(own) = Own::of(ctx, visitor.owner) else {
        return;
    };
    if !landing.expected_page || page.json_equals.is_empty() {
        return;
    }
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
        &check_context(ctx, user, &visitor.phase.name),
        visitor.owner,
        &exchange,
        &expected,
    ) {
        ctx.sink.send(finding);
    }
}

/// Sends page `index` again as `identity`: under the user's own session with another owner's
/// values (outside its household), or the user's own request with no session. A correct target
/// refuses it (401, 403, 404 or a redirect elsewhere: counted); any data it serves is a finding whose detail says so.
pub(super) async fn replay_read(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    index: usize,
    identity: ReplayIdentity,
) -> TransactionResult {
    let page = &ctx.site.pages[index];
    let (owner, asker, note, values_of) = match identity {
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
            (other, Some(visitor), note, Some(other))
        }
        ReplayIdentity::Anonymous => (
            visitor.owner,
            None,
            format!(
                "replayed as anonymous: owner {}'s own request sent with no session",
                visitor.owner
            ),
            None,
        ),
    };
    let Some(own) = Own::of(ctx, owner) else {
        return Ok(());
    };
    let Some(rendered) = render(&page.request, own, &visitor.password, &[]) else {
        return Ok(());
    };
    let name = format!("{} (replayed as {})", page.name, identity.name());
    // Only a request that carries a value can be answered on the strength of it.
    let templated = page
        .request
        .templates()
        .iter()
        .any(|t| t.variables().next().is_some());
    let how = if templated {
        Asked::Replay { values_of }
    } else {
        Asked::Probe
    };
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
        Outgoing::new(rendered, &name).refused().asked(how),
        Some(&note),
    )
    .await?;
    // Refused: 401, 403, 404, or sent elsewhere (the login page), as a correct portal does.
    let refused = landing.is_some_and(|l| matches!(l.status, 401 | 403 | 404) || l.path != asked);
    ctx.counters.replayed_as(identity, refused);
    Ok(())
}

/// Fetches a personal path with a static-looking suffix under the user's own session; the shared
/// list means the next user (and the observer) asks for the very same URL.
pub(super) async fn probe_cache(user: &mut GooseUser, ctx: Arc<LoadContext>) -> TransactionResult {
    let Some(mut visitor) = logged_in_visitor(user, &ctx).await? else {
        return Ok(());
    };
    let path = ctx.probe_paths[visitor.probes % ctx.probe_paths.len()].clone();
    visitor.probes += 1;
    save(user, visitor.clone());
    let name = format!("GET {path} (cache probe)");
    exchange(
        user,
        &ctx,
        Some(&visitor),
        Outgoing::new(get(&path), &name)
            .refused()
            .asked(Asked::Probe),
    )
    .await?;
    Ok(())
}

/// The anonymous observer: no session, asks for the personal pages and the probe URLs; it must
/// never see anyone's data.
pub(super) async fn observe(
    user: &mut GooseUser,
    ctx: Arc<LoadContext>,
    index: usize,
) -> TransactionResult {
    let path = ctx.observed_paths[index].clone();
    let name = format!("GET {path} (observer)");
    exchange(
        user,
        &ctx,
        None,
        Outgoing::new(get(&path), &name)
            .refused()
            .asked(Asked::Probe),
    )
    .await?;
    Ok(())
}
