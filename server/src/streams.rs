//! A cap on connections held open by waiting pages: event streams
//! (`GET /api/v1/qr/{id}/events`) and long-polls (`GET /api/v1/qr/{id}?wait=`).
//! Each holds a [`StreamSlot`] for as long as it is open; over the cap (per
//! client, or in total) the request is answered 429 `rate_limited` with
//! `Retry-After` before anything is streamed, so a flood of idle connections
//! cannot exhaust the server's sockets and memory.
//!
//! A client is an IPv4 address or an IPv6 /64, as for the rate limits.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use futures_util::Stream;

use crate::limits::{ClientKey, Refused};
use crate::metrics::Metrics;

/// Seconds a refused page is told to wait before trying again.
pub const RETRY_AFTER_SECS: u64 = 5;

/// The open streams and long-polls, per client and in total.
pub struct StreamSlots {
    /// Most per client; 0: no limit.
    per_client: usize,
    /// Most in total; 0: no limit.
    total: usize,
    open: Mutex<OpenSlots>,
    metrics: Arc<Metrics>,
}

#[derive(Default)]
struct OpenSlots {
    total: usize,
    by_client: HashMap<ClientKey, usize>,
}

impl StreamSlots {
    /// Caps of `per_client` and `total` open streams (0: no limit).
    pub fn new(per_client: usize, total: usize, metrics: Arc<Metrics>) -> Arc<Self> {
        Arc::new(Self {
            per_client,
            total,
            open: Mutex::default(),
            metrics,
        })
    }

    /// A slot for one more stream from `ip`, or 429 when it is over a cap.
    pub fn acquire(self: &Arc<Self>, ip: IpAddr) -> Result<StreamSlot, Refused> {
        let client = ClientKey::of(ip);
        let mut open = self.lock();
        if self.total > 0 && open.total >= self.total {
            return Err(refused("the server has too many open connections"));
        }
        let mine = open.by_client.get(&client).copied().unwrap_or(0);
        if self.per_client > 0 && mine >= self.per_client {
            return Err(refused("too many open connections from your network"));
        }
        open.by_client.insert(client, mine + 1);
        open.total += 1;
        self.metrics.set_open_streams(open.total);
        Ok(StreamSlot {
            slots: self.clone(),
            client,
        })
    }

    /// Streams and long-polls open right now.
    pub fn open(&self) -> usize {
        self.lock().total
    }

    fn release(&self, client: ClientKey) {
        let mut open = self.lock();
        open.total = open.total.saturating_sub(1);
        if let Some(count) = open.by_client.get_mut(&client) {
            *count -= 1;
            if *count == 0 {
                open.by_client.remove(&client);
            }
        }
        self.metrics.set_open_streams(open.total);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OpenSlots> {
        // Every change leaves the counts consistent, so poison is harmless.
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn refused(what: &str) -> Refused {
    Refused {
        retry_after: RETRY_AFTER_SECS,
        message: format!("{what}; try again in {RETRY_AFTER_SECS} s"),
    }
}

/// One open stream or long-poll; its place is given back when dropped.
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    client: ClientKey,
}

impl StreamSlot {
    /// `stream`, holding this slot until the stream ends or is dropped
    /// (the client went away).
    pub fn hold<S: Stream>(self, stream: S) -> impl Stream<Item = S::Item> {
        async_stream::stream! {
            let _slot = self;
            for await item in stream {
                yield item;
            }
        }
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        self.slots.release(self.client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_share_and_more_after_closing_one() {
        let slots = StreamSlots::new(2, 0, Arc::default());
        let first = slots.acquire(ip("192.0.2.1")).unwrap();
        let _second = slots.acquire(ip("192.0.2.1")).unwrap();
        let refused = slots.acquire(ip("192.0.2.1")).err().unwrap();
        assert_eq!(refused.retry_after, RETRY_AFTER_SECS);
        assert!(slots.acquire(ip("192.0.2.2")).is_ok(), "another client");
        drop(first);
        assert!(slots.acquire(ip("192.0.2.1")).is_ok());
    }

    #[test]
    fn ipv6_clients_share_their_64_network() {
        let slots = StreamSlots::new(1, 0, Arc::default());
        let _held = slots.acquire(ip("2001:db8:1:2::1")).unwrap();
        assert!(slots.acquire(ip("2001:db8:1:2::ffff")).is_err());
        assert!(slots.acquire(ip("2001:db8:1:3::1")).is_ok());
    }

    #[test]
    fn the_total_caps_all_clients_together() {
        let slots = StreamSlots::new(0, 2, Arc::default());
        let held: Vec<_> = ["192.0.2.1", "192.0.2.2"]
            .iter()
            .map(|a| slots.acquire(ip(a)).unwrap())
            .collect();
        assert!(slots.acquire(ip("192.0.2.3")).is_err());
        assert_eq!(slots.open(), 2);
        drop(held);
        assert_eq!(slots.open(), 0);
        assert!(slots.acquire(ip("192.0.2.3")).is_ok());
    }

    #[test]
    fn zero_means_no_limit() {
        let slots = StreamSlots::new(0, 0, Arc::default());
        let held: Vec<_> = (0..1000)
            .map(|_| slots.acquire(ip("192.0.2.1")).unwrap())
            .collect();
        assert_eq!(slots.open(), 1000);
        drop(held);
    }
}
