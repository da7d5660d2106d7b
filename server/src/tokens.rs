//! [`TokenIssuer`]: EdDSA (Ed25519) signed JWTs handed to the web page by
//! exchange, the JWKS that lets any relying party verify them, and the
//! server's own check of such a token ([`TokenIssuer::verify`]).

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{Signature, Signer, SigningKey};
use qrlogin_core::UserProfile;
use serde::Deserialize;
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
    #[error("the key {path} is not a PKCS#8 PEM key of its algorithm")]
    Format { path: String },
    #[error("cannot sign a token with the id_token key")]
    Sign,
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

/// The JWT (without the `Bearer` wrapping), its lifetime in seconds, and
/// the claims the server records about it (to list and revoke it).
pub struct IssuedToken {
    pub jwt: String,
    pub expires_in: u64,
    /// The `jti` claim: the token's own random id.
    pub jti: String,
    /// The `exp` claim.
    pub expires_at: OffsetDateTime,
}

/// Longest token [`TokenIssuer::verify`] reads; ours are a few hundred bytes.
const MAX_TOKEN_LEN: usize = 4096;

/// Clock difference tolerated on `nbf` (servers behind a load balancer).
const NOT_BEFORE_LEEWAY_SECS: i64 = 60;

/// What [`TokenIssuer::verify`] found wrong with a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the access token is not a well-formed JWT")]
    Malformed,
    #[error("the access token is not signed by this server")]
    BadSignature,
    #[error("the access token was issued for another server")]
    WrongIssuer,
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid yet")]
    NotYetValid,
    #[error("the access token was issued for another site")]
    WrongAudience,
}

/// A token this server signed, checked: signature, issuer, validity period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    /// The `sub` claim: the user's id.
    pub subject: String,
    /// The `aud` claim: the origin of the site the token is for.
    pub audience: String,
    pub jti: String,
    pub expires_at: OffsetDateTime,
    /// Set on an OpenID Connect access token: its client and grant.
    pub grant: Option<GrantClaims>,
}

