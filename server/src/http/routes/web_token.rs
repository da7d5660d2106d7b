//! Web side after the sign-in: what a page (or its backend) holding the
//! access token from the exchange may ask. Authenticated by that token,
//! checked against the revocation list.

use axum::extract::State;
use qrlogin_core::{ApiError, RevocationList, UserProfile};

use crate::http::error::AppResult;
use crate::http::extract::{ApiJson, WebAuth};
use crate::{AppState, sign_ins};

/// The signed-in user, fresh from the database — if the token is still good.
#[utoipa::path(get, path = "/api/v1/web/me", tag = "web",
    responses((status = 200, description = "the user the access token signs in", body = UserProfile),
        (status = 401, description = "unauthorized (missing, malformed, foreign or expired token) or token_revoked", body = ApiError)))]
pub async fn me(
    State(state): State<AppState>,
    WebAuth(token): WebAuth,
) -> AppResult<ApiJson<UserProfile>> {
    Ok(ApiJson(sign_ins::web_user(&state, &token).await?))
}

/// Revoked access tokens that have not expired yet, for relying parties
/// that verify tokens offline with the JWKS.
#[utoipa::path(get, path = "/api/v1/web/revoked", tag = "web",
    responses((status = 200, description = "revoked, unexpired token ids (jti)", body = RevocationList)))]
pub async fn revoked(State(state): State<AppState>) -> AppResult<ApiJson<RevocationList>> {
    let revoked = sign_ins::revoked_tokens(&state).await?;
    Ok(ApiJson(RevocationList { revoked }))
}
