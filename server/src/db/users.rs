//! The `users` table: accounts, their password hashes and their switches.

use qrlogin_core::UserId;
use sqlx::Row;
use time::OffsetDateTime;

use super::{DbError, Pools, to_secs};

/// A user as stored (without the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: String,
    pub display_name: String,
    /// The user's own picture, if set.
    pub avatar_url: Option<String>,
    /// Set by the operator (`users add --email`): what OpenID clients get.
    pub email: Option<String>,
}

/// A new row for [`Users::insert`]; the caller has validated and hashed.
pub struct NewUser<'a> {
    pub id: &'a UserId,
    pub username: &'a str,
    pub display_name: &'a str,
    pub avatar_url: Option<&'a str>,
    pub email: Option<&'a str>,
    pub password_hash: &'a str,
    pub created_at: OffsetDateTime,
}

/// What [`Users::insert`] found.
#[derive(Debug, PartialEq, Eq)]
pub enum Inserted {
    Done,
    /// The username is taken.
    Duplicate,
}

pub struct Users<'p> {
    pools: &'p Pools,
}

impl<'p> Users<'p> {
    pub(super) fn new(pools: &'p Pools) -> Self {
        Self { pools }
    }

    pub async fn insert(&self, user: NewUser<'_>) -> Result<Inserted, DbError> {
        let result = sqlx::query(
            "INSERT INTO users (id, username, display_name, avatar_url, password_hash, created_at, email)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&user.id.0)
        .bind(user.username)
        .bind(user.display_name)
        .bind(user.avatar_url)
        .bind(user.password_hash)
        .bind(to_secs(user.created_at))
        .bind(user.email)
        .execute(&self.pools.writer)
        .await;
        match result {
            Ok(_) => Ok(Inserted::Done),
            Err(sqlx::Error::Database(db)) if db.is_unique_violation() => Ok(Inserted::Duplicate),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(&self) -> Result<Vec<User>, DbError> {
        let rows = sqlx::query(
            "SELECT id, username, display_name, avatar_url, email FROM users ORDER BY username",
        )
        .fetch_all(&self.pools.reader)
        .await?;
        rows.iter().map(user_from_row).collect()
    }

    pub async fn get(&self, id: &UserId) -> Result<Option<User>, DbError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, avatar_url, email FROM users WHERE id = $1",
        )
        .bind(&id.0)
        .fetch_optional(&self.pools.reader)
        .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// The user named `username` (already normalized) and their password hash.
    pub async fn find_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>, DbError> {
        let row = sqlx::query(
            "SELECT id, username, display_name, avatar_url, email, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pools.reader)
        .await?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get("password_hash")?)))
            .transpose()
    }

    /// Deletes a user with their app sessions and sign-in records. The web
    /// tokens of their sign-ins that have not expired at `now` stay on the
    /// revocation list (table `token_revocations`) until they do, so that
    /// relying parties that verify offline keep refusing them.
    pub async fn delete(&self, id: &UserId, now: OffsetDateTime) -> Result<(), DbError> {
        let mut tx = self.pools.writer.begin().await?;
        sqlx::query(
            "INSERT INTO token_revocations (token_id, token_expires_at, revoked_at)
             SELECT token_id, token_expires_at, $2 FROM sign_ins
             WHERE user_id = $1 AND token_id IS NOT NULL AND token_expires_at > $2
             ON CONFLICT (token_id) DO NOTHING",
        )
        .bind(&id.0)
        .bind(to_secs(now))
        .execute(&mut *tx)
        .await?;
        for statement in [
            "DELETE FROM oauth_refresh_tokens WHERE user_id = $1",
            "DELETE FROM oauth_codes WHERE user_id = $1",
            "DELETE FROM sign_ins WHERE user_id = $1",
            "DELETE FROM app_sessions WHERE user_id = $1",
            "DELETE FROM users WHERE id = $1",
        ] {
            sqlx::query(statement).bind(&id.0).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Turns QR sign-in on or off for `user`.
    pub async fn set_qr_login_enabled(&self, user: &UserId, enabled: bool) -> Result<(), DbError> {
        sqlx::query("UPDATE users SET qr_login_enabled = $1 WHERE id = $2")
            .bind(enabled)
            .bind(&user.0)
            .execute(&self.pools.writer)
            .await?;
        Ok(())
    }
}

/// A `users` row (columns id, username, display_name, avatar_url, email), also as
/// part of a join.
pub(super) fn user_from_row(row: &sqlx::any::AnyRow) -> Result<User, DbError> {
    Ok(User {
        id: UserId(row.try_get("id")?),
        username: row.try_get("username")?,
        display_name: row.try_get("display_name")?,
        avatar_url: row.try_get("avatar_url")?,
        email: row.try_get("email")?,
    })
}
