//! The embedded demo portal: a CAF-like site (axum) with both login paths, file pages, RIB and password change.
//! Correct by default; each known fault is a real mechanism switched on in [`PortalConfig`], never a coin flip.

mod accounts;
mod activation;
mod cache;
mod dossier;
mod ledger;
mod lenient;
mod memo;
mod pages;
mod routes;
mod server;
mod session;
#[cfg(test)]
mod tests;
mod viewer;

pub use crate::faults::{Fault, UnknownFault};
pub use routes::router;
pub use server::{start, RunningPortal};
pub use session::COOKIE_NAME;

use crate::identifiers::{IbanError, Nir, NumeroAllocataire};
use crate::population::OwnerId;
use std::net::SocketAddr;
use std::time::Duration;

/// The admin token a default portal accepts in `X-Admin-Token`.
pub const DEFAULT_ADMIN_TOKEN: &str = "crossleak-demo";

/// How the portal behaves: which faults are on, and their settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortalConfig {
    /// Faults switched on; empty for a correct portal.
    pub faults: Vec<Fault>,
    /// How long the cache faults (`shared-cache`, `default-cdn-cache`, `cache-deception`) keep a page.
    pub cache_ttl: Duration,
    /// Whether `POST /connexion/nir` is open when the portal starts (the migration's cut-over
    /// opens it at run time through `POST /admin/connexion-nir`).
    pub nir_login: bool,
    /// The `X-Admin-Token` the admin endpoints require.
    pub admin_token: String,
    /// How long the payments ledger takes to answer one query; every personal read waits on it.
    pub ledger_latency: Duration,
    /// Payment lines each file's statement holds: 0 serves each beneficiary's own payments (a
    /// page of about 2 KB); more lengthens every history back in time, month by month, with the
    /// beneficiary's own benefits (2,000 lines make a page of about 200 KB, for benchmarks).
    pub payment_history: usize,
}

impl Default for PortalConfig {
    fn default() -> Self {
        Self {
            faults: Vec::new(),
            cache_ttl: Duration::from_secs(1),
            nir_login: true,
            admin_token: DEFAULT_ADMIN_TOKEN.to_owned(),
            ledger_latency: Duration::from_millis(10),
            payment_history: 0,
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

    /// Refuses settings that would make a switched-on fault silently inert, or leave the admin
    /// endpoints open to anyone.
    pub fn validate(&self) -> Result<(), PortalError> {
        let caches = [
            Fault::SharedCache,
            Fault::DefaultCdnCache,
            Fault::CacheDeception,
        ];
        if let Some(fault) = caches.into_iter().find(|fault| self.has(*fault)) {
            if self.cache_ttl.is_zero() {
                return Err(PortalError::ZeroCacheTtl { fault });
            }
        }
        if self.admin_token.trim().is_empty() {
            return Err(PortalError::EmptyAdminToken);
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
    #[error("the {fault} fault needs a cache TTL above zero: with 0 it would never serve a page")]
    ZeroCacheTtl { fault: Fault },
    #[error(
        "the admin token is empty: anyone could switch the NIR login, set a token of your own"
    )]
    EmptyAdminToken,
}
