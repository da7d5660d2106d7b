//! [`ClientError`]: everything that can go wrong on the app side, each with a
//! message fit to show a person (what happened and what to do), and an
//! [`ErrorKind`] a user interface can branch on.

use qrlogin_core::{ApiError, ErrorCode, Origin, QrParseError};
use serde::{Deserialize, Serialize, Serializer};

/// What kind of failure a [`ClientError`] is; stable snake_case text, so a UI
/// (or a script reading `--json`) can branch on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(rename = "ClientErrorKind"))]
pub enum ErrorKind {
    BadServerUrl,
    ServerUnreachable,
    ServerError,
    InvalidCredentials,
    SignedOut,
    NotSignedIn,
    KeyringUnavailable,
    Storage,
    NotALoginCode,
    ForeignOrigin,
    NoCodeFound,
    Image,
    Camera,
    Expired,
    AlreadyScanned,
    NotYours,
    NotScanned,
    AlreadyConfirmed,
    AlreadyConsumed,
    Cancelled,
    NotFound,
    QrLoginDisabled,
    WrongVerificationCode,
    VerificationRequired,
    TokenRevoked,
    UnknownId,
    RateLimited,
    Rejected,
}

impl ErrorKind {
    /// The snake_case text of the kind, as serialized.
    pub fn as_str(self) -> &'static str {
        use ErrorKind::*;
        match self {
            BadServerUrl => "bad_server_url",
            ServerUnreachable => "server_unreachable",
            ServerError => "server_error",
            InvalidCredentials => "invalid_credentials",
            SignedOut => "signed_out",
            NotSignedIn => "not_signed_in",
            KeyringUnavailable => "keyring_unavailable",
            Storage => "storage",
            NotALoginCode => "not_a_login_code",
            ForeignOrigin => "foreign_origin",
            NoCodeFound => "no_code_found",
            Image => "image",
            Camera => "camera",
            Expired => "expired",
            AlreadyScanned => "already_scanned",
            NotYours => "not_yours",
            NotScanned => "not_scanned",
            AlreadyConfirmed => "already_confirmed",
            AlreadyConsumed => "already_consumed",
            Cancelled => "cancelled",
            NotFound => "not_found",
            QrLoginDisabled => "qr_login_disabled",
            WrongVerificationCode => "wrong_verification_code",
            VerificationRequired => "verification_required",
            TokenRevoked => "token_revoked",
            UnknownId => "unknown_id",
            RateLimited => "rate_limited",
            Rejected => "rejected",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An app-side failure. `Display` is a complete sentence for a person;
/// [`ClientError::kind`] is for code. Serializes as `{"kind", "message"}`.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(
        "\"{url}\" is not a login server address ({reason}). Use the address of your login server, such as https://login.example.com"
    )]
    BadServerUrl { url: String, reason: QrParseError },

    #[error(
        "Could not reach the login server at {server} ({detail}). Check the address and your network connection, then try again."
    )]
    ServerUnreachable { server: String, detail: String },

    #[error("The login server at {server} had a problem ({detail}). Try again in a moment.")]
    ServerError { server: String, detail: String },

    #[error("Wrong user name or password. Check both and try again.")]
    InvalidCredentials,

    #[error(
        "Your sign-in on {server} has ended (signed out or revoked on the server). Sign in again."
    )]
    SignedOut { server: String },

    #[error("You are not signed in. Sign in to your login server first.")]
    NotSignedIn,

    /// The key that encrypted the saved token is gone (Android Keystore:
    /// screen lock changed or removed, app data cleared): the token can
    /// never be read again and was forgotten.
    #[error(
        "This device can no longer read your saved sign-in on {server}: the key that protected it is gone (the screen lock was changed or removed, or the app's data was cleared). You are signed out here. Sign in again."
    )]
    TokenKeyLost { server: String, detail: String },

    #[error(
        "No OS keyring is available to keep your sign-in token safe ({detail}). On Linux, start and unlock a Secret Service keyring (GNOME Keyring or KeePassXC) in your session; on a headless machine, run inside `dbus-run-session` with an unlocked gnome-keyring-daemon. The command line can instead keep the token in a file readable only by you with --insecure-storage."
    )]
    KeyringUnavailable { detail: String },

    #[error("Could not {action} ({detail}).")]
    Storage { action: String, detail: String },

    #[error("This QR code is not a QR Login code: {reason}. Nothing was sent.")]
    NotALoginCode { reason: QrParseError },

    #[error(
        "This code is for {scanned}, but you are signed in to {signed_in}. Nothing was sent. Only scan codes shown on the login page of {signed_in}: a code for another site may be an attempt to take over your account."
    )]
    ForeignOrigin { scanned: Origin, signed_in: Origin },

    #[error(
        "No QR code was found in the image. Make sure the whole code is visible, sharp and not too small."
    )]
    NoCodeFound,

    #[error("Could not read the image {path}: {detail}.")]
    Image { path: String, detail: String },

    #[error("Could not use the camera: {detail}.")]
    Camera { detail: String },

    #[error(
        "This login code has expired. Reload the login page in the browser to get a new code, then scan again."
    )]
    Expired,

    #[error(
        "Someone else already scanned this code. If that was not you, do not continue on that page; reload it to get a new code."
    )]
    AlreadyScanned,

    #[error("This code was scanned with another account, so you cannot answer it.")]
    NotYours,

    #[error("This code has not been scanned yet, so there is nothing to confirm. Scan it first.")]
    NotScanned,

    #[error("This sign-in was already confirmed.")]
    AlreadyConfirmed,

    #[error("This sign-in was already completed. Reload the login page to sign in again.")]
    AlreadyConsumed,

    #[error("This sign-in was cancelled (in an app or on the web page).")]
    Cancelled,

    #[error(
        "The login server does not know this code; it may come from an old page. Reload the login page and scan the new code."
    )]
    NotFound,

    #[error(
        "Signing in with a QR code is turned off for this account, so the sign-in was refused. Turn it back on in the settings (command line: `qrlogin qr-login on`), then scan again."
    )]
    QrLoginDisabled { message: String },

    #[error(
        "The number you picked is not the one the sign-in page shows, so the sign-in was cancelled. If you are signing in yourself, reload the page and scan the new code; if you are not, someone may be trying to get into your account: do not scan their codes."
    )]
    WrongVerificationCode,

    #[error(
        "This sign-in needs the number shown on the sign-in page: pick the one the page shows among the three choices, then confirm."
    )]
    VerificationRequired,

    #[error(
        "This sign-in on {server} was revoked (signed out from another device or by you). Sign in again."
    )]
    TokenRevoked { server: String },

    #[error(
        "There is no {what} \"{id}\" on your account: it may have ended or been revoked already. Use an id from the list."
    )]
    UnknownId { what: String, id: String },

    #[error("Too many attempts. Wait a minute, then try again.")]
    RateLimited,

    #[error("The login server refused the request: {message} ({code}).")]
    Rejected { code: ErrorCode, message: String },
}

