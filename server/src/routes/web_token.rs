//! Web side after the sign-in: what a page (or its backend) holding the
//! access token from the exchange may ask. Authenticated by that token,
//! checked against the revocation list.

use axum::extract::State;
use qrlogin_core::{ApiError, RevocationList, UserId, UserProfile};
use time::OffsetDateTime;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::extract::{ApiJson, WebAuth};

/// The signed-in user, fresh from the database — if the token is still good.
#[utoipa::path(get, path = "/api/v1/web/me", tag = "web",
    responses((status = 200, description = "the user the access token signs in", body = UserProfile),
        (status = 401, description = "unauthorized (missing, malformed, foreign or expired token) or token_revoked", body = ApiError)))]
pub async fn me(
    State(state): State<AppState>,
    WebAuth(token): WebAuth,
) -> AppResult<ApiJson<UserProfile>> {
    let user = state
        .users
        .get(&UserId(token.subject))
        .await?
        .ok_or_else(|| AppError::unauthorized("the account of this token no longer exists"))?;
    Ok(ApiJson(state.users.profile(&user)))
}

/// Revoked access tokens that have not expired yet, for relying parties
/// that verify tokens offline with the JWKS.
#[utoipa::path(get, path = "/api/v1/web/revoked", tag = "web",
    responses((status = 200, description = "revoked, unexpired token ids (jti)", body = RevocationList)))]
pub async fn revoked(State(state): State<AppState>) -> AppResult<ApiJson<RevocationList>> {
    let revoked = state
        .users
        .sign_ins()
        .revoked(OffsetDateTime::now_utc())
        .await?;
    Ok(ApiJson(RevocationList { revoked }))
}
