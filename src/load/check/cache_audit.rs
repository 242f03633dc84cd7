//! The cache audit: a response carrying personal data that a shared cache may store, or that a
//! cache says it served, is a `CacheablePage` warning; the reasons quote the headers (RFC 9111).

use super::evidence::{finding, Seen};
use super::{CheckContext, Scanned};
use crate::findings::{Asked, Clues, Finding, FindingKind};
use crate::load::cache_status::{self, Directives};
use crate::population::OwnerId;
use http::header::{HeaderMap, HeaderValue};

/// The `CacheablePage` warning for a response that carried watched values, when a shared cache may
/// store it or a cache says it served it.
pub(super) fn cacheable_page(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    scanned: &Scanned<'_>,
    asked: &Asked,
) -> Option<Finding> {
    if scanned.sightings.is_empty() {
        return None;
    }
    let exchange = scanned.exchange;
    let reasons = audit(exchange.headers, exchange.authorization, &scanned.hits)?;
    let seen = Seen {
        kind: FindingKind::CacheablePage,
        detail: reasons,
        foreign: &[],
        missing: Vec::new(),
    };
    Some(finding(ctx, viewer, scanned, seen).with_clues(scanned.clues(asked)))
}

/// The clues of a finding made from a response asked as `asked`: that, and the first header that
/// says a cache served it (`hits`: the cache-status headers).
pub(super) fn clues(asked: Asked, hits: &[(&str, &HeaderValue)]) -> Clues {
    Clues {
        asked,
        cache_hit: first_hit(hits),
        ..Clues::default()
    }
}

/// The first header that says a cache served the response, as `name: value`.
fn first_hit(hits: &[(&str, &HeaderValue)]) -> Option<String> {
    hits.first().map(|(name, value)| {
        format!(
            "{name}: {}",
            String::from_utf8_lossy(value.as_bytes()).trim()
        )
    })
}

/// Why a response carrying personal data may be (or was) stored by a shared cache; `None` when
/// no shared cache may store it (RFC 9111: `private` or `no-store`; for a request that carried
/// `Authorization`, anything short of `public`, `s-maxage` or `must-revalidate`) and no header says
/// a cache served it.
pub fn cache_audit(headers: &HeaderMap, authorization: bool) -> Option<String> {
    let hits: Vec<(&str, &HeaderValue)> = cache_status::hits(headers).collect();
    audit(headers, authorization, &hits)
}

/// [`cache_audit`], with the cache-status headers already read.
fn audit(
    headers: &HeaderMap,
    authorization: bool,
    hits: &[(&str, &HeaderValue)],
) -> Option<String> {
    let directives = Directives::of(headers);
    let storable = directives.storable_by_a_shared_cache(authorization);
    // Every personal page goes through here: answer the usual case (not storable, no sign of a
    // cache) without allocating.
    if !storable && hits.is_empty() {
        return None;
    }
    let text = |name: &str| -> String {
        headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut reasons = Vec::new();
    if storable {
        let cache_control = text("cache-control");
        reasons.push(if !directives.present {
            "no Cache-Control header: a shared cache may store it".to_owned()
        } else if authorization {
            format!("Cache-Control \"{cache_control}\" lets a shared cache store it although the request carried Authorization")
        } else {
            format!("Cache-Control \"{cache_control}\" has neither private nor no-store")
        });
        let vary = text("vary");
        if !vary.contains("cookie") && !vary.contains("authorization") && !vary.contains('*') {
            reasons.push(if vary.is_empty() {
                "no Vary on Cookie or Authorization: one cache entry serves every session"
                    .to_owned()
            } else {
                format!("Vary \"{vary}\" ignores the session")
            });
        }
    }
    for (name, value) in hits {
        reasons.push(format!(
            "{name}: {} (a cache served it)",
            String::from_utf8_lossy(value.as_bytes()).trim()
        ));
    }
    Some(reasons.join("; "))
}

#[cfg(test)]
mod tests {
    use super::cache_audit;
    use crate::findings::FindingKind;
    use crate::load::check::tests_support::{check_as, headers, page_of, world};
    use http::header::HeaderMap;

    /// The audit of a response to a request without `Authorization` (a cookie session).
    fn audit(pairs: &[(&'static str, &'static str)]) -> Option<String> {
        cache_audit(&headers(pairs), false)
    }

    #[test]
    fn private_or_no_store_pages_pass_the_audit() {
        assert_eq!(audit(&[("cache-control", "private, no-store")]), None);
        assert_eq!(audit(&[("cache-control", "no-store")]), None);
        assert_eq!(audit(&[("cache-control", "private, max-age=0")]), None);
    }

    #[test]
    fn a_personal_page_without_cache_control_is_flagged() {
        let reasons = cache_audit(&HeaderMap::new(), false).unwrap();
        assert!(reasons.contains("no Cache-Control"), "{reasons}");
        assert!(reasons.contains("no Vary"), "{reasons}");
    }

    #[test]
    fn public_caching_with_a_vary_that_ignores_the_session_is_flagged() {
        let reasons = audit(&[
            ("cache-control", "public, max-age=60"),
            ("vary", "Accept-Encoding"),
        ])
        .unwrap();
        assert!(
            reasons.contains("neither private nor no-store"),
            "{reasons}"
        );
        assert!(reasons.contains("ignores the session"), "{reasons}");
        assert!(
            audit(&[("cache-control", "public, max-age=60"), ("vary", "Cookie"),])
                .unwrap()
                .contains("neither private")
        );
    }

    #[test]
    fn cache_hits_and_age_are_flagged_even_when_the_origin_said_private() {
        for (name, value) in [
            ("x-cache", "HIT"),
            ("cf-cache-status", "HIT"),
            ("x-cache-status", "hit"),
            ("age", "3"),
        ] {
            let reasons = audit(&[("cache-control", "private, no-store"), (name, value)])
                .unwrap_or_else(|| panic!("{name}: {value} not flagged"));
            assert!(
                reasons.contains(name) || reasons.contains("Age"),
                "{reasons}"
            );
        }
        assert_eq!(
            audit(&[
                ("cache-control", "private"),
                ("age", "0"),
                ("x-cache", "MISS")
            ]),
            None
        );
    }

    #[test]
    fn a_bearer_response_without_cache_control_is_not_storable_by_a_shared_cache() {
        // RFC 9111 §3.5: the request carried Authorization, the response does not allow sharing.
        assert_eq!(cache_audit(&HeaderMap::new(), true), None);
        assert_eq!(
            cache_audit(&headers(&[("cache-control", "max-age=300")]), true),
            None
        );
        for allowing in [
            "public, max-age=60",
            "s-maxage=60",
            "max-age=60, must-revalidate",
        ] {
            let reasons = cache_audit(&headers(&[("cache-control", allowing)]), true)
                .unwrap_or_else(|| panic!("{allowing} not flagged"));
            assert!(reasons.contains("Authorization"), "{reasons}");
        }
        // A cache that did serve it is reported whatever the request carried.
        let reasons = cache_audit(&headers(&[("x-cache-status", "HIT")]), true).unwrap();
        assert!(reasons.contains("x-cache-status: HIT"), "{reasons}");
    }

    #[test]
    fn own_page_without_cache_control_is_a_warning_not_a_violation() {
        let (population, watch) = world();
        let body = page_of(&population, 3, &population.get(3).unwrap().iban.clone());
        let findings = check_as(&population, &watch, Some(3), &body, &HeaderMap::new());
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].kind, FindingKind::CacheablePage);
        assert!(!findings[0].kind.fails_run());
    }
}