impl ClientError {
    pub fn kind(&self) -> ErrorKind {
        use ClientError as E;
        use ErrorKind as K;
        match self {
            E::BadServerUrl { .. } => K::BadServerUrl,
            E::ServerUnreachable { .. } => K::ServerUnreachable,
            E::ServerError { .. } => K::ServerError,
            E::InvalidCredentials => K::InvalidCredentials,
            E::SignedOut { .. } | E::TokenKeyLost { .. } => K::SignedOut,
            E::NotSignedIn => K::NotSignedIn,
            E::KeyringUnavailable { .. } => K::KeyringUnavailable,
            E::Storage { .. } => K::Storage,
            E::NotALoginCode { .. } => K::NotALoginCode,
            E::ForeignOrigin { .. } => K::ForeignOrigin,
            E::NoCodeFound => K::NoCodeFound,
            E::Image { .. } => K::Image,
            E::Camera { .. } => K::Camera,
            E::Expired => K::Expired,
            E::AlreadyScanned => K::AlreadyScanned,
            E::NotYours => K::NotYours,
            E::NotScanned => K::NotScanned,
            E::AlreadyConfirmed => K::AlreadyConfirmed,
            E::AlreadyConsumed => K::AlreadyConsumed,
            E::Cancelled => K::Cancelled,
            E::NotFound => K::NotFound,
            E::QrLoginDisabled { .. } => K::QrLoginDisabled,
            E::WrongVerificationCode => K::WrongVerificationCode,
            E::VerificationRequired => K::VerificationRequired,
            E::TokenRevoked { .. } => K::TokenRevoked,
            E::UnknownId { .. } => K::UnknownId,
            E::RateLimited => K::RateLimited,
            E::Rejected { .. } => K::Rejected,
        }
    }

