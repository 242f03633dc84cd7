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

    /// The oracle fields of the user's own values the response shows (headers and body), in the
    /// order they first appear.
    pub fn own_fields(&self, e: &Exchange) -> Vec<String> {
        let headers: Vec<(&str, &[u8])> = e
            .response_headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("set-cookie"))
            .map(|(n, v)| (n.as_str(), v.as_bytes()))
            .collect();
        let oracle = &self.watchlist.oracle;
        let mut out: Vec<String> = Vec::new();
        for sighting in oracle.scan_response(&headers, e.response_body.as_bytes()) {
            let name = oracle.field_name(sighting.field);
            if sighting.owner == self.owner && !out.iter().any(|f| f == name) {
                out.push(name.to_owned());
            }
        }
        out
    }
}
