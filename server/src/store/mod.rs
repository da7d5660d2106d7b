//! Where tickets live between requests: the [`TicketStore`] trait and its
//! two implementations — [`MemoryStore`] (one process, the default) and
//! [`RedisStore`] (`--redis-url`: one key per ticket with a TTL, a Lua script
//! for the compare-and-swap, pub/sub for change notifications, so several
//! instances serve the same tickets). One conformance suite
//! (`server/tests/api/store.rs`) runs against both.

mod memory;
mod redis;

use std::time::Duration;

use async_trait::async_trait;
use qrlogin_core::{Ticket, TicketId};
use time::OffsetDateTime;
use tokio::sync::watch;

pub use memory::MemoryStore;
pub use redis::{RedisSettings, RedisStore};

/// How long a ticket stays readable after its deadline or final state, so a
/// late second exchange still sees `already_consumed` (409), not 404.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(300);

/// How long a ticket that nobody ever scanned is kept after its deadline:
/// briefly, so that a flood of abandoned codes leaves the store quickly.
pub const UNSCANNED_RETENTION: Duration = Duration::from_secs(10);

/// When a store may drop `ticket`: its deadline plus `retention`, or plus
/// [`UNSCANNED_RETENTION`] while it is still pending (never scanned).
pub fn drop_time(ticket: &Ticket, retention: Duration) -> OffsetDateTime {
    let keep = if ticket.state == qrlogin_core::TicketState::Pending {
        retention.min(UNSCANNED_RETENTION)
    } else {
        retention
    };
    ticket.expires_at + keep
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached (network, server down). Answered as 503.
    #[error("ticket store unavailable: {0}")]
    Unavailable(String),
    /// The store refuses new tickets because it holds too many.
    #[error("ticket store is full")]
    Full,
    /// A ticket with this id already exists (ids are random; practically never).
    #[error("ticket id already in use")]
    Duplicate,
    /// Stored data could not be read back (a bug or a foreign writer).
    #[error("stored ticket is corrupt: {0}")]
    Corrupt(String),
}

/// The result of a compare-and-swap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    /// The stored ticket had the expected version and was replaced.
    Done,
    /// Someone else changed the ticket first; reload and try again.
    Stale,
    /// No such ticket (never created, or already dropped from the store).
    Missing,
}

/// Change notifications for one ticket. Created *before* reading the ticket,
/// so no change between the read and the wait can be missed.
pub struct Subscription {
    rx: watch::Receiver<u64>,
    /// Keeps implementation resources (e.g. a pub/sub registration) alive.
    _guard: Option<Box<dyn Send + Sync>>,
}

impl Subscription {
    pub fn new(rx: watch::Receiver<u64>, guard: Option<Box<dyn Send + Sync>>) -> Self {
        Self { rx, _guard: guard }
    }

    /// A subscription that never fires (the ticket does not exist).
    pub fn closed() -> Self {
        let (_tx, rx) = watch::channel(0);
        Self::new(rx, None)
    }

    /// Waits for the next change. Returns `false` once no more changes can
    /// come (the ticket left the store); callers then reload and stop.
    pub async fn changed(&mut self) -> bool {
        self.rx.changed().await.is_ok()
    }
}

/// Storage of tickets with optimistic concurrency.
///
/// Every write is a compare-and-swap on [`Ticket::version`]; the state machine
/// in `qrlogin-core` decides what the next ticket is, the store only makes
/// sure that exactly one writer wins each version.
#[async_trait]
pub trait TicketStore: Send + Sync + 'static {
    /// Stores a new ticket. Fails with [`StoreError::Duplicate`] if the id exists.
    async fn insert(&self, ticket: &Ticket) -> Result<(), StoreError>;

    /// The ticket with this id, if the store still holds it.
    async fn get(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError>;

    /// Replaces the stored ticket with `next` only if the stored version is
    /// `expected_version`, then notifies subscribers.
    async fn compare_and_swap(
        &self,
        expected_version: u64,
        next: &Ticket,
    ) -> Result<Swap, StoreError>;

    /// Notifications of changes to ticket `id`.
    async fn subscribe(&self, id: &TicketId) -> Result<Subscription, StoreError>;

    /// Drops tickets whose deadline passed more than the retention ago.
    /// Returns how many were dropped. (Stores with native TTLs may do nothing.)
    async fn sweep(&self, now: OffsetDateTime) -> Result<usize, StoreError>;

    /// Checks that the store is reachable (for `/healthz`).
    async fn ping(&self) -> Result<(), StoreError>;
}
