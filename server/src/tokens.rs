//! [`TokenIssuer`]: EdDSA (Ed25519) signed JWTs handed to the web page by
//! exchange, and the JWKS that lets any relying party verify them.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signer, SigningKey};
use qrlogin_core::UserProfile;
use serde_json::json;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::random;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read the JWT key {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot write the JWT key {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("the JWT key {path} is not an Ed25519 PKCS#8 PEM key")]
    Format { path: String },
}

#[derive(Clone)]
pub struct TokenIssuer {
    key: SigningKey,
    kid: String,
    issuer: String,
    lifetime: Duration,
}

impl std::fmt::Debug for TokenIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenIssuer")
            .field("kid", &self.kid)
            .field("issuer", &self.issuer)
            .finish_non_exhaustive()
    }
}

/// The JWT (without the `Bearer` wrapping) and its lifetime in seconds.
pub struct IssuedToken {
    pub jwt: String,
    pub expires_in: u64,
}

impl TokenIssuer {
    pub fn new(key: SigningKey, issuer: String, lifetime: Duration) -> Self {
        let kid = thumbprint(&key);
        Self {
            key,
            kid,
            issuer,
            lifetime,
        }
    }

    /// Reads the key at `path`, or creates it (mode 0600) if it does not exist.
    pub fn load_or_create_key(path: &Path) -> Result<SigningKey, KeyError> {
        let shown = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(pem) => {
                SigningKey::from_pkcs8_pem(&pem).map_err(|_| KeyError::Format { path: shown })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = SigningKey::from_bytes(&random::bytes());
                let pem = key
                    .to_pkcs8_pem(Default::default())
                    .map_err(|_| KeyError::Format {
                        path: shown.clone(),
                    })?;
                write_private(path, pem.as_bytes()).map_err(|source| KeyError::Write {
                    path: shown,
                    source,
                })?;
                tracing::info!(path = %path.display(), "created a new JWT signing key");
                Ok(key)
            }
            Err(source) => Err(KeyError::Read {
                path: shown,
                source,
            }),
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// Signs an access token for `user`.
    pub fn issue(&self, user: &UserProfile, now: OffsetDateTime) -> IssuedToken {
        let iat = now.unix_timestamp();
        let expires_in = self.lifetime.as_secs().max(1);
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        let claims = json!({
            "iss": self.issuer,
            "sub": user.id,
            "iat": iat,
            "nbf": iat,
            "exp": iat.saturating_add_unsigned(expires_in),
            "jti": URL_SAFE_NO_PAD.encode(random::bytes::<16>()),
            "name": user.display_name,
            "preferred_username": user.username,
            "picture": user.avatar_url,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(signing_input.as_bytes());
        IssuedToken {
            jwt: format!(
                "{signing_input}.{}",
                URL_SAFE_NO_PAD.encode(signature.to_bytes())
            ),
            expires_in,
        }
    }

    /// `/.well-known/jwks.json`: the public key as an OKP JWK.
    pub fn jwks(&self) -> serde_json::Value {
        json!({"keys": [{
            "kty": "OKP",
            "crv": "Ed25519",
            "x": URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes()),
            "kid": self.kid,
            "alg": "EdDSA",
            "use": "sig",
        }]})
    }
}

/// RFC 7638 JWK thumbprint of the public key: a stable `kid`.
fn thumbprint(key: &SigningKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_created_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        let a = TokenIssuer::load_or_create_key(&path).unwrap();
        let b = TokenIssuer::load_or_create_key(&path).unwrap();
        assert_eq!(a.to_bytes(), b.to_bytes());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn garbage_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.pem");
        std::fs::write(&path, "nope").unwrap();
        assert!(matches!(
            TokenIssuer::load_or_create_key(&path),
            Err(KeyError::Format { .. })
        ));
    }
}
