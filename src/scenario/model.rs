//! The validated scenario: typed values only, every name resolved, every default applied. What the
//! load runner reads; nothing here can be wrong in a way the validator could have caught.

use super::scope::Scope;
use super::template::{Body, MissingValue, RenderedBody, Template};
use super::threshold::LatencyThreshold;
use crate::faults::Fault;
use crate::population::PopulationSource;
use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Duration;

/// One scenario file, validated.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// The file as named when loaded (for messages and reports).
    pub file: PathBuf,
    /// `name`, or the file's stem.
    pub name: String,
    pub description: Option<String>,
    pub target: Target,
    pub population: PopulationSource,
    /// In file order; never empty.
    pub login_flows: Vec<LoginFlow>,
    pub pages: Vec<Page>,
    pub writes: Vec<Write>,
    pub logout: Option<Logout>,
    /// In file order: the timeline. Never empty.
    pub phases: Vec<Phase>,
    pub load: LoadShape,
    pub thresholds: Thresholds,
}

impl Scenario {
    pub fn login_flow(&self, name: &str) -> Option<&LoginFlow> {
        self.login_flows.iter().find(|f| f.name == name)
    }

    pub fn phase(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// The sum of the phases' durations.
    pub fn duration(&self) -> Duration {
        self.phases.iter().map(|p| p.duration).sum()
    }

    /// The largest user count of any phase.
    pub fn max_users(&self) -> usize {
        self.phases.iter().map(|p| p.users).max().unwrap_or(0)
    }
}

/// Where the requests go, and how carefully.
#[derive(Clone, Debug, PartialEq)]
pub struct Target {
    pub endpoint: Endpoint,
    /// The hosts the run may load besides loopback (the base URL's host among them); a
    /// `--target` URL goes through the same [`Scope::admit`].
    pub scope: Scope,
    pub timeouts: Timeouts,
    pub tls: Tls,
    pub proxy: ProxySetting,
    pub http: HttpVersion,
}

/// `[target] http`: the HTTP version the users speak to the target.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HttpVersion {
    /// `"auto"` (no key): HTTP/2 when a TLS target offers it by ALPN, HTTP/1.1 otherwise.
    #[default]
    Auto,
    /// `"1.1"`: HTTP/1.1 only.
    Http1,
    /// `"2"`: HTTP/2 only; on an `http://` target, with prior knowledge (h2c).
    Http2,
}

/// `[target] request_timeout` and `connect_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    /// A request slower than this is an error.
    pub request: Duration,
    /// Time allowed to open a connection (TCP, then the TLS handshake).
    pub connect: Duration,
}

/// `[target] proxy`: which proxy the run's requests go through.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// No key: `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` (or their lower-case names), for
    /// targets that are not loopback.
    #[default]
    Environment,
    /// `proxy = "none"`: always direct.
    Off,
    /// `proxy = "http://host:port"`: every request, loopback targets included.
    Through(url::Url),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Endpoint {
    /// A running portal; the URL has no trailing slash and passed the loopback rule.
    Url(String),
    /// crossleak's own demo portal, started for the run on a loopback port.
    Embedded {
        faults: Vec<Fault>,
        /// Whether the NIR login is on when the portal starts (a phase's `at_start` may switch it).
        nir_login: bool,
    },
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tls {
    pub accept_invalid_certs: bool,
    /// A PEM file of extra root certificates, resolved against the scenario's folder.
    pub ca_file: Option<PathBuf>,
    /// The certificate and key crossleak shows a server that asks for one (mutual TLS).
    pub client_auth: Option<ClientAuth>,
}

/// PEM files of a client certificate (with its chain) and its private key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAuth {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub const NAMES: [&'static str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<Method> {
        Some(match text {
            "GET" => Method::Get,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            _ => return None,
        })
    }
}

/// One HTTP request, templated.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub method: Method,
    /// Starts with `/`; relative to the target's base URL.
    pub path: Template,
    /// In file order.
    pub headers: Vec<(String, Template)>,
    pub body: Option<Body>,
}

