//! The `oauth_clients` table: the OpenID Connect relying parties registered
//! with `qrlogin-server clients add`. A confidential client's secret is kept
//! as its SHA-256 only (it is 256 random bits, so a fast hash is enough).

use qrlogin_core::SecretHash;
use qrlogin_core::oidc::{ClientKind, IdTokenAlg, RedirectUri, RegisteredClient};
use sqlx::Row;
use time::OffsetDateTime;

use super::{DbError, Pools, decode_error, to_secs};

/// A registered client with what authenticates it.
#[derive(Debug, Clone)]
pub struct StoredClient {
    pub client: RegisteredClient,
    /// `None` for a public client.
    pub secret_hash: Option<SecretHash>,
}

/// A new row for [`Clients::insert`].
pub struct NewClient<'a> {
    pub client: &'a RegisteredClient,
    pub secret_hash: Option<&'a SecretHash>,
    pub created_at: OffsetDateTime,
}

pub struct Clients<'p> {
    pools: &'p Pools,
}

impl<'p> Clients<'p> {
    pub(super) fn new(pools: &'p Pools) -> Self {
        Self { pools }
    }

    pub async fn insert(&self, new: NewClient<'_>) -> Result<(), DbError> {
        let uris: Vec<&str> = new
            .client
            .redirect_uris
            .iter()
            .map(RedirectUri::as_str)
            .collect();
        sqlx::query(
            "INSERT INTO oauth_clients (id, name, secret_hash, redirect_uris, id_token_alg, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&new.client.id)
        .bind(&new.client.name)
        .bind(new.secret_hash.map(SecretHash::to_hex))
        .bind(serde_json::to_string(&uris).map_err(|e| DbError::Query(decode_error(e)))?)
        .bind(new.client.id_token_alg.as_str())
        .bind(to_secs(new.created_at))
        .execute(&self.pools.writer)
        .await?;
        Ok(())
    }

    /// The client `id`, read fresh (a client added while the server runs is
    /// usable at once; one removed is refused at once).
    pub async fn get(&self, id: &str) -> Result<Option<StoredClient>, DbError> {
        let row = sqlx::query(
            "SELECT id, name, secret_hash, redirect_uris, id_token_alg
             FROM oauth_clients WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pools.reader)
        .await?;
        row.as_ref().map(client_from_row).transpose()
    }

    pub async fn list(&self) -> Result<Vec<StoredClient>, DbError> {
        let rows = sqlx::query(
            "SELECT id, name, secret_hash, redirect_uris, id_token_alg
             FROM oauth_clients ORDER BY name, id",
        )
        .fetch_all(&self.pools.reader)
        .await?;
        rows.iter().map(client_from_row).collect()
    }

    /// Removes the client with its codes and refresh tokens; its sign-ins
    /// stay in their users' lists. False when there was no such client.
    pub async fn delete(&self, id: &str) -> Result<bool, DbError> {
        let mut tx = self.pools.writer.begin().await?;
        for statement in [
            "DELETE FROM oauth_refresh_tokens WHERE client_id = $1",
            "DELETE FROM oauth_codes WHERE client_id = $1",
        ] {
            sqlx::query(statement).bind(id).execute(&mut *tx).await?;
        }
        let done = sqlx::query("DELETE FROM oauth_clients WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() > 0)
    }
}

fn client_from_row(row: &sqlx::any::AnyRow) -> Result<StoredClient, DbError> {
    let bad = |what: &str| DbError::Query(decode_error(std::io::Error::other(what.to_string())));
    let uris: Vec<String> = serde_json::from_str(&row.try_get::<String, _>("redirect_uris")?)
        .map_err(|e| DbError::Query(decode_error(e)))?;
    let redirect_uris = uris
        .iter()
        .map(|u| RedirectUri::parse(u))
        .collect::<Result<_, _>>()
        .map_err(|e| DbError::Query(decode_error(e)))?;
    let alg: String = row.try_get("id_token_alg")?;
    let secret_hash = row
        .try_get::<Option<String>, _>("secret_hash")?
        .map(|hex| SecretHash::from_hex(&hex).ok_or_else(|| bad("malformed client secret hash")))
        .transpose()?;
    Ok(StoredClient {
        client: RegisteredClient {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            kind: if secret_hash.is_some() {
                ClientKind::Confidential
            } else {
                ClientKind::Public
            },
            redirect_uris,
            id_token_alg: IdTokenAlg::parse(&alg).ok_or_else(|| bad("unknown id_token_alg"))?,
        },
        secret_hash,
    })
}
