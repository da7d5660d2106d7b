//! Number matching (`--verification-code`): after the scan the page shows a
//! two-digit number, the app offers three, and only the right pick confirms.
//! A wrong pick cancels the ticket (reason `wrong_code`) — the defense
//! against a phisher relaying a live QR to a victim. Runs on the memory
//! store and on Redis (the ticket, with its number, is serialized there).

use qrlogin_core::{
    CancelReason, CreateTicketResponse, ErrorCode, ScanResponse, StatusView, TicketStatus,
};
use reqwest::{Method, Response, StatusCode};
use serde_json::json;

use crate::redis_store::{REDIS_URL, fresh_prefix};
use crate::{Db, TestApp, assert_error, read_events, spawn_app, spawn_app_with};

#[derive(Debug, Clone, Copy)]
enum Store {
    Memory,
    Redis,
}

/// Runs `$name(store)` once per ticket store, as `memory::$name` and `redis::$name`.
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $(#[tokio::test] async fn $name() { super::$name(super::Store::Memory).await })*
        }
        mod redis {
            $(#[tokio::test] async fn $name() { super::$name(super::Store::Redis).await })*
        }
    };
}

both_stores!(
    the_number_on_the_page_confirms,
    a_wrong_number_cancels_and_tells_the_page,
    a_confirm_without_a_number_is_refused_and_the_ticket_stays_scanned,
    another_user_cannot_burn_the_ticket_with_a_wrong_number,
);

/// A server with number matching on, on `store`.
async fn matching_app(store: Store) -> TestApp {
    match store {
        Store::Memory => spawn_app_with(Db::Sqlite, &["--verification-code"]).await,
        Store::Redis => {
            let prefix = fresh_prefix();
            let flags = [
                "--verification-code",
                "--redis-url",
                REDIS_URL,
                "--redis-prefix",
                prefix.as_str(),
            ];
            spawn_app_with(Db::Sqlite, &flags).await
        }
    }
}

