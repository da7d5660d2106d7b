//! Password hashing with argon2id, off the async runtime. Each hash costs
//! ~19 MiB and tens of milliseconds of CPU, so at most a fixed number run at
//! once ([`Hasher::new`], about 2 × cores): past that a request waits a
//! moment for its turn, then is refused [`PasswordError::Busy`] instead of
//! piling up blocking threads and memory.

use std::sync::Arc;
use std::time::Duration;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use tokio::sync::Semaphore;

use crate::random;

/// How long a hash waits for a free slot before it is refused.
const QUEUE_WAIT: Duration = Duration::from_secs(2);

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    /// Every hashing slot is taken: try again in a moment.
    #[error("the server is busy checking other passwords; try again in a moment")]
    Busy,
    #[error("password hashing failed: {0}")]
    Hash(String),
}

/// Runs argon2 with at most `max_concurrent` hashes at a time. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    slots: Arc<Semaphore>,
}

impl Hasher {
    pub fn new(max_concurrent: usize) -> Self {
        Self {
            slots: Arc::new(Semaphore::new(max_concurrent.max(1))),
        }
    }

    /// About two hashes per core: enough to keep the CPU busy, never more
    /// memory than a few dozen MiB.
    pub fn default_limit() -> usize {
        std::thread::available_parallelism().map_or(2, |n| n.get() * 2)
    }

    /// A new argon2id PHC string for `password`, with a random salt.
    pub async fn hash(&self, password: String) -> Result<String, PasswordError> {
        self.blocking(move || {
            let salt = SaltString::encode_b64(&random::bytes::<16>())
                .map_err(|e| PasswordError::Hash(e.to_string()))?;
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|e| PasswordError::Hash(e.to_string()))
        })
        .await
    }

    /// True when `password` matches the PHC string `hash`.
    pub async fn verify(&self, password: String, hash: String) -> Result<bool, PasswordError> {
        self.blocking(move || {
            let parsed =
                PasswordHash::new(&hash).map_err(|e| PasswordError::Hash(e.to_string()))?;
            Ok(Argon2::default()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok())
        })
        .await
    }

    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        let slot = tokio::time::timeout(QUEUE_WAIT, self.slots.clone().acquire_owned())
            .await
            .map_err(|_| PasswordError::Busy)?
            .map_err(|_| PasswordError::Busy)?;
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(slot);
            result
        })
        .await
        .map_err(|e| PasswordError::Hash(e.to_string()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_hash_past_the_limit_waits_then_is_refused_busy() {
        let hasher = Hasher::new(1);
        let held = hasher.slots.clone().acquire_owned().await.unwrap();
        let refused = hasher.hash("x".into()).await;
        assert!(matches!(refused, Err(PasswordError::Busy)), "{refused:?}");
        drop(held);
        let hash = hasher.hash("x".into()).await.unwrap();
        assert!(hasher.verify("x".into(), hash).await.unwrap());
    }
}
