//! Who a personal read is for: the auth layer resolves the session cookie to an owner and hands the
//! handlers a [`CurrentUser`]. The `request-state-race` fault (GitHub, March 2021) is where that object lives.
//!
//! The handlers read the current user more than once, before and after awaiting the payments
//! ledger, as handlers do with a request object. In the correct portal each request gets its own
//! object, so the reads agree. With the fault, the auth layer writes into one object reused by
//! every request — a request object kept across requests, a module-level `current_user` — so
//! another request authenticated while this one waited on the ledger has overwritten it, and the
//! rest of the handler works for that other user. One request at a time never shows it.

use crate::population::OwnerId;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// The signed-in owner of the request being handled, as the handlers read it.
#[derive(Clone, Debug)]
pub struct CurrentUser(Arc<AtomicU32>);

impl CurrentUser {
    fn new(owner: OwnerId) -> Self {
        Self(Arc::new(AtomicU32::new(owner)))
    }

    pub fn owner(&self) -> OwnerId {
        self.0.load(Ordering::Relaxed)
    }
}

/// Where the auth layer puts the current user.
#[derive(Debug)]
pub enum RequestContexts {
    /// A fresh object for every request.
    PerRequest,
    /// `request-state-race`: one object, written by every request.
    Shared(CurrentUser),
}

impl RequestContexts {
    pub fn new(shared: bool) -> Self {
        if shared {
            Self::Shared(CurrentUser::new(0))
        } else {
            Self::PerRequest
        }
    }

    /// The current-user object for a request the auth layer resolved to `owner`.
    pub fn bind(&self, owner: OwnerId) -> CurrentUser {
        match self {
            Self::PerRequest => CurrentUser::new(owner),
            Self::Shared(current) => {
                current.0.store(owner, Ordering::Relaxed);
                current.clone()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_request_objects_keep_their_owner_and_a_shared_one_takes_the_last_write() {
        let correct = RequestContexts::new(false);
        let (a, b) = (correct.bind(1), correct.bind(2));
        assert_eq!((a.owner(), b.owner()), (1, 2));
        let faulty = RequestContexts::new(true);
        let (a, b) = (faulty.bind(1), faulty.bind(2));
        assert_eq!((a.owner(), b.owner()), (2, 2));
    }
}
