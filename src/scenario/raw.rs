//! The scenario file as written: serde structs with spans and `deny_unknown_fields`, no meaning yet.
//! Each top-level section (and each `[[...]]` item) is deserialised on its own, so one typo does not
//! hide the problems in the rest of the file.

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use toml::Spanned;

pub(crate) type Text = Spanned<String>;
/// A table of scalars keyed by name (form fields, headers); values keep their spans.
pub(crate) type Fields = Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTarget {
    pub base_url: Option<Text>,
    pub embedded: Option<Spanned<bool>>,
    pub faults: Option<Spanned<Vec<Text>>>,
    pub nir_login: Option<Spanned<bool>>,
    pub allowed_hosts: Option<Spanned<Vec<Text>>>,
    pub allow_remote: Option<Spanned<bool>>,
    pub request_timeout: Option<Text>,
    pub connect_timeout: Option<Text>,
    pub proxy: Option<Text>,
    pub http: Option<Text>,
    pub tls: Option<Spanned<RawTls>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTls {
    pub accept_invalid_certs: Option<bool>,
    pub ca_file: Option<Text>,
    pub client_cert: Option<Text>,
    pub client_key: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPopulation {
    pub generate: Option<Spanned<RawGenerate>>,
    pub file: Option<Text>,
    pub format: Option<Text>,
    pub columns: Option<Spanned<RawColumns>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGenerate {
    pub size: Spanned<u64>,
    pub seed: Option<u64>,
    pub household_share: Option<Spanned<f64>>,
    pub provisional_share: Option<Spanned<f64>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawColumns {
    /// Each variable's column: `"header"`, or `{ column = "header", kind = "iban" }`.
    pub identifiers: Spanned<BTreeMap<Text, Spanned<toml::Value>>>,
    pub password: Text,
    pub watch: Option<Spanned<BTreeMap<Text, Spanned<toml::Value>>>>,
    pub household: Option<Text>,
}

/// The parts every request has; each raw request-like struct lends them through `RequestRef`.
pub(crate) struct RequestRef<'a> {
    pub method: Option<&'a Text>,
    pub path: &'a Text,
    pub headers: Option<&'a Fields>,
    pub form: Option<&'a Fields>,
    pub json: Option<&'a Spanned<toml::Value>>,
}

macro_rules! request_ref {
    ($t:ty) => {
        impl $t {
            pub(crate) fn request(&self) -> RequestRef<'_> {
                RequestRef {
                    method: self.method.as_ref(),
                    path: &self.path,
                    headers: self.headers.as_ref(),
                    form: self.form.as_ref(),
                    json: self.json.as_ref(),
                }
            }
        }
    };
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoginFlow {
    pub name: Text,
    pub steps: Spanned<Vec<Spanned<RawStep>>>,
    pub success: Spanned<RawSuccess>,
    pub session: Spanned<RawSession>,
    pub on_expired: Option<Text>,
    pub expired_when: Option<Spanned<RawExpiry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStep {
    pub method: Option<Text>,
    pub path: Text,
    pub headers: Option<Fields>,
    pub form: Option<Fields>,
    pub json: Option<Spanned<toml::Value>>,
    pub extract: Option<Vec<Spanned<RawExtract>>>,
}
request_ref!(RawStep);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExtract {
    pub name: Text,
    pub from: Option<Text>,
    pub regex: Option<Text>,
    pub json_pointer: Option<Text>,
    /// A CSS selector for an HTML body; the element's `attribute`, or its text.
    pub css: Option<Text>,
    pub attribute: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSuccess {
    pub status: Option<Spanned<StatusList>>,
    pub landing_path: Option<Text>,
    pub body_contains: Option<Text>,
    pub must_show: Option<Vec<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSession {
    pub cookie: Option<Text>,
    pub bearer: Option<Spanned<RawBearer>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBearer {
    pub json_pointer: Text,
    pub header: Option<Text>,
    pub prefix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawExpiry {
    pub status: Option<Spanned<StatusList>>,
    pub landing_path: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPage {
    pub name: Option<Text>,
    pub method: Option<Text>,
    pub path: Text,
    pub headers: Option<Fields>,
    pub form: Option<Fields>,
    pub json: Option<Spanned<toml::Value>>,
    pub must_show: Option<Vec<Text>>,
    pub json_equals: Option<Vec<Spanned<RawJsonEquals>>>,
    /// The login flows whose users read the page; all of them when absent.
    pub flows: Option<Spanned<Vec<Text>>>,
}
request_ref!(RawPage);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJsonEquals {
    pub pointer: Text,
    pub field: Text,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWrite {
    pub name: Option<Text>,
    pub method: Option<Text>,
    pub path: Text,
    pub headers: Option<Fields>,
    pub form: Option<Fields>,
    pub json: Option<Spanned<toml::Value>>,
    pub values: Spanned<Vec<Text>>,
    pub then_read: Spanned<Vec<Text>>,
}
request_ref!(RawWrite);

/// `[logout]`: one request (`method`, `path`, …), or `[[logout.steps]]` written as a login flow's.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLogout {
    pub method: Option<Text>,
    pub path: Option<Text>,
    pub headers: Option<Fields>,
    pub form: Option<Fields>,
    pub json: Option<Spanned<toml::Value>>,
    pub steps: Option<Spanned<Vec<Spanned<RawStep>>>>,
}

impl RawLogout {
    /// The one request, when `[logout]` is written as one.
    pub(crate) fn request(&self) -> Option<RequestRef<'_>> {
        Some(RequestRef {
            method: self.method.as_ref(),
            path: self.path.as_ref()?,
            headers: self.headers.as_ref(),
            form: self.form.as_ref(),
            json: self.json.as_ref(),
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPhase {
    pub name: Option<Text>,
    pub duration: Option<Text>,
    pub users: Option<Spanned<u64>>,
    pub login_flows: Option<Spanned<BTreeMap<Text, Spanned<f64>>>>,
    pub at_start: Option<Vec<Spanned<RawAction>>>,
    pub password_changes: Option<Spanned<RawPasswordChanges>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAction {
    pub method: Option<Text>,
    pub path: Text,
    pub headers: Option<Fields>,
    pub form: Option<Fields>,
    pub json: Option<Spanned<toml::Value>>,
    pub expect_status: Option<Spanned<StatusList>>,
}
request_ref!(RawAction);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPasswordChanges {
    pub share: Spanned<f64>,
    pub method: Option<Text>,
    pub path: Text,
    pub headers: Option<Fields>,
    pub form: Option<Fields>,
    pub json: Option<Spanned<toml::Value>>,
    pub success: Spanned<RawSuccess>,
}
request_ref!(RawPasswordChanges);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLoad {
    pub users: Option<Spanned<u64>>,
    pub increase_rate: Option<Spanned<f64>>,
    pub think_time: Option<Spanned<ThinkTime>>,
    pub max_requests_per_second: Option<Spanned<f64>>,
    pub crowd: Option<Spanned<RawCrowd>>,
    pub cancel_share: Option<Spanned<f64>>,
    pub cancel_after: Option<Text>,
    pub observers: Option<u64>,
    pub cache_probes: Option<bool>,
    pub session_replay: Option<bool>,
    pub replay: Option<Spanned<RawReplay>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawReplay {
    pub share: Option<Spanned<f64>>,
    #[serde(rename = "as")]
    pub identities: Option<Vec<Text>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCrowd {
    pub size: Spanned<u64>,
    pub step: Text,
    pub max_wait: Option<Text>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawThresholds {
    pub max_error_rate: Option<Spanned<f64>>,
    pub latency: Option<Vec<Text>>,
    pub fail_on_cache_warnings: Option<bool>,
}

/// `200` or `[200, 204]`.
#[derive(Debug)]
pub(crate) struct StatusList(pub Vec<i64>);

impl<'de> Deserialize<'de> for StatusList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct StatusVisitor;
        impl<'de> Visitor<'de> for StatusVisitor {
            type Value = StatusList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an HTTP status like 200 or a list like [200, 204]")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<StatusList, E> {
                Ok(StatusList(vec![v]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<StatusList, E> {
                Ok(StatusList(vec![i64::try_from(v).unwrap_or(i64::MAX)]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StatusList, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<i64>()? {
                    out.push(v);
                }
                Ok(StatusList(out))
            }
        }
        deserializer.deserialize_any(StatusVisitor)
    }
}

/// `"0ms..200ms"`, `"100ms"` or `{ min = "0ms", max = "200ms" }`.
#[derive(Debug)]
pub(crate) enum ThinkTime {
    Text(String),
    Bounds { min: String, max: String },
}

impl<'de> Deserialize<'de> for ThinkTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Bounds {
            min: String,
            max: String,
        }
        struct ThinkVisitor;
        impl<'de> Visitor<'de> for ThinkVisitor {
            type Value = ThinkTime;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a range like \"0ms..200ms\" or a table like { min = \"0ms\", max = \"200ms\" }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ThinkTime, E> {
                Ok(ThinkTime::Text(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<ThinkTime, A::Error> {
                let b = Bounds::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(ThinkTime::Bounds {
                    min: b.min,
                    max: b.max,
                })
            }
        }
        deserializer.deserialize_any(ThinkVisitor)
    }
}
