//! The check every response goes through: oracle scan, verdict, and on a finding its masked evidence.
//! Pure: takes an exchange already read off the wire, does no I/O.

mod cache_audit;
mod evidence;
mod json_equals;
mod must_show;
mod session;
mod violation;

pub use cache_audit::cache_audit;
pub use json_equals::json_mismatch;
pub use session::{session_finding, SessionEvent};

use super::watch::Watchlist;
use crate::findings::{Asked, Clues, Finding, Masking, SeenBy};
use crate::load::cache_status;
use crate::oracle::{Sighting, Verdict};
use crate::population::{OwnerId, Owners};
use http::header::{HeaderMap, HeaderValue};

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
    let scanned = Scanned::of(ctx, exchange);
    let must_show = ctx.watch.ids(must_show);
    let verdict = match viewer {
        Some(viewer) => ctx
            .watch
            .oracle
            .verdict(viewer, &scanned.sightings, &must_show),
        None => ctx.watch.oracle.verdict_anonymous(&scanned.sightings),
    };
    let judged = match verdict {
        Verdict::Clean => None,
        Verdict::Violation {
            foreign,
            own_present,
        } => Some(violation::foreign_data(
            ctx,
            viewer,
            &scanned,
            &foreign,
            own_present,
            asked,
        )),
        Verdict::WrongIdentity { missing } => {
            must_show::missing_fields(ctx, viewer, &scanned, missing, asked)
        }
    };
    let cacheable = cache_audit::cacheable_page(ctx, viewer, &scanned, asked);
    judged.into_iter().chain(cacheable).collect()
}

/// A response as every check reads it, each part read once: the exchange, every watched value the
/// oracle saw in it, and the headers that say a cache served it.
struct Scanned<'e> {
    exchange: &'e Exchange<'e>,
    sightings: Vec<Sighting>,
    /// No allocation unless a cache says it served the response.
    hits: Vec<(&'e str, &'e HeaderValue)>,
}

impl<'e> Scanned<'e> {
    /// Scans the headers and the body of `exchange` for every watched value.
    fn of(ctx: &CheckContext<'_>, exchange: &'e Exchange<'e>) -> Self {
        let headers: Vec<(&str, &[u8])> = exchange
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_bytes()))
            .collect();
        Scanned {
            exchange,
            sightings: ctx.watch.oracle.scan_response(&headers, exchange.body),
            hits: cache_status::hits(exchange.headers).collect(),
        }
    }

    /// The clues of every finding made from this response: what was asked, and the first header
    /// that says a cache served it.
    fn clues(&self, asked: &Asked) -> Clues {
        cache_audit::clues(asked.clone(), &self.hits)
    }
}

#[cfg(test)]
mod tests_support;

#[cfg(test)]
mod tests {
    use super::tests_support::{page_of, verdict, world};

    #[test]
    fn own_page_is_clean() {
        let (population, watch) = world();
        let iban = population.get(4).unwrap().iban_grouped();
        let body = page_of(&population, 4, &iban);
        assert_eq!(verdict(&population, &watch, 4, &body), None);
    }
}