/// A request with every placeholder filled.
#[derive(Clone, Debug, PartialEq)]
pub struct RenderedRequest {
    pub method: Method,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<RenderedBody>,
}

impl Request {
    /// Fills the placeholders from `values` (a user's population values, `password`, extracted
    /// values, …) and `{{env:NAME}}` from the environment.
    pub fn render<'v>(
        &self,
        values: &dyn Fn(&str) -> Option<Cow<'v, str>>,
    ) -> Result<RenderedRequest, MissingValue> {
        Ok(RenderedRequest {
            method: self.method,
            path: self.path.render(values)?,
            headers: self
                .headers
                .iter()
                .map(|(k, t)| Ok((k.clone(), t.render(values)?)))
                .collect::<Result<_, MissingValue>>()?,
            body: self.body.as_ref().map(|b| b.render(values)).transpose()?,
        })
    }

    /// Whether the request templates one of `variables` anywhere (path, headers, body): the
    /// requests a replay as another owner re-sends with that owner's values.
    pub fn templates_any(&self, variables: &[String]) -> bool {
        self.templates()
            .iter()
            .any(|t| t.variables().any(|v| variables.iter().any(|w| w == v)))
    }

    /// Every template of the request: path, headers, body.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = vec![&self.path];
        out.extend(self.headers.iter().map(|(_, t)| t));
        if let Some(body) = &self.body {
            out.extend(body.templates());
        }
        out
    }
}

/// One named way to log in.
#[derive(Clone, Debug, PartialEq)]
pub struct LoginFlow {
    pub name: String,
    /// Sent in order by one user; a step may extract values the later steps use.
    pub steps: Vec<LoginStep>,
    /// Judged on the last step's final response (redirects followed).
    pub success: Success,
    pub session: SessionCarrier,
    pub on_expired: OnExpired,
    /// How a response says the session is gone.
    pub expired_when: Expiry,
}

impl LoginFlow {
    /// The names of the values its steps extract, in order.
    pub fn extracted(&self) -> impl Iterator<Item = &str> {
        self.steps
            .iter()
            .flat_map(|step| step.extract.iter().map(|e| e.name.as_str()))
    }
}

/// How a session ends: requests sent in order, each of which may extract values for the next.
/// They may use the values the user's login flow extracted (`{{csrf}}`); a value a logout step
/// extracts hides a login value of the same name.
#[derive(Clone, Debug, PartialEq)]
pub struct Logout {
    /// Never empty.
    pub steps: Vec<LoginStep>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LoginStep {
    pub request: Request,
    /// Values read from this step's response, usable as `{{name}}` in later steps.
    pub extract: Vec<Extraction>,
}

#[derive(Clone, Debug)]
pub struct Extraction {
    pub name: String,
    pub from: ExtractFrom,
    pub pattern: Pattern,
}

impl Extraction {
    /// The value this extraction takes from a response, if its pattern finds one.
    pub fn take(&self, body: &[u8], headers: &http::header::HeaderMap) -> Option<String> {
        let text = match &self.from {
            ExtractFrom::Body => String::from_utf8_lossy(body),
            ExtractFrom::Header(name) => Cow::Borrowed(
                headers
                    .get(name.as_str())
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default(),
            ),
        };
        self.pattern.extract(&text)
    }
}

impl PartialEq for Extraction {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.from == other.from && self.pattern == other.pattern
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExtractFrom {
    Body,
    /// A response header, lowercase name.
    Header(String),
}

#[derive(Clone, Debug)]
pub enum Pattern {
    /// The first capture group (the whole match if the regex has none).
    Regex(regex::Regex),
    /// An RFC 6901 pointer into a JSON body (`serde_json::Value::pointer`).
    JsonPointer(String),
    /// The first element of an HTML body that a CSS selector matches: one of its attributes, or
    /// its text (trimmed) when no attribute is named.
    Css(CssPattern),
}

/// A CSS selector checked when the scenario was validated, and what to take from the element.
#[derive(Clone, Debug)]
pub struct CssPattern {
    /// The selector as the scenario wrote it, for messages and equality.
    pub source: String,
    pub selector: scraper::Selector,
    /// `Some("content")`: the attribute's value; `None`: the element's text.
    pub attribute: Option<String>,
}

impl CssPattern {
    /// Parses `source`; the error is the parser's own message.
    pub fn parse(source: &str, attribute: Option<String>) -> Result<CssPattern, String> {
        let selector = scraper::Selector::parse(source).map_err(|e| {
            // scraper's messages are sentences ("Token was not expected"): one clause here.
            let text = e.to_string();
            let mut chars = text.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_lowercase().chain(chars).collect()
            })
        })?;
        Ok(CssPattern {
            source: source.to_owned(),
            selector,
            attribute,
        })
    }

