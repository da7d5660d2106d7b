//! The OpenID Provider's id_token signing keys: one RSA (RS256, the default
//! every relying party accepts), one P-256 (ES256) and one Ed25519 (EdDSA),
//! kept as PKCS#8 PEM files (mode 0600) beside the server's JWT key, and
//! created on first start.
//!
//! `qrlogin-server keys rotate` moves the current keys aside as retired
//! (`<stem>.<alg>.retired-<unix time>.pem`) and creates new ones; a retired
//! key's public half stays in the JWKS until every token it signed has
//! expired, then its file is deleted at the next start.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qrlogin_core::oidc::IdTokenAlg;
use ring::signature::{self as ring_sig, KeyPair as _};
use rsa::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use rsa::traits::PublicKeyParts as _;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};
use time::OffsetDateTime;

use crate::tokens::{KeyError, write_private};

/// RSA modulus size of new keys.
const RSA_BITS: usize = 2048;

/// One private key, ready to sign, with its public JWK.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

/// The current key of every algorithm plus the public halves of retired
/// keys still needed to verify tokens in circulation.
pub struct SigningKeys {
    current: BTreeMap<&'static str, SigningKey>,
    retired: Vec<Value>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Vec<&str> = self.current.values().map(|k| k.kid.as_str()).collect();
        f.debug_struct("SigningKeys")
            .field("kids", &kids)
            .finish_non_exhaustive()
    }
}

/// A key file's name for `alg` beside `base` (the server's JWT key):
/// `qrlogin-jwt.pem` → `qrlogin-jwt.rs256.pem`.
fn key_file(base: &Path, alg: IdTokenAlg) -> PathBuf {
    base.with_file_name(format!("{}.{}.pem", stem(base), file_tag(alg)))
}

fn stem(base: &Path) -> String {
    base.file_stem().map_or_else(
        || "qrlogin-jwt".into(),
        |s| s.to_string_lossy().into_owned(),
    )
}

fn file_tag(alg: IdTokenAlg) -> &'static str {
    match alg {
        IdTokenAlg::RS256 => "rs256",
        IdTokenAlg::ES256 => "es256",
        IdTokenAlg::EdDSA => "eddsa",
    }
}

impl SigningKeys {
    /// Loads the keys beside `base`, creating missing current ones;
    /// retired keys older than `token_lifetime` are deleted.
    pub fn load_or_create(
        base: &Path,
        token_lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<Self, KeyError> {
        let mut current = BTreeMap::new();
        for alg in IdTokenAlg::ALL {
            let path = key_file(base, alg);
            let key = match std::fs::read_to_string(&path) {
                Ok(pem) => parse_key(alg, &pem, &path)?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    let pem = generate(alg, &path)?;
                    write_private(&path, pem.as_bytes()).map_err(|source| KeyError::Write {
                        path: path.display().to_string(),
                        source,
                    })?;
                    tracing::info!(path = %path.display(), %alg, "created an id_token signing key");
                    parse_key(alg, &pem, &path)?
                }
                Err(source) => {
                    return Err(KeyError::Read {
                        path: path.display().to_string(),
                        source,
                    });
                }
            };
            current.insert(alg.as_str(), key);
        }
        let retired = load_retired(base, token_lifetime, now)?;
        Ok(Self { current, retired })
    }

    /// A signed JWT of `claims` with the current `alg` key.
    pub fn sign(
        &self,
        alg: IdTokenAlg,
        claims: &impl serde::Serialize,
    ) -> Result<String, KeyError> {
        let key = self.current.get(alg.as_str()).ok_or(KeyError::Sign)?;
        let mut header = Header::new(jwt_alg(alg));
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &key.encoding).map_err(|_| KeyError::Sign)
    }

    /// The public JWKs: current keys first, then retired ones.
    pub fn jwks(&self) -> Vec<Value> {
        self.current
            .values()
            .map(|k| k.jwk.clone())
            .chain(self.retired.iter().cloned())
            .collect()
    }
}

