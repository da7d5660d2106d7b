//! [`SealedTokenStore`]: tokens encrypted under a key that never leaves the
//! platform's key store, the ciphertexts kept in a 0600 file of the app's
//! private data directory. The Android app uses it with the Android Keystore
//! ([`super::android::KeystoreCipher`]); everything here but that cipher is
//! plain Rust, compiled and tested on every platform:
//!
//! - the stored blob: `v1.<iv>.<ciphertext and tag>` (base64url), one per
//!   account in the file's JSON map, sealed with the account
//!   (`<user> <server>`) as associated data, so a blob copied to another
//!   account's entry does not open;
//! - the error mapping ([`classify_exception`]): which failures of the
//!   platform mean "the key is gone" and which are plain failures;
//! - what a lost key does: the unreadable entry is deleted and loading
//!   answers [`ClientError::TokenKeyLost`] ("signed out here, sign in
//!   again"), whose kind is `signed_out`, so the app shows the sign-in
//!   screen with that message; the next sign-in creates a new key.

use std::path::{Path, PathBuf};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrlogin_core::{Origin, SessionToken};

use super::TokenStore;
use super::file::{FileTokenStore, read_map, write_map};
use crate::error::ClientError;

/// Encrypts with a key held by the platform (created on first use).
pub trait TokenCipher: Send + Sync + std::fmt::Debug {
    /// AES-GCM (or alike) under the platform key, with `aad` as associated
    /// data; creates the key when there is none.
    fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, CipherError>;
    /// The plaintext of `sealed`, or [`CipherError::KeyLost`] when the key
    /// that sealed it is gone or was replaced.
    fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, CipherError>;
    /// Where the key lives, in words ("the Android Keystore").
    fn describe(&self) -> String;
}

/// A ciphertext and the nonce it was sealed with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sealed {
    pub iv: Vec<u8>,
    /// The ciphertext with the authentication tag appended.
    pub ciphertext: Vec<u8>,
}

/// Why the platform cipher failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CipherError {
    /// The key is gone (deleted, invalidated by a change of screen lock,
    /// app data cleared) or is not the one that sealed the blob.
    #[error("the key is gone: {0}")]
    KeyLost(String),
    #[error("{0}")]
    Failed(String),
}

const BLOB_VERSION: &str = "v1";

impl Sealed {
    /// `v1.<iv>.<ciphertext>`, base64url without padding.
    pub fn encode(&self) -> String {
        format!(
            "{BLOB_VERSION}.{}.{}",
            URL_SAFE_NO_PAD.encode(&self.iv),
            URL_SAFE_NO_PAD.encode(&self.ciphertext)
        )
    }

    pub fn decode(text: &str) -> Result<Self, String> {
        let mut parts = text.split('.');
        let (Some(version), Some(iv), Some(ciphertext), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err("not a sealed token (expected v1.<iv>.<ciphertext>)".into());
        };
        if version != BLOB_VERSION {
            return Err(format!("sealed token version {version:?} is not known"));
        }
        let field = |name: &str, value: &str| {
            URL_SAFE_NO_PAD
                .decode(value)
                .map_err(|e| format!("sealed token {name}: {e}"))
                .and_then(|bytes| {
                    if bytes.is_empty() {
                        Err(format!("sealed token {name} is empty"))
                    } else {
                        Ok(bytes)
                    }
                })
        };
        Ok(Self {
            iv: field("iv", iv)?,
            ciphertext: field("ciphertext", ciphertext)?,
        })
    }
}

/// Which Java exceptions of the Keystore and `Cipher` APIs mean that the
/// key is gone (or is not the one that sealed the blob); every other one is
/// a plain failure.
pub fn classify_exception(class_name: &str, message: &str) -> CipherError {
    const KEY_LOST: &[&str] = &[
        // The screen lock was removed or changed, or biometrics re-enrolled.
        "android.security.keystore.KeyPermanentlyInvalidatedException",
        // The key entry exists but cannot be read any more.
        "java.security.UnrecoverableKeyException",
        // The tag does not verify: a new key replaced the one that sealed it.
        "javax.crypto.AEADBadTagException",
    ];
    let detail = if message.is_empty() {
        class_name.to_owned()
    } else {
        format!("{class_name}: {message}")
    };
    if KEY_LOST.contains(&class_name) {
        CipherError::KeyLost(detail)
    } else {
        CipherError::Failed(detail)
    }
}

/// Tokens sealed by a [`TokenCipher`], kept in a 0600 JSON file.
#[derive(Debug)]
pub struct SealedTokenStore<C> {
    path: PathBuf,
    cipher: C,
}

