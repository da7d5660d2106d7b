//! [`ApiClient`]: the app side of the HTTP API (v1) of one login server.
//!
//! Every call that carries a [`LoginQr`] first checks that the code was
//! issued by this client's server, so the app token is never sent anywhere
//! else, whatever a QR code says. Redirects are not followed, for the same
//! reason.

use std::time::Duration;

use qrlogin_core::{
    AccountSettings, ApiError, ConfirmRequest, LoginQr, Origin, RevokeResponse, ScanResponse,
    SessionList, SessionToken, SignInList, SignInRequest, SignInResponse, StatusResponse,
    UserProfile,
};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::ClientError;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTP client bound to one login server. Cheap to clone.
#[derive(Debug, Clone)]
pub struct ApiClient {
    http: reqwest::Client,
    server: Origin,
}

impl ApiClient {
    /// A client for `server`: rustls trusting both the bundled Mozilla roots
    /// and the OS's certificate store (self-hosted servers with a company CA),
    /// no redirects, 10 s connect and 30 s request timeouts.
    pub fn new(server: Origin) -> Result<Self, ClientError> {
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("qrlogin-client/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ClientError::ServerUnreachable {
                server: server.to_string(),
                detail: format!("cannot set up HTTPS: {e}"),
            })?;
        Ok(Self { http, server })
    }

    /// Parses a server address typed by a person (`https://host[:port]`,
    /// plain `http` only for this computer).
    pub fn parse_server(url: &str) -> Result<Origin, ClientError> {
        let trimmed = url.trim();
        Origin::parse(trimmed).map_err(|reason| ClientError::BadServerUrl {
            url: trimmed.to_string(),
            reason,
        })
    }

    /// The only origin this client talks to.
    pub fn server(&self) -> &Origin {
        &self.server
    }

    /// `POST /api/v1/app/sessions`.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<SignInResponse, ClientError> {
        let body = SignInRequest {
            username: username.to_string(),
            password: password.to_string(),
            device_name: device_name.to_string(),
        };
        let req = self
            .request(Method::POST, "/api/v1/app/sessions")
            .json(&body);
        self.send_json(req).await
    }

    /// `DELETE /api/v1/app/sessions/current`: revokes `token`.
    pub async fn sign_out(&self, token: &SessionToken) -> Result<(), ClientError> {
        let req = self
            .request(Method::DELETE, "/api/v1/app/sessions/current")
            .bearer_auth(token.expose());
        self.send_empty(req).await
    }

    /// `GET /api/v1/app/me`.
    pub async fn me(&self, token: &SessionToken) -> Result<UserProfile, ClientError> {
        let req = self
            .request(Method::GET, "/api/v1/app/me")
            .bearer_auth(token.expose());
        self.send_json(req).await
    }

    /// `POST /api/v1/qr/{id}/scan`: tells the server this user scanned the
    /// code; returns who is asking.
    pub async fn scan(
        &self,
        token: &SessionToken,
        qr: &LoginQr,
    ) -> Result<ScanResponse, ClientError> {
        self.ticket_call(token, qr, "scan").await
    }

    /// `POST /api/v1/qr/{id}/confirm`, with the picked number when number
    /// matching is on. Without a number no body is sent at all, so servers
    /// that predate number matching keep working.
    pub async fn confirm(
        &self,
        token: &SessionToken,
        qr: &LoginQr,
        verification_code: Option<&str>,
    ) -> Result<StatusResponse, ClientError> {
        self.check_origin(qr)?;
        let mut req = self
            .request(Method::POST, &format!("/api/v1/qr/{}/confirm", qr.id))
            .bearer_auth(token.expose());
        if let Some(code) = verification_code {
            req = req.json(&ConfirmRequest {
                verification_code: Some(code.to_string()),
            });
        }
        self.send_json(req).await
    }

    /// `POST /api/v1/qr/{id}/cancel`.
    pub async fn cancel(
        &self,
        token: &SessionToken,
        qr: &LoginQr,
    ) -> Result<StatusResponse, ClientError> {
        self.ticket_call(token, qr, "cancel").await
    }

    /// `GET /api/v1/app/sessions`: the user's signed-in apps, newest first.
    pub async fn sessions(&self, token: &SessionToken) -> Result<SessionList, ClientError> {
        let req = self
            .request(Method::GET, "/api/v1/app/sessions")
            .bearer_auth(token.expose());
        self.send_json(req).await
    }

    /// `DELETE /api/v1/app/sessions/{id}`: signs that app out.
    pub async fn revoke_session(&self, token: &SessionToken, id: &str) -> Result<(), ClientError> {
        let id = checked_id("session", id)?;
        let req = self
            .request(Method::DELETE, &format!("/api/v1/app/sessions/{id}"))
            .bearer_auth(token.expose());
        self.send_empty(req)
            .await
            .map_err(|e| unknown_id_if_not_found(e, "session", id))
    }

    /// `GET /api/v1/app/sign-ins`: the user's web sign-ins by QR code.
    pub async fn sign_ins(&self, token: &SessionToken) -> Result<SignInList, ClientError> {
        let req = self
            .request(Method::GET, "/api/v1/app/sign-ins")
            .bearer_auth(token.expose());
        self.send_json(req).await
    }

    /// `POST /api/v1/app/sign-ins/{id}/revoke` ("Was this you? — No"): signs
    /// that browser out, or cancels the sign-in if it has not finished.
    pub async fn revoke_sign_in(
        &self,
        token: &SessionToken,
        ticket_id: &str,
    ) -> Result<RevokeResponse, ClientError> {
        let id = checked_id("sign-in", ticket_id)?;
        let req = self
            .request(Method::POST, &format!("/api/v1/app/sign-ins/{id}/revoke"))
            .bearer_auth(token.expose());
        self.send_json(req)
            .await
            .map_err(|e| unknown_id_if_not_found(e, "sign-in", id))
    }

    /// `GET /api/v1/app/settings`.
    pub async fn settings(&self, token: &SessionToken) -> Result<AccountSettings, ClientError> {
        let req = self
            .request(Method::GET, "/api/v1/app/settings")
            .bearer_auth(token.expose());
        self.send_json(req).await
    }

    /// `PATCH /api/v1/app/settings`.
    pub async fn update_settings(
        &self,
        token: &SessionToken,
        settings: &AccountSettings,
    ) -> Result<AccountSettings, ClientError> {
        let req = self
            .request(Method::PATCH, "/api/v1/app/settings")
            .bearer_auth(token.expose())
            .json(settings);
        self.send_json(req).await
    }

    /// Refuses a code from any origin but this client's server.
    pub fn check_origin(&self, qr: &LoginQr) -> Result<(), ClientError> {
        if qr.is_from(&self.server) {
            Ok(())
        } else {
            Err(ClientError::ForeignOrigin {
                scanned: qr.origin.clone(),
                signed_in: self.server.clone(),
            })
        }
    }

    async fn ticket_call<T: DeserializeOwned>(
        &self,
        token: &SessionToken,
        qr: &LoginQr,
        action: &str,
    ) -> Result<T, ClientError> {
        self.check_origin(qr)?;
        let path = format!("/api/v1/qr/{}/{action}", qr.id);
        let req = self
            .request(Method::POST, &path)
            .bearer_auth(token.expose());
        self.send_json(req).await
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        // `Origin`'s Display is `scheme://host[:port]` with no trailing slash.
        self.http.request(method, format!("{}{path}", self.server))
    }

    async fn send(&self, req: RequestBuilder) -> Result<Response, ClientError> {
        let res = req.send().await.map_err(|e| self.unreachable(&e))?;
        let status = res.status();
        if status.is_success() {
            return Ok(res);
        }
        if status.is_redirection() {
            return Err(ClientError::ServerError {
                server: self.server.to_string(),
                detail: format!("unexpected redirect (HTTP {status}); redirects are not followed"),
            });
        }
        let text = res.text().await.unwrap_or_default();
        match serde_json::from_str::<ApiError>(&text) {
            Ok(body) => Err(ClientError::from_api(&self.server, status.as_u16(), body)),
            Err(_) => Err(self.non_api_error(status)),
        }
    }

    async fn send_json<T: DeserializeOwned>(&self, req: RequestBuilder) -> Result<T, ClientError> {
        let res = self.send(req).await?;
        let bytes = res.bytes().await.map_err(|e| self.unreachable(&e))?;
        serde_json::from_slice(&bytes).map_err(|e| ClientError::ServerError {
            server: self.server.to_string(),
            detail: format!("its answer could not be understood: {e}"),
        })
    }

    async fn send_empty(&self, req: RequestBuilder) -> Result<(), ClientError> {
        self.send(req).await.map(drop)
    }

    fn non_api_error(&self, status: StatusCode) -> ClientError {
        let server = self.server.to_string();
        match status {
            StatusCode::UNAUTHORIZED => ClientError::SignedOut { server },
            StatusCode::NOT_FOUND => ClientError::ServerError {
                server,
                detail: "HTTP 404: is this a QR Login server?".into(),
            },
            StatusCode::TOO_MANY_REQUESTS => ClientError::RateLimited,
            s => ClientError::ServerError {
                server,
                detail: format!("HTTP {s}"),
            },
        }
    }

    fn unreachable(&self, e: &reqwest::Error) -> ClientError {
        let detail = if e.is_timeout() {
            "no answer in time".to_string()
        } else if e.is_connect() {
            "connection failed".to_string()
        } else {
            e.to_string()
        };
        ClientError::ServerUnreachable {
            server: self.server.to_string(),
            detail,
        }
    }
}

