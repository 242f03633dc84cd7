//! One login attempt on the live target: the flow's steps sent from its own device (cookie jar,
//! connection), then the session's first page and the logout; each landing handed to the check.

use super::plan::{Attempt, Fuzzable, Password};
use crate::findings::{FindingSink, Masking};
use crate::fuzzing::mutate::IdentifierKind;
use crate::load::{Counters, ErrorCause, Watchlist};
use crate::population::{Beneficiary, Population};
use crate::scenario::{
    beneficiary_value, LoginFlow, Logout, Page, RenderedBody, Request, SessionCarrier,
};
use crate::transport::{self as wire, Connection, Jar, Transport};
use http::header::HeaderMap;
use http::Method;
use std::borrow::Cow;
use std::time::{Duration, Instant};
use url::Url;

/// The longest wait between two requests, whatever `--rate` says.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);

/// At most one request per `interval`.
pub(super) struct Pace {
    interval: Duration,
    next: tokio::time::Instant,
}

impl Pace {
    pub(super) fn new(rate: f64) -> Self {
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
pub(super) struct Landing {
    pub(super) status: u16,
    /// The request carried an `Authorization` header (what a shared cache may store depends on it).
    pub(super) authorization: bool,
    pub(super) url: String,
    pub(super) headers: HeaderMap,
    pub(super) body: Vec<u8>,
}

impl Landing {
    fn path(&self) -> String {
        Url::parse(&self.url)
            .map(|u| u.path().to_owned())
            .unwrap_or_default()
    }
}

/// Why an attempt stopped before it could be judged.
pub(super) enum Broke {
    /// A 5xx: the login parser (or what stands behind it) failed on this input.
    ServerError {
        request: String,
        landing: Landing,
    },
    Transport(ErrorCause),
}

/// Everything an attempt needs, shared by all of them.
pub(super) struct Fuzzer<'a> {
    pub(super) target: &'a str,
    pub(super) transport: &'a Transport,
    pub(super) population: &'a Population,
    pub(super) watch: &'a Watchlist,
    pub(super) sink: &'a FindingSink,
    pub(super) counters: &'a Counters,
    pub(super) masking: Masking,
    /// The scenario's pages: an attempt reads the first one its flow's users read.
    pub(super) pages: &'a [Page],
    pub(super) logout: Option<&'a Logout>,
    pub(super) started: Instant,
    pub(super) pace: Pace,
}

/// One attempt as it is typed: whose login, with what identifier and password, under what name.
pub(super) struct Login<'a> {
    pub(super) owner: &'a Beneficiary,
    pub(super) attempt: Attempt,
    pub(super) kind: IdentifierKind,
    /// The identifier as typed (mutated or not).
    pub(super) typed: String,
    pub(super) password: String,
    /// Whether the password is not the owner's own.
    pub(super) wrong_password: bool,
    /// Whether what was typed differs from the owner's own identifier.
    pub(super) mistyped: bool,
    /// The login request's name in the evidence: its path, flow and variant.
    pub(super) name: String,
}

impl<'a> Login<'a> {
    fn of(
        owner: &'a Beneficiary,
        fuzzable: &Fuzzable<'_>,
        attempt: Attempt,
        population: &Population,
    ) -> Login<'a> {
        let own_value = fuzzable.kind.value(owner);
        let typed = attempt.mutation.apply(&own_value, fuzzable.kind);
        let password = attempt.password.value(owner, population);
        let flow = fuzzable.flow;
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
        Login {
            owner,
            attempt,
            kind: fuzzable.kind,
            mistyped: typed != own_value,
            // A variant equal to the real password (digits only, flipped case; a shared password
            // in an export) is the owner's own: its success is no finding.
            wrong_password: attempt.password != Password::Own && password != owner.password,
            typed,
            password,
            name,
        }
    }

    /// The oracle's field and the value typed, when it is not the owner's own identifier: every
    /// NIR form is indexed as `nir`.
    pub(super) fn echoed(&self) -> Option<(&'static str, &str)> {
        let field = match self.kind {
            IdentifierKind::Numero => "numero_allocataire",
            IdentifierKind::Nir | IdentifierKind::NirBody => "nir",
        };
        self.mistyped.then_some((field, self.typed.as_str()))
    }
}

