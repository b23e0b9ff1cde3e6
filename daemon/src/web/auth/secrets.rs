//! The secrets behind a login: argon2id password hashes, random session
//! and API tokens stored as their SHA-256, constant-time comparison, and
//! the limit on failed logins.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A new random secret, URL-safe.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// What is stored for a session or API token: its SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An argon2id hash of `password` with a fresh salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the PHC string `hash`.
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash)
        .map(|parsed| {
            Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Checked against when the user does not exist, so that answering takes as
/// long as for a wrong password.
pub(super) static DUMMY_HASH: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| hash_password("not a password").unwrap_or_default());

/// The rules a password must meet.
pub fn password_problem(password: &str) -> Option<&'static str> {
    if password.chars().count() < 10 {
        Some("a password needs at least 10 characters")
    } else {
        None
    }
}

/// Failed logins by user name and by client address: after `MAX` failures
/// within `WINDOW`, further attempts are refused until the window passes.
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginLimiter {
    const MAX_PER_USER: u32 = 5;
    const MAX_PER_SOURCE: u32 = 20;
    const WINDOW: Duration = Duration::from_secs(15 * 60);

    pub fn new() -> LoginLimiter {
        LoginLimiter {
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn keys(user: &str, source: &str) -> [(String, u32); 2] {
        [
            (format!("user:{}", user.to_lowercase()), Self::MAX_PER_USER),
            (format!("source:{source}"), Self::MAX_PER_SOURCE),
        ]
    }

    /// How long until another attempt is allowed, if it is not now.
    pub fn blocked_for(&self, user: &str, source: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.retain(|_, (_, since)| now.duration_since(*since) < Self::WINDOW);
        Self::keys(user, source)
            .iter()
            .filter_map(|(key, max)| match failures.get(key) {
                Some((n, since)) if n >= max => {
                    Some(Self::WINDOW.saturating_sub(now.duration_since(*since)))
                }
                _ => None,
            })
            .max()
    }

    pub fn failed(&self, user: &str, source: &str) {
        let now = Instant::now();
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        for (key, _) in Self::keys(user, source) {
            let entry = failures.entry(key).or_insert((0, now));
            entry.0 += 1;
        }
    }

    pub fn succeeded(&self, user: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        failures.remove(&format!("user:{}", user.to_lowercase()));
    }
}

impl Default for LoginLimiter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_hash_verifies_only_its_password() {
        let hash = hash_password("correct horse battery").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("correct horse batterY", &hash));
        assert!(!verify_password("anything", "not a hash"));
    }

    #[test]
    fn the_limiter_blocks_after_five_failures_for_one_user() {
        let limiter = LoginLimiter::new();
        for _ in 0..5 {
            assert!(limiter.blocked_for("ann", "10.0.0.1").is_none());
            limiter.failed("Ann", "10.0.0.1");
        }
        assert!(limiter.blocked_for("ann", "10.0.0.2").is_some());
        assert!(limiter.blocked_for("bob", "10.0.0.2").is_none());
        limiter.succeeded("ann");
        assert!(limiter.blocked_for("ann", "10.0.0.2").is_none());
    }
}
