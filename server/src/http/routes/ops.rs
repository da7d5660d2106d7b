//! Operations endpoints: health, metrics, JWKS, initials avatars.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::IntoResponse;
use qrlogin_core::UserId;
use serde_json::json;

use crate::AppState;
use crate::avatar::initials_svg;
use crate::http::error::{AppError, AppResult};
use crate::http::extract::ApiJson;

/// Health: checks the database and the ticket store.
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "all good"), (status = 503, description = "a dependency is down")))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let database = state.db.ping().await;
    let store = state.tickets.store().ping().await;
    if let Err(e) = &database {
        tracing::warn!(error = %e, "health: database down");
    }
    if let Err(e) = &store {
        tracing::warn!(error = %e, "health: ticket store down");
    }
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let ok = database.is_ok() && store.is_ok();
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": word(ok),
        "database": word(database.is_ok()),
        "ticket_store": word(store.is_ok()),
    });
    (status, ApiJson(body))
}

/// Prometheus metrics (text format).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition", content_type = "text/plain")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        state.metrics.render(),
    )
}

/// The public keys that verify access tokens (Ed25519) and id_tokens
/// (RSA, P-256, Ed25519; current and retired): a JWK Set, readable from any
/// origin.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "ops",
    responses((status = 200, description = "JWK Set")))]
pub async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let mut keys = state.tokens.jwks()["keys"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    keys.extend(state.oidc.keys.jwks());
    (
        [
            (CACHE_CONTROL, "public, max-age=300"),
            (axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        ApiJson(serde_json::json!({ "keys": keys })),
    )
}

/// A user's initials avatar (`/avatars/<user id>.svg`).
#[utoipa::path(get, path = "/avatars/{file}", tag = "ops",
    params(("file" = String, Path, description = "<user id>.svg")),
    responses((status = 200, description = "SVG image", content_type = "image/svg+xml"), (status = 404, description = "no such user")))]
pub async fn avatar(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> AppResult<impl IntoResponse> {
    let missing = || AppError::not_found("no such avatar");
    let id = file.strip_suffix(".svg").ok_or_else(missing)?;
    let user = state
        .accounts
        .get(&UserId(id.to_string()))
        .await?
        .ok_or_else(missing)?;
    Ok((
        [
            (CONTENT_TYPE, "image/svg+xml"),
            (CACHE_CONTROL, "public, max-age=3600"),
        ],
        initials_svg(&user.display_name, &user.id.0),
    ))
}
