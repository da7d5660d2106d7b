//! Races: the compare-and-swap lets exactly one writer win each step.

use futures_util::future::join_all;
use qrlogin_core::{ApiError, ErrorCode, TicketStatus};
use reqwest::StatusCode;

use crate::spawn_app;

#[tokio::test]
async fn fifty_concurrent_exchanges_yield_exactly_one_token() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    let responses = join_all((0..50).map(|_| app.exchange(&ticket))).await;
    let mut ok = 0;
    for response in responses {
        if response.status() == StatusCode::OK {
            ok += 1;
        } else {
            assert_eq!(response.status(), StatusCode::CONFLICT);
            let body: ApiError = response.json().await.unwrap();
            assert_eq!(body.error, ErrorCode::AlreadyConsumed);
        }
    }
    assert_eq!(ok, 1);
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Consumed);
}

#[tokio::test]
async fn concurrent_scans_by_two_users_have_one_winner() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    for _ in 0..10 {
        let ticket = app.create().await;
        let id = ticket.id.to_string();
        let (a, b) = tokio::join!(
            app.app_call(&alice, &id, "scan"),
            app.app_call(&bob, &id, "scan")
        );
        let (winner, loser, name) = match (a.status(), b.status()) {
            (StatusCode::OK, StatusCode::CONFLICT) => (a, b, "Alice Example"),
            (StatusCode::CONFLICT, StatusCode::OK) => (b, a, "Bob Example"),
            other => panic!("expected exactly one winner, got {other:?}"),
        };
        assert_eq!(winner.status(), StatusCode::OK);
        let loser: ApiError = loser.json().await.unwrap();
        assert_eq!(loser.error, ErrorCode::AlreadyScanned);
        let view = app.status(&ticket).await;
        assert_eq!(view.status, TicketStatus::Scanned);
        assert_eq!(view.version, 2);
        assert_eq!(view.user.unwrap().display_name, name);
    }
}

#[tokio::test]
async fn confirm_racing_cancel_ends_cancelled_either_way() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    for _ in 0..10 {
        let ticket = app.create().await;
        let id = ticket.id.to_string();
        app.app_call(&alice, &id, "scan").await;
        let (confirm, cancel) = tokio::join!(
            app.app_call(&alice, &id, "confirm"),
            app.app_call(&alice, &id, "cancel")
        );
        // The user may still back out after confirming, so cancel always wins
        // in the end; confirm either came first (200) or saw the cancel (409).
        assert_eq!(cancel.status(), StatusCode::OK);
        match confirm.status() {
            StatusCode::OK => {}
            StatusCode::CONFLICT => {
                let body: ApiError = confirm.json().await.unwrap();
                assert_eq!(body.error, ErrorCode::Cancelled);
            }
            other => panic!("unexpected confirm status {other}"),
        }
        assert_eq!(app.status(&ticket).await.status, TicketStatus::Cancelled);
    }
}

#[tokio::test]
async fn exchange_racing_cancel_has_exactly_one_winner() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    for _ in 0..10 {
        let ticket = app.confirmed_ticket().await;
        let id = ticket.id.to_string();
        let (exchange, cancel) =
            tokio::join!(app.exchange(&ticket), app.app_call(&alice, &id, "cancel"));
        let final_status = app.status(&ticket).await.status;
        match (exchange.status(), cancel.status()) {
            (StatusCode::OK, StatusCode::CONFLICT) => {
                let body: ApiError = cancel.json().await.unwrap();
                assert_eq!(body.error, ErrorCode::AlreadyConsumed);
                assert_eq!(final_status, TicketStatus::Consumed);
            }
            (StatusCode::CONFLICT, StatusCode::OK) => {
                let body: ApiError = exchange.json().await.unwrap();
                assert_eq!(body.error, ErrorCode::Cancelled);
                assert_eq!(final_status, TicketStatus::Cancelled);
            }
            other => panic!("expected exactly one winner, got {other:?}"),
        }
    }
}
