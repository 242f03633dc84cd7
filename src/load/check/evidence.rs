//! The evidence a finding carries: who, what was asked, which headers and which window of the body,
//! every watched value in it masked (unless revealed) and centred on the first foreign one.

use super::{CheckContext, Exchange, Scanned};
use crate::findings::{
    AccountRef, Finding, FindingKind, ForeignValue, Masking, RequestEvidence, ResponseEvidence,
};
use crate::load::cache_status;
use crate::oracle::{Location, Sighting};
use crate::population::OwnerId;
use std::collections::BTreeMap;

/// Headers shown in evidence whatever they carry: the ones that explain a leak, besides every
/// cache's own (see [`cache_status::is_cache_header`]).
const EVIDENCE_HEADERS: [&str; 6] = [
    "set-cookie",
    "cache-control",
    "expires",
    "vary",
    "content-type",
    "location",
];

/// Bytes of body kept either side of the first foreign value.
pub(super) const EXCERPT_RADIUS: usize = 160;

/// What a finding made from a response says beyond the exchange itself.
pub(super) struct Seen<'s> {
    pub(super) kind: FindingKind,
    pub(super) detail: String,
    /// The other owners' values the response carried.
    pub(super) foreign: &'s [Sighting],
    /// The viewer's own fields it had to show and did not.
    pub(super) missing: Vec<String>,
}

/// The finding for a scanned response, its evidence masked: every value in it (its sightings),
/// centred on the first foreign one.
pub(super) fn finding(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    scanned: &Scanned<'_>,
    seen: Seen<'_>,
) -> Finding {
    let (exchange, sightings) = (scanned.exchange, &scanned.sightings);
    let foreign_values = seen
        .foreign
        .iter()
        .map(|s| ForeignValue {
            account: account(ctx, s.owner),
            field: ctx.watch.oracle.field_name(s.field).to_owned(),
            location: match &s.location {
                Location::Body => "body".to_owned(),
                Location::Header(name) => format!("header:{name}"),
            },
            value: ctx.masking.apply(&sighting_text(exchange, s)),
        })
        .collect();
    let excerpt = excerpt(ctx.masking, exchange.body, sightings, seen.foreign);
    Finding::new(
        seen.kind,
        ctx.seen(),
        request_evidence(ctx, exchange),
        response_evidence(ctx, exchange, sightings, excerpt),
    )
    .with_viewer(viewer.map(|owner| account(ctx, owner)))
    .with_foreign(foreign_values)
    .with_missing(seen.missing)
    .with_detail(seen.detail)
}

/// How evidence names an owner's account: its number and its file number, masked.
pub(super) fn account(ctx: &CheckContext<'_>, owner: OwnerId) -> AccountRef {
    AccountRef {
        owner,
        numero_allocataire: ctx
            .population
            .reference(owner)
            .map(|r| ctx.masking.apply(r))
            .unwrap_or_default(),
    }
}

/// What was asked, its URL masked.
pub(super) fn request_evidence(ctx: &CheckContext<'_>, exchange: &Exchange<'_>) -> RequestEvidence {
    RequestEvidence {
        method: exchange.method.to_owned(),
        name: exchange.name.to_owned(),
        url: masked_url(ctx, exchange.url),
    }
}

/// What came back: the status, the final URL and the headers that explain a leak (masked), and
/// `excerpt`.
pub(super) fn response_evidence(
    ctx: &CheckContext<'_>,
    exchange: &Exchange<'_>,
    sightings: &[Sighting],
    excerpt: String,
) -> ResponseEvidence {
    ResponseEvidence {
        status: exchange.status,
        final_url: masked_url(ctx, exchange.final_url),
        headers: evidence_headers(ctx.masking, exchange, sightings),
        excerpt,
    }
}

