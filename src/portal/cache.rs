//! Response caches in front of the portal, each the mechanism of one fault, all one [`Rule`] of the
//! same store. The router adds a cache only when its fault is on; the correct portal has none.
//!
//! - `shared-cache` (Steam, December 2015), [`Rule::PersonalPaths`]: a caching rule meant for
//!   public pages applied to the personal routes. The key is the request path; the `Cookie`
//!   header, which decides whose page the origin renders, is not part of it, and the origin's
//!   `Cache-Control: private, no-store` is overridden. The first beneficiary to open `/mon-compte`
//!   after an entry expires fills it; everyone who opens it within the TTL gets that page.
//! - `default-cdn-cache` (Railway, March 2026), [`Rule::DefaultCdn`]: an edge cache in front of
//!   the whole portal whose default stores any GET 200 without `Cache-Control` and without
//!   `Set-Cookie`, keyed by path and query. It honours the header where there is one; it leaks the
//!   pages that forgot it (this fault also makes the personal pages forget it).
//! - `cache-deception` (web cache deception, 2017), [`Rule::StaticExtensions`]: an edge cache
//!   that stores any GET 200 whose last path segment ends in a static file extension, keyed by
//!   path and query, whatever the headers say; with the lenient origin of [`super::lenient`],
//!   `/mon-compte/x.css` is the owner's page, stored and served to whoever asks next.
//!
//! Responses say what happened the way real caches do: `X-Cache: HIT|MISS` and `Age`, while the
//! stored headers (including `private, no-store`) are passed through unchanged — the evidence a
//! cache audit looks for. Responses a rule does not store pass through untouched.

use super::pages;
use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

/// Largest body the cache buffers; personal pages are a few kilobytes.
const MAX_BODY_BYTES: usize = 1 << 20;

/// A stored response.
struct Stored {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    stored_at: Instant,
}

/// Entries kept at most; past that, expired ones are dropped, and if none is, nothing new is stored.
const MAX_ENTRIES: usize = 10_000;

/// File extensions the `cache-deception` cache takes for static files: Cloudflare's default
/// cacheable extensions (images, fonts, scripts, styles, documents), which leave out `json` and `html`.
const STATIC_EXTENSIONS: &[&str] = &[
    "css", "js", "png", "jpg", "jpeg", "gif", "webp", "avif", "svg", "svgz", "ico", "bmp", "tif",
    "tiff", "woff", "woff2", "ttf", "otf", "eot", "pdf", "csv", "zip", "gz", "mp3", "mp4", "webm",
];

/// Which requests a cache answers and which responses it stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// `shared-cache`: every GET on the routes it wraps, keyed by path; stores every 200.
    PersonalPaths,
    /// `default-cdn-cache`: every GET, keyed by path and query; stores a 200 that has neither
    /// `Cache-Control` nor `Set-Cookie`.
    DefaultCdn,
    /// `cache-deception`: GETs whose last path segment ends in a static extension, keyed by path
    /// and query; stores every 200.
    StaticExtensions,
}

impl Rule {
    /// The key a request is stored under, or `None` if the rule does not cache it.
    fn key(self, request: &Request) -> Option<String> {
        if request.method() != Method::GET {
            return None;
        }
        let uri = request.uri();
        match self {
            // The fault: the key is the path. Not the session cookie, not the owner.
            Rule::PersonalPaths => Some(uri.path().to_owned()),
            Rule::DefaultCdn => Some(path_and_query(uri)),
            Rule::StaticExtensions => has_static_extension(uri.path()).then(|| path_and_query(uri)),
        }
    }

    fn stores(self, response: &Response) -> bool {
        if response.status() != StatusCode::OK {
            return false;
        }
        match self {
            Rule::PersonalPaths | Rule::StaticExtensions => true,
            Rule::DefaultCdn => {
                let headers = response.headers();
                !headers.contains_key(header::CACHE_CONTROL)
                    && !headers.contains_key(header::SET_COOKIE)
            }
        }
    }
}

fn path_and_query(uri: &axum::http::Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned())
}

/// Whether the last segment of `path` ends in one of [`STATIC_EXTENSIONS`], as an extension-based
/// cache rule reads it: `/mon-compte/x.css` and `/mon-compte;x.js` do, `/mon-compte/%2F..` does not.
fn has_static_extension(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or(path);
    last.rsplit_once('.').is_some_and(|(_, extension)| {
        STATIC_EXTENSIONS
            .iter()
            .any(|known| known.eq_ignore_ascii_case(extension))
    })
}

/// One cache: its rule, how long it keeps a response, and its entries by key.
struct Cache {
    rule: Rule,
    ttl: Duration,
    entries: RwLock<HashMap<String, Arc<Stored>>>,
}

/// Puts a [`Rule::PersonalPaths`] cache in front of every route of `routes` (and not its fallback).
pub fn wrap_routes<S>(routes: Router<S>, ttl: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    routes.route_layer(middleware::from_fn_with_state(
        Cache::new(Rule::PersonalPaths, ttl),
        serve,
    ))
}

/// Puts a cache with `rule` in front of the whole of `router`, fallback included.
pub fn in_front(router: Router, rule: Rule, ttl: Duration) -> Router {
    router.layer(middleware::from_fn_with_state(Cache::new(rule, ttl), serve))
}

async fn serve(State(cache): State<Arc<Cache>>, request: Request, next: Next) -> Response {
    let Some(key) = cache.rule.key(&request) else {
        return next.run(request).await;
    };
    if let Some(stored) = cache.fresh(&key) {
        let age = stored.stored_at.elapsed().as_secs();
        return rebuild(&stored, "HIT", age);
    }
    let response = next.run(request).await;
    if !cache.rule.stores(&response) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => {
            let text = format!("the cache could not read the origin's response: {error}");
            return (
                StatusCode::BAD_GATEWAY,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                pages::message("Erreur du cache", &text),
            )
                .into_response();
        }
    };
    let stored = Arc::new(Stored {
        status: parts.status,
        headers: parts.headers,
        body,
        stored_at: Instant::now(),
    });
    cache.store(key, Arc::clone(&stored));
    rebuild(&stored, "MISS", 0)
}

impl Cache {
    fn new(rule: Rule, ttl: Duration) -> Arc<Self> {
        Arc::new(Self {
            rule,
            ttl,
            entries: RwLock::default(),
        })
    }

    fn store(&self, key: String, stored: Arc<Stored>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&key) {
            entries.retain(|_, kept| kept.stored_at.elapsed() < self.ttl);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(key, stored);
    }

    fn fresh(&self, key: &str) -> Option<Arc<Stored>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .filter(|stored| stored.stored_at.elapsed() < self.ttl)
            .cloned()
    }
}

fn rebuild(stored: &Stored, outcome: &'static str, age: u64) -> Response {
    let mut response = Response::new(Body::from(stored.body.clone()));
    *response.status_mut() = stored.status;
    *response.headers_mut() = stored.headers.clone();
    let headers = response.headers_mut();
    headers.insert("x-cache", HeaderValue::from_static(outcome));
    headers.insert(header::AGE, HeaderValue::from(age));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn static_extensions_are_read_from_the_last_segment_only() {
        for (path, cached) in [
            ("/mon-compte/crossleak.css", true),
            ("/mon-compte;crossleak.js", true),
            ("/api/dossier/x.PNG", true),
            ("/static/site.css", true),
            ("/mon-compte/%2F..", false),
            ("/api/dossier.json", false),
            ("/mon-compte", false),
            ("/x.css/mon-compte", false),
        ] {
            assert_eq!(has_static_extension(path), cached, "{path}");
        }
    }
}
