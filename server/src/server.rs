//! Starting the server: open the database, load the signing key, build the
//! state, bind, and serve until shutdown.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderValue;
use qrlogin_core::{Lifetimes, Origin};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::accounts::{AccountError, Accounts};
use crate::app_links::{AppLinks, AppLinksError};
use crate::clock::Clock;
use crate::config::ServeArgs;
use crate::db::{Database, DatabaseTarget, DbError};
use crate::keys::SigningKeys;
use crate::limits::shared::SharedBudgets;
use crate::limits::{Limits, RateLimiter};
use crate::metrics::Metrics;
use crate::oidc::clients::{ClientError, Registration};
use crate::passwords::Hasher;
use crate::store::{
    DEFAULT_RETENTION, MemoryStore, RedisSettings, RedisStore, StoreError, TicketStore,
};
use crate::streams::StreamSlots;
use crate::tickets::Tickets;
use crate::tokens::{KeyError, TokenIssuer};
use crate::{AppState, Services, Settings, app, oidc};

/// How often the memory store drops old tickets.
const SWEEP_EVERY: Duration = Duration::from_secs(30);

/// The demo accounts seeded by `--demo`: (username, display name).
pub const DEMO_USERS: [(&str, &str); 2] = [("alice", "Alice Example"), ("bob", "Bob Example")];
pub const DEMO_PASSWORD: &str = "demo";

