//! Processes and proxies the scale tests start, each stopped on drop.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qrlogin_core::{CreateTicketResponse, StatusView};
use reqwest::{Response, StatusCode};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379";
pub const POSTGRES_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A port that was free a moment ago.
pub fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A unique name part for databases and key prefixes.
pub fn unique(kind: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("qrlogin_{kind}_{}_{nanos}", std::process::id())
}

/// Creates an empty PostgreSQL database; returns its URL. Drops the
/// databases of earlier runs (older than an hour) on the way.
pub async fn fresh_database() -> String {
    use sqlx::Connection as _;
    sqlx::any::install_default_drivers();
    let name = unique("scale");
    let mut conn = sqlx::AnyConnection::connect(POSTGRES_ADMIN_URL)
        .await
        .expect("PostgreSQL must be running on 127.0.0.1:5432 (user postgres)");
    drop_old_databases(&mut conn).await;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    format!("postgres://postgres@127.0.0.1:5432/{name}")
}

/// Best effort: `qrlogin_scale_<pid>_<nanos>` databases made over an hour ago.
async fn drop_old_databases(conn: &mut sqlx::AnyConnection) {
    use sqlx::Row as _;
    let hour_ago = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
        .saturating_sub(3_600_000_000_000);
    let Ok(rows) =
        sqlx::query("SELECT datname::text FROM pg_database WHERE datname LIKE 'qrlogin_scale_%'")
            .fetch_all(&mut *conn)
            .await
    else {
        return;
    };
    for row in rows {
        let Ok(name) = row.try_get::<String, _>(0) else {
            continue;
        };
        let made = name.rsplit('_').next().and_then(|n| n.parse::<u128>().ok());
        if made.is_some_and(|made| made < hour_ago) {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *conn)
                .await;
        }
    }
}

/// How to start one instance.
#[derive(Clone)]
pub struct ServerConfig {
    pub dir: PathBuf,
    pub port: u16,
    pub database_url: String,
    pub redis_url: String,
    pub redis_prefix: String,
    pub extra: Vec<String>,
}

impl ServerConfig {
    /// An instance on a free port sharing `database_url` and Redis under `prefix`.
    pub fn new(dir: &Path, database_url: &str, redis_url: &str, prefix: &str) -> Self {
        Self {
            dir: dir.to_path_buf(),
            port: free_port(),
            database_url: database_url.into(),
            redis_url: redis_url.into(),
            redis_prefix: prefix.into(),
            extra: Vec::new(),
        }
    }

    /// The same deployment on another port (a second instance).
    pub fn another(&self) -> Self {
        Self {
            port: free_port(),
            ..self.clone()
        }
    }
}

/// A running `qrlogin-server` process; killed on drop.
pub struct Server {
    pub base: String,
    pub config: ServerConfig,
    child: Child,
}

impl Server {
    /// Starts the binary and waits until it listens (at most 30 s).
    pub async fn start(config: &ServerConfig) -> Self {
        let log = |name: &str| {
            std::fs::File::create(config.dir.join(format!("{}-{name}", config.port))).unwrap()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_qrlogin-server"))
            .args(["serve", "--demo", "--listen"])
            .arg(format!("127.0.0.1:{}", config.port))
            .arg("--database-url")
            .arg(&config.database_url)
            .arg("--redis-url")
            .arg(&config.redis_url)
            .arg("--redis-prefix")
            .arg(&config.redis_prefix)
            // Both instances sign with the same key, as a real deployment must.
            .arg("--jwt-key")
            .arg(config.dir.join("jwt.pem"))
            .args(&config.extra)
            .env("RUST_LOG", "warn,qrlogin_server=info")
            .stdin(Stdio::null())
            .stdout(log("stdout.log"))
            .stderr(log("stderr.log"))
            .spawn()
            .expect("the qrlogin-server binary");
        let server = Self {
            base: format!("http://127.0.0.1:{}", config.port),
            config: config.clone(),
            child,
        };
        server.wait_until_listening().await;
        server
    }

    async fn wait_until_listening(&self) {
        let stdout = self
            .config
            .dir
            .join(format!("{}-stdout.log", self.config.port));
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&stdout).unwrap_or_default();
            if text.contains("listening on") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let stderr = self
            .config
            .dir
            .join(format!("{}-stderr.log", self.config.port));
        panic!(
            "server on port {} did not start: {}",
            self.config.port,
            std::fs::read_to_string(stderr).unwrap_or_default()
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill_hard(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// SIGTERM, then wait for the process to exit (at most 10 s).
    pub async fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill_hard();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill_hard();
    }
}

/// A `redis-server` of the test's own on a free port (no persistence).
pub struct OwnRedis {
    pub port: u16,
    args: Vec<String>,
    child: Option<Child>,
}

impl OwnRedis {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With extra `redis-server` arguments (e.g. `--maxmemory 2mb`).
    pub async fn start_with(args: &[&str]) -> Self {
        let mut redis = Self {
            port: free_port(),
            args: args.iter().map(|a| a.to_string()).collect(),
            child: None,
        };
        redis.restart().await;
        redis
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts it on the same port and waits until it answers PING.
    pub async fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/setup)");
        self.child = Some(child);
        let client = redis::Client::open(self.url()).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
                if redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok()
                {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("redis-server on port {} did not start", self.port);
    }

    /// SIGSTOP / SIGCONT: Redis keeps its sockets open but stops answering,
    /// like a hung server or a network black hole.
    pub fn freeze(&self, frozen: bool) {
        let child = self.child.as_ref().expect("redis-server is running");
        let signal = if frozen { "-STOP" } else { "-CONT" };
        let status = Command::new("kill")
            .arg(signal)
            .arg(child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// SIGKILL.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        if self.child.is_some() {
            self.freeze(false);
        }
        self.kill();
    }
}

/// A TCP proxy in front of PostgreSQL that the test can cut and restore.
pub struct PgProxy {
    pub port: u16,
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl PgProxy {
    pub async fn start() -> Self {
        let proxy = Self {
            port: free_port(),
            tasks: Arc::default(),
        };
        proxy.restore().await;
        proxy
    }

    /// A database URL that goes through the proxy.
    pub fn url(&self, direct_url: &str) -> String {
        direct_url.replace("127.0.0.1:5432", &format!("127.0.0.1:{}", self.port))
    }

    /// Starts accepting again.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port)).await.unwrap();
        let tasks = self.tasks.clone();
        let accept = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                let relay = tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
                tasks.lock().unwrap().push(relay);
            }
        });
        self.tasks.lock().unwrap().push(accept);
    }

    /// Closes the listener and every relayed connection: PostgreSQL is gone.
    pub fn cut(&self) {
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

impl Drop for PgProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

/// A client for one instance.
pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(40))
        .build()
        .unwrap()
}

