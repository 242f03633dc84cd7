//! The request path every step takes: send one request on the user's own connection, check what
//! came back with the oracle, record the row goose reports. Errors are counted, never violations.

use super::login::bearer_header;
use super::{check_context, session, Visitor};
use crate::error_cause::ErrorCause;
use crate::findings::Asked;
use crate::load::cache_status;
use crate::load::check::{check, Exchange};
use crate::load::LoadContext;
use crate::scenario::{Method, RenderedRequest, Request};
use crate::transport::{self as wire, Connection};
use goose::prelude::*;
use http::header::HeaderMap;
use std::sync::Arc;
use std::time::Duration;

pub(super) struct Outgoing<'a> {
    pub(super) rendered: RenderedRequest,
    /// The metric row: a template, never a per-user value.
    pub(super) name: &'a str,
    /// The page a correct answer lands on (`None`: wherever it lands); `must_show` is checked
    /// only on a 2xx there.
    pub(super) expect_path: Option<&'a str>,
    pub(super) must_show: &'a [String],
    /// A replayed session token: `(header, value)`, sent instead of the jar's or bearer's.
    pub(super) token: Option<(String, String)>,
    /// A refusal (4xx) is a correct answer here (observer, probe, replayed token): not a failure.
    pub(super) refusal_expected: bool,
    /// How the request was made (a login's last step, a replay, a probe…): what the probable
    /// cause of its findings is inferred from.
    pub(super) asked: Asked,
}

impl<'a> Outgoing<'a> {
    /// `rendered` under the row `name`: landing anywhere with nothing it must show, sent with the
    /// user's own session, a refusal counted as a failure.
    pub(super) fn new(rendered: RenderedRequest, name: &'a str) -> Self {
        Outgoing {
            rendered,
            name,
            expect_path: None,
            must_show: &[],
            token: None,
            refusal_expected: false,
            asked: Asked::Read,
        }
    }

    /// How the request is made, when it is not a plain read (a login's last step, a replay…).
    pub(super) fn asked(self, asked: Asked) -> Self {
        Outgoing { asked, ..self }
    }

    /// Where a correct answer lands (`None`: anywhere), and what it must show there.
    pub(super) fn landing(self, expect_path: Option<&'a str>, must_show: &'a [String]) -> Self {
        Outgoing {
            expect_path,
            must_show,
            ..self
        }
    }

    /// A request a correct target refuses (observer, probe, replay): a 4xx is no failure.
    pub(super) fn refused(self) -> Self {
        Outgoing {
            refusal_expected: true,
            ..self
        }
    }
}

pub(super) fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// Where a request ended up, and what came back.
pub(super) struct Landing {
    /// The URL asked for, before redirects.
    pub(super) url: String,
    /// The request carried an `Authorization` header.
    pub(super) authorization: bool,
    pub(super) status: u16,
    pub(super) path: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
    /// A 2xx on the expected page (not redirected elsewhere), whatever it showed.
    pub(super) expected_page: bool,
    /// The expected page, and it showed the viewer's own identity and nothing foreign.
    pub(super) own_page: bool,
    /// The response says a cache served it (a hit header, or Age > 0).
    pub(super) cache_hit: bool,
}

/// Sends one request, reads the body (up to the scan cap) and checks it. `None` when no usable
/// response came back: that is an error, counted by cause, never a violation.
pub(super) async fn exchange(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
    request: Outgoing<'_>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    exchange_noting(user, ctx, visitor, request, None).await
}

