//! App side of the API: sign in, who am I, sign out, and scan / confirm /
//! cancel a code. Authenticated by the app session token.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use qrlogin_core::{
    ApiError, ConfirmRequest, ErrorCode, Event, ScanResponse, SignInRequest, SignInResponse,
    StatusResponse, UserProfile,
};

use crate::http::error::{AppError, AppResult};
use crate::http::extract::{ApiJson, AppAuth, OptionalJson, TicketPath};
use crate::requester::client_ip;
use crate::{AppState, profile, sign_ins};

/// Sign the app in: `{username, password, device_name}` → `{token, user}`.
#[utoipa::path(post, path = "/api/v1/app/sessions", tag = "app",
    request_body = SignInRequest,
    responses((status = 201, description = "signed in", body = SignInResponse),
        (status = 401, description = "invalid_credentials", body = ApiError),
        (status = 429, description = "rate_limited: too many attempts from this client or on this account", body = ApiError)))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ApiJson(request): ApiJson<SignInRequest>,
) -> AppResult<(StatusCode, ApiJson<SignInResponse>)> {
    let SignInRequest {
        username,
        password,
        device_name,
    } = request;
    let ip = client_ip(&headers, peer, state.settings.trust_proxy);
    state.limits.sign_in(ip, &username).await?;
    let (token, user) = state
        .accounts
        .sign_in(&username, password, &device_name)
        .await?
        .ok_or_else(|| {
            AppError::new(ErrorCode::InvalidCredentials, "wrong username or password")
        })?;
    state.limits.sign_in_succeeded(ip, &username).await;
    let user = profile::profile(&user, &state.settings.public_url);
    Ok((StatusCode::CREATED, ApiJson(SignInResponse { token, user })))
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/app/me", tag = "app",
    responses((status = 200, description = "the signed-in user", body = UserProfile),
        (status = 401, description = "unauthorized", body = ApiError)))]
pub async fn me(State(state): State<AppState>, AppAuth(session): AppAuth) -> ApiJson<UserProfile> {
    ApiJson(profile::profile(&session.user, &state.settings.public_url))
}

/// Sign out: the token is revoked.
#[utoipa::path(delete, path = "/api/v1/app/sessions/current", tag = "app",
    responses((status = 204, description = "signed out"), (status = 401, description = "unauthorized", body = ApiError)))]
pub async fn sign_out(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
) -> AppResult<StatusCode> {
    state.accounts.sign_out(&session).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Scan a code: the ticket becomes `scanned` by this user; answers who asked.
#[utoipa::path(post, path = "/api/v1/qr/{id}/scan", tag = "app",
    params(("id" = String, Path, description = "ticket id")),
    responses((status = 200, description = "scanned; who is asking", body = ScanResponse),
        (status = 401, description = "unauthorized", body = ApiError),
        (status = 403, description = "qr_login_disabled: the user turned QR sign-in off", body = ApiError),
        (status = 429, description = "rate_limited", body = ApiError),
        (status = 409, description = "already_scanned, already_confirmed, already_consumed, cancelled", body = ApiError),
        (status = 410, description = "expired", body = ApiError)))]
pub async fn scan(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    AppAuth(session): AppAuth,
    TicketPath(id): TicketPath,
) -> AppResult<ApiJson<ScanResponse>> {
    state.limits.app_action(&session.id).await?;
    let scanner_ip = client_ip(&headers, peer, state.settings.trust_proxy);
    let scanned = sign_ins::scan(&state, &session, &id, scanner_ip).await?;
    Ok(ApiJson(scanned))
}

/// Confirm the sign-in (only the user who scanned it). The body is optional;
/// with number matching on it must carry the number the user picked.
#[utoipa::path(post, path = "/api/v1/qr/{id}/confirm", tag = "app",
    params(("id" = String, Path, description = "ticket id")),
    request_body(content = Option<ConfirmRequest>, description = "optional; `verification_code` is required with number matching on"),
    responses((status = 200, description = "the new status", body = StatusResponse),
        (status = 400, description = "verification_required (number matching on, no code sent) or invalid_json", body = ApiError),
        (status = 403, description = "not_yours, qr_login_disabled, or wrong_verification_code (the ticket is now cancelled, reason wrong_code)", body = ApiError),
        (status = 429, description = "rate_limited", body = ApiError),
        (status = 409, description = "not_scanned, cancelled, already_consumed", body = ApiError),
        (status = 410, description = "expired", body = ApiError)))]
pub async fn confirm(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
    TicketPath(id): TicketPath,
    OptionalJson(body): OptionalJson<ConfirmRequest>,
) -> AppResult<ApiJson<StatusResponse>> {
    state.limits.app_action(&session.id).await?;
    let code = body.and_then(|b| b.verification_code);
    let status = sign_ins::confirm(&state, &session, &id, code).await?;
    Ok(ApiJson(StatusResponse { status }))
}

/// Cancel the sign-in (only the user who scanned it).
#[utoipa::path(post, path = "/api/v1/qr/{id}/cancel", tag = "app",
    params(("id" = String, Path, description = "ticket id")),
    responses((status = 200, description = "the new status", body = StatusResponse),
        (status = 403, description = "not_yours", body = ApiError),
        (status = 429, description = "rate_limited", body = ApiError),
        (status = 409, description = "not_scanned, cancelled, already_consumed", body = ApiError),
        (status = 410, description = "expired", body = ApiError)))]
pub async fn cancel(
    State(state): State<AppState>,
    AppAuth(session): AppAuth,
    TicketPath(id): TicketPath,
) -> AppResult<ApiJson<StatusResponse>> {
    state.limits.app_action(&session.id).await?;
    let event = Event::Cancel {
        user: session.user.id,
    };
    let ticket = state.tickets.apply(&id, event).await?;
    Ok(ApiJson(StatusResponse {
        status: ticket.status(),
    }))
}
