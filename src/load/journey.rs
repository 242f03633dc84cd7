//! What one simulated beneficiary does, as goose transactions: log in by its flow, read its pages,
//! change its RIB; every response goes through the check. One GooseUser is one beneficiary.

use super::check::{check, CheckContext, Exchange};
use super::counters::ErrorCause;
use super::LoadContext;
use crate::population::{Field, OwnerId};
use goose::goose::GooseMethod;
use goose::prelude::*;
use std::sync::Arc;

/// Per-user state kept in goose's session data.
#[derive(Clone, Debug)]
struct Visitor {
    owner: OwnerId,
    logged_in: bool,
    logins: u32,
    wrote_spare: bool,
}

/// Where a request ended up.
struct Landing {
    status: u16,
    path: String,
}

/// The goose scenario for `ctx`'s site: a login on start, then pages and writes in a loop.
pub fn scenario(ctx: Arc<LoadContext>) -> Result<Scenario, GooseError> {
    let mut scenario = Scenario::new("beneficiary");
    if let Some((min, max)) = ctx.think_time {
        scenario = scenario.set_wait_time(min, max)?;
    }
    scenario = scenario.register_transaction(
        transaction(&ctx, 0, |user, ctx, _| {
            Box::pin(log_in_if_needed(user, ctx))
        })
        .set_name("login")
        .set_on_start(),
    );
    for index in 0..ctx.site.pages.len() {
        let name = format!("read {}", ctx.site.pages[index].path);
        scenario = scenario.register_transaction(
            transaction(&ctx, index, |user, ctx, index| {
                Box::pin(read_page(user, ctx, index))
            })
            .set_name(&name)
            .set_weight(3)?,
        );
    }
    if ctx.site.rib_change.is_some() {
        scenario = scenario.register_transaction(
            transaction(&ctx, 0, |user, ctx, _| Box::pin(change_rib(user, ctx)))
                .set_name("change rib")
                .set_weight(1)?,
        );
    }
    Ok(scenario)
}

/// A step of the journey; the `usize` says which page (or anything the step is parameterised by).
type Step = for<'r> fn(
    &'r mut GooseUser,
    Arc<LoadContext>,
    usize,
) -> std::pin::Pin<
    Box<dyn std::future::Future<Output = TransactionResult> + Send + 'r>,
>;

fn transaction(ctx: &Arc<LoadContext>, argument: usize, step: Step) -> Transaction {
    let ctx = Arc::clone(ctx);
    Transaction::new(Arc::new(move |user| step(user, Arc::clone(&ctx), argument)))
}

async fn visitor(
    user: &mut GooseUser,
    ctx: &LoadContext,
) -> Result<Visitor, Box<TransactionError>> {
    if let Some(visitor) = user.get_session_data::<Visitor>() {
        return Ok(visitor.clone());
    }
    // First step of this user: its own client (own cookie jar, own connections), then its identity.
    user.set_client_builder(ctx.client_builder())
        .await
        .map_err(Box::new)?;
    let visitor = Visitor {
        owner: (user.weighted_users_index % ctx.population.len()) as OwnerId,
        logged_in: false,
        logins: 0,
        wrote_spare: false,
    };
    user.set_session_data(visitor.clone());
    Ok(visitor)
}

fn save(user: &mut GooseUser, visitor: Visitor) {
    user.set_session_data(visitor);
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
        (flow.password_field.clone(), beneficiary.password.clone()),
    ];
    let name = format!("POST {} ({})", flow.path, flow.name);
    let landing = exchange(
        user,
        &ctx,
        &visitor,
        Request {
            method: GooseMethod::Post,
            path: &flow.path,
            name: &name,
            form: Some(form),
            expect_path: &flow.success_path,
            must_show: &flow.must_show,
        },
    )
    .await?;
    match landing {
        Some(l) if is_success(l.status) && l.path == flow.success_path => {
            ctx.counters.login(visitor.logins > 0);
            visitor.logged_in = true;
            visitor.logins += 1;
        }
        _ => ctx.counters.login_failed(),
    }
    save(user, visitor);
    Ok(())
}

async fn read_page(user: &mut GooseUser, ctx: Arc<LoadContext>, index: usize) -> TransactionResult {
    log_in_if_needed(user, Arc::clone(&ctx)).await?;
    let mut visitor = visitor(user, &ctx).await?;
    if !visitor.logged_in {
        return Ok(());
    }
    let page = &ctx.site.pages[index];
    let name = format!("GET {}", page.path);
    let landing = exchange(
        user,
        &ctx,
        &visitor,
        Request {
            method: GooseMethod::Get,
            path: &page.path,
            name: &name,
            form: None,
            expect_path: &page.path,
            must_show: &page.must_show,
        },
    )
    .await?;
    if let Some(landing) = landing {
        if landing.status == 401 || landing.path == ctx.site.login_page {
            ctx.counters.session_lost();
            visitor.logged_in = false;
            save(user, visitor);
        }
    }
    Ok(())
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
        &visitor,
        Request {
            method: GooseMethod::Post,
            path: &rib.path,
            name: &name,
            form: Some(vec![(rib.form_field.clone(), value)]),
            expect_path: &rib.landing_path,
            must_show: &must_show,
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

struct Request<'a> {
    method: GooseMethod,
    path: &'a str,
    /// The metric row: a template, never a per-user value.
    name: &'a str,
    form: Option<Vec<(String, String)>>,
    /// The page a correct answer lands on; `must_show` is checked only there.
    expect_path: &'a str,
    must_show: &'a [Field],
}

fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Sends one request, reads the body (up to the scan cap) and checks it. `None` when no usable
/// response came back: that is an error, counted by cause, never a violation.
async fn exchange(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: &Visitor,
    request: Request<'_>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    let mut builder = user.get_request_builder(&request.method, request.path)?;
    if let Some(form) = &request.form {
        builder = builder.form(form);
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
    }
    let landing = Landing {
        status,
        path: final_url.path().to_owned(),
    };
    if !ctx.checks {
        return Ok(Some(landing));
    }
    let on_expected_page = is_success(status) && landing.path == request.expect_path;
    let must_show = if on_expected_page {
        request.must_show
    } else {
        &[]
    };
    let check_ctx = CheckContext {
        watch: &ctx.watch,
        population: &ctx.population,
        masking: ctx.masking,
        phase: &ctx.phase,
        user: user.weighted_users_index,
        elapsed_ms: ctx.started.elapsed().as_millis() as u64,
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
    if let Some(finding) = check(&check_ctx, visitor.owner, &exchange, must_show) {
        let tag = finding.kind.tag();
        ctx.sink.send(finding);
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
