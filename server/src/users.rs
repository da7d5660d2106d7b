//! Users and app sessions in SQL (sqlx `Any`: SQLite by default, PostgreSQL
//! with a `postgres://` URL; one set of portable queries and migrations).
//!
//! Passwords are argon2id hashes, computed off the async runtime. App session
//! tokens are 256-bit random values of which only the SHA-256 is stored.

use std::path::PathBuf;
use std::str::FromStr;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrlogin_core::{AppSessionInfo, Origin, SessionToken, TicketUser, UserId, UserProfile};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use crate::random;

/// How stale a session's `last_used_at` may get before a request updates it.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Where the database is, parsed from `--database-url`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    /// A SQLite file, created on first start.
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl DatabaseTarget {
    pub fn parse(url: &str) -> Result<Self, UserError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .ok_or_else(|| {
                UserError::Invalid(
                    "the database URL must start with sqlite:// or postgres://".into(),
                )
            })?;
        let path = path.split('?').next().unwrap_or_default();
        if path.is_empty() || path.starts_with(':') {
            return Err(UserError::Invalid(
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
pub enum UserError {
    #[error("{0}")]
    Invalid(String),
    #[error("a user named `{0}` already exists")]
    Exists(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl From<UserError> for crate::error::AppError {
    fn from(e: UserError) -> Self {
        match e {
            UserError::Database(db) => db.into(),
            UserError::Invalid(m) => Self::invalid_request(m),
            other => Self::internal(other),
        }
    }
}

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// The user's own picture, if set.
    pub avatar_url: Option<String>,
}

/// The signed-in app session behind a bearer token.
#[derive(Debug, Clone)]
pub struct AppSession {
    pub id: String,
    pub user: User,
    /// The name the app gave at sign-in ("Pixel 8").
    pub device_name: String,
    /// The user's switch for QR sign-in (read fresh with every request).
    pub qr_login_enabled: bool,
}

#[derive(Clone)]
pub struct Users {
    pool: AnyPool,
    public_url: Origin,
    /// Verified against when the user does not exist, so that an unknown
    /// name and a wrong password take about the same time.
    dummy_hash: String,
}

impl Users {
    /// Connects, creating the SQLite file if needed, and runs migrations.
    pub async fn connect(target: &DatabaseTarget, public_url: Origin) -> Result<Self, UserError> {
        sqlx::any::install_default_drivers();
        if let DatabaseTarget::Sqlite(path) = target {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    UserError::Invalid(format!("cannot create {}: {e}", dir.display()))
                })?;
            }
        }
        let options = AnyConnectOptions::from_str(&target.connect_url())?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        let dummy_hash = hash_password("not a real password".into()).await?;
        Ok(Self {
            pool,
            public_url,
            dummy_hash,
        })
    }

    /// Adds a user. Usernames are case-insensitive (stored lowercase).
    pub async fn add(
        &self,
        username: &str,
        display_name: &str,
        password: String,
        avatar_url: Option<String>,
    ) -> Result<User, UserError> {
        let username = normalize_username(username)?;
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(UserError::Invalid(
                "display name must be 1–100 characters".into(),
            ));
        }
        if password.is_empty() {
            return Err(UserError::Invalid("password must not be empty".into()));
        }
        if self.find_by_username(&username).await?.is_some() {
            return Err(UserError::Exists(username));
        }
        let hash = hash_password(password).await?;
        let id = UserId(URL_SAFE_NO_PAD.encode(random::bytes::<16>()));
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, avatar_url, password_hash, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&id.0)
        .bind(&username)
        .bind(display_name)
        .bind(avatar_url.clone())
        .bind(hash)
        .bind(now_secs())
        .execute(&self.pool)
        .await;
        match result {
            Ok(_) => Ok(User {
                id,
                username,
                display_name: display_name.to_string(),
                avatar_url,
            }),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
                Err(UserError::Exists(username))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(&self) -> Result<Vec<User>, UserError> {
        let rows = sqlx::query(
            "SELECT id, username, display_name, avatar_url FROM users ORDER BY username",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Removes a user and their sessions. Returns false if there was no such user.
    pub async fn remove(&self, username: &str) -> Result<bool, UserError> {
        let username = username.trim().to_lowercase();
        let Some(user) = self.find_by_username(&username).await?.map(|(u, _)| u) else {
            return Ok(false);
        };
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sign_ins WHERE user_id = $1")
            .bind(&user.id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM app_sessions WHERE user_id = $1")
            .bind(&user.id.0)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(&user.id.0)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn get(&self, id: &UserId) -> Result<Option<User>, UserError> {
        let row =
            sqlx::query("SELECT id, username, display_name, avatar_url FROM users WHERE id = $1")
                .bind(&id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Checks a password and opens an app session. `None` for an unknown user
    /// or a wrong password (indistinguishable, also in timing).
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        device_name: &str,
    ) -> Result<Option<(SessionToken, User)>, UserError> {
        let username = username.trim().to_lowercase();
        let found = self.find_by_username(&username).await?;
        let hash = found
            .as_ref()
            .map_or_else(|| self.dummy_hash.clone(), |(_, h)| h.clone());
        let ok = verify_password(password, hash).await?;
        let Some((user, _)) = found.filter(|_| ok) else {
            return Ok(None);
        };
        let token = SessionToken::from_random_bytes(random::bytes());
        let device: String = device_name.trim().chars().take(100).collect();
        let now = now_secs();
        sqlx::query(
            "INSERT INTO app_sessions (id, user_id, token_hash, device_name, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(URL_SAFE_NO_PAD.encode(random::bytes::<16>()))
        .bind(&user.id.0)
        .bind(token.hash().to_hex())
        .bind(device)
        .bind(now)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(Some((token, user)))
    }

    /// The live session for a bearer token; records its use.
    pub async fn session(&self, token: &SessionToken) -> Result<Option<AppSession>, UserError> {
        let row = sqlx::query(
            "SELECT s.id AS session_id, s.device_name, u.id, u.username, u.display_name,
                    u.avatar_url,
                    -- sqlx's Any driver reads no SQLite BOOLEAN: answer 0/1 on both.
                    CASE WHEN u.qr_login_enabled THEN 1 ELSE 0 END AS qr_login_enabled
             FROM app_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL",
        )
        .bind(token.hash().to_hex())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = AppSession {
            id: row.try_get("session_id")?,
            user: user_from_row(&row)?,
            device_name: row.try_get("device_name")?,
            qr_login_enabled: row.try_get::<i64, _>("qr_login_enabled")? != 0,
        };
        // At most one write a minute per session, so busy apps do not
        // serialize on the database's write lock.
        let now = now_secs();
        sqlx::query(
            "UPDATE app_sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $3",
        )
        .bind(now)
        .bind(&session.id)
        .bind(now - LAST_USED_GRANULARITY_SECS)
        .execute(&self.pool)
        .await?;
        Ok(Some(session))
    }

    /// Revokes a session: its token is refused from now on.
    pub async fn revoke(&self, session_id: &str) -> Result<(), UserError> {
        sqlx::query("UPDATE app_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(now_secs())
            .bind(session_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The user's live (not revoked) app sessions, newest first; `current`
    /// marks `current_session`.
    pub async fn sessions(
        &self,
        user: &UserId,
        current_session: &str,
    ) -> Result<Vec<AppSessionInfo>, UserError> {
        let rows = sqlx::query(
            "SELECT id, device_name, created_at, last_used_at FROM app_sessions
             WHERE user_id = $1 AND revoked_at IS NULL
             ORDER BY created_at DESC, last_used_at DESC, id",
        )
        .bind(&user.0)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                let id: String = row.try_get("id")?;
                Ok(AppSessionInfo {
                    current: id == current_session,
                    id,
                    device_name: row.try_get("device_name")?,
                    created_at: from_secs(row.try_get("created_at")?)?,
                    last_used_at: from_secs(row.try_get("last_used_at")?)?,
                })
            })
            .collect()
    }

    /// Revokes one of `user`'s live sessions. False when `session_id` is
    /// not a live session of theirs (someone else's looks the same).
    pub async fn revoke_own(&self, user: &UserId, session_id: &str) -> Result<bool, UserError> {
        let done = sqlx::query(
            "UPDATE app_sessions SET revoked_at = $1
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now_secs())
        .bind(session_id)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Turns QR sign-in on or off for `user`.
    pub async fn set_qr_login_enabled(
        &self,
        user: &UserId,
        enabled: bool,
    ) -> Result<(), UserError> {
        sqlx::query("UPDATE users SET qr_login_enabled = $1 WHERE id = $2")
            .bind(enabled)
            .bind(&user.0)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The QR sign-ins of these users' accounts (same database).
    pub fn sign_ins(&self) -> crate::sign_ins::SignIns {
        crate::sign_ins::SignIns::new(self.pool.clone())
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> Result<(), UserError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// The picture to show for a user: their own, or their initials avatar.
    pub fn avatar_url(&self, user: &User) -> String {
        user.avatar_url
            .clone()
            .unwrap_or_else(|| format!("{}/avatars/{}.svg", self.public_url, user.id))
    }

    pub fn profile(&self, user: &User) -> UserProfile {
        UserProfile {
            id: user.id.0.clone(),
            username: user.username.clone(),
            display_name: user.display_name.clone(),
            avatar_url: Some(self.avatar_url(user)),
        }
    }

    /// The user as a ticket records them (what the page may show, plus the id).
    /// The page sees the avatar before the exchange, so a user without a
    /// picture gets the initials image inline: no URL with their id.
    pub fn ticket_user(&self, user: &User) -> TicketUser {
        let avatar_url = user
            .avatar_url
            .clone()
            .unwrap_or_else(|| crate::avatar::initials_data_url(&user.display_name, &user.id.0));
        TicketUser {
            id: user.id.clone(),
            display_name: user.display_name.clone(),
            avatar_url: Some(avatar_url),
        }
    }

    async fn find_by_username(&self, username: &str) -> Result<Option<(User, String)>, UserError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, avatar_url, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }
}

fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, UserError> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        avatar_url: row.try_get("avatar_url")?,
    })
}

fn normalize_username(username: &str) -> Result<String, UserError> {
    let username = username.trim().to_lowercase();
    let valid = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(username)
    } else {
        Err(UserError::Invalid(
            "username must be 1–64 letters, digits, '.', '_' or '-'".into(),
        ))
    }
}

fn now_secs() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

/// A stored Unix-seconds time.
pub(crate) fn from_secs(secs: i64) -> Result<OffsetDateTime, UserError> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|e| UserError::Database(sqlx::Error::Decode(Box::new(e))))
}

async fn hash_password(password: String) -> Result<String, UserError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&random::bytes::<16>())
            .map_err(|e| UserError::Hash(e.to_string()))?;
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| UserError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| UserError::Hash(e.to_string()))?
}

async fn verify_password(password: String, hash: String) -> Result<bool, UserError> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| UserError::Hash(e.to_string()))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .map_err(|e| UserError::Hash(e.to_string()))?
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

    #[test]
    fn usernames_are_normalized_and_checked() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("").is_err());
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username(&"a".repeat(65)).is_err());
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_as_much_as_a_real_one() {
        // An unknown user is checked against the dummy hash, a known one
        // against their own: the same algorithm and parameters mean the
        // same work, so the answer time does not tell them apart.
        let dummy = hash_password("not a real password".into()).await.unwrap();
        let real = hash_password("correct horse".into()).await.unwrap();
        let (dummy, real) = (
            PasswordHash::new(&dummy).unwrap(),
            PasswordHash::new(&real).unwrap(),
        );
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);
        assert!(
            !verify_password("x".into(), dummy.to_string())
                .await
                .unwrap()
        );
    }
}
