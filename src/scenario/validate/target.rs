//! `[target]`: where the requests go — the base URL through the remote-host policy, or the
//! embedded portal and its faults — with timeouts, `[target.tls]` and the proxy.

use super::Validator;
use crate::faults::Fault;
use crate::scenario::error::{suggestion, ErrorKind};
use crate::scenario::model::*;
use crate::scenario::raw::*;
use crate::scenario::scope::{Refusal, Scope as HostScope};
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;
use toml::Spanned;

impl Validator<'_> {
    pub(super) fn target(
        &mut self,
        raw: Option<Spanned<RawTarget>>,
        broken: bool,
    ) -> Option<Target> {
        let Some(raw) = raw else {
            if !broken {
                self.at(
                    0..0,
                    ErrorKind::MissingKey,
                    "the scenario has no [target]",
                    "add [target] with base_url = \"http://127.0.0.1:8080\" (your portal) or embedded = true (the demo portal)",
                );
            }
            return None;
        };
        let span = raw.span();
        let t = raw.into_inner();
        let scope = self.scope(&t);
        let embedded = t.embedded.as_ref().is_some_and(|e| *e.get_ref());
        let endpoint = self.endpoint(&t, span, &scope);
        if !embedded {
            self.embedded_only_keys(&t);
        }
        let request_timeout = self.duration_or(
            t.request_timeout.as_ref(),
            "request_timeout",
            Duration::from_secs(10),
        );
        let connect_timeout = self.duration_or(
            t.connect_timeout.as_ref(),
            "connect_timeout",
            Duration::from_secs(5),
        );
        let http = self.http_version(&t)?;
        let tls = match t.tls {
            Some(raw_tls) => self.tls(raw_tls, embedded),
            None => Tls::default(),
        };
        let proxy = match &t.proxy {
            Some(text) => self.proxy(text, &scope)?,
            None => ProxySetting::Environment,
        };
        Some(Target {
            endpoint: endpoint?,
            scope,
            timeouts: Timeouts {
                request: request_timeout?,
                connect: connect_timeout?,
            },
            tls,
            proxy,
            http,
        })
    }

    /// `http = "auto" | "1.1" | "2"`; `auto` when absent.
    fn http_version(&mut self, t: &RawTarget) -> Option<HttpVersion> {
        match t.http.as_ref().map(|text| (text, text.get_ref().trim())) {
            None | Some((_, "auto")) => Some(HttpVersion::Auto),
            Some((_, "1.1")) => Some(HttpVersion::Http1),
            Some((_, "2")) => Some(HttpVersion::Http2),
            Some((text, other)) => {
                self.at(
                    text.span(),
                    ErrorKind::InvalidValue,
                    format!("http {other:?} is not an HTTP version crossleak speaks"),
                    "write http = \"auto\" (HTTP/2 when the TLS target offers it), \"1.1\" or \"2\"",
                );
                None
            }
        }
    }

    /// `allow_remote` and `allowed_hosts`; a listed host that is not a bare host name is refused.
    fn scope(&mut self, t: &RawTarget) -> HostScope {
        let mut scope = HostScope {
            allow_remote: t.allow_remote.as_ref().is_some_and(|a| *a.get_ref()),
            allowed_hosts: Vec::new(),
        };
        for host in t.allowed_hosts.iter().flat_map(|h| h.get_ref()) {
            let text = host.get_ref().trim().to_ascii_lowercase();
            if text.is_empty() || text.contains("://") || text.contains('/') {
                self.at(
                    host.span(),
                    ErrorKind::InvalidValue,
                    format!("allowed host {:?} is not a host name", host.get_ref()),
                    "write the host alone, as in allowed_hosts = [\"staging.example.org\"]",
                );
            } else {
                scope.allowed_hosts.push(text);
            }
        }
        scope
    }

    /// `base_url` or `embedded = true` (exactly one); `span` is the whole `[target]`'s.
    fn endpoint(
        &mut self,
        t: &RawTarget,
        span: Range<usize>,
        scope: &HostScope,
    ) -> Option<Endpoint> {
        let embedded = t.embedded.as_ref().is_some_and(|e| *e.get_ref());
        match (&t.base_url, embedded) {
            (Some(url), true) => {
                self.at(
                    url.span(),
                    ErrorKind::Conflict,
                    "[target] has both base_url and embedded = true",
                    "keep base_url to test your portal, or embedded = true for the demo portal, not both",
                );
                None
            }
            (Some(url), false) => self.base_url(url, scope).map(Endpoint::Url),
            (None, true) => Some(Endpoint::Embedded {
                faults: self.faults(t),
                nir_login: t.nir_login.as_ref().is_none_or(|n| *n.get_ref()),
            }),
            (None, false) => {
                let at = t.embedded.as_ref().map_or(span, Spanned::span);
                self.at(
                    at,
                    ErrorKind::MissingKey,
                    "[target] names no portal",
                    "add base_url = \"http://127.0.0.1:8080\" (your portal) or embedded = true (the demo portal)",
                );
                None
            }
        }
    }

    /// The embedded portal's `faults`, by their catalogue names; an unknown one is refused with
    /// the closest name.
    fn faults(&mut self, t: &RawTarget) -> Vec<Fault> {
        let mut faults = Vec::new();
        for fault in t.faults.iter().flat_map(|f| f.get_ref()) {
            match fault.get_ref().parse::<Fault>() {
                Ok(f) => faults.push(f),
                Err(e) => {
                    let names: Vec<&str> = Fault::all().iter().map(Fault::name).collect();
                    self.at(
                        fault.span(),
                        ErrorKind::UnknownFault,
                        format!("unknown portal fault {:?}", e.given),
                        suggestion(&e.given, names.iter().copied()),
                    );
                }
            }
        }
        faults
    }

    /// `faults` and `nir_login` on a `base_url` target, which they cannot apply to.
    fn embedded_only_keys(&mut self, t: &RawTarget) {
        for (key, present) in [
            ("faults", t.faults.as_ref().map(Spanned::span)),
            ("nir_login", t.nir_login.as_ref().map(Spanned::span)),
        ] {
            if let Some(at) = present {
                self.at(
                    at,
                    ErrorKind::Conflict,
                    format!("{key} applies to the embedded demo portal only"),
                    format!("remove {key}, or set embedded = true instead of base_url"),
                );
            }
        }
    }

    /// `[target.tls]`; its PEM files are checked when files are.
    fn tls(&mut self, raw: Spanned<RawTls>, embedded: bool) -> Tls {
        let tls_span = raw.span();
        let raw = raw.into_inner();
        if embedded {
            self.at(
                tls_span,
                ErrorKind::Conflict,
                "[target.tls] applies to a base_url target",
                "remove [target.tls]: the embedded portal speaks plain HTTP on loopback",
            );
        }
        let mut tls = Tls {
            accept_invalid_certs: raw.accept_invalid_certs.unwrap_or(false),
            ca_file: raw.ca_file.map(|ca| self.pem_file(&ca, "CA file")),
            client_auth: None,
        };
        let cert = raw
            .client_cert
            .map(|c| (c.span(), self.pem_file(&c, "client certificate")));
        let key = raw
            .client_key
            .map(|k| (k.span(), self.pem_file(&k, "client key")));
        match (cert, key) {
            (Some((_, cert)), Some((_, key))) => tls.client_auth = Some(ClientAuth { cert, key }),
            (Some((at, _)), None) | (None, Some((at, _))) => self.at(
                at,
                ErrorKind::MissingKey,
                "client_cert and client_key go together",
                "give both: the client certificate's PEM file and its private key's",
            ),
            (None, None) => {}
        }
        tls
    }

    /// `proxy = "none"` or `"http://host:port"`; a proxy is a host crossleak connects to, so one
    /// that is not loopback needs `allow_remote` as a remote target does.
    pub(super) fn proxy(&mut self, text: &Text, scope: &HostScope) -> Option<ProxySetting> {
        let value = text.get_ref().trim();
        if value.eq_ignore_ascii_case("none") {
            return Some(ProxySetting::Off);
        }
        let parsed = url::Url::parse(value).ok().filter(|u| {
            u.scheme() == "http"
                && u.host_str().is_some_and(|h| !h.is_empty())
                && matches!(u.path(), "" | "/")
        });
        let Some(parsed) = parsed else {
            self.at(
                text.span(),
                ErrorKind::InvalidValue,
                format!("proxy {value:?} is neither \"none\" nor an http://host:port URL"),
                "write proxy = \"http://proxy.example.org:3128\" (a TLS target goes through CONNECT), or proxy = \"none\"",
            );
            return None;
        };
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if !scope.admits_proxy(&host) {
            self.at(
                text.span(),
                ErrorKind::RemoteTarget,
                format!("refusing to connect to the proxy {host}, which is not a loopback address"),
                "if this proxy is yours to use, add allow_remote = true to [target]",
            );
            return None;
        }
        Some(ProxySetting::Through(parsed))
    }

    /// A PEM file named in `[target.tls]`, resolved against the scenario's folder; a missing one
    /// is an error at its line.
    pub(super) fn pem_file(&mut self, name: &Text, what: &str) -> PathBuf {
        let path = self.dir.join(name.get_ref());
        if self.check_files && !path.is_file() {
            self.at(
                name.span(),
                ErrorKind::File,
                format!("{what} {} does not exist", path.display()),
                "give a PEM file; relative paths start at the scenario's folder",
            );
        }
        path
    }

    /// `base_url`, through the one remote-host policy ([`Scope::admit`]), refused at its line.
    pub(super) fn base_url(&mut self, url: &Text, scope: &HostScope) -> Option<String> {
        let text = url.get_ref().trim();
        let (kind, message, help) = match scope.admit(text) {
            Ok(url) => return Some(url),
            Err(Refusal::NotUrl(e)) => (
                ErrorKind::InvalidValue,
                format!("base_url {text:?} is not a URL ({e})"),
                "write it as base_url = \"http://127.0.0.1:8080\"".to_owned(),
            ),
            Err(Refusal::Scheme(scheme)) => (
                ErrorKind::InvalidValue,
                format!("base_url uses {scheme}: crossleak speaks http and https only"),
                "write it as base_url = \"https://staging.example.org\"".to_owned(),
            ),
            Err(Refusal::NotLoopback(host)) => (
                ErrorKind::RemoteTarget,
                format!("refusing to load {host}, which is not a loopback address: a load test aimed at the wrong host is an incident"),
                format!("if this host is yours to test, add allow_remote = true and allowed_hosts = [\"{host}\"] to [target]"),
            ),
            Err(Refusal::NotListed(host)) => (
                ErrorKind::RemoteTarget,
                format!("base_url's host {host} is not in allowed_hosts"),
                format!("add allowed_hosts = [\"{host}\"] to [target] (the list pins the hosts this scenario may load)"),
            ),
        };
        self.at(url.span(), kind, message, help);
        None
    }
}
