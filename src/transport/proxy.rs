//! Which proxy a request goes through: the scenario's `[target] proxy`, or the standard
//! `HTTP_PROXY`, `HTTPS_PROXY` and `NO_PROXY` variables read once per run. Decides; no I/O.

use crate::scenario::{is_loopback, ProxySetting};
use std::net::IpAddr;
use url::Url;

/// Why the proxy settings cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} cannot be used as a proxy: {reason}; fix it, or set [target] proxy = \"none\"")]
pub struct ProxyError {
    name: String,
    value: String,
    reason: String,
}

/// One proxy: where to connect, and the credentials its URL carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Proxy {
    pub(super) host: Box<str>,
    pub(super) port: u16,
    /// `Basic …` for the `Proxy-Authorization` field, from the URL's user and password.
    pub(super) authorization: Option<Box<str>>,
}

/// The proxies of a run, decided once.
#[derive(Debug, Default)]
pub(super) struct Proxies {
    http: Option<Proxy>,
    https: Option<Proxy>,
    /// `NO_PROXY` entries: host names (matching their subdomains too) and addresses; `*` is all.
    bypass: Vec<String>,
    /// From the environment: loopback targets never go through them.
    from_environment: bool,
}

impl Proxies {
    /// The run's proxies from `setting`; `variable` reads the environment (a test passes its own).
    pub(super) fn resolve(
        setting: &ProxySetting,
        variable: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ProxyError> {
        match setting {
            ProxySetting::Off => Ok(Proxies::default()),
            ProxySetting::Through(url) => {
                let proxy = parse("[target] proxy", url.as_str())?;
                Ok(Proxies {
                    http: Some(proxy.clone()),
                    https: Some(proxy),
                    ..Proxies::default()
                })
            }
            ProxySetting::Environment => {
                // The lower-case name first, as curl reads it.
                let read = |name: &str| -> Result<Option<Proxy>, ProxyError> {
                    let lower = name.to_ascii_lowercase();
                    let found = [lower.as_str(), name]
                        .into_iter()
                        .find_map(|n| variable(n).filter(|v| !v.trim().is_empty()).map(|v| (n, v)));
                    found.map(|(n, v)| parse(n, v.trim())).transpose()
                };
                let bypass = ["no_proxy", "NO_PROXY"]
                    .into_iter()
                    .find_map(&variable)
                    .map(|list| {
                        list.split(',')
                            .map(|entry| entry.trim().trim_start_matches('.').to_ascii_lowercase())
                            .filter(|entry| !entry.is_empty())
                            .collect()
                    })
                    .unwrap_or_default();
                Ok(Proxies {
                    http: read("HTTP_PROXY")?,
                    https: read("HTTPS_PROXY")?,
                    bypass,
                    from_environment: true,
                })
            }
        }
    }

    /// The proxy a request to `url` goes through, if any.
    pub(super) fn for_url(&self, url: &Url) -> Option<&Proxy> {
        let proxy = match url.scheme() {
            "https" => self.https.as_ref(),
            _ => self.http.as_ref(),
        }?;
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']');
        let host = host.to_ascii_lowercase();
        if self.from_environment && (is_loopback(&host) || self.bypassed(&host)) {
            return None;
        }
        Some(proxy)
    }

    fn bypassed(&self, host: &str) -> bool {
        self.bypass.iter().any(|entry| {
            let entry = match entry.parse::<IpAddr>() {
                Ok(_) => entry.as_str(),
                // `example.org:8080` names the host whatever its port.
                Err(_) => entry.split(':').next().unwrap_or_default(),
            };
            entry == "*"
                || host == entry
                || host
                    .strip_suffix(entry)
                    .is_some_and(|rest| rest.ends_with('.'))
        })
    }
}

