//! Authentication: the poll secret guards every web-side call, app tokens
//! guard the app side, and signed-out tokens stop working.

use qrlogin_core::{ErrorCode, UserProfile};
use reqwest::{Method, StatusCode};

use crate::{Db, assert_error, both_databases, spawn_app, spawn_app_with};

/// Every web-side call on a ticket, as (method, path suffix).
const WEB_CALLS: [(&str, &str); 4] = [
    ("GET", ""),
    ("GET", "/events"),
    ("POST", "/exchange"),
    ("DELETE", ""),
];

#[tokio::test]
async fn poll_secret_is_required_on_every_web_call() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let other = app.create().await;
    for (method, suffix) in WEB_CALLS {
        let url = app.url(&format!("/api/v1/qr/{}{suffix}", ticket.id));
        let method: Method = method.parse().unwrap();
        let missing = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        assert_error(missing, 401, ErrorCode::Unauthorized).await;
        let wrong = app
            .client
            .request(method.clone(), &url)
            .bearer_auth(other.poll_secret.expose())
            .send()
            .await
            .unwrap();
        assert_error(wrong, 401, ErrorCode::Unauthorized).await;
        let basic = app
            .client
            .request(method, &url)
            .basic_auth("x", Some(ticket.poll_secret.expose()))
            .send()
            .await
            .unwrap();
        assert_error(basic, 401, ErrorCode::Unauthorized).await;
    }
    // Nothing happened to the ticket.
    assert_eq!(app.status(&ticket).await.version, 1);
}

#[tokio::test]
async fn app_token_is_required_on_every_app_call() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    for action in ["scan", "confirm", "cancel"] {
        assert_error(
            app.app_call("", &id, action).await,
            401,
            ErrorCode::Unauthorized,
        )
        .await;
        let garbage = app.app_call("not-a-token", &id, action).await;
        assert_error(garbage, 401, ErrorCode::Unauthorized).await;
        // A poll secret is not an app token.
        let secret = app.app_call(ticket.poll_secret.expose(), &id, action).await;
        assert_error(secret, 401, ErrorCode::Unauthorized).await;
    }
    let me = app
        .client
        .get(app.url("/api/v1/app/me"))
        .send()
        .await
        .unwrap();
    assert_error(me, 401, ErrorCode::Unauthorized).await;
    let out = app
        .client
        .delete(app.url("/api/v1/app/sessions/current"))
        .send()
        .await
        .unwrap();
    assert_error(out, 401, ErrorCode::Unauthorized).await;
}

both_databases!(signed_out_tokens_are_refused, me_returns_the_signed_in_user);

async fn signed_out_tokens_are_refused(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let token = app.sign_in("alice").await;
    let other_device = app.sign_in("alice").await;
    let out = app
        .client
        .delete(app.url("/api/v1/app/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let me = app
        .client
        .get(app.url("/api/v1/app/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_error(me, 401, ErrorCode::Unauthorized).await;
    let ticket = app.create().await;
    let scan = app.app_call(&token, &ticket.id.to_string(), "scan").await;
    assert_error(scan, 401, ErrorCode::Unauthorized).await;
    // Other sessions of the same user live on.
    let me = app
        .client
        .get(app.url("/api/v1/app/me"))
        .bearer_auth(&other_device)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
}

async fn me_returns_the_signed_in_user(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let response = app
        .post_session(
            serde_json::json!({"username": "Bob", "password": "demo", "device_name": "phone"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: qrlogin_core::SignInResponse = response.json().await.unwrap();
    assert_eq!(body.user.username, "bob");
    let me: UserProfile = app
        .client
        .get(app.url("/api/v1/app/me"))
        .bearer_auth(body.token.expose())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me, body.user);
    assert_eq!(me.display_name, "Bob Example");
    assert!(
        me.avatar_url
            .unwrap()
            .ends_with(&format!("/avatars/{}.svg", me.id))
    );
}
