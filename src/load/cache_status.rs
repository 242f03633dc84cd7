//! What response headers say about shared caches: which headers are a cache's own evidence, whether
//! a cache served the response, and whether RFC 9111 lets a shared cache store it. The one place that decides.

use http::header::{HeaderMap, HeaderValue};

/// Headers caches and CDNs set to say what they did (nginx, Varnish, Cloudflare, Fastly, Akamai,
/// RFC 9211 `Cache-Status`, `Age`, `Via`): always kept in a finding's evidence.
const CACHE_HEADERS: [&str; 10] = [
    "x-cache",
    "x-cache-status",
    "cf-cache-status",
    "x-varnish",
    "x-served-by",
    "x-cache-hits",
    "age",
    "via",
    "x-check-cacheable",
    "cache-status",
];

/// Families of vendor headers kept whole: Akamai's and Fastly's debug headers.
const CACHE_HEADER_PREFIXES: [&str; 3] = ["x-akamai-", "x-fastly-", "fastly-debug-"];

/// Whether the (lowercase) header `name` is a cache's evidence of what it did.
pub fn is_cache_header(name: &str) -> bool {
    CACHE_HEADERS.contains(&name) || CACHE_HEADER_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether one header value says a cache served the response: `Age` above 0, a hit in `X-Cache`,
/// `X-Cache-Status` or `CF-Cache-Status` (`HIT`, `TCP_MEM_HIT`, or a stored copy: `STALE`,
/// `UPDATING`, `REVALIDATED`), a count above 0 in
/// `X-Cache-Hits`, two transaction ids in `X-Varnish`, a `hit` parameter in `Cache-Status`.
fn says_hit(name: &str, value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    let text = || std::str::from_utf8(bytes).unwrap_or_default();
    match name {
        "age" => text().trim().parse::<u64>().is_ok_and(|age| age > 0),
        "x-cache" | "x-cache-status" | "cf-cache-status" => {
            bytes.windows(3).any(|w| w.eq_ignore_ascii_case(b"hit"))
                // nginx's and Cloudflare's words for a stored copy served as it was.
                || ["stale", "updating", "revalidated"]
                    .iter()
                    .any(|word| text().trim().eq_ignore_ascii_case(word))
        }
        "x-cache-hits" => text()
            .split(',')
            .any(|n| n.trim().parse::<u64>().is_ok_and(|hits| hits > 0)),
        // Varnish names the request and, on a hit, the request that filled the cache.
        "x-varnish" => text().split_ascii_whitespace().count() >= 2,
        // RFC 9211: `Cache-Status: ExampleCache; hit, Origin; fwd=uri-miss`.
        "cache-status" => text().split(',').any(|member| {
            member.split(';').skip(1).any(|parameter| {
                let (key, value) = parameter.split_once('=').unwrap_or((parameter, "?1"));
                key.trim().eq_ignore_ascii_case("hit") && value.trim() != "?0"
            })
        }),
        _ => false,
    }
}

/// Every header that says a cache served the response, as `(name, value)`.
pub fn hits(headers: &HeaderMap) -> impl Iterator<Item = (&str, &HeaderValue)> {
    headers
        .iter()
        .map(|(name, value)| (name.as_str(), value))
        .filter(|(name, value)| says_hit(name, value))
}

/// Whether a cache served the response (any of [`hits`]).
pub fn served_by_a_cache(headers: &HeaderMap) -> bool {
    hits(headers).next().is_some()
}

/// The `Cache-Control` directives that bear on a shared cache, read without allocating.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Directives {
    /// `private` or `no-store`: no shared cache may store the response.
    pub private: bool,
    /// `public`, `s-maxage` or `must-revalidate`: a shared cache may store it even when the request
    /// carried `Authorization` (RFC 9111 §3.5).
    pub shared_allowed: bool,
    /// Whether the response had a `Cache-Control` header at all.
    pub present: bool,
}

