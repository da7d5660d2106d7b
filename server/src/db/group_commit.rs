//! Group commit of the sign-in records written on the hot path (the
//! confirm's record of the confirming session, the exchange's record of the
//! token): one task takes every record waiting at that moment and writes
//! them in one transaction, then answers each caller — after the commit, so
//! a record still commits before its confirm or token leaves.
//!
//! A commit is the expensive part of a write: on PostgreSQL a WAL flush to
//! disk, on SQLite a WAL append plus the pool's round trips. Under load many
//! confirms and exchanges wait at once, and they share one commit; alone, a
//! record is written at once, as before (nothing waits for company). Inside
//! the transaction the records go as multi-row upserts (a statement is a
//! round trip to the connection's thread or to PostgreSQL), cut into a few
//! fixed sizes so that each connection prepares only a few statements.
//!
//! When a batch fails as a whole (one bad row aborts a PostgreSQL
//! transaction), each record is written again on its own, so one failure
//! never fails its neighbours; so is a batch with two records for the same
//! row, which one statement may not upsert twice.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use sqlx::{AnyConnection, AnyPool, Row};
use tokio::sync::{mpsc, oneshot};

use super::DbError;

/// Most records in one transaction.
const MAX_BATCH: usize = 256;

/// Records waiting for the writer; past it callers wait to enqueue.
const QUEUE: usize = 4096;

/// One record to write.
pub(crate) enum Record {
    Confirmation(Confirmation),
    Exchange(Exchange),
}

/// Which app session confirmed a ticket (upsert of the row's first half).
pub(crate) struct Confirmation {
    pub ticket_id: String,
    pub user_id: String,
    pub app_session_id: String,
    pub device_name: String,
    pub requester: Requester,
}

/// Which token the page received (upsert of the second half), answering
/// whether the sign-in was revoked already.
pub(crate) struct Exchange {
    pub ticket_id: String,
    pub user_id: String,
    pub requester: Requester,
    pub signed_in_at: i64,
    pub token_id: String,
    pub token_expires_at: i64,
    pub client: Option<(String, String)>,
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
        let together = if batch.len() > 1 && tickets_distinct(&batch) {
            write_together(&pool, &batch).await.ok()
        } else {
            None
        };
        match together {
            Some(written) => {
                for ((_, reply), result) in batch.drain(..).zip(written) {
                    let _ = reply.send(Ok(result));
                }
            }
            None => {
                for (record, reply) in batch.drain(..) {
                    let _ = reply.send(write_alone(&pool, &record).await);
                }
            }
        }
    }
}

/// True when no ticket has two records of the same kind in `batch`: one
/// statement may not upsert the same row twice (PostgreSQL refuses it), so
/// such a batch (a repeated confirm, say) is written a record at a time.
fn tickets_distinct(batch: &[(Record, Reply)]) -> bool {
    let mut seen = HashSet::with_capacity(batch.len());
    batch.iter().all(|(record, _)| seen.insert(record.key()))
}

/// Statement sizes, largest first: a batch is written as statements of
/// this many rows each, so that a connection prepares (and caches) only
/// these few statement texts per kind of record.
const ROWS_PER_STATEMENT: [usize; 4] = [64, 16, 4, 1];

/// `items` cut into runs of [`ROWS_PER_STATEMENT`] sizes, largest first.
fn statements<T>(mut items: &[T]) -> impl Iterator<Item = &[T]> {
    std::iter::from_fn(move || {
        let size = ROWS_PER_STATEMENT
            .into_iter()
            .find(|size| *size <= items.len())?;
        let (run, rest) = items.split_at(size);
        items = rest;
        Some(run)
    })
}

/// Every record in one transaction, each kind in multi-row statements.
async fn write_together(
    pool: &AnyPool,
    batch: &[(Record, Reply)],
) -> Result<Vec<Written>, DbError> {
    let confirmations: Vec<&Confirmation> = batch
        .iter()
        .filter_map(|(record, _)| match record {
            Record::Confirmation(confirmation) => Some(confirmation),
            Record::Exchange(_) => None,
        })
        .collect();
    let exchanges: Vec<&Exchange> = batch
        .iter()
        .filter_map(|(record, _)| match record {
            Record::Exchange(exchange) => Some(exchange),
            Record::Confirmation(_) => None,
        })
        .collect();
    let mut transaction = pool.begin().await?;
    for rows in statements(&confirmations) {
        insert_confirmations(&mut transaction, rows).await?;
    }
    let mut completed = HashMap::with_capacity(exchanges.len());
    for rows in statements(&exchanges) {
        completed.extend(insert_exchanges(&mut transaction, rows).await?);
    }
    transaction.commit().await?;
    Ok(batch
        .iter()
        .map(|(record, _)| match record {
            Record::Confirmation(_) => Written::Confirmation,
            Record::Exchange(exchange) => {
                Written::Exchange(completed.get(exchange.ticket_id.as_str()).copied())
            }
        })
        .collect())
}

async fn write_alone(pool: &AnyPool, record: &Record) -> Result<Written, DbError> {
    let mut connection = pool.acquire().await?;
    match record {
        Record::Confirmation(confirmation) => {
            insert_confirmations(&mut connection, &[confirmation]).await?;
            Ok(Written::Confirmation)
        }
        Record::Exchange(exchange) => {
            let completed = insert_exchanges(&mut connection, &[exchange]).await?;
            let revoked = completed.into_iter().next().map(|(_, revoked)| revoked);
            Ok(Written::Exchange(revoked))
        }
    }
}

/// The text of one multi-row statement per size in [`ROWS_PER_STATEMENT`],
/// made once: `head`, the `VALUES` list, `tail`.
struct StatementTexts([String; ROWS_PER_STATEMENT.len()]);

