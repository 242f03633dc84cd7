//! Which hosts a run may load: the one remote-host policy, for the scenario's `[target]` and the
//! command line's `--target` alike. Decided from the URL text alone; no name is ever resolved.
//!
//! A load aimed at the wrong host is an incident, so a host that is not loopback needs both the
//! opt-in (`allow_remote`, or `--allow-remote`) and its name in `allowed_hosts`: a typo in a URL
//! then fails instead of loading someone else's server. Callers word the refusal for where the URL
//! came from (a scenario line, a flag); the decision is [`Scope::admit`]'s alone.

use std::net::IpAddr;

/// Whether `host` (a URL's host, IPv6 in brackets or not) names this machine: `127.0.0.0/8`,
/// `::1` or `localhost`.
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

/// `[target] allow_remote` and `allowed_hosts`: the hosts besides loopback a run may load.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Scope {
    pub allow_remote: bool,
    /// Lower case, host names alone (no scheme, no path).
    pub allowed_hosts: Vec<String>,
}

/// Why [`Scope::admit`] refused a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Not a URL at all (the parser's reason).
    NotUrl(String),
    /// A URL, but not `http` or `https`.
    Scheme(String),
    /// Not loopback, and no opt-in.
    NotLoopback(String),
    /// Not loopback, opted in, but the host is not in `allowed_hosts`.
    NotListed(String),
}

impl Scope {
    /// This scope with the command line's `--allow-remote` added to the scenario's opt-in.
    pub fn opted_in(&self, allow_remote: bool) -> Scope {
        Scope {
            allow_remote: self.allow_remote || allow_remote,
            allowed_hosts: self.allowed_hosts.clone(),
        }
    }

    /// `url` normalised (trimmed, no trailing slash) when the run may load it: `http` or
    /// `https`, and a loopback host, or an opted-in host listed in `allowed_hosts`.
    pub fn admit(&self, url: &str) -> Result<String, Refusal> {
        let text = url.trim();
        let parsed = url::Url::parse(text).map_err(|e| Refusal::NotUrl(e.to_string()))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Refusal::Scheme(parsed.scheme().to_owned()));
        }
        let host = parsed.host_str().unwrap_or_default().to_ascii_lowercase();
        if !is_loopback(&host) {
            if !self.allow_remote {
                return Err(Refusal::NotLoopback(host));
            }
            if !self.allowed_hosts.contains(&host) {
                return Err(Refusal::NotListed(host));
            }
        }
        Ok(text.trim_end_matches('/').to_owned())
    }

    /// Whether crossleak may connect to a proxy on `host`: loopback, or opted in (a proxy is
    /// not a host the load is aimed at, so `allowed_hosts` does not list it).
    pub fn admits_proxy(&self, host: &str) -> bool {
        self.allow_remote || is_loopback(host)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(allow_remote: bool, hosts: &[&str]) -> Scope {
        Scope {
            allow_remote,
            allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    #[test]
    fn loopback_hosts_are_admitted_without_any_opt_in() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5/",
            "http://localhost:1",
            "http://LocalHost:1",
            "http://[::1]:80",
        ] {
            assert!(Scope::default().admit(url).is_ok(), "{url}");
        }
        assert_eq!(
            Scope::default().admit(" http://127.0.0.1:8080/ ").unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn a_remote_host_needs_the_opt_in_and_its_name_listed() {
        let url = "https://Staging.Example.org/";
        assert_eq!(
            Scope::default().admit(url),
            Err(Refusal::NotLoopback("staging.example.org".into()))
        );
        assert_eq!(
            scope(true, &[]).admit(url),
            Err(Refusal::NotListed("staging.example.org".into()))
        );
        assert_eq!(
            scope(false, &["staging.example.org"]).admit(url),
            Err(Refusal::NotLoopback("staging.example.org".into()))
        );
        assert_eq!(
            scope(true, &["staging.example.org"]).admit(url).unwrap(),
            "https://Staging.Example.org"
        );
        let from_the_command_line = scope(false, &["staging.example.org"]).opted_in(true);
        assert!(from_the_command_line.admit(url).is_ok());
    }

    #[test]
    fn garbage_and_other_schemes_are_refused_whatever_the_scope() {
        let open = scope(true, &["127.0.0.1"]);
        assert!(matches!(open.admit("not a url"), Err(Refusal::NotUrl(_))));
        assert_eq!(
            open.admit("ftp://127.0.0.1"),
            Err(Refusal::Scheme("ftp".into()))
        );
    }

    #[test]
    fn a_remote_proxy_needs_the_opt_in_only() {
        assert!(Scope::default().admits_proxy("127.0.0.1"));
        assert!(Scope::default().admits_proxy("[::1]"));
        assert!(!Scope::default().admits_proxy("proxy.example.org"));
        assert!(scope(true, &[]).admits_proxy("proxy.example.org"));
    }
}