/// The text of one sighting, read from where it was seen (the body or one of the headers).
fn sighting_text(exchange: &Exchange<'_>, sighting: &Sighting) -> String {
    let source: &[u8] = match &sighting.location {
        Location::Body => exchange.body,
        Location::Header(name) => exchange
            .headers
            .get_all(name.as_str())
            .iter()
            .map(|v| v.as_bytes())
            .find(|v| v.len() >= sighting.end)
            .unwrap_or_default(),
    };
    source
        .get(sighting.start..sighting.end)
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The headers that explain a leak, plus any header a value was seen in; session tokens masked.
fn evidence_headers(
    masking: Masking,
    exchange: &Exchange<'_>,
    sightings: &[Sighting],
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (name, value) in exchange.headers {
        let name = name.as_str();
        let seen_here: Vec<(usize, usize)> = sightings
            .iter()
            .filter(|s| matches!(&s.location, Location::Header(h) if h == name))
            .map(|s| (s.start, s.end))
            .collect();
        if !EVIDENCE_HEADERS.contains(&name)
            && !cache_status::is_cache_header(name)
            && seen_here.is_empty()
        {
            continue;
        }
        let text = if name == "set-cookie" {
            mask_cookie(masking, &String::from_utf8_lossy(value.as_bytes()))
        } else {
            masking.apply_spans(value.as_bytes(), &seen_here)
        };
        out.entry(name.to_owned())
            .and_modify(|existing: &mut String| {
                existing.push('\n');
                existing.push_str(&text);
            })
            .or_insert(text);
    }
    out
}

/// `name=value; attributes`: the value is a credential, so it is masked like personal data.
fn mask_cookie(masking: Masking, cookie: &str) -> String {
    let (pair, attributes) = cookie.split_once(';').unwrap_or((cookie, ""));
    let masked = match pair.split_once('=') {
        Some((name, value)) => format!("{name}={}", masking.apply(value)),
        None => masking.apply(pair),
    };
    if attributes.is_empty() {
        masked
    } else {
        format!("{masked};{attributes}")
    }
}

/// `url` with every watched value in it masked (a path such as `/api/dossiers/{{numero}}`, a
/// replay's other owner's number), as the rest of the evidence is.
pub(super) fn masked_url(ctx: &CheckContext<'_>, url: &str) -> String {
    let spans: Vec<(usize, usize)> = ctx
        .watch
        .oracle
        .scan(url.as_bytes())
        .iter()
        .map(|s| (s.start, s.end))
        .collect();
    ctx.masking.apply_spans(url.as_bytes(), &spans)
}

/// A window of the body around the first foreign value (or its start), every value in it masked.
fn excerpt(masking: Masking, body: &[u8], sightings: &[Sighting], foreign: &[Sighting]) -> String {
    let centre = foreign
        .iter()
        .find(|s| s.location == Location::Body)
        .map(|s| s.start)
        .unwrap_or(0);
    let mut start = centre.saturating_sub(EXCERPT_RADIUS);
    let mut end = (centre + EXCERPT_RADIUS).min(body.len());
    // Never cut inside a value: widen to include any sighting the window touches.
    for s in sightings.iter().filter(|s| s.location == Location::Body) {
        if s.start < end && s.end > start {
            start = start.min(s.start);
            end = end.max(s.end);
        }
    }
    let spans: Vec<(usize, usize)> = sightings
        .iter()
        .filter(|s| s.location == Location::Body && s.start >= start && s.end <= end)
        .map(|s| (s.start - start, s.end - start))
        .collect();
    masking.apply_spans(&body[start..end], &spans)
}

#[cfg(test)]
mod tests {
    use crate::findings::{Asked, FindingKind, Masking};
    use crate::load::check::tests_support::{context, page_of, stranger, world};
    use crate::load::check::{check, Exchange};
    use crate::population::Field;
    use http::header::HeaderMap;

    #[test]
    fn watched_values_in_the_url_are_masked_in_the_evidence() {
        let (population, watch) = world();
        let stranger = stranger(&watch);
        let numero = population
            .get(stranger)
            .unwrap()
            .numero_allocataire
            .as_str();
        let iban = population.get(stranger).unwrap().iban.clone();
        let body = page_of(&population, stranger, &iban);
        let url = format!("http://127.0.0.1:1/api/dossiers/{numero}");
        let headers = HeaderMap::new();
        let exchange = Exchange {
            method: "GET",
            name: "GET /api/dossiers/{{numero_allocataire}}",
            url: &url,
            status: 200,
            final_url: &url,
            authorization: false,
            headers: &headers,
            body: body.as_bytes(),
        };
        for (masking, shown) in [(Masking::Masked, false), (Masking::Revealed, true)] {
            let ctx = context(&population, &watch, masking);
            let findings = check(&ctx, Some(0), &exchange, &[] as &[Field], &Asked::Read);
            let finding = findings
                .iter()
                .find(|f| f.kind == FindingKind::Violation)
                .expect("a violation");
            for url in [&finding.request.url, &finding.response.final_url] {
                assert_eq!(url.contains(numero), shown, "{url}");
                assert!(url.starts_with("http://127.0.0.1:1/api/dossiers/"), "{url}");
            }
        }
    }
}
