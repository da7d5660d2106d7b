//! Extractors whose rejections are [`AppError`]s (so bad JSON, a wrong
//! content type, a malformed id or query all answer the JSON error shape),
//! and the kinds of authentication: the page's poll secret, the app's
//! session token, and the web access token from the exchange. A handler that
//! takes one of these cannot forget to check it.

use crate::AppState;
use crate::db::AppSession;
use crate::http::error::AppError;
use crate::sign_ins;
use crate::tickets::PageAccess;
use crate::tokens::VerifiedToken;
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use qrlogin_core::{ErrorCode, SessionToken, TicketId};
use serde::de::DeserializeOwned;

/// `axum::Json` with our error shape for every rejection.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::new(
            ErrorCode::UnsupportedMediaType,
            "send the body as JSON with Content-Type: application/json",
        ),
        JsonRejection::JsonSyntaxError(e) => AppError::new(
            ErrorCode::InvalidJson,
            format!("malformed JSON: {}", e.body_text()),
        ),
        JsonRejection::JsonDataError(e) => AppError::invalid_request(e.body_text()),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::new(ErrorCode::PayloadTooLarge, "request body too large")
        }
        other => AppError::invalid_request(other.body_text()),
    }
}

/// An optional JSON body: `None` when the request has no body (with or
/// without a content type), else parsed like [`ApiJson`] (415 without a
/// JSON content type, 400 `invalid_json` when malformed).
pub struct OptionalJson<T>(pub Option<T>);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for OptionalJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let json_content_type = is_json(req.headers());
        let body = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                AppError::new(ErrorCode::PayloadTooLarge, "request body too large")
            } else {
                AppError::invalid_request(rejection.body_text())
            }
        })?;
        if body.is_empty() {
            return Ok(Self(None));
        }
        if !json_content_type {
            return Err(AppError::new(
                ErrorCode::UnsupportedMediaType,
                "send the body as JSON with Content-Type: application/json",
            ));
        }
        axum::Json::<T>::from_bytes(&body)
            .map(|axum::Json(value)| Self(Some(value)))
            .map_err(json_rejection)
    }
}

/// `Content-Type: application/json` (or `application/*+json`), any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence
        .strip_prefix("application/")
        .is_some_and(|subtype| subtype == "json" || subtype.ends_with("+json"))
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

/// `axum::extract::Query` answering 400 `invalid_request` when malformed.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Self(q.0))
            .map_err(|e: QueryRejection| AppError::invalid_request(e.body_text()))
    }
}

/// The `{id}` path segment as a valid [`TicketId`]; 400 `invalid_ticket_id` otherwise.
pub struct TicketPath(pub TicketId);

impl<S: Send + Sync> FromRequestParts<S> for TicketPath {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(text) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| invalid_id())?;
        TicketId::parse(&text).map(Self).map_err(|_| invalid_id())
    }
}

fn invalid_id() -> AppError {
    AppError::new(
        ErrorCode::InvalidTicketId,
        "the code id must be 22 characters of base64url",
    )
}

/// The bearer credential of the request, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, credential) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credential.trim())
        .filter(|c| !c.is_empty())
}

/// Web side: the ticket id from the path plus `Authorization: Bearer
/// <poll_secret>`. Missing → 401 here; the secret itself is checked against
/// the ticket by the service (unknown id → 404, wrong secret → 401).
pub struct PageAuth(pub PageAccess);

impl FromRequestParts<AppState> for PageAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let TicketPath(id) = TicketPath::from_request_parts(parts, state).await?;
        let secret = bearer(&parts.headers).ok_or_else(|| {
            AppError::unauthorized("send the poll secret as Authorization: Bearer <poll_secret>")
        })?;
        Ok(Self(PageAccess {
            id,
            secret: secret.to_string(),
        }))
    }
}

/// App side: `Authorization: Bearer <app session token>` of a live session.
pub struct AppAuth(pub AppSession);

impl FromRequestParts<AppState> for AppAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let refused =
            || AppError::unauthorized("sign in to the app first (missing or revoked token)");
        let token = bearer(&parts.headers)
            .and_then(|t| SessionToken::parse(t).ok())
            .ok_or_else(refused)?;
        let session = state.accounts.session(&token).await?.ok_or_else(refused)?;
        Ok(Self(session))
    }
}

/// Web side, signed in: `Authorization: Bearer <access_token>` from the
/// exchange, verified with the server's own key (signature, issuer, expiry)
/// and checked against the revocation list.
pub struct WebAuth(pub VerifiedToken);

impl FromRequestParts<AppState> for WebAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let jwt = bearer(&parts.headers).ok_or_else(|| {
            AppError::unauthorized("send the access token as Authorization: Bearer <access_token>")
        })?;
        let origin = parts
            .headers
            .get(axum::http::header::ORIGIN)
            .and_then(|v| v.to_str().ok());
        Ok(Self(sign_ins::verify_web_token(state, jwt, origin).await?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_is_parsed_case_insensitively() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "bearer abc".parse().unwrap());
        assert_eq!(bearer(&headers), Some("abc"));
        headers.insert(AUTHORIZATION, "Basic abc".parse().unwrap());
        assert_eq!(bearer(&headers), None);
        headers.insert(AUTHORIZATION, "Bearer ".parse().unwrap());
        assert_eq!(bearer(&headers), None);
    }
}
