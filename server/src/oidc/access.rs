//! Using and ending what the token endpoint issued: the userinfo endpoint
//! (OpenID Connect Core §5.3) and revocation (RFC 7009).

use qrlogin_core::oidc::{OAuthErrorCode, Scope, UserClaims};
use qrlogin_core::{SecretHash, UserId};

use super::token::{Form, authenticate};
use super::{OAuthFailure, OAuthResult};
use crate::AppState;
use crate::profile;

fn invalid_token(description: &str) -> OAuthFailure {
    OAuthFailure::refused(OAuthErrorCode::InvalidToken, description)
}

/// The claims of the user an OpenID Connect access token signs in, by its
/// scope; refused once the token expired, was revoked, or its grant was
/// ("Was this you? — No" in the app, a replayed code, a reused refresh token).
pub async fn userinfo(state: &AppState, access_token: &str) -> OAuthResult<UserClaims> {
    let token = state
        .tokens
        .verify(access_token, state.clock.now())
        .map_err(|e| invalid_token(&e.to_string()))?;
    let grant = token
        .grant
        .ok_or_else(|| invalid_token("not an access token of an OpenID Connect client"))?;
    let sign_ins = state.db.sign_ins();
    if !sign_ins.grant_live(&grant.sid, &grant.client_id).await?
        || sign_ins.is_revoked(&token.jti).await?
    {
        return Err(invalid_token("the access token was revoked"));
    }
    let user = state
        .accounts
        .get(&UserId(token.subject))
        .await?
        .ok_or_else(|| invalid_token("the user of this token no longer exists"))?;
    let shown = profile::profile(&user, &state.settings.public_url);
    Ok(UserClaims::for_scope(
        &Scope::parse(&grant.scope),
        &user.id.0,
        &user.display_name,
        &user.username,
        shown.avatar_url.as_deref(),
        user.email.as_deref(),
    ))
}

/// `POST /oauth2/revoke`: a refresh token ends its whole grant; an access
/// token goes on the revocation list. Tokens that are unknown or belong to
/// another client change nothing, and the answer is the same (RFC 7009 §2.2).
pub async fn revoke(state: &AppState, authorization: Option<&str>, form: &Form) -> OAuthResult<()> {
    let client = authenticate(state, authorization, form).await?;
    let token = form
        .get("token")?
        .ok_or_else(|| OAuthFailure::refused(OAuthErrorCode::InvalidRequest, "token is missing"))?;
    let now = state.clock.now();
    let sign_ins = state.db.sign_ins();
    if let Some(grant) = state
        .db
        .grants()
        .refresh_token_grant(&SecretHash::of(token))
        .await?
    {
        if grant.client_id == client.id {
            sign_ins.revoke_grant(&grant.ticket_id, now).await?;
        }
        return Ok(());
    }
    if let Ok(access) = state.tokens.verify(token, now) {
        if access.grant.is_some_and(|g| g.client_id == client.id) {
            sign_ins
                .revoke_token(&access.jti, access.expires_at, now)
                .await?;
        }
    }
    Ok(())
}
