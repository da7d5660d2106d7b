//! With `--redis-url`, the rate limits count across instances: two servers
//! sharing one Redis give a client one budget, not two.

use reqwest::StatusCode;
use serde_json::json;

use crate::redis_store::fresh_prefix;
use crate::{Db, spawn_app_with};

#[tokio::test]
async fn two_instances_share_one_creation_budget() {
    let prefix = fresh_prefix();
    let flags = [
        "--redis-url",
        "redis://127.0.0.1:6379",
        "--redis-prefix",
        &prefix,
        "--create-rate",
        "1",
        "--create-burst",
        "3",
    ];
    let a = spawn_app_with(Db::Sqlite, &flags).await;
    let b = spawn_app_with(Db::Sqlite, &flags).await;
    let create = |app: &crate::TestApp| app.client.post(app.url("/api/v1/qr")).send();
    assert_eq!(create(&a).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(create(&b).await.unwrap().status(), StatusCode::CREATED);
    assert_eq!(create(&a).await.unwrap().status(), StatusCode::CREATED);
    let fourth = create(&b).await.unwrap();
    assert_eq!(
        fourth.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "one budget of 3 across both"
    );
    assert!(fourth.headers().contains_key("retry-after"));
}

#[tokio::test]
async fn a_lockout_on_one_instance_holds_on_the_other() {
    let prefix = fresh_prefix();
    let flags = [
        "--redis-url",
        "redis://127.0.0.1:6379",
        "--redis-prefix",
        &prefix,
        "--account-sign-in-rate",
        "1",
        "--account-sign-in-burst",
        "2",
    ];
    let a = spawn_app_with(Db::Sqlite, &flags).await;
    let b = spawn_app_with(Db::Sqlite, &flags).await;
    let wrong = json!({"username": "alice", "password": "nope", "device_name": "t"});
    assert_eq!(
        a.post_session(wrong.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        b.post_session(wrong.clone()).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        a.post_session(wrong).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the third wrong password is refused, wherever it lands"
    );
}
