//! The embedded demo portal: a CAF-like site (axum) with both login paths, file pages, RIB and password change.
//! Correct by default; each known fault is a real mechanism switched on in [`PortalConfig`], never a coin flip.

mod accounts;
mod cache;
mod dossier;
mod faults;
mod pages;
mod routes;
mod server;
mod session;
#[cfg(test)]
mod tests;

pub use faults::{Fault, UnknownFault};
pub use routes::router;
pub use server::{start, RunningPortal};
pub use session::COOKIE_NAME;

use crate::identifiers::{IbanError, Nir, NumeroAllocataire};
use crate::population::OwnerId;
use std::net::SocketAddr;
use std::time::Duration;

/// How the portal behaves: which faults are on, and their settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalConfig {
    /// Faults switched on; empty for a correct portal.
    pub faults: Vec<Fault>,
    /// How long the `shared-cache` fault keeps a page.
    pub cache_ttl: Duration,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            faults: Vec::new(),
            cache_ttl: Duration::from_secs(1),
        }
    }
}

impl PortalConfig {
    /// A correct portal with `faults` switched on.
    pub fn with_faults(faults: impl IntoIterator<Item = Fault>) -> Self {
        Self {
            faults: faults.into_iter().collect(),
            ..Self::default()
        }
    }

    pub fn has(&self, fault: Fault) -> bool {
        self.faults.contains(&fault)
    }

    /// Refuses settings that would make a switched-on fault silently inert.
    pub fn validate(&self) -> Result<(), PortalError> {
        if self.has(Fault::SharedCache) && self.cache_ttl.is_zero() {
            return Err(PortalError::ZeroCacheTtl);
        }
        Ok(())
    }
}

/// Why the portal could not start. Messages name owners, never their identifying values.
#[derive(Debug, thiserror::Error)]
pub enum PortalError {
    #[error("cannot listen on {addr}: choose a free port, or port 0 for any")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("two accounts have owner id {owner}: owner ids must be unique in the population")]
    DuplicateOwner { owner: OwnerId },
    #[error("owners {first} and {second} share one numéro allocataire: a login must open exactly one account, fix the population")]
    DuplicateNumeroAllocataire {
        numero: NumeroAllocataire,
        first: OwnerId,
        second: OwnerId,
    },
    #[error("owners {first} and {second} share one NIR (the 13 characters before the key): a login must open exactly one account, fix the population")]
    DuplicateNir {
        nir: Nir,
        first: OwnerId,
        second: OwnerId,
    },
    #[error("owner {owner} has an invalid IBAN: fix the population")]
    InvalidIban {
        owner: OwnerId,
        #[source]
        source: IbanError,
    },
    #[error(
        "the shared-cache fault needs a cache TTL above zero: with 0 it would never serve a page"
    )]
    ZeroCacheTtl,
}
