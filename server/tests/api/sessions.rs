//! The user's own account from the app: list and revoke app sessions (a
//! stolen or lost phone's token), and the per-account QR sign-in switch.

use qrlogin_core::{AccountSettings, ErrorCode, SessionList, SignInResponse, TicketStatus};
use reqwest::StatusCode;
use serde_json::json;

use crate::{Db, TestApp, assert_error, both_databases, spawn_app_with};

both_databases!(
    sessions_are_listed_newest_first_with_the_current_one_marked,
    a_revoked_session_token_is_refused,
    another_users_session_is_not_found,
    qr_login_switched_off_refuses_scans_and_leaves_the_ticket_pending,
    confirm_is_refused_when_qr_login_is_switched_off_after_the_scan,
);

/// Signs `username` in from a device called `device`; returns the token.
async fn sign_in_on(app: &TestApp, username: &str, device: &str) -> String {
    let response = app
        .post_session(json!({"username": username, "password": "demo", "device_name": device}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: SignInResponse = response.json().await.unwrap();
    body.token.expose().to_string()
}

async fn list_sessions(app: &TestApp, token: &str) -> SessionList {
    let response = app
        .client
        .get(app.url("/api/v1/app/sessions"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn delete_session(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/api/v1/app/sessions/{id}")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn me_status(app: &TestApp, token: &str) -> StatusCode {
    app.client
        .get(app.url("/api/v1/app/me"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .status()
}

/// `PATCH /api/v1/app/settings` → the settings it answers.
pub async fn set_qr_login(app: &TestApp, token: &str, enabled: bool) -> AccountSettings {
    let response = app
        .client
        .patch(app.url("/api/v1/app/settings"))
        .bearer_auth(token)
        .json(&json!({"qr_login_enabled": enabled}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn get_settings(app: &TestApp, token: &str) -> AccountSettings {
    let response = app
        .client
        .get(app.url("/api/v1/app/settings"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn sessions_are_listed_newest_first_with_the_current_one_marked(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let phone = sign_in_on(&app, "alice", "Pixel 8").await;
    let laptop = sign_in_on(&app, "alice", "ThinkPad").await;
    sign_in_on(&app, "bob", "Bob's phone").await;

    let list = list_sessions(&app, &phone).await.sessions;
    let mut devices: Vec<&str> = list.iter().map(|s| s.device_name.as_str()).collect();
    devices.sort_unstable();
    assert_eq!(devices, ["Pixel 8", "ThinkPad"], "only alice's sessions");
    let current: Vec<_> = list.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].device_name, "Pixel 8");
    assert!(
        list.windows(2).all(|w| w[0].created_at >= w[1].created_at),
        "newest first: {list:?}"
    );
    for session in &list {
        assert!(session.last_used_at >= session.created_at);
        assert_eq!(session.id.len(), 22);
    }
    // From the other device, that one is current.
    let from_laptop = list_sessions(&app, &laptop).await.sessions;
    let current = from_laptop.iter().find(|s| s.current).unwrap();
    assert_eq!(current.device_name, "ThinkPad");

    // A signed-out session leaves the list.
    let out = app
        .client
        .delete(app.url("/api/v1/app/sessions/current"))
        .bearer_auth(&laptop)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let left = list_sessions(&app, &phone).await.sessions;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].device_name, "Pixel 8");
}

async fn a_revoked_session_token_is_refused(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let phone = sign_in_on(&app, "alice", "Pixel 8").await;
    let stolen = sign_in_on(&app, "alice", "Old tablet").await;
    let list = list_sessions(&app, &phone).await.sessions;
    let tablet = list.iter().find(|s| s.device_name == "Old tablet").unwrap();

    let revoked = delete_session(&app, &phone, &tablet.id).await;
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);

    assert_eq!(me_status(&app, &stolen).await, StatusCode::UNAUTHORIZED);
    let ticket = app.create().await;
    let scan = app.app_call(&stolen, &ticket.id.to_string(), "scan").await;
    assert_error(scan, 401, ErrorCode::Unauthorized).await;
    assert_eq!(me_status(&app, &phone).await, StatusCode::OK);
    assert_eq!(list_sessions(&app, &phone).await.sessions.len(), 1);
    // Revoking it again: it is no longer a live session.
    assert_error(
        delete_session(&app, &phone, &tablet.id).await,
        404,
        ErrorCode::NotFound,
    )
    .await;
    // A session may revoke itself by id too.
    let own = list_sessions(&app, &phone).await.sessions[0].id.clone();
    assert_eq!(
        delete_session(&app, &phone, &own).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(me_status(&app, &phone).await, StatusCode::UNAUTHORIZED);
}

async fn another_users_session_is_not_found(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = sign_in_on(&app, "alice", "Pixel 8").await;
    let bob = sign_in_on(&app, "bob", "Bob's phone").await;
    let bobs_session = list_sessions(&app, &bob).await.sessions[0].id.clone();

    // Alice cannot revoke it, and cannot tell it apart from a made-up id.
    assert_error(
        delete_session(&app, &alice, &bobs_session).await,
        404,
        ErrorCode::NotFound,
    )
    .await;
    assert_error(
        delete_session(&app, &alice, "no-such-session").await,
        404,
        ErrorCode::NotFound,
    )
    .await;
    assert_eq!(me_status(&app, &bob).await, StatusCode::OK);
    // Without a token: 401, not 404.
    let anonymous = app
        .client
        .delete(app.url(&format!("/api/v1/app/sessions/{bobs_session}")))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, ErrorCode::Unauthorized).await;
    assert_eq!(me_status(&app, &bob).await, StatusCode::OK);
}

async fn qr_login_switched_off_refuses_scans_and_leaves_the_ticket_pending(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    assert!(
        get_settings(&app, &alice).await.qr_login_enabled,
        "on by default"
    );

    assert!(!set_qr_login(&app, &alice, false).await.qr_login_enabled);
    assert!(!get_settings(&app, &alice).await.qr_login_enabled);
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    let scan = app.app_call(&alice, &id, "scan").await;
    assert_eq!(scan.status(), StatusCode::FORBIDDEN);
    let body: qrlogin_core::ApiError = scan.json().await.unwrap();
    assert_eq!(body.error, ErrorCode::QrLoginDisabled);
    assert!(body.message.contains("turn it on in the app's settings"));
    let status = app.status(&ticket).await;
    assert_eq!(status.status, TicketStatus::Pending);
    assert_eq!(status.version, 1, "the refused scan changed nothing");

    // The switch is per account: bob still signs in by QR.
    assert!(get_settings(&app, &bob).await.qr_login_enabled);
    let bobs_ticket = app.create().await;
    let scan = app
        .app_call(&bob, &bobs_ticket.id.to_string(), "scan")
        .await;
    assert_eq!(scan.status(), StatusCode::OK);

    // On again: the same code can be scanned.
    assert!(set_qr_login(&app, &alice, true).await.qr_login_enabled);
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Scanned);

    // A body without the switch is refused.
    let bad = app
        .client
        .patch(app.url("/api/v1/app/settings"))
        .bearer_auth(&alice)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_error(bad, 400, ErrorCode::InvalidRequest).await;
    let anonymous = app
        .client
        .patch(app.url("/api/v1/app/settings"))
        .json(&json!({"qr_login_enabled": false}))
        .send()
        .await
        .unwrap();
    assert_error(anonymous, 401, ErrorCode::Unauthorized).await;
    assert!(get_settings(&app, &alice).await.qr_login_enabled);
}

async fn confirm_is_refused_when_qr_login_is_switched_off_after_the_scan(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = app.sign_in("alice").await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    set_qr_login(&app, &alice, false).await;
    assert_error(
        app.app_call(&alice, &id, "confirm").await,
        403,
        ErrorCode::QrLoginDisabled,
    )
    .await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Scanned);
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::NotConfirmed).await;
}