    /// The value in an HTML document: `None` when no element matches, the element has no such
    /// attribute, or its text is empty.
    pub fn extract(&self, html: &str) -> Option<String> {
        let document = scraper::Html::parse_document(html);
        let element = document.select(&self.selector).next()?;
        let value = match &self.attribute {
            Some(name) => element.value().attr(name)?.to_owned(),
            None => element.text().collect::<String>().trim().to_owned(),
        };
        (!value.is_empty()).then_some(value)
    }
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Pattern::Regex(a), Pattern::Regex(b)) => a.as_str() == b.as_str(),
            (Pattern::JsonPointer(a), Pattern::JsonPointer(b)) => a == b,
            (Pattern::Css(a), Pattern::Css(b)) => {
                a.source == b.source && a.attribute == b.attribute
            }
            _ => false,
        }
    }
}

impl Pattern {
    /// Applies the pattern to a response body or header value.
    pub fn extract(&self, text: &str) -> Option<String> {
        match self {
            Pattern::Regex(regex) => {
                let captures = regex.captures(text)?;
                let found = captures.get(1).or_else(|| captures.get(0))?;
                Some(found.as_str().to_owned())
            }
            Pattern::JsonPointer(pointer) => {
                let value: serde_json::Value = serde_json::from_str(text).ok()?;
                match value.pointer(pointer)? {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Null => None,
                    other => Some(other.to_string()),
                }
            }
            Pattern::Css(css) => css.extract(text),
        }
    }
}

/// What a successful response looks like; every condition given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Success {
    /// Any of these statuses; empty means any 2xx.
    pub status: Vec<u16>,
    /// The path the response ends on after redirects.
    pub landing_path: Option<String>,
    pub body_contains: Option<String>,
    /// Oracle field names the landing page must show of the user's own data.
    pub must_show: Vec<String>,
}

impl Success {
    /// Whether a response (its status, the path it ended on, its body) meets these conditions.
    pub fn met_by(&self, status: u16, path: &str, body: &[u8]) -> bool {
        let status_ok = if self.status.is_empty() {
            (200..300).contains(&status)
        } else {
            self.status.contains(&status)
        };
        status_ok
            && self.landing_path.as_ref().is_none_or(|p| p == path)
            && self
                .body_contains
                .as_ref()
                .is_none_or(|needle| String::from_utf8_lossy(body).contains(needle.as_str()))
    }
}

/// Where the session lives once logged in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionCarrier {
    /// A cookie, kept in the user's own jar; its value is the session token.
    Cookie { name: String },
    /// A token read from the last login step's JSON body, sent on every later request as
    /// `<header>: <prefix><token>`.
    Bearer {
        json_pointer: String,
        header: String,
        prefix: String,
    },
}

