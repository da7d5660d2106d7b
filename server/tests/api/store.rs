//! The `TicketStore` conformance suite, written once and run against every
//! implementation (a shared-store implementation adds one more `#[tokio::test]`
//! that calls [`conformance`]).

use std::sync::Arc;
use std::time::Duration;

use qrlogin_core::{
    Event, Lifetimes, PollSecret, RequesterInfo, Ticket, TicketId, TicketUser, UserId,
};
use qrlogin_server::store::{MemoryStore, StoreError, Swap, TicketStore, UNSCANNED_RETENTION};
use time::OffsetDateTime;

fn requester() -> RequesterInfo {
    RequesterInfo {
        ip: "127.0.0.1".parse().unwrap(),
        user_agent: "test".into(),
        browser: "Unknown browser".into(),
        os: "Unknown OS".into(),
        created_at: OffsetDateTime::now_utc(),
    }
}

fn fresh_ticket(n: u8, now: OffsetDateTime) -> Ticket {
    let mut id = [n; 16];
    id[..8].copy_from_slice(&now.unix_timestamp_nanos().to_le_bytes()[..8]);
    Ticket::new(
        TicketId::from_random_bytes(id),
        PollSecret::from_random_bytes([n; 32]).hash(),
        requester(),
        Lifetimes::default(),
        now,
    )
}

fn alice() -> TicketUser {
    TicketUser {
        id: UserId("alice".into()),
        display_name: "Alice".into(),
        avatar_url: None,
    }
}

/// Runs every conformance check against `store`, which must keep tickets
/// for `retention` past their deadline.
pub async fn conformance(store: Arc<dyn TicketStore>, retention: Duration) {
    insert_then_get(&*store).await;
    duplicate_insert_is_refused(&*store).await;
    compare_and_swap_has_one_winner(store.clone()).await;
    missing_tickets(&*store).await;
    subscribers_see_changes(store.clone()).await;
    sweep_keeps_recent_and_drops_old(&*store, retention).await;
    an_unscanned_ticket_is_dropped_soon_after_its_deadline(&*store).await;
    store.ping().await.unwrap();
}

async fn insert_then_get(store: &dyn TicketStore) {
    let ticket = fresh_ticket(1, OffsetDateTime::now_utc());
    store.insert(&ticket).await.unwrap();
    assert_eq!(store.get(&ticket.id).await.unwrap(), Some(ticket));
}

async fn duplicate_insert_is_refused(store: &dyn TicketStore) {
    let ticket = fresh_ticket(2, OffsetDateTime::now_utc());
    store.insert(&ticket).await.unwrap();
    assert!(matches!(
        store.insert(&ticket).await,
        Err(StoreError::Duplicate)
    ));
}

async fn compare_and_swap_has_one_winner(store: Arc<dyn TicketStore>) {
    let now = OffsetDateTime::now_utc();
    let ticket = fresh_ticket(3, now);
    store.insert(&ticket).await.unwrap();
    let scanned = ticket.apply(Event::Scan { user: alice() }, now).unwrap();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let scanned = scanned.clone();
            tokio::spawn(async move { store.compare_and_swap(1, &scanned).await.unwrap() })
        })
        .collect();
    let mut done = 0;
    for task in tasks {
        match task.await.unwrap() {
            Swap::Done => done += 1,
            Swap::Stale => {}
            Swap::Missing => panic!("ticket vanished"),
        }
    }
    assert_eq!(done, 1);
    assert_eq!(store.get(&ticket.id).await.unwrap(), Some(scanned.clone()));
    // A writer with an old version loses.
    let aborted = ticket.apply(Event::Abort, now).unwrap();
    assert_eq!(
        store.compare_and_swap(1, &aborted).await.unwrap(),
        Swap::Stale
    );
    assert_eq!(store.get(&ticket.id).await.unwrap(), Some(scanned));
}

