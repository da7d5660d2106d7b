//! Integration tests of the login server over real HTTP on an ephemeral port.
//! One binary; `spawn_app()` starts a fresh server (fresh SQLite file or a
//! fresh PostgreSQL schema, fresh signing key, demo users alice and bob).

mod auth;
mod brute_force;
mod cli;
mod database_tls;
mod errors;
mod expiry;
mod flow;
mod malformed;
mod network;
mod number_matching;
mod oidc;
mod ops;
mod races;
mod rate_limit;
mod redis_store;
mod resource_bounds;
mod sessions;
mod shared_limits;
mod sign_ins;
mod slow_clients;
mod store;
mod streams;
mod usenix_flaws;

use std::time::Duration;

use clap::Parser as _;
use qrlogin_core::{ApiError, CreateTicketResponse, ErrorCode, StatusView};
use qrlogin_server::{Clock, Command, Config, RunningServer};
use reqwest::{Response, StatusCode};

pub const FIREFOX_UA: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Defines `$name` twice, as `sqlite::$name` and `postgres::$name`, each
/// calling `async fn $name(db: Db)`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::Db::Sqlite).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::Db::Postgres).await })*
        }
    };
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub server: Option<RunningServer>,
    pub dir: tempfile::TempDir,
    /// The server's clock (manual in tests that move time by hand).
    pub clock: Clock,
}

/// A fresh server with SQLite and default lifetimes.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Db::Sqlite, &[]).await
}

/// A fresh server on `db` with extra command-line flags.
pub async fn spawn_app_with(db: Db, extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database_url = match db {
        Db::Sqlite => format!("sqlite://{}", dir.path().join("test.db").display()),
        Db::Postgres => fresh_postgres_schema().await,
    };
    spawn_app_at(dir, database_url, extra).await
}

/// A fresh SQLite server whose clock stands still until the test moves it
/// with `app.clock.advance(..)`.
pub async fn spawn_app_with_manual_clock(extra: &[&str]) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", dir.path().join("test.db").display());
    let clock = Clock::manual(time::OffsetDateTime::now_utc());
    spawn_app_on_clock(dir, database_url, extra, clock).await
}

/// A server in `dir` on the database at `database_url`.
pub async fn spawn_app_at(dir: tempfile::TempDir, database_url: String, extra: &[&str]) -> TestApp {
    spawn_app_on_clock(dir, database_url, extra, Clock::system()).await
}

async fn spawn_app_on_clock(
    dir: tempfile::TempDir,
    database_url: String,
    extra: &[&str],
    clock: Clock,
) -> TestApp {
    let key = dir.path().join("jwt.pem");
    let mut args = vec![
        "qrlogin-server".to_string(),
        "serve".into(),
        "--listen".into(),
        "127.0.0.1:0".into(),
        "--database-url".into(),
        database_url,
        "--jwt-key".into(),
        key.display().to_string(),
        "--demo".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let Command::Serve(serve) = Config::try_parse_from(args).unwrap().into_command() else {
        panic!("expected serve")
    };
    let server = qrlogin_server::server::start_with_clock(&serve, clock.clone())
        .await
        .unwrap();
    TestApp {
        base: server.url(),
        client: reqwest::Client::builder()
            .user_agent(FIREFOX_UA)
            .timeout(Duration::from_secs(40))
            .build()
            .unwrap(),
        server: Some(server),
        dir,
        clock,
    }
}

pub use qrlogin_testkit::postgres::fresh_schema as fresh_postgres_schema;

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `POST /api/v1/qr` → the 201 body.
    pub async fn create(&self) -> CreateTicketResponse {
        let response = self
            .client
            .post(self.url("/api/v1/qr"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        response.json().await.unwrap()
    }

    /// Signs `username` in with the demo password; returns the app token.
    pub async fn sign_in(&self, username: &str) -> String {
        let response = self.post_session(serde_json::json!({"username": username, "password": "demo", "device_name": "test"})).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: serde_json::Value = response.json().await.unwrap();
        body["token"].as_str().unwrap().to_string()
    }

    /// `POST /api/v1/app/sessions` with this JSON body.
    pub async fn post_session(&self, body: serde_json::Value) -> Response {
        self.client
            .post(self.url("/api/v1/app/sessions"))
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A web-side call: `method` on `/api/v1/qr/{id}{suffix}` with the
    /// ticket's poll secret (`suffix` may carry a sub-path and a query).
    pub async fn page_call(
        &self,
        method: reqwest::Method,
        ticket: &CreateTicketResponse,
        suffix: &str,
    ) -> Response {
        self.client
            .request(
                method,
                self.url(&format!("/api/v1/qr/{}{suffix}", ticket.id)),
            )
            .bearer_auth(ticket.poll_secret.expose())
            .send()
            .await
            .unwrap()
    }

    /// `POST /api/v1/qr/{id}/{action}` with an app token.
    pub async fn app_call(&self, token: &str, id: &str, action: &str) -> Response {
        self.client
            .post(self.url(&format!("/api/v1/qr/{id}/{action}")))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn status(&self, ticket: &CreateTicketResponse) -> StatusView {
        let response = self.page_call(reqwest::Method::GET, ticket, "").await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }

    pub async fn exchange(&self, ticket: &CreateTicketResponse) -> Response {
        self.page_call(reqwest::Method::POST, ticket, "/exchange")
            .await
    }

    /// A ticket scanned and confirmed by alice.
    pub async fn confirmed_ticket(&self) -> CreateTicketResponse {
        let ticket = self.create().await;
        let alice = self.sign_in("alice").await;
        let id = ticket.id.to_string();
        assert_eq!(
            self.app_call(&alice, &id, "scan").await.status(),
            StatusCode::OK
        );
        assert_eq!(
            self.app_call(&alice, &id, "confirm").await.status(),
            StatusCode::OK
        );
        ticket
    }
}

/// Asserts an error response: status, JSON body, and the code.
pub async fn assert_error(response: Response, status: u16, code: ErrorCode) {
    assert_eq!(
        response.status().as_u16(),
        status,
        "status of {}",
        response.url()
    );
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "content type {content_type}"
    );
    let body: ApiError = response.json().await.unwrap();
    assert_eq!(body.error, code, "message: {}", body.message);
    assert!(!body.message.is_empty());
    assert_eq!(code.http_status(), status);
}

/// Reads server-sent events from a response until `until` says stop or the
/// stream ends; returns the StatusViews seen.
pub async fn read_events(
    mut response: Response,
    mut until: impl FnMut(&StatusView) -> bool,
) -> Vec<StatusView> {
    let mut parser = qrlogin_testkit::sse::EventParser::new();
    let mut views = Vec::new();
    while let Some(chunk) = tokio::time::timeout(Duration::from_secs(10), response.chunk())
        .await
        .expect("no event within 10 s")
        .unwrap()
    {
        for event in parser.push(&chunk) {
            let view: StatusView = serde_json::from_str(&event.data).unwrap();
            let stop = until(&view);
            views.push(view);
            if stop {
                return views;
            }
        }
    }
    views
}