/// What an OpenID Connect access token says about its grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantClaims {
    pub client_id: String,
    /// The grant's id: the ticket id of the sign-in.
    pub sid: String,
    pub scope: String,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    kid: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: String,
    sub: String,
    /// Absent in tokens issued before audiences existed: the issuer's own.
    #[serde(default)]
    aud: String,
    exp: i64,
    nbf: Option<i64>,
    jti: String,
    client_id: Option<String>,
    sid: Option<String>,
    scope: Option<String>,
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

    /// Signs an access token for `user`, for the site `audience` (an origin).
    pub fn issue(&self, user: &UserProfile, audience: &str, now: OffsetDateTime) -> IssuedToken {
        self.sign_access_token(now, |claims| {
            claims.insert("sub".into(), json!(user.id));
            claims.insert("aud".into(), json!(audience));
            claims.insert("name".into(), json!(user.display_name));
            claims.insert("preferred_username".into(), json!(user.username));
            claims.insert("picture".into(), json!(user.avatar_url));
        })
    }

    /// Signs an OpenID Connect access token of `subject` for the client and
    /// grant in `grant` (userinfo accepts it while the grant lives).
    pub fn issue_for_client(
        &self,
        subject: &str,
        grant: &GrantClaims,
        now: OffsetDateTime,
    ) -> IssuedToken {
        self.sign_access_token(now, |claims| {
            claims.insert("sub".into(), json!(subject));
            claims.insert("aud".into(), json!(grant.client_id));
            claims.insert("client_id".into(), json!(grant.client_id));
            claims.insert("sid".into(), json!(grant.sid));
            claims.insert("scope".into(), json!(grant.scope));
        })
    }

    /// Signs the common claims (iss, iat, nbf, exp, jti) plus those `more` adds.
    fn sign_access_token(
        &self,
        now: OffsetDateTime,
        more: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> IssuedToken {
        let iat = now.unix_timestamp();
        let expires_in = self.lifetime.as_secs().max(1);
        let exp = iat.saturating_add_unsigned(expires_in);
        let jti = URL_SAFE_NO_PAD.encode(random::bytes::<16>());
        let header = json!({"alg": "EdDSA", "typ": "JWT", "kid": self.kid});
        let mut claims = serde_json::Map::new();
        claims.insert("iss".into(), json!(self.issuer));
        claims.insert("iat".into(), json!(iat));
        claims.insert("nbf".into(), json!(iat));
        claims.insert("exp".into(), json!(exp));
        claims.insert("jti".into(), json!(jti));
        more(&mut claims);
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(serde_json::Value::Object(claims).to_string())
        );
        let signature = self.key.sign(signing_input.as_bytes());
        IssuedToken {
            jwt: format!(
                "{signing_input}.{}",
                URL_SAFE_NO_PAD.encode(signature.to_bytes())
            ),
            expires_in,
            jti,
            expires_at: OffsetDateTime::from_unix_timestamp(exp).unwrap_or(now + self.lifetime),
        }
    }

    /// Checks a token as a relying party would, with this server's own key:
    /// an EdDSA signature by this key, our issuer, not expired, not before
    /// its `nbf`. Whether it was revoked is the caller's next question.
    pub fn verify(&self, jwt: &str, now: OffsetDateTime) -> Result<VerifiedToken, TokenError> {
        if jwt.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = jwt.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let parsed: Header = decode_part(header)?;
        // Only our algorithm: refuses `none` and algorithm confusion.
        if parsed.alg != "EdDSA" || parsed.kid.is_some_and(|kid| kid != self.kid) {
            return Err(TokenError::BadSignature);
        }
        let signature = URL_SAFE_NO_PAD
            .decode(signature)
            .ok()
            .and_then(|bytes| Signature::from_slice(&bytes).ok())
            .ok_or(TokenError::Malformed)?;
        let signing_input = &jwt[..header.len() + 1 + claims.len()];
        self.key
            .verifying_key()
            .verify_strict(signing_input.as_bytes(), &signature)
            .map_err(|_| TokenError::BadSignature)?;
        let claims: Claims = decode_part(claims)?;
        if claims.iss != self.issuer {
            return Err(TokenError::WrongIssuer);
        }
        let now = now.unix_timestamp();
        if now >= claims.exp {
            return Err(TokenError::Expired);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now + NOT_BEFORE_LEEWAY_SECS)
        {
            return Err(TokenError::NotYetValid);
        }
        Ok(VerifiedToken {
            subject: claims.sub,
            audience: if claims.aud.is_empty() {
                self.issuer.clone()
            } else {
                claims.aud
            },
            jti: claims.jti,
            expires_at: OffsetDateTime::from_unix_timestamp(claims.exp)
                .map_err(|_| TokenError::Malformed)?,
            grant: match (claims.client_id, claims.sid) {
                (Some(client_id), Some(sid)) => Some(GrantClaims {
                    client_id,
                    sid,
                    scope: claims.scope.unwrap_or_default(),
                }),
                _ => None,
            },
        })
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

/// One base64url JSON part of a JWT.
fn decode_part<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, TokenError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// RFC 7638 JWK thumbprint of the public key: a stable `kid`.
fn thumbprint(key: &SigningKey) -> String {
    let x = URL_SAFE_NO_PAD.encode(key.verifying_key().as_bytes());
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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

    const SITE: &str = "https://shop.example.com";

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

    fn issuer(seed: u8) -> TokenIssuer {
        TokenIssuer::new(
            SigningKey::from_bytes(&[seed; 32]),
            "https://login.example".into(),
            Duration::from_secs(300),
        )
    }

    fn alice() -> UserProfile {
        UserProfile {
            id: "u1".into(),
            username: "alice".into(),
            display_name: "Alice".into(),
            avatar_url: None,
        }
    }

    #[test]
    fn an_issued_token_verifies_with_its_claims() {
        let issuer = issuer(1);
        let now = OffsetDateTime::now_utc();
        let token = issuer.issue(&alice(), SITE, now);
        let verified = issuer.verify(&token.jwt, now).unwrap();
        assert_eq!(verified.subject, "u1");
        assert_eq!(verified.jti, token.jti);
        assert_eq!(verified.expires_at, token.expires_at);
        assert_eq!(
            token.expires_at.unix_timestamp(),
            now.unix_timestamp() + 300
        );
    }

    #[test]
    fn a_token_of_another_key_or_issuer_is_refused() {
        let now = OffsetDateTime::now_utc();
        let foreign = issuer(2).issue(&alice(), SITE, now).jwt;
        assert_eq!(
            issuer(1).verify(&foreign, now),
            Err(TokenError::BadSignature)
        );
        let same_key_other_issuer = TokenIssuer::new(
            SigningKey::from_bytes(&[1; 32]),
            "https://evil.example".into(),
            Duration::from_secs(300),
        )
        .issue(&alice(), SITE, now)
        .jwt;
        assert_eq!(
            issuer(1).verify(&same_key_other_issuer, now),
            Err(TokenError::WrongIssuer)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let issuer = issuer(1);
        let then = OffsetDateTime::now_utc() - Duration::from_secs(301);
        let token = issuer.issue(&alice(), SITE, then).jwt;
        assert_eq!(
            issuer.verify(&token, OffsetDateTime::now_utc()),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn a_tampered_or_unsigned_token_is_refused() {
        let issuer = issuer(1);
        let now = OffsetDateTime::now_utc();
        let token = issuer.issue(&alice(), SITE, now).jwt;
        let parts: Vec<&str> = token.split('.').collect();
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        let mut forged = claims.clone();
        forged["sub"] = "u2".into();
        let forged = URL_SAFE_NO_PAD.encode(forged.to_string());
        let swapped = format!("{}.{forged}.{}", parts[0], parts[2]);
        assert_eq!(issuer.verify(&swapped, now), Err(TokenError::BadSignature));
        let none = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let unsigned = format!("{none}.{}.", parts[1]);
        assert_eq!(issuer.verify(&unsigned, now), Err(TokenError::BadSignature));
        for garbage in ["", "a.b", "a.b.c.d", "!!.!!.!!", &"a".repeat(5000)] {
            assert_eq!(issuer.verify(garbage, now), Err(TokenError::Malformed));
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
