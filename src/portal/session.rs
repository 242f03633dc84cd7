//! Server-side sessions: an unguessable token in the `crossleak_session` cookie maps to one owner.
//! Tokens come from an OS-seeded CSPRNG; the store is sharded so thousands of users never queue on one lock.
//!
//! Two faults live here, each a [`SessionPolicy`] switch: `weak-session-id` (tokens derived from
//! the login time in milliseconds, stored by overwriting) and `stale-session` (sessions never
//! revoked, on logout or on password change).

use crate::population::OwnerId;
use axum::http::{header, HeaderMap};
use rand::RngCore;
use std::collections::HashMap;
use std::fmt;
use std::sync::{PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

/// The cookie that carries the session token.
pub const COOKIE_NAME: &str = "crossleak_session";

/// Number of independently locked maps; a token's first byte picks its shard.
const SHARDS: usize = 64;

/// 32 random bytes, written as 64 lowercase hex characters in the cookie.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SessionToken([u8; 32]);

impl SessionToken {
    /// A fresh token from `rand`'s thread-local CSPRNG (ChaCha12, seeded and reseeded from the OS).
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        Self(bytes)
    }

    pub fn to_hex(self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for byte in self.0 {
            out.push(char::from(DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
        }
        out
    }

    /// The `weak-session-id` fault: 32 bytes expanded from the login time in milliseconds, what
    /// `md5(Date.now())` amounts to. They look random, but every login in the same millisecond
    /// gets the same token, and anyone who knows roughly when a login happened can list them.
    pub fn from_login_time(millis: u64) -> Self {
        let mut bytes = [0u8; 32];
        let mut state = millis;
        for chunk in bytes.chunks_exact_mut(8) {
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            chunk.copy_from_slice(&mix(state).to_le_bytes());
        }
        Self(bytes)
    }

    /// Reads a token back from its cookie value; anything but 64 lowercase hex digits is `None`.
    pub fn from_hex(text: &str) -> Option<Self> {
        fn nibble(c: u8) -> Option<u8> {
            match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'a'..=b'f' => Some(c - b'a' + 10),
                _ => None,
            }
        }
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
            *byte = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(Self(bytes))
    }

    /// The first session token in the request's `Cookie` headers, if any is well formed.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == COOKIE_NAME)
            .find_map(|(_, value)| Self::from_hex(value.trim()))
    }

    /// The `Set-Cookie` value that hands this token to the browser.
    pub fn set_cookie(self) -> String {
        format!(
            "{COOKIE_NAME}={}; HttpOnly; Path=/; SameSite=Lax",
            self.to_hex()
        )
    }

    /// The `Set-Cookie` value that makes the browser drop its session cookie.
    pub fn expired_cookie() -> String {
        format!("{COOKIE_NAME}=; HttpOnly; Path=/; SameSite=Lax; Max-Age=0")
    }

    fn shard(self) -> usize {
        usize::from(self.0[0]) % SHARDS
    }
}

impl fmt::Debug for SessionToken {
    /// Never prints the secret: only enough to tell two tokens apart in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionToken({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// How the store issues and ends sessions. The default is correct; each `false` is a fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Tokens from the CSPRNG, never reusing a live one. `false`: the `weak-session-id` fault.
    pub random_tokens: bool,
    /// Logout and password change delete sessions. `false`: the `stale-session` fault.
    pub revoke: bool,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            random_tokens: true,
            revoke: true,
        }
    }
}

/// Every open session: token → owner, in [`SHARDS`] maps each behind its own lock.
pub struct Sessions {
    shards: Vec<RwLock<HashMap<SessionToken, OwnerId>>>,
    policy: SessionPolicy,
}

impl Default for Sessions {
    fn default() -> Self {
        Self::new(SessionPolicy::default())
    }
}

