//! The faults the demo portal can switch on, each a real mechanism from a known incident.
//! This file only names and describes them; each fault's mechanism lives in the one module that applies it.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// One known way a portal leaks one user's data to another.
///
/// Adding a fault: a variant here, its row in [`Fault::all`] and the three descriptions, then
/// its mechanism applied at exactly one seam of `routes::router` (a layer over the personal
/// routes, the session store, or the account lookup) behind `PortalConfig::has`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fault {
    /// A response cache in front of the personal pages, keyed by path alone.
    SharedCache,
}

/// A fault name that no fault has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown portal fault {given:?}: valid faults are {valid}")]
pub struct UnknownFault {
    pub given: String,
    /// The valid names, comma-separated.
    pub valid: String,
}

impl Fault {
    /// The kebab-case name used on the command line and in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::SharedCache => "shared-cache",
        }
    }

    /// What the portal does wrong when this fault is on.
    pub fn mechanism(&self) -> &'static str {
        match self {
            Fault::SharedCache => {
                "a response cache in front of /mon-compte and /api/dossier keys entries by path \
                 alone, ignores the session cookie and the origin's `Cache-Control: private, \
                 no-store`, and serves the first visitor's page to everyone until the entry expires"
            }
        }
    }

    /// The real incident this fault reproduces.
    pub fn incident(&self) -> &'static str {
        match self {
            Fault::SharedCache => {
                "Steam, 25 December 2015: a caching configuration change stored personalised \
                 account pages and served them to other users"
            }
        }
    }

    /// Every fault, in a stable order.
    pub fn all() -> &'static [Fault] {
        &[Fault::SharedCache]
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Fault {
    type Err = UnknownFault;

    fn from_str(given: &str) -> Result<Self, Self::Err> {
        Fault::all()
            .iter()
            .copied()
            .find(|fault| fault.name() == given)
            .ok_or_else(|| UnknownFault {
                given: given.to_owned(),
                valid: Fault::all()
                    .iter()
                    .map(Fault::name)
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_parses_back_from_its_name_and_serde_agrees() {
        for fault in Fault::all() {
            assert_eq!(fault.name().parse::<Fault>(), Ok(*fault));
            let json = serde_json::to_string(fault).expect("serialise");
            assert_eq!(json, format!("\"{}\"", fault.name()));
            assert!(!fault.mechanism().is_empty() && !fault.incident().is_empty());
        }
    }

    #[test]
    fn unknown_fault_error_lists_the_valid_names() {
        let error = "shared_cache".parse::<Fault>().expect_err("not a name");
        let message = error.to_string();
        assert!(message.contains("\"shared_cache\""), "{message}");
        assert!(message.contains("shared-cache"), "{message}");
    }
}
