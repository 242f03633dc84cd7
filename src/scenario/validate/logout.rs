//! `[logout]`: how a session ends, one request with the keys of a step.

use super::vocabulary::Vocabulary;
use super::Validator;
use crate::scenario::error::ErrorKind;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

impl Validator<'_> {
    /// `[logout]`: one request, or `[[logout.steps]]`. Either may use what every login flow
    /// extracts (a user of any flow logs out with it); steps may extract values of their own.
    pub(crate) fn logout(
        &mut self,
        raw: &Spanned<RawLogout>,
        flows: &[LoginFlow],
        vocabulary: &Vocabulary<'_>,
    ) -> Option<Logout> {
        let what = "[logout]";
        let l = raw.get_ref();
        let given: Vec<String> = flows
            .first()
            .map(|first| {
                first
                    .extracted()
                    .filter(|name| flows.iter().all(|f| f.extracted().any(|n| n == *name)))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        match (l.request(), &l.steps) {
            (Some(request), None) => {
                let names: Vec<&str> = given.iter().map(String::as_str).collect();
                let request = self.request(request, raw.span(), &vocabulary.user(&names), what)?;
                Some(Logout {
                    steps: vec![LoginStep {
                        request,
                        extract: Vec::new(),
                    }],
                })
            }
            (None, Some(steps)) => {
                if l.method.is_some() || l.headers.is_some() || l.form.is_some() || l.json.is_some()
                {
                    self.at(raw.span(), ErrorKind::Conflict, "[logout] has [[logout.steps]] and keys of a single request (method, headers, form or json)", "put each request's keys in its own [[logout.steps]] table");
                    return None;
                }
                if steps.get_ref().is_empty() {
                    self.at(
                        steps.span(),
                        ErrorKind::MissingKey,
                        "[logout] has an empty steps list",
                        "add a [[logout.steps]] table with method and path",
                    );
                    return None;
                }
                self.steps(steps.get_ref(), &given, vocabulary, what)
                    .map(|steps| Logout { steps })
            }
            (Some(_), Some(steps)) => {
                self.at(
                    steps.span(),
                    ErrorKind::Conflict,
                    "[logout] has both a path and [[logout.steps]]",
                    "write one request (method, path, …) or [[logout.steps]], not both",
                );
                None
            }
            (None, None) => {
                self.at(
                    raw.span(),
                    ErrorKind::MissingKey,
                    "[logout] has neither a path nor steps",
                    "add path = \"/logout\" (with method = \"POST\"), or [[logout.steps]] tables",
                );
                None
            }
        }
    }
}