/// `POST /api/v1/qr/{id}/confirm` with `body` as JSON.
async fn confirm_with(app: &TestApp, token: &str, id: &str, body: serde_json::Value) -> Response {
    app.client
        .post(app.url(&format!("/api/v1/qr/{id}/confirm")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Creates a ticket, lets `username` scan it; returns it with the scan answer.
async fn scanned_by(app: &TestApp, token: &str) -> (CreateTicketResponse, ScanResponse) {
    let ticket = app.create().await;
    let scan = app.app_call(token, &ticket.id.to_string(), "scan").await;
    assert_eq!(scan.status(), StatusCode::OK);
    (ticket, scan.json().await.unwrap())
}

/// The number the page shows, checked against the app's choices.
async fn number_on_page(
    app: &TestApp,
    ticket: &CreateTicketResponse,
    scan: &ScanResponse,
) -> String {
    let view = app.status(ticket).await;
    assert_eq!(view.status, TicketStatus::Scanned);
    let code = view
        .verification_code
        .expect("the page shows a number while scanned");
    assert_eq!(code.len(), 2, "{code}");
    let choices = scan
        .verification_choices
        .clone()
        .expect("the app gets choices");
    assert!(choices.contains(&code), "{code} not in {choices:?}");
    let distinct: std::collections::HashSet<_> = choices.iter().collect();
    assert_eq!(distinct.len(), 3, "{choices:?}");
    code
}

/// A choice that is not the number on the page.
fn wrong_choice(scan: &ScanResponse, code: &str) -> String {
    let choices = scan.verification_choices.clone().unwrap();
    choices.into_iter().find(|c| c != code).unwrap()
}

async fn the_number_on_the_page_confirms(store: Store) {
    let app = matching_app(store).await;
    let pending = app.create().await;
    assert_eq!(
        app.status(&pending).await.verification_code,
        None,
        "not before the scan"
    );
    let alice = app.sign_in("alice").await;
    let (ticket, scan) = scanned_by(&app, &alice).await;
    let code = number_on_page(&app, &ticket, &scan).await;
    let id = ticket.id.to_string();
    let confirmed = confirm_with(&app, &alice, &id, json!({"verification_code": code})).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
    let view = app.status(&ticket).await;
    assert_eq!(view.status, TicketStatus::Confirmed);
    assert_eq!(
        view.verification_code, None,
        "the number is shown only while scanned"
    );
    assert_eq!(app.exchange(&ticket).await.status(), StatusCode::OK);
}

async fn a_wrong_number_cancels_and_tells_the_page(store: Store) {
    let app = matching_app(store).await;
    let alice = app.sign_in("alice").await;
    let (ticket, scan) = scanned_by(&app, &alice).await;
    let code = number_on_page(&app, &ticket, &scan).await;
    let id = ticket.id.to_string();
    // The page is listening on its event stream (it has seen version 2, scanned).
    let events = app.page_call(Method::GET, &ticket, "/events?after=2").await;
    assert_eq!(events.status(), StatusCode::OK);

    let wrong = wrong_choice(&scan, &code);
    let refused = confirm_with(&app, &alice, &id, json!({"verification_code": wrong})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body: qrlogin_core::ApiError = refused.json().await.unwrap();
    assert_eq!(body.error, ErrorCode::WrongVerificationCode);
    assert!(
        body.message.contains("not the one on the sign-in page"),
        "{}",
        body.message
    );

    let seen = read_events(events, |v: &StatusView| v.status.is_final()).await;
    let last = seen.last().expect("an event after the wrong pick");
    assert_eq!(last.status, TicketStatus::Cancelled);
    assert_eq!(last.reason, Some(CancelReason::WrongCode));
    assert_eq!(last.verification_code, None);
    let view = app.status(&ticket).await;
    assert_eq!(view.status, TicketStatus::Cancelled);
    assert_eq!(view.reason, Some(CancelReason::WrongCode));

    // The right number is too late now, and nothing can be exchanged.
    let late = confirm_with(&app, &alice, &id, json!({"verification_code": code})).await;
    assert_error(late, 409, ErrorCode::Cancelled).await;
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::Cancelled).await;
}

async fn a_confirm_without_a_number_is_refused_and_the_ticket_stays_scanned(store: Store) {
    let app = matching_app(store).await;
    let alice = app.sign_in("alice").await;
    let (ticket, scan) = scanned_by(&app, &alice).await;
    let code = number_on_page(&app, &ticket, &scan).await;
    let id = ticket.id.to_string();
    let no_body = app.app_call(&alice, &id, "confirm").await;
    assert_error(no_body, 400, ErrorCode::VerificationRequired).await;
    let empty = confirm_with(&app, &alice, &id, json!({})).await;
    assert_error(empty, 400, ErrorCode::VerificationRequired).await;
    let malformed = app
        .client
        .post(app.url(&format!("/api/v1/qr/{id}/confirm")))
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("{\"verification_code\":")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, ErrorCode::InvalidJson).await;
    let view = app.status(&ticket).await;
    assert_eq!(view.status, TicketStatus::Scanned);
    assert_eq!(view.version, 2, "nothing changed");
    assert_eq!(view.verification_code.as_deref(), Some(code.as_str()));
    let confirmed = confirm_with(&app, &alice, &id, json!({"verification_code": code})).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
}

async fn another_user_cannot_burn_the_ticket_with_a_wrong_number(store: Store) {
    let app = matching_app(store).await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    let (ticket, scan) = scanned_by(&app, &alice).await;
    let code = number_on_page(&app, &ticket, &scan).await;
    let id = ticket.id.to_string();
    let wrong = wrong_choice(&scan, &code);
    for body in [
        json!({"verification_code": wrong}),
        json!({"verification_code": code}),
        json!({}),
    ] {
        let refused = confirm_with(&app, &bob, &id, body).await;
        assert_error(refused, 403, ErrorCode::NotYours).await;
    }
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Scanned);
    let confirmed = confirm_with(&app, &alice, &id, json!({"verification_code": code})).await;
    assert_eq!(confirmed.status(), StatusCode::OK);
}

#[tokio::test]
async fn without_the_flag_there_is_no_number_and_confirm_needs_no_body() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let (ticket, scan) = scanned_by(&app, &alice).await;
    assert_eq!(scan.verification_choices, None);
    let raw: serde_json::Value = app
        .page_call(Method::GET, &ticket, "")
        .await
        .json()
        .await
        .unwrap();
    assert!(raw.get("verification_code").is_none(), "{raw}");
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "confirm").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Confirmed);
    // A body is accepted too (an app that always sends one), and ignored.
    let (other, _) = scanned_by(&app, &alice).await;
    let with_body = confirm_with(
        &app,
        &alice,
        &other.id.to_string(),
        json!({"verification_code": "42"}),
    )
    .await;
    assert_eq!(with_body.status(), StatusCode::OK);
    assert_eq!(app.status(&other).await.status, TicketStatus::Confirmed);
}

#[tokio::test]
async fn a_confirm_body_that_is_not_json_is_refused() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let (ticket, _) = scanned_by(&app, &alice).await;
    let id = ticket.id.to_string();
    let url = app.url(&format!("/api/v1/qr/{id}/confirm"));
    let malformed = app
        .client
        .post(&url)
        .bearer_auth(&alice)
        .header("content-type", "application/json")
        .body("not json")
        .send()
        .await
        .unwrap();
    assert_error(malformed, 400, ErrorCode::InvalidJson).await;
    let text = app
        .client
        .post(&url)
        .bearer_auth(&alice)
        .header("content-type", "text/plain")
        .body("{\"verification_code\":\"42\"}")
        .send()
        .await
        .unwrap();
    assert_error(text, 415, ErrorCode::UnsupportedMediaType).await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Scanned);
}
