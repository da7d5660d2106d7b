//! The `qrlogin-server` binary: user management, demo start, and graceful
//! shutdown on SIGTERM with an open event stream.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use crate::read_events;

const BIN: &str = env!("CARGO_BIN_EXE_qrlogin-server");

fn users(db_url: &str, args: &[&str], stdin: Option<&str>) -> std::process::Output {
    let mut child = Command::new(BIN)
        .arg("users")
        .args(args)
        .env("QRLOGIN_DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn users_add_list_remove_and_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("users.db").display());
    let add = users(
        &url,
        &[
            "add",
            "Carol",
            "--display-name",
            "Carol Cook",
            "--password-stdin",
        ],
        Some("s3cret\n"),
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let again = users(&url, &["add", "carol", "--password-stdin"], Some("x\n"));
    assert!(!again.status.success(), "a duplicate user must be refused");
    let list = users(&url, &["list"], None);
    let listed = String::from_utf8(list.stdout).unwrap();
    assert!(listed.contains("carol\tCarol Cook"), "{listed}");

    let app = crate::spawn_app_at(dir, url.clone(), &[]).await;
    let response = app
        .post_session(serde_json::json!({"username": "carol", "password": "s3cret"}))
        .await;
    assert_eq!(response.status(), 201);
    let body: qrlogin_core::SignInResponse = response.json().await.unwrap();

    let remove = users(&url, &["remove", "carol"], None);
    assert!(
        remove.status.success(),
        "{}",
        String::from_utf8_lossy(&remove.stderr)
    );
    let me = app
        .client
        .get(app.url("/api/v1/app/me"))
        .bearer_auth(body.token.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), 401, "a removed user's sessions end");
    let missing = users(&url, &["remove", "carol"], None);
    assert!(!missing.status.success());
}

/// Starts the binary with `--demo` on a free port and a database in `dir`.
fn start_demo_binary(dir: &tempfile::TempDir) -> (Child, BufReader<ChildStdout>) {
    let mut child = Command::new(BIN)
        .args(["--demo", "--listen", "127.0.0.1:0"])
        .env(
            "QRLOGIN_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("d.db").display()),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    (child, stdout)
}

#[tokio::test]
async fn sigterm_ends_open_event_streams_and_exits_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut stdout) = start_demo_binary(&dir);
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let client = reqwest::Client::new();
    let ticket: qrlogin_core::CreateTicketResponse = client
        .post(format!("{base}/api/v1/qr"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sse = client
        .get(format!("{base}/api/v1/qr/{}/events", ticket.id))
        .bearer_auth(ticket.poll_secret.expose())
        .send()
        .await
        .unwrap();
    let events = tokio::spawn(read_events(sse, |_| false));
    tokio::time::sleep(Duration::from_millis(200)).await;
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let seen = events.await.unwrap();
    assert_eq!(
        seen.len(),
        1,
        "the stream sent the pending view, then closed"
    );
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

#[tokio::test]
async fn demo_start_prints_the_warning_and_the_page_url() {
    let dir = tempfile::tempdir().unwrap();
    let (child, mut stdout) = start_demo_binary(&dir);
    let mut first = String::new();
    let mut second = String::new();
    stdout.read_line(&mut first).unwrap();
    stdout.read_line(&mut second).unwrap();
    assert!(first.contains("listening on http://127.0.0.1:"), "{first}");
    assert!(
        second.starts_with("Login page: http://127.0.0.1:"),
        "{second}"
    );
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("demo"), "{stderr}");
    assert!(
        stderr.contains("alice") && stderr.contains("bob"),
        "{stderr}"
    );
    assert!(output.status.success());
}

/// `users remove` while a relying party holds a token of that user: the
/// token stays on the revocation list until it expires (an offline RP keeps
/// refusing it), and `/api/v1/web/me` refuses it at once.
#[tokio::test]
async fn removing_a_user_keeps_their_live_tokens_revoked() {
    let app = crate::spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    let exchange: qrlogin_core::ExchangeResponse =
        app.exchange(&ticket).await.json().await.unwrap();
    let url = format!("sqlite://{}", app.dir.path().join("test.db").display());
    let removed = users(&url, &["remove", "alice"], None);
    assert!(
        removed.status.success(),
        "{}",
        String::from_utf8_lossy(&removed.stderr)
    );
    let listed: qrlogin_core::RevocationList = app
        .client
        .get(app.url("/api/v1/web/revoked"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let claims = jwt_claims(&exchange.access_token);
    let jti = claims["jti"].as_str().unwrap();
    assert!(
        listed.revoked.iter().any(|r| r.jti == jti),
        "the removed user's token is not on the revocation list"
    );
    let me = app
        .client
        .get(app.url("/api/v1/web/me"))
        .bearer_auth(&exchange.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), reqwest::StatusCode::UNAUTHORIZED);
}

fn jwt_claims(jwt: &str) -> serde_json::Value {
    use base64::Engine as _;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The base URL the server binary prints on its first stdout line.
pub fn read_listen_url(stdout: ChildStdout) -> String {
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    line.split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_string()
}

fn server_cli(db_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("QRLOGIN_DATABASE_URL", db_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[tokio::test]
async fn clients_add_prints_one_json_object_and_a_running_server_accepts_the_client_at_once() {
    let app = crate::spawn_app().await;
    let url = format!("sqlite://{}", app.dir.path().join("test.db").display());
    let add = server_cli(
        &url,
        &[
            "clients",
            "add",
            "--name",
            "Wiki",
            "--redirect-uri",
            "https://wiki.example/cb",
            "--id-token-alg",
            "ES256",
        ],
    );
    assert!(
        add.status.success(),
        "{}",
        String::from_utf8_lossy(&add.stderr)
    );
    let stdout = String::from_utf8(add.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1, "exactly one line: {stdout}");
    let printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let id = printed["client_id"].as_str().unwrap();
    assert_eq!(printed["client_secret"].as_str().unwrap().len(), 43);
    let public = server_cli(
        &url,
        &[
            "clients",
            "add",
            "--name",
            "SPA",
            "--public",
            "--redirect-uri",
            "http://localhost/cb",
        ],
    );
    let public: serde_json::Value = serde_json::from_slice(&public.stdout).unwrap();
    assert!(
        public.get("client_secret").is_none(),
        "public clients get no secret"
    );
    let bad = server_cli(
        &url,
        &[
            "clients",
            "add",
            "--name",
            "X",
            "--redirect-uri",
            "http://evil.example/cb",
        ],
    );
    assert!(!bad.status.success(), "plain http is only for loopback");
    let list = String::from_utf8(server_cli(&url, &["clients", "list"]).stdout).unwrap();
    assert!(
        list.contains(&format!("{id}\tconfidential\tES256\tWiki")),
        "{list}"
    );
    // The running server knows the new client without a restart.
    let page = app
        .client
        .get(app.url(&format!(
            "/oauth2/authorize?response_type=code&scope=openid&client_id={id}&redirect_uri=https%3A%2F%2Fwiki.example%2Fcb"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Sign in to <span id=\"client-name\">Wiki</span>")
    );
    let removed = server_cli(&url, &["clients", "remove", id]);
    assert!(removed.status.success());
    let gone = app
        .client
        .get(app.url(&format!(
            "/oauth2/authorize?response_type=code&scope=openid&client_id={id}&redirect_uri=https%3A%2F%2Fwiki.example%2Fcb"
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 400, "a removed client is refused at once");
}

#[tokio::test]
async fn keys_rotate_keeps_the_old_public_keys_published() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("k.db").display());
    let key = dir.path().join("jwt.pem");
    let key = key.to_str().unwrap();
    for _ in 0..2 {
        let out = server_cli(&url, &["keys", "--jwt-key", key, "rotate"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let files = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(files, 3 + 3, "three current and three retired keys");
}