    /// Maps an error answer of the API (`status` and its `{error, message}`
    /// body) to the error the person should see.
    pub fn from_api(server: &Origin, status: u16, body: ApiError) -> Self {
        use ErrorCode as C;
        let server = server.to_string();
        match body.error {
            C::InvalidCredentials => Self::InvalidCredentials,
            C::Unauthorized => Self::SignedOut { server },
            C::Expired => Self::Expired,
            C::AlreadyScanned => Self::AlreadyScanned,
            C::NotYours => Self::NotYours,
            C::NotScanned => Self::NotScanned,
            C::AlreadyConfirmed => Self::AlreadyConfirmed,
            C::AlreadyConsumed => Self::AlreadyConsumed,
            C::Cancelled => Self::Cancelled,
            C::NotFound => Self::NotFound,
            C::QrLoginDisabled => Self::QrLoginDisabled {
                message: body.message,
            },
            C::WrongVerificationCode => Self::WrongVerificationCode,
            C::VerificationRequired => Self::VerificationRequired,
            C::TokenRevoked => Self::TokenRevoked { server },
            C::RateLimited => Self::RateLimited,
            C::Internal | C::ServiceUnavailable | C::Busy => Self::ServerError {
                server,
                detail: format!("HTTP {status}: {}", body.message),
            },
            C::Unknown if status >= 500 => Self::ServerError {
                server,
                detail: format!("HTTP {status}: {}", body.message),
            },
            code => Self::Rejected {
                code,
                message: body.message,
            },
        }
    }

    pub(crate) fn storage(action: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Self::Storage {
            action: action.into(),
            detail: detail.to_string(),
        }
    }
}

impl Serialize for ClientError {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("ClientError", 2)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Origin {
        Origin::parse("https://login.example.com").unwrap()
    }

    #[test]
    fn serializes_as_kind_and_message() {
        let json = serde_json::to_value(ClientError::Expired).unwrap();
        assert_eq!(json["kind"], "expired");
        assert!(json["message"].as_str().unwrap().contains("expired"));
        assert_eq!(json.as_object().unwrap().len(), 2);
    }

    #[test]
    fn kind_text_matches_serde() {
        for kind in [
            ErrorKind::ForeignOrigin,
            ErrorKind::KeyringUnavailable,
            ErrorKind::NotALoginCode,
            ErrorKind::ServerUnreachable,
            ErrorKind::AlreadyScanned,
        ] {
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind.as_str())
            );
        }
    }

    #[test]
    fn api_codes_map_to_kinds_the_ui_can_branch_on() {
        let cases = [
            (
                401,
                ErrorCode::InvalidCredentials,
                ErrorKind::InvalidCredentials,
            ),
            (401, ErrorCode::Unauthorized, ErrorKind::SignedOut),
            (410, ErrorCode::Expired, ErrorKind::Expired),
            (409, ErrorCode::AlreadyScanned, ErrorKind::AlreadyScanned),
            (403, ErrorCode::NotYours, ErrorKind::NotYours),
            (409, ErrorCode::AlreadyConsumed, ErrorKind::AlreadyConsumed),
            (409, ErrorCode::Cancelled, ErrorKind::Cancelled),
            (404, ErrorCode::NotFound, ErrorKind::NotFound),
            (429, ErrorCode::RateLimited, ErrorKind::RateLimited),
            (500, ErrorCode::Internal, ErrorKind::ServerError),
            (503, ErrorCode::Unknown, ErrorKind::ServerError),
            (400, ErrorCode::InvalidTicketId, ErrorKind::Rejected),
            (
                403,
                ErrorCode::WrongVerificationCode,
                ErrorKind::WrongVerificationCode,
            ),
            (
                400,
                ErrorCode::VerificationRequired,
                ErrorKind::VerificationRequired,
            ),
            (401, ErrorCode::TokenRevoked, ErrorKind::TokenRevoked),
            (403, ErrorCode::QrLoginDisabled, ErrorKind::QrLoginDisabled),
        ];
        for (status, code, kind) in cases {
            let err = ClientError::from_api(&server(), status, ApiError::new(code, "m"));
            assert_eq!(err.kind(), kind, "{code}");
        }
    }

    #[test]
    fn security_refusals_say_what_happened_and_what_to_do() {
        let wrong = ClientError::WrongVerificationCode.to_string();
        assert!(wrong.contains("cancelled"), "{wrong}");
        assert!(
            wrong.contains("not the one the sign-in page shows"),
            "{wrong}"
        );
        let off = ClientError::QrLoginDisabled {
            message: "m".into(),
        }
        .to_string();
        assert!(off.contains("turned off"), "{off}");
        assert!(off.contains("qrlogin qr-login on"), "{off}");
        let revoked =
            ClientError::from_api(&server(), 401, ApiError::new(ErrorCode::TokenRevoked, "m"))
                .to_string();
        assert!(revoked.contains("revoked"), "{revoked}");
        assert!(revoked.contains("Sign in again"), "{revoked}");
    }

    #[test]
    fn foreign_origin_message_names_both_sites_and_says_nothing_was_sent() {
        let err = ClientError::ForeignOrigin {
            scanned: Origin::parse("https://evil.example").unwrap(),
            signed_in: server(),
        };
        let text = err.to_string();
        assert!(text.contains("https://evil.example"));
        assert!(text.contains("https://login.example.com"));
        assert!(text.contains("Nothing was sent"));
    }
}
