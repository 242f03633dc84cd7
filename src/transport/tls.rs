//! The run's one TLS client configuration, built from the scenario's `[target.tls]`: the platform's
//! roots plus `ca_file` (or no verification at all), the client certificate. Built once, shared.

use crate::scenario::{HttpVersion, Tls};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why the run's TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the PEM file {path}: {reason}; check [target.tls] in the scenario")]
    Pem { path: PathBuf, reason: String },
    #[error("{path} holds no {what}; give a PEM file with one (\"-----BEGIN {label}-----\")")]
    Empty {
        path: PathBuf,
        what: &'static str,
        label: &'static str,
    },
    #[error("the certificates of {path} cannot be trusted as roots: {reason}; give CA certificates in ca_file")]
    Roots { path: PathBuf, reason: String },
    #[error("the client certificate {cert} and key {key} do not make a TLS identity: {reason}; check that the key is the certificate's")]
    ClientAuth {
        cert: PathBuf,
        key: PathBuf,
        reason: String,
    },
    #[error("cannot set up TLS: {0}; check the platform's certificate store")]
    Setup(String),
}

/// The TLS configuration every connection of the run starts from.
///
/// Left to itself, reqwest builds one per client: the platform's root certificates (about
/// 100 KB and 3 ms per client) and a TLS session cache of 256 entries (about 15 KB per client,
/// even for a plain-HTTP target). Here the certificate verifier is built once and shared (the
/// roots are read-only), a plain-HTTP target without TLS settings gets none, and session
/// resumption is off, so no user's TLS session is ever offered by another and a user's
/// connections stay its own. A user keeps its connection alive, so it pays one full handshake
/// per connection, as a new browser would.
///
/// ALPN offers what `[target] http` allows: `h2` and `http/1.1` for `auto`, one of them otherwise.
pub fn client_config(
    tls: &Tls,
    plain_http: bool,
    http: HttpVersion,
) -> Result<ClientConfig, TlsError> {
    let provider = CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()));
    let builder = ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let verifying = if tls.accept_invalid_certs {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyCertificate(Arc::clone(&provider))))
    } else if plain_http && tls.ca_file.is_none() {
        builder.with_root_certificates(rustls::RootCertStore::empty())
    } else {
        let extra = match &tls.ca_file {
            Some(path) => certificates(path)?,
            None => Vec::new(),
        };
        let verifier = rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider)
            .map_err(|e| match &tls.ca_file {
                Some(path) => TlsError::Roots {
                    path: path.clone(),
                    reason: e.to_string(),
                },
                None => TlsError::Setup(e.to_string()),
            })?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
    };
    let mut config = match &tls.client_auth {
        Some(auth) => {
            let chain = certificates(&auth.cert)?;
            let key =
                PrivateKeyDer::from_pem_file(&auth.key).map_err(|e| pem_error(&auth.key, e))?;
            verifying
                .with_client_auth_cert(chain, key)
                .map_err(|e| TlsError::ClientAuth {
                    cert: auth.cert.clone(),
                    key: auth.key.clone(),
                    reason: e.to_string(),
                })?
        }
        None => verifying.with_no_client_auth(),
    };
    config.alpn_protocols = match http {
        HttpVersion::Auto => vec![b"h2".to_vec(), b"http/1.1".to_vec()],
        HttpVersion::Http1 => vec![b"http/1.1".to_vec()],
        HttpVersion::Http2 => vec![b"h2".to_vec()],
    };
    config.resumption = rustls::client::Resumption::disabled();
    Ok(config)
}

/// The server ended the handshake for want of a client certificate: the `certificate_required`
/// alert (RFC 8446, 4.4.2.4). A TLS 1.3 server sends it after the client's side of the handshake
/// is over, so it comes at the first read, not at connect.
pub(super) fn wants_client_cert(error: &std::io::Error) -> bool {
    matches!(
        error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::AlertReceived(
            rustls::AlertDescription::CertificateRequired
        ))
    )
}

/// Every certificate of a PEM file; none is an error.
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let chain = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| pem_error(path, e))?;
    if chain.is_empty() {
        return Err(TlsError::Empty {
            path: path.to_owned(),
            what: "certificate",
            label: "CERTIFICATE",
        });
    }
    Ok(chain)
}

fn pem_error(path: &Path, error: rustls::pki_types::pem::Error) -> TlsError {
    match error {
        rustls::pki_types::pem::Error::NoItemsFound => TlsError::Empty {
            path: path.to_owned(),
            what: "private key",
            label: "PRIVATE KEY",
        },
        other => TlsError::Pem {
            path: path.to_owned(),
            reason: other.to_string(),
        },
    }
}

/// `accept_invalid_certs = true`: any certificate for any name is taken, as reqwest's
/// `danger_accept_invalid_certs` does; the handshake's signatures are still checked.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::ClientAuth;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/tls")
            .join(name)
    }

    fn refused(tls: Tls) -> String {
        client_config(&tls, false, HttpVersion::Auto)
            .map(drop)
            .expect_err("a configuration that cannot be built")
            .to_string()
    }

    #[test]
    fn a_ca_file_and_a_client_identity_build_one_configuration() {
        let tls = Tls {
            ca_file: Some(fixture("ca.crt")),
            client_auth: Some(ClientAuth {
                cert: fixture("client.crt"),
                key: fixture("client.key"),
            }),
            ..Tls::default()
        };
        let config = client_config(&tls, false, HttpVersion::Auto).unwrap();
        assert!(config.client_auth_cert_resolver.has_certs());
        assert_eq!(
            config.alpn_protocols,
            [b"h2".to_vec(), b"http/1.1".to_vec()]
        );
        let only = |http| client_config(&tls, false, http).unwrap().alpn_protocols;
        assert_eq!(only(HttpVersion::Http1), [b"http/1.1".to_vec()]);
        assert_eq!(only(HttpVersion::Http2), [b"h2".to_vec()]);
    }

    #[test]
    fn a_ca_file_without_certificates_is_refused_naming_the_file() {
        let text = refused(Tls {
            ca_file: Some(fixture("client.key")),
            ..Tls::default()
        });
        assert!(
            text.contains("client.key") && text.contains("no certificate"),
            "{text}"
        );
        let missing = refused(Tls {
            ca_file: Some(fixture("absent.pem")),
            ..Tls::default()
        });
        assert!(missing.contains("absent.pem"), "{missing}");
    }

    #[test]
    fn a_key_that_is_not_the_certificates_is_refused_naming_both_files() {
        let text = refused(Tls {
            client_auth: Some(ClientAuth {
                cert: fixture("client.crt"),
                key: fixture("server.key"),
            }),
            ..Tls::default()
        });
        assert!(
            text.contains("client.crt") && text.contains("server.key"),
            "{text}"
        );
    }
}
