//! Session tokens seen during the run, by owner: one token issued to two users is a finding of its
//! own. Tokens are kept as keyed hashes, never as text, so the registry holds no credential.

use crate::population::OwnerId;
use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::Mutex;

#[derive(Default)]
pub struct TokenRegistry {
    keys: RandomState,
    owners: Mutex<HashMap<u64, OwnerId>>,
}

impl TokenRegistry {
    /// Records that `owner` was given `token`; returns the other owner it was already given to.
    pub fn issue(&self, token: &str, owner: OwnerId) -> Option<OwnerId> {
        let key = self.keys.hash_one(token);
        let mut owners = self.owners.lock().unwrap_or_else(|e| e.into_inner());
        match owners.insert(key, owner) {
            Some(previous) if previous != owner => Some(previous),
            _ => None,
        }
    }
}

/// The value of cookie `name` in a `Cookie` header value (`a=1; name=value`).
pub fn cookie_value(header: &str, name: &str) -> Option<String> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        (key == name).then(|| value.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_seen_for_two_owners_is_reported_with_the_first() {
        let registry = TokenRegistry::default();
        assert_eq!(registry.issue("abc", 1), None);
        assert_eq!(registry.issue("abc", 1), None, "same owner again is fine");
        assert_eq!(registry.issue("def", 2), None);
        assert_eq!(registry.issue("abc", 3), Some(1));
    }

    #[test]
    fn cookie_values_are_read_by_name() {
        assert_eq!(
            cookie_value("theme=dark; crossleak_session=0a1b", "crossleak_session"),
            Some("0a1b".into())
        );
        assert_eq!(cookie_value("theme=dark", "crossleak_session"), None);
    }
}
