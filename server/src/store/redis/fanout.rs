//! One pub/sub connection per process, fanned out to in-process `watch`
//! channels: a browser waiting on a ticket costs a map entry, not a Redis
//! connection.
//!
//! Every store instance subscribes to a single channel on which the
//! compare-and-swap script publishes `"<ticket id> <version>"`. The listener
//! task reconnects with backoff; after each (re)subscription it wakes every
//! waiter, because changes published while it was away were lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use futures_util::StreamExt as _;
use qrlogin_core::TicketId;
use tokio::sync::watch;

use crate::store::Subscription;

/// Waiters of one ticket share one channel; `count` of them hold a guard.
struct Watchers {
    notify: watch::Sender<u64>,
    count: usize,
}

/// The in-process side of change notifications.
pub(super) struct Fanout {
    watchers: Mutex<HashMap<TicketId, Watchers>>,
    /// Whether the pub/sub connection is subscribed right now.
    connected: watch::Sender<bool>,
    /// How many times it subscribed (1 + reconnections).
    sessions: AtomicU64,
}

impl Default for Fanout {
    fn default() -> Self {
        Self {
            watchers: Mutex::default(),
            connected: watch::channel(false).0,
            sessions: AtomicU64::new(0),
        }
    }
}

impl Fanout {
    fn lock(&self) -> MutexGuard<'_, HashMap<TicketId, Watchers>> {
        // Every mutation under this lock is a single insert/remove or counter
        // step, so a poisoned map is still consistent.
        self.watchers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a waiter for `id`; unregistered when the subscription drops.
    pub(super) fn subscribe(self: &Arc<Self>, id: TicketId) -> Subscription {
        let mut map = self.lock();
        let entry = map.entry(id).or_insert_with(|| Watchers {
            notify: watch::channel(0).0,
            count: 0,
        });
        entry.count += 1;
        let rx = entry.notify.subscribe();
        let guard = WatchGuard {
            fanout: Arc::downgrade(self),
            id,
        };
        Subscription::new(rx, Some(Box::new(guard)))
    }

    /// Wakes the waiters of `id` (a change to `version` was published).
    pub(super) fn deliver(&self, id: &TicketId, version: u64) {
        if let Some(entry) = self.lock().get(id) {
            entry.notify.send_replace(version);
        }
    }

    /// Wakes every waiter so each reloads its ticket.
    fn wake_all(&self) {
        for entry in self.lock().values() {
            entry.notify.send_modify(|_| {});
        }
    }

    /// Tickets with at least one waiter in this process.
    pub(super) fn watched(&self) -> usize {
        self.lock().len()
    }

    /// Whether the pub/sub connection is subscribed right now.
    pub(super) fn is_connected(&self) -> bool {
        *self.connected.borrow()
    }

    /// Waits until the pub/sub connection is subscribed.
    pub(super) async fn connected(&self) {
        let mut rx = self.connected.subscribe();
        // The sender lives in `self`, so the channel cannot close here.
        let _ = rx.wait_for(|connected| *connected).await;
    }

    /// How many times the subscription was established (1 + reconnections).
    pub(super) fn sessions(&self) -> u64 {
        self.sessions.load(Ordering::Relaxed)
    }

    fn set_connected(&self, connected: bool) {
        self.connected.send_replace(connected);
    }
}

/// Drops one waiter's registration (and the channel with the last one).
struct WatchGuard {
    fanout: Weak<Fanout>,
    id: TicketId,
}

impl Drop for WatchGuard {
    fn drop(&mut self) {
        let Some(fanout) = self.fanout.upgrade() else {
            return;
        };
        let mut map = fanout.lock();
        if let Some(entry) = map.get_mut(&self.id) {
            entry.count -= 1;
            if entry.count == 0 {
                map.remove(&self.id);
            }
        }
    }
}

/// How the listener connects and notices a dead connection.
#[derive(Debug, Clone, Copy)]
pub(super) struct ListenerTiming {
    /// Limit for connecting + subscribing, and for each health ping.
    pub op_timeout: Duration,
    /// Pings on an idle connection this often (finds half-open sockets).
    pub ping_every: Duration,
    /// First and longest wait between reconnection attempts.
    pub min_backoff: Duration,
    pub max_backoff: Duration,
}