impl SessionCarrier {
    /// The bearer token a login's last response body carries, when the session is one.
    pub fn bearer_token(&self, body: &[u8]) -> Option<String> {
        let SessionCarrier::Bearer { json_pointer, .. } = self else {
            return None;
        };
        let json: serde_json::Value = serde_json::from_slice(body).ok()?;
        match json.pointer(json_pointer)? {
            serde_json::Value::String(token) => Some(token.clone()),
            other => Some(other.to_string()),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnExpired {
    /// Log in again with the same flow and count it.
    LoginAgain,
    /// Record an error and stop this user.
    Fail,
}

/// A response means "session gone" when its status is one of `status` or it lands on
/// `landing_path`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expiry {
    pub status: Vec<u16>,
    pub landing_path: Option<String>,
}

/// A page every user reads, and what it must show.
#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// `name`, or `"<METHOD> <path>"`: the metric row.
    pub name: String,
    pub request: Request,
    /// Oracle field names the page must show of the user's own data.
    pub must_show: Vec<String>,
    pub json_equals: Vec<JsonEquals>,
    /// The login flows whose users read it; empty: every user.
    pub flows: Vec<String>,
}

impl Page {
    /// Whether a user logged in by the flow `flow` reads this page.
    pub fn read_by(&self, flow: &str) -> bool {
        self.flows.is_empty() || self.flows.iter().any(|f| f == flow)
    }
}

/// The JSON value at `pointer` must equal the user's own value of `variable`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonEquals {
    pub pointer: String,
    pub variable: String,
}

/// A write of the user's own data to a value that is the user's alone.
#[derive(Clone, Debug, PartialEq)]
pub struct Write {
    pub name: String,
    /// The body uses `{{value}}` for the value written.
    pub request: Request,
    /// Written in turn, one per write; each a watched variable of the population.
    pub values: Vec<WrittenValue>,
    /// Paths read (GET) after the write; each must show the value written.
    pub then_read: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WrittenValue {
    /// The population variable whose value is written (`spare_iban`).
    pub variable: String,
    /// The oracle field that value is watched under (`written_iban`).
    pub field: String,
}

/// How long starting `users` users at `rate` users per second takes: one every `1 / rate`
/// seconds, the first at once, the ramp ending `users / rate` after the first start (as goose
/// schedules it).
pub fn ramp_time(users: usize, rate: f64) -> Duration {
    Duration::from_secs_f64(users as f64 / rate.max(0.001))
}

/// A phase whose users cannot all start within its duration: what is wrong, and what to change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RampTooLong {
    pub fact: String,
    pub fix: String,
}

impl std::fmt::Display for RampTooLong {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.fact, self.fix)
    }
}

/// One stretch of the timeline.
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    pub name: String,
    pub duration: Duration,
    /// Users active during the phase (at least 1).
    pub users: usize,
    /// Login flow name and weight, in file order; weights are ≥ 0 and sum to more than 0.
    pub login_mix: Vec<(String, f64)>,
    /// Requests sent once when the phase begins, before its users log in.
    pub at_start: Vec<Action>,
    pub password_changes: Option<PasswordChanges>,
}

impl Phase {
    /// Checks that the phase's users and `observers` all start within its duration at `rate`
    /// users per second: a phase's duration is its whole wall time, the ramp included.
    pub fn ramp_fits(&self, rate: f64, observers: usize) -> Result<Duration, RampTooLong> {
        let started = self.users + observers;
        let ramp = ramp_time(started, rate);
        if ramp <= self.duration {
            return Ok(ramp);
        }
        let with_observers = if observers > 0 {
            format!(" and {observers} observer(s)")
        } else {
            String::new()
        };
        Err(RampTooLong {
            fact: format!(
                "phase {:?}: its {} user(s){with_observers} take {:.1} s to start at increase_rate {rate}, longer than its duration of {:.1} s",
                self.name,
                self.users,
                ramp.as_secs_f64(),
                self.duration.as_secs_f64(),
            ),
            fix: format!(
                "the duration is the whole phase, the ramp included: raise increase_rate to at least {} or the duration to at least {} s",
                (started as f64 / self.duration.as_secs_f64()).ceil(),
                ramp.as_secs_f64().ceil(),
            ),
        })
    }

    /// The share (0 to 1) of the phase's logins that use `flow`.
    pub fn share_of(&self, flow: &str) -> f64 {
        let total: f64 = self.login_mix.iter().map(|(_, w)| w).sum();
        self.login_mix
            .iter()
            .filter(|(name, _)| name == flow)
            .map(|(_, w)| w / total)
            .sum()
    }