impl Sessions {
    pub fn new(policy: SessionPolicy) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| RwLock::default()).collect(),
            policy,
        }
    }

    /// Opens a session for `owner` under a fresh token.
    pub fn open(&self, owner: OwnerId) -> SessionToken {
        if !self.policy.random_tokens {
            // The fault: the token is a function of the clock, and the store's insert replaces
            // whatever session had it, as a plain `SET token owner` in a key-value store does.
            let millis = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| since.as_millis() as u64);
            let token = SessionToken::from_login_time(millis);
            self.shards[token.shard()]
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .insert(token, owner);
            return token;
        }
        loop {
            let token = SessionToken::generate();
            let mut shard = self.shards[token.shard()]
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            // A collision of 256 random bits does not happen; if it did, the old owner keeps theirs.
            if let std::collections::hash_map::Entry::Vacant(slot) = shard.entry(token) {
                slot.insert(owner);
                return token;
            }
        }
    }

    /// The owner of an open session.
    pub fn owner(&self, token: &SessionToken) -> Option<OwnerId> {
        self.shards[token.shard()]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .copied()
    }

    /// Closes a session; returns whose it was. Under `stale-session`, nothing is closed.
    pub fn close(&self, token: &SessionToken) -> Option<OwnerId> {
        if !self.policy.revoke {
            return None;
        }
        self.shards[token.shard()]
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(token)
    }

    /// Closes every session of `owner` but `keep` (after a password change). Walks every shard:
    /// rare writes pay for it so that the hot path stays one map lookup.
    pub fn close_others(&self, owner: OwnerId, keep: &SessionToken) {
        if !self.policy.revoke {
            return;
        }
        for shard in &self.shards {
            shard
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|token, held| *held != owner || token == keep);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn token_round_trips_through_hex_and_rejects_anything_else() {
        let token = SessionToken::generate();
        let hex = token.to_hex();
        assert_eq!(hex.len(), 64);
        assert_eq!(SessionToken::from_hex(&hex), Some(token));
        assert_eq!(SessionToken::from_hex(&hex.to_uppercase()), None);
        assert_eq!(SessionToken::from_hex(&hex[..63]), None);
        assert_eq!(SessionToken::from_hex(&format!("{}g", &hex[..63])), None);
        assert_eq!(SessionToken::from_hex("é"), None);
    }

    #[test]
    fn generated_tokens_differ() {
        let tokens: std::collections::HashSet<_> =
            (0..1000).map(|_| SessionToken::generate()).collect();
        assert_eq!(tokens.len(), 1000);
    }

    #[test]
    fn token_is_read_from_a_cookie_header_among_others() {
        let token = SessionToken::generate();
        let mut headers = HeaderMap::new();
        let cookie = format!("theme=dark; {COOKIE_NAME}={}; lang=fr", token.to_hex());
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&cookie).expect("ascii"),
        );
        assert_eq!(SessionToken::from_headers(&headers), Some(token));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("crossleak_session=nothex"),
        );
        assert_eq!(SessionToken::from_headers(&headers), None);
    }

    #[test]
    fn close_others_keeps_only_the_current_session_of_that_owner() {
        let sessions = Sessions::default();
        let current = sessions.open(1);
        let other = sessions.open(1);
        let someone_else = sessions.open(2);
        sessions.close_others(1, &current);
        assert_eq!(sessions.owner(&current), Some(1));
        assert_eq!(sessions.owner(&other), None);
        assert_eq!(sessions.owner(&someone_else), Some(2));
        assert_eq!(sessions.close(&current), Some(1));
        assert_eq!(sessions.owner(&current), None);
    }

    #[test]
    fn login_time_tokens_are_equal_within_a_millisecond_and_differ_across() {
        let token = SessionToken::from_login_time(1_760_000_000_123);
        assert_eq!(token, SessionToken::from_login_time(1_760_000_000_123));
        assert_ne!(token, SessionToken::from_login_time(1_760_000_000_124));
        assert_eq!(SessionToken::from_hex(&token.to_hex()), Some(token));
    }

    #[test]
    fn weak_tokens_let_the_later_login_of_a_millisecond_take_the_earlier_session() {
        let sessions = Sessions::new(SessionPolicy {
            random_tokens: false,
            ..SessionPolicy::default()
        });
        // Bounded: on a busy machine one pair may straddle a millisecond, a hundred will not all.
        let collided = (0..100).any(|_| {
            let earlier = sessions.open(1);
            let later = sessions.open(2);
            earlier == later && sessions.owner(&earlier) == Some(2)
        });
        assert!(collided, "no two logins fell in the same millisecond");
        let correct = Sessions::default();
        for _ in 0..100 {
            let earlier = correct.open(1);
            correct.open(2);
            assert_eq!(correct.owner(&earlier), Some(1));
        }
    }

    #[test]
    fn without_revocation_logout_and_password_change_close_nothing() {
        let sessions = Sessions::new(SessionPolicy {
            revoke: false,
            ..SessionPolicy::default()
        });
        let current = sessions.open(1);
        let other = sessions.open(1);
        sessions.close_others(1, &current);
        assert_eq!(sessions.owner(&other), Some(1));
        assert_eq!(sessions.close(&current), None);
        assert_eq!(sessions.owner(&current), Some(1));
    }
}
