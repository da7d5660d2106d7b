//! Request and response bodies of the HTTP API (v1), shared by the server and
//! the client so that the two cannot drift apart.

use std::net::IpAddr;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::secret::{PollSecret, SessionToken, TicketId};

/// A ticket's status as the API names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum TicketStatus {
    Pending,
    Scanned,
    Confirmed,
    Consumed,
    Cancelled,
    Expired,
}

impl TicketStatus {
    pub const ALL: [TicketStatus; 6] = [
        Self::Pending,
        Self::Scanned,
        Self::Confirmed,
        Self::Consumed,
        Self::Cancelled,
        Self::Expired,
    ];

    /// Final statuses never change again.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Consumed | Self::Cancelled | Self::Expired)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Scanned => "scanned",
            Self::Confirmed => "confirmed",
            Self::Consumed => "consumed",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

impl std::fmt::Display for TicketStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the waiting page may learn about the app user: no id, no email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct PublicUser {
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// A signed-in user as the user themself (app) or the relying site (exchange) sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct UserProfile {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

/// The browser that asked for a code, as recorded when the ticket was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RequesterInfo {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub ip: IpAddr,
    pub user_agent: String,
    /// e.g. "Firefox 133", parsed from the user agent.
    pub browser: String,
    /// e.g. "Windows 10", parsed from the user agent.
    pub os: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
}

/// `POST /api/v1/qr` → 201.
/// `POST /api/v1/qr`'s optional body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreateTicketRequest {
    /// The query string of an OpenID Connect authorization request
    /// (`client_id=...&redirect_uri=...`, as the hosted authorization page
    /// received it): the ticket then serves that request, and its exchange
    /// answers with the redirect to the client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub authorization: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct CreateTicketResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: TicketId,
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub poll_secret: PollSecret,
    /// The text in the QR code: `https://<origin>/q/<id>`.
    pub qr_url: String,
    /// The QR code as an SVG document.
    pub qr_svg: String,
    pub status: TicketStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: OffsetDateTime,
}

/// `GET /api/v1/qr/{id}` and each event of `/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusView {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub id: TicketId,
    pub status: TicketStatus,
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<PublicUser>,
    /// With number matching on, while `scanned`: the two digits the page
    /// shows and the user must pick in the app.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
    /// When `cancelled`: why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<CancelReason>,
}

/// Why a ticket was cancelled, as the page is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum CancelReason {
    /// The user tapped Cancel in the app (or revoked it from "Was this you?").
    Declined,
    /// The page gave up (`DELETE /api/v1/qr/{id}`).
    Aborted,
    /// The number picked in the app did not match the page's.
    WrongCode,
}

/// Query of `GET /api/v1/qr/{id}`: long-poll until `version > after`, for up
/// to `wait` seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusQuery {
    pub after: Option<u64>,
    pub wait: Option<u32>,
}

impl StatusQuery {
    /// The longest long-poll the server holds, in seconds.
    pub const MAX_WAIT_SECS: u32 = 30;
}

/// `POST /api/v1/qr/{id}/exchange` → 200, exactly once per ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ExchangeResponse {
    /// EdDSA-signed JWT; verify with `/.well-known/jwks.json`.
    pub access_token: String,
    /// Always `"Bearer"`.
    pub token_type: String,
    /// Seconds until `access_token` expires.
    pub expires_in: u64,
    pub user: UserProfile,
}

/// `POST /api/v1/app/sessions`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInRequest {
    pub username: String,
    pub password: String,
    /// A name for this device, shown in the user's session list.
    #[serde(default)]
    pub device_name: String,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("device_name", &self.device_name)
            .finish()
    }
}

/// `POST /api/v1/app/sessions` → 201.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInResponse {
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub token: SessionToken,
    pub user: UserProfile,
}

/// `POST /api/v1/qr/{id}/scan` → 200: who is asking, so the user can decide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ScanResponse {
    pub status: TicketStatus,
    pub requester: RequesterInfo,
    /// Deadline for Confirm or Cancel.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: OffsetDateTime,
    /// The site the user is signing in to.
    pub site: SiteInfo,
    /// The app's own address as the server sees it.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub scanner_ip: IpAddr,
    /// False when the requesting browser is on another network than the app
    /// (different IPv4 address, or different IPv6 /64): show a warning.
    pub same_network: bool,
    /// With number matching on: three numbers, one of them on the page.
    /// Confirm must send the one the user picks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_choices: Option<[String; 3]>,
}

