//! App side, the user's own account: their app sessions (list, revoke any),
//! their QR sign-ins (list, "Was this you? — No"), and their settings (the
//! QR sign-in switch). Authenticated by the app session token; a user only
//! ever sees and touches their own.

use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use qrlogin_core::{AccountSettings, ApiError, RevokeResponse, SessionList, SignInList};

use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, AppAuth, TicketPath};
use crate::{AppState, sign_ins};

/// The user's live app sessions, newest first; `current` marks this one.
#[utoipa::path(get, path = "/api/v1/app/sessions", tag = "account",
    responses((status = 200, description = "live sessions, newest first", body = SessionList),
        (status = 401, description = "unauthorized", body = ApiError)))]
pub async fn sessions(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
) -> AppResult<ApiJson<SessionList>> {
    let sessions = state.accounts.sessions(&session).await?;
    Ok(ApiJson(SessionList { sessions }))
}

/// Revoke one of the user's sessions (e.g. a lost phone): its token stops working.
#[utoipa::path(delete, path = "/api/v1/app/sessions/{id}", tag = "account",
    params(("id" = String, Path, description = "session id from GET /api/v1/app/sessions")),
    responses((status = 204, description = "revoked"),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 404, description = "not_found: not a live session of this user", body = ApiError)))]
pub async fn revoke_session(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
    id: Result<Path<String>, PathRejection>,
) -> AppResult<StatusCode> {
    let no_such = || AppError::not_found("no such session on your account");
    let Path(id) = id.map_err(|_| no_such())?;
    if state.accounts.revoke_session(&session.user.id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(no_such())
    }
}

/// The user's QR sign-ins (recorded at the exchange), newest first, at most 50.
#[utoipa::path(get, path = "/api/v1/app/sign-ins", tag = "account",
    responses((status = 200, description = "QR sign-ins, newest first", body = SignInList),
        (status = 401, description = "unauthorized", body = ApiError)))]
pub async fn sign_ins(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
) -> AppResult<ApiJson<SignInList>> {
    let sign_ins = sign_ins::list(&state, &session.user.id).await?;
    Ok(ApiJson(SignInList { sign_ins }))
}

/// "Was this you? — No": revoke the web token of this sign-in, or cancel
/// the ticket if the page has not collected its token yet.
#[utoipa::path(post, path = "/api/v1/app/sign-ins/{id}/revoke", tag = "account",
    params(("id" = String, Path, description = "ticket id of the sign-in")),
    responses((status = 200, description = "revoked (token on the revocation list) or cancelled (not exchanged yet)", body = RevokeResponse),
        (status = 400, description = "invalid_ticket_id", body = ApiError),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 404, description = "not_found: not a sign-in of this user", body = ApiError)))]
pub async fn revoke_sign_in(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
    TicketPath(id): TicketPath,
) -> AppResult<ApiJson<RevokeResponse>> {
    let outcome = sign_ins::revoke(&state, &id, &session.user.id).await?;
    tracing::info!(ticket = %id, ?outcome, "sign-in revoked by its user");
    Ok(ApiJson(RevokeResponse { outcome }))
}

/// The account's settings.
#[utoipa::path(get, path = "/api/v1/app/settings", tag = "account",
    responses((status = 200, description = "the account's settings", body = AccountSettings),
        (status = 401, description = "unauthorized", body = ApiError)))]
pub async fn settings(AppAuth(session): AppAuth) -> ApiJson<AccountSettings> {
    ApiJson(AccountSettings {
        qr_login_enabled: session.qr_login_enabled,
    })
}

/// Change the account's settings: `{qr_login_enabled}`.
#[utoipa::path(patch, path = "/api/v1/app/settings", tag = "account",
    request_body = AccountSettings,
    responses((status = 200, description = "the settings now", body = AccountSettings),
        (status = 400, description = "invalid_request or invalid_json", body = ApiError),
        (status = 401, description = "unauthorized", body = ApiError)))]
pub async fn update_settings(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
    ApiJson(wanted): ApiJson<AccountSettings>,
) -> AppResult<ApiJson<AccountSettings>> {
    state
        .accounts
        .set_qr_login_enabled(&session.user.id, wanted.qr_login_enabled)
        .await?;
    tracing::info!(enabled = wanted.qr_login_enabled, "QR sign-in switched");
    Ok(ApiJson(wanted))
}
