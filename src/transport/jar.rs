//! One cookie jar, kept as a browser keeps it (RFC 6265: domain, path, expiry, `Secure`): the
//! only jar type of the requests crossleak sends. Each user, device or attempt has its own.

use http::header::{HeaderMap, HeaderValue, SET_COOKIE};
use std::sync::RwLock;
use url::Url;

#[derive(Debug, Default)]
pub struct Jar(RwLock<cookie_store::CookieStore>);

impl Jar {
    /// Keeps the cookies a response from `url` set (an expired one removes its namesake).
    pub fn store(&self, headers: &HeaderMap, url: &Url) {
        let cookies = headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|text| cookie_store::RawCookie::parse(text.to_owned()).ok());
        self.0
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .store_response_cookies(cookies, url);
    }

    /// The `Cookie` field a request to `url` carries, if any cookie matches it.
    pub fn header(&self, url: &Url) -> Option<HeaderValue> {
        let store = self.0.read().unwrap_or_else(|e| e.into_inner());
        let text = store
            .get_request_values(url)
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ");
        drop(store);
        (!text.is_empty())
            .then(|| HeaderValue::from_str(&text).ok())
            .flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(jar: &Jar, url: &str, cookies: &[&str]) {
        let mut headers = HeaderMap::new();
        for cookie in cookies {
            headers.append(SET_COOKIE, HeaderValue::from_str(cookie).unwrap());
        }
        jar.store(&headers, &Url::parse(url).unwrap());
    }

    fn sent(jar: &Jar, url: &str) -> Option<String> {
        jar.header(&Url::parse(url).unwrap())
            .map(|v| v.to_str().unwrap().to_owned())
    }

    #[test]
    fn cookies_go_back_to_their_host_and_path_only() {
        let jar = Jar::default();
        set(
            &jar,
            "http://127.0.0.1:8080/login",
            &["sid=a; Path=/", "step=2; Path=/mon-compte"],
        );
        assert_eq!(
            sent(&jar, "http://127.0.0.1:8080/").as_deref(),
            Some("sid=a")
        );
        let both = sent(&jar, "http://127.0.0.1:8080/mon-compte/rib").unwrap();
        assert!(both.contains("sid=a") && both.contains("step=2"), "{both}");
        assert_eq!(sent(&jar, "http://127.0.0.2:8080/"), None);
    }

    #[test]
    fn an_expired_cookie_leaves_the_jar_and_a_secure_one_stays_off_plain_http() {
        let jar = Jar::default();
        set(&jar, "https://portal.test/", &["sid=a; Path=/; Secure"]);
        assert_eq!(sent(&jar, "https://portal.test/").as_deref(), Some("sid=a"));
        assert_eq!(sent(&jar, "http://portal.test/"), None);
        set(&jar, "https://portal.test/", &["sid=; Path=/; Max-Age=0"]);
        assert_eq!(sent(&jar, "https://portal.test/"), None);
    }
}
