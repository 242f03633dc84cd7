//! The check every response goes through: oracle scan, verdict, and on a finding its masked evidence.
//! Pure: takes an exchange already read off the wire, does no I/O.

use super::cache_status::{self, Directives};
use super::watch::Watchlist;
use crate::findings::{
    body_hash, AccountRef, Asked, Clues, Finding, FindingKind, ForeignValue, Masking,
    RequestEvidence, ResponseEvidence, SeenBy,
};
use crate::oracle::{Location, Sighting, Verdict};
use crate::population::{OwnerId, Owners};
use http::header::{HeaderMap, HeaderValue};
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
const EXCERPT_RADIUS: usize = 160;

/// One request and its response, as read off the wire.
pub struct Exchange<'a> {
    pub method: &'a str,
    /// The page template, e.g. `GET /mon-compte`.
    pub name: &'a str,
    pub url: &'a str,
    pub status: u16,
    pub final_url: &'a str,
    /// The request carried an `Authorization` header: RFC 9111 §3.5 keeps shared caches from
    /// storing the response unless it says otherwise.
    pub authorization: bool,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Who asked, and how evidence is written.
pub struct CheckContext<'a> {
    pub watch: &'a Watchlist,
    /// Who the owners are: how evidence names their accounts.
    pub population: &'a dyn Owners,
    pub masking: Masking,
    pub phase: &'a str,
    pub user: usize,
    pub elapsed_ms: u64,
}

impl CheckContext<'_> {
    /// When and by whom the findings of this context were seen.
    fn seen(&self) -> SeenBy<'_> {
        SeenBy {
            phase: self.phase,
            user: self.user,
            elapsed_ms: self.elapsed_ms,
        }
    }
}

