//! Creating tickets is rate limited per client: 429 `rate_limited` with
//! `Retry-After`, keyed on the real client behind a trusted proxy.

use reqwest::StatusCode;

use crate::{Db, assert_error, spawn_app_with};
use qrlogin_core::ErrorCode;

async fn create_as(app: &crate::TestApp, forwarded_for: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/qr"))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_past_its_burst_gets_429_with_retry_after() {
    let app = spawn_app_with(Db::Sqlite, &["--create-rate", "6", "--create-burst", "2"]).await;
    for _ in 0..2 {
        assert_eq!(
            app.client
                .post(app.url("/api/v1/qr"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::CREATED
        );
    }
    let refused = app.client.post(app.url("/api/v1/qr")).send().await.unwrap();
    let retry_after: u64 = refused.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&retry_after), "Retry-After {retry_after}");
    assert_error(refused, 429, ErrorCode::RateLimited).await;
    // Other endpoints are not limited.
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_budget() {
    let app = spawn_app_with(
        Db::Sqlite,
        &["--create-rate", "6", "--create-burst", "1", "--trust-proxy"],
    )
    .await;
    assert_eq!(
        create_as(&app, "203.0.113.1").await.status(),
        StatusCode::CREATED
    );
    assert_error(
        create_as(&app, "203.0.113.1").await,
        429,
        ErrorCode::RateLimited,
    )
    .await;
    assert_eq!(
        create_as(&app, "203.0.113.2").await.status(),
        StatusCode::CREATED
    );
    // A client cannot escape by prepending addresses: the proxy's entry counts.
    assert_error(
        create_as(&app, "198.51.100.9, 203.0.113.1").await,
        429,
        ErrorCode::RateLimited,
    )
    .await;
}

#[tokio::test]
async fn without_trust_proxy_forwarded_headers_do_not_buy_a_new_budget() {
    let app = spawn_app_with(Db::Sqlite, &["--create-rate", "6", "--create-burst", "1"]).await;
    assert_eq!(
        create_as(&app, "203.0.113.1").await.status(),
        StatusCode::CREATED
    );
    assert_error(
        create_as(&app, "203.0.113.2").await,
        429,
        ErrorCode::RateLimited,
    )
    .await;
}

#[tokio::test]
async fn zero_rate_turns_the_limit_off() {
    let app = spawn_app_with(Db::Sqlite, &["--create-rate", "0", "--create-burst", "1"]).await;
    for _ in 0..5 {
        assert_eq!(
            app.client
                .post(app.url("/api/v1/qr"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::CREATED
        );
    }
}
