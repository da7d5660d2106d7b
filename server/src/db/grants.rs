//! The OpenID Connect grants' credentials: authorization codes
//! (`oauth_codes`) and refresh tokens (`oauth_refresh_tokens`), each stored
//! by the SHA-256 of its value. The grant itself is the sign-in row
//! (`sign_ins`, keyed by ticket id), whose revoke ends both.
//!
//! Using a code or a refresh token is one conditional `UPDATE`: of two
//! concurrent uses exactly one wins, and the loser reads a replay.

use qrlogin_core::SecretHash;
use qrlogin_core::oidc::AuthorizationBinding;
use sqlx::Row;
use time::OffsetDateTime;

use super::{DbError, Pools, decode_error, from_secs, to_secs};

/// What a code or refresh token is bound to.
#[derive(Debug, Clone)]
pub struct GrantRef {
    /// The grant: the ticket id of the sign-in.
    pub ticket_id: String,
    pub client_id: String,
    pub user_id: String,
    /// When the user confirmed in the app (the id_token's `auth_time`).
    pub auth_time: OffsetDateTime,
}

/// A code to store.
pub struct NewCode<'a> {
    pub hash: &'a SecretHash,
    pub grant: &'a GrantRef,
    pub request: &'a AuthorizationBinding,
    pub expires_at: OffsetDateTime,
}

/// A refresh token to store.
pub struct NewRefreshToken<'a> {
    pub hash: &'a SecretHash,
    pub grant: &'a GrantRef,
    pub scope: &'a str,
    pub expires_at: OffsetDateTime,
}

/// What using a code or a refresh token found.
#[derive(Debug)]
pub enum Use<T> {
    /// Used now, by this caller: `T` is what it was bound to.
    Granted(T),
    /// No such value (or it belongs to a removed client or user).
    Unknown,
    Expired,
    /// Used before: the grant it belongs to should be revoked.
    Replayed(GrantRef),
}

pub struct Grants<'p> {
    pools: &'p Pools,
}

impl<'p> Grants<'p> {
    pub(super) fn new(pools: &'p Pools) -> Self {
        Self { pools }
    }

