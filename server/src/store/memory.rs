//! [`MemoryStore`]: tickets in a `HashMap` behind a mutex, one `watch`
//! channel per ticket for change notifications, and a sweeper task that keeps
//! memory bounded. Serves one process.

use std::collections::HashMap;
use std::collections::hash_map::Entry as MapEntry;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use async_trait::async_trait;
use qrlogin_core::{Ticket, TicketId};
use time::OffsetDateTime;
use tokio::sync::watch;

use super::{StoreError, Subscription, Swap, TicketStore, drop_time};
use crate::clock::Clock;

struct Entry {
    ticket: Ticket,
    notify: watch::Sender<u64>,
}

pub struct MemoryStore {
    tickets: Mutex<HashMap<TicketId, Entry>>,
    retention: Duration,
    max_tickets: usize,
    clock: Clock,
}

impl MemoryStore {
    /// A store that keeps tickets `retention` past their deadline and holds
    /// at most `max_tickets` at once.
    pub fn new(retention: Duration, max_tickets: usize) -> Self {
        Self {
            tickets: Mutex::new(HashMap::new()),
            retention,
            max_tickets,
            clock: Clock::system(),
        }
    }

    /// The same store on `clock` (its sweeper reads the time there).
    pub fn with_clock(self, clock: Clock) -> Self {
        Self { clock, ..self }
    }

    /// Runs [`TicketStore::sweep`] every `every` until the store is dropped.
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak: Weak<Self> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(store) = weak.upgrade() else { break };
                let dropped = store.sweep_now(store.clock.now());
                if dropped > 0 {
                    tracing::debug!(dropped, "swept old tickets");
                }
            }
        })
    }

    /// How many tickets are held right now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<TicketId, Entry>> {
        // A panic while holding the lock cannot leave a half-written entry
        // (every mutation is a single insert/replace), so poison is harmless.
        self.tickets.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sweep_now(&self, now: OffsetDateTime) -> usize {
        let mut map = self.lock();
        let before = map.len();
        let retention = self.retention;
        map.retain(|_, entry| now <= drop_time(&entry.ticket, retention));
        before - map.len()
    }
}

#[async_trait]
impl TicketStore for MemoryStore {
    async fn insert(&self, ticket: &Ticket) -> Result<(), StoreError> {
        if self.len() >= self.max_tickets {
            // Old tickets may be waiting for the sweeper: drop them first.
            self.sweep_now(self.clock.now());
        }
        let mut map = self.lock();
        if map.len() >= self.max_tickets {
            return Err(StoreError::Full);
        }
        match map.entry(ticket.id) {
            MapEntry::Occupied(_) => Err(StoreError::Duplicate),
            MapEntry::Vacant(slot) => {
                let (notify, _) = watch::channel(ticket.version);
                slot.insert(Entry {
                    ticket: ticket.clone(),
                    notify,
                });
                Ok(())
            }
        }
    }

    async fn get(&self, id: &TicketId) -> Result<Option<Ticket>, StoreError> {
        Ok(self.lock().get(id).map(|e| e.ticket.clone()))
    }

    async fn compare_and_swap(
        &self,
        expected_version: u64,
        next: &Ticket,
    ) -> Result<Swap, StoreError> {
        let mut map = self.lock();
        let Some(entry) = map.get_mut(&next.id) else {
            return Ok(Swap::Missing);
        };
        if entry.ticket.version != expected_version {
            return Ok(Swap::Stale);
        }
        entry.ticket = next.clone();
        entry.notify.send_replace(next.version);
        Ok(Swap::Done)
    }

    async fn subscribe(&self, id: &TicketId) -> Result<Subscription, StoreError> {
        Ok(match self.lock().get(id) {
            Some(entry) => Subscription::new(entry.notify.subscribe(), None),
            None => Subscription::closed(),
        })
    }

    async fn sweep(&self, now: OffsetDateTime) -> Result<usize, StoreError> {
        Ok(self.sweep_now(now))
    }

    async fn ping(&self) -> Result<(), StoreError> {
        Ok(())
    }
}
