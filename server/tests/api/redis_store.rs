//! `RedisStore` against the Redis on 127.0.0.1:6379: the shared conformance
//! suite, plus what only a shared store has to prove (cross-instance
//! notifications over one subscription connection, TTLs, hash-tagged keys).
//! Every test uses a fresh key prefix.

use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::{
    Event, Lifetimes, PollSecret, RequesterInfo, Ticket, TicketId, TicketUser, UserId,
};
use qrlogin_server::store::{RedisSettings, RedisStore, Swap, TicketStore};
use time::OffsetDateTime;

pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// A prefix no other test (or run) uses.
pub fn fresh_prefix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("qrlogin-test:{}:{nanos}", std::process::id())
}

async fn open(prefix: &str, retention: Duration) -> RedisStore {
    let settings = RedisSettings {
        prefix: prefix.into(),
        ..RedisSettings::new(REDIS_URL, retention)
    };
    let store = RedisStore::open(settings).await.unwrap();
    store
        .ping()
        .await
        .expect("Redis must be running on 127.0.0.1:6379");
    store
}

fn random_ticket(now: OffsetDateTime) -> Ticket {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).unwrap();
    let requester = RequesterInfo {
        ip: "192.0.2.10".parse().unwrap(),
        user_agent: "redis test".into(),
        browser: "Unknown browser".into(),
        os: "Unknown OS".into(),
        created_at: now,
    };
    Ticket::new(
        TicketId::from_random_bytes(id),
        PollSecret::from_random_bytes([9; 32]).hash(),
        requester,
        Lifetimes::default(),
        now,
    )
}

fn scan_by_bob(ticket: &Ticket) -> Ticket {
    let bob = TicketUser {
        id: UserId("bob".into()),
        display_name: "Bob".into(),
        avatar_url: None,
    };
    ticket
        .apply(Event::Scan { user: bob }, OffsetDateTime::now_utc())
        .unwrap()
}

