//! Where the app session token lives between runs: the [`TokenStore`] trait
//! and its implementations.
//!
//! - [`KeyringStore`]: the OS keyring (Secret Service on Linux, Keychain on
//!   macOS, Credential Manager on Windows). The default.
//! - [`FileTokenStore`]: a file readable only by the user (mode 0600). Only
//!   with an explicit opt-in (`qrlogin --insecure-storage`), as `gh` does.
//! - [`MemoryTokenStore`]: for tests.
//! - [`SealedTokenStore`]: tokens encrypted under a key the platform keeps,
//!   in a file of the app's private directory; with
//!   `android::KeystoreCipher` (Android only) the Android app's store. On
//!   iOS the keyring crate's Keychain store ([`KeyringStore`]) is used.
//!
//! Tokens are keyed by server origin and user name. The calls block (the OS
//! keyring is reached over D-Bus or a system API): from async code, call them
//! through `tokio::task::spawn_blocking`, as [`crate::Session`] does.

#[cfg(target_os = "android")]
pub mod android;
mod file;
mod keyring;
pub mod sealed;

use std::collections::HashMap;
use std::sync::Mutex;

use qrlogin_core::{Origin, SessionToken};

pub use self::file::FileTokenStore;
pub use self::keyring::KeyringStore;
pub use self::sealed::SealedTokenStore;
use crate::error::ClientError;

/// Keeps one session token per (server origin, user name).
pub trait TokenStore: Send + Sync + std::fmt::Debug {
    /// The token saved for this account, if any.
    fn load(&self, server: &Origin, username: &str) -> Result<Option<SessionToken>, ClientError>;
    /// Saves (or replaces) the token for this account.
    fn save(
        &self,
        server: &Origin,
        username: &str,
        token: &SessionToken,
    ) -> Result<(), ClientError>;
    /// Deletes the token for this account; succeeds when there is none.
    fn delete(&self, server: &Origin, username: &str) -> Result<(), ClientError>;
    /// Where tokens go, in words ("the OS keyring", "the file …").
    fn describe(&self) -> String;
}

/// Tokens in process memory: for tests, and for an app that must not persist.
#[derive(Debug, Default)]
pub struct MemoryTokenStore {
    tokens: Mutex<HashMap<(String, String), String>>,
}

impl MemoryTokenStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// How many tokens are held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(String, String), String>> {
        // A panic while holding this lock cannot leave the map half-updated
        // (every operation is a single insert/remove), so poisoning is ignored.
        self.tokens.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn key(server: &Origin, username: &str) -> (String, String) {
    (server.to_string(), username.to_string())
}

impl TokenStore for MemoryTokenStore {
    fn load(&self, server: &Origin, username: &str) -> Result<Option<SessionToken>, ClientError> {
        self.lock()
            .get(&key(server, username))
            .map(|t| SessionToken::parse(t))
            .transpose()
            .map_err(|e| ClientError::storage("read the saved token", e))
    }

    fn save(
        &self,
        server: &Origin,
        username: &str,
        token: &SessionToken,
    ) -> Result<(), ClientError> {
        self.lock()
            .insert(key(server, username), token.expose().to_string());
        Ok(())
    }

    fn delete(&self, server: &Origin, username: &str) -> Result<(), ClientError> {
        self.lock().remove(&key(server, username));
        Ok(())
    }

    fn describe(&self) -> String {
        "memory (not kept after exit)".into()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The behaviour every store must have; run against each implementation.
    pub(crate) fn store_contract(store: &dyn TokenStore) {
        let a = Origin::parse("https://login.example.com").unwrap();
        let b = Origin::parse("http://127.0.0.1:8080").unwrap();
        let t1 = SessionToken::from_random_bytes([1; 32]);
        let t2 = SessionToken::from_random_bytes([2; 32]);

        assert_eq!(store.load(&a, "alice").unwrap(), None);
        store.delete(&a, "alice").unwrap();

        store.save(&a, "alice", &t1).unwrap();
        store.save(&b, "alice", &t2).unwrap();
        assert_eq!(store.load(&a, "alice").unwrap(), Some(t1.clone()));
        assert_eq!(store.load(&b, "alice").unwrap(), Some(t2.clone()));
        assert_eq!(store.load(&a, "bob").unwrap(), None);

        store.save(&a, "alice", &t2).unwrap();
        assert_eq!(store.load(&a, "alice").unwrap(), Some(t2.clone()));

        store.delete(&a, "alice").unwrap();
        assert_eq!(store.load(&a, "alice").unwrap(), None);
        assert_eq!(store.load(&b, "alice").unwrap(), Some(t2));
        store.delete(&b, "alice").unwrap();
    }

    #[test]
    fn memory_store_keeps_tokens_per_server_and_user() {
        let store = MemoryTokenStore::new();
        store_contract(&store);
        assert!(store.is_empty());
    }
}
