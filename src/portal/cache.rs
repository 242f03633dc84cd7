//! The `shared-cache` fault (Steam, December 2015): a response cache in front of the personal pages,
//! keyed by path alone. The router adds this layer only when the fault is on; correct portals have none.
//!
//! The mechanism, as in the incident: a caching rule meant for public pages is applied to account
//! pages. The cache key is the request path; the `Cookie` header, which decides whose page the
//! origin renders, is not part of it, and the origin's `Cache-Control: private, no-store` is
//! overridden by the rule. So the first beneficiary to open `/mon-compte` after an entry expires
//! fills it, and every beneficiary who opens `/mon-compte` within the TTL gets that page.
//! Responses say what happened the way real caches do: `X-Cache: HIT|MISS` and `Age`, while the
//! stored headers (including `private, no-store`) are passed through unchanged — the evidence a
//! cache audit looks for.

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

/// The cache's entries, by path.
struct SharedCache {
    ttl: Duration,
    entries: RwLock<HashMap<String, Arc<Stored>>>,
}

/// Puts the shared cache in front of every route of `routes` (and not its fallback).
pub fn wrap<S>(routes: Router<S>, ttl: Duration) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    let cache = Arc::new(SharedCache {
        ttl,
        entries: RwLock::default(),
    });
    routes.route_layer(middleware::from_fn_with_state(cache, serve))
}

async fn serve(State(cache): State<Arc<SharedCache>>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    // The fault: the key is the path. Not the session cookie, not the owner.
    let key = request.uri().path().to_owned();
    if let Some(stored) = cache.fresh(&key) {
        let age = stored.stored_at.elapsed().as_secs();
        return rebuild(&stored, "HIT", age);
    }
    let response = next.run(request).await;
    if response.status() != StatusCode::OK {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match to_bytes(body, MAX_BODY_BYTES).await {
        Ok(body) => body,
        Err(error) => {
            let text = format!("the shared cache could not read the origin's response: {error}");
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
    cache
        .entries
        .write()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, Arc::clone(&stored));
    rebuild(&stored, "MISS", 0)
}

impl SharedCache {
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
