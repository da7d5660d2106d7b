//! Resources an outsider can make the server spend stay bounded: metric
//! series (made-up HTTP methods) and password hashing (concurrent sign-ins).

use std::time::Duration;

use qrlogin_core::ErrorCode;
use reqwest::{Method, StatusCode};

use crate::{Db, spawn_app, spawn_app_with};

async fn metrics_text(app: &crate::TestApp) -> String {
    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

#[tokio::test]
async fn made_up_http_methods_do_not_grow_the_metrics() {
    let app = spawn_app().await;
    let before = metrics_text(&app).await.len();
    for i in 0..300 {
        let name = format!("INVENTED{i}{}", "X".repeat(i * 10));
        let method = Method::from_bytes(name.as_bytes()).unwrap();
        let response = app
            .client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_client_error(), "{}", response.status());
    }
    let text = metrics_text(&app).await;
    assert!(
        !text.contains("INVENTED"),
        "a made-up method became a label"
    );
    assert!(
        text.contains("method=\"other\""),
        "made-up methods are counted as `other`"
    );
    // Two new series at most (other × the status it got), a few kB.
    assert!(
        text.len() < before + 8 * 1024,
        "/metrics grew from {before} to {} bytes",
        text.len()
    );
}

#[tokio::test]
async fn concurrent_sign_ins_past_the_hashing_limit_are_refused_busy() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--max-concurrent-hashes",
            "1",
            "--sign-in-rate",
            "0",
            "--account-sign-in-rate",
            "0",
        ],
    )
    .await;
    let attempts = (0..48).map(|i| {
        let app = &app;
        async move {
            app.post_session(serde_json::json!({
                "username": format!("nobody{i}"),
                "password": "wrong",
                "device_name": "test",
            }))
            .await
        }
    });
    let answers = futures_util::future::join_all(attempts).await;
    let mut busy = 0;
    for response in answers {
        match response.status().as_u16() {
            401 => {}
            503 => {
                let retry_after = response.headers().get("retry-after").cloned();
                let body: qrlogin_core::ApiError = response.json().await.unwrap();
                assert_eq!(body.error, ErrorCode::Busy);
                assert_eq!(retry_after.unwrap(), "1");
                busy += 1;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(
        busy > 0,
        "48 hashes through one slot within 2 s each: some must be refused"
    );
    // The server is still fine once the burst is over.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let alice = app.sign_in("alice").await;
    assert!(!alice.is_empty());
}
