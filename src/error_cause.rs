//! Why a request counted as an error rather than a checked response: the transport, the load and
//! fuzz-login all name their failures with it, and the reports count them by it.

use serde::Serialize;

/// Why a request did not give a usable response. Errors are never violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCause {
    /// Connection refused or reset before a response.
    Connect,
    /// The TLS handshake failed: most often a certificate crossleak was not told to trust.
    Tls,
    /// The server asked for a client certificate (mutual TLS) and the scenario gives none.
    TlsClientCertRequired,
    /// No response within the request timeout.
    Timeout,
    /// The response body could not be read whole.
    Body,
    /// The body came in an encoding crossleak cannot decode, or did not decode: never scanned.
    Encoding,
    /// A request that must not go twice (POST, PATCH) met a kept-alive connection that closed
    /// before answering: it may have reached the server, so it was not sent again.
    NotResent,
    /// A 5xx answer.
    ServerError,
    /// Any other transport failure.
    Transport,
    /// A logout the target refused (a final status other than 2xx, e.g. a 403 from a CSRF check)
    /// or that could not be sent (a value it needs was never extracted): the old session is not
    /// replayed, since it may well still be open.
    LogoutFailed,
}

impl ErrorCause {
    pub(crate) const ALL: [ErrorCause; 10] = [
        Self::Connect,
        Self::Tls,
        Self::TlsClientCertRequired,
        Self::Timeout,
        Self::Body,
        Self::Encoding,
        Self::NotResent,
        Self::ServerError,
        Self::Transport,
        Self::LogoutFailed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::TlsClientCertRequired => "tls_client_cert_required",
            Self::Timeout => "timeout",
            Self::Body => "body",
            Self::Encoding => "encoding",
            Self::NotResent => "not_resent",
            Self::ServerError => "server_error",
            Self::Transport => "transport",
            Self::LogoutFailed => "logout_failed",
        }
    }
}
