//! Malformed input always gets a 4xx JSON error, never a 500.

use qrlogin_core::ErrorCode;

use crate::{assert_error, spawn_app};

#[tokio::test]
async fn bad_long_poll_parameters_are_invalid_request() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    for query in [
        "wait=31",
        "after=1&wait=31",
        "wait=abc",
        "after=-1",
        "after=1&wait=-5",
        "after=99999999999999999999999",
    ] {
        let response = app
            .page_call(reqwest::Method::GET, &ticket, &format!("?{query}"))
            .await;
        assert_error(response, 400, ErrorCode::InvalidRequest).await;
    }
}

#[tokio::test]
async fn odd_ids_get_json_errors() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let long = "A".repeat(5000);
    for id in ["%00", "%E2%80%8B", "..", long.as_str(), "%FF%FE"] {
        let response = app.app_call(&alice, id, "scan").await;
        let status = response.status().as_u16();
        assert!((400..500).contains(&status), "{id}: {status}");
        let body: qrlogin_core::ApiError = response.json().await.unwrap();
        assert!(matches!(
            body.error,
            ErrorCode::InvalidTicketId | ErrorCode::NotFound
        ));
    }
}

#[tokio::test]
async fn json_of_the_wrong_shape_is_invalid_request() {
    let app = spawn_app().await;
    for body in [
        "[]",
        "\"alice\"",
        "null",
        "{\"username\": 5, \"password\": \"x\"}",
    ] {
        let response = app
            .client
            .post(app.url("/api/v1/app/sessions"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_error(response, 400, ErrorCode::InvalidRequest).await;
    }
}

#[tokio::test]
async fn empty_and_binary_bodies_are_refused_with_json() {
    let app = spawn_app().await;
    let empty = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_error(empty, 400, ErrorCode::InvalidJson).await;
    let binary = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, 0x00, 0x7b])
        .send()
        .await
        .unwrap();
    assert_error(binary, 400, ErrorCode::InvalidJson).await;
}

#[tokio::test]
async fn absurd_credentials_are_just_invalid() {
    let app = spawn_app().await;
    for (username, password) in [("", ""), ("alice\u{0}", "demo"), ("ünïcödé", "демо")] {
        let response = app
            .post_session(serde_json::json!({"username": username, "password": password}))
            .await;
        assert_error(response, 401, ErrorCode::InvalidCredentials).await;
    }
}

#[tokio::test]
async fn create_ignores_a_body_and_odd_headers() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(app.url("/api/v1/qr"))
        .header(
            "user-agent",
            reqwest::header::HeaderValue::from_bytes(b"caf\xe9 browser").unwrap(),
        )
        .header("x-forwarded-for", "not an ip")
        .body("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}