/// [`exchange`], with `note` (how the request was made, e.g. a replay) ahead of the detail of
/// every finding that fails the run.
pub(super) async fn exchange_noting(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
    request: Outgoing<'_>,
    note: Option<&str>,
) -> Result<Option<Landing>, Box<TransactionError>> {
    let Some(answer) = send(user, ctx, visitor, &request).await? else {
        return Ok(None);
    };
    let Answer {
        mut landing,
        final_url,
        head_after,
    } = answer;
    let status = landing.status;
    let failure = goose_failure(ctx, &request, status);
    let failed_tag = if ctx.checks {
        check_landing(user, ctx, visitor, &request, &mut landing, &final_url, note)
    } else {
        None
    };
    // Goose counts a violation as a failure under one constant tag per check.
    let failure = failed_tag.map(str::to_owned).or(failure);
    let method = request.rendered.method.as_str();
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

/// A response as it came back, before any check.
struct Answer {
    landing: Landing,
    /// Where the last redirect led: the request's URL when there was none.
    final_url: String,
    /// Goose's response time: from the first byte sent to the response head.
    head_after: Duration,
}

/// Sends `request` on the user's own connection (and jar, the visitor's session with it) and reads
/// the body up to the scan cap. `None` when no response came back: the error is counted by cause
/// and recorded as goose's failed row.
async fn send(
    user: &mut GooseUser,
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
    request: &Outgoing<'_>,
) -> Result<Option<Answer>, Box<TransactionError>> {
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
    let started = std::time::Instant::now();
    let mut connection = take_connection(user);
    let jar = visitor.map(|v| &*v.jar);
    let sent = ctx.transport.send(&mut connection, jar, outgoing).await;
    put_connection(user, connection);
    ctx.counters.request();
    match sent {
        Ok(response) => Ok(Some(land(
            ctx,
            request,
            url.to_string(),
            authorization,
            response,
        ))),
        Err(error) => {
            let cause = error.cause();
            ctx.counters.error(cause);
            let method = rendered.method.as_str();
            let elapsed = started.elapsed();
            user.record_custom_request_duration(
                method,
                request.name,
                elapsed,
                false,
                None,
                Some(cause.name()),
            )
            .await?;
            Ok(None)
        }
    }
}

/// Where `response` (to `request`, sent to `url`) landed; not yet checked.
fn land(
    ctx: &LoadContext,
    request: &Outgoing<'_>,
    url: String,
    authorization: bool,
    response: wire::Response,
) -> Answer {
    if response.truncated {
        ctx.counters.truncated();
    }
    let status = response.status;
    let expected_page =
        is_success(status) && request.expect_path.is_none_or(|p| p == response.url.path());
    Answer {
        landing: Landing {
            url,
            authorization,
            status,
            path: response.url.path().to_owned(),
            expected_page,
            own_page: false,
            cache_hit: cache_status::served_by_a_cache(&response.headers),
            headers: response.headers,
            body: response.body,
        },
        final_url: response.url.to_string(),
        head_after: response.head_after,
    }
}

/// What goose decides for a request it sends: anything but a 2xx fails, under its status, but a
/// refusal where one is expected. A 5xx is also counted as a server error.
fn goose_failure(ctx: &LoadContext, request: &Outgoing<'_>, status: u16) -> Option<String> {
    let failure = (!is_success(status)).then(|| format!("{status}: {}", request.name));
    if status >= 500 {
        ctx.counters.error(ErrorCause::ServerError);
        failure
    } else if request.refusal_expected {
        None
    } else {
        failure
    }
}

/// Scans `landing` with the oracle and sends its findings, `note` ahead of the detail of those
/// that fail the run; marks the landing as the viewer's own page when nothing foreign was on it.
/// The tag of the first finding that fails the run, if any.
fn check_landing(
    user: &GooseUser,
    ctx: &LoadContext,
    visitor: Option<&Visitor>,
    request: &Outgoing<'_>,
    landing: &mut Landing,
    final_url: &str,
    note: Option<&str>,
) -> Option<&'static str> {
    let must_show = if landing.expected_page {
        request.must_show
    } else {
        &[]
    };
    let exchange = Exchange {
        method: request.rendered.method.as_str(),
        name: request.name,
        url: &landing.url,
        status: landing.status,
        final_url,
        authorization: landing.authorization,
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
        &request.asked,
    );
    landing.own_page = landing.expected_page
        && !must_show.is_empty()
        && findings.iter().all(|f| !f.kind.fails_run());
    let mut failed_tag = None;
    for mut finding in findings {
        if finding.kind.fails_run() && failed_tag.is_none() {
            failed_tag = Some(finding.kind.tag());
        }
        if let Some(note) = note.filter(|_| finding.kind.fails_run()) {
            finding.detail = format!("{note}: {}", finding.detail);
        }
        ctx.sink.send(finding);
    }
    failed_tag
}

/// Gives goose the request's row: its name (a template), time to the response head, outcome.
pub(super) async fn record(
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

/// The user's connection, taken out of its session data for one request.
pub(super) fn take_connection(user: &mut GooseUser) -> Connection {
    std::mem::take(&mut session(user).connection)
}

pub(super) fn put_connection(user: &mut GooseUser, connection: Connection) {
    session(user).connection = connection;
}

/// The metric row of `request`: `METHOD path`, the path a template, never a per-user value.
pub(super) fn row_name(request: &Request) -> String {
    format!("{} {}", request.method.as_str(), request.path.as_str())
}

pub(super) fn get(path: &str) -> RenderedRequest {
    RenderedRequest {
        method: Method::Get,
        path: path.to_owned(),
        headers: Vec::new(),
        body: None,
    }
}
