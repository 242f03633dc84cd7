//! What a run's oracle will see in a recorded response: the scenario's population is read and
//! indexed exactly as `crossleak run` does, so a `must_show` written here holds when it runs.

use super::recording::Exchange;
use crate::load::Watchlist;
use crate::population::OwnerId;
use crate::scenario::PopulationSource;

pub struct Seer {
    watchlist: Watchlist,
    owner: OwnerId,
}

impl Seer {
    /// The oracle over `source`'s owners, looking for `owner`'s values.
    pub fn new(source: &PopulationSource, owner: usize) -> Result<Seer, String> {
        let population = source.read().map_err(|e| e.to_string())?;
        let watchlist = Watchlist::of(&population, &[]).map_err(|e| e.to_string())?;
        Ok(Seer {
            watchlist,
            owner: owner as OwnerId,
        })
    }

    /// The other owners whose values the response shows, in owner order.
    pub fn other_owners(&self, e: &Exchange) -> Vec<usize> {
        let mut out: Vec<usize> = self
            .sightings(e)
            .into_iter()
            .filter(|(owner, _)| *owner != self.owner)
            .map(|(owner, _)| owner as usize)
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// `(owner, field)` of every value the oracle finds in the response's headers and body.
    fn sightings(&self, e: &Exchange) -> Vec<(OwnerId, String)> {
        let headers: Vec<(&str, &[u8])> = e
            .response_headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("set-cookie"))
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let oracle = &self.watchlist.oracle;
        oracle
            .scan_response(&headers, e.response_body.as_bytes())
            .into_iter()
            .map(|s| (s.owner, oracle.field_name(s.field).to_owned()))
            .collect()
    }

    /// The oracle fields of the user's own values the response shows (headers and body), in the
    /// order they first appear.
    pub fn own_fields(&self, e: &Exchange) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (owner, field) in self.sightings(e) {
            if owner == self.owner && !out.contains(&field) {
                out.push(field);
            }
        }
        out
    }
}