impl Directives {
    pub fn of(headers: &HeaderMap) -> Directives {
        let mut out = Directives::default();
        for value in headers.get_all("cache-control") {
            out.present = true;
            for directive in value.as_bytes().split(|&b| b == b',') {
                let name = directive
                    .trim_ascii()
                    .split(|&b| b == b'=')
                    .next()
                    .unwrap_or_default()
                    .trim_ascii();
                let is = |d: &[u8]| name.eq_ignore_ascii_case(d);
                out.private |= is(b"private") || is(b"no-store");
                out.shared_allowed |= is(b"public") || is(b"s-maxage") || is(b"must-revalidate");
            }
        }
        out
    }

    /// Whether a shared cache may store the response (RFC 9111 §3 and §3.5): never with
    /// `private` or `no-store`; for a request that carried `Authorization`, only with `public`,
    /// `s-maxage` or `must-revalidate`; otherwise yes.
    pub fn storable_by_a_shared_cache(self, authorization: bool) -> bool {
        !self.private && (!authorization || self.shared_allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn each_vendors_hit_header_says_a_cache_served_the_response() {
        for (name, value) in [
            ("x-cache", "HIT"),
            (
                "x-cache",
                "TCP_MEM_HIT from a23-1-2-3.deploy.akamaitechnologies.com",
            ),
            ("x-cache", "MISS, HIT"),
            ("x-cache-status", "HIT"),
            ("x-cache-status", "STALE"),
            ("x-cache-status", "UPDATING"),
            ("cf-cache-status", "HIT"),
            ("cf-cache-status", "REVALIDATED"),
            ("x-cache-hits", "0, 3"),
            ("x-varnish", "32770 32768"),
            ("age", "12"),
            ("cache-status", "ExampleCache; hit, Origin; fwd=uri-miss"),
            ("cache-status", "nginx;hit;ttl=30"),
        ] {
            assert!(
                served_by_a_cache(&headers(&[(name, value)])),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn misses_and_zero_ages_are_not_hits() {
        for (name, value) in [
            ("x-cache", "MISS"),
            ("x-cache-status", "BYPASS"),
            ("x-cache-status", "EXPIRED"),
            ("cf-cache-status", "DYNAMIC"),
            ("x-cache-hits", "0, 0"),
            ("x-varnish", "32770"),
            ("age", "0"),
            ("cache-status", "ExampleCache; fwd=uri-miss"),
            ("cache-status", "ExampleCache; hit=?0"),
            ("via", "1.1 varnish"),
            ("x-served-by", "cache-par1234-PAR"),
        ] {
            assert!(
                !served_by_a_cache(&headers(&[(name, value)])),
                "{name}: {value}"
            );
        }
    }

    #[test]
    fn vendor_header_families_are_cache_evidence() {
        for name in [
            "x-cache-status",
            "cf-cache-status",
            "x-varnish",
            "x-served-by",
            "x-cache-hits",
            "age",
            "via",
            "cache-status",
            "x-check-cacheable",
            "x-akamai-request-id",
            "x-fastly-request-id",
            "fastly-debug-path",
        ] {
            assert!(is_cache_header(name), "{name}");
        }
        assert!(!is_cache_header("x-frame-options"));
    }

    #[test]
    fn an_authorized_request_is_storable_only_when_the_response_says_so() {
        // RFC 9111 §3.5: no shared cache stores a response to a request with Authorization
        // unless the response allows it explicitly.
        let none = Directives::of(&HeaderMap::new());
        assert!(!none.storable_by_a_shared_cache(true));
        assert!(none.storable_by_a_shared_cache(false));
        let max_age = Directives::of(&headers(&[("cache-control", "max-age=60")]));
        assert!(!max_age.storable_by_a_shared_cache(true));
        for allowing in [
            "public, max-age=60",
            "s-maxage=30",
            "max-age=0, must-revalidate",
        ] {
            let directives = Directives::of(&headers(&[("cache-control", allowing)]));
            assert!(directives.storable_by_a_shared_cache(true), "{allowing}");
        }
        let private = Directives::of(&headers(&[("cache-control", "Private, max-age=60")]));
        assert!(!private.storable_by_a_shared_cache(false));
        assert!(
            !Directives::of(&headers(&[("cache-control", "public, no-store")]))
                .storable_by_a_shared_cache(true)
        );
    }
}
