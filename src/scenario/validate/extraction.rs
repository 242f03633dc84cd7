//! Values a step takes from a response for the later steps: a JSON pointer, a CSS selector's
//! attribute or text, a header, a cookie.

use super::vocabulary::Vocabulary;
use super::Validator;
use crate::scenario::error::ErrorKind;
use crate::scenario::model::*;
use crate::scenario::raw::*;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn extraction(
        &mut self,
        raw: &Spanned<RawExtract>,
        vocabulary: &Vocabulary<'_>,
        same_step: &[Extraction],
        what: &str,
    ) -> Option<Extraction> {
        let e = raw.get_ref();
        let name = self.extracted_name(e, vocabulary, same_step, what)?;
        let from = match e.from.as_ref().map(|f| f.get_ref().trim()) {
            None | Some("body") => Some(ExtractFrom::Body),
            Some(other) => match other.strip_prefix("header:") {
                Some(h) if !h.trim().is_empty() => {
                    Some(ExtractFrom::Header(h.trim().to_ascii_lowercase()))
                }
                _ => {
                    self.at(
                        e.from.as_ref().map_or(raw.span(), Spanned::span),
                        ErrorKind::InvalidValue,
                        format!("extract from {other:?} in {what} is not a source"),
                        "write from = \"body\" or from = \"header:X-CSRF-Token\"",
                    );
                    None
                }
            },
        };
        if let Some(attribute) = &e.attribute {
            if e.css.is_none() {
                self.at(
                    attribute.span(),
                    ErrorKind::InvalidValue,
                    format!("extract {name:?} in {what} names an attribute but no CSS selector"),
                    "attribute goes with css, as in css = 'meta[name=\"csrf\"]', attribute = \"content\"",
                );
                return None;
            }
        }
        if let Some(css) = &e.css {
            return self.css_extraction(e, css, name, from, what);
        }
        let pattern = match (&e.regex, &e.json_pointer) {
            (Some(r), None) => self.regex(r, &name, what).map(Pattern::Regex),
            (None, Some(p)) => self.pointer(p, what).map(Pattern::JsonPointer),
            (Some(r), Some(_)) => {
                self.at(
                    r.span(),
                    ErrorKind::Conflict,
                    format!("extract {name:?} in {what} has both regex and json_pointer"),
                    "keep one of them",
                );
                None
            }
            (None, None) => {
                self.at(
                    raw.span(),
                    ErrorKind::MissingKey,
                    format!("extract {name:?} in {what} says neither regex, json_pointer nor css"),
                    "add css = 'input[name=\"csrf\"]' with attribute = \"value\" (HTML), regex = 'value=\"([^\"]+)\"' or json_pointer = \"/csrf\" (JSON)",
                );
                None
            }
        };
        Some(Extraction {
            name,
            from: from?,
            pattern: pattern?,
        })
    }

    /// The name an extraction gives its value: a variable name no population variable, reserved
    /// name or other extraction of the same step has taken (a later step may take a name again).
    fn extracted_name(
        &mut self,
        e: &RawExtract,
        vocabulary: &Vocabulary<'_>,
        same_step: &[Extraction],
        what: &str,
    ) -> Option<String> {
        let name = e.name.get_ref().trim().to_owned();
        if !crate::scenario::template::is_valid_name(&name) {
            self.at(
                e.name.span(),
                ErrorKind::InvalidValue,
                format!("extracted name {name:?} in {what} is not a variable name"),
                "use letters, digits and _, as in name = \"csrf\"",
            );
            return None;
        }
        let taken = vocabulary
            .variables
            .is_some_and(|vars| vars.iter().any(|v| v.name == name))
            || crate::scenario::population::RESERVED.contains(&name.as_str())
            || same_step.iter().any(|x| x.name == name);
        if taken {
            self.at(
                e.name.span(),
                ErrorKind::Conflict,
                format!("extracted name {name:?} in {what} is already a variable"),
                "give the extracted value its own name, as in name = \"csrf\"",
            );
            return None;
        }
        Some(name)
    }

    /// `regex = '…'`, compiled now, with at most one capture group (the value).
    fn regex(&mut self, r: &Text, name: &str, what: &str) -> Option<regex::Regex> {
        match regex::Regex::new(r.get_ref()) {
            Ok(re) if re.captures_len() <= 2 => Some(re),
            Ok(_) => {
                self.at(
                    r.span(),
                    ErrorKind::InvalidValue,
                    format!("the regex of {name:?} in {what} has more than one capture group"),
                    "keep one group around the value, and write others as (?:…)",
                );
                None
            }
            Err(err) => {
                let first = err
                    .to_string()
                    .lines()
                    .last()
                    .unwrap_or_default()
                    .trim()
                    .trim_start_matches("error: ")
                    .to_owned();
                self.at(
                    r.span(),
                    ErrorKind::InvalidValue,
                    format!("the regex of {name:?} in {what} does not compile: {first}"),
                    "fix the regex; in TOML, 'single quotes' keep backslashes as they are",
                );
                None
            }
        }
    }

    /// `css = "…"` with an optional `attribute`: the selector is parsed now, so a typo is a
    /// file:line error rather than a login that never finds its token.
    pub(super) fn css_extraction(
        &mut self,
        e: &RawExtract,
        css: &Text,
        name: String,
        from: Option<ExtractFrom>,
        what: &str,
    ) -> Option<Extraction> {
        let other = e.regex.as_ref().or(e.json_pointer.as_ref());
        if let Some(other) = other {
            self.at(
                other.span(),
                ErrorKind::Conflict,
                format!("extract {name:?} in {what} has both css and a regex or json_pointer"),
                "keep one of them",
            );
            return None;
        }
        if let Some(ExtractFrom::Header(header)) = &from {
            self.at(
                css.span(),
                ErrorKind::InvalidValue,
                format!(
                    "extract {name:?} in {what} applies a CSS selector to the header {header:?}"
                ),
                "a CSS selector reads an HTML body: drop from, or use a regex for a header",
            );
            return None;
        }
        let attribute = match &e.attribute {
            Some(a) if a.get_ref().trim().is_empty() => {
                self.at(
                    a.span(),
                    ErrorKind::InvalidValue,
                    format!("extract {name:?} in {what} has an empty attribute name"),
                    "name the attribute, as in attribute = \"value\", or leave it out to take the element's text",
                );
                return None;
            }
            Some(a) => Some(a.get_ref().trim().to_ascii_lowercase()),
            None => None,
        };
        let source = css.get_ref().trim();
        match CssPattern::parse(source, attribute) {
            Ok(pattern) => Some(Extraction {
                name,
                from: from?,
                pattern: Pattern::Css(pattern),
            }),
            Err(problem) => {
                self.at(
                    css.span(),
                    ErrorKind::InvalidValue,
                    format!("the CSS selector {source:?} of {name:?} in {what} does not parse: {problem}"),
                    "write a CSS selector such as 'input[name=\"_csrf\"]' or 'meta[name=csrf]', quoting attribute values that are not plain words",
                );
                None
            }
        }
    }

    pub(super) fn pointer(&mut self, raw: &Text, what: &str) -> Option<String> {
        let p = raw.get_ref();
        if !p.is_empty() && !p.starts_with('/') {
            self.at(
                raw.span(),
                ErrorKind::InvalidValue,
                format!("JSON pointer {p:?} in {what} does not start with /"),
                format!(
                    "write it as \"/{}\" (RFC 6901: /key/0/inner)",
                    p.trim_start_matches(['.', '$'])
                ),
            );
            return None;
        }
        Some(p.clone())
    }
}