impl<C: TokenCipher> SealedTokenStore<C> {
    /// `path`: a file in the app's private data directory.
    pub fn new(path: impl Into<PathBuf>, cipher: C) -> Self {
        Self {
            path: path.into(),
            cipher,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn failed(&self, action: &str, e: impl std::fmt::Display) -> ClientError {
        ClientError::storage(format!("{action} ({})", self.cipher.describe()), e)
    }
}

impl<C: TokenCipher> TokenStore for SealedTokenStore<C> {
    fn load(&self, server: &Origin, username: &str) -> Result<Option<SessionToken>, ClientError> {
        let key = FileTokenStore::key(server, username);
        let mut map = read_map(&self.path)?;
        let Some(text) = map.get(&key) else {
            return Ok(None);
        };
        let sealed =
            Sealed::decode(text).map_err(|e| self.failed("read the saved sign-in token", e))?;
        match self.cipher.open(key.as_bytes(), &sealed) {
            Ok(plain) => {
                let text = String::from_utf8(plain)
                    .map_err(|e| self.failed("read the saved sign-in token", e))?;
                SessionToken::parse(&text)
                    .map(Some)
                    .map_err(|e| self.failed("read the saved sign-in token", e))
            }
            Err(CipherError::KeyLost(detail)) => {
                // Nothing can ever open this blob again: forget it, so the
                // next start is plainly signed out.
                map.remove(&key);
                write_map(&self.path, &map)?;
                Err(ClientError::TokenKeyLost {
                    server: server.to_string(),
                    detail,
                })
            }
            Err(CipherError::Failed(detail)) => {
                Err(self.failed("decrypt the saved sign-in token", detail))
            }
        }
    }

    fn save(
        &self,
        server: &Origin,
        username: &str,
        token: &SessionToken,
    ) -> Result<(), ClientError> {
        let key = FileTokenStore::key(server, username);
        let sealed = self
            .cipher
            .seal(key.as_bytes(), token.expose().as_bytes())
            .map_err(|e| self.failed("encrypt the sign-in token", e))?;
        let mut map = read_map(&self.path)?;
        map.insert(key, sealed.encode());
        write_map(&self.path, &map)
    }

    fn delete(&self, server: &Origin, username: &str) -> Result<(), ClientError> {
        let mut map = read_map(&self.path)?;
        if map.remove(&FileTokenStore::key(server, username)).is_some() {
            write_map(&self.path, &map)?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!(
            "{}, encrypted under a key in {}",
            self.path.display(),
            self.cipher.describe()
        )
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A stand-in for the platform: a one-byte "key" that can be wiped or
    /// replaced, XOR as the cipher, the associated data and the key as the
    /// "tag". Enough to drive every path of the store.
    #[derive(Debug, Default)]
    struct FakeKeystore {
        key: Mutex<Option<u8>>,
        next_key: Mutex<u8>,
    }

    impl FakeKeystore {
        fn wipe(&self) {
            *self.key.lock().unwrap() = None;
        }
        fn tag(key: u8, aad: &[u8]) -> Vec<u8> {
            let mut tag = vec![key];
            tag.extend_from_slice(aad);
            tag
        }
    }

    impl TokenCipher for &FakeKeystore {
        fn seal(&self, aad: &[u8], plaintext: &[u8]) -> Result<Sealed, CipherError> {
            let mut key = self.key.lock().unwrap();
            let k = *key.get_or_insert_with(|| {
                let mut next = self.next_key.lock().unwrap();
                *next += 1;
                *next
            });
            let mut ciphertext: Vec<u8> = plaintext.iter().map(|b| b ^ k).collect();
            ciphertext.extend(FakeKeystore::tag(k, aad));
            Ok(Sealed {
                iv: vec![7; 12],
                ciphertext,
            })
        }

        fn open(&self, aad: &[u8], sealed: &Sealed) -> Result<Vec<u8>, CipherError> {
            let Some(k) = *self.key.lock().unwrap() else {
                return Err(CipherError::KeyLost("no key".into()));
            };
            let tag = FakeKeystore::tag(k, aad);
            let Some(body) = sealed.ciphertext.strip_suffix(tag.as_slice()) else {
                return Err(classify_exception("javax.crypto.AEADBadTagException", ""));
            };
            Ok(body.iter().map(|b| b ^ k).collect())
        }

        fn describe(&self) -> String {
            "a fake keystore".into()
        }
    }

    fn origin() -> Origin {
        Origin::parse("https://login.example.com").unwrap()
    }

    #[test]
    fn keeps_tokens_per_server_and_user_like_every_store() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = FakeKeystore::default();
        let store = SealedTokenStore::new(dir.path().join("tokens.sealed"), &keystore);
        crate::store::tests::store_contract(&store);
        assert!(!store.path().exists(), "the last delete removes the file");
    }

    #[test]
    fn the_file_holds_no_token_in_clear() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = FakeKeystore::default();
        let store = SealedTokenStore::new(dir.path().join("tokens.sealed"), &keystore);
        let token = SessionToken::from_random_bytes([9; 32]);
        store.save(&origin(), "alice", &token).unwrap();
        let file = std::fs::read_to_string(store.path()).unwrap();
        assert!(!file.contains(token.expose()), "{file}");
        assert!(
            file.contains("\"alice https://login.example.com\": \"v1."),
            "{file}"
        );
    }

    #[test]
    fn a_wiped_key_signs_out_with_a_clear_error_and_forgets_the_blob() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = FakeKeystore::default();
        let store = SealedTokenStore::new(dir.path().join("tokens.sealed"), &keystore);
        store
            .save(
                &origin(),
                "alice",
                &SessionToken::from_random_bytes([1; 32]),
            )
            .unwrap();
        keystore.wipe();
        let err = store.load(&origin(), "alice").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::SignedOut, "{err}");
        assert!(err.to_string().contains("Sign in again"), "{err}");
        // Forgotten: the next start is simply signed out.
        assert_eq!(store.load(&origin(), "alice").unwrap(), None);
        // And signing in again works under a new key.
        let token = SessionToken::from_random_bytes([2; 32]);
        store.save(&origin(), "alice", &token).unwrap();
        assert_eq!(store.load(&origin(), "alice").unwrap(), Some(token));
    }