/// The site a code signs in to, shown on the confirm screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SiteInfo {
    /// e.g. "Example Shop" (`--site-name`; the public host by default), or
    /// an OpenID Connect client's registered name.
    pub name: String,
    /// The origin of the site asking: the page that created the code (when
    /// it is an allowed origin), else the server's public origin; for an
    /// OpenID Connect sign-in, the origin of the client's redirect URI.
    pub origin: String,
}

/// `POST /api/v1/qr/{id}/confirm` body (optional; required with number
/// matching on).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ConfirmRequest {
    /// The number the user picked among `verification_choices`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_code: Option<String>,
}

/// One signed-in app (`GET /api/v1/app/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AppSessionInfo {
    pub id: String,
    pub device_name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub created_at: OffsetDateTime,
    /// Updated at most once a minute.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub last_used_at: OffsetDateTime,
    /// True for the session making this request.
    pub current: bool,
}

/// `GET /api/v1/app/sessions` → 200: live (not revoked) sessions, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SessionList {
    pub sessions: Vec<AppSessionInfo>,
}

/// One web sign-in made by QR (recorded at the exchange).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInRecord {
    /// The ticket id of the sign-in (what the app scanned).
    pub id: String,
    /// The browser that was signed in.
    pub requester: RequesterInfo,
    /// The app session that confirmed it.
    pub device_name: String,
    /// When the page received its token.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub signed_in_at: OffsetDateTime,
    /// When the web token expires.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: OffsetDateTime,
    /// Set once the user signed this browser out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string | null"))]
    pub revoked_at: Option<OffsetDateTime>,
    /// The OpenID Connect client (the site's registered name) the sign-in
    /// was for; absent for a sign-in through the SDK.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub client_name: Option<String>,
}

/// Whether a QR sign-in's browser is still signed in ([`SignInRecord::status_at`]).
/// Not on the wire: the app and the CLI derive it from the record, and name it
/// with these words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum SignInStatus {
    /// The web token is still valid.
    Active,
    /// The user signed the browser out ("Was this you? — No").
    Revoked,
    /// The web token's lifetime is over.
    Expired,
}

impl SignInRecord {
    /// The record's status at `now`: revoked wins over expired; a token is
    /// expired from its `expires_at` on.
    pub fn status_at(&self, now: OffsetDateTime) -> SignInStatus {
        if self.revoked_at.is_some() {
            SignInStatus::Revoked
        } else if self.expires_at <= now {
            SignInStatus::Expired
        } else {
            SignInStatus::Active
        }
    }
}

/// `GET /api/v1/app/sign-ins` → 200: the user's QR sign-ins, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct SignInList {
    pub sign_ins: Vec<SignInRecord>,
}

/// `POST /api/v1/app/sign-ins/{id}/revoke` → 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum RevokeOutcome {
    /// The page had not collected its token yet: the ticket was cancelled.
    Cancelled,
    /// The web token was added to the revocation list.
    Revoked,
}

/// `POST /api/v1/app/sign-ins/{id}/revoke` → 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevokeResponse {
    pub outcome: RevokeOutcome,
}

/// `GET` / `PATCH /api/v1/app/settings`: the account's own switches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct AccountSettings {
    /// When false, scanning a code with this account is refused (403
    /// `qr_login_disabled`).
    pub qr_login_enabled: bool,
}

/// One revoked web token id (`GET /api/v1/web/revoked`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevokedToken {
    /// The token's `jti` claim.
    pub jti: String,
    /// The token's `exp`; after it the entry leaves the list.
    #[serde(with = "time::serde::rfc3339")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    #[cfg_attr(feature = "ts", ts(type = "string"))]
    pub expires_at: OffsetDateTime,
}

/// `GET /api/v1/web/revoked` → 200: revoked, not yet expired web tokens, for
/// relying parties that verify tokens offline with the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct RevocationList {
    pub revoked: Vec<RevokedToken>,
}