    /// The flow the `n`-th user of the phase uses: users are spread over the mix by weight,
    /// deterministically (no random draw).
    pub fn flow_for(&self, n: usize) -> &str {
        let total: f64 = self.login_mix.iter().map(|(_, w)| w).sum();
        // The golden-ratio sequence spreads consecutive users evenly over [0, 1).
        let point = (n as f64 * 0.618_033_988_749_895).fract() * total;
        let mut acc = 0.0;
        for (name, weight) in &self.login_mix {
            acc += weight;
            if point < acc {
                return name;
            }
        }
        self.login_mix
            .iter()
            .rev()
            .find(|(_, w)| *w > 0.0)
            .map_or("", |(name, _)| name)
    }
}

/// A request sent once (not per user), e.g. an admin switch.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    pub request: Request,
    /// Any of these statuses; empty means any 2xx.
    pub expect_status: Vec<u16>,
}

/// Some users change their password during the phase.
#[derive(Clone, Debug, PartialEq)]
pub struct PasswordChanges {
    /// 0 to 1: the share of the phase's users who change it (once each).
    pub share: f64,
    /// Uses `{{password}}` (the current one) and `{{new_password}}`.
    pub request: Request,
    pub success: Success,
}

/// How the load is shaped within the phases.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadShape {
    /// Users started per second.
    pub increase_rate: f64,
    /// Pause between a user's requests, drawn between the bounds.
    pub think_time: Option<(Duration, Duration)>,
    /// A cap for shared staging systems; `None` for no cap.
    pub max_requests_per_second: Option<f64>,
    pub crowd: Option<Crowd>,
    /// 0 to 1: share of page reads preceded by a request cancelled `cancel_after` after sending.
    pub cancel_share: f64,
    pub cancel_after: Duration,
    /// Users with no session that read the personal pages.
    pub observers: usize,
    pub cache_probes: bool,
    /// Log out, then replay the old session token (needs `[logout]` and a cookie session).
    pub session_replay: bool,
    /// Page reads sent again under another identity (`replay = { share, as }`).
    pub replay: Option<Replay>,
}

/// Cross-identity replay: a share of page reads sent again as someone who must be refused.
#[derive(Clone, Debug, PartialEq)]
pub struct Replay {
    /// 0 to 1: the share of page reads replayed.
    pub share: f64,
    /// Who asks, taken in turn; never empty.
    pub identities: Vec<ReplayIdentity>,
}

/// Who a replayed page read is sent as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayIdentity {
    /// The user's own session, the request templated with another owner's values (outside the
    /// user's household); only for requests that template a watched variable.
    OtherUser,
    /// The user's own templated request with no session at all.
    Anonymous,
}

impl ReplayIdentity {
    /// The name scenario files and evidence use.
    pub fn name(self) -> &'static str {
        match self {
            ReplayIdentity::OtherUser => "other_user",
            ReplayIdentity::Anonymous => "anonymous",
        }
    }
}

/// Release `size` users on `step` at the same instant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crowd {
    pub size: usize,
    pub step: CrowdStep,
    pub max_wait: Duration,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrowdStep {
    /// The login request (each flow's last step).
    Login,
    /// The page at this index of `Scenario::pages`.
    Page { index: usize, path: String },
}

/// When a run fails besides violations (which always fail it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Thresholds {
    /// 0 to 1: the largest share of failed requests that still passes.
    pub max_error_rate: Option<f64>,
    pub latency: Vec<LatencyThreshold>,
    pub fail_on_cache_warnings: bool,
}

impl Thresholds {
    /// The rules in goose's `--threshold` syntax (`p95<500ms`, `error-rate<=1%`).
    pub fn goose_rules(&self) -> Vec<String> {
        let mut rules: Vec<String> = self.latency.iter().map(|t| t.goose_rule()).collect();
        if let Some(rate) = self.max_error_rate {
            rules.push(format!("error-rate<={}%", rate * 100.0));
        }
        rules
    }
}
