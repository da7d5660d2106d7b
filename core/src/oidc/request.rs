//! The authorization request (OpenID Connect Core §3.1.2): its parameters,
//! PKCE (RFC 7636, S256 only), scopes, and the validation that decides
//! between an error page (unknown client, unregistered redirect URI: never
//! redirect), a redirect carrying an error, and a valid binding.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{ClientKind, OAuthErrorCode, RegisteredClient};

/// The scopes this provider knows; others in a request are dropped.
pub const SCOPES: [&str; 4] = ["openid", "profile", "email", "offline_access"];

/// Longest `state` / `nonce` accepted.
const MAX_VALUE_LEN: usize = 1024;

/// An S256 PKCE challenge: base64url(SHA-256(verifier)), 43 characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse(text: &str) -> Option<Self> {
        let ok = text.len() == 43 && URL_SAFE_NO_PAD.decode(text).is_ok_and(|b| b.len() == 32);
        ok.then(|| Self(text.to_string()))
    }

    /// The challenge of `verifier` (what a client computes).
    pub fn of_verifier(verifier: &str) -> Self {
        Self(URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())))
    }

    /// Whether `verifier` (43–128 unreserved characters) hashes to this
    /// challenge; compared in constant time.
    pub fn verify(&self, verifier: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        let well_formed = (43..=128).contains(&verifier.len())
            && verifier
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        well_formed
            && bool::from(
                Self::of_verifier(verifier)
                    .0
                    .as_bytes()
                    .ct_eq(self.0.as_bytes()),
            )
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The granted scopes, known ones only, in the order of [`SCOPES`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Scope(Vec<&'static str>);

impl Scope {
    /// The known scopes among the space-separated `text`.
    pub fn parse(text: &str) -> Self {
        let asked: Vec<&str> = text.split(' ').filter(|s| !s.is_empty()).collect();
        Self(SCOPES.into_iter().filter(|s| asked.contains(s)).collect())
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.contains(&scope)
    }

    /// Whether `other` asks for nothing beyond this scope.
    pub fn covers(&self, other: &Scope) -> bool {
        other.0.iter().all(|s| self.0.contains(s))
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.join(" "))
    }
}

impl From<String> for Scope {
    fn from(text: String) -> Self {
        Self::parse(&text)
    }
}

impl From<Scope> for String {
    fn from(scope: Scope) -> Self {
        scope.to_string()
    }
}

/// What a valid authorization request binds the sign-in to. Carried by the
/// ticket and, after the confirm, by the authorization code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationBinding {
    pub client_id: String,
    /// The client's registered name: what the app's confirm screen shows.
    pub client_name: String,
    /// The redirect URI as the request sent it (the token request must repeat it).
    pub redirect_uri: String,
    pub scope: Scope,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_challenge: Option<CodeChallenge>,
}

/// The parameters of an authorization request, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorizationParams {
    pairs: Vec<(String, String)>,
}

impl AuthorizationParams {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        Self { pairs }
    }

    /// The value of `name`; `Err(())` when it was sent more than once
    /// (RFC 6749 §3.1). Empty values count as absent.
    fn get(&self, name: &str) -> Result<Option<&str>, ()> {
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(()),
            (Some((_, v)), None) if !v.is_empty() => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    /// `client_id`, if sent exactly once.
    pub fn client_id(&self) -> Option<&str> {
        self.get("client_id").ok().flatten()
    }
}

/// Why an authorization request shows an error page instead of redirecting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ErrorPage {
    #[error("the request names no client (client_id is missing or repeated)")]
    MissingClient,
    #[error("no client with this client_id is registered here")]
    UnknownClient,
    #[error("the request has no redirect_uri (or repeats it)")]
    MissingRedirectUri,
    #[error("this redirect_uri is not registered for the client")]
    UnregisteredRedirectUri,
}

/// An error to send back to the client's redirect URI (RFC 6749 §4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub redirect_uri: String,
    pub error: OAuthErrorCode,
    pub description: String,
    pub state: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizationRejection {
    ErrorPage(ErrorPage),
    Redirect(RedirectError),
}

