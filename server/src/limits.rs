//! Limits on creating tickets, so a flood of `POST /api/v1/qr` cannot
//! exhaust the ticket store: a token bucket per client (IPv4 address, or
//! IPv6 /64 network, since one host usually holds a whole /64), answered
//! with 429 `rate_limited` and `Retry-After`.
//!
//! The table of buckets is bounded: idle (full) buckets are pruned when it
//! fills up, and when it is still full every further client shares one
//! overflow bucket, so memory stays flat even under a spread-out flood.
//! Limits are per server instance.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderValue;
use axum::http::header::RETRY_AFTER;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use qrlogin_core::ErrorCode;

use crate::AppState;
use crate::error::AppError;
use crate::requester::client_ip;

/// Most clients tracked at once (about 64 bytes each).
const MAX_CLIENTS: usize = 100_000;

/// Who is limited: an IPv4 address or the first 64 bits of an IPv6 one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum ClientKey {
    V4(u32),
    V6Net(u64),
    /// Everyone who arrives while the table is full.
    Overflow,
}

impl ClientKey {
    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self::V4(v4.to_bits()),
            IpAddr::V6(v6) => Self::V6Net((v6.to_bits() >> 64) as u64),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per client: `burst` creations at once, refilled at
/// `per_minute`.
#[derive(Debug)]
pub struct CreateLimiter {
    per_second: f64,
    burst: f64,
    max_clients: usize,
    buckets: Mutex<HashMap<ClientKey, Bucket>>,
}

impl CreateLimiter {
    /// `None` (no limit) when `per_minute` is 0.
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self::with_capacity(per_minute, burst, MAX_CLIENTS))
    }

    fn with_capacity(per_minute: u32, burst: u32, max_clients: usize) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            max_clients,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`, or says how long until one is available.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        // Every mutation is a whole-entry insert/replace, so poison is harmless.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let mut key = ClientKey::of(ip);
        if !buckets.contains_key(&key) && buckets.len() >= self.max_clients {
            self.prune(&mut buckets, now);
            if buckets.len() >= self.max_clients {
                key = ClientKey::Overflow;
            }
        }
        let bucket = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            updated: now,
        });
        let refill = now.saturating_duration_since(bucket.updated).as_secs_f64() * self.per_second;
        bucket.tokens = (bucket.tokens + refill).min(self.burst);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }

    /// Drops buckets that have refilled completely (their clients are idle).
    fn prune(&self, buckets: &mut HashMap<ClientKey, Bucket>, now: Instant) {
        buckets.retain(|key, b| {
            let refill = now.saturating_duration_since(b.updated).as_secs_f64() * self.per_second;
            *key == ClientKey::Overflow || b.tokens + refill < self.burst
        });
    }

    /// Clients tracked right now (at most the table size plus the overflow).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Middleware on `POST /api/v1/qr`: 429 with `Retry-After` (whole seconds,
/// rounded up) when the client used up its budget.
pub async fn limit_ticket_creation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    if let Some(limiter) = &state.create_limiter {
        let ip = client_ip(request.headers(), peer, state.settings.trust_proxy);
        if let Err(wait) = limiter.check(ip, Instant::now()) {
            let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            let mut response = AppError::new(
                ErrorCode::RateLimited,
                format!("too many sign-in codes requested; try again in {seconds} s"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            return response;
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let limiter = CreateLimiter::new(60, 3).unwrap();
        let start = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.check(ip("192.0.2.1"), start), Ok(()));
        }
        let wait = limiter.check(ip("192.0.2.1"), start).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        // Another client is not affected.
        assert_eq!(limiter.check(ip("192.0.2.2"), start), Ok(()));
        // One token per second comes back.
        assert_eq!(
            limiter.check(ip("192.0.2.1"), start + Duration::from_secs(1)),
            Ok(())
        );
        assert!(
            limiter
                .check(ip("192.0.2.1"), start + Duration::from_secs(1))
                .is_err()
        );
    }

    #[test]
    fn ipv6_clients_are_limited_per_64_network() {
        let limiter = CreateLimiter::new(60, 1).unwrap();
        let now = Instant::now();
        assert_eq!(limiter.check(ip("2001:db8:1:2::1"), now), Ok(()));
        assert!(limiter.check(ip("2001:db8:1:2::ffff"), now).is_err());
        assert_eq!(limiter.check(ip("2001:db8:1:3::1"), now), Ok(()));
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let limiter = CreateLimiter::new(60, 1).unwrap();
        let now = Instant::now();
        assert_eq!(limiter.check(ip("::ffff:192.0.2.7"), now), Ok(()));
        assert!(limiter.check(ip("192.0.2.7"), now).is_err());
    }

    #[test]
    fn the_client_table_stays_bounded_under_a_spread_out_flood() {
        let limiter = CreateLimiter::with_capacity(60, 2, 10);
        let now = Instant::now();
        for n in 0..1000u32 {
            let _ = limiter.check(IpAddr::V4(n.into()), now);
        }
        assert!(limiter.tracked() <= 11, "tracked {}", limiter.tracked());
        // Late arrivals share the overflow bucket: its burst is soon gone.
        assert!(limiter.check(ip("198.51.100.1"), now).is_err());
        // Once the early clients are idle, their slots are freed.
        let later = now + Duration::from_secs(60);
        assert_eq!(limiter.check(ip("198.51.100.1"), later), Ok(()));
    }

    #[test]
    fn zero_per_minute_disables_the_limit() {
        assert!(CreateLimiter::new(0, 10).is_none());
    }
}