/// `keys rotate`: retires the current keys beside `base` (their public
/// halves stay published until their tokens expire) and creates new ones.
/// Returns the new keys' ids.
pub fn rotate(base: &Path, now: OffsetDateTime) -> Result<Vec<String>, KeyError> {
    for alg in IdTokenAlg::ALL {
        let path = key_file(base, alg);
        if path.exists() {
            let retired = base.with_file_name(format!(
                "{}.{}.retired-{}.pem",
                stem(base),
                file_tag(alg),
                now.unix_timestamp()
            ));
            std::fs::rename(&path, &retired).map_err(|source| KeyError::Write {
                path: retired.display().to_string(),
                source,
            })?;
        }
    }
    // A long lifetime here: rotation deletes nothing, the next start does.
    let keys = SigningKeys::load_or_create(base, Duration::from_secs(u32::MAX.into()), now)?;
    Ok(keys.current.values().map(|k| k.kid.clone()).collect())
}

/// Public halves of retired keys younger than `lifetime`; older files are deleted.
fn load_retired(
    base: &Path,
    lifetime: Duration,
    now: OffsetDateTime,
) -> Result<Vec<Value>, KeyError> {
    let dir = base
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(Vec::new());
    };
    let prefix = format!("{}.", stem(base));
    let mut retired = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".pem"))
        else {
            continue;
        };
        let Some((tag, when)) = rest.split_once(".retired-") else {
            continue;
        };
        let (Some(alg), Ok(when)) = (
            IdTokenAlg::ALL.into_iter().find(|a| file_tag(*a) == tag),
            when.parse::<i64>(),
        ) else {
            continue;
        };
        let path = entry.path();
        let lifetime_secs = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
        if when.saturating_add(lifetime_secs) < now.unix_timestamp() {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!(path = %path.display(), error = %e, "cannot delete a retired key");
            }
            continue;
        }
        let pem = std::fs::read_to_string(&path).map_err(|source| KeyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        retired.push(parse_key(alg, &pem, &path)?.jwk);
    }
    retired.sort_by(|a, b| a["kid"].as_str().cmp(&b["kid"].as_str()));
    Ok(retired)
}

fn jwt_alg(alg: IdTokenAlg) -> Algorithm {
    match alg {
        IdTokenAlg::RS256 => Algorithm::RS256,
        IdTokenAlg::ES256 => Algorithm::ES256,
        IdTokenAlg::EdDSA => Algorithm::EdDSA,
    }
}

/// A new private key for `alg`, as PKCS#8 PEM.
fn generate(alg: IdTokenAlg, path: &Path) -> Result<String, KeyError> {
    let format = || KeyError::Format {
        path: path.display().to_string(),
    };
    let rng = ring::rand::SystemRandom::new();
    let der = match alg {
        IdTokenAlg::RS256 => {
            let key =
                rsa::RsaPrivateKey::new(&mut rand_core::OsRng, RSA_BITS).map_err(|_| format())?;
            return key
                .to_pkcs8_pem(rsa::pkcs8::LineEnding::LF)
                .map(|pem| pem.to_string())
                .map_err(|_| format());
        }
        IdTokenAlg::ES256 => {
            ring_sig::EcdsaKeyPair::generate_pkcs8(&ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .map_err(|_| format())?
        }
        IdTokenAlg::EdDSA => {
            ring_sig::Ed25519KeyPair::generate_pkcs8(&rng).map_err(|_| format())?
        }
    };
    Ok(pem::encode(&pem::Pem::new(
        "PRIVATE KEY",
        der.as_ref().to_vec(),
    )))
}

/// Reads a PKCS#8 PEM private key of `alg`.
fn parse_key(alg: IdTokenAlg, pem_text: &str, path: &Path) -> Result<SigningKey, KeyError> {
    let format = || KeyError::Format {
        path: path.display().to_string(),
    };
    let der = pem::parse(pem_text).map_err(|_| format())?;
    let der = der.contents();
    let (encoding, public) = match alg {
        IdTokenAlg::RS256 => {
            let key = rsa::RsaPrivateKey::from_pkcs8_der(der).map_err(|_| format())?;
            let n = URL_SAFE_NO_PAD.encode(key.n().to_bytes_be());
            let e = URL_SAFE_NO_PAD.encode(key.e().to_bytes_be());
            let encoding = EncodingKey::from_rsa_pem(pem_text.as_bytes()).map_err(|_| format())?;
            (encoding, json!({"kty": "RSA", "n": n, "e": e}))
        }
        IdTokenAlg::ES256 => {
            let rng = ring::rand::SystemRandom::new();
            let pair = ring_sig::EcdsaKeyPair::from_pkcs8(
                &ring_sig::ECDSA_P256_SHA256_FIXED_SIGNING,
                der,
                &rng,
            )
            .map_err(|_| format())?;
            // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
            let point = pair.public_key().as_ref();
            if point.len() != 65 {
                return Err(format());
            }
            let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
            let y = URL_SAFE_NO_PAD.encode(&point[33..]);
            (
                EncodingKey::from_ec_der(der),
                json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            )
        }
        IdTokenAlg::EdDSA => {
            let pair =
                ring_sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der).map_err(|_| format())?;
            let x = URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
            (
                EncodingKey::from_ed_der(der),
                json!({"kty": "OKP", "crv": "Ed25519", "x": x}),
            )
        }
    };
    let kid = thumbprint(&public);
    let mut jwk = public;
    jwk["kid"] = json!(kid);
    jwk["alg"] = json!(alg.as_str());
    jwk["use"] = json!("sig");
    Ok(SigningKey { kid, encoding, jwk })
}

