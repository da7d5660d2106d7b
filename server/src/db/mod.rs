//! Persistence in SQL (sqlx `Any`: SQLite by default, PostgreSQL with a
//! `postgres://` URL; one set of portable queries and migrations).
//!
//! [`Database`] holds the connections (one pool, or on SQLite a reader pool
//! and a single writer); each table owner is a small view over them
//! ([`Database::users`], [`Database::app_sessions`], [`Database::sign_ins`],
//! [`Database::clients`], [`Database::grants`]).
//! Nothing here knows about HTTP, passwords or presentation: rows in, rows out.

pub mod app_sessions;
pub mod clients;
pub mod grants;
mod group_commit;
pub mod sign_ins;
pub mod users;

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::AnyPool;

use group_commit::GroupCommit;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use time::OffsetDateTime;

pub use app_sessions::{AppSession, AppSessions};
pub use clients::Clients;
pub use grants::Grants;
pub use sign_ins::SignIns;
pub use users::Users;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Pooled connections. They are not pinged before each use
/// (`test_before_acquire`): sqlx already pings one when it comes back to
/// the pool, and a broken one fails its query as `Unavailable`.
const MAX_CONNECTIONS: u32 = 8;
/// How long a query waits for a free connection before the database counts
/// as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Where the database is, parsed from `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file, created on first start.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Result<Self, DbError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                DbError::Config("the database URL must start with sqlite:// or postgres://".into())
            })?;
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with(':') {
            return Err(DbError::Config(
                "SQLite needs a file path, e.g. sqlite://qrlogin.db".into(),
            ));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    fn connect_url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres(url) => url.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The database cannot be reached (or has no free connection): worth a retry.
    #[error("the database is unavailable: {0}")]
    Unavailable(sqlx::Error),
    #[error("database error: {0}")]
    Query(sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("{0}")]
    Config(String),
}

impl From<sqlx::Error> for DbError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                Self::Unavailable(e)
            }
            other => Self::Query(other),
        }
    }
}

/// The connections every table owner shares. Cheap to clone.
#[derive(Clone)]
pub struct Database {
    pools: Pools,
}

/// Where a table owner sends its statements: reads to `reader`, writes
/// (and transactions) to `writer`. On PostgreSQL both are the one pool. On
/// SQLite, which lets one connection write at a time, `writer` is a single
/// connection: concurrent writes then wait their turn in the pool's queue,
/// instead of in SQLite's busy handler, which sleeps for milliseconds at a
/// time; `reader` holds the other connections, which in WAL mode never wait
/// for the writer.
#[derive(Clone)]
pub(crate) struct Pools {
    reader: AnyPool,
    writer: AnyPool,
    /// The sign-in records of the confirm and the exchange, committed in
    /// groups (on `writer`).
    group_commit: GroupCommit,
}

impl Database {
    /// Connects, creating the SQLite file if needed, and runs migrations.
    pub async fn connect(target: &DatabaseTarget) -> Result<Self, DbError> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(&target.connect_url())?;
        let pools = match target {
            DatabaseTarget::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| {
                        DbError::Config(format!("cannot create {}: {e}", dir.display()))
                    })?;
                }
                private_file(path)?;
                let writer = sqlite_pool(options.clone(), 1, false).await?;
                MIGRATOR.run(&writer).await?;
                let reader = sqlite_pool(options, MAX_CONNECTIONS - 1, true).await?;
                Pools {
                    reader,
                    group_commit: GroupCommit::start(writer.clone()),
                    writer,
                }
            }
            DatabaseTarget::Postgres(_) => {
                let pool = AnyPoolOptions::new()
                    .max_connections(MAX_CONNECTIONS)
                    .acquire_timeout(ACQUIRE_TIMEOUT)
                    .test_before_acquire(false)
                    .connect_with(options)
                    .await?;
                MIGRATOR.run(&pool).await?;
                Pools {
                    reader: pool.clone(),
                    group_commit: GroupCommit::start(pool.clone()),
                    writer: pool,
                }
            }
        };
        Ok(Self { pools })
    }

    pub fn users(&self) -> Users<'_> {
        Users::new(&self.pools)
    }

    pub fn app_sessions(&self) -> AppSessions<'_> {
        AppSessions::new(&self.pools)
    }

    pub fn sign_ins(&self) -> SignIns<'_> {
        SignIns::new(&self.pools)
    }

    /// OpenID Connect clients.
    pub fn clients(&self) -> Clients<'_> {
        Clients::new(&self.pools)
    }

    /// OpenID Connect authorization codes and refresh tokens.
    pub fn grants(&self) -> Grants<'_> {
        Grants::new(&self.pools)
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), DbError> {
        sqlx::query("SELECT 1").execute(&self.pools.reader).await?;
        Ok(())
    }
}

/// A pool of SQLite connections in WAL mode: a commit is an append to the
/// log, synced at checkpoints (`synchronous = NORMAL`), so a process crash
/// loses nothing and a power cut at most the last commits. Readers are
/// `query_only`, so a write sent to them by mistake fails loudly.
async fn sqlite_pool(
    options: AnyConnectOptions,
    connections: u32,
    query_only: bool,
) -> Result<AnyPool, DbError> {
    let pool = AnyPoolOptions::new()
        .max_connections(connections)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .test_before_acquire(false)
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                sqlx::query("PRAGMA journal_mode = WAL")
                    .execute(&mut *conn)
                    .await?;
                sqlx::query("PRAGMA synchronous = NORMAL")
                    .execute(&mut *conn)
                    .await?;
                if query_only {
                    sqlx::query("PRAGMA query_only = ON")
                        .execute(&mut *conn)
                        .await?;
                }
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(pool)
}

/// Makes the SQLite file readable by its owner only (it holds password and
/// token hashes): created 0600 when missing, tightened when it is group- or
/// world-readable. SQLite gives its -wal, -shm and -journal files the
/// database file's mode.
fn private_file(path: &std::path::Path) -> Result<(), DbError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        let shown = || path.display().to_string();
        match std::fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                tracing::warn!(
                    path = %shown(),
                    mode = format!("{:o}", meta.permissions().mode() & 0o777),
                    "the database was readable by others; restricting it to its owner (0600)"
                );
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| DbError::Config(format!("cannot chmod {}: {e}", shown())))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| DbError::Config(format!("cannot create {}: {e}", shown())))?;
            }
            Err(e) => return Err(DbError::Config(format!("cannot read {}: {e}", shown()))),
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Times are stored as Unix seconds.
pub(crate) fn to_secs(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

/// A stored Unix-seconds time.
pub(crate) fn from_secs(secs: i64) -> Result<OffsetDateTime, DbError> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(|e| DbError::Query(decode_error(e)))
}

/// A stored value that does not parse.
pub(crate) fn decode_error(e: impl std::error::Error + Send + Sync + 'static) -> sqlx::Error {
    sqlx::Error::Decode(Box::new(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse() {
        assert_eq!(
            DatabaseTarget::parse("sqlite://qrlogin.db").unwrap(),
            DatabaseTarget::Sqlite("qrlogin.db".into())
        );
        assert_eq!(
            DatabaseTarget::parse("sqlite:/tmp/x.db?mode=rwc").unwrap(),
            DatabaseTarget::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            DatabaseTarget::parse("postgres://postgres@127.0.0.1/test").unwrap(),
            DatabaseTarget::Postgres(_)
        ));
        assert!(DatabaseTarget::parse("mysql://x").is_err());
        assert!(DatabaseTarget::parse("sqlite::memory:").is_err());
    }
}
