//! The command line's `--target`, through the scenario's own remote-host policy
//! ([`Scope::admit`]): only loopback targets run unless opted in and listed in `allowed_hosts`.

use crate::scenario::{Refusal, Scope};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("{url:?} is not a URL: {reason}; write it as http://127.0.0.1:8080")]
    Invalid { url: String, reason: String },
    #[error("{url:?} uses {scheme}: crossleak speaks http and https only")]
    Scheme { url: String, scheme: String },
    #[error("refusing to load {host}, which is not a loopback address: a load test aimed at the wrong host is an incident. If this host is yours to test, pass --allow-remote (or set allow_remote = true in the scenario)")]
    NotLoopback { host: String },
    #[error("{host} is not in [target] allowed_hosts ({listed}): if this host is yours to test, add allowed_hosts = [\"{host}\"] to the scenario's [target]")]
    NotListed { host: String, listed: String },
}

/// Checks `url` against `scope` (the scenario's, with `--allow-remote` added) and returns it
/// normalised (no trailing slash).
pub fn check_target(url: &str, scope: &Scope) -> Result<String, TargetError> {
    scope.admit(url).map_err(|refusal| match refusal {
        Refusal::NotUrl(reason) => TargetError::Invalid {
            url: url.to_owned(),
            reason,
        },
        Refusal::Scheme(scheme) => TargetError::Scheme {
            url: url.to_owned(),
            scheme,
        },
        Refusal::NotLoopback(host) => TargetError::NotLoopback { host },
        Refusal::NotListed(host) => TargetError::NotListed {
            host,
            listed: match scope.allowed_hosts.is_empty() {
                true => "none listed".to_owned(),
                false => scope.allowed_hosts.join(", "),
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opted_in(hosts: &[&str]) -> Scope {
        Scope {
            allow_remote: true,
            allowed_hosts: hosts.iter().map(|h| (*h).to_owned()).collect(),
        }
    }

    #[test]
    fn a_loopback_target_passes_normalised() {
        assert_eq!(
            check_target("http://[::1]:8080/", &Scope::default()).unwrap(),
            "http://[::1]:8080"
        );
    }

    #[test]
    fn other_hosts_need_the_opt_in_and_their_name_in_allowed_hosts() {
        for (url, host) in [
            ("http://10.0.0.1", "10.0.0.1"),
            ("https://caf.example", "caf.example"),
            ("http://192.168.1.2:80", "192.168.1.2"),
        ] {
            let error = check_target(url, &Scope::default()).unwrap_err();
            assert!(matches!(error, TargetError::NotLoopback { .. }), "{url}");
            assert!(error.to_string().contains("--allow-remote"));
            let unlisted = check_target(url, &opted_in(&[])).unwrap_err();
            assert_eq!(
                unlisted.to_string(),
                format!("{host} is not in [target] allowed_hosts (none listed): if this host is yours to test, add allowed_hosts = [\"{host}\"] to the scenario's [target]")
            );
            let other = check_target(url, &opted_in(&["other.example", "b.example"]));
            assert!(
                other
                    .unwrap_err()
                    .to_string()
                    .contains("(other.example, b.example)"),
                "{url}"
            );
            assert!(check_target(url, &opted_in(&[host])).is_ok(), "{url}");
        }
    }

    #[test]
    fn garbage_and_other_schemes_are_refused() {
        assert!(matches!(
            check_target("not a url", &opted_in(&[])),
            Err(TargetError::Invalid { .. })
        ));
        assert!(matches!(
            check_target("ftp://127.0.0.1", &opted_in(&[])),
            Err(TargetError::Scheme { .. })
        ));
    }
}