/// Session and sign-in ids go into a URL path: only plain id characters
/// (letters, digits, `-`, `_`) pass, so an id typed by a person can never
/// reach another endpoint (`..`, `/`, `current`, `?`). Anything else cannot
/// be one of the user's ids, and is refused without a request.
fn checked_id<'a>(what: &str, id: &'a str) -> Result<&'a str, ClientError> {
    let id = id.trim();
    let plain = !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && id != "current";
    if plain {
        Ok(id)
    } else {
        Err(ClientError::UnknownId {
            what: what.into(),
            id: id.into(),
        })
    }
}

fn unknown_id_if_not_found(err: ClientError, what: &str, id: &str) -> ClientError {
    match err {
        ClientError::NotFound => ClientError::UnknownId {
            what: what.into(),
            id: id.into(),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrlogin_core::TicketId;

    #[test]
    fn parse_server_trims_and_names_bad_addresses() {
        let origin = ApiClient::parse_server(" https://login.example.com/ ").unwrap();
        assert_eq!(origin.to_string(), "https://login.example.com");
        let err = ApiClient::parse_server("http://login.example.com").unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::BadServerUrl);
        assert!(err.to_string().contains("http://login.example.com"));
    }

    #[tokio::test]
    async fn a_code_from_another_origin_is_refused_without_a_request() {
        // Port 9 (discard) on loopback: if a request were attempted, the error
        // would be `server_unreachable`, not `foreign_origin`.
        let client = ApiClient::new(Origin::parse("http://127.0.0.1:9").unwrap()).unwrap();
        let qr = LoginQr::new(
            Origin::parse("http://127.0.0.1:10").unwrap(),
            TicketId::from_random_bytes([7; 16]),
        );
        let token = SessionToken::from_random_bytes([1; 32]);
        for err in [
            client.scan(&token, &qr).await.unwrap_err(),
            client.confirm(&token, &qr, None).await.unwrap_err(),
            client.confirm(&token, &qr, Some("42")).await.unwrap_err(),
            client.cancel(&token, &qr).await.unwrap_err(),
        ] {
            assert_eq!(err.kind(), crate::ErrorKind::ForeignOrigin);
        }
    }

    #[tokio::test]
    async fn ids_that_are_not_plain_are_refused_without_a_request() {
        let client = ApiClient::new(Origin::parse("http://127.0.0.1:9").unwrap()).unwrap();
        let token = SessionToken::from_random_bytes([1; 32]);
        for id in ["", "current", "../me", "a/b", "x?y=1", "a b", "%2e%2e"] {
            let err = client.revoke_session(&token, id).await.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnknownId, "{id:?}");
            let err = client.revoke_sign_in(&token, id).await.unwrap_err();
            assert_eq!(err.kind(), crate::ErrorKind::UnknownId, "{id:?}");
        }
        // A plain id is sent (and here fails to connect).
        let err = client.revoke_session(&token, "s_1-A").await.unwrap_err();
        assert_eq!(err.kind(), crate::ErrorKind::ServerUnreachable);
    }
}
