//! A real `qrlogin-server --demo` process on a free loopback port, in a
//! temporary working directory (its SQLite file and key), killed on drop.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use qrlogin_core::{ApiError, CreateTicketResponse, ExchangeResponse, StatusView};
use qrlogin_testkit::process::server_binary;

pub struct TestServer {
    child: Child,
    pub url: String,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// A server started with extra flags (e.g. `--verification-code`).
    pub async fn start_with(flags: &[&str]) -> Self {
        let bin = server_binary();
        assert!(
            bin.exists(),
            "the login server binary {} is missing: run `cargo build -p qrlogin-server` first \
             (scripts/test builds every binary before the tests), or set QRLOGIN_SERVER_BIN",
            bin.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let port = free_port();
        let url = format!("http://127.0.0.1:{port}");
        let child = Command::new(&bin)
            .current_dir(dir.path())
            .args(["--demo", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--public-url", &url])
            .args(flags)
            .env_remove("QRLOGIN_DATABASE_URL")
            .env_remove("QRLOGIN_REDIS_URL")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
        let server = TestServer {
            child,
            url,
            _dir: dir,
            http: reqwest::Client::new(),
        };
        server.wait_healthy().await;
        server
    }

    async fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(res) = self.http.get(format!("{}/healthz", self.url)).send().await
                && res.status().is_success()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "qrlogin-server did not answer /healthz at {} within 30 s",
                self.url
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What the web page does first: a new ticket.
    pub async fn create_ticket(&self) -> CreateTicketResponse {
        self.create_ticket_from(None).await
    }

    /// A new ticket asked for by a browser at `forwarded_for` (sent as
    /// `X-Forwarded-For`, which the server believes only with `--trust-proxy`).
    pub async fn create_ticket_from(&self, forwarded_for: Option<&str>) -> CreateTicketResponse {
        let mut req = self.http.post(format!("{}/api/v1/qr", self.url)).header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
        );
        if let Some(ip) = forwarded_for {
            req = req.header("x-forwarded-for", ip);
        }
        let res = req.send().await.expect("POST /api/v1/qr");
        assert_eq!(res.status(), 201, "creating a ticket");
        res.json().await.expect("CreateTicketResponse")
    }

    /// What the web page sees of its ticket.
    pub async fn status(&self, ticket: &CreateTicketResponse) -> StatusView {
        let res = self
            .http
            .get(format!("{}/api/v1/qr/{}", self.url, ticket.id))
            .bearer_auth(ticket.poll_secret.expose())
            .send()
            .await
            .expect("GET /api/v1/qr/{id}");
        assert_eq!(res.status(), 200, "ticket status");
        res.json().await.expect("StatusView")
    }

    /// Raw `POST /api/v1/app/sessions`: a new app session of `user`
    /// (password `demo`) on a device called `device`; its token.
    pub async fn app_sign_in(&self, user: &str, device: &str) -> String {
        let res = self
            .http
            .post(format!("{}/api/v1/app/sessions", self.url))
            .json(
                &serde_json::json!({ "username": user, "password": "demo", "device_name": device }),
            )
            .send()
            .await
            .expect("POST /api/v1/app/sessions");
        assert_eq!(res.status(), 201, "signing in {user}");
        let body: serde_json::Value = res.json().await.expect("SignInResponse");
        body["token"].as_str().expect("token").to_string()
    }

    /// Raw `POST /api/v1/qr/{id}/scan` with an app `token`: the status code.
    pub async fn scan_with(&self, token: &str, ticket: &CreateTicketResponse) -> u16 {
        self.http
            .post(format!("{}/api/v1/qr/{}/scan", self.url, ticket.id))
            .bearer_auth(token)
            .send()
            .await
            .expect("POST /api/v1/qr/{id}/scan")
            .status()
            .as_u16()
    }

    /// What the web page does after the confirm: its access token.
    pub async fn exchange(&self, ticket: &CreateTicketResponse) -> ExchangeResponse {
        let res = self
            .http
            .post(format!("{}/api/v1/qr/{}/exchange", self.url, ticket.id))
            .bearer_auth(ticket.poll_secret.expose())
            .send()
            .await
            .expect("POST /api/v1/qr/{id}/exchange");
        assert_eq!(res.status(), 200, "exchange");
        res.json().await.expect("ExchangeResponse")
    }

    /// Raw `GET /api/v1/web/me` with a web access token: the status code and
    /// the error body, if any.
    pub async fn web_me(&self, access_token: &str) -> (u16, Option<ApiError>) {
        let res = self
            .http
            .get(format!("{}/api/v1/web/me", self.url))
            .bearer_auth(access_token)
            .send()
            .await
            .expect("GET /api/v1/web/me");
        let status = res.status().as_u16();
        (status, res.json::<ApiError>().await.ok())
    }

    /// Raw `GET /api/v1/app/me` with `token`: the status code.
    pub async fn me_status(&self, token: &str) -> u16 {
        self.http
            .get(format!("{}/api/v1/app/me", self.url))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /api/v1/app/me")
            .status()
            .as_u16()
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The QR code of `text` as a PNG file in `dir` (what a screenshot of the
/// login page would contain).
pub fn qr_png(dir: &std::path::Path, name: &str, text: &str) -> PathBuf {
    let img = crate::synth::center(&crate::synth::render(text, 6), 800, 600);
    let path = dir.join(name);
    img.save(&path).expect("writing the QR PNG");
    path
}
