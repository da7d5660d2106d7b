//! [`RedisStore`]: tickets in Redis, shared by any number of server
//! instances.
//!
//! - One key per ticket, `<prefix>:ticket:{<id>}` — a hash with the version,
//!   the ticket as JSON and its drop time — whose TTL is the ticket's deadline
//!   plus the retention, renewed on every change. Redis forgets tickets by
//!   itself; [`TicketStore::sweep`] is only an operator's tool.
//! - Every write is a Lua script on that single key (insert-if-absent;
//!   compare-and-swap + TTL + publish), so it is atomic, and the `{<id>}`
//!   hash tag keeps each script on one Redis Cluster slot.
//! - Changes are published on `<prefix>:changes`; each process holds ONE
//!   subscription connection and fans messages out to in-process `watch`
//!   channels ([`fanout`]).
//! - Every operation is bounded by a timeout and reported as
//!   [`StoreError::Unavailable`] when Redis cannot answer; the connections
//!   re-establish themselves when Redis returns.

mod fanout;
mod scripts;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use qrlogin_core::{Ticket, TicketId};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use time::OffsetDateTime;

use self::fanout::{Fanout, ListenerTiming, change_message};
use super::{StoreError, Subscription, Swap, TicketStore, drop_time};
use crate::clock::Clock;

/// How to reach Redis and how to lay out the keys.
#[derive(Clone)]
pub struct RedisSettings {
    /// `redis://[:password@]host[:port][/db]` (or `rediss://` with TLS
    /// support compiled in).
    pub url: String,
    /// Start of every key and channel name, so several deployments (or test
    /// runs) can share one Redis. Letters, digits, `_ - . :`.
    pub prefix: String,
    /// How long tickets stay after their deadline (see [`super::DEFAULT_RETENTION`]).
    pub retention: Duration,
    /// Longest wait for any single Redis operation before answering 503.
    pub op_timeout: Duration,
    /// How often the idle subscription connection is pinged, to find a
    /// connection that died without a word (e.g. a network partition).
    pub ping_every: Duration,
    /// Most live tickets (`--max-tickets`); creating more is refused
    /// [`StoreError::Full`]. 0: no cap.
    pub max_tickets: usize,
}

impl std::fmt::Debug for RedisSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may carry a password.
        f.debug_struct("RedisSettings")
            .field("url", &"<redacted>")
            .field("prefix", &self.prefix)
            .field("retention", &self.retention)
            .field("op_timeout", &self.op_timeout)
            .field("ping_every", &self.ping_every)
            .field("max_tickets", &self.max_tickets)
            .finish()
    }
}

impl RedisSettings {
    pub const DEFAULT_PREFIX: &str = "qrlogin";
    pub const DEFAULT_OP_TIMEOUT: Duration = Duration::from_secs(2);

    /// Settings with the default prefix and timeout.
    pub fn new(url: impl Into<String>, retention: Duration) -> Self {
        Self {
            url: url.into(),
            prefix: Self::DEFAULT_PREFIX.into(),
            retention,
            op_timeout: Self::DEFAULT_OP_TIMEOUT,
            ping_every: Duration::from_secs(5),
            max_tickets: 0,
        }
    }
}

/// Key and channel names under one prefix.
#[derive(Debug, Clone)]
struct Keys {
    prefix: String,
}

impl Keys {
    fn new(prefix: &str) -> Result<Self, StoreError> {
        let valid = !prefix.is_empty()
            && prefix.len() <= 64
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
        if !valid {
            return Err(StoreError::Unavailable(format!(
                "invalid Redis key prefix `{prefix}` (1–64 of letters, digits, _ - . :)"
            )));
        }
        Ok(Self {
            prefix: prefix.into(),
        })
    }

    /// `<prefix>:ticket:{<id>}` — the braces are a Redis Cluster hash tag.
    fn ticket(&self, id: &TicketId) -> String {
        format!("{}:ticket:{{{id}}}", self.prefix)
    }

    /// A SCAN pattern matching every ticket key (the prefix has no glob
    /// characters, see [`Keys::new`]).
    fn all_tickets(&self) -> String {
        format!("{}:ticket:*", self.prefix)
    }

    fn changes(&self) -> String {
        format!("{}:changes", self.prefix)
    }

    /// The sorted set of live ticket ids, scored by drop time (the cap).
    fn live(&self) -> String {
        format!("{}:live", self.prefix)
    }
}

/// Aborts the listener task when the store is dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