    pub async fn insert_code(&self, code: NewCode<'_>) -> Result<(), DbError> {
        let request =
            serde_json::to_string(code.request).map_err(|e| DbError::Query(decode_error(e)))?;
        sqlx::query(
            "INSERT INTO oauth_codes (code_hash, ticket_id, client_id, user_id, request, auth_time,
                 expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(code.hash.to_hex())
        .bind(&code.grant.ticket_id)
        .bind(&code.grant.client_id)
        .bind(&code.grant.user_id)
        .bind(request)
        .bind(to_secs(code.grant.auth_time))
        .bind(to_secs(code.expires_at))
        .execute(&self.pools.writer)
        .await?;
        Ok(())
    }

    /// Uses the code with this hash at `now`, once.
    pub async fn use_code(
        &self,
        hash: &SecretHash,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<Use<(GrantRef, AuthorizationBinding)>, DbError> {
        let found = self
            .use_once(Table::Codes, hash, client_id, now, "request")
            .await?;
        found.try_map(|request| {
            serde_json::from_str(&request).map_err(|e| DbError::Query(decode_error(e)))
        })
    }

    pub async fn insert_refresh_token(&self, token: NewRefreshToken<'_>) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO oauth_refresh_tokens (token_hash, ticket_id, client_id, user_id, scope,
                 auth_time, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(token.hash.to_hex())
        .bind(&token.grant.ticket_id)
        .bind(&token.grant.client_id)
        .bind(&token.grant.user_id)
        .bind(token.scope)
        .bind(to_secs(token.grant.auth_time))
        .bind(to_secs(token.expires_at))
        .execute(&self.pools.writer)
        .await?;
        Ok(())
    }

    /// Uses (rotates away) the refresh token with this hash at `now`, once;
    /// `Granted` carries its grant and scope.
    pub async fn use_refresh_token(
        &self,
        hash: &SecretHash,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<Use<(GrantRef, String)>, DbError> {
        self.use_once(Table::RefreshTokens, hash, client_id, now, "scope")
            .await
    }

    /// Marks the row of `hash` used (if it is `client_id`'s, unused and
    /// unexpired), then reads it back: its grant and its `extra` column.
    async fn use_once(
        &self,
        table: Table,
        hash: &SecretHash,
        client_id: &str,
        now: OffsetDateTime,
        extra: &'static str,
    ) -> Result<Use<(GrantRef, String)>, DbError> {
        let used = self.mark_used(table, hash, client_id, now).await?;
        let (name, key) = table.names();
        let statement = format!(
            "SELECT ticket_id, client_id, user_id, {extra}, auth_time, expires_at, used_at
             FROM {name} WHERE {key} = $1"
        );
        let row = sqlx::query(&statement)
            .bind(hash.to_hex())
            .fetch_optional(&self.pools.reader)
            .await?;
        let Some(row) = row else {
            return Ok(Use::Unknown);
        };
        let grant = grant_from_row(&row)?;
        if !used {
            return outcome_of_failed_use(&row, grant, now);
        }
        Ok(Use::Granted((grant, row.try_get(extra)?)))
    }

    /// The grant of the refresh token with this hash, used or not (for
    /// revocation, RFC 7009).
    pub async fn refresh_token_grant(
        &self,
        hash: &SecretHash,
    ) -> Result<Option<GrantRef>, DbError> {
        let row = sqlx::query(
            "SELECT ticket_id, client_id, user_id, auth_time FROM oauth_refresh_tokens
             WHERE token_hash = $1",
        )
        .bind(hash.to_hex())
        .fetch_optional(&self.pools.reader)
        .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    /// Deletes codes and refresh tokens that expired before `now`.
    pub async fn delete_expired(&self, now: OffsetDateTime) -> Result<(), DbError> {
        for statement in [
            "DELETE FROM oauth_codes WHERE expires_at < $1",
            "DELETE FROM oauth_refresh_tokens WHERE expires_at < $1",
        ] {
            sqlx::query(statement)
                .bind(to_secs(now))
                .execute(&self.pools.writer)
                .await?;
        }
        Ok(())
    }

    /// Sets `used_at` on an unused, unexpired row of `client_id`; true when
    /// this call did (another client's attempt leaves the row unused).
    async fn mark_used(
        &self,
        table: Table,
        hash: &SecretHash,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        let (table, key) = table.names();
        let statement = format!(
            "UPDATE {table} SET used_at = $1
             WHERE {key} = $2 AND client_id = $3 AND used_at IS NULL AND expires_at > $1"
        );
        let done = sqlx::query(&statement)
            .bind(to_secs(now))
            .bind(hash.to_hex())
            .bind(client_id)
            .execute(&self.pools.writer)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

/// The two tables of single-use values.
#[derive(Debug, Clone, Copy)]
enum Table {
    Codes,
    RefreshTokens,
}

impl Table {
    /// (table name, key column).
    fn names(self) -> (&'static str, &'static str) {
        match self {
            Self::Codes => ("oauth_codes", "code_hash"),
            Self::RefreshTokens => ("oauth_refresh_tokens", "token_hash"),
        }
    }
}

impl<T> Use<(GrantRef, T)> {
    /// The same outcome with the granted value converted.
    fn try_map<U>(
        self,
        convert: impl FnOnce(T) -> Result<U, DbError>,
    ) -> Result<Use<(GrantRef, U)>, DbError> {
        Ok(match self {
            Use::Granted((grant, value)) => Use::Granted((grant, convert(value)?)),
            Use::Unknown => Use::Unknown,
            Use::Expired => Use::Expired,
            Use::Replayed(grant) => Use::Replayed(grant),
        })
    }
}

/// Why a use that did not mark the row failed: used before, or expired.
fn outcome_of_failed_use<T>(
    row: &sqlx::any::AnyRow,
    grant: GrantRef,
    now: OffsetDateTime,
) -> Result<Use<T>, DbError> {
    if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
        return Ok(Use::Replayed(grant));
    }
    let expires_at = from_secs(row.try_get("expires_at")?)?;
    Ok(if expires_at <= now {
        Use::Expired
    } else {
        // Unused and unexpired, yet not marked: it belongs to another client.
        Use::Unknown
    })
}

fn grant_from_row(row: &sqlx::any::AnyRow) -> Result<GrantRef, DbError> {
    Ok(GrantRef {
        ticket_id: row.try_get("ticket_id")?,
        client_id: row.try_get("client_id")?,
        user_id: row.try_get("user_id")?,
        auth_time: from_secs(row.try_get("auth_time")?)?,
    })
}