/// Checks an authorization request from `client` (looked up by the
/// caller from [`AuthorizationParams::client_id`]; `None`: unknown).
pub fn validate(
    params: &AuthorizationParams,
    client: Option<&RegisteredClient>,
) -> Result<AuthorizationBinding, AuthorizationRejection> {
    let page = AuthorizationRejection::ErrorPage;
    let client_id = params
        .get("client_id")
        .map_err(|()| page(ErrorPage::MissingClient))?;
    if client_id.is_none() {
        return Err(page(ErrorPage::MissingClient));
    }
    let client = client.ok_or(page(ErrorPage::UnknownClient))?;
    let redirect_uri = params
        .get("redirect_uri")
        .ok()
        .flatten()
        .ok_or(page(ErrorPage::MissingRedirectUri))?;
    if !client.redirect_uris.iter().any(|r| r.matches(redirect_uri)) {
        return Err(page(ErrorPage::UnregisteredRedirectUri));
    }
    // From here on errors go back to the client. `state` only if well formed.
    let state = params
        .get("state")
        .ok()
        .flatten()
        .filter(|s| s.len() <= MAX_VALUE_LEN);
    let fail = |error: OAuthErrorCode, description: &str| {
        AuthorizationRejection::Redirect(RedirectError {
            redirect_uri: redirect_uri.to_string(),
            error,
            description: description.to_string(),
            state: state.map(str::to_string),
        })
    };
    let one = |name: &str| {
        params.get(name).map_err(|()| {
            fail(
                OAuthErrorCode::InvalidRequest,
                &format!("the {name} parameter is repeated"),
            )
        })
    };
    if one("state")?.is_some_and(|s| s.len() > MAX_VALUE_LEN) {
        return Err(fail(OAuthErrorCode::InvalidRequest, "state is too long"));
    }
    if one("request")?.is_some() {
        return Err(fail(
            OAuthErrorCode::RequestNotSupported,
            "request objects are not supported",
        ));
    }
    if one("request_uri")?.is_some() {
        return Err(fail(
            OAuthErrorCode::RequestUriNotSupported,
            "request_uri is not supported",
        ));
    }
    match one("response_type")? {
        Some("code") => {}
        None => {
            return Err(fail(
                OAuthErrorCode::InvalidRequest,
                "response_type is missing",
            ));
        }
        Some(_) => {
            return Err(fail(
                OAuthErrorCode::UnsupportedResponseType,
                "only response_type=code is supported",
            ));
        }
    }
    if one("response_mode")?.is_some_and(|m| m != "query") {
        return Err(fail(
            OAuthErrorCode::InvalidRequest,
            "only response_mode=query is supported",
        ));
    }
    let scope = Scope::parse(one("scope")?.unwrap_or_default());
    if !scope.contains("openid") {
        return Err(fail(
            OAuthErrorCode::InvalidScope,
            "the scope must include openid",
        ));
    }
    let nonce = one("nonce")?;
    if nonce.is_some_and(|n| n.len() > MAX_VALUE_LEN) {
        return Err(fail(OAuthErrorCode::InvalidRequest, "nonce is too long"));
    }
    if one("max_age")?.is_some_and(|m| m.parse::<u64>().is_err()) {
        return Err(fail(
            OAuthErrorCode::InvalidRequest,
            "max_age must be a number of seconds",
        ));
    }
    let code_challenge = match (one("code_challenge")?, one("code_challenge_method")?) {
        (None, None) if client.kind == ClientKind::Public => {
            return Err(fail(
                OAuthErrorCode::InvalidRequest,
                "public clients must use PKCE (code_challenge with code_challenge_method=S256)",
            ));
        }
        (None, None) => None,
        (Some(challenge), Some("S256")) => Some(
            CodeChallenge::parse(challenge)
                .ok_or_else(|| fail(OAuthErrorCode::InvalidRequest, "malformed code_challenge"))?,
        ),
        (_, Some(_) | None) => {
            return Err(fail(
                OAuthErrorCode::InvalidRequest,
                "code_challenge_method must be S256, with a code_challenge",
            ));
        }
    };
    // There is never a browser session to reuse: each sign-in is a fresh
    // QR confirm, so prompt=none cannot succeed and max_age is always met.
    if one("prompt")?.is_some_and(|p| p.split(' ').any(|v| v == "none")) {
        return Err(fail(
            OAuthErrorCode::LoginRequired,
            "sign-in needs a QR confirm in the app",
        ));
    }
    Ok(AuthorizationBinding {
        client_id: client.id.clone(),
        client_name: client.name.clone(),
        redirect_uri: redirect_uri.to_string(),
        scope,
        state: state.map(str::to_string),
        nonce: nonce.map(str::to_string),
        code_challenge,
    })
}
