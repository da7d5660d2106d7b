//! [`Session`]: the signed-in state of the app or the CLI, and the scan →
//! confirm/cancel flow on top of [`ApiClient`]. Both the Tauri app and the
//! `qrlogin` binary use only this.

use std::net::IpAddr;
use std::sync::Arc;

use qrlogin_core::{
    AccountSettings, AppSessionInfo, LoginQr, Origin, RequesterInfo, RevokeOutcome, SessionToken,
    SignInRecord, UserProfile,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::account::{Account, AccountFile, TokenStorage};
use crate::api::ApiClient;
use crate::decode::CodeCheck;
use crate::error::ClientError;
use crate::store::TokenStore;

/// A signed-in account: server, user, token. Cheap to clone (the app keeps
/// one in its state and clones it out for each call).
#[derive(Debug, Clone)]
pub struct Session {
    api: ApiClient,
    account: Account,
    token: SessionToken,
    store: Arc<dyn TokenStore>,
    file: AccountFile,
}

/// A scanned login code, accepted by the server: who is asking, and until
/// when they can be answered. Serializable for the app's UI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginRequest {
    /// The scanned code (`https://<origin>/q/<id>`).
    #[serde(with = "login_qr_text")]
    pub qr: LoginQr,
    /// The origin of the site the person is signing in to, as the server
    /// names it: the page that showed the code (an allowed origin or the
    /// server's own), or for an OpenID Connect sign-in the client's redirect
    /// URI's origin. The code itself is always of the server this session is
    /// signed in to (checked before the scan).
    pub site: String,
    /// The site's name as the server gives it (`--site-name`, by default the
    /// host), for "Sign in to <name>?".
    pub site_name: String,
    /// The browser that shows the code.
    pub requester: RequesterInfo,
    /// Deadline for Confirm or Cancel.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// This device's address as the server sees it.
    pub scanner_ip: IpAddr,
    /// False when the browser is on another network than this device: show
    /// [`LoginRequest::different_network_warning`].
    pub same_network: bool,
    /// With number matching on: three numbers, one of them shown on the
    /// page. [`Session::confirm`] then needs the one the person picks.
    #[serde(default)]
    pub verification_choices: Option<[String; 3]>,
}

impl LoginRequest {
    /// The warning to show when the browser is on another network than this
    /// device (`None` when it is on the same one).
    pub fn different_network_warning(&self) -> Option<String> {
        (!self.same_network).then(|| {
            format!(
                "Warning: this sign-in request comes from a different network ({}) than this device ({}). If you did not just open this page yourself, cancel.",
                self.requester.ip, self.scanner_ip
            )
        })
    }

    /// Whether confirming needs the number the page shows.
    pub fn needs_verification_code(&self) -> bool {
        self.verification_choices.is_some()
    }
}

/// What [`Session::sign_out`] managed to do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignOutOutcome {
    /// The server revoked the token (false when it was unreachable; the
    /// token was still deleted here).
    pub revoked_on_server: bool,
    /// Why it was not revoked, in words, when it was not.
    pub note: Option<String>,
}

impl Session {
    /// Signs in with a password, keeps the token in `store` and writes the
    /// account file. If the token cannot be stored (e.g. no OS keyring), the
    /// new server session is revoked again and the error says how to fix it.
    pub async fn sign_in(
        server_url: &str,
        username: &str,
        password: &str,
        device_name: &str,
        store: Arc<dyn TokenStore>,
        storage: TokenStorage,
        file: AccountFile,
    ) -> Result<Session, ClientError> {
        let server = ApiClient::parse_server(server_url)?;
        let api = ApiClient::new(server.clone())?;
        let response = api.sign_in(username.trim(), password, device_name).await?;
        let account = Account {
            server,
            username: response.user.username.clone(),
            user: response.user,
            token_storage: storage,
        };
        let token = response.token;
        let saved = blocking({
            let (store, account, token) = (store.clone(), account.clone(), token.clone());
            move || store.save(&account.server, &account.username, &token)
        })
        .await
        .and_then(|()| file.save(&account));
        if let Err(e) = saved {
            // Leave no usable token behind on the server that nobody holds.
            let _ = api.sign_out(&token).await;
            return Err(e);
        }
        Ok(Session {
            api,
            account,
            token,
            store,
            file,
        })
    }

    /// The saved session, if there is an account file and a token for it.
    /// Does not contact the server (use [`Session::me`] to check it).
    pub async fn restore(
        file: AccountFile,
        store: Arc<dyn TokenStore>,
    ) -> Result<Option<Session>, ClientError> {
        let Some(account) = file.load()? else {
            return Ok(None);
        };
        let token = blocking({
            let (store, account) = (store.clone(), account.clone());
            move || store.load(&account.server, &account.username)
        })
        .await?;
        let Some(token) = token else {
            return Ok(None);
        };
        let api = ApiClient::new(account.server.clone())?;
        Ok(Some(Session {
            api,
            account,
            token,
            store,
            file,
        }))
    }

