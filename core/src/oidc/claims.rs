//! What an id_token and the userinfo endpoint say about a user, by scope.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256, Sha512};

use super::{IdTokenAlg, Scope};

/// Every claim the provider may issue (the discovery's `claims_supported`).
pub const CLAIMS: [&str; 16] = [
    "iss",
    "sub",
    "aud",
    "azp",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "amr",
    "at_hash",
    "sid",
    "name",
    "preferred_username",
    "picture",
    "email",
    "email_verified",
];

/// The user's claims that a scope grants (OpenID Connect Core §5.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserClaims {
    pub sub: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preferred_username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub picture: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

impl UserClaims {
    /// The claims `scope` grants about a user. Emails are set by the
    /// server's operator (`users add --email`), hence verified.
    pub fn for_scope(
        scope: &Scope,
        sub: &str,
        name: &str,
        username: &str,
        picture: Option<&str>,
        email: Option<&str>,
    ) -> Self {
        let profile = scope.contains("profile");
        let email = email.filter(|_| scope.contains("email"));
        Self {
            sub: sub.to_string(),
            name: profile.then(|| name.to_string()),
            preferred_username: profile.then(|| username.to_string()),
            picture: picture.filter(|_| profile).map(str::to_string),
            email_verified: email.map(|_| true),
            email: email.map(str::to_string),
        }
    }
}

/// An id_token's claims (OpenID Connect Core §2, §3.1.3.6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdTokenClaims {
    pub iss: String,
    pub aud: String,
    pub azp: String,
    pub iat: i64,
    pub exp: i64,
    pub auth_time: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    /// `["mca"]`: multiple-channel authentication (RFC 8176), the QR confirm.
    pub amr: Vec<String>,
    pub at_hash: String,
    /// The grant: the sign-in's id in the app's list.
    pub sid: String,
    #[serde(flatten)]
    pub user: UserClaims,
}

/// `at_hash`: the left half of the access token's hash, with the hash of
/// the id_token's algorithm (SHA-512 for Ed25519), base64url.
pub fn at_hash(alg: IdTokenAlg, access_token: &str) -> String {
    let digest = match alg {
        IdTokenAlg::RS256 | IdTokenAlg::ES256 => Sha256::digest(access_token).to_vec(),
        IdTokenAlg::EdDSA => Sha512::digest(access_token).to_vec(),
    };
    URL_SAFE_NO_PAD.encode(&digest[..digest.len() / 2])
}