/// One attempt's browser: its own cookie jar and connection, shared with no other attempt.
#[derive(Default)]
pub(super) struct Device {
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
    pub(super) async fn attempt(&mut self, fuzzable: &Fuzzable<'_>, attempt: Attempt) {
        let Some(owner) = self.population.get(attempt.owner) else {
            return;
        };
        let login = Login::of(owner, fuzzable, attempt, self.population);
        let flow = fuzzable.flow;
        let mut device = Device::default();
        let Some((landing, request)) = self.log_in(&login, flow, &mut device).await else {
            return;
        };
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
        let method = request.split_once(' ').map_or("POST", |(method, _)| method);
        let opened_landing = self.judge(&login, method, &login.name, &landing, must_show);
        if !success {
            return;
        }
        // The session's first page, where the opened file shows even when the landing does not.
        let bearer = flow.session.bearer_token(&landing.body);
        let session_headers: Vec<(String, String)> = match (&flow.session, &bearer) {
            (SessionCarrier::Bearer { header, prefix, .. }, Some(token)) => {
                vec![(header.clone(), format!("{prefix}{token}"))]
            }
            _ => Vec::new(),
        };
        let Some(opened_page) = self
            .first_page(&login, &flow.name, &session_headers, &mut device)
            .await
        else {
            return;
        };
        // Met the success conditions with a wrong password, and some file actually showed.
        if login.wrong_password && (opened_landing || opened_page) {
            let finding = self.wrong_password(owner, &request, &login.name, &landing, attempt);
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

    /// Sends the flow's steps with the attempt's values, each step's extractions passed to the
    /// next; the last landing and its request (`METHOD URL`), or `None` when a step could not be
    /// rendered or the attempt broke (reported).
    async fn log_in(
        &mut self,
        login: &Login<'_>,
        flow: &LoginFlow,
        device: &mut Device,
    ) -> Option<(Landing, String)> {
        let mut extracted: Vec<(String, String)> = Vec::new();
        let mut last = None;
        for step in &flow.steps {
            let values = |variable: &str| -> Option<Cow<'_, str>> {
                if let Some((_, value)) = extracted.iter().find(|(n, _)| n == variable) {
                    return Some(Cow::Owned(value.clone()));
                }
                if variable == "password" {
                    return Some(Cow::Owned(login.password.clone()));
                }
                if variable == login.kind.variable() {
                    return Some(Cow::Owned(login.typed.clone()));
                }
                beneficiary_value(login.owner, variable).map(Cow::Owned)
            };
            let rendered = step.request.render(&values).ok()?;
            let request = format!(
                "{} {}{}",
                rendered.method.as_str(),
                self.target,
                rendered.path
            );
            let answer = self
                .send(
                    rendered.method.as_str(),
                    &rendered.path,
                    &rendered.headers,
                    rendered.body.as_ref(),
                    device,
                )
                .await;
            let answer = match answer {
                Ok(answer) => answer,
                Err(broke) => {
                    self.broke(login, broke);
                    return None;
                }
            };
            crate::load::keep_newest(&mut extracted, &step.extract, &answer.body, &answer.headers);
            last = Some((answer, request));
        }
        last
    }

    /// Reads, in the attempt's session, the first page the flow's users read, and checks it:
    /// whether it carried anyone's data (`false` when there is no such page), or `None` when the
    /// read broke (reported).
    async fn first_page(
        &mut self,
        login: &Login<'_>,
        flow: &str,
        session_headers: &[(String, String)],
        device: &mut Device,
    ) -> Option<bool> {
        let pages = self.pages;
        let Some(page) = pages.iter().find(|p| p.read_by(flow)) else {
            return Some(false);
        };
        match self
            .send_in_session(&page.request, login.owner, session_headers, device)
            .await
        {
            Some(Ok(read)) => {
                let name = format!("{} then {}", login.name, page.name);
                let method = page.request.method.as_str();
                Some(self.judge(login, method, &name, &read, &page.must_show))
            }
            Some(Err(broke)) => {
                self.broke(login, broke);
                None
            }
            None => Some(false),
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
}