/// The public OpenID Connect client seeded by `--demo`, with loopback
/// redirect URIs (any port, RFC 8252 §7.3).
pub const DEMO_CLIENT_ID: &str = "demo";
pub const DEMO_CLIENT_REDIRECT_URIS: [&str; 2] =
    ["http://127.0.0.1/callback", "http://localhost/callback"];

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(
        "invalid --public-url `{url}`: {reason} (use https://host, or http:// only for localhost)"
    )]
    PublicUrl { url: String, reason: String },
    #[error("invalid --allowed-origin `{0}`")]
    AllowedOrigin(String),
    #[error(transparent)]
    Database(#[from] DbError),
    #[error(transparent)]
    Accounts(#[from] AccountError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("ticket store: {0}")]
    Store(#[from] StoreError),
    #[error(transparent)]
    AppLinks(#[from] AppLinksError),
    #[error("demo client: {0}")]
    DemoClient(#[from] ClientError),
}

/// A server running in the background (on its own tokio task).
pub struct RunningServer {
    /// The address actually bound (useful with port 0).
    pub addr: SocketAddr,
    pub state: AppState,
    /// Names of demo users created by this start (empty without `--demo`
    /// or when they already existed).
    pub seeded_demo_users: Vec<String>,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The public URL, e.g. `http://127.0.0.1:8080`.
    pub fn url(&self) -> String {
        self.state.settings.public_url.to_string()
    }

    /// Asks the server to stop: event streams end, then connections close.
    pub fn trigger_shutdown(&self) {
        self.state.shutdown.cancel();
    }

    /// Waits until the server has stopped.
    pub async fn wait(self) -> std::io::Result<()> {
        match self.task.await {
            Ok(result) => result,
            Err(join) => Err(std::io::Error::other(join)),
        }
    }

    /// Stops the server and waits for it.
    pub async fn shutdown(self) -> std::io::Result<()> {
        self.trigger_shutdown();
        self.wait().await
    }
}

/// Opens everything, binds `args.listen` and serves in the background.
pub async fn start(args: &ServeArgs) -> Result<RunningServer, StartError> {
    start_with_clock(args, Clock::system()).await
}

/// [`start`] with the given clock (tests pass a manual one).
pub async fn start_with_clock(args: &ServeArgs, clock: Clock) -> Result<RunningServer, StartError> {
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: args.listen,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: args.listen,
        source,
    })?;
    let public_url = public_url(args.public_url.as_deref(), addr)?;
    let target = DatabaseTarget::parse(&args.database.database_url)?;
    let db = Database::connect(&target).await?;
    let hasher = Hasher::new(args.max_concurrent_hashes);
    let accounts = Accounts::new(db.clone(), clock.clone(), hasher).await?;
    let seeded_demo_users = if args.demo {
        seed_demo(&accounts).await?
    } else {
        Vec::new()
    };
    let key_file = key_path(args.jwt_key.as_deref(), &target);
    let key = TokenIssuer::load_or_create_key(&key_file)?;
    warn_if_readable_by_others(&key_file);
    let tokens = TokenIssuer::new(key, public_url.to_string(), args.access_token_lifetime);
    let oidc = oidc::Provider {
        keys: SigningKeys::load_or_create(&key_file, args.access_token_lifetime, clock.now())?,
        token_lifetime: args.access_token_lifetime,
    };
    if args.demo {
        seed_demo_client(&db, &clock).await?;
    }
    let allowed_origins = args
        .allowed_origins
        .iter()
        .map(|o| allowed_origin(o))
        .collect::<Result<_, _>>()?;

    let app_links = AppLinks::parse(
        args.android_app_id.as_deref(),
        &args.android_cert_sha256,
        args.ios_app_id.as_deref(),
    )?;
    let shutdown = CancellationToken::new();
    let metrics = Arc::new(Metrics::default());
    let (store, sweeper): (Arc<dyn TicketStore>, _) = match &args.redis_url {
        Some(url) => {
            let settings = RedisSettings {
                prefix: args.redis_prefix.clone(),
                max_tickets: args.max_tickets,
                ..RedisSettings::new(url.clone(), DEFAULT_RETENTION)
            };
            (
                Arc::new(RedisStore::open(settings).await?.with_clock(clock.clone())),
                None,
            )
        }
        None => {
            let memory = MemoryStore::new(DEFAULT_RETENTION, args.max_tickets);
            let memory = Arc::new(memory.with_clock(clock.clone()));
            let sweeper = memory.spawn_sweeper(SWEEP_EVERY);
            (memory, Some(sweeper))
        }
    };
    let lifetimes = Lifetimes {
        pending: args.pending_lifetime,
        scanned: args.scanned_lifetime,
        confirmed: args.confirmed_lifetime,
    };
    let tickets = Tickets::new(
        store,
        lifetimes,
        public_url.clone(),
        metrics.clone(),
        shutdown.clone(),
        clock.clone(),
    )
    .with_verification_codes(args.verification_code);
    let state = AppState::new(Services {
        settings: Arc::new(Settings {
            site_name: args
                .site_name
                .clone()
                .map(|name| name.trim().to_string())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| public_url.host().to_string()),
            public_url,
            trust_proxy: args.trust_proxy,
            allowed_origins,
            app_links,
        }),
        clock,
        db,
        accounts,
        tickets,
        tokens: Arc::new(tokens),
        oidc: Arc::new(oidc),
        streams: StreamSlots::new(args.max_streams_per_ip, args.max_streams, metrics.clone()),
        metrics,
        limits: Arc::new(limits(args)?),
        shutdown: shutdown.clone(),
    });

    let router = app(state.clone());
    let task = tokio::spawn(async move {
        let result = crate::serve::serve(listener, router, shutdown).await;
        if let Some(sweeper) = sweeper {
            sweeper.abort();
        }
        result
    });
    Ok(RunningServer {
        addr,
        state,
        seeded_demo_users,
        task,
    })
}

/// The rate limits from the command line (a rate of 0 switches one off),
/// shared through Redis with `--redis-url`.
fn limits(args: &ServeArgs) -> Result<Limits, StartError> {
    let shared = match &args.redis_url {
        Some(url) => Some(Arc::new(
            SharedBudgets::open(url, &args.redis_prefix, RedisSettings::DEFAULT_OP_TIMEOUT)
                .map_err(|e| StartError::Store(StoreError::Unavailable(e)))?,
        )),
        None => None,
    };
    Ok(Limits {
        shared,
        create: RateLimiter::new(args.create_rate, args.create_burst),
        create_per_56: RateLimiter::new(
            args.create_rate.saturating_mul(4),
            args.create_burst.saturating_mul(4),
        ),
        create_per_48: RateLimiter::new(
            args.create_rate.saturating_mul(16),
            args.create_burst.saturating_mul(16),
        ),
        pending_per_client: pending_cap(args),
        sign_in_per_client: RateLimiter::with_backoff(args.sign_in_rate, args.sign_in_burst),
        sign_in_per_account: RateLimiter::with_backoff(
            args.account_sign_in_rate,
            args.account_sign_in_burst,
        ),
        sign_in_account_wide: RateLimiter::with_backoff(
            args.account_wide_sign_in_rate,
            args.account_wide_sign_in_burst,
        ),
        per_session: RateLimiter::new(args.scan_rate, args.scan_burst),
    })
}

/// `--max-pending-per-client` codes, refilled over one pending lifetime.
/// Off with the creation limits (`--create-rate 0`).
fn pending_cap(args: &ServeArgs) -> Option<RateLimiter> {
    let cap = if args.create_rate == 0 {
        0
    } else {
        args.max_pending_per_client
    };
    let lifetime_secs = args.pending_lifetime.as_secs_f64().max(1.0);
    let per_minute = (f64::from(cap) * 60.0 / lifetime_secs).ceil() as u32;
    RateLimiter::new(per_minute.max(u32::from(cap > 0)), cap)
}

/// `--public-url`, or `http://<bound address>` (loopback for a wildcard bind).
fn public_url(configured: Option<&str>, bound: SocketAddr) -> Result<Origin, StartError> {
    let text = match configured {
        Some(url) => url.to_string(),
        None => {
            let ip = match bound.ip() {
                IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
                ip => ip,
            };
            format!("http://{}", SocketAddr::new(ip, bound.port()))
        }
    };
    Origin::parse(&text).map_err(|e| StartError::PublicUrl {
        url: text,
        reason: e.to_string(),
    })
}

fn allowed_origin(text: &str) -> Result<HeaderValue, StartError> {
    let origin = Origin::parse(text.trim()).map_err(|_| StartError::AllowedOrigin(text.into()))?;
    HeaderValue::from_str(&origin.to_string()).map_err(|_| StartError::AllowedOrigin(text.into()))
}

/// `--jwt-key`, or `qrlogin-jwt.pem` beside the SQLite file / in the working directory.
pub fn key_path(jwt_key: Option<&std::path::Path>, target: &DatabaseTarget) -> PathBuf {
    const FILE: &str = "qrlogin-jwt.pem";
    if let Some(path) = jwt_key {
        return path.to_path_buf();
    }
    match target {
        DatabaseTarget::Sqlite(db) => db
            .parent()
            .map_or_else(|| FILE.into(), |dir| dir.join(FILE)),
        DatabaseTarget::Postgres(_) => FILE.into(),
    }
}

/// A private key file that others can read is logged loudly (it is the
/// operator's file: not changed behind their back).
fn warn_if_readable_by_others(path: &std::path::Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o077 != 0 {
                tracing::warn!(
                    path = %path.display(),
                    mode = format!("{mode:o}"),
                    "the JWT signing key is readable by group or others: anyone who can read it \
                     can mint sign-ins; run chmod 600 on it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Creates the demo users that do not exist yet; returns their names.
async fn seed_demo(accounts: &Accounts) -> Result<Vec<String>, AccountError> {
    let mut created = Vec::new();
    for (username, display_name) in DEMO_USERS {
        match accounts
            .add(
                username,
                display_name,
                DEMO_PASSWORD.into(),
                None,
                Some(format!("{username}@example.com")),
            )
            .await
        {
            Ok(_) => created.push(username.to_string()),
            Err(AccountError::Exists(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(created)
}

/// Registers the public client `demo` unless it exists.
async fn seed_demo_client(db: &Database, clock: &Clock) -> Result<(), StartError> {
    if db.clients().get(DEMO_CLIENT_ID).await?.is_some() {
        return Ok(());
    }
    let uris: Vec<String> = DEMO_CLIENT_REDIRECT_URIS.map(String::from).to_vec();
    let registration = Registration {
        name: "QR Login demo client",
        redirect_uris: &uris,
        kind: qrlogin_core::oidc::ClientKind::Public,
        id_token_alg: qrlogin_core::oidc::IdTokenAlg::RS256,
        id: Some(DEMO_CLIENT_ID),
    };
    oidc::clients::register(db, clock, registration).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_public_url_follows_the_bound_address() {
        let bound: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        assert_eq!(
            public_url(None, bound).unwrap().to_string(),
            "http://127.0.0.1:4321"
        );
        let wildcard: SocketAddr = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(
            public_url(None, wildcard).unwrap().to_string(),
            "http://127.0.0.1:8080"
        );
        assert!(public_url(Some("http://login.example.com"), bound).is_err());
        assert_eq!(
            public_url(Some("https://login.example.com/"), bound)
                .unwrap()
                .to_string(),
            "https://login.example.com"
        );
    }
}