/// Checks one exchange made under `viewer`'s session (`None`: the anonymous observer, who must
/// never see anyone's data), sent as `asked` says (a page read, a login's last step, a replay…:
/// what the probable cause of its findings is inferred from). `must_show` applies only when the
/// response is the page that was asked for (a 2xx, not redirected elsewhere); it names fields
/// (`Field`s or field names). Returns every finding, the cache audit included.
pub fn check<F: AsRef<str>>(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    exchange: &Exchange<'_>,
    must_show: &[F],
    asked: &Asked,
) -> Vec<Finding> {
    let headers: Vec<(&str, &[u8])> = exchange
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect();
    let sightings = ctx.watch.oracle.scan_response(&headers, exchange.body);
    // Read once per response: the audit and every finding's clues use it. No allocation unless a
    // cache says it served the response.
    let hits: Vec<(&str, &HeaderValue)> = cache_status::hits(exchange.headers).collect();
    let must_show = ctx.watch.ids(must_show);
    let verdict = match viewer {
        Some(viewer) => ctx.watch.oracle.verdict(viewer, &sightings, &must_show),
        None => ctx.watch.oracle.verdict_anonymous(&sightings),
    };
    let mut findings = Vec::new();
    match verdict {
        Verdict::Clean => {}
        Verdict::Violation {
            foreign,
            own_present,
        } => {
            let cross_write = own_present
                && foreign
                    .iter()
                    .all(|s| ctx.watch.is_cross_write_field(s.field));
            let (kind, detail) = if cross_write {
                (
                    FindingKind::CrossWrite,
                    "the viewer's own file carries a value another user wrote".to_owned(),
                )
            } else if viewer.is_none() {
                (
                    FindingKind::Violation,
                    "a client with no session was served personal data".to_owned(),
                )
            } else {
                (
                    FindingKind::Violation,
                    format!(
                        "another beneficiary's data was served{}",
                        if own_present {
                            " beside the viewer's own"
                        } else {
                            " instead of the viewer's own"
                        }
                    ),
                )
            };
            let clues = Clues {
                asked: asked.clone(),
                cache_hit: first_hit(&hits),
                own_present,
                body: Some(body_hash(exchange.body)),
            };
            let seen = Seen {
                kind,
                detail,
                foreign: &foreign,
                missing: Vec::new(),
            };
            findings.push(finding(ctx, viewer, exchange, &sightings, seen).with_clues(clues));
        }
        Verdict::WrongIdentity { mut missing } => {
            // A field the viewer has no value of (an empty cell of a staging export) cannot be
            // shown: its absence says nothing. Looked up only here, off the hot path.
            if let Some(viewer) = viewer {
                let has: Vec<String> = ctx
                    .population
                    .watched(viewer)
                    .into_iter()
                    .map(|(field, _)| field.to_owned())
                    .collect();
                missing.retain(|f| has.iter().any(|h| h == ctx.watch.oracle.field_name(*f)));
            }
            if !missing.is_empty() {
                // Only a just-written value is missing: the user's own page, stale.
                let (kind, detail) = if missing.iter().all(|f| ctx.watch.is_lost_write_field(*f)) {
                    (
                        FindingKind::LostWrite,
                        "the user's own page does not show the value the user just wrote",
                    )
                } else {
                    (
                        FindingKind::WrongIdentity,
                        "the page shows nobody's identity where it must show the user's",
                    )
                };
                let missing = missing
                    .iter()
                    .map(|f| ctx.watch.oracle.field_name(*f).to_owned())
                    .collect();
                let seen = Seen {
                    kind,
                    detail: detail.to_owned(),
                    foreign: &[],
                    missing,
                };
                let clues = Clues {
                    asked: asked.clone(),
                    cache_hit: first_hit(&hits),
                    ..Clues::default()
                };
                findings.push(finding(ctx, viewer, exchange, &sightings, seen).with_clues(clues));
            }
        }
    }
    if !sightings.is_empty() {
        if let Some(reasons) = audit(exchange.headers, exchange.authorization, &hits) {
            let seen = Seen {
                kind: FindingKind::CacheablePage,
                detail: reasons,
                foreign: &[],
                missing: Vec::new(),
            };
            let clues = Clues {
                asked: asked.clone(),
                cache_hit: first_hit(&hits),
                ..Clues::default()
            };
            findings.push(finding(ctx, viewer, exchange, &sightings, seen).with_clues(clues));
        }
    }
    findings
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

/// How evidence names an owner's account: its number and its file number, masked.
fn account(ctx: &CheckContext<'_>, owner: OwnerId) -> AccountRef {
    AccountRef {
        owner,
        numero_allocataire: ctx
            .population
            .reference(owner)
            .map(|r| ctx.masking.apply(r))
            .unwrap_or_default(),
    }
}

/// A session event the journey saw for itself (not in a response body): a token issued to two
/// users, or an old token that still opens the file.
pub struct SessionEvent<'a> {
    pub kind: FindingKind,
    pub viewer: OwnerId,
    /// The other owner the token was issued to, for a collision.
    pub other: Option<OwnerId>,
    pub token: &'a str,
    pub method: &'a str,
    pub name: &'a str,
    pub url: &'a str,
    pub status: u16,
    pub detail: String,
}

/// The finding for a session event, token masked like any credential.
pub fn session_finding(ctx: &CheckContext<'_>, event: SessionEvent<'_>) -> Finding {
    let url = masked_url(ctx, event.url);
    let foreign = event
        .other
        .map(|other| ForeignValue {
            account: account(ctx, other),
            field: "session_token".to_owned(),
            location: "header:set-cookie".to_owned(),
            value: ctx.masking.apply(event.token),
        })
        .into_iter()
        .collect();
    Finding::new(
        event.kind,
        ctx.seen(),
        RequestEvidence {
            method: event.method.to_owned(),
            name: event.name.to_owned(),
            url: url.clone(),
        },
        ResponseEvidence {
            status: event.status,
            final_url: url,
            headers: BTreeMap::new(),
            excerpt: String::new(),
        },
    )
    .with_viewer(Some(account(ctx, event.viewer)))
    .with_foreign(foreign)
    .with_detail(event.detail)
}