    /// The signed-in user, as saved at sign-in (or the last [`Session::me`]).
    pub fn user(&self) -> &UserProfile {
        &self.account.user
    }

    /// The server this session belongs to; the only origin it sends its
    /// token to.
    pub fn server(&self) -> &Origin {
        &self.account.server
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    /// Asks the server who we are (proves the token still works) and
    /// refreshes the saved profile.
    pub async fn me(&mut self) -> Result<UserProfile, ClientError> {
        let user = self.api.me(&self.token).await?;
        if user != self.account.user {
            self.account.user = user.clone();
            self.file.save(&self.account)?;
        }
        Ok(user)
    }

    /// Parses scanned text and checks that it is a login code of this
    /// session's server. No network; nothing is sent when this fails.
    pub fn check_code(&self, scanned_text: &str) -> Result<LoginQr, ClientError> {
        self.code_check().check(scanned_text)
    }

    /// Which codes this session acts on: login codes of its server.
    pub fn code_check(&self) -> CodeCheck {
        CodeCheck::Server(self.server().clone())
    }

    /// Checks the scanned text ([`Session::check_code`]), then tells the
    /// server this user scanned it and returns who is asking.
    pub async fn begin_login(&self, scanned_text: &str) -> Result<LoginRequest, ClientError> {
        let qr = self.check_code(scanned_text)?;
        let scan = self.api.scan(&self.token, &qr).await?;
        Ok(LoginRequest {
            site: scan.site.origin,
            site_name: scan.site.name,
            qr,
            requester: scan.requester,
            expires_at: scan.expires_at,
            scanner_ip: scan.scanner_ip,
            same_network: scan.same_network,
            verification_choices: scan.verification_choices,
        })
    }

    /// Confirms the sign-in: the browser that shows the code is signed in.
    ///
    /// With number matching on, `verification_code` is the number the person
    /// picked among the request's choices; without it nothing is sent and
    /// the answer is [`ClientError::VerificationRequired`]. A number that is
    /// not the page's cancels the sign-in on the server
    /// ([`ClientError::WrongVerificationCode`]). Without number matching the
    /// code is ignored and the request carries no body.
    pub async fn confirm(
        &self,
        request: &LoginRequest,
        verification_code: Option<&str>,
    ) -> Result<(), ClientError> {
        let code = match (&request.verification_choices, verification_code) {
            (None, _) => None,
            (Some(_), None) => return Err(ClientError::VerificationRequired),
            (Some(_), Some(code)) => Some(code.trim()),
        };
        self.api
            .confirm(&self.token, &request.qr, code)
            .await
            .map(drop)
    }

    /// Refuses the sign-in.
    pub async fn cancel(&self, request: &LoginRequest) -> Result<(), ClientError> {
        self.api.cancel(&self.token, &request.qr).await.map(drop)
    }

    /// The user's signed-in apps (this one has `current: true`), newest
    /// first.
    pub async fn list_sessions(&self) -> Result<Vec<AppSessionInfo>, ClientError> {
        Ok(self.api.sessions(&self.token).await?.sessions)
    }

    /// Signs another app of this user out. To sign this one out, use
    /// [`Session::sign_out`] (it also forgets the token here).
    pub async fn revoke_session(&self, id: &str) -> Result<(), ClientError> {
        self.api.revoke_session(&self.token, id).await
    }

    /// The user's web sign-ins by QR code (who, when, from where), newest
    /// first.
    pub async fn list_sign_ins(&self) -> Result<Vec<SignInRecord>, ClientError> {
        Ok(self.api.sign_ins(&self.token).await?.sign_ins)
    }

    /// "Was this you? — No": signs out the browser of the sign-in with this
    /// ticket id ([`RevokeOutcome::Revoked`]), or cancels it if the page has
    /// not received its token yet ([`RevokeOutcome::Cancelled`]).
    pub async fn revoke_sign_in(&self, ticket_id: &str) -> Result<RevokeOutcome, ClientError> {
        Ok(self
            .api
            .revoke_sign_in(&self.token, ticket_id)
            .await?
            .outcome)
    }

    /// The account's settings (whether QR sign-in is on).
    pub async fn settings(&self) -> Result<AccountSettings, ClientError> {
        self.api.settings(&self.token).await
    }

    /// Turns signing in by QR code on or off for this account; returns the
    /// settings as the server now has them.
    pub async fn set_qr_login(&self, enabled: bool) -> Result<AccountSettings, ClientError> {
        let wanted = AccountSettings {
            qr_login_enabled: enabled,
        };
        self.api.update_settings(&self.token, &wanted).await
    }

    /// Revokes the token on the server, then deletes it and the account
    /// file here. When the server cannot be reached (or already forgot the
    /// token) the local copies are deleted all the same, and the outcome
    /// says so.
    pub async fn sign_out(&self) -> Result<SignOutOutcome, ClientError> {
        let outcome = match self.api.sign_out(&self.token).await {
            Ok(()) => SignOutOutcome {
                revoked_on_server: true,
                note: None,
            },
            Err(e @ ClientError::SignedOut { .. }) => SignOutOutcome {
                revoked_on_server: true,
                note: Some(e.to_string()),
            },
            Err(e) => SignOutOutcome {
                revoked_on_server: false,
                note: Some(format!(
                    "{e} The token was deleted from this device, but it stays valid on the server until it expires or is revoked there."
                )),
            },
        };
        blocking({
            let (store, account) = (self.store.clone(), self.account.clone());
            move || store.delete(&account.server, &account.username)
        })
        .await?;
        self.file.delete()?;
        Ok(outcome)
    }
}

/// Runs a blocking token-store call off the async worker threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ClientError> + Send + 'static,
) -> Result<T, ClientError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ClientError::storage("use the token store", e))?
}