async fn redis_connection() -> redis::aio::MultiplexedConnection {
    redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

#[tokio::test]
async fn redis_store_conforms() {
    let retention = Duration::from_secs(60);
    let store = open(&fresh_prefix(), retention).await;
    crate::store::conformance(Arc::new(store), retention).await;
}

#[tokio::test]
async fn a_change_through_one_instance_wakes_waiters_on_another() {
    let prefix = fresh_prefix();
    let a = open(&prefix, Duration::from_secs(60)).await;
    let b = open(&prefix, Duration::from_secs(60)).await;
    let ticket = random_ticket(OffsetDateTime::now_utc());
    a.insert(&ticket).await.unwrap();
    let mut changes = a.subscribe(&ticket.id).await.unwrap();
    let scanned = scan_by_bob(&ticket);
    assert_eq!(b.compare_and_swap(1, &scanned).await.unwrap(), Swap::Done);
    let woke = tokio::time::timeout(Duration::from_secs(5), changes.changed()).await;
    assert_eq!(woke, Ok(true), "instance A was not told about B's change");
    assert_eq!(a.get(&ticket.id).await.unwrap(), Some(scanned));
}

#[tokio::test]
async fn many_waiters_share_one_subscription_connection() {
    let prefix = fresh_prefix();
    let store = open(&prefix, Duration::from_secs(60)).await;
    let mut waiters = Vec::new();
    for _ in 0..200 {
        let ticket = random_ticket(OffsetDateTime::now_utc());
        store.insert(&ticket).await.unwrap();
        waiters.push(store.subscribe(&ticket.id).await.unwrap());
    }
    assert_eq!(store.watched_tickets(), 200);
    let mut conn = redis_connection().await;
    let (_, subscribers): (String, u64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(format!("{prefix}:changes"))
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(
        subscribers, 1,
        "one pub/sub connection per process, not per waiter"
    );
    drop(waiters);
    assert_eq!(
        store.watched_tickets(),
        0,
        "waiters that left are forgotten"
    );
}

#[tokio::test]
async fn ticket_keys_have_a_hash_tag_and_a_ttl_of_deadline_plus_retention() {
    let prefix = fresh_prefix();
    let retention = Duration::from_secs(30);
    let store = open(&prefix, retention).await;
    let ticket = random_ticket(OffsetDateTime::now_utc());
    store.insert(&ticket).await.unwrap();
    let key = format!("{prefix}:ticket:{{{}}}", ticket.id);
    let mut conn = redis_connection().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    // Never scanned yet: kept only briefly past its deadline.
    let brief = retention.min(qrlogin_server::store::UNSCANNED_RETENTION);
    let most = (Lifetimes::default().pending + brief).as_millis() as i64;
    assert!(
        ttl > most - 10_000 && ttl <= most,
        "PTTL {ttl} ms, expected about {most}"
    );
    // A change renews the TTL for the new state's deadline.
    let scanned = scan_by_bob(&ticket);
    assert_eq!(
        store.compare_and_swap(1, &scanned).await.unwrap(),
        Swap::Done
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let most = (Lifetimes::default().scanned + retention).as_millis() as i64;
    assert!(
        ttl > most - 10_000 && ttl <= most,
        "PTTL {ttl} ms after scan, expected about {most}"
    );
}

#[tokio::test]
async fn a_foreign_value_under_a_ticket_key_is_reported_corrupt_not_panicked_on() {
    let prefix = fresh_prefix();
    let store = open(&prefix, Duration::from_secs(60)).await;
    let ticket = random_ticket(OffsetDateTime::now_utc());
    let mut conn = redis_connection().await;
    let key = format!("{prefix}:ticket:{{{}}}", ticket.id);
    let _: () = redis::cmd("HSET")
        .arg(&key)
        .arg("v")
        .arg(1)
        .arg("t")
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    let _: () = redis::cmd("PEXPIRE")
        .arg(&key)
        .arg(60_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    let read = store.get(&ticket.id).await;
    assert!(
        matches!(read, Err(qrlogin_server::store::StoreError::Corrupt(_))),
        "{read:?}"
    );
}

#[tokio::test]
async fn an_invalid_prefix_or_url_is_refused_at_open() {
    let bad_prefix = RedisSettings {
        prefix: "has space".into(),
        ..RedisSettings::new(REDIS_URL, Duration::from_secs(1))
    };
    assert!(RedisStore::open(bad_prefix).await.is_err());
    let bad_url = RedisSettings::new("http://127.0.0.1:6379", Duration::from_secs(1));
    assert!(RedisStore::open(bad_url).await.is_err());
}

#[tokio::test]
async fn the_idle_subscription_survives_its_health_pings() {
    let settings = RedisSettings {
        prefix: fresh_prefix(),
        ping_every: Duration::from_millis(20),
        ..RedisSettings::new(REDIS_URL, Duration::from_secs(60))
    };
    let store = RedisStore::open(settings).await.unwrap();
    store.ping().await.unwrap();
    // Let a dozen pings go by on the subscribed connection.
    tokio::time::sleep(Duration::from_millis(300)).await;
    store.ping().await.unwrap();
    assert_eq!(
        store.subscription_sessions(),
        1,
        "a health ping broke the subscription"
    );
}

#[tokio::test]
async fn the_redis_store_refuses_tickets_past_its_cap() {
    let prefix = fresh_prefix();
    let settings = RedisSettings {
        prefix: prefix.clone(),
        max_tickets: 3,
        ..RedisSettings::new(REDIS_URL, Duration::from_secs(60))
    };
    let store = RedisStore::open(settings).await.unwrap();
    let now = OffsetDateTime::now_utc();
    for _ in 0..3 {
        store.insert(&random_ticket(now)).await.unwrap();
    }
    let refused = store.insert(&random_ticket(now)).await;
    assert!(
        matches!(refused, Err(qrlogin_server::store::StoreError::Full)),
        "{refused:?}"
    );
    // Another deployment (prefix) on the same Redis has its own count.
    let other = open(&fresh_prefix(), Duration::from_secs(60)).await;
    other.insert(&random_ticket(now)).await.unwrap();
    // Tickets past their drop time no longer count.
    let later = RedisStore::open(RedisSettings {
        prefix,
        max_tickets: 3,
        ..RedisSettings::new(REDIS_URL, Duration::from_secs(60))
    })
    .await
    .unwrap()
    .with_clock(qrlogin_server::Clock::manual(
        now + Duration::from_secs(3600),
    ));
    later
        .insert(&random_ticket(now + Duration::from_secs(3600)))
        .await
        .unwrap();
}
