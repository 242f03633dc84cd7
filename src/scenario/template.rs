//! Request templates: text with `{{variable}}` placeholders, form and JSON bodies made of them, and
//! their rendering from one user's values. Parsing checks the syntax; which names exist is the
//! validator's business.

use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// Text with `{{name}}` placeholders (`{{env:NAME}}` reads an environment variable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
    Env(String),
}

/// Why a template's text is malformed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TemplateSyntax {
    Unclosed,
    BadName(String),
}

/// A placeholder that had no value when the template was rendered.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("no value for {{{{{name}}}}} in template {template:?}")]
pub struct MissingValue {
    pub name: String,
    pub template: String,
}

impl Template {
    pub(crate) fn parse(source: &str) -> Result<Template, TemplateSyntax> {
        let mut parts = Vec::new();
        let mut rest = source;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Literal(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or(TemplateSyntax::Unclosed)?;
            let name = after[..close].trim();
            let part = match name.strip_prefix("env:") {
                Some(env) if is_env_name(env) => Part::Env(env.to_owned()),
                None if is_variable_name(name) => Part::Variable(name.to_owned()),
                _ => return Err(TemplateSyntax::BadName(name.to_owned())),
            };
            parts.push(part);
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_owned()));
        }
        Ok(Template {
            source: source.to_owned(),
            parts,
        })
    }

    /// A template with no placeholder.
    pub fn literal(text: &str) -> Template {
        Template {
            source: text.to_owned(),
            parts: vec![Part::Literal(text.to_owned())],
        }
    }

    /// The text as written in the scenario.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the template has no placeholder at all.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The `{{variable}}` names, in order (environment variables excluded).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The `{{env:NAME}}` names, in order.
    pub fn env_vars(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Env(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// Fills the placeholders: variables from `values`, `{{env:NAME}}` from the process
    /// environment.
    pub fn render<'v>(
        &self,
        values: &dyn Fn(&str) -> Option<Cow<'v, str>>,
    ) -> Result<String, MissingValue> {
        let mut out = String::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => {
                    out.push_str(&values(name).ok_or_else(|| self.missing(name))?)
                }
                Part::Env(name) => {
                    out.push_str(&std::env::var(name).map_err(|_| self.missing(name))?)
                }
            }
        }
        Ok(out)
    }

    fn missing(&self, name: &str) -> MissingValue {
        MissingValue {
            name: name.to_owned(),
            template: self.source.clone(),
        }
    }
}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

fn is_variable_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_env_name(name: &str) -> bool {
    is_variable_name(name)
}

pub(crate) fn is_valid_name(name: &str) -> bool {
    is_variable_name(name)
}

/// A request body: a form (`application/x-www-form-urlencoded`) or a JSON document.
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// Field name and value, in file order.
    Form(Vec<(String, Template)>),
    Json(JsonTemplate),
}

/// A JSON document whose strings are templates.
#[derive(Clone, Debug, PartialEq)]
pub enum JsonTemplate {
    Bool(bool),
    Number(serde_json::Number),
    String(Template),
    Array(Vec<JsonTemplate>),
    /// Keys in file order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    pub fn render<'v>(
        &self,
        values: &dyn Fn(&str) -> Option<Cow<'v, str>>,
    ) -> Result<Value, MissingValue> {
        Ok(match self {
            JsonTemplate::Bool(b) => Value::Bool(*b),
            JsonTemplate::Number(n) => Value::Number(n.clone()),
            JsonTemplate::String(t) => Value::String(t.render(values)?),
            JsonTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(values))
                    .collect::<Result<_, _>>()?,
            ),
            JsonTemplate::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.clone(), v.render(values)?)))
                    .collect::<Result<_, MissingValue>>()?,
            ),
        })
    }

    /// Every template in the document.
    pub fn templates(&self) -> Vec<&Template> {
        let mut out = Vec::new();
        self.collect(&mut out);
        out
    }

    fn collect<'a>(&'a self, out: &mut Vec<&'a Template>) {
        match self {
            JsonTemplate::String(t) => out.push(t),
            JsonTemplate::Array(items) => items.iter().for_each(|i| i.collect(out)),
            JsonTemplate::Object(entries) => entries.iter().for_each(|(_, v)| v.collect(out)),
            JsonTemplate::Bool(_) | JsonTemplate::Number(_) => {}
        }
    }
}

/// A rendered body, ready for the HTTP client.
#[derive(Clone, Debug, PartialEq)]
pub enum RenderedBody {
    Form(Vec<(String, String)>),
    Json(Value),
}

impl Body {
    pub fn render<'v>(
        &self,
        values: &dyn Fn(&str) -> Option<Cow<'v, str>>,
    ) -> Result<RenderedBody, MissingValue> {
        Ok(match self {
            Body::Form(fields) => RenderedBody::Form(
                fields
                    .iter()
                    .map(|(k, t)| Ok((k.clone(), t.render(values)?)))
                    .collect::<Result<_, MissingValue>>()?,
            ),
            Body::Json(doc) => RenderedBody::Json(doc.render(values)?),
        })
    }

    /// Every template in the body.
    pub fn templates(&self) -> Vec<&Template> {
        match self {
            Body::Form(fields) => fields.iter().map(|(_, t)| t).collect(),
            Body::Json(doc) => doc.templates(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(name: &str) -> Option<Cow<'static, str>> {
        match name {
            "numero_allocataire" => Some(Cow::Borrowed("0000042")),
            "password" => Some(Cow::Borrowed("s3cret")),
            _ => None,
        }
    }

    #[test]
    fn placeholders_are_filled_and_literals_kept() {
        let t = Template::parse("id={{numero_allocataire}}&pw={{ password }}!").unwrap();
        assert_eq!(
            t.variables().collect::<Vec<_>>(),
            ["numero_allocataire", "password"]
        );
        assert_eq!(t.render(&values).unwrap(), "id=0000042&pw=s3cret!");
        assert!(Template::parse("/mon-compte").unwrap().is_literal());
    }

    #[test]
    fn malformed_placeholders_are_refused() {
        assert_eq!(Template::parse("{{nir"), Err(TemplateSyntax::Unclosed));
        assert_eq!(
            Template::parse("{{numéro}}"),
            Err(TemplateSyntax::BadName("numéro".into()))
        );
        assert_eq!(
            Template::parse("{{}}"),
            Err(TemplateSyntax::BadName(String::new()))
        );
    }

    #[test]
    fn a_missing_value_names_the_placeholder() {
        let t = Template::parse("{{nir13}}").unwrap();
        let error = t.render(&values).unwrap_err();
        assert_eq!(error.name, "nir13");
        assert!(error.to_string().contains("{{nir13}}"), "{error}");
    }

    #[test]
    fn env_placeholders_are_listed_apart() {
        let t = Template::parse("Bearer {{env:ADMIN_TOKEN}}").unwrap();
        assert_eq!(t.env_vars().collect::<Vec<_>>(), ["ADMIN_TOKEN"]);
        assert_eq!(t.variables().count(), 0);
    }

    #[test]
    fn json_bodies_render_nested_templates() {
        let body = Body::Json(JsonTemplate::Object(vec![
            (
                "login".into(),
                JsonTemplate::String(Template::parse("{{numero_allocataire}}").unwrap()),
            ),
            ("remember".into(), JsonTemplate::Bool(true)),
        ]));
        let rendered = body.render(&values).unwrap();
        assert_eq!(
            rendered,
            RenderedBody::Json(serde_json::json!({"login": "0000042", "remember": true}))
        );
    }
}