mod login_qr_text {
    use qrlogin_core::LoginQr;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(qr: &LoginQr, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(qr)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<LoginQr, D::Error> {
        let text = String::deserialize(d)?;
        LoginQr::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrlogin_core::TicketId;
    use time::macros::datetime;

    fn request() -> LoginRequest {
        LoginRequest {
            qr: LoginQr::new(
                Origin::parse("http://127.0.0.1:8080").unwrap(),
                TicketId::from_random_bytes([3; 16]),
            ),
            site: "http://127.0.0.1:8080".into(),
            site_name: "Example".into(),
            requester: RequesterInfo {
                ip: "203.0.113.7".parse().unwrap(),
                user_agent: "Mozilla/5.0".into(),
                browser: "Firefox 133".into(),
                os: "Linux".into(),
                created_at: datetime!(2026-11-25 12:00:00 UTC),
            },
            expires_at: datetime!(2026-11-25 12:01:00 UTC),
            scanner_ip: "198.51.100.2".parse().unwrap(),
            same_network: false,
            verification_choices: None,
        }
    }

    #[test]
    fn a_request_from_another_network_warns_and_names_both_addresses() {
        let warning = request().different_network_warning().unwrap();
        assert_eq!(
            warning,
            "Warning: this sign-in request comes from a different network (203.0.113.7) than this device (198.51.100.2). If you did not just open this page yourself, cancel."
        );
        let same = LoginRequest {
            same_network: true,
            ..request()
        };
        assert_eq!(same.different_network_warning(), None);
    }

    #[tokio::test]
    async fn confirming_without_the_number_when_matching_is_on_sends_nothing() {
        // The server is port 9 on loopback: a request would fail with
        // `server_unreachable`, not `verification_required`.
        let file = AccountFile::new(std::env::temp_dir().join("qrlogin-unused/account.json"));
        let session = Session {
            api: ApiClient::new(Origin::parse("http://127.0.0.1:9").unwrap()).unwrap(),
            account: Account {
                server: Origin::parse("http://127.0.0.1:9").unwrap(),
                username: "alice".into(),
                user: UserProfile {
                    id: "u1".into(),
                    username: "alice".into(),
                    display_name: "Alice".into(),
                    avatar_url: None,
                },
                token_storage: TokenStorage::Keyring,
            },
            token: SessionToken::from_random_bytes([1; 32]),
            store: Arc::new(crate::MemoryTokenStore::new()),
            file,
        };
        let mut matching = request();
        matching.qr = LoginQr::new(
            session.server().clone(),
            TicketId::from_random_bytes([3; 16]),
        );
        matching.verification_choices = Some(["42".into(), "17".into(), "80".into()]);
        let err = session.confirm(&matching, None).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::VerificationRequired);
        let err = session.confirm(&matching, Some("42")).await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::ServerUnreachable);
    }

    #[test]
    fn login_request_round_trips_through_json_with_the_code_as_text() {
        let request = LoginRequest {
            verification_choices: Some(["42".into(), "17".into(), "80".into()]),
            ..request()
        };
        let json = serde_json::to_value(&request).unwrap();
        assert_eq!(
            json["qr"],
            format!("http://127.0.0.1:8080/q/{}", request.qr.id)
        );
        assert_eq!(json["requester"]["browser"], "Firefox 133");
        let back: LoginRequest = serde_json::from_value(json).unwrap();
        assert_eq!(back, request);
    }
}
