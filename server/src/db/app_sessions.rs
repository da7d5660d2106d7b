//! The `app_sessions` table: signed-in apps, found by the SHA-256 of their
//! bearer token (the token itself is never stored).

use qrlogin_core::{AppSessionInfo, SecretHash, UserId};
use sqlx::Row;
use time::OffsetDateTime;

use super::users::{User, user_from_row};
use super::{DbError, Pools, from_secs, to_secs};

/// How stale a session's `last_used_at` may get before a request updates it.
const LAST_USED_GRANULARITY_SECS: i64 = 60;

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

pub struct AppSessions<'p> {
    pools: &'p Pools,
}

impl<'p> AppSessions<'p> {
    pub(super) fn new(pools: &'p Pools) -> Self {
        Self { pools }
    }

    pub async fn insert(
        &self,
        id: &str,
        user: &UserId,
        token_hash: &SecretHash,
        device_name: &str,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO app_sessions (id, user_id, token_hash, device_name, created_at, last_used_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(id)
        .bind(&user.0)
        .bind(token_hash.to_hex())
        .bind(device_name)
        .bind(to_secs(now))
        .bind(to_secs(now))
        .execute(&self.pools.writer)
        .await?;
        Ok(())
    }

    /// The live session whose token hashes to `token_hash`; records its use
    /// at `now` (at most one write a minute per session, so busy apps do not
    /// serialize on the database's write lock).
    pub async fn find_live(
        &self,
        token_hash: &SecretHash,
        now: OffsetDateTime,
    ) -> Result<Option<AppSession>, DbError> {
        let row = sqlx::query(
            "SELECT s.id AS session_id, s.device_name, u.id, u.username, u.display_name,
                    u.avatar_url, u.email,
                    -- sqlx's Any driver reads no SQLite BOOLEAN: answer 0/1 on both.
                    CASE WHEN u.qr_login_enabled THEN 1 ELSE 0 END AS qr_login_enabled
             FROM app_sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = $1 AND s.revoked_at IS NULL",
        )
        .bind(token_hash.to_hex())
        .fetch_optional(&self.pools.reader)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let session = AppSession {
            id: row.try_get("session_id")?,
            user: user_from_row(&row)?,
            device_name: row.try_get("device_name")?,
            qr_login_enabled: row.try_get::<i64, _>("qr_login_enabled")? != 0,
        };
        let now = to_secs(now);
        sqlx::query(
            "UPDATE app_sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $3",
        )
        .bind(now)
        .bind(&session.id)
        .bind(now - LAST_USED_GRANULARITY_SECS)
        .execute(&self.pools.writer)
        .await?;
        Ok(Some(session))
    }

    /// Revokes a session: its token is refused from now on.
    pub async fn revoke(&self, session_id: &str, now: OffsetDateTime) -> Result<(), DbError> {
        sqlx::query("UPDATE app_sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
            .bind(to_secs(now))
            .bind(session_id)
            .execute(&self.pools.writer)
            .await?;
        Ok(())
    }

    /// Revokes one of `user`'s live sessions. False when `session_id` is
    /// not a live session of theirs (someone else's looks the same).
    pub async fn revoke_own(
        &self,
        user: &UserId,
        session_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let done = sqlx::query(
            "UPDATE app_sessions SET revoked_at = $1
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(to_secs(now))
        .bind(session_id)
        .bind(&user.0)
        .execute(&self.pools.writer)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The user's live (not revoked) app sessions, newest first; `current`
    /// marks `current_session`.
    pub async fn list(
        &self,
        user: &UserId,
        current_session: &str,
    ) -> Result<Vec<AppSessionInfo>, DbError> {
        let rows = sqlx::query(
            "SELECT id, device_name, created_at, last_used_at FROM app_sessions
             WHERE user_id = $1 AND revoked_at IS NULL
             ORDER BY created_at DESC, last_used_at DESC, id",
        )
        .bind(&user.0)
        .fetch_all(&self.pools.reader)
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
}