/// `POST /api/v1/qr/{id}/confirm` and `/cancel` → 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StatusResponse {
    pub status: TicketStatus,
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn round_trip<T>(value: &T) -> T
    where
        T: Serialize + for<'de> Deserialize<'de>,
    {
        serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
    }

    fn requester() -> RequesterInfo {
        RequesterInfo {
            ip: "203.0.113.7".parse().unwrap(),
            user_agent: "Mozilla/5.0".into(),
            browser: "Firefox 133".into(),
            os: "Linux".into(),
            created_at: datetime!(2026-11-25 12:00:00 UTC),
        }
    }

    #[test]
    fn status_view_round_trips_and_omits_missing_user() {
        let view = StatusView {
            id: TicketId::from_random_bytes([5; 16]),
            status: TicketStatus::Pending,
            version: 1,
            expires_at: datetime!(2026-11-25 12:02:00 UTC),
            user: None,
            verification_code: None,
            reason: None,
        };
        let json = serde_json::to_value(&view).unwrap();
        assert_eq!(json["status"], "pending");
        assert_eq!(json["expires_at"], "2026-11-25T12:02:00Z");
        assert!(json.get("user").is_none());
        assert_eq!(round_trip(&view), view);

        let scanned = StatusView {
            status: TicketStatus::Scanned,
            user: Some(PublicUser {
                display_name: "Alice".into(),
                avatar_url: None,
            }),
            ..view
        };
        assert_eq!(round_trip(&scanned), scanned);
    }

    #[test]
    fn create_response_round_trips() {
        let body = CreateTicketResponse {
            id: TicketId::from_random_bytes([1; 16]),
            poll_secret: PollSecret::from_random_bytes([2; 32]),
            qr_url: "https://login.example/q/AQEBAQEBAQEBAQEBAQEBAQ".into(),
            qr_svg: "<svg/>".into(),
            status: TicketStatus::Pending,
            version: 1,
            expires_at: datetime!(2026-11-25 12:02:00 UTC),
        };
        assert_eq!(round_trip(&body), body);
    }

    #[test]
    fn app_side_bodies_round_trip() {
        let user = UserProfile {
            id: "u1".into(),
            username: "alice".into(),
            display_name: "Alice Example".into(),
            avatar_url: Some("https://login.example/avatar/alice.svg".into()),
        };
        let sign_in = SignInResponse {
            token: SessionToken::from_random_bytes([3; 32]),
            user,
        };
        assert_eq!(round_trip(&sign_in), sign_in);
        let scan = ScanResponse {
            status: TicketStatus::Scanned,
            requester: requester(),
            expires_at: datetime!(2026-11-25 12:01:00 UTC),
            site: SiteInfo {
                name: "Example".into(),
                origin: "https://login.example".into(),
            },
            scanner_ip: "198.51.100.2".parse().unwrap(),
            same_network: false,
            verification_choices: Some(["42".into(), "17".into(), "80".into()]),
        };
        assert_eq!(round_trip(&scan), scan);
        let record = SignInRecord {
            id: "AQEBAQEBAQEBAQEBAQEBAQ".into(),
            requester: requester(),
            device_name: "Pixel".into(),
            signed_in_at: datetime!(2026-11-25 12:01:00 UTC),
            expires_at: datetime!(2026-11-25 12:16:00 UTC),
            revoked_at: None,
            client_name: Some("Shop Example".into()),
        };
        assert_eq!(round_trip(&record), record);
        let revoked = SignInRecord {
            revoked_at: Some(datetime!(2026-11-25 12:02:00 UTC)),
            ..record.clone()
        };
        assert_eq!(round_trip(&revoked), revoked);
        let at = |t| record.status_at(t);
        assert_eq!(at(datetime!(2026-11-25 12:15:59 UTC)), SignInStatus::Active);
        assert_eq!(
            at(datetime!(2026-11-25 12:16:00 UTC)),
            SignInStatus::Expired
        );
        assert_eq!(
            revoked.status_at(datetime!(2026-11-25 12:03:00 UTC)),
            SignInStatus::Revoked
        );
        assert_eq!(
            serde_json::to_string(&SignInStatus::Active).unwrap(),
            r#""active""#
        );
        let exchange = ExchangeResponse {
            access_token: "a.b.c".into(),
            token_type: "Bearer".into(),
            expires_in: 900,
            user: sign_in.user.clone(),
        };
        assert_eq!(round_trip(&exchange), exchange);
        let status = StatusResponse {
            status: TicketStatus::Confirmed,
        };
        assert_eq!(
            serde_json::to_string(&status).unwrap(),
            r#"{"status":"confirmed"}"#
        );
    }

    #[test]
    fn sign_in_request_accepts_missing_device_name_and_hides_password() {
        let req: SignInRequest =
            serde_json::from_str(r#"{"username":"alice","password":"hunter2"}"#).unwrap();
        assert_eq!(req.device_name, "");
        assert!(!format!("{req:?}").contains("hunter2"));
    }

    #[test]
    fn poll_secret_with_bad_text_is_refused_by_serde() {
        let bad = r#"{"token":"short","user":{"id":"u","username":"a","display_name":"A","avatar_url":null}}"#;
        assert!(serde_json::from_str::<SignInResponse>(bad).is_err());
    }
}