pub struct RedisStore {
    conn: ConnectionManager,
    keys: Keys,
    retention: Duration,
    op_timeout: Duration,
    /// Most live tickets (0: no cap).
    max_tickets: usize,
    fanout: Arc<Fanout>,
    insert_script: redis::Script,
    swap_script: redis::Script,
    sweep_script: redis::Script,
    clock: Clock,
    _listener: AbortOnDrop,
}

impl RedisStore {
    /// The same store on `clock` (key lifetimes are counted from its time).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// Opens the store. Fails only on invalid settings: if Redis is down the
    /// store still opens, answers [`StoreError::Unavailable`] and connects as
    /// soon as Redis is back. Waits up to `op_timeout` for the change
    /// subscription, so a store opened against a live Redis is fully ready.
    /// Must be called within a tokio runtime (it spawns the listener).
    pub async fn open(settings: RedisSettings) -> Result<Self, StoreError> {
        let keys = Keys::new(&settings.prefix)?;
        let client = redis::Client::open(settings.url.as_str())
            .map_err(|e| StoreError::Unavailable(format!("invalid Redis URL: {e}")))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(settings.op_timeout))
            .set_response_timeout(Some(settings.op_timeout))
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)
            .map_err(|e| StoreError::Unavailable(format!("invalid Redis settings: {e}")))?;
        let fanout = Arc::new(Fanout::default());
        let timing = ListenerTiming {
            op_timeout: settings.op_timeout,
            ping_every: settings.ping_every,
            min_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(2),
        };
        let listener = tokio::spawn(fanout::listen(
            client,
            keys.changes(),
            fanout.clone(),
            timing,
        ));
        let store = Self {
            conn,
            keys,
            retention: settings.retention,
            op_timeout: settings.op_timeout,
            max_tickets: settings.max_tickets,
            fanout,
            insert_script: scripts::insert(),
            swap_script: scripts::compare_and_swap(),
            sweep_script: scripts::sweep_one(),
            clock: Clock::system(),
            _listener: AbortOnDrop(listener),
        };
        if tokio::time::timeout(settings.op_timeout, store.fanout.connected())
            .await
            .is_err()
        {
            tracing::warn!("Redis is not reachable yet; answering 503 until it is");
        }
        Ok(store)
    }

    /// Tickets that have at least one waiting page in this process.
    pub fn watched_tickets(&self) -> usize {
        self.fanout.watched()
    }

    /// How many times the change subscription was established: 1 after a
    /// clean start, one more per reconnection.
    pub fn subscription_sessions(&self) -> u64 {
        self.fanout.sessions()
    }

    /// Runs one Redis operation within the timeout.
    async fn run<T>(
        &self,
        operation: impl Future<Output = redis::RedisResult<T>>,
    ) -> Result<T, StoreError> {
        match tokio::time::timeout(self.op_timeout, operation).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(store_error(&e)),
            Err(_) => Err(StoreError::Unavailable(format!(
                "Redis did not answer within {:?}",
                self.op_timeout
            ))),
        }
    }

    /// (TTL in ms from now, drop time in unix ms) for `ticket`.
    fn lifetime(&self, ticket: &Ticket) -> (i64, i64) {
        let drop_at = drop_time(ticket, self.retention);
        let ttl = (drop_at - self.clock.now()).whole_milliseconds();
        (clamp_ms(ttl).max(1), unix_ms(drop_at))
    }
}

fn unix_ms(at: OffsetDateTime) -> i64 {
    clamp_ms(at.unix_timestamp_nanos() / 1_000_000)
}

fn clamp_ms(ms: i128) -> i64 {
    i64::try_from(ms).unwrap_or(if ms < 0 { i64::MIN } else { i64::MAX })
}

/// Out of memory → the store is full; a reply we cannot read → corrupt;
/// anything else (refused, reset, timed out, loading…) → unavailable.
fn store_error(e: &redis::RedisError) -> StoreError {
    use redis::ErrorKind;
    if e.code() == Some("OOM") {
        return StoreError::Full;
    }
    match e.kind() {
        ErrorKind::Parse | ErrorKind::UnexpectedReturnType => StoreError::Corrupt(e.to_string()),
        _ => StoreError::Unavailable(e.to_string()),
    }
}

fn encode(ticket: &Ticket) -> Result<String, StoreError> {
    serde_json::to_string(ticket).map_err(|e| StoreError::Corrupt(e.to_string()))
}

