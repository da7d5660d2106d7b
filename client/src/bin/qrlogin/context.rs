//! [`Context`]: what every subcommand shares — where the account file is,
//! which token store an account uses, and the saved session. The command
//! modules (`commands`, `manage`, `scan`) each depend on this and not on
//! one another.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Result;
use qrlogin_client::{
    AccountFile, ClientError, FileTokenStore, KeyringStore, Session, TokenStorage, TokenStore,
};

pub struct Context {
    pub account_file: AccountFile,
    /// `--insecure-storage`: a new sign-in keeps its token in a 0600 file.
    pub insecure_storage: bool,
}

impl Context {
    /// `config_dir`: `--config-dir` (default: the OS config directory +
    /// /qrlogin).
    pub fn new(config_dir: Option<PathBuf>, insecure_storage: bool) -> Result<Self> {
        let path = match config_dir {
            Some(dir) => dir.join("account.json"),
            None => AccountFile::default_path()?,
        };
        Ok(Self {
            account_file: AccountFile::new(path),
            insecure_storage,
        })
    }

    /// The token store for an account kept in `storage`.
    pub fn store(&self, storage: TokenStorage) -> Arc<dyn TokenStore> {
        match storage {
            TokenStorage::Keyring => Arc::new(KeyringStore::new()),
            TokenStorage::File => {
                Arc::new(FileTokenStore::new(self.account_file.insecure_token_path()))
            }
        }
    }

    /// The saved session, or `NotSignedIn`.
    pub async fn session(&self) -> Result<Session> {
        let storage = self
            .account_file
            .load()?
            .map(|a| a.token_storage)
            .ok_or(ClientError::NotSignedIn)?;
        Session::restore(self.account_file.clone(), self.store(storage))
            .await?
            .ok_or_else(|| ClientError::NotSignedIn.into())
    }
}
