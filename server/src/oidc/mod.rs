//! The OpenID Provider: the QR confirm as the sign-in step of the
//! authorization code flow (OpenID Connect Core 1.0, RFC 6749, RFC 7636,
//! RFC 9207, RFC 7009). The rules (request validation, PKCE, redirect URI
//! matching, claims by scope) are `qrlogin-core`'s `oidc` module; this one
//! stores, signs and answers.
//!
//! - [`authorize`]: the authorization request → the hosted QR page, a ticket
//!   bound to the request, and after the confirm a single-use code.
//! - [`token`]: client authentication, the code and refresh-token grants.
//! - [`access`]: userinfo and revocation.
//! - [`clients`]: registering clients (`qrlogin-server clients …`).

pub mod access;
pub mod authorize;
pub mod clients;
pub mod token;

use std::time::Duration;

use qrlogin_core::oidc::{OAuthError, OAuthErrorCode};

use crate::accounts::AccountError;
use crate::db::DbError;
use crate::keys::SigningKeys;
use crate::tickets::TicketError;
use crate::tokens::KeyError;

/// How long an authorization code may wait for the token request.
pub const CODE_LIFETIME: Duration = Duration::from_secs(60);

/// How long a refresh token lives (each use rotates it).
pub const REFRESH_TOKEN_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);

/// The provider's keys and lifetimes (in `AppState`).
#[derive(Debug)]
pub struct Provider {
    pub keys: SigningKeys,
    /// Lifetime of id_tokens and access tokens.
    pub token_lifetime: Duration,
}

/// What went wrong in an OAuth exchange: an RFC 6749 error for the client,
/// or a failure of ours.
#[derive(Debug, thiserror::Error)]
pub enum OAuthFailure {
    #[error("{}: {description}", code.as_str())]
    Refused {
        code: OAuthErrorCode,
        description: String,
    },
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Ticket(#[from] TicketError),
}

impl OAuthFailure {
    pub fn refused(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        Self::Refused {
            code,
            description: description.into(),
        }
    }

    /// The RFC 6749 §5.2 body: ours say nothing internal.
    pub fn body(&self) -> OAuthError {
        let (error, description) = match self {
            Self::Refused { code, description } => (*code, description.clone()),
            Self::Db(DbError::Unavailable(_)) | Self::Ticket(TicketError::Store(_)) => (
                OAuthErrorCode::TemporarilyUnavailable,
                "the server is busy; try again shortly".into(),
            ),
            _ => (
                OAuthErrorCode::ServerError,
                "the server could not complete the request".into(),
            ),
        };
        OAuthError {
            error,
            error_description: Some(description),
        }
    }
}

pub type OAuthResult<T> = Result<T, OAuthFailure>;
