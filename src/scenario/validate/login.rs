//! `[[login_flow]]`: named ways to log in, their steps, and how the session is carried (cookie or
//! bearer token).

use super::requests::present;
use super::vocabulary::Vocabulary;
use super::Validator;
use crate::scenario::error::{suggestion, ErrorKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

impl Validator<'_> {
    /// The valid flows, and the name of every flow declared (valid or not), so that a phase
    /// naming a broken flow is not told the flow does not exist.
    pub(crate) fn login_flows(
        &mut self,
        raw: Vec<Spanned<RawLoginFlow>>,
        broken: bool,
        vocabulary: &Vocabulary<'_>,
    ) -> (Vec<LoginFlow>, Vec<String>) {
        let mut declared: Vec<String> = Vec::new();
        for flow in &raw {
            let name = flow.get_ref().name.get_ref().trim().to_owned();
            if !declared.contains(&name) {
                declared.push(name);
            }
        }
        if raw.is_empty() && !broken {
            self.at(0..0, ErrorKind::MissingKey, "the scenario has no [[login_flow]]", "add a [[login_flow]] with a name, steps, success and session (see scenarios/README.md)");
        }
        let mut out: Vec<LoginFlow> = Vec::new();
        for flow in raw {
            let f = flow.into_inner();
            let name = f.name.get_ref().trim().to_owned();
            if !is_flow_name(&name) {
                self.at(
                    f.name.span(),
                    ErrorKind::InvalidValue,
                    format!("login flow name {name:?} is not a simple name"),
                    "use letters, digits, - and _, as in name = \"legacy\"",
                );
                continue;
            }
            if out.iter().any(|o| o.name == name) {
                self.at(
                    f.name.span(),
                    ErrorKind::Conflict,
                    format!("two login flows are named {name:?}"),
                    "give each [[login_flow]] its own name",
                );
                continue;
            }
            let what = format!("login flow {name:?}");
            if f.steps.get_ref().is_empty() {
                self.at(
                    f.steps.span(),
                    ErrorKind::MissingKey,
                    format!("{what} has no steps"),
                    "add a [[login_flow.steps]] table with method, path and form",
                );
                continue;
            }
            let steps = self.steps(f.steps.get_ref(), &[], vocabulary, &what);
            let success = self.success(&f.success, vocabulary, &what);
            let session = self.session(&f.session, &what);
            let on_expired = self.on_expired(f.on_expired.as_ref(), &what);
            let expired_when = self.expired_when(f.expired_when.as_ref(), &what);
            if let (
                Some(steps),
                Some(success),
                Some(session),
                Some(on_expired),
                Some(expired_when),
            ) = (steps, success, session, on_expired, expired_when)
            {
                out.push(LoginFlow {
                    name,
                    steps,
                    success,
                    session,
                    on_expired,
                    expired_when,
                });
            }
        }
        (out, declared)
    }

    /// `on_expired`: what a user does when its session ends under it (default: log in again).
    fn on_expired(&mut self, raw: Option<&Text>, what: &str) -> Option<OnExpired> {
        match raw {
            None => Some(OnExpired::LoginAgain),
            Some(t) => match t.get_ref().as_str() {
                "login_again" => Some(OnExpired::LoginAgain),
                "fail" => Some(OnExpired::Fail),
                other => {
                    self.at(
                        t.span(),
                        ErrorKind::InvalidValue,
                        format!("on_expired {other:?} in {what} is not a choice"),
                        suggestion(other, ["login_again", "fail"]),
                    );
                    None
                }
            },
        }
    }

    /// `expired_when`: how a flow's expired session shows (default: a 401); never empty.
    fn expired_when(&mut self, raw: Option<&Spanned<RawExpiry>>, what: &str) -> Option<Expiry> {
        match raw {
            None => Some(Expiry {
                status: vec![401],
                landing_path: None,
            }),
            Some(e) => {
                let status = self.statuses(e.get_ref().status.as_ref(), what);
                let landing = present(
                    e.get_ref()
                        .landing_path
                        .as_ref()
                        .map(|p| self.path_text(p, "landing_path")),
                );
                match (status, landing) {
                    (Some(status), Some(landing_path))
                        if !status.is_empty() || landing_path.is_some() =>
                    {
                        Some(Expiry {
                            status,
                            landing_path,
                        })
                    }
                    (Some(_), Some(_)) => {
                        self.at(e.span(), ErrorKind::MissingKey, format!("expired_when in {what} has no condition"), "write expired_when = { status = [401], landing_path = \"/connexion\" }");
                        None
                    }
                    _ => None,
                }
            }
        }
    }

    /// Requests sent in order, each able to extract values the later ones use; `given` are the
    /// values known before the first (for a logout, what every login flow extracted).
    pub(super) fn steps(
        &mut self,
        raw: &[Spanned<RawStep>],
        given: &[String],
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<Vec<LoginStep>> {
        let mut ok = true;
        let mut extracted: Vec<String> = Vec::new();
        let mut steps = Vec::new();
        for step in raw {
            let names: Vec<&str> = given.iter().chain(&extracted).map(String::as_str).collect();
            let scope = vocabulary.user(&names);
            let request = self.request(step.get_ref().request(), step.span(), &scope, what);
            let mut extract = Vec::new();
            for e in step.get_ref().extract.iter().flatten() {
                // A later step may take a name again (a CSRF token renewed on every page): the
                // newest value is sent. One step takes a name once.
                match self.extraction(e, vocabulary, &extract, what) {
                    Some(x) => {
                        extracted.push(x.name.clone());
                        extract.push(x);
                    }
                    None => ok = false,
                }
            }
            match request {
                Some(request) => steps.push(LoginStep { request, extract }),
                None => ok = false,
            }
        }
        ok.then_some(steps)
    }

    pub(super) fn session(
        &mut self,
        raw: &Spanned<RawSession>,
        what: &str,
    ) -> Option<SessionCarrier> {
        let s = raw.get_ref();
        match (&s.cookie, &s.bearer) {
            (Some(cookie), None) => {
                let name = cookie.get_ref().trim();
                if name.is_empty() || name.contains(['=', ';', ' ']) {
                    self.at(
                        cookie.span(),
                        ErrorKind::InvalidValue,
                        format!("{name:?} in {what} is not a cookie name"),
                        "write the cookie's name alone, as in cookie = \"session_id\"",
                    );
                    return None;
                }
                Some(SessionCarrier::Cookie {
                    name: name.to_owned(),
                })
            }
            (None, Some(bearer)) => {
                let b = bearer.get_ref();
                let json_pointer = self.pointer(&b.json_pointer, what)?;
                Some(SessionCarrier::Bearer {
                    json_pointer,
                    header: b.header.as_ref().map_or_else(
                        || "Authorization".to_owned(),
                        |h| h.get_ref().trim().to_owned(),
                    ),
                    prefix: b.prefix.clone().unwrap_or_else(|| "Bearer ".to_owned()),
                })
            }
            (Some(cookie), Some(_)) => {
                self.at(
                    cookie.span(),
                    ErrorKind::Conflict,
                    format!("the session of {what} is both a cookie and a bearer token"),
                    "keep the one the portal uses",
                );
                None
            }
            (None, None) => {
                self.at(raw.span(), ErrorKind::MissingKey, format!("the session of {what} says neither cookie nor bearer"), "add session = { cookie = \"session_id\" } or session = { bearer = { json_pointer = \"/token\" } }");
                None
            }
        }
    }
}

pub(super) fn is_flow_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
