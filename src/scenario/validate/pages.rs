//! `[[page]]` and `[[write]]`: what each user reads and writes, which flows read it, and the
//! checks on what it must show.

use super::vocabulary::Vocabulary;
use super::Validator;
use crate::scenario::error::{suggestion_listing, ErrorKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

impl Validator<'_> {
    /// The pages; `flows` are the login flows declared, when they could be read (a page's `flows`
    /// must name them).
    pub(crate) fn pages(
        &mut self,
        raw: Vec<Spanned<RawPage>>,
        flows: Option<&[&str]>,
        vocabulary: &Vocabulary<'_>,
    ) -> Vec<Page> {
        let mut out = Vec::new();
        for page in raw {
            let span = page.span();
            let p = page.get_ref();
            let what = format!("[[page]] {:?}", p.path.get_ref());
            let request = self.request(p.request(), span.clone(), &vocabulary.user(&[]), &what);
            let must_show = self.must_show(p.must_show.as_ref(), vocabulary, &what);
            let mut json_equals = Some(Vec::new());
            for eq in p.json_equals.iter().flatten() {
                let e = eq.get_ref();
                let pointer = self.pointer(&e.pointer, &what);
                let variable = e.field.get_ref().trim().to_owned();
                let known = self.known_variable(&e.field, vocabulary, &what);
                match (pointer, known, json_equals.as_mut()) {
                    (Some(pointer), true, Some(list)) => {
                        list.push(JsonEquals { pointer, variable })
                    }
                    _ => json_equals = None,
                }
            }
            let read_by = self.page_flows(p.flows.as_ref(), flows, &what);
            if let (Some(request), Some(must_show), Some(json_equals), Some(read_by)) =
                (request, must_show, json_equals, read_by)
            {
                let name = p.name.as_ref().map_or_else(
                    || format!("{} {}", request.method.as_str(), request.path),
                    |n| n.get_ref().clone(),
                );
                out.push(Page {
                    name,
                    request,
                    must_show,
                    json_equals,
                    flows: read_by,
                });
            }
        }
        out
    }

    /// A page's `flows`: login flow names, each one a `[[login_flow]]` declares.
    pub(super) fn page_flows(
        &mut self,
        raw: Option<&Spanned<Vec<Text>>>,
        declared: Option<&[&str]>,
        what: &str,
    ) -> Option<Vec<String>> {
        let Some(raw) = raw else {
            return Some(Vec::new());
        };
        if raw.get_ref().is_empty() {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("flows of {what} is empty, so nobody reads the page"),
                "name the login flows whose users read it, as in flows = [\"session\"], or leave flows out for every user",
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        for name in raw.get_ref() {
            let flow = name.get_ref().trim();
            if let Some(declared) = declared.filter(|d| !d.contains(&flow)) {
                self.at(
                    name.span(),
                    ErrorKind::UnknownLoginFlow,
                    format!("{what} names login flow {flow:?}, which no [[login_flow]] defines"),
                    suggestion_listing(flow, declared.iter().copied(), "flows"),
                );
                ok = false;
            } else if !out.iter().any(|f| f == flow) {
                out.push(flow.to_owned());
            }
        }
        ok.then_some(out)
    }

    pub(crate) fn writes(
        &mut self,
        raw: Vec<Spanned<RawWrite>>,
        vocabulary: &Vocabulary<'_>,
    ) -> Vec<Write> {
        let mut out = Vec::new();
        for write in raw {
            let span = write.span();
            let w = write.get_ref();
            let what = format!("[[write]] {:?}", w.path.get_ref());
            let request = self.request(
                w.request(),
                span.clone(),
                &vocabulary.user(&["value"]),
                &what,
            );
            if let Some(r) = &request {
                if !r
                    .templates()
                    .iter()
                    .any(|t| t.variables().any(|v| v == "value"))
                {
                    self.at(span.clone(), ErrorKind::MissingKey, format!("{what} never sends {{{{value}}}}"), "put {{value}} where the written value goes, as in form = { iban = \"{{value}}\" }");
                    continue;
                }
            }
            let mut values = Some(Vec::new());
            if w.values.get_ref().is_empty() {
                self.at(w.values.span(), ErrorKind::MissingKey, format!("{what} writes no value"), "name the watched variable(s) written in turn, as in values = [\"spare_iban\", \"iban\"]");
                values = None;
            }
            for v in w.values.get_ref() {
                match vocabulary.watched(v.get_ref().trim()) {
                    Ok(field) => {
                        if let Some(list) = values.as_mut() {
                            let variable = v.get_ref().trim().to_owned();
                            let field = field.unwrap_or_else(|| variable.clone());
                            list.push(WrittenValue { variable, field });
                        }
                    }
                    Err(watched) => {
                        self.at(v.span(), ErrorKind::UnknownVariable, format!("{what} writes {:?}, which is not a watched value of the population", v.get_ref()), format!("a written value must be watched so a cross-write can be seen: {}", suggestion_listing(v.get_ref(), watched.iter().copied(), "watched")));
                        values = None;
                    }
                }
            }
            let mut then_read = Some(Vec::new());
            if w.then_read.get_ref().is_empty() {
                self.at(w.then_read.span(), ErrorKind::MissingKey, format!("{what} reads nothing back"), "name the page(s) that must then show the value, as in then_read = [\"/mon-compte\"]");
                then_read = None;
            }
            for path in w.then_read.get_ref() {
                match (self.path_text(path, "then_read path"), then_read.as_mut()) {
                    (Some(p), Some(list)) => list.push(p),
                    _ => then_read = None,
                }
            }
            if let (Some(request), Some(values), Some(then_read)) = (request, values, then_read) {
                let name = w.name.as_ref().map_or_else(
                    || format!("{} {}", request.method.as_str(), request.path),
                    |n| n.get_ref().clone(),
                );
                out.push(Write {
                    name,
                    request,
                    values,
                    then_read,
                });
            }
        }
        out
    }
}