pub async fn create(client: &reqwest::Client, server: &Server) -> CreateTicketResponse {
    let response = client.post(server.url("/api/v1/qr")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

pub async fn sign_in(client: &reqwest::Client, server: &Server, username: &str) -> String {
    let response = client
        .post(server.url("/api/v1/app/sessions"))
        .json(&serde_json::json!({"username": username, "password": "demo", "device_name": "scale test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: serde_json::Value = response.json().await.unwrap();
    body["token"].as_str().unwrap().to_string()
}

/// `POST /api/v1/qr/{id}/{action}` as the app.
pub async fn app_call(
    client: &reqwest::Client,
    server: &Server,
    token: &str,
    id: &str,
    action: &str,
) -> Response {
    client
        .post(server.url(&format!("/api/v1/qr/{id}/{action}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

pub async fn exchange(
    client: &reqwest::Client,
    server: &Server,
    ticket: &CreateTicketResponse,
) -> Response {
    client
        .post(server.url(&format!("/api/v1/qr/{}/exchange", ticket.id)))
        .bearer_auth(ticket.poll_secret.expose())
        .send()
        .await
        .unwrap()
}

pub async fn status(
    client: &reqwest::Client,
    server: &Server,
    ticket: &CreateTicketResponse,
) -> Response {
    client
        .get(server.url(&format!("/api/v1/qr/{}", ticket.id)))
        .bearer_auth(ticket.poll_secret.expose())
        .send()
        .await
        .unwrap()
}

/// Opens the ticket's event stream on `server` (resuming after
/// `last_event_id`); every event arrives on the channel with its arrival time.
pub async fn open_events(
    client: &reqwest::Client,
    server: &Server,
    ticket: &CreateTicketResponse,
    last_event_id: Option<u64>,
) -> mpsc::UnboundedReceiver<(Instant, StatusView)> {
    let mut request = client
        .get(server.url(&format!("/api/v1/qr/{}/events", ticket.id)))
        .bearer_auth(ticket.poll_secret.expose());
    if let Some(last) = last_event_id {
        request = request.header("last-event-id", last.to_string());
    }
    let mut response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut parser = qrlogin_testkit::sse::EventParser::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            for event in parser.push(&chunk) {
                if let Ok(view) = serde_json::from_str::<StatusView>(&event.data) {
                    if tx.send((Instant::now(), view)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

/// The next event, at most `limit` away.
pub async fn next_event(
    events: &mut mpsc::UnboundedReceiver<(Instant, StatusView)>,
    limit: Duration,
) -> (Instant, StatusView) {
    tokio::time::timeout(limit, events.recv())
        .await
        .expect("no event in time")
        .expect("the event stream ended")
}

/// Polls `GET /healthz` until it answers `want` (at most `limit`).
pub async fn wait_for_health(
    client: &reqwest::Client,
    server: &Server,
    want: StatusCode,
    limit: Duration,
) {
    let deadline = Instant::now() + limit;
    loop {
        let status = client
            .get(server.url("/healthz"))
            .send()
            .await
            .map(|r| r.status());
        if status.as_ref().ok() == Some(&want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "healthz never answered {want} (last: {status:?})"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Asserts a JSON error body with `code` and returns it.
pub async fn assert_json_error(response: Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(response.status().as_u16(), status, "{}", response.url());
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        content_type.starts_with("application/json"),
        "{content_type}"
    );
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], code, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{body}"
    );
    body
}
