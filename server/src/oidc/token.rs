//! The token endpoint (RFC 6749 §3.2, §4.1.3, §6; OpenID Connect Core
//! §3.1.3): client authentication, the authorization-code grant with its
//! PKCE check, and the rotating refresh-token grant. A replayed code or a
//! reused refresh token revokes the whole grant.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use qrlogin_core::oidc::{
    ClientKind, IdTokenClaims, OAuthErrorCode, RegisteredClient, Scope, TokenResponse, UserClaims,
    at_hash, form_decode, form_pairs,
};
use qrlogin_core::{SecretHash, UserId};
use time::OffsetDateTime;

use super::{OAuthFailure, OAuthResult, REFRESH_TOKEN_LIFETIME};
use crate::AppState;
use crate::db::grants::{GrantRef, NewRefreshToken, Use};
use crate::profile;
use crate::random;
use crate::tokens::GrantClaims;

/// The form parameters of a token (or revocation) request, each at most once.
#[derive(Debug, Default)]
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub fn parse(body: &str) -> OAuthResult<Self> {
        let pairs =
            form_pairs(body).ok_or_else(|| invalid_request("the form body does not decode"))?;
        Ok(Self { pairs })
    }

    /// The value of `name`; a repeated parameter is an error (RFC 6749 §3.2).
    pub fn get(&self, name: &str) -> OAuthResult<Option<&str>> {
        let mut values = self.pairs.iter().filter(|(n, _)| n == name);
        match (values.next(), values.next()) {
            (Some(_), Some(_)) => Err(invalid_request(format!("{name} is repeated"))),
            (Some((_, v)), None) if !v.is_empty() => Ok(Some(v)),
            _ => Ok(None),
        }
    }

    fn require(&self, name: &str) -> OAuthResult<&str> {
        self.get(name)?
            .ok_or_else(|| invalid_request(format!("{name} is missing")))
    }
}

fn invalid_request(description: impl Into<String>) -> OAuthFailure {
    OAuthFailure::refused(OAuthErrorCode::InvalidRequest, description)
}

fn invalid_grant(description: impl Into<String>) -> OAuthFailure {
    OAuthFailure::refused(OAuthErrorCode::InvalidGrant, description)
}

fn invalid_client() -> OAuthFailure {
    OAuthFailure::refused(
        OAuthErrorCode::InvalidClient,
        "client authentication failed (unknown client, wrong secret, or a method this client \
         may not use)",
    )
}

/// Authenticates the client of a token or revocation request: HTTP Basic
/// (`authorization`, the header's value) or `client_id` + `client_secret`
/// in the form; a public client sends only its `client_id`.
pub async fn authenticate(
    state: &AppState,
    authorization: Option<&str>,
    form: &Form,
) -> OAuthResult<RegisteredClient> {
    let (id, secret) = match authorization {
        Some(header) => {
            if form.get("client_secret")?.is_some() {
                return Err(invalid_request("use one client authentication method"));
            }
            let (id, secret) = basic_credentials(header).ok_or_else(invalid_client)?;
            if form.get("client_id")?.is_some_and(|form_id| form_id != id) {
                return Err(invalid_client());
            }
            (id, Some(secret))
        }
        None => (
            form.require("client_id")?.to_string(),
            form.get("client_secret")?.map(str::to_string),
        ),
    };
    let stored = state
        .db
        .clients()
        .get(&id)
        .await?
        .ok_or_else(invalid_client)?;
    let authenticated = match (&stored.secret_hash, secret) {
        (Some(hash), Some(secret)) => hash.matches(&secret),
        (None, None) => stored.client.kind == ClientKind::Public,
        _ => false,
    };
    if !authenticated {
        return Err(invalid_client());
    }
    Ok(stored.client)
}

/// `Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_credentials(header: &str) -> Option<(String, String)> {
    let (scheme, encoded) = header.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((form_decode(id)?, form_decode(secret)?))
}

/// `POST /oauth2/token`.
pub async fn exchange(
    state: &AppState,
    authorization: Option<&str>,
    form: &Form,
) -> OAuthResult<TokenResponse> {
    let grant_type = form.require("grant_type")?;
    let client = authenticate(state, authorization, form).await?;
    match grant_type {
        "authorization_code" => code_grant(state, &client, form).await,
        "refresh_token" => refresh_grant(state, &client, form).await,
        _ => Err(OAuthFailure::refused(
            OAuthErrorCode::UnsupportedGrantType,
            "grant_type must be authorization_code or refresh_token",
        )),
    }
}

async fn code_grant(
    state: &AppState,
    client: &RegisteredClient,
    form: &Form,
) -> OAuthResult<TokenResponse> {
    let code = form.require("code")?;
    let redirect_uri = form.require("redirect_uri")?;
    let verifier = form.get("code_verifier")?;
    let now = state.clock.now();
    let (grant, request) = match state
        .db
        .grants()
        .use_code(&SecretHash::of(code), &client.id, now)
        .await?
    {
        Use::Granted(found) => found,
        Use::Unknown => return Err(invalid_grant("unknown authorization code")),
        Use::Expired => return Err(invalid_grant("the authorization code has expired")),
        Use::Replayed(grant) => {
            revoke_grant(state, &grant, now).await?;
            return Err(invalid_grant(
                "the authorization code was already used; the tokens issued for it are revoked",
            ));
        }
    };
    if redirect_uri != request.redirect_uri {
        return Err(invalid_grant(
            "redirect_uri differs from the authorization request's",
        ));
    }
    match (&request.code_challenge, verifier) {
        (Some(challenge), Some(verifier)) if challenge.verify(verifier) => {}
        (Some(_), Some(_)) => return Err(invalid_grant("code_verifier does not match")),
        (Some(_), None) => return Err(invalid_grant("code_verifier is missing")),
        (None, Some(_)) => {
            return Err(invalid_grant(
                "code_verifier sent, but the authorization request had no code_challenge",
            ));
        }
        (None, None) => {}
    }
    issue(
        state,
        client,
        &grant,
        &request.scope,
        request.nonce.as_deref(),
        now,
    )
    .await
}

