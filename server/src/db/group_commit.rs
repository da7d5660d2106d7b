//! Group commit of the sign-in records written on the hot path (the
//! confirm's record of the confirming session, the exchange's record of the
//! token): one task takes every record waiting at that moment and writes
//! them in one transaction, then answers each caller — after the commit, so
//! a record still commits before its confirm or token leaves.
//!
//! A commit is the expensive part of a write: on PostgreSQL a WAL flush to
//! disk, on SQLite a WAL append plus the pool's round trips. Under load many
//! confirms and exchanges wait at once, and they share one commit; alone, a
//! record is written at once, as before (nothing waits for company).
//!
//! When a batch fails as a whole (one bad row aborts a PostgreSQL
//! transaction), each record is written again on its own, so one failure
//! never fails its neighbours.

use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::DbError;

/// Most records in one transaction.
const MAX_BATCH: usize = 256;

/// Records waiting for the writer; past it callers wait to enqueue.
const QUEUE: usize = 4096;

/// One record to write.
pub(crate) enum Record {
    /// Which app session confirmed a ticket (upsert of the row's first half).
    Confirmation {
        ticket_id: String,
        user_id: String,
        app_session_id: String,
        device_name: String,
        requester: Requester,
    },
    /// Which token the page received (upsert of the second half), answering
    /// whether the sign-in was revoked already.
    Exchange {
        ticket_id: String,
        user_id: String,
        requester: Requester,
        signed_in_at: i64,
        token_id: String,
        token_expires_at: i64,
        client: Option<(String, String)>,
    },
}

/// The browser that asked, as stored with either half.
pub(crate) struct Requester {
    pub ip: String,
    pub user_agent: String,
    pub browser: String,
    pub os: String,
    pub requested_at: i64,
}

/// What writing a record found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    Confirmation,
    /// `Some(revoked)` when the exchange completed the row; `None` when the
    /// row was not its to complete.
    Exchange(Option<bool>),
}

type Reply = oneshot::Sender<Result<Written, DbError>>;

/// The queue into the writing task. Cheap to clone.
#[derive(Clone)]
pub(crate) struct GroupCommit {
    queue: mpsc::Sender<(Record, Reply)>,
}

impl GroupCommit {
    /// Starts the writing task on `pool` (on SQLite, the one writer).
    pub fn start(pool: AnyPool) -> Self {
        let (queue, waiting) = mpsc::channel(QUEUE);
        tokio::spawn(write_batches(pool, waiting));
        Self { queue }
    }

    /// Writes `record` (with whatever else is waiting); returns after the
    /// commit.
    pub async fn write(&self, record: Record) -> Result<Written, DbError> {
        let (reply, answer) = oneshot::channel();
        self.queue
            .send((record, reply))
            .await
            .map_err(|_| DbError::Unavailable(sqlx::Error::PoolClosed))?;
        answer
            .await
            .map_err(|_| DbError::Unavailable(sqlx::Error::PoolClosed))?
    }
}

async fn write_batches(pool: AnyPool, mut waiting: mpsc::Receiver<(Record, Reply)>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        match write_together(&pool, &batch).await {
            Ok(written) => {
                for ((_, reply), result) in batch.drain(..).zip(written) {
                    let _ = reply.send(Ok(result));
                }
            }
            Err(_) => {
                for (record, reply) in batch.drain(..) {
                    let _ = reply.send(write_alone(&pool, &record).await);
                }
            }
        }
    }
}

/// Every record in one transaction (a lone record without one).
async fn write_together(
    pool: &AnyPool,
    batch: &[(Record, Reply)],
) -> Result<Vec<Written>, DbError> {
    if let [(record, _)] = batch {
        return Ok(vec![write_alone(pool, record).await?]);
    }
    let mut transaction = pool.begin().await?;
    let mut written = Vec::with_capacity(batch.len());
    for (record, _) in batch {
        written.push(write_one(&mut transaction, record).await?);
    }
    transaction.commit().await?;
    Ok(written)
}

async fn write_alone(pool: &AnyPool, record: &Record) -> Result<Written, DbError> {
    let mut connection = pool.acquire().await?;
    write_one(&mut connection, record).await
}

async fn write_one(connection: &mut AnyConnection, record: &Record) -> Result<Written, DbError> {
    match record {
        Record::Confirmation {
            ticket_id,
            user_id,
            app_session_id,
            device_name,
            requester,
        } => {
            sqlx::query(
                "INSERT INTO sign_ins (ticket_id, user_id, app_session_id, device_name,
                     requester_ip, requester_user_agent, requester_browser, requester_os,
                     requested_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                 ON CONFLICT (ticket_id) DO UPDATE
                     SET app_session_id = excluded.app_session_id,
                         device_name = excluded.device_name
                     WHERE sign_ins.app_session_id IS NULL
                         AND sign_ins.user_id = excluded.user_id",
            )
            .bind(ticket_id)
            .bind(user_id)
            .bind(app_session_id)
            .bind(device_name)
            .bind(&requester.ip)
            .bind(&requester.user_agent)
            .bind(&requester.browser)
            .bind(&requester.os)
            .bind(requester.requested_at)
            .execute(&mut *connection)
            .await?;
            Ok(Written::Confirmation)
        }
        Record::Exchange {
            ticket_id,
            user_id,
            requester,
            signed_in_at,
            token_id,
            token_expires_at,
            client,
        } => {
            let row = sqlx::query(
                "INSERT INTO sign_ins (ticket_id, user_id, requester_ip, requester_user_agent,
                     requester_browser, requester_os, requested_at, signed_in_at, token_id,
                     token_expires_at, client_id, client_name)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                 ON CONFLICT (ticket_id) DO UPDATE
                     SET signed_in_at = excluded.signed_in_at, token_id = excluded.token_id,
                         token_expires_at = excluded.token_expires_at,
                         client_id = excluded.client_id, client_name = excluded.client_name
                     WHERE sign_ins.signed_in_at IS NULL
                         AND sign_ins.user_id = excluded.user_id
                 RETURNING revoked_at",
            )
            .bind(ticket_id)
            .bind(user_id)
            .bind(&requester.ip)
            .bind(&requester.user_agent)
            .bind(&requester.browser)
            .bind(&requester.os)
            .bind(requester.requested_at)
            .bind(signed_in_at)
            .bind(token_id)
            .bind(token_expires_at)
            .bind(client.as_ref().map(|(id, _)| id))
            .bind(client.as_ref().map(|(_, name)| name))
            .fetch_optional(&mut *connection)
            .await?;
            let revoked = row
                .map(|row| row.try_get::<Option<i64>, _>("revoked_at"))
                .transpose()?
                .map(|at| at.is_some());
            Ok(Written::Exchange(revoked))
        }
    }
}
