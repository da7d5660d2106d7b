//! Expiry with the default lifetimes (pending 120 s, scanned 60 s,
//! confirmed 60 s) on a manual server clock that the tests move forward:
//! no sleeps, and the deadlines are the real ones.

use std::time::Duration;

use qrlogin_core::{ErrorCode, TicketStatus};
use reqwest::StatusCode;

use crate::{Db, assert_error, read_events, spawn_app_with, spawn_app_with_manual_clock};

const PENDING: Duration = Duration::from_secs(120);
const SCANNED: Duration = Duration::from_secs(60);
const CONFIRMED: Duration = Duration::from_secs(60);
const PAST: Duration = Duration::from_secs(1);

#[tokio::test]
async fn unscanned_code_expires_and_scan_is_gone() {
    let app = spawn_app_with_manual_clock(&[]).await;
    let ticket = app.create().await;
    // Long-poll wakes at the deadline and reports `expired`.
    let poll = app.page_call(reqwest::Method::GET, &ticket, "?after=1&wait=30");
    let clock = app.clock.clone();
    let (response, ()) = tokio::join!(poll, async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        clock.advance(PENDING - PAST);
        tokio::time::sleep(Duration::from_millis(50)).await;
        clock.advance(PAST * 2);
    });
    let view: qrlogin_core::StatusView = response.json().await.unwrap();
    assert_eq!(view.status, TicketStatus::Expired);
    assert_eq!(view.version, 2);
    let alice = app.sign_in("alice").await;
    let scan = app.app_call(&alice, &ticket.id.to_string(), "scan").await;
    assert_error(scan, 410, ErrorCode::Expired).await;
}

#[tokio::test]
async fn sse_reports_expiry_and_ends() {
    let app = spawn_app_with_manual_clock(&[]).await;
    let ticket = app.create().await;
    let sse = app
        .page_call(reqwest::Method::GET, &ticket, "/events")
        .await;
    let clock = app.clock.clone();
    let (seen, ()) = tokio::join!(read_events(sse, |_| false), async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        clock.advance(PENDING + PAST);
    });
    let statuses: Vec<_> = seen.iter().map(|v| v.status).collect();
    assert_eq!(statuses, [TicketStatus::Pending, TicketStatus::Expired]);
}

#[tokio::test]
async fn scanned_code_expires_when_nobody_confirms() {
    let app = spawn_app_with_manual_clock(&[]).await;
    let ticket = app.create().await;
    let alice = app.sign_in("alice").await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    app.clock.advance(SCANNED - PAST);
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Scanned);
    app.clock.advance(PAST * 2);
    assert_error(
        app.app_call(&alice, &id, "confirm").await,
        410,
        ErrorCode::Expired,
    )
    .await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Expired);
}

#[tokio::test]
async fn confirmed_code_expires_when_the_page_never_exchanges() {
    let app = spawn_app_with_manual_clock(&[]).await;
    let ticket = app.confirmed_ticket().await;
    app.clock.advance(CONFIRMED + PAST);
    assert_error(app.exchange(&ticket).await, 410, ErrorCode::Expired).await;
    // Still readable (retained), and final.
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Expired);
}

#[tokio::test]
async fn expires_at_moves_with_each_state() {
    let app = spawn_app_with(
        Db::Sqlite,
        &["--pending-lifetime", "100", "--scanned-lifetime", "10"],
    )
    .await;
    let ticket = app.create().await;
    let alice = app.sign_in("alice").await;
    let scan: qrlogin_core::ScanResponse = app
        .app_call(&alice, &ticket.id.to_string(), "scan")
        .await
        .json()
        .await
        .unwrap();
    assert!(scan.expires_at < ticket.expires_at);
    let left = scan.expires_at - time::OffsetDateTime::now_utc();
    assert!(left <= time::Duration::seconds(10) && left > time::Duration::seconds(5));
}
