//! [`FileTokenStore`]: tokens in a JSON file readable only by the user (mode
//! 0600 on Unix). Used only when the person asks for it explicitly
//! (`--insecure-storage`): anyone who can read the file can use the token.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use qrlogin_core::{Origin, SessionToken};

use super::TokenStore;
use crate::error::ClientError;

#[derive(Debug, Clone)]
pub struct FileTokenStore {
    path: PathBuf,
}

pub(crate) type Tokens = BTreeMap<String, String>;

impl FileTokenStore {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn key(server: &Origin, username: &str) -> String {
        format!("{username} {server}")
    }

    fn read(&self) -> Result<Tokens, ClientError> {
        read_map(&self.path)
    }

    fn write(&self, tokens: &Tokens) -> Result<(), ClientError> {
        write_map(&self.path, tokens)
    }
}

/// The JSON map (account key → text) in the file at `path`; empty when
/// there is no file.
pub(crate) fn read_map(path: &Path) -> Result<Tokens, ClientError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            ClientError::storage(format!("read the token file {}", path.display()), e)
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Tokens::new()),
        Err(e) => Err(ClientError::storage(
            format!("read the token file {}", path.display()),
            e,
        )),
    }
}

/// Writes the map to `path` as a fresh 0600 file (removes it when empty).
pub(crate) fn write_map(path: &Path, tokens: &Tokens) -> Result<(), ClientError> {
    let fail = |e: &dyn std::fmt::Display| {
        ClientError::storage(format!("write the token file {}", path.display()), e)
    };
    if tokens.is_empty() {
        return match std::fs::remove_file(path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(fail(&e)),
        };
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| fail(&e))?;
    }
    let json = serde_json::to_vec_pretty(tokens).map_err(|e| fail(&e))?;
    // Write a fresh 0600 file beside the target, then rename over it, so
    // the token is never in a file anyone else could read, even briefly.
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp).map_err(|e| fail(&e))?;
    file.write_all(&json).map_err(|e| fail(&e))?;
    file.sync_all().map_err(|e| fail(&e))?;
    std::fs::rename(&tmp, path).map_err(|e| fail(&e))
}

impl TokenStore for FileTokenStore {
    fn load(&self, server: &Origin, username: &str) -> Result<Option<SessionToken>, ClientError> {
        self.read()?
            .get(&Self::key(server, username))
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
        let mut tokens = self.read()?;
        tokens.insert(Self::key(server, username), token.expose().to_string());
        self.write(&tokens)
    }

    fn delete(&self, server: &Origin, username: &str) -> Result<(), ClientError> {
        let mut tokens = self.read()?;
        if tokens.remove(&Self::key(server, username)).is_some() {
            self.write(&tokens)?;
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("the file {} (insecure storage)", self.path.display())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_store_keeps_tokens_and_removes_the_file_when_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("sub/tokens.json"));
        super::super::tests::store_contract(&store);
        assert!(!store.path().exists());
    }

    #[cfg(unix)]
    #[test]
    fn token_file_is_readable_only_by_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = FileTokenStore::new(dir.path().join("tokens.json"));
        let server = Origin::parse("http://localhost:8080").unwrap();
        store
            .save(&server, "alice", &SessionToken::from_random_bytes([9; 32]))
            .unwrap();
        let mode = std::fs::metadata(store.path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
