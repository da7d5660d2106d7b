//! The account file: which server and user this installation is signed in
//! as. Plain JSON with nothing secret in it (the token is in a
//! [`crate::TokenStore`]). Its path is the caller's choice; the CLI uses
//! [`AccountFile::default_path`].

use std::path::{Path, PathBuf};

use qrlogin_core::{Origin, UserProfile};
use serde::{Deserialize, Serialize};

use crate::error::ClientError;

/// Environment variable that overrides the configuration directory.
pub const CONFIG_DIR_ENV: &str = "QRLOGIN_CONFIG_DIR";

/// Where the token of an account is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenStorage {
    /// The OS keyring.
    #[default]
    Keyring,
    /// A 0600 file beside the account file (`--insecure-storage`).
    File,
}

/// The signed-in account, as saved in the account file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub server: Origin,
    pub username: String,
    pub user: UserProfile,
    #[serde(default)]
    pub token_storage: TokenStorage,
}

/// The path of the account file, and its load/save/delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFile {
    path: PathBuf,
}

impl AccountFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The configuration directory: `$QRLOGIN_CONFIG_DIR`, else
    /// `<OS config dir>/qrlogin` (e.g. `~/.config/qrlogin` on Linux).
    pub fn config_dir() -> Result<PathBuf, ClientError> {
        if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
            return Ok(PathBuf::from(dir));
        }
        dirs::config_dir()
            .map(|d| d.join("qrlogin"))
            .ok_or_else(|| {
                ClientError::storage(
                    "find a configuration directory",
                    format!("no home directory; set {CONFIG_DIR_ENV}"),
                )
            })
    }

    /// `<config dir>/account.json`.
    pub fn default_path() -> Result<PathBuf, ClientError> {
        Ok(Self::config_dir()?.join("account.json"))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The insecure token file that goes with this account file
    /// (`tokens.json` in the same directory).
    pub fn insecure_token_path(&self) -> PathBuf {
        self.path.with_file_name("tokens.json")
    }

    pub fn load(&self) -> Result<Option<Account>, ClientError> {
        match std::fs::read(&self.path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                ClientError::storage(
                    format!(
                        "read the account file {} (delete it and sign in again)",
                        self.path.display()
                    ),
                    e,
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(ClientError::storage(
                format!("read the account file {}", self.path.display()),
                e,
            )),
        }
    }

    pub fn save(&self, account: &Account) -> Result<(), ClientError> {
        let fail = |e: &dyn std::fmt::Display| {
            ClientError::storage(format!("save {}", self.path.display()), e)
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
        }
        let json = serde_json::to_vec_pretty(account).map_err(|e| fail(&e))?;
        std::fs::write(&self.path, json).map_err(|e| fail(&e))
    }

    /// Deletes the file; succeeds when there is none.
    pub fn delete(&self) -> Result<(), ClientError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(ClientError::storage(
                format!("delete {}", self.path.display()),
                e,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> Account {
        Account {
            server: Origin::parse("http://127.0.0.1:8080").unwrap(),
            username: "alice".into(),
            user: UserProfile {
                id: "u1".into(),
                username: "alice".into(),
                display_name: "Alice Example".into(),
                avatar_url: None,
            },
            token_storage: TokenStorage::Keyring,
        }
    }

    #[test]
    fn account_file_round_trips_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let file = AccountFile::new(dir.path().join("nested/account.json"));
        assert_eq!(file.load().unwrap(), None);
        file.save(&account()).unwrap();
        assert_eq!(file.load().unwrap(), Some(account()));
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains("\"server\": \"http://127.0.0.1:8080\""));
        file.delete().unwrap();
        file.delete().unwrap();
        assert_eq!(file.load().unwrap(), None);
    }

    #[test]
    fn corrupt_account_file_is_a_storage_error_that_says_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        let file = AccountFile::new(dir.path().join("account.json"));
        std::fs::write(file.path(), "{not json").unwrap();
        let err = file.load().unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::Storage);
        assert!(err.to_string().contains("sign in again"));
    }
}
