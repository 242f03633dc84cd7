//! What a request says whatever the HTTP version: its body encoded with its content type, the
//! default fields, the scenario's fields checked. HTTP/1.1 and HTTP/2 frame them differently.

use super::decode::ACCEPT_ENCODING;
use super::{Body, WireError};
use http::header::{HeaderName, HeaderValue};

pub(super) const USER_AGENT: &str = concat!("crossleak/", env!("CARGO_PKG_VERSION"));

/// The fields crossleak adds unless the scenario gives them: portals compress, so every encoding
/// crossleak decodes is asked for, and none is scanned encoded.
pub(super) const DEFAULT_FIELDS: [(&str, &str); 3] = [
    ("User-Agent", USER_AGENT),
    ("Accept", "*/*"),
    ("Accept-Encoding", ACCEPT_ENCODING),
];

/// The body's content type and bytes; no body is an empty one.
pub(super) fn payload(body: Option<Body<'_>>) -> Result<(&'static str, Vec<u8>), WireError> {
    Ok(match body {
        Some(Body::Form(pairs)) => (
            "application/x-www-form-urlencoded",
            serde_urlencoded::to_string(pairs)
                .map_err(|e| WireError::Transport(format!("cannot encode the form: {e}")))?
                .into_bytes(),
        ),
        Some(Body::Json(value)) => (
            "application/json",
            serde_json::to_vec(value)
                .map_err(|e| WireError::Transport(format!("cannot encode the JSON body: {e}")))?,
        ),
        None => ("", Vec::new()),
    })
}

/// A scenario's field as it can be sent: what reqwest's builder refuses, a name that is no token
/// or a value that breaks the line, is an error.
pub(super) fn field(name: &str, value: &str) -> Result<(HeaderName, HeaderValue), WireError> {
    match (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(name), Ok(value)) => Ok((name, value)),
        _ => Err(WireError::Transport(format!(
            "the header {name:?} cannot be sent as it is"
        ))),
    }
}

/// Whether the scenario's `headers` give the field `name`.
pub(super) fn given(headers: &[(&str, &str)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}