async fn refresh_grant(
    state: &AppState,
    client: &RegisteredClient,
    form: &Form,
) -> OAuthResult<TokenResponse> {
    let token = form.require("refresh_token")?;
    let asked = form.get("scope")?.map(Scope::parse);
    let now = state.clock.now();
    let (grant, scope) = match state
        .db
        .grants()
        .use_refresh_token(&SecretHash::of(token), &client.id, now)
        .await?
    {
        Use::Granted(found) => found,
        Use::Unknown => return Err(invalid_grant("unknown refresh token")),
        Use::Expired => return Err(invalid_grant("the refresh token has expired")),
        Use::Replayed(grant) => {
            revoke_grant(state, &grant, now).await?;
            return Err(invalid_grant(
                "the refresh token was already used; this sign-in is revoked, sign in again",
            ));
        }
    };
    let granted = Scope::parse(&scope);
    let scope = match asked {
        Some(asked) if !granted.covers(&asked) => {
            return Err(OAuthFailure::refused(
                OAuthErrorCode::InvalidScope,
                "the scope asks for more than was granted",
            ));
        }
        Some(asked) => asked,
        None => granted,
    };
    issue(state, client, &grant, &scope, None, now).await
}

async fn revoke_grant(state: &AppState, grant: &GrantRef, now: OffsetDateTime) -> OAuthResult<()> {
    tracing::warn!(client = %grant.client_id, "a used code or refresh token came back; revoking its grant");
    state
        .db
        .sign_ins()
        .revoke_grant(&grant.ticket_id, now)
        .await?;
    Ok(())
}

/// The tokens of a live grant: access token, id_token, and a fresh refresh
/// token when the scope holds `offline_access`.
async fn issue(
    state: &AppState,
    client: &RegisteredClient,
    grant: &GrantRef,
    scope: &Scope,
    nonce: Option<&str>,
    now: OffsetDateTime,
) -> OAuthResult<TokenResponse> {
    if !state
        .db
        .sign_ins()
        .grant_live(&grant.ticket_id, &client.id)
        .await?
    {
        return Err(invalid_grant("this sign-in was revoked; sign in again"));
    }
    let user = state
        .accounts
        .get(&UserId(grant.user_id.clone()))
        .await?
        .ok_or_else(|| invalid_grant("the user of this grant no longer exists"))?;
    let claims = GrantClaims {
        client_id: client.id.clone(),
        sid: grant.ticket_id.clone(),
        scope: scope.to_string(),
    };
    let access = state.tokens.issue_for_client(&user.id.0, &claims, now);
    let provider = &state.oidc;
    let iat = now.unix_timestamp();
    let issuer = state.settings.public_url.to_string();
    let shown = profile::profile(&user, &state.settings.public_url);
    let id_token = IdTokenClaims {
        iss: issuer,
        aud: client.id.clone(),
        azp: client.id.clone(),
        iat,
        exp: iat.saturating_add_unsigned(provider.token_lifetime.as_secs().max(1)),
        auth_time: grant.auth_time.unix_timestamp(),
        nonce: nonce.map(str::to_string),
        amr: vec!["mca".into()],
        at_hash: at_hash(client.id_token_alg, &access.jwt),
        sid: grant.ticket_id.clone(),
        user: UserClaims::for_scope(
            scope,
            &user.id.0,
            &user.display_name,
            &user.username,
            shown.avatar_url.as_deref(),
            user.email.as_deref(),
        ),
    };
    let id_token = provider.keys.sign(client.id_token_alg, &id_token)?;
    let refresh_token = if scope.contains("offline_access") {
        let token = random::token();
        state
            .db
            .grants()
            .insert_refresh_token(NewRefreshToken {
                hash: &SecretHash::of(&token),
                grant,
                scope: &scope.to_string(),
                expires_at: now + REFRESH_TOKEN_LIFETIME,
            })
            .await?;
        Some(token)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: access.jwt,
        token_type: "Bearer".into(),
        expires_in: access.expires_in,
        refresh_token,
        id_token: Some(id_token),
        scope: scope.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let header = format!("Basic {}", STANDARD.encode("my%20app:s%3Acret"));
        assert_eq!(
            basic_credentials(&header),
            Some(("my app".into(), "s:cret".into()))
        );
        assert_eq!(basic_credentials("Bearer abc"), None);
        assert_eq!(basic_credentials("Basic !!!"), None);
    }

    #[test]
    fn repeated_form_parameters_are_refused() {
        let form = Form::parse("code=a&code=b&grant_type=authorization_code").unwrap();
        assert!(form.get("code").is_err());
        assert_eq!(form.get("grant_type").unwrap(), Some("authorization_code"));
        assert!(Form::parse("code=%zz").is_err());
    }
}
