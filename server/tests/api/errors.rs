//! Every error code of the contract, each with its own test.

use qrlogin_core::ErrorCode;

use crate::{Db, assert_error, spawn_app, spawn_app_with};

#[tokio::test]
async fn wrong_password_is_invalid_credentials() {
    let app = spawn_app().await;
    let response = app
        .post_session(
            serde_json::json!({"username": "alice", "password": "wrong", "device_name": "t"}),
        )
        .await;
    assert_error(response, 401, ErrorCode::InvalidCredentials).await;
}

#[tokio::test]
async fn unknown_user_is_invalid_credentials() {
    let app = spawn_app().await;
    let response = app
        .post_session(serde_json::json!({"username": "mallory", "password": "demo"}))
        .await;
    assert_error(response, 401, ErrorCode::InvalidCredentials).await;
}

#[tokio::test]
async fn second_scanner_gets_already_scanned() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    app.app_call(&alice, &id, "scan").await;
    assert_error(
        app.app_call(&bob, &id, "scan").await,
        409,
        ErrorCode::AlreadyScanned,
    )
    .await;
}

#[tokio::test]
async fn bob_cannot_confirm_alices_scan() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    app.app_call(&alice, &id, "scan").await;
    assert_error(
        app.app_call(&bob, &id, "confirm").await,
        403,
        ErrorCode::NotYours,
    )
    .await;
}

#[tokio::test]
async fn bob_cannot_cancel_alices_scan() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    app.app_call(&alice, &id, "scan").await;
    assert_error(
        app.app_call(&bob, &id, "cancel").await,
        403,
        ErrorCode::NotYours,
    )
    .await;
}

#[tokio::test]
async fn exchange_before_confirm_is_not_confirmed() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::NotConfirmed).await;
    let alice = app.sign_in("alice").await;
    app.app_call(&alice, &ticket.id.to_string(), "scan").await;
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::NotConfirmed).await;
}

#[tokio::test]
async fn second_exchange_is_already_consumed() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    assert_eq!(app.exchange(&ticket).await.status(), 200);
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::AlreadyConsumed).await;
}

#[tokio::test]
async fn confirm_before_scan_is_not_scanned() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let alice = app.sign_in("alice").await;
    let response = app
        .app_call(&alice, &ticket.id.to_string(), "confirm")
        .await;
    assert_error(response, 409, ErrorCode::NotScanned).await;
}

#[tokio::test]
async fn scan_after_confirm_is_already_confirmed() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    let alice = app.sign_in("alice").await;
    let response = app.app_call(&alice, &ticket.id.to_string(), "scan").await;
    assert_error(response, 409, ErrorCode::AlreadyConfirmed).await;
}

#[tokio::test]
async fn confirm_after_cancel_is_cancelled() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    let alice = app.sign_in("alice").await;
    app.app_call(&alice, &id, "scan").await;
    app.app_call(&alice, &id, "cancel").await;
    assert_error(
        app.app_call(&alice, &id, "confirm").await,
        409,
        ErrorCode::Cancelled,
    )
    .await;
}

#[tokio::test]
async fn unknown_ticket_is_not_found() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let unknown = "AAAAAAAAAAAAAAAAAAAAAA";
    assert_error(
        app.app_call(&alice, unknown, "scan").await,
        404,
        ErrorCode::NotFound,
    )
    .await;
    let response = app
        .client
        .get(app.url(&format!("/api/v1/qr/{unknown}")))
        .bearer_auth("x".repeat(43))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, ErrorCode::NotFound).await;
}

#[tokio::test]
async fn malformed_ticket_id_is_invalid_ticket_id() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    for bad in [
        "short",
        "AAAAAAAAAAAAAAAAAAAAAB",
        "AAAAAAAAAAAAAAAAAAAA%2BA",
    ] {
        let response = app.app_call(&alice, bad, "scan").await;
        assert_error(response, 400, ErrorCode::InvalidTicketId).await;
    }
}

#[tokio::test]
async fn unknown_route_is_not_found_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/api/v1/nope"))
        .send()
        .await
        .unwrap();
    assert_error(response, 404, ErrorCode::NotFound).await;
}

#[tokio::test]
async fn wrong_method_is_method_not_allowed_json() {
    let app = spawn_app().await;
    let response = app.client.put(app.url("/api/v1/qr")).send().await.unwrap();
    assert_error(response, 405, ErrorCode::MethodNotAllowed).await;
    let response = app
        .client
        .put(app.url("/api/v1/app/sessions"))
        .send()
        .await
        .unwrap();
    assert_error(response, 405, ErrorCode::MethodNotAllowed).await;
}

#[tokio::test]
async fn bad_json_is_invalid_json() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_error(response, 400, ErrorCode::InvalidJson).await;
}

#[tokio::test]
async fn missing_fields_are_invalid_request() {
    let app = spawn_app().await;
    let response = app
        .post_session(serde_json::json!({"username": "alice"}))
        .await;
    assert_error(response, 400, ErrorCode::InvalidRequest).await;
}

#[tokio::test]
async fn wrong_content_type_is_unsupported_media_type() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("content-type", "text/plain")
        .body(r#"{"username":"alice","password":"demo"}"#)
        .send()
        .await
        .unwrap();
    assert_error(response, 415, ErrorCode::UnsupportedMediaType).await;
}

#[tokio::test]
async fn oversized_body_is_payload_too_large() {
    let app = spawn_app().await;
    let response = app
        .post_session(serde_json::json!({"username": "alice", "password": "x".repeat(20_000)}))
        .await;
    assert_error(response, 413, ErrorCode::PayloadTooLarge).await;
}

#[tokio::test]
async fn full_ticket_store_is_service_unavailable() {
    let app = spawn_app_with(Db::Sqlite, &["--max-tickets", "1"]).await;
    app.create().await;
    let response = app.client.post(app.url("/api/v1/qr")).send().await.unwrap();
    assert_error(response, 503, ErrorCode::ServiceUnavailable).await;
}