/// Runs until aborted: subscribe to `channel`, deliver messages to `fanout`,
/// reconnect when the connection fails.
pub(super) async fn listen(
    client: redis::Client,
    channel: String,
    fanout: Arc<Fanout>,
    timing: ListenerTiming,
) {
    let mut backoff = timing.min_backoff;
    let mut failures = 0u32;
    loop {
        match subscribe(&client, &channel, timing.op_timeout).await {
            Ok(pubsub) => {
                if failures > 0 {
                    tracing::info!("ticket change notifications reconnected");
                }
                failures = 0;
                backoff = timing.min_backoff;
                fanout.sessions.fetch_add(1, Ordering::Relaxed);
                fanout.set_connected(true);
                fanout.wake_all();
                let reason = pump(pubsub, &fanout, timing).await;
                fanout.set_connected(false);
                tracing::warn!(%reason, "ticket change notifications lost; reconnecting");
            }
            Err(reason) => {
                failures += 1;
                // Log the first failure and then every 30th, not every retry.
                if failures % 30 == 1 {
                    tracing::warn!(%reason, failures, "cannot subscribe to ticket changes");
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(timing.max_backoff);
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
    limit: Duration,
) -> Result<redis::aio::PubSub, String> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        Ok::<_, redis::RedisError>(pubsub)
    };
    match tokio::time::timeout(limit, attempt).await {
        Ok(Ok(pubsub)) => Ok(pubsub),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!("no answer within {limit:?}")),
    }
}

/// Delivers messages until the connection ends or stops answering pings.
async fn pump(pubsub: redis::aio::PubSub, fanout: &Fanout, timing: ListenerTiming) -> String {
    let (mut sink, mut messages) = pubsub.split();
    let mut ping = tokio::time::interval(timing.ping_every);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ping.tick().await; // the first tick is immediate
    loop {
        tokio::select! {
            message = messages.next() => {
                let Some(message) = message else { return "connection closed".into() };
                match parse_change(message.get_payload_bytes()) {
                    Some((id, version)) => fanout.deliver(&id, version),
                    None => tracing::warn!("ignoring a malformed ticket change message"),
                }
            }
            _ = ping.tick() => {
                // A subscribed connection answers PING with ["pong", ""].
                match tokio::time::timeout(timing.op_timeout, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(e)) => return e.to_string(),
                    Err(_) => return format!("no answer to ping within {:?}", timing.op_timeout),
                }
            }
        }
    }
}

/// The message the scripts publish for a change of `id` to `version`.
pub(super) fn change_message(id: &TicketId, version: u64) -> String {
    format!("{id} {version}")
}

fn parse_change(payload: &[u8]) -> Option<(TicketId, u64)> {
    let text = std::str::from_utf8(payload).ok()?;
    let (id, version) = text.split_once(' ')?;
    Some((TicketId::parse(id).ok()?, version.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(n: u8) -> TicketId {
        TicketId::from_random_bytes([n; 16])
    }

    #[test]
    fn change_messages_round_trip() {
        let message = change_message(&id(7), 42);
        assert_eq!(parse_change(message.as_bytes()), Some((id(7), 42)));
        assert_eq!(parse_change(b"not-an-id 3"), None);
        assert_eq!(parse_change(b""), None);
        assert_eq!(parse_change(format!("{} x", id(1)).as_bytes()), None);
    }

    #[tokio::test]
    async fn a_delivery_wakes_only_that_tickets_waiters() {
        let fanout = Arc::new(Fanout::default());
        let mut first = fanout.subscribe(id(1));
        let mut second = fanout.subscribe(id(1));
        let mut other = fanout.subscribe(id(2));
        fanout.deliver(&id(1), 2);
        assert!(first.changed().await);
        assert!(second.changed().await);
        use futures_util::FutureExt as _;
        assert_eq!(
            other.changed().now_or_never(),
            None,
            "a waiter of another ticket was woken"
        );
    }

    #[tokio::test]
    async fn reconnecting_wakes_every_waiter() {
        let fanout = Arc::new(Fanout::default());
        let mut a = fanout.subscribe(id(1));
        let mut b = fanout.subscribe(id(2));
        fanout.wake_all();
        assert!(a.changed().await);
        assert!(b.changed().await);
    }

    #[test]
    fn the_last_dropped_subscription_removes_the_entry() {
        let fanout = Arc::new(Fanout::default());
        let a = fanout.subscribe(id(1));
        let b = fanout.subscribe(id(1));
        assert_eq!(fanout.watched(), 1);
        drop(a);
        assert_eq!(fanout.watched(), 1);
        drop(b);
        assert_eq!(fanout.watched(), 0);
    }
}
