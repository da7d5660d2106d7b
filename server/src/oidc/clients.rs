//! Registering OpenID Connect clients (`qrlogin-server clients add|list|remove`).

use qrlogin_core::SecretHash;
use qrlogin_core::oidc::{ClientKind, IdTokenAlg, RedirectUri, RegisteredClient};
use serde::Serialize;

use crate::Clock;
use crate::db::clients::{NewClient, StoredClient};
use crate::db::{Database, DbError};
use crate::random;

/// Why a client cannot be registered.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("the client name must be 1–100 characters")]
    Name,
    #[error("give at least one --redirect-uri")]
    NoRedirectUri,
    #[error("redirect URI `{uri}`: {reason}")]
    RedirectUri { uri: String, reason: String },
    #[error(transparent)]
    Db(#[from] DbError),
}

/// What `clients add` prints: the secret is shown this once.
#[derive(Debug, Serialize)]
pub struct Registered {
    pub client_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
}

/// What to register.
pub struct Registration<'a> {
    pub name: &'a str,
    pub redirect_uris: &'a [String],
    pub kind: ClientKind,
    pub id_token_alg: IdTokenAlg,
    /// A fixed client id (the demo client); else a random one.
    pub id: Option<&'a str>,
}

/// Registers a client; a confidential one gets a random secret, stored hashed.
pub async fn register(
    db: &Database,
    clock: &Clock,
    registration: Registration<'_>,
) -> Result<Registered, ClientError> {
    let name = registration.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ClientError::Name);
    }
    if registration.redirect_uris.is_empty() {
        return Err(ClientError::NoRedirectUri);
    }
    let redirect_uris = registration
        .redirect_uris
        .iter()
        .map(|uri| {
            RedirectUri::parse(uri).map_err(|e| ClientError::RedirectUri {
                uri: uri.clone(),
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let id = registration
        .id
        .map_or_else(|| random::token()[..22].to_string(), str::to_string);
    let secret = (registration.kind == ClientKind::Confidential).then(random::token);
    let client = RegisteredClient {
        id: id.clone(),
        name: name.to_string(),
        kind: registration.kind,
        redirect_uris,
        id_token_alg: registration.id_token_alg,
    };
    db.clients()
        .insert(NewClient {
            client: &client,
            secret_hash: secret.as_deref().map(SecretHash::of).as_ref(),
            created_at: clock.now(),
        })
        .await?;
    Ok(Registered {
        client_id: id,
        client_secret: secret,
    })
}

pub async fn list(db: &Database) -> Result<Vec<StoredClient>, DbError> {
    db.clients().list().await
}

pub async fn remove(db: &Database, id: &str) -> Result<bool, DbError> {
    db.clients().delete(id).await
}
