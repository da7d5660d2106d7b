//! [`KeyringStore`]: tokens in the OS keyring via the `keyring` crate (3.x):
//! Secret Service on Linux (pure-Rust crypto, talking D-Bus through libdbus),
//! Keychain on macOS, Credential Manager on Windows. The Linux kernel keyring
//! (keyutils) is deliberately not used: it does not persist across logins and
//! is refused on many machines.

use qrlogin_core::{Origin, SessionToken};

use super::TokenStore;
use crate::error::ClientError;

/// The OS keyring. Entries: service `qrlogin <origin>`, user = user name.
#[derive(Debug, Default, Clone, Copy)]
pub struct KeyringStore;

impl KeyringStore {
    pub fn new() -> Self {
        Self
    }

    fn entry(server: &Origin, username: &str) -> Result<keyring::Entry, ClientError> {
        keyring::Entry::new(&format!("qrlogin {server}"), username).map_err(map_err)
    }
}

/// Platform failures (no Secret Service on the bus, keyring locked, no
/// session bus at all) mean "no keyring here": the caller says how to fix it.
fn map_err(e: keyring::Error) -> ClientError {
    match e {
        keyring::Error::PlatformFailure(inner) => ClientError::KeyringUnavailable {
            detail: inner.to_string(),
        },
        keyring::Error::NoStorageAccess(inner) => ClientError::KeyringUnavailable {
            detail: format!("access denied: {inner}"),
        },
        other => ClientError::storage("use the OS keyring", other),
    }
}

impl TokenStore for KeyringStore {
    fn load(&self, server: &Origin, username: &str) -> Result<Option<SessionToken>, ClientError> {
        match Self::entry(server, username)?.get_password() {
            Ok(text) => SessionToken::parse(&text)
                .map(Some)
                .map_err(|e| ClientError::storage("read the token from the OS keyring", e)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    }

    fn save(
        &self,
        server: &Origin,
        username: &str,
        token: &SessionToken,
    ) -> Result<(), ClientError> {
        Self::entry(server, username)?
            .set_password(token.expose())
            .map_err(map_err)
    }

    fn delete(&self, server: &Origin, username: &str) -> Result<(), ClientError> {
        match Self::entry(server, username)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_err(e)),
        }
    }

    fn describe(&self) -> String {
        "the OS keyring".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs against the real Secret Service when one is reachable (CI runs
    /// the tests inside `scripts/with-keyring`); elsewhere it proves that the
    /// failure is reported as `keyring_unavailable`.
    #[test]
    fn keyring_store_keeps_tokens_or_says_the_keyring_is_unavailable() {
        let probe = Origin::parse("http://127.0.0.1:1").unwrap();
        match KeyringStore.load(&probe, "probe") {
            Ok(_) => super::super::tests::store_contract(&KeyringStore),
            Err(e) => {
                assert!(
                    std::env::var_os("QRLOGIN_IN_KEYRING_SESSION").is_none(),
                    "inside scripts/with-keyring the keyring must work: {e}"
                );
                assert_eq!(e.kind(), crate::ErrorKind::KeyringUnavailable, "{e}");
            }
        }
    }
}
