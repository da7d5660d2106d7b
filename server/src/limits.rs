//! Rate limits, all built on one bounded table of token buckets
//! ([`RateLimiter`]), answered with 429 `rate_limited` and `Retry-After`:
//!
//! - creating tickets (`POST /api/v1/qr`), per client, so a flood cannot
//!   exhaust the ticket store;
//! - password attempts (`POST /api/v1/app/sessions`), per client, per
//!   (account name, client) and per account name from everywhere, whether
//!   or not the account exists (so the limit reveals nothing about which
//!   names are real). The lockout is per (account, client): a guesser locks
//!   out only themselves, never the account's owner on another network; the
//!   account-wide budget is much larger and stops guessing spread over many
//!   addresses. Every attempt spends the client's budget, refused ones too;
//! - scan / confirm / cancel, per app session.
//!
//! A client is an IPv4 address or an IPv6 /64 network (one host usually
//! holds a whole /64), taken from X-Forwarded-For only with `--trust-proxy`.
//! Account names and sessions are kept as keyed hashes, never in clear.
//!
//! Each table is bounded: idle (full) buckets are pruned when it fills up,
//! and when it is still full every further key shares one overflow bucket,
//! so memory stays flat even under a spread-out flood. With `--redis-url`
//! the budgets live in Redis and count across every instance
//! ([`shared`]); this instance's own buckets stand in while Redis is down.

pub mod shared;

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shared::{SharedBudgets, Subject};

/// Most keys tracked at once per table (about 64 bytes each).
const MAX_KEYS: usize = 100_000;

/// What is limited: an IPv4 address, the first 64 bits of an IPv6 one, or
/// a keyed hash of a name (account name, session id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum LimitKey {
    V4(u32),
    V6Net(u64),
    /// A wider IPv6 network: (prefix length, the prefix's bits).
    V6Prefix(u8, u128),
    Name(u64),
    /// Every key that arrives while the table is full.
    Overflow,
}

/// The first `prefix` bits of an IPv6 address.
pub(crate) fn v6_prefix(v6: std::net::Ipv6Addr, prefix: u8) -> u128 {
    let shift = 128 - u32::from(prefix.min(128));
    v6.to_bits().checked_shr(shift).unwrap_or(0)
}

impl LimitKey {
    /// The IPv6 network of `prefix` bits holding `ip` (an IPv4 address
    /// counts as itself).
    fn network(ip: IpAddr, prefix: u8) -> Self {
        match ip.to_canonical() {
            IpAddr::V6(v6) => Self::V6Prefix(prefix, v6_prefix(v6, prefix)),
            v4 => Self::of(v4),
        }
    }

    fn of(ip: IpAddr) -> Self {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Self::V4(v4.to_bits()),
            IpAddr::V6(v6) => Self::V6Net((v6.to_bits() >> 64) as u64),
        }
    }
}

/// A client as every limit sees it: an IPv4 address or an IPv6 /64.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ClientKey(LimitKey);

impl ClientKey {
    pub fn of(ip: IpAddr) -> Self {
        Self(LimitKey::of(ip))
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

/// A token bucket per key: `burst` attempts at once, refilled at
/// `per_minute`.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    max_keys: usize,
    /// Refused attempts also cost a token (down to `-burst`), so a client
    /// that keeps hammering a locked bucket stays locked out longer.
    backoff: bool,
    /// Keys the name hashes, so nobody can aim collisions at a victim.
    hasher: RandomState,
    buckets: Mutex<HashMap<LimitKey, Bucket>>,
}

impl RateLimiter {
    /// `None` (no limit) when `per_minute` is 0.
    pub fn new(per_minute: u32, burst: u32) -> Option<Self> {
        (per_minute > 0).then(|| Self::with_capacity(per_minute, burst, MAX_KEYS))
    }

    /// Like [`new`](Self::new), with refused attempts pushing the next
    /// allowed one further out (lockout back-off, at most `burst` extra
    /// refill periods).
    pub fn with_backoff(per_minute: u32, burst: u32) -> Option<Self> {
        Self::new(per_minute, burst).map(|limiter| Self {
            backoff: true,
            ..limiter
        })
    }

