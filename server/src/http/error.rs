//! [`AppError`]: every failure a handler can return, answered as core's
//! [`ApiError`] body `{"error", "message"}` with the code's HTTP status.
//! 5xx bodies say nothing internal; the cause is logged in the request span.
//!
//! This is the one place where the services' domain errors become HTTP
//! answers: each `From` below maps one service's error enum.

use axum::Json;
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use qrlogin_core::oidc::OAuthErrorCode;
use qrlogin_core::{ApiError, ErrorCode, TransitionError};

use crate::accounts::AccountError;
use crate::db::DbError;
use crate::limits::Refused;
use crate::oidc::OAuthFailure;
use crate::passwords::PasswordError;
use crate::sign_ins::SignInError;
use crate::store::StoreError;
use crate::tickets::TicketError;

/// A failed request: an API error code, a message for the client, and (for
/// server faults) the cause, which is logged but never sent.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    cause: Option<String>,
    /// Seconds for the `Retry-After` header (rate limits).
    retry_after: Option<u64>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            cause: None,
            retry_after: None,
        }
    }

    /// 429 `rate_limited`, with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64, message: impl Into<String>) -> Self {
        Self {
            retry_after: Some(seconds),
            ..Self::new(ErrorCode::RateLimited, message)
        }
    }

    /// A server-side fault: the client sees only "internal error".
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        Self {
            code: ErrorCode::Internal,
            message: "internal error".into(),
            cause: Some(cause.to_string()),
            retry_after: None,
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AppError {}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        Self::new(e.code(), e.to_string())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(cause) => Self {
                cause: Some(cause),
                ..Self::new(
                    ErrorCode::ServiceUnavailable,
                    "the ticket store is unavailable, try again shortly",
                )
            },
            StoreError::Full => Self::new(
                ErrorCode::ServiceUnavailable,
                "too many sign-ins in progress, try again shortly",
            ),
            other => Self::internal(other),
        }
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::Unavailable(cause) => Self {
                cause: Some(cause.to_string()),
                ..Self::new(
                    ErrorCode::ServiceUnavailable,
                    "the database is unavailable, try again shortly",
                )
            },
            other => Self::internal(other),
        }
    }
}

impl From<Refused> for AppError {
    fn from(e: Refused) -> Self {
        Self::rate_limited(e.retry_after, e.message)
    }
}

impl From<PasswordError> for AppError {
    fn from(e: PasswordError) -> Self {
        match e {
            PasswordError::Busy => Self {
                retry_after: Some(1),
                ..Self::new(ErrorCode::Busy, e.to_string())
            },
            PasswordError::Hash(_) => Self::internal(e),
        }
    }
}

impl From<TicketError> for AppError {
    fn from(e: TicketError) -> Self {
        let message = e.to_string();
        match e {
            TicketError::NotFound => Self::not_found(message),
            TicketError::WrongSecret => Self::unauthorized(message),
            TicketError::Transition(t) => t.into(),
            TicketError::WrongVerificationCode => {
                Self::new(ErrorCode::WrongVerificationCode, message)
            }
            TicketError::Conflict => Self::new(ErrorCode::Conflict, message),
            TicketError::Store(s) => s.into(),
            TicketError::QrCode(_) => Self::internal(message),
        }
    }
}

impl From<AccountError> for AppError {
    fn from(e: AccountError) -> Self {
        match e {
            AccountError::Invalid(m) => Self::invalid_request(m),
            AccountError::QrLoginDisabled => Self::new(ErrorCode::QrLoginDisabled, e.to_string()),
            AccountError::Db(db) => db.into(),
            AccountError::Password(p) => p.into(),
            AccountError::Exists(_) => Self::internal(e),
        }
    }
}

impl From<SignInError> for AppError {
    fn from(e: SignInError) -> Self {
        let message = e.to_string();
        match e {
            SignInError::Ticket(t) => t.into(),
            SignInError::Account(a) => a.into(),
            SignInError::Db(db) => db.into(),
            SignInError::NotTheirs | SignInError::UserGone => Self::not_found(message),
            SignInError::Token(_) | SignInError::TokenUserGone => Self::unauthorized(message),
            SignInError::TokenRevoked => Self::new(ErrorCode::TokenRevoked, message),
            SignInError::ConfirmingSessionEnded | SignInError::Declined => {
                Self::new(ErrorCode::Cancelled, message)
            }
        }
    }
}

/// An OAuth failure on the API of this server (not an OAuth endpoint):
/// a refused request is 400 `invalid_request`.
impl From<OAuthFailure> for AppError {
    fn from(e: OAuthFailure) -> Self {
        match e {
            OAuthFailure::Refused { description, .. } => Self::invalid_request(description),
            OAuthFailure::Db(db) => db.into(),
            OAuthFailure::Ticket(t) => t.into(),
            OAuthFailure::Account(a) => a.into(),
            OAuthFailure::Key(k) => Self::internal(k),
        }
    }
}

/// An OAuth endpoint's error answer: RFC 6749 §5.2's `{error,
/// error_description}`, 400 (401 with `WWW-Authenticate` for a client that
/// failed to authenticate or a bad bearer token), never cached.
#[derive(Debug)]
pub struct OAuthErrorResponse(pub OAuthFailure);

impl From<OAuthFailure> for OAuthErrorResponse {
    fn from(e: OAuthFailure) -> Self {
        Self(e)
    }
}

impl IntoResponse for OAuthErrorResponse {
    fn into_response(self) -> Response {
        let body = self.0.body();
        let (status, challenge) = match body.error {
            OAuthErrorCode::InvalidClient => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Basic realm="qrlogin""#.to_string()),
            ),
            OAuthErrorCode::InvalidToken => (
                StatusCode::UNAUTHORIZED,
                Some(r#"Bearer error="invalid_token""#.to_string()),
            ),
            OAuthErrorCode::ServerError => {
                tracing::error!(cause = %self.0, "OAuth request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, None)
            }
            OAuthErrorCode::TemporarilyUnavailable => (StatusCode::SERVICE_UNAVAILABLE, None),
            _ => (StatusCode::BAD_REQUEST, None),
        };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            axum::http::header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        );
        if let Some(challenge) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(axum::http::header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let Some(cause) = &self.cause {
            tracing::error!(code = %self.code, %cause, "request failed");
        }
        let body = ApiError::new(self.code, self.message);
        let mut response = (status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

pub type AppResult<T> = Result<T, AppError>;
