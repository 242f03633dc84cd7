//! `[load]`: the load's shape (users, ramp, think time) and the behaviours that make leaks show
//! (crowd, cancellation, session and cross-identity replay, observers, cache probes).

use super::Validator;
use crate::scenario::error::{quoted_list, suggestion, ErrorKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use std::ops::Range;
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn load(
        &mut self,
        raw: Option<Spanned<RawLoad>>,
        pages: &[Page],
        has_logout: bool,
    ) -> (Option<LoadShape>, Option<(usize, Range<usize>)>) {
        let Some(raw) = raw else {
            return (Some(default_shape()), None);
        };
        let span = raw.span();
        let l = raw.into_inner();
        let users = l.users.as_ref().map(|u| (*u.get_ref() as usize, u.span()));
        let mut shape = default_shape();
        // Every part is checked, so that each of its mistakes is reported.
        let users_ok = self.some_users(users.as_ref());
        let pace_ok = self.pace(&l, &mut shape);
        let behaviours_ok = self.behaviours(l, span, pages, has_logout, &mut shape);
        let ok = users_ok && pace_ok && behaviours_ok;
        (ok.then_some(shape), users.filter(|(n, _)| *n > 0))
    }

    /// `users`, when given, is at least 1.
    fn some_users(&mut self, users: Option<&(usize, Range<usize>)>) -> bool {
        let Some((0, at)) = users else {
            return true;
        };
        self.at(
            at.clone(),
            ErrorKind::InvalidValue,
            "[load] users is 0",
            "give at least 1 user, as in users = 50",
        );
        false
    }

    /// How fast the load comes (`increase_rate`, `think_time`, `max_requests_per_second`), into
    /// `shape`; false when a key is refused.
    fn pace(&mut self, l: &RawLoad, shape: &mut LoadShape) -> bool {
        let mut ok = true;
        let increase_rate = match &l.increase_rate {
            Some(rate) => self.positive(
                rate,
                format!(
                    "increase_rate {} is not a positive number of users per second",
                    rate.get_ref()
                ),
                "write increase_rate = 10",
            ),
            None => Some(DEFAULT_INCREASE_RATE),
        };
        ok &= increase_rate.is_some();
        shape.increase_rate = increase_rate.unwrap_or(DEFAULT_INCREASE_RATE);
        shape.think_time = l.think_time.as_ref().and_then(|t| {
            let parsed = self.think_time(t);
            ok &= parsed.is_some();
            parsed
        });
        shape.max_requests_per_second = l.max_requests_per_second.as_ref().and_then(|cap| {
            let checked = self.positive(
                cap,
                format!(
                    "max_requests_per_second {} is not a positive rate",
                    cap.get_ref()
                ),
                "write max_requests_per_second = 200, or leave it out for no cap",
            );
            ok &= checked.is_some();
            checked
        });
        ok
    }

    /// The behaviours that make leaks show (crowd, cancellation, observers, cache probes, session
    /// and cross-identity replay), into `shape`; false when a key is refused.
    fn behaviours(
        &mut self,
        l: RawLoad,
        span: Range<usize>,
        pages: &[Page],
        has_logout: bool,
        shape: &mut LoadShape,
    ) -> bool {
        let mut ok = true;
        shape.crowd = l.crowd.and_then(|c| {
            let parsed = self.crowd(c, pages);
            ok &= parsed.is_some();
            parsed
        });
        let cancel_share = self.share(l.cancel_share.as_ref(), "cancel_share", 0.0);
        let cancel_after = self.duration_or(
            l.cancel_after.as_ref(),
            "cancel_after",
            DEFAULT_CANCEL_AFTER,
        );
        shape.session_replay = l.session_replay.unwrap_or(false);
        if shape.session_replay && !has_logout {
            self.at(span, ErrorKind::MissingKey, "session_replay = true needs a [logout] request to end the session before replaying it", "add [logout] with method = \"POST\" and path = \"/logout\", or remove session_replay");
            ok = false;
        }
        shape.replay = l.replay.and_then(|r| {
            let parsed = self.replay(r);
            ok &= parsed.is_some();
            parsed
        });
        shape.cancel_share = cancel_share.unwrap_or(0.0);
        shape.cancel_after = cancel_after.unwrap_or(DEFAULT_CANCEL_AFTER);
        shape.observers = l.observers.unwrap_or(0) as usize;
        shape.cache_probes = l.cache_probes.unwrap_or(false);
        ok && cancel_share.is_some() && cancel_after.is_some()
    }

    /// A finite number above zero, or `message` at its line.
    fn positive(&mut self, raw: &Spanned<f64>, message: String, help: &str) -> Option<f64> {
        let value = *raw.get_ref();
        if value.is_finite() && value > 0.0 {
            return Some(value);
        }
        self.at(raw.span(), ErrorKind::InvalidValue, message, help);
        None
    }

    /// `replay = { share = 0.05, as = ["other_user", "anonymous"] }`; `as` defaults to both.
    pub(super) fn replay(&mut self, raw: Spanned<RawReplay>) -> Option<Replay> {
        let span = raw.span();
        let raw = raw.into_inner();
        let share = self.share(raw.share.as_ref(), "replay.share", DEFAULT_REPLAY_SHARE)?;
        let Some(names) = raw.identities else {
            return Some(Replay {
                share,
                identities: vec![ReplayIdentity::OtherUser, ReplayIdentity::Anonymous],
            });
        };
        if names.is_empty() {
            self.at(
                span,
                ErrorKind::InvalidValue,
                "replay.as is empty: nobody would replay anything",
                "write as = [\"other_user\", \"anonymous\"], or remove replay",
            );
            return None;
        }
        let mut identities = Vec::new();
        for name in &names {
            let identity = match name.get_ref().as_str() {
                "other_user" => ReplayIdentity::OtherUser,
                "anonymous" => ReplayIdentity::Anonymous,
                other => {
                    self.at(
                        name.span(),
                        ErrorKind::InvalidValue,
                        format!("replay.as names {other:?}, which is not a replay identity"),
                        "use \"other_user\" (another owner's values under the user's session) or \"anonymous\" (no session)",
                    );
                    return None;
                }
            };
            if !identities.contains(&identity) {
                identities.push(identity);
            }
        }
        Some(Replay { share, identities })
    }

    pub(super) fn think_time(&mut self, raw: &Spanned<ThinkTime>) -> Option<(Duration, Duration)> {
        let (min, max) = match raw.get_ref() {
            ThinkTime::Text(text) => match text.split_once("..") {
                Some((a, b)) => (a.trim().to_owned(), b.trim().to_owned()),
                None => (text.trim().to_owned(), text.trim().to_owned()),
            },
            ThinkTime::Bounds { min, max } => (min.clone(), max.clone()),
        };
        let parse = |text: &str| humantime::parse_duration(text).ok();
        match (parse(&min), parse(&max)) {
            (Some(a), Some(b)) if a <= b => Some((a, b)),
            (Some(_), Some(_)) => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    format!("think_time's minimum {min} is above its maximum {max}"),
                    "write the smaller bound first, as in think_time = \"0ms..200ms\"",
                );
                None
            }
            _ => {
                self.at(
                    raw.span(),
                    ErrorKind::InvalidValue,
                    "think_time is not a duration or a range of durations",
                    "write think_time = \"0ms..200ms\" (or \"100ms\" for a fixed pause)",
                );
                None
            }
        }
    }

    pub(super) fn crowd(&mut self, raw: Spanned<RawCrowd>, pages: &[Page]) -> Option<Crowd> {
        let c = raw.into_inner();
        let size = *c.size.get_ref() as usize;
        let mut ok = true;
        if size < 2 {
            self.at(
                c.size.span(),
                ErrorKind::InvalidValue,
                format!("a crowd of {size} releases nobody together"),
                "give a crowd size of at least 2, as in size = 32",
            );
            ok = false;
        }
        let step_text = c.step.get_ref().trim();
        let step = if step_text == "login" {
            Some(CrowdStep::Login)
        } else if let Some(path) = step_text.strip_prefix("page:") {
            let path = path.trim();
            match pages.iter().position(|p| p.request.path.as_str() == path) {
                Some(index) => Some(CrowdStep::Page {
                    index,
                    path: path.to_owned(),
                }),
                None => {
                    let paths: Vec<&str> = pages.iter().map(|p| p.request.path.as_str()).collect();
                    self.at(
                        c.step.span(),
                        ErrorKind::UnknownPage,
                        format!("crowd step {step_text:?} names no [[page]]"),
                        if paths.is_empty() {
                            "add a [[page]] with that path first".to_owned()
                        } else {
                            format!(
                                "{} (pages: {})",
                                suggestion(path, paths.iter().copied()),
                                quoted_list(paths.iter().copied())
                            )
                        },
                    );
                    None
                }
            }
        } else {
            self.at(
                c.step.span(),
                ErrorKind::InvalidValue,
                format!("unknown crowd step {step_text:?}"),
                "write step = \"login\" or step = \"page:/mon-compte\" (a [[page]]'s path)",
            );
            None
        };
        let max_wait =
            self.duration_or(c.max_wait.as_ref(), "max_wait", Duration::from_millis(100));
        Some(Crowd {
            size,
            step: step?,
            max_wait: max_wait?,
        })
        .filter(|_| ok)
    }
}

pub(crate) const DEFAULT_INCREASE_RATE: f64 = 10.0;
pub(crate) const DEFAULT_CANCEL_AFTER: Duration = Duration::from_millis(5);
/// The share of page reads `replay` sends again when it gives no `share`.
pub(crate) const DEFAULT_REPLAY_SHARE: f64 = 0.05;

/// `[load]` left out: every default, no behaviour on.
fn default_shape() -> LoadShape {
    LoadShape {
        increase_rate: DEFAULT_INCREASE_RATE,
        think_time: None,
        max_requests_per_second: None,
        crowd: None,
        cancel_share: 0.0,
        cancel_after: DEFAULT_CANCEL_AFTER,
        observers: 0,
        cache_probes: false,
        session_replay: false,
        replay: None,
    }
}
