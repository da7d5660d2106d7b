//! The API's error vocabulary: [`ErrorCode`] (stable snake_case codes with
//! their HTTP status), the [`ApiError`] body, and [`TransitionError`] — why the
//! state machine refused an event.

use serde::{Deserialize, Serialize};

/// Every `error` code the HTTP API can answer with. The text form is stable:
/// clients branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    // 400
    InvalidRequest,
    InvalidJson,
    InvalidTicketId,
    /// Number matching is on and the confirm carried no number.
    VerificationRequired,
    // 401
    Unauthorized,
    InvalidCredentials,
    /// The web access token was revoked by its user.
    TokenRevoked,
    // 403
    NotYours,
    QrLoginDisabled,
    /// The number picked in the app is not the one on the page; the sign-in
    /// was cancelled.
    WrongVerificationCode,
    // 404
    NotFound,
    // 405
    MethodNotAllowed,
    // 409
    NotScanned,
    AlreadyScanned,
    AlreadyConfirmed,
    NotConfirmed,
    AlreadyConsumed,
    Cancelled,
    Conflict,
    // 410
    Expired,
    // 413
    PayloadTooLarge,
    // 415
    UnsupportedMediaType,
    // 429
    RateLimited,
    // 5xx
    Internal,
    ServiceUnavailable,
    /// Too many password checks at once: try again after `Retry-After`.
    Busy,
    /// A code this version does not know (a newer server).
    #[serde(other)]
    Unknown,
}

impl ErrorCode {
    /// The HTTP status this code is sent with.
    pub fn http_status(self) -> u16 {
        use ErrorCode::*;
        match self {
            InvalidRequest | InvalidJson | InvalidTicketId | VerificationRequired => 400,
            Unauthorized | InvalidCredentials | TokenRevoked => 401,
            NotYours | QrLoginDisabled | WrongVerificationCode => 403,
            NotFound => 404,
            MethodNotAllowed => 405,
            NotScanned | AlreadyScanned | AlreadyConfirmed | NotConfirmed | AlreadyConsumed
            | Cancelled | Conflict => 409,
            Expired => 410,
            PayloadTooLarge => 413,
            UnsupportedMediaType => 415,
            RateLimited => 429,
            Internal | Unknown => 500,
            ServiceUnavailable | Busy => 503,
        }
    }

    /// The snake_case text of the code, as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            InvalidRequest => "invalid_request",
            InvalidJson => "invalid_json",
            InvalidTicketId => "invalid_ticket_id",
            VerificationRequired => "verification_required",
            Unauthorized => "unauthorized",
            InvalidCredentials => "invalid_credentials",
            TokenRevoked => "token_revoked",
            NotYours => "not_yours",
            QrLoginDisabled => "qr_login_disabled",
            WrongVerificationCode => "wrong_verification_code",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            NotScanned => "not_scanned",
            AlreadyScanned => "already_scanned",
            AlreadyConfirmed => "already_confirmed",
            NotConfirmed => "not_confirmed",
            AlreadyConsumed => "already_consumed",
            Cancelled => "cancelled",
            Conflict => "conflict",
            Expired => "expired",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            RateLimited => "rate_limited",
            Internal => "internal",
            ServiceUnavailable => "service_unavailable",
            Busy => "busy",
            Unknown => "unknown",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error response: `{"error": "<code>", "message": "<text>"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ApiError {
    pub error: ErrorCode,
    pub message: String,
}

impl ApiError {
    pub fn new(error: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            error,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.error)
    }
}

impl std::error::Error for ApiError {}

/// Why [`crate::Ticket::apply`] refused an event. Each variant is one API
/// error code ([`TransitionError::code`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    #[error("this code has not been scanned yet")]
    NotScanned,
    #[error("this code was already scanned by someone else")]
    AlreadyScanned,
    #[error("this sign-in was already confirmed")]
    AlreadyConfirmed,
    #[error("this code was scanned by another account")]
    NotYours,
    #[error("this sign-in has not been confirmed yet")]
    NotConfirmed,
    #[error("this sign-in was already completed")]
    AlreadyConsumed,
    #[error("this sign-in was cancelled")]
    Cancelled,
    #[error("this code has expired")]
    Expired,
    #[error("pick the number shown on the sign-in page")]
    VerificationRequired,
}

impl TransitionError {
    pub fn code(self) -> ErrorCode {
        match self {
            Self::NotScanned => ErrorCode::NotScanned,
            Self::AlreadyScanned => ErrorCode::AlreadyScanned,
            Self::AlreadyConfirmed => ErrorCode::AlreadyConfirmed,
            Self::NotYours => ErrorCode::NotYours,
            Self::NotConfirmed => ErrorCode::NotConfirmed,
            Self::AlreadyConsumed => ErrorCode::AlreadyConsumed,
            Self::Cancelled => ErrorCode::Cancelled,
            Self::Expired => ErrorCode::Expired,
            Self::VerificationRequired => ErrorCode::VerificationRequired,
        }
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> Self {
        ApiError::new(e.code(), e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_code_text_matches_serde() {
        for code in [
            ErrorCode::InvalidRequest,
            ErrorCode::AlreadyConsumed,
            ErrorCode::NotYours,
            ErrorCode::RateLimited,
            ErrorCode::ServiceUnavailable,
        ] {
            let json = serde_json::to_string(&code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }

    #[test]
    fn unknown_codes_from_a_newer_server_still_parse() {
        let e: ApiError = serde_json::from_str(r#"{"error":"brand_new","message":"m"}"#).unwrap();
        assert_eq!(e.error, ErrorCode::Unknown);
    }

    #[test]
    fn transition_errors_map_to_contract_statuses() {
        assert_eq!(TransitionError::AlreadyScanned.code().http_status(), 409);
        assert_eq!(TransitionError::NotYours.code().http_status(), 403);
        assert_eq!(TransitionError::Expired.code().http_status(), 410);
        assert_eq!(
            TransitionError::AlreadyConsumed.code().as_str(),
            "already_consumed"
        );
        assert_eq!(
            TransitionError::NotConfirmed.code().as_str(),
            "not_confirmed"
        );
    }
}
