//! `[[phase]]`: the timeline — each phase's users, duration, login mix, actions at its start and
//! password changes.

use super::vocabulary::Vocabulary;
use super::Validator;
use crate::scenario::error::{suggestion_listing, ErrorKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    pub(crate) fn phases(
        &mut self,
        raw: Vec<Spanned<RawPhase>>,
        broken: bool,
        flows: Option<&[&str]>,
        default_users: Option<(usize, Range<usize>)>,
        load: Option<&LoadShape>,
        vocabulary: &Vocabulary<'_>,
    ) -> Vec<Phase> {
        if raw.is_empty() && !broken {
            self.at(
                0..0,
                ErrorKind::MissingKey,
                "the scenario has no [[phase]]",
                "add a [[phase]] with name, duration, users and login_flows = { legacy = 1.0 }",
            );
        }
        let mut out: Vec<Phase> = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (index, phase) in raw.into_iter().enumerate() {
            let span = phase.span();
            let p = phase.into_inner();
            let name = match &p.name {
                Some(n) if !n.get_ref().trim().is_empty() => n.get_ref().trim().to_owned(),
                _ => {
                    self.at(
                        p.name.as_ref().map_or(span.clone(), Spanned::span),
                        ErrorKind::MissingKey,
                        format!("phase {} has no name", index + 1),
                        "add name = \"cut-over\" (reports say in which phase a finding happened)",
                    );
                    continue;
                }
            };
            if names.contains(&name) {
                self.at(
                    p.name.as_ref().map_or(span.clone(), Spanned::span),
                    ErrorKind::Conflict,
                    format!("two phases are named {name:?}"),
                    "give each [[phase]] its own name",
                );
                continue;
            }
            names.push(name.clone());
            let what = format!("phase {name:?}");
            let duration = self.phase_duration(&p, span.clone(), &what);
            let users = self.phase_users(&p, default_users.as_ref(), span.clone(), &what);
            let login_mix = self.login_mix(p.login_flows.as_ref(), flows, &what, span.clone());
            let at_start = self.at_start(&p, vocabulary, &what);
            let password_changes = match &p.password_changes {
                None => Some(None),
                Some(raw) => self.password_changes(raw, vocabulary, &what).map(Some),
            };
            if let (
                Some(at_start),
                Some(duration),
                Some(users),
                Some(login_mix),
                Some(password_changes),
            ) = (at_start, duration, users, login_mix, password_changes)
            {
                let phase = Phase {
                    name,
                    duration,
                    users,
                    login_mix,
                    at_start,
                    password_changes,
                };
                if let (Some(load), Some(d)) = (load, &p.duration) {
                    if let Err(ramp) = phase.ramp_fits(load.increase_rate, load.observers) {
                        self.at(d.span(), ErrorKind::InvalidValue, ramp.fact, ramp.fix);
                        continue;
                    }
                }
                out.push(phase);
            }
        }
        out
    }

    /// A phase's `duration`: present and above zero.
    fn phase_duration(&mut self, p: &RawPhase, span: Range<usize>, what: &str) -> Option<Duration> {
        match &p.duration {
            None => {
                self.at(
                    span.clone(),
                    ErrorKind::EmptyPhase,
                    format!("{what} has no duration"),
                    "add duration = \"30s\"",
                );
                None
            }
            Some(d) => match humantime::parse_duration(d.get_ref().trim()) {
                Ok(x) if x.is_zero() => {
                    self.at(
                        d.span(),
                        ErrorKind::EmptyPhase,
                        format!("{what} lasts zero seconds"),
                        "give it a duration, as in duration = \"30s\", or remove the phase",
                    );
                    None
                }
                Ok(x) => Some(x),
                Err(_) => self.duration(d, "duration"),
            },
        }
    }

    /// A phase's `users`, or `[load] users` when it gives none; never zero.
    fn phase_users(
        &mut self,
        p: &RawPhase,
        default_users: Option<&(usize, Range<usize>)>,
        span: Range<usize>,
        what: &str,
    ) -> Option<usize> {
        match (&p.users, default_users) {
            (Some(u), _) if *u.get_ref() == 0 => {
                self.at(
                    u.span(),
                    ErrorKind::EmptyPhase,
                    format!("{what} has zero users"),
                    "give it at least 1 user, as in users = 50, or remove the phase",
                );
                None
            }
            (Some(u), _) => Some(*u.get_ref() as usize),
            (None, Some((n, _))) => Some(*n),
            (None, None) => {
                self.at(
                    span.clone(),
                    ErrorKind::EmptyPhase,
                    format!("{what} has no users"),
                    "add users = 50 to this phase, or to [load] for every phase",
                );
                None
            }
        }
    }

    /// A phase's `at_start` actions, each request sent once for the whole run; `None` if one is
    /// refused.
    fn at_start(
        &mut self,
        p: &RawPhase,
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<Vec<Action>> {
        let mut ok = true;
        let mut at_start = Vec::new();
        for action in p.at_start.iter().flatten() {
            let request = self.request(
                action.get_ref().request(),
                action.span(),
                &vocabulary.once(),
                &format!("at_start of {what}"),
            );
            let expect = self.statuses(action.get_ref().expect_status.as_ref(), what);
            match (request, expect) {
                (Some(request), Some(expect_status)) => at_start.push(Action {
                    request,
                    expect_status,
                }),
                _ => ok = false,
            }
        }
        ok.then_some(at_start)
    }

    pub(super) fn login_mix(
        &mut self,
        raw: Option<&Spanned<std::collections::BTreeMap<Text, Spanned<f64>>>>,
        flows: Option<&[&str]>,
        what: &str,
        span: Range<usize>,
    ) -> Option<Vec<(String, f64)>> {
        let example = match flows.and_then(|f| f.first()) {
            Some(first) => format!("login_flows = {{ {first} = 1.0 }}"),
            None => {
                "login_flows = { legacy = 1.0 } (and a [[login_flow]] named \"legacy\")".to_owned()
            }
        };
        let Some(raw) = raw else {
            self.at(
                span,
                ErrorKind::EmptyPhase,
                format!("{what} names no login flow"),
                format!("add {example}"),
            );
            return None;
        };
        let mut entries: Vec<_> = raw.get_ref().iter().collect();
        entries.sort_by_key(|(k, _)| k.span().start);
        if entries.is_empty() {
            self.at(
                raw.span(),
                ErrorKind::EmptyPhase,
                format!("{what} names no login flow"),
                format!("write {example}"),
            );
            return None;
        }
        let mut mix = Vec::new();
        let mut ok = true;
        for (name, weight) in entries {
            let flow = name.get_ref().trim();
            let unknown = flows.filter(|f| !f.contains(&flow));
            if let Some(flows) = unknown {
                self.at(
                    name.span(),
                    ErrorKind::UnknownLoginFlow,
                    format!("{what} names login flow {flow:?}, which no [[login_flow]] defines"),
                    suggestion_listing(flow, flows.iter().copied(), "flows"),
                );
                ok = false;
            }
            let w = *weight.get_ref();
            if !(w.is_finite() && w >= 0.0) {
                self.at(
                    weight.span(),
                    ErrorKind::InvalidValue,
                    format!("the weight of {flow:?} in {what} is {w}"),
                    "give a weight of 0 or more, as in legacy = 0.7",
                );
                ok = false;
            }
            mix.push((flow.to_owned(), w));
        }
        if ok && mix.iter().map(|(_, w)| w).sum::<f64>() <= 0.0 {
            self.at(
                raw.span(),
                ErrorKind::EmptyPhase,
                format!("every login flow of {what} has weight 0, so nobody logs in"),
                format!("give at least one flow a weight above 0, as in {example}"),
            );
            ok = false;
        }
        ok.then_some(mix)
    }

    pub(super) fn password_changes(
        &mut self,
        raw: &Spanned<RawPasswordChanges>,
        vocabulary: &Vocabulary<'_>,
        what: &str,
    ) -> Option<PasswordChanges> {
        let c = raw.get_ref();
        let what = format!("password_changes of {what}");
        let share = self.share(Some(&c.share), "share", 0.0);
        if share == Some(0.0) {
            self.at(
                c.share.span(),
                ErrorKind::InvalidValue,
                format!("the share of {what} is 0, so nobody changes a password"),
                "give a share above 0, as in share = 0.3, or remove password_changes",
            );
            return None;
        }
        let request = self.request(
            c.request(),
            raw.span(),
            &vocabulary.user(&["new_password"]),
            &what,
        );
        if let Some(r) = &request {
            if !r
                .templates()
                .iter()
                .any(|t| t.variables().any(|v| v == "new_password"))
            {
                self.at(raw.span(), ErrorKind::MissingKey, format!("{what} never sends {{{{new_password}}}}"), "send the new password, as in form = { ancien = \"{{password}}\", nouveau = \"{{new_password}}\" }");
                return None;
            }
        }
        let success = self.success(&c.success, vocabulary, &what);
        Some(PasswordChanges {
            share: share?,
            request: request?,
            success: success?,
        })
    }
}