/// `http://[user:password@]host[:port]`, or `host:port` alone; crossleak speaks plain HTTP to
/// its proxy (a TLS target goes through `CONNECT`).
fn parse(name: &str, value: &str) -> Result<Proxy, ProxyError> {
    let failed = |reason: &str| ProxyError {
        name: name.to_owned(),
        value: value.to_owned(),
        reason: reason.to_owned(),
    };
    let text = if value.contains("://") {
        value.to_owned()
    } else {
        format!("http://{value}")
    };
    let url = Url::parse(&text).map_err(|e| failed(&format!("not a URL ({e})")))?;
    if url.scheme() != "http" {
        return Err(failed(
            "crossleak speaks plain HTTP to a proxy: give http://host:port",
        ));
    }
    // Bare, for the socket: `[::1]` is `::1`.
    let host = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']'))
        .filter(|h| !h.is_empty())
        .ok_or_else(|| failed("no host"))?;
    let authorization = (!url.username().is_empty()).then(|| {
        let credentials = format!(
            "{}:{}",
            percent_decode(url.username()),
            percent_decode(url.password().unwrap_or_default())
        );
        format!("Basic {}", base64(credentials.as_bytes())).into_boxed_str()
    });
    Ok(Proxy {
        host: host.into(),
        port: url.port_or_known_default().unwrap_or(80),
        authorization,
    })
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn environment(pairs: &[(&str, &str)]) -> Proxies {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Proxies::resolve(&ProxySetting::Environment, |name| vars.get(name).cloned()).unwrap()
    }

    fn via(proxies: &Proxies, url: &str) -> Option<String> {
        proxies
            .for_url(&Url::parse(url).unwrap())
            .map(|p| format!("{}:{}", p.host, p.port))
    }

    #[test]
    fn the_environment_gives_a_proxy_per_scheme_lower_case_first() {
        let proxies = environment(&[
            ("HTTP_PROXY", "http://upper:1"),
            ("http_proxy", "lower:3128"),
            ("HTTPS_PROXY", "http://secure.example:8443"),
        ]);
        assert_eq!(
            via(&proxies, "http://portal.example/").as_deref(),
            Some("lower:3128")
        );
        assert_eq!(
            via(&proxies, "https://portal.example/").as_deref(),
            Some("secure.example:8443")
        );
    }

    #[test]
    fn no_proxy_and_loopback_targets_go_direct() {
        let proxies = environment(&[
            ("HTTPS_PROXY", "proxy:3128"),
            ("NO_PROXY", "internal.example, .corp.example:443,10.0.0.7"),
        ]);
        for direct in [
            "https://internal.example/",
            "https://a.internal.example/",
            "https://x.corp.example/",
            "https://10.0.0.7/",
            "https://127.0.0.1:8443/",
            "https://localhost/",
            "https://[::1]/",
        ] {
            assert_eq!(via(&proxies, direct), None, "{direct}");
        }
        assert!(via(&proxies, "https://notinternal.example/").is_some());
        assert_eq!(
            via(
                &environment(&[("HTTPS_PROXY", "p:1"), ("no_proxy", "*")]),
                "https://a.example/"
            ),
            None
        );
    }

    #[test]
    fn an_explicit_proxy_carries_everything_and_none_carries_nothing() {
        let url = Url::parse("http://127.0.0.1:3128").unwrap();
        let through = Proxies::resolve(&ProxySetting::Through(url), |_| None).unwrap();
        assert_eq!(
            via(&through, "http://127.0.0.1:8080/").as_deref(),
            Some("127.0.0.1:3128")
        );
        assert_eq!(
            via(&through, "https://localhost/").as_deref(),
            Some("127.0.0.1:3128")
        );
        let off = Proxies::resolve(&ProxySetting::Off, |_| Some("http://p:1".into())).unwrap();
        assert_eq!(via(&off, "https://portal.example/"), None);
    }

    #[test]
    fn credentials_in_the_proxy_url_become_basic_authorization() {
        let proxies = environment(&[("HTTPS_PROXY", "http://qa%40corp:p%3Ass@proxy:8080")]);
        let proxy = proxies
            .for_url(&Url::parse("https://portal.example/").unwrap())
            .unwrap();
        // base64("qa@corp:p:ss")
        assert_eq!(
            proxy.authorization.as_deref(),
            Some("Basic cWFAY29ycDpwOnNz")
        );
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn a_proxy_crossleak_cannot_speak_to_is_an_error_naming_the_variable() {
        let vars = |name: &str| (name == "HTTPS_PROXY").then(|| "socks5://proxy:1080".to_owned());
        let error = Proxies::resolve(&ProxySetting::Environment, vars).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("HTTPS_PROXY=\"socks5://proxy:1080\""),
            "{error}"
        );
    }
}