impl StatementTexts {
    fn new(head: &str, columns: usize, tail: &str) -> Self {
        Self(
            ROWS_PER_STATEMENT
                .map(|rows| format!("{head} VALUES {} {tail}", values(rows, columns))),
        )
    }

    /// The text for `rows` rows (one of [`ROWS_PER_STATEMENT`], as
    /// [`statements`] cuts them).
    fn for_rows(&self, rows: usize) -> &str {
        let at = ROWS_PER_STATEMENT
            .iter()
            .position(|size| *size == rows)
            .expect("statements() cuts batches into ROWS_PER_STATEMENT sizes");
        &self.0[at]
    }
}

static CONFIRMATION_SQL: LazyLock<StatementTexts> = LazyLock::new(|| {
    StatementTexts::new(
        "INSERT INTO sign_ins (ticket_id, user_id, app_session_id, device_name,
             requester_ip, requester_user_agent, requester_browser, requester_os,
             requested_at)",
        9,
        "ON CONFLICT (ticket_id) DO UPDATE
             SET app_session_id = excluded.app_session_id,
                 device_name = excluded.device_name
             WHERE sign_ins.app_session_id IS NULL
                 AND sign_ins.user_id = excluded.user_id",
    )
});

static EXCHANGE_SQL: LazyLock<StatementTexts> = LazyLock::new(|| {
    StatementTexts::new(
        "INSERT INTO sign_ins (ticket_id, user_id, requester_ip, requester_user_agent,
             requester_browser, requester_os, requested_at, signed_in_at, token_id,
             token_expires_at, client_id, client_name)",
        12,
        "ON CONFLICT (ticket_id) DO UPDATE
             SET signed_in_at = excluded.signed_in_at, token_id = excluded.token_id,
                 token_expires_at = excluded.token_expires_at,
                 client_id = excluded.client_id, client_name = excluded.client_name
             WHERE sign_ins.signed_in_at IS NULL
                 AND sign_ins.user_id = excluded.user_id
         RETURNING ticket_id, revoked_at",
    )
});

/// `(${first}, …, ${first + columns - 1}), (…)` for `rows` rows.
fn values(rows: usize, columns: usize) -> String {
    let mut text = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        text.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                text.push_str(", ");
            }
            text.push('$');
            text.push_str(&(row * columns + column + 1).to_string());
        }
        text.push(')');
    }
    text
}

/// Upserts the confirming session's half of each row: a repeat confirm
/// from another session of the same user keeps the first.
async fn insert_confirmations(
    connection: &mut AnyConnection,
    rows: &[&Confirmation],
) -> Result<(), DbError> {
    let mut query = sqlx::query(CONFIRMATION_SQL.for_rows(rows.len()));
    for row in rows {
        let requester = &row.requester;
        query = query
            .bind(&row.ticket_id)
            .bind(&row.user_id)
            .bind(&row.app_session_id)
            .bind(&row.device_name)
            .bind(&requester.ip)
            .bind(&requester.user_agent)
            .bind(&requester.browser)
            .bind(&requester.os)
            .bind(requester.requested_at);
    }
    query.execute(&mut *connection).await?;
    Ok(())
}

/// Upserts the token's half of each row; answers, for each row it
/// completed, (ticket id, whether the sign-in was revoked already). A row
/// that was not its to complete is not in the answer.
async fn insert_exchanges(
    connection: &mut AnyConnection,
    rows: &[&Exchange],
) -> Result<Vec<(String, bool)>, DbError> {
    let mut query = sqlx::query(EXCHANGE_SQL.for_rows(rows.len()));
    for row in rows {
        let requester = &row.requester;
        query = query
            .bind(&row.ticket_id)
            .bind(&row.user_id)
            .bind(&requester.ip)
            .bind(&requester.user_agent)
            .bind(&requester.browser)
            .bind(&requester.os)
            .bind(requester.requested_at)
            .bind(row.signed_in_at)
            .bind(&row.token_id)
            .bind(row.token_expires_at)
            .bind(row.client.as_ref().map(|(id, _)| id))
            .bind(row.client.as_ref().map(|(_, name)| name));
    }
    let completed = query.fetch_all(&mut *connection).await?;
    completed
        .iter()
        .map(|row| {
            let ticket_id: String = row.try_get("ticket_id")?;
            let revoked_at: Option<i64> = row.try_get("revoked_at")?;
            Ok((ticket_id, revoked_at.is_some()))
        })
        .collect()
}

impl Record {
    /// The row this record writes, and which half of it.
    fn key(&self) -> (&str, bool) {
        match self {
            Record::Confirmation(confirmation) => (&confirmation.ticket_id, false),
            Record::Exchange(exchange) => (&exchange.ticket_id, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_is_cut_into_the_few_statement_sizes_largest_first() {
        let items: Vec<usize> = (0..90).collect();
        let sizes: Vec<usize> = statements(&items).map(<[usize]>::len).collect();
        assert_eq!(sizes, [64, 16, 4, 4, 1, 1]);
        let again: Vec<usize> = statements(&items).flatten().copied().collect();
        assert_eq!(again, items, "every record once, in order");
        assert_eq!(statements::<usize>(&[]).count(), 0);
    }

    #[test]
    fn placeholders_number_every_column_of_every_row() {
        assert_eq!(values(1, 2), "($1, $2)");
        assert_eq!(values(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    #[test]
    fn every_statement_size_has_its_text() {
        for rows in ROWS_PER_STATEMENT {
            let text = EXCHANGE_SQL.for_rows(rows);
            assert!(
                text.contains(&format!("${}) ON CONFLICT", rows * 12)),
                "{text}"
            );
            assert!(!text.contains(&format!("${}", rows * 12 + 1)), "{text}");
        }
    }
}
