//! Groups a recording's exchanges into visits (a request and the redirects it followed, as one
//! scenario request), and says which are noise: assets, analytics, other hosts, no response.

use super::recording::Exchange;
use url::Url;

/// A request as crossleak sends it: the first exchange, then the redirects a client follows.
#[derive(Clone, Debug, PartialEq)]
pub struct Visit {
    /// Indexes into the exchanges, first to last.
    pub hops: Vec<usize>,
}

impl Visit {
    pub fn first<'a>(&self, exchanges: &'a [Exchange]) -> &'a Exchange {
        &exchanges[self.hops[0]]
    }

    pub fn last<'a>(&self, exchanges: &'a [Exchange]) -> &'a Exchange {
        &exchanges[*self.hops.last().unwrap_or(&self.hops[0])]
    }

    /// Whether the visit's request sends `value` (in its query, body or headers).
    pub fn sends(&self, exchanges: &[Exchange], value: &str) -> bool {
        self.first(exchanges)
            .sent_values()
            .iter()
            .any(|(_, sent)| sent == value)
    }

    /// The entry numbers, for comments.
    pub fn entries(&self, exchanges: &[Exchange]) -> Vec<usize> {
        self.hops.iter().map(|i| exchanges[*i].entry).collect()
    }
}

/// Every exchange in exactly one visit, in the order the visits began. A redirect's next hop is
/// the first later `GET` of the URL it points to (browsers record it as its own entry).
pub fn visits(exchanges: &[Exchange]) -> Vec<Visit> {
    let mut taken = vec![false; exchanges.len()];
    let mut out = Vec::new();
    for start in 0..exchanges.len() {
        if taken[start] {
            continue;
        }
        taken[start] = true;
        let mut hops = vec![start];
        let mut current = start;
        while let Some(target) = exchanges[current]
            .is_redirect()
            .then(|| exchanges[current].redirect.clone())
            .flatten()
        {
            let next = (current + 1..exchanges.len()).find(|j| {
                !taken[*j]
                    && exchanges[*j].method == "GET"
                    && same_resource(&exchanges[*j].url, &target)
            });
            let Some(next) = next else { break };
            taken[next] = true;
            hops.push(next);
            current = next;
        }
        out.push(Visit { hops });
    }
    out
}

fn same_resource(a: &Url, b: &Url) -> bool {
    let mut a = a.clone();
    let mut b = b.clone();
    a.set_fragment(None);
    b.set_fragment(None);
    a == b
}

/// Why a visit is not part of the scenario, if it is noise.
pub fn noise(visit: &Visit, exchanges: &[Exchange], origin: &Url) -> Option<&'static str> {
    let first = visit.first(exchanges);
    let last = visit.last(exchanges);
    if first.url.origin() != origin.origin() {
        return Some("another host (third party)");
    }
    if first.status == 0 {
        return Some("no response was recorded");
    }
    if matches!(
        first.method.as_str(),
        "OPTIONS" | "HEAD" | "CONNECT" | "TRACE"
    ) {
        return Some("a browser preflight or probe");
    }
    if is_analytics(&first.url) {
        return Some("analytics");
    }
    if is_asset(&first.url, &last.mime) {
        return Some("static asset");
    }
    None
}

const ASSET_EXTENSIONS: [&str; 18] = [
    "css",
    "js",
    "mjs",
    "map",
    "png",
    "jpg",
    "jpeg",
    "gif",
    "svg",
    "ico",
    "webp",
    "avif",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "eot",
    "webmanifest",
];

fn is_asset(url: &Url, mime: &str) -> bool {
    let extension = url
        .path()
        .rsplit('/')
        .next()
        .and_then(|name| name.rsplit_once('.'))
        .map(|(_, ext)| ext.to_ascii_lowercase());
    extension.is_some_and(|e| ASSET_EXTENSIONS.contains(&e.as_str()))
        || mime.starts_with("image/")
        || mime.starts_with("font/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "text/css"
        || mime.contains("javascript")
}

const ANALYTICS: [&str; 10] = [
    "/collect",
    "/analytics",
    "/beacon",
    "/track",
    "/gtag",
    "/gtm.js",
    "/matomo",
    "/piwik",
    "/pixel",
    "/rum",
];

fn is_analytics(url: &Url) -> bool {
    let path = url.path().to_ascii_lowercase();
    ANALYTICS
        .iter()
        .any(|p| path.starts_with(p) || path.contains(&format!("{p}/")))
}

/// `entry N: METHOD host/path — why`, without the query (it may hold personal data).
pub fn describe(exchange: &Exchange, why: &str) -> String {
    format!(
        "entry {}: {} {}{} — {why}",
        exchange.entry,
        exchange.method,
        exchange.url.host_str().unwrap_or_default(),
        exchange.url.path()
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::har::recording::RequestBody;

    pub(crate) fn exchange(entry: usize, method: &str, url: &str, status: u16) -> Exchange {
        Exchange {
            entry,
            method: method.into(),
            url: Url::parse(url).unwrap(),
            request_headers: Vec::new(),
            request_cookies: Vec::new(),
            body: RequestBody::None,
            status,
            response_headers: Vec::new(),
            set_cookies: Vec::new(),
            mime: "text/html".into(),
            response_body: String::new(),
            redirect: None,
        }
    }

    #[test]
    fn a_redirect_chain_is_one_visit_even_with_assets_between() {
        let mut post = exchange(1, "POST", "http://127.0.0.1:9/login", 302);
        post.redirect = Some(Url::parse("http://127.0.0.1:9/home").unwrap());
        let css = exchange(2, "GET", "http://127.0.0.1:9/static/site.css", 200);
        let home = exchange(3, "GET", "http://127.0.0.1:9/home", 200);
        let exchanges = vec![post, css, home];
        let visits = visits(&exchanges);
        assert_eq!(visits.len(), 2);
        assert_eq!(visits[0].hops, [0, 2]);
        assert_eq!(visits[0].entries(&exchanges), [1, 3]);
        let origin = Url::parse("http://127.0.0.1:9/").unwrap();
        assert_eq!(noise(&visits[1], &exchanges, &origin), Some("static asset"));
        assert_eq!(noise(&visits[0], &exchanges, &origin), None);
    }

    #[test]
    fn other_hosts_analytics_and_unanswered_requests_are_noise() {
        let origin = Url::parse("http://127.0.0.1:9/").unwrap();
        let exchanges = vec![
            exchange(
                1,
                "POST",
                "https://www.google-analytics.com/g/collect?v=2",
                204,
            ),
            exchange(2, "POST", "http://127.0.0.1:9/collect", 204),
            exchange(3, "GET", "http://127.0.0.1:9/api/me", 0),
            exchange(4, "OPTIONS", "http://127.0.0.1:9/api/me", 204),
        ];
        let why: Vec<_> = visits(&exchanges)
            .iter()
            .map(|v| noise(v, &exchanges, &origin))
            .collect();
        assert_eq!(
            why,
            [
                Some("another host (third party)"),
                Some("analytics"),
                Some("no response was recorded"),
                Some("a browser preflight or probe")
            ]
        );
        assert_eq!(
            describe(&exchanges[0], "analytics"),
            "entry 1: POST www.google-analytics.com/g/collect — analytics"
        );
    }
}
