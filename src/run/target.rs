//! Target safety: a load aimed at the wrong host is an incident, so only loopback targets run
//! unless the user opts in. Decided from the URL text alone, before any name is resolved.

use std::net::IpAddr;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    #[error("{url:?} is not a URL: {reason}; write it as http://127.0.0.1:8080")]
    Invalid { url: String, reason: String },
    #[error("{url:?} uses {scheme}: crossleak speaks http and https only")]
    Scheme { url: String, scheme: String },
    #[error("refusing to load {host}, which is not a loopback address: a load test aimed at the wrong host is an incident. If this host is yours to test, pass --allow-remote (or set allow_remote = true in the scenario)")]
    NotLoopback { host: String },
}

/// Checks `url` and returns it normalised (no trailing slash).
pub fn check_target(url: &str, allow_remote: bool) -> Result<String, TargetError> {
    let parsed = url::Url::parse(url).map_err(|e| TargetError::Invalid {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(TargetError::Scheme {
            url: url.to_owned(),
            scheme: parsed.scheme().to_owned(),
        });
    }
    let host = parsed.host_str().unwrap_or_default().to_owned();
    if !allow_remote && !is_loopback(&host) {
        return Err(TargetError::NotLoopback { host });
    }
    Ok(url.trim_end_matches('/').to_owned())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_pass() {
        for url in [
            "http://127.0.0.1:8080",
            "http://127.3.4.5/",
            "http://localhost:1",
            "http://[::1]:80",
        ] {
            assert!(check_target(url, false).is_ok(), "{url}");
        }
        assert_eq!(
            check_target("http://127.0.0.1:8080/", false).unwrap(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn other_hosts_need_the_opt_in() {
        for url in [
            "http://10.0.0.1",
            "https://caf.example",
            "http://192.168.1.2:80",
        ] {
            let error = check_target(url, false).unwrap_err();
            assert!(matches!(error, TargetError::NotLoopback { .. }), "{url}");
            assert!(error.to_string().contains("--allow-remote"));
            assert!(check_target(url, true).is_ok());
        }
    }

    #[test]
    fn garbage_and_other_schemes_are_refused() {
        assert!(matches!(
            check_target("not a url", true),
            Err(TargetError::Invalid { .. })
        ));
        assert!(matches!(
            check_target("ftp://127.0.0.1", true),
            Err(TargetError::Scheme { .. })
        ));
    }
}