/// RFC 7638 thumbprint of a public JWK (its required members, sorted).
fn thumbprint(public: &Value) -> String {
    let members: &[&str] = match public["kty"].as_str() {
        Some("RSA") => &["e", "kty", "n"],
        Some("EC") => &["crv", "kty", "x", "y"],
        _ => &["crv", "kty", "x"],
    };
    let canonical: serde_json::Map<String, Value> = members
        .iter()
        .map(|m| (m.to_string(), public[*m].clone()))
        .collect();
    let text = serde_json::to_string(&canonical).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Value {
        json!({"iss": "https://id.example", "sub": "u1", "aud": "c1", "exp": 4_000_000_000_i64})
    }

    #[test]
    fn keys_are_created_once_private_and_sign_verifiably() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("qrlogin-jwt.pem");
        let now = OffsetDateTime::now_utc();
        let keys = SigningKeys::load_or_create(&base, Duration::from_secs(900), now).unwrap();
        let again = SigningKeys::load_or_create(&base, Duration::from_secs(900), now).unwrap();
        assert_eq!(keys.jwks(), again.jwks(), "a second start reuses the keys");
        assert_eq!(keys.jwks().len(), 3);
        for alg in IdTokenAlg::ALL {
            let path = key_file(&base, alg);
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt as _;
                let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{}", path.display());
            }
            let jwt = keys.sign(alg, &claims()).unwrap();
            let header = jsonwebtoken::decode_header(&jwt).unwrap();
            let jwk = keys
                .jwks()
                .into_iter()
                .find(|k| k["kid"].as_str() == header.kid.as_deref())
                .unwrap();
            let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk).unwrap();
            let key = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
            let mut validation = jsonwebtoken::Validation::new(jwt_alg(alg));
            validation.set_audience(&["c1"]);
            jsonwebtoken::decode::<Value>(&jwt, &key, &validation).unwrap();
        }
    }

    #[test]
    fn rotation_keeps_old_public_keys_until_their_tokens_expire() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().join("qrlogin-jwt.pem");
        let now = OffsetDateTime::now_utc();
        let lifetime = Duration::from_secs(900);
        let before = SigningKeys::load_or_create(&base, lifetime, now).unwrap();
        let new_kids = rotate(&base, now).unwrap();
        let after = SigningKeys::load_or_create(&base, lifetime, now).unwrap();
        assert_eq!(
            after.jwks().len(),
            6,
            "three new keys and three retired ones"
        );
        for old in before.jwks() {
            assert!(after.jwks().contains(&old));
            assert!(!new_kids.contains(&old["kid"].as_str().unwrap().to_string()));
        }
        let later = now + Duration::from_secs(901);
        let expired = SigningKeys::load_or_create(&base, lifetime, later).unwrap();
        assert_eq!(
            expired.jwks().len(),
            3,
            "retired keys go once their tokens expired"
        );
    }
}