    fn with_capacity(per_minute: u32, burst: u32, max_keys: usize) -> Self {
        Self {
            per_second: f64::from(per_minute) / 60.0,
            burst: f64::from(burst.max(1)),
            max_keys,
            backoff: false,
            hasher: RandomState::new(),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `ip`, or says how long until one is available.
    pub fn check(&self, ip: IpAddr, now: Instant) -> Result<(), Duration> {
        self.take(LimitKey::of(ip), now)
    }

    /// Takes one token for the IPv6 network of `prefix` bits holding `ip`
    /// (IPv4 addresses count as themselves).
    pub fn check_network(&self, ip: IpAddr, prefix: u8, now: Instant) -> Result<(), Duration> {
        self.take(LimitKey::network(ip, prefix), now)
    }

    /// Takes one token for a name (account, session), or says how long
    /// until one is available.
    pub fn check_name(&self, name: &str, now: Instant) -> Result<(), Duration> {
        self.take(LimitKey::Name(self.hasher.hash_one(name)), now)
    }

    /// Gives back the token `ip` took (the attempt turned out fine).
    pub fn refund(&self, ip: IpAddr) {
        self.give_back(LimitKey::of(ip));
    }

    /// Gives back the token `name` took (the attempt turned out fine).
    pub fn refund_name(&self, name: &str) {
        self.give_back(LimitKey::Name(self.hasher.hash_one(name)));
    }

    fn give_back(&self, key: LimitKey) {
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(bucket) = buckets.get_mut(&key) {
            bucket.tokens = (bucket.tokens + 1.0).min(self.burst);
        }
    }

    fn take(&self, mut key: LimitKey, now: Instant) -> Result<(), Duration> {
        // Every mutation is a whole-entry insert/replace, so poison is harmless.
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= self.max_keys {
            self.prune(&mut buckets, now);
            if buckets.len() >= self.max_keys {
                key = LimitKey::Overflow;
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
            return Ok(());
        }
        if self.backoff {
            bucket.tokens = (bucket.tokens - 1.0).max(-self.burst);
        }
        Err(Duration::from_secs_f64(
            (1.0 - bucket.tokens) / self.per_second,
        ))
    }

    /// Drops buckets that have refilled completely (their keys are idle).
    fn prune(&self, buckets: &mut HashMap<LimitKey, Bucket>, now: Instant) {
        buckets.retain(|key, b| {
            let refill = now.saturating_duration_since(b.updated).as_secs_f64() * self.per_second;
            *key == LimitKey::Overflow || b.tokens + refill < self.burst
        });
    }

    /// The bucket rule, for the shared (Redis) buckets.
    pub fn rule(&self) -> shared::Rule {
        shared::Rule {
            per_second: self.per_second,
            burst: self.burst,
            backoff: self.backoff,
        }
    }

    /// Takes a token for `subject` from this instance's buckets.
    fn check_subject(&self, subject: Subject<'_>, now: Instant) -> Result<(), Duration> {
        match subject {
            Subject::Client(ip) => self.check(ip, now),
            Subject::Network(ip, prefix) => self.check_network(ip, prefix, now),
            Subject::Name(name) => self.check_name(name, now),
        }
    }

    fn refund_subject(&self, subject: Subject<'_>) {
        match subject {
            Subject::Client(ip) => self.refund(ip),
            Subject::Network(ip, prefix) => self.give_back(LimitKey::network(ip, prefix)),
            Subject::Name(name) => self.refund_name(name),
        }
    }

    /// Keys tracked right now (at most the table size plus the overflow).
    pub fn tracked(&self) -> usize {
        self.buckets.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}

/// Every limit of a server; `None` fields are switched off (rate 0).
#[derive(Debug, Default)]
pub struct Limits {
    /// Creating tickets, per client.
    pub create: Option<RateLimiter>,
    /// Creating tickets per IPv6 /56 and /48 (4× and 16× a client's
    /// budget): one site's many /64s do not each get a full budget.
    pub create_per_56: Option<RateLimiter>,
    pub create_per_48: Option<RateLimiter>,
    /// Live pending tickets per client: a budget of `--max-pending-per-client`
    /// refilled over one pending lifetime, so a client never holds more.
    pub pending_per_client: Option<RateLimiter>,
    /// Password attempts, per client.
    pub sign_in_per_client: Option<RateLimiter>,
    /// Password attempts, per (account name, client): the lockout.
    pub sign_in_per_account: Option<RateLimiter>,
    /// Password attempts per account name from all clients together.
    pub sign_in_account_wide: Option<RateLimiter>,
    /// Scan, confirm and cancel, per app session.
    pub per_session: Option<RateLimiter>,
    /// With `--redis-url`: the same budgets, shared by every instance.
    pub shared: Option<Arc<SharedBudgets>>,
}

impl Limits {
    /// A password attempt by `ip` on `username`: the client's budget is
    /// checked first, so a client over its limit cannot also lock accounts.
    /// Every attempt takes a token up front (so concurrent guesses cannot
    /// slip through together), and a refused one keeps it spent: hammering
    /// a locked account costs the client its budget for every account.
    /// [`sign_in_succeeded`](Self::sign_in_succeeded) gives the tokens back,
    /// so only failures count.
    pub async fn sign_in(&self, ip: IpAddr, username: &str) -> Result<(), Refused> {
        let now = Instant::now();
        let account = account_key(username);
        let on_client = account_client_key(&account, ip);
        self.take(
            "sign-in",
            &self.sign_in_per_client,
            Subject::Client(ip),
            now,
        )
        .await
        .map_err(|wait| refused(wait, "too many sign-in attempts from your network"))?;
        let per_account = [
            (
                "account-client",
                &self.sign_in_per_account,
                on_client.as_str(),
            ),
            ("account", &self.sign_in_account_wide, account.as_str()),
        ];
        for (name, limiter, key) in per_account {
            self.take(name, limiter, Subject::Name(key), now)
                .await
                .map_err(|wait| refused(wait, "too many sign-in attempts for this account"))?;
        }
        Ok(())
    }

    /// The password was right: the attempt's tokens are given back.
    pub async fn sign_in_succeeded(&self, ip: IpAddr, username: &str) {
        let account = account_key(username);
        let on_client = account_client_key(&account, ip);
        self.refund("sign-in", &self.sign_in_per_client, Subject::Client(ip))
            .await;
        self.refund(
            "account-client",
            &self.sign_in_per_account,
            Subject::Name(&on_client),
        )
        .await;
        self.refund(
            "account",
            &self.sign_in_account_wide,
            Subject::Name(&account),
        )
        .await;
    }

    /// A scan, confirm or cancel by the app session `session_id`.
    pub async fn app_action(&self, session_id: &str) -> Result<(), Refused> {
        self.take(
            "app",
            &self.per_session,
            Subject::Name(session_id),
            Instant::now(),
        )
        .await
        .map_err(|wait| refused(wait, "too many scans from this app"))
    }

    /// Takes a token of `limiter` (named `name` in Redis) for `subject`:
    /// from the shared buckets when there are any and Redis answers, else
    /// from this instance's. A switched-off limit always allows.
    async fn take(
        &self,
        name: &str,
        limiter: &Option<RateLimiter>,
        subject: Subject<'_>,
        now: Instant,
    ) -> Result<(), Duration> {
        let Some(limiter) = limiter else {
            return Ok(());
        };
        if let Some(shared) = &self.shared {
            if let Ok(answer) = shared.take(name, subject, limiter.rule()).await {
                return answer;
            }
        }
        limiter.check_subject(subject, now)
    }

    async fn refund(&self, name: &str, limiter: &Option<RateLimiter>, subject: Subject<'_>) {
        let Some(limiter) = limiter else { return };
        if let Some(shared) = &self.shared {
            if shared.refund(name, subject, limiter.rule()).await.is_ok() {
                return;
            }
        }
        limiter.refund_subject(subject);
    }
}

/// The same normalization as the user table, so `Alice` and ` alice`
/// share one budget.
fn account_key(username: &str) -> String {
    username.trim().to_lowercase()
}

/// The lockout's key: an account name on one client (IPv4 address or IPv6
/// /64). Usernames cannot hold `/`, so the two parts cannot run together.
fn account_client_key(account: &str, ip: IpAddr) -> String {
    format!("{account}/{:?}", LimitKey::of(ip))
}

/// A request over one of the limits: answered 429 `rate_limited` with
/// `Retry-After: retry_after` seconds.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Refused {
    pub retry_after: u64,
    pub message: String,
}

impl Refused {
    /// Refused for `what`, to try again after `wait` (whole seconds, rounded up).
    pub fn after(wait: Duration, what: &str) -> Self {
        let seconds = (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1);
        Self {
            retry_after: seconds,
            message: format!("{what}; try again in {seconds} s"),
        }
    }
}

fn refused(wait: Duration, what: &str) -> Refused {
    Refused::after(wait, what)
}

impl Limits {
    /// A new sign-in code requested by `ip`.
    pub async fn ticket_creation(&self, ip: IpAddr) -> Result<(), Refused> {
        let now = Instant::now();
        let too_many = |wait| refused(wait, "too many sign-in codes requested");
        self.take("create", &self.create, Subject::Client(ip), now)
            .await
            .map_err(too_many)?;
        self.take(
            "pending",
            &self.pending_per_client,
            Subject::Client(ip),
            now,
        )
        .await
        .map_err(|wait| refused(wait, "too many sign-in codes waiting for a scan"))?;
        if ip.to_canonical().is_ipv6() {
            let networks = [
                ("create56", &self.create_per_56, 56),
                ("create48", &self.create_per_48, 48),
            ];
            for (name, limiter, prefix) in networks {
                self.take(name, limiter, Subject::Network(ip, prefix), now)
                    .await
                    .map_err(too_many)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn a_client_gets_its_burst_then_waits_for_the_refill() {
        let limiter = RateLimiter::new(60, 3).unwrap();
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
        let limiter = RateLimiter::new(60, 1).unwrap();
        let now = Instant::now();
        assert_eq!(limiter.check(ip("2001:db8:1:2::1"), now), Ok(()));
        assert!(limiter.check(ip("2001:db8:1:2::ffff"), now).is_err());
        assert_eq!(limiter.check(ip("2001:db8:1:3::1"), now), Ok(()));
    }

    #[tokio::test]
    async fn wider_ipv6_networks_share_one_budget() {
        let limits = Limits {
            create_per_56: RateLimiter::new(60, 2),
            ..Limits::default()
        };
        // Three /64s of one /56: the third is refused.
        assert!(
            limits
                .ticket_creation(ip("2001:db8:1:100::1"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .ticket_creation(ip("2001:db8:1:1ff::1"))
                .await
                .is_ok()
        );
        assert!(
            limits
                .ticket_creation(ip("2001:db8:1:120::1"))
                .await
                .is_err()
        );
        // Another /56 has its own budget; IPv4 is not affected.
        assert!(
            limits
                .ticket_creation(ip("2001:db8:1:200::1"))
                .await
                .is_ok()
        );
        assert!(limits.ticket_creation(ip("192.0.2.1")).await.is_ok());
    }

    #[test]
    fn ipv4_mapped_addresses_count_as_ipv4() {
        let limiter = RateLimiter::new(60, 1).unwrap();
        let now = Instant::now();
        assert_eq!(limiter.check(ip("::ffff:192.0.2.7"), now), Ok(()));
        assert!(limiter.check(ip("192.0.2.7"), now).is_err());
    }

    #[test]
    fn the_client_table_stays_bounded_under_a_spread_out_flood() {
        let limiter = RateLimiter::with_capacity(60, 2, 10);
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
        assert!(RateLimiter::new(0, 10).is_none());
    }

    #[test]
    fn with_backoff_hammering_a_locked_bucket_extends_the_lockout() {
        let limiter = RateLimiter::with_backoff(60, 2).unwrap();
        let start = Instant::now();
        for _ in 0..2 {
            assert_eq!(limiter.check_name("alice", start), Ok(()));
        }
        let first = limiter.check_name("alice", start).unwrap_err();
        let second = limiter.check_name("alice", start).unwrap_err();
        assert!(second > first, "{second:?} after {first:?}");
        // Bounded: at most `burst` extra refill periods.
        for _ in 0..100 {
            let _ = limiter.check_name("alice", start);
        }
        let capped = limiter.check_name("alice", start).unwrap_err();
        assert_eq!(capped, Duration::from_secs(3));
        // A client that waits out the lockout gets in.
        assert_eq!(
            limiter.check_name("alice", start + Duration::from_secs(3)),
            Ok(())
        );
    }

    #[test]
    fn without_backoff_refusals_cost_nothing() {
        let limiter = RateLimiter::new(60, 1).unwrap();
        let start = Instant::now();
        assert_eq!(limiter.check(ip("192.0.2.1"), start), Ok(()));
        for _ in 0..10 {
            assert_eq!(
                limiter.check(ip("192.0.2.1"), start),
                Err(Duration::from_secs(1))
            );
        }
    }

    #[test]
    fn names_have_separate_budgets() {
        let limiter = RateLimiter::new(60, 1).unwrap();
        let now = Instant::now();
        assert_eq!(limiter.check_name("alice", now), Ok(()));
        assert!(limiter.check_name("alice", now).is_err());
        assert_eq!(limiter.check_name("bob", now), Ok(()));
    }

    #[tokio::test]
    async fn account_budget_ignores_case_and_spaces() {
        let limits = Limits {
            sign_in_per_account: RateLimiter::new(60, 1),
            ..Limits::default()
        };
        let client = ip("192.0.2.1");
        assert!(limits.sign_in(client, "alice").await.is_ok());
        assert!(limits.sign_in(client, " Alice ").await.is_err());
        // The lockout is per client: another network is not locked out.
        assert!(limits.sign_in(ip("192.0.2.2"), "alice").await.is_ok());
    }

    #[tokio::test]
    async fn successful_sign_ins_do_not_count() {
        let limits = Limits {
            sign_in_per_client: RateLimiter::with_backoff(1, 2),
            sign_in_per_account: RateLimiter::with_backoff(1, 2),
            ..Limits::default()
        };
        let client = ip("192.0.2.1");
        for _ in 0..10 {
            assert!(limits.sign_in(client, "alice").await.is_ok());
            limits.sign_in_succeeded(client, "alice").await;
        }
        // Two failures use up the burst.
        assert!(limits.sign_in(client, "alice").await.is_ok());
        assert!(limits.sign_in(client, "alice").await.is_ok());
        assert!(limits.sign_in(client, "alice").await.is_err());
    }

    #[tokio::test]
    async fn tries_on_a_locked_account_drain_the_clients_budget() {
        let limits = Limits {
            sign_in_per_client: RateLimiter::with_backoff(1, 3),
            sign_in_per_account: RateLimiter::with_backoff(1, 1),
            ..Limits::default()
        };
        let client = ip("192.0.2.1");
        assert!(limits.sign_in(client, "alice").await.is_ok());
        assert!(limits.sign_in(client, "alice").await.is_err());
        assert!(limits.sign_in(client, "alice").await.is_err());
        // Three tries spent the client's burst: other accounts wait too.
        assert!(limits.sign_in(client, "bob").await.is_err());
        // The owner on another network is not locked out.
        assert!(limits.sign_in(ip("198.51.100.7"), "alice").await.is_ok());
    }

    #[tokio::test]
    async fn the_account_wide_budget_counts_every_client() {
        let limits = Limits {
            sign_in_account_wide: RateLimiter::with_backoff(1, 2),
            ..Limits::default()
        };
        assert!(limits.sign_in(ip("192.0.2.1"), "alice").await.is_ok());
        assert!(limits.sign_in(ip("192.0.2.2"), "alice").await.is_ok());
        assert!(limits.sign_in(ip("192.0.2.3"), "alice").await.is_err());
        assert!(limits.sign_in(ip("192.0.2.3"), "bob").await.is_ok());
    }
}
