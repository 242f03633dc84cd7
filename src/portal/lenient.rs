//! The origin half of the `cache-deception` fault: a lenient router that serves the personal pages
//! for any path that merely starts with one of them.
//!
//! `/mon-compte/x.css` (a catch-all route, PHP's `PATH_INFO`), `/mon-compte;x.js` (servlet path
//! parameters, as in `;jsessionid=`), `/api/dossier.json` (a format suffix, as Rails routes do)
//! and `/mon-compte/%2F..` all reach the owner's page, rewritten before routing. Harmless alone:
//! the page is still rendered for the session that asks. It leaks once a cache in front decides
//! by the suffix that the response is a static file ([`super::cache::Rule::StaticExtensions`]).
//! The correct portal answers these paths 404.

use axum::extract::Request;
use axum::http::{Method, Uri};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

/// The personal pages the lenient router serves under any suffix.
pub const PERSONAL_READS: [&str; 3] = ["/mon-compte", "/api/dossier", "/api/paiements"];

/// Real routes below a personal page, which keep their own handlers.
const OWN_ROUTES: [&str; 2] = ["/mon-compte/rib", "/mon-compte/mot-de-passe"];

/// The personal page a suffixed `path` is served as, if the lenient router serves it at all.
pub fn canonical(path: &str) -> Option<&'static str> {
    if OWN_ROUTES.contains(&path) {
        return None;
    }
    PERSONAL_READS.into_iter().find(|page| {
        path.strip_prefix(page).is_some_and(|rest| {
            let mut chars = rest.chars();
            match chars.next() {
                Some('/' | ';') => true,
                // A format suffix: `.json`, `.css`…
                Some('.') => {
                    let extension = chars.as_str();
                    !extension.is_empty() && extension.chars().all(|c| c.is_ascii_alphanumeric())
                }
                _ => false,
            }
        })
    })
}

/// Puts the lenient rewrite in front of `router`'s routing.
pub fn wrap(router: Router) -> Router {
    // Middleware on a router runs after its routing; an outer router whose only route is the
    // fallback lets the rewrite happen before the inner router matches the path.
    Router::new()
        .fallback_service(router)
        .layer(middleware::from_fn(rewrite))
}

async fn rewrite(mut request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD) {
        if let Some(page) = canonical(request.uri().path()) {
            let rewritten = match request.uri().query() {
                Some(query) => format!("{page}?{query}"),
                None => page.to_owned(),
            };
            if let Ok(uri) = rewritten.parse::<Uri>() {
                *request.uri_mut() = uri;
            }
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixed_personal_paths_map_to_their_page_and_nothing_else_does() {
        for (path, page) in [
            ("/mon-compte/x.css", Some("/mon-compte")),
            ("/mon-compte;x.js", Some("/mon-compte")),
            ("/mon-compte/%2F..", Some("/mon-compte")),
            ("/mon-compte/", Some("/mon-compte")),
            ("/mon-compte.json", Some("/mon-compte")),
            ("/api/dossier.json", Some("/api/dossier")),
            ("/api/dossier/crossleak.css", Some("/api/dossier")),
            ("/api/paiements;crossleak.js", Some("/api/paiements")),
            ("/mon-compte", None),
            ("/mon-compte/rib", None),
            ("/mon-compte/mot-de-passe", None),
            ("/mon-comptes", None),
            ("/mon-compte.", None),
            ("/mon-compte.j/s", None),
            ("/static/site.css", None),
            ("/", None),
        ] {
            assert_eq!(canonical(path), page, "{path}");
        }
    }
}