#[async_trait]
impl TicketStore for RedisStore {
    async fn insert(&self, ticket: &Ticket) -> Result<(), StoreError> {
        let (ttl, drop_at) = self.lifetime(ticket);
        let json = encode(ticket)?;
        let mut conn = self.conn.clone();
        let stored: i64 = self
            .run(
                self.insert_script
                    .key(self.keys.ticket(&ticket.id))
                    .key(self.keys.live())
                    .arg(ticket.version)
                    .arg(json)
                    .arg(ttl)
                    .arg(drop_at)
                    .arg(unix_ms(self.clock.now()))
                    .arg(self.max_tickets)
                    .arg(ticket.id.to_string())
                    .invoke_async(&mut conn),
            )
            .await?;
        match stored {
            scripts::INSERT_DONE => Ok(()),
            scripts::INSERT_DUPLICATE => Err(StoreError::Duplicate),
            scripts::INSERT_FULL => Err(StoreError::Full),
            other => Err(StoreError::Corrupt(format!(
                "unexpected script result {other}"
            ))),
        }
    }

    async fn get(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        let mut conn = self.conn.clone();
        let json: Option<String> = self
            .run(
                redis::cmd("HGET")
                    .arg(self.keys.ticket(id))
                    .arg("t")
                    .query_async(&mut conn),
            )
            .await?;
        json.map(|json| serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string())))
            .transpose()
    }

    async fn compare_and_swap(
        &self,
        expected_version: u64,
        next: &Ticket,
    ) -> Result<Swap, StoreError> {
        let (ttl, drop_at) = self.lifetime(next);
        let json = encode(next)?;
        let mut conn = self.conn.clone();
        let outcome: i64 = self
            .run(
                self.swap_script
                    .key(self.keys.ticket(&next.id))
                    .key(self.keys.live())
                    .arg(expected_version)
                    .arg(next.version)
                    .arg(json)
                    .arg(ttl)
                    .arg(drop_at)
                    .arg(self.keys.changes())
                    .arg(change_message(&next.id, next.version))
                    .arg(next.id.to_string())
                    .invoke_async(&mut conn),
            )
            .await?;
        match outcome {
            scripts::CAS_DONE => {
                // Our own waiters need not wait for the round trip.
                self.fanout.deliver(&next.id, next.version);
                Ok(Swap::Done)
            }
            scripts::CAS_STALE => Ok(Swap::Stale),
            scripts::CAS_MISSING => Ok(Swap::Missing),
            other => Err(StoreError::Corrupt(format!(
                "unexpected script result {other}"
            ))),
        }
    }

    async fn subscribe(&self, id: &TicketId) -> Result<Subscription, StoreError> {
        // The process-wide subscription is always on (or reconnecting, after
        // which every waiter is woken), so registering is enough.
        Ok(self.fanout.subscribe(*id))
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        let pattern = self.keys.all_tickets();
        let now_ms = unix_ms(now);
        let mut conn = self.conn.clone();
        let mut cursor = 0u64;
        let mut dropped = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = self
                .run(
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&pattern)
                        .arg("COUNT")
                        .arg(500)
                        .query_async(&mut conn),
                )
                .await?;
            for key in keys {
                let id = key
                    .rsplit_once('{')
                    .and_then(|(_, rest)| rest.strip_suffix('}'))
                    .and_then(|id| TicketId::parse(id).ok());
                let Some(id) = id else { continue };
                let deleted: i64 = self
                    .run(
                        self.sweep_script
                            .key(&key)
                            .key(self.keys.live())
                            .arg(now_ms)
                            .arg(self.keys.changes())
                            .arg(change_message(&id, 0))
                            .arg(id.to_string())
                            .invoke_async(&mut conn),
                    )
                    .await?;
                dropped += usize::from(deleted == 1);
            }
            if next == 0 {
                return Ok(dropped);
            }
            cursor = next;
        }
    }

    async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.conn.clone();
        let _: String = self.run(redis::cmd("PING").query_async(&mut conn)).await?;
        if self.fanout.is_connected() {
            Ok(())
        } else {
            Err(StoreError::Unavailable(
                "not subscribed to ticket changes (reconnecting)".into(),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_keys_carry_the_id_as_a_cluster_hash_tag() {
        let keys = Keys::new("qrlogin").unwrap();
        let id = TicketId::from_random_bytes([7; 16]);
        assert_eq!(keys.ticket(&id), format!("qrlogin:ticket:{{{id}}}"));
        assert_eq!(keys.changes(), "qrlogin:changes");
        assert_eq!(keys.all_tickets(), "qrlogin:ticket:*");
    }

    #[test]
    fn prefixes_with_glob_or_space_characters_are_refused() {
        for bad in ["", "a b", "x*", "y?", "[z]", "{tag}", &"p".repeat(65)] {
            assert!(Keys::new(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Keys::new("qrlogin-test_1.2:x").is_ok());
    }

    #[test]
    fn settings_never_print_the_url() {
        let settings = RedisSettings::new("redis://:hunter2@127.0.0.1/", Duration::from_secs(1));
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