/// A JSON page whose pointers do not hold the viewer's own values (`json_equals` in a scenario):
/// the page is not the viewer's file, whether or not another owner's value shows. `expected` is
/// `(pointer, the viewer's value, variable name)`; the finding's `missing` names the variables.
pub fn json_mismatch(
    ctx: &CheckContext<'_>,
    viewer: OwnerId,
    exchange: &Exchange<'_>,
    expected: &[(String, String, String)],
) -> Option<Finding> {
    let json: serde_json::Value = serde_json::from_slice(exchange.body).ok()?;
    let wrong: Vec<&(String, String, String)> = expected
        .iter()
        .filter(|(pointer, value, _)| {
            let found = match json.pointer(pointer) {
                Some(serde_json::Value::String(text)) => Some(text.clone()),
                Some(serde_json::Value::Null) | None => None,
                Some(other) => Some(other.to_string()),
            };
            found.as_deref() != Some(value.as_str())
        })
        .collect();
    if wrong.is_empty() {
        return None;
    }
    let mut missing: Vec<String> = Vec::new();
    for (_, _, variable) in &wrong {
        if !missing.contains(variable) {
            missing.push(variable.clone());
        }
    }
    let places: Vec<String> = wrong
        .iter()
        .map(|(pointer, _, variable)| format!("{variable} at {pointer}"))
        .collect();
    let excerpt = ctx.masking.apply(&String::from_utf8_lossy(
        &exchange.body[..exchange.body.len().min(2 * EXCERPT_RADIUS)],
    ));
    Some(
        Finding::new(
            FindingKind::WrongIdentity,
            ctx.seen(),
            request_evidence(ctx, exchange),
            response_evidence(ctx, exchange, &[], excerpt),
        )
        .with_viewer(Some(account(ctx, viewer)))
        .with_missing(missing)
        .with_detail(format!(
            "the JSON does not hold the viewer's own {}",
            places.join(", ")
        ))
        .with_clues(Clues {
            cache_hit: first_hit(&cache_status::hits(exchange.headers).collect::<Vec<_>>()),
            ..Clues::default()
        }),
    )
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

/// What a finding made from a response says beyond the exchange itself.
struct Seen<'s> {
    kind: FindingKind,
    detail: String,
    /// The other owners' values the response carried.
    foreign: &'s [Sighting],
    /// The viewer's own fields it had to show and did not.
    missing: Vec<String>,
}