    #[test]
    fn a_blob_sealed_under_a_replaced_key_counts_as_a_lost_key() {
        let dir = tempfile::tempdir().unwrap();
        let keystore = FakeKeystore::default();
        let store = SealedTokenStore::new(dir.path().join("tokens.sealed"), &keystore);
        store
            .save(
                &origin(),
                "alice",
                &SessionToken::from_random_bytes([1; 32]),
            )
            .unwrap();
        keystore.wipe();
        // Another account's save creates a new key; alice's blob is from the old one.
        store
            .save(&origin(), "bob", &SessionToken::from_random_bytes([3; 32]))
            .unwrap();
        let err = store.load(&origin(), "alice").unwrap_err();
        assert!(matches!(err, ClientError::TokenKeyLost { .. }), "{err:?}");
        assert!(store.load(&origin(), "bob").unwrap().is_some());
    }

    #[test]
    fn a_blob_moved_to_another_account_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.sealed");
        let keystore = FakeKeystore::default();
        let store = SealedTokenStore::new(&path, &keystore);
        store
            .save(
                &origin(),
                "alice",
                &SessionToken::from_random_bytes([1; 32]),
            )
            .unwrap();
        let file = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, file.replace("alice ", "mallory ")).unwrap();
        assert!(store.load(&origin(), "mallory").is_err());
    }

    #[test]
    fn a_damaged_file_is_a_storage_error_not_a_sign_out() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.sealed");
        std::fs::write(&path, r#"{"alice https://login.example.com": "v1.@@.@@"}"#).unwrap();
        let keystore = FakeKeystore::default();
        let err = SealedTokenStore::new(&path, &keystore)
            .load(&origin(), "alice")
            .unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Storage, "{err}");
    }

    #[test]
    fn blobs_round_trip_and_bad_ones_say_why() {
        let sealed = Sealed {
            iv: vec![1; 12],
            ciphertext: vec![2; 48],
        };
        assert_eq!(Sealed::decode(&sealed.encode()).unwrap(), sealed);
        for (bad, why) in [
            ("", "not a sealed token"),
            ("v1.AQ", "not a sealed token"),
            ("v1.AQ.AQ.AQ", "not a sealed token"),
            ("v2.AQ.AQ", "version \"v2\""),
            ("v1.!!.AQ", "iv"),
            ("v1.AQ.", "ciphertext is empty"),
        ] {
            let err = Sealed::decode(bad).unwrap_err();
            assert!(err.contains(why), "{bad}: {err}");
        }
    }

    #[test]
    fn only_a_gone_or_replaced_key_counts_as_lost() {
        for lost in [
            "android.security.keystore.KeyPermanentlyInvalidatedException",
            "java.security.UnrecoverableKeyException",
            "javax.crypto.AEADBadTagException",
        ] {
            assert!(
                matches!(classify_exception(lost, "x"), CipherError::KeyLost(_)),
                "{lost}"
            );
        }
        for failed in [
            "java.security.KeyStoreException",
            "java.security.ProviderException",
            "javax.crypto.IllegalBlockSizeException",
        ] {
            assert_eq!(
                classify_exception(failed, "busy"),
                CipherError::Failed(format!("{failed}: busy"))
            );
        }
    }
}