async fn missing_tickets(store: &dyn TicketStore) {
    let ghost = fresh_ticket(4, OffsetDateTime::now_utc());
    assert_eq!(store.get(&ghost.id).await.unwrap(), None);
    let next = ghost
        .apply(Event::Abort, OffsetDateTime::now_utc())
        .unwrap();
    assert_eq!(
        store.compare_and_swap(1, &next).await.unwrap(),
        Swap::Missing
    );
}

async fn subscribers_see_changes(store: Arc<dyn TicketStore>) {
    let now = OffsetDateTime::now_utc();
    let ticket = fresh_ticket(5, now);
    store.insert(&ticket).await.unwrap();
    let mut changes = store.subscribe(&ticket.id).await.unwrap();
    let scanned = ticket.apply(Event::Scan { user: alice() }, now).unwrap();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move { store.compare_and_swap(1, &scanned).await.unwrap() })
    };
    let woke = tokio::time::timeout(Duration::from_secs(5), changes.changed()).await;
    assert_eq!(
        woke,
        Ok(true),
        "the subscriber was not told about the change"
    );
    assert_eq!(writer.await.unwrap(), Swap::Done);
    assert_eq!(store.get(&ticket.id).await.unwrap().unwrap().version, 2);
}

async fn sweep_keeps_recent_and_drops_old(store: &dyn TicketStore, retention: Duration) {
    let now = OffsetDateTime::now_utc();
    let pending = fresh_ticket(6, now);
    store.insert(&pending).await.unwrap();
    let ticket = pending.apply(Event::Scan { user: alice() }, now).unwrap();
    assert_eq!(
        store.compare_and_swap(1, &ticket).await.unwrap(),
        Swap::Done
    );
    let consumed_later = ticket.expires_at + retention - Duration::from_secs(1);
    store.sweep(consumed_later).await.unwrap();
    assert!(
        store.get(&ticket.id).await.unwrap().is_some(),
        "swept too early"
    );
    store
        .sweep(ticket.expires_at + retention + Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(store.get(&ticket.id).await.unwrap(), None, "not swept");
}

/// A code nobody scanned is kept only briefly past its deadline.
pub async fn an_unscanned_ticket_is_dropped_soon_after_its_deadline(store: &dyn TicketStore) {
    let idle = fresh_ticket(11, OffsetDateTime::now_utc());
    store.insert(&idle).await.unwrap();
    let soon = idle.expires_at + UNSCANNED_RETENTION;
    store.sweep(soon - Duration::from_secs(1)).await.unwrap();
    assert!(
        store.get(&idle.id).await.unwrap().is_some(),
        "dropped before its time"
    );
    store.sweep(soon + Duration::from_secs(1)).await.unwrap();
    assert_eq!(
        store.get(&idle.id).await.unwrap(),
        None,
        "an unscanned code lingers"
    );
}

#[tokio::test]
async fn memory_store_conforms() {
    let retention = Duration::from_secs(60);
    conformance(Arc::new(MemoryStore::new(retention, 1000)), retention).await;
}

#[tokio::test]
async fn memory_store_refuses_tickets_beyond_its_cap() {
    let store = MemoryStore::new(Duration::from_secs(60), 2);
    let now = OffsetDateTime::now_utc();
    store.insert(&fresh_ticket(7, now)).await.unwrap();
    store.insert(&fresh_ticket(8, now)).await.unwrap();
    assert!(matches!(
        store.insert(&fresh_ticket(9, now)).await,
        Err(StoreError::Full)
    ));
    assert_eq!(store.len(), 2);
}

#[tokio::test]
async fn memory_store_subscription_ends_when_the_ticket_is_swept() {
    let store = MemoryStore::new(Duration::from_secs(1), 10);
    let ticket = fresh_ticket(10, OffsetDateTime::now_utc());
    store.insert(&ticket).await.unwrap();
    let mut changes = store.subscribe(&ticket.id).await.unwrap();
    store
        .sweep(ticket.expires_at + Duration::from_secs(5))
        .await
        .unwrap();
    assert!(!changes.changed().await);
}