/// The finding for `exchange`, its evidence masked: every value in it (`sightings`), centred on
/// the first foreign one.
fn finding(
    ctx: &CheckContext<'_>,
    viewer: Option<OwnerId>,
    exchange: &Exchange<'_>,
    sightings: &[Sighting],
    seen: Seen<'_>,
) -> Finding {
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

fn request_evidence(ctx: &CheckContext<'_>, exchange: &Exchange<'_>) -> RequestEvidence {
    RequestEvidence {
        method: exchange.method.to_owned(),
        name: exchange.name.to_owned(),
        url: masked_url(ctx, exchange.url),
    }
}

fn response_evidence(
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

/// A window of the body around the first foreign value (or its start), every value in it masked.
/// `url` with every watched value in it masked (a path such as `/api/dossiers/{{numero}}`, a
/// replay's other owner's number), as the rest of the evidence is.
fn masked_url(ctx: &CheckContext<'_>, url: &str) -> String {
    let spans: Vec<(usize, usize)> = ctx
        .watch
        .oracle
        .scan(url.as_bytes())
        .iter()
        .map(|s| (s.start, s.end))
        .collect();
    ctx.masking.apply_spans(url.as_bytes(), &spans)
}

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
    use super::tests_support::{page_of, world};
    use super::*;
    use crate::population::{Field, Population};
    use http::header::{HeaderValue, CACHE_CONTROL, SET_COOKIE};

    fn run_check(
        population: &Population,
        watch: &Watchlist,
        viewer: OwnerId,
        body: &str,
        headers: &HeaderMap,
        must_show: &[Field],
        masking: Masking,
    ) -> Option<Finding> {
        // These tests are about the oracle's verdict: the page is private, as a correct one is.
        let mut headers = headers.clone();
        headers
            .entry(CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("private, no-store"));
        let mut findings = run_check_as(
            population,
            watch,
            Some(viewer),
            body,
            &headers,
            must_show,
            masking,
        );
        assert!(findings.len() <= 1, "{findings:?}");
        findings.pop()
    }

    fn run_check_as(
        population: &Population,
        watch: &Watchlist,
        viewer: Option<OwnerId>,
        body: &str,
        headers: &HeaderMap,
        must_show: &[Field],
        masking: Masking,
    ) -> Vec<Finding> {
        let ctx = CheckContext {
            watch,
            population,
            masking,
            phase: "load",
            user: 3,
            elapsed_ms: 42,
        };
        let exchange = Exchange {
            method: "GET",
            name: "GET /mon-compte",
            url: "http://127.0.0.1:1/mon-compte",
            status: 200,
            final_url: "http://127.0.0.1:1/mon-compte",
            authorization: false,
            headers,
            body: body.as_bytes(),
        };
        check(&ctx, viewer, &exchange, must_show, &Asked::Read)
    }

    const IDENTITY: [Field; 2] = [Field::NumeroAllocataire, Field::Nir];

    #[test]
    fn watched_values_in_the_url_are_masked_in_the_evidence() {
        let (population, watch) = world();
        let stranger = (1..50)
            .find(|o| !watch.oracle.same_household(0, *o))
            .unwrap();
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
            let ctx = CheckContext {
                watch: &watch,
                population: &population,
                masking,
                phase: "load",
                user: 3,
                elapsed_ms: 42,
            };
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

    #[test]
    fn own_page_is_clean() {
        let (population, watch) = world();
        let iban = population.get(4).unwrap().iban_grouped();
        let body = page_of(&population, 4, &iban);
        let headers = HeaderMap::new();
        assert_eq!(
            run_check(
                &population,
                &watch,
                4,
                &body,
                &headers,
                &IDENTITY,
                Masking::Masked
            ),
            None
        );
    }

    #[test]
    fn another_owners_page_is_a_violation_with_masked_evidence() {
        let (population, watch) = world();
        let stranger = (1..50)
            .find(|o| !watch.oracle.same_household(0, *o))
            .unwrap();
        let iban = population.get(stranger).unwrap().iban.clone();
        let body = page_of(&population, stranger, &iban);
        let mut headers = HeaderMap::new();
        headers.insert(
            SET_COOKIE,
            HeaderValue::from_static("crossleak_session=abcdef0123456789; HttpOnly; Path=/"),
        );
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        let finding = run_check(
            &population,
            &watch,
            0,
            &body,
            &headers,
            &IDENTITY,
            Masking::Masked,
        )
        .expect("a violation");
        assert_eq!(finding.kind, FindingKind::Violation);
        assert_eq!(finding.viewer.as_ref().unwrap().owner, 0);
        assert!(finding.foreign.iter().all(|f| f.account.owner == stranger));
        let fields: Vec<&str> = finding.foreign.iter().map(|f| f.field.as_str()).collect();
        for field in ["numero_allocataire", "nir", "iban", "phone"] {
            assert!(fields.contains(&field), "{field} missing from {fields:?}");
        }
        // Masked: the stranger's file number never appears whole in the evidence.
        let numero = population
            .get(stranger)
            .unwrap()
            .numero_allocataire
            .to_string();
        let evidence = serde_json::to_string(&finding).unwrap();
        assert!(!evidence.contains(&numero), "{evidence}");
        assert!(
            !evidence.contains("abcdef0123456789"),
            "session token leaked into evidence"
        );
        assert_eq!(
            finding.response.headers["cache-control"],
            "private, no-store"
        );
        // Revealed: the value is there as served.
        let revealed = run_check(
            &population,
            &watch,
            0,
            &body,
            &headers,
            &IDENTITY,
            Masking::Revealed,
        )
        .unwrap();
        assert!(serde_json::to_string(&revealed).unwrap().contains(&numero));
    }

    #[test]
    fn a_household_partners_data_is_allowed() {
        let (population, watch) = world();
        let (a, b) = (0..50u32)
            .flat_map(|a| (0..50u32).map(move |b| (a, b)))
            .find(|(a, b)| a != b && watch.oracle.same_household(*a, *b))
            .expect("a two-adult household in the population");
        let mine = population.get(a).unwrap();
        let partner = population.get(b).unwrap();
        let body = format!(
            "{} {} / conjoint {} {}",
            mine.numero_allocataire,
            mine.nir,
            partner.numero_allocataire,
            partner.nir.spaced()
        );
        assert_eq!(
            run_check(
                &population,
                &watch,
                a,
                &body,
                &HeaderMap::new(),
                &IDENTITY,
                Masking::Masked
            ),
            None
        );
    }

    #[test]
    fn a_page_without_the_viewers_identity_is_a_wrong_identity() {
        let (population, watch) = world();
        let finding = run_check(
            &population,
            &watch,
            2,
            "<html>Bienvenue</html>",
            &HeaderMap::new(),
            &IDENTITY,
            Masking::Masked,
        )
        .unwrap();
        assert_eq!(finding.kind, FindingKind::WrongIdentity);
        assert_eq!(finding.missing, ["numero_allocataire", "nir"]);
    }

    #[test]
    fn a_json_page_with_another_owners_values_is_a_wrong_identity_naming_what_it_lacks() {
        let (population, watch) = world();
        let ctx = CheckContext {
            watch: &watch,
            population: &population,
            masking: Masking::Masked,
            phase: "load",
            user: 0,
            elapsed_ms: 0,
        };
        let own = population.get(0).unwrap();
        let stranger = population.get(9).unwrap();
        let expected = [
            (
                "/client/number".to_owned(),
                own.numero_allocataire.to_string(),
                "numero_allocataire".to_owned(),
            ),
            (
                "/client/email".to_owned(),
                own.email.clone(),
                "email".to_owned(),
            ),
        ];
        let json = |number: String, email: &str| {
            serde_json::json!({"client": {"number": number, "email": email}}).to_string()
        };
        fn exchange<'a>(headers: &'a HeaderMap, body: &'a str) -> Exchange<'a> {
            Exchange {
                method: "GET",
                name: "profile",
                url: "http://127.0.0.1:1/v2/me",
                status: 200,
                final_url: "http://127.0.0.1:1/v2/me",
                authorization: true,
                headers,
                body: body.as_bytes(),
            }
        }
        let headers = HeaderMap::new();
        let leaked = json(stranger.numero_allocataire.to_string(), &stranger.email);
        let finding = json_mismatch(&ctx, 0, &exchange(&headers, &leaked), &expected).unwrap();
        assert_eq!(finding.kind, FindingKind::WrongIdentity);
        assert_eq!(finding.missing, ["numero_allocataire", "email"]);
        assert!(
            finding
                .detail
                .contains("numero_allocataire at /client/number"),
            "{}",
            finding.detail
        );
        assert_eq!(finding.request.name, "profile");
        assert_eq!(finding.clues.cache_hit, None);
        let mut served = HeaderMap::new();
        served.insert("x-cache", HeaderValue::from_static("HIT"));
        let cached = json_mismatch(&ctx, 0, &exchange(&served, &leaked), &expected).unwrap();
        assert_eq!(cached.clues.cache_hit.as_deref(), Some("x-cache: HIT"));
        let mine = json(own.numero_allocataire.to_string(), &own.email);
        assert_eq!(
            json_mismatch(&ctx, 0, &exchange(&headers, &mine), &expected),
            None
        );
    }

    #[test]
    fn own_page_missing_only_the_just_written_value_is_a_lost_write() {
        let (population, watch) = world();
        let old = population.get(5).unwrap().iban.clone();
        let body = page_of(&population, 5, &old);
        let must_show = [Field::NumeroAllocataire, Field::WrittenIban];
        let finding = run_check(
            &population,
            &watch,
            5,
            &body,
            &HeaderMap::new(),
            &must_show,
            Masking::Masked,
        )
        .unwrap();
        assert_eq!(finding.kind, FindingKind::LostWrite);
        assert!(!finding.kind.fails_run());
    }

    #[test]
    fn another_users_written_value_in_my_file_is_a_cross_write() {
        let (population, watch) = world();
        let writer = (1..50)
            .find(|o| !watch.oracle.same_household(0, *o))
            .unwrap();
        let written = population.get(writer).unwrap().spare_iban.clone();
        // My own file, but showing the IBAN another user just wrote.
        let body = page_of(&population, 0, &written);
        let finding = run_check(
            &population,
            &watch,
            0,
            &body,
            &HeaderMap::new(),
            &IDENTITY,
            Masking::Masked,
        )
        .unwrap();
        assert_eq!(finding.kind, FindingKind::CrossWrite);
        assert_eq!(finding.foreign[0].account.owner, writer);
        assert_eq!(finding.foreign[0].field, "written_iban");
    }
}

#[cfg(test)]
mod audit_tests {
    use super::tests_support::*;
    use super::*;
    use http::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

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

    #[test]
    fn the_anonymous_observer_must_see_nobodys_data() {
        let (population, watch) = world();
        let private = headers(&[("cache-control", "private, no-store")]);
        let body = page_of(&population, 8, &population.get(8).unwrap().iban.clone());
        let findings = check_as(&population, &watch, None, &body, &private);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert_eq!(findings[0].kind, FindingKind::Violation);
        assert!(findings[0].viewer.is_none());
        assert!(findings[0].foreign.iter().all(|f| f.account.owner == 8));
        assert!(check_as(
            &population,
            &watch,
            None,
            "<html>Connexion</html>",
            &private
        )
        .is_empty());
    }
}

#[cfg(test)]
mod tests_support {
    use super::*;
    use crate::population::{Field, GenerateOptions, Population};

    pub fn world() -> (Population, Watchlist) {
        let population = Population::generate(&GenerateOptions {
            size: 50,
            seed: 7,
            household_share: 0.5,
            ..GenerateOptions::default()
        })
        .unwrap();
        let watch = Watchlist::build(&population).unwrap();
        (population, watch)
    }

    pub fn page_of(population: &Population, owner: OwnerId, iban: &str) -> String {
        let b = population.get(owner).unwrap();
        format!(
            "<html><h1>{} {}</h1><p>N° allocataire {}</p><p>NIR {}</p><p>IBAN {}</p><p>Tél {}</p></html>",
            b.first_name,
            b.last_name,
            b.numero_allocataire,
            b.nir.spaced(),
            iban,
            b.phone_spaced()
        )
    }

    pub fn check_as(
        population: &Population,
        watch: &Watchlist,
        viewer: Option<OwnerId>,
        body: &str,
        headers: &HeaderMap,
    ) -> Vec<Finding> {
        let ctx = CheckContext {
            watch,
            population,
            masking: Masking::Masked,
            phase: "load",
            user: 0,
            elapsed_ms: 0,
        };
        let exchange = Exchange {
            method: "GET",
            name: "GET /mon-compte",
            url: "http://127.0.0.1:1/mon-compte",
            status: 200,
            final_url: "http://127.0.0.1:1/mon-compte",
            authorization: false,
            headers,
            body: body.as_bytes(),
        };
        check(
            &ctx,
            viewer,
            &exchange,
            &[Field::NumeroAllocataire, Field::Nir],
            &Asked::Read,
        )
    }
}
