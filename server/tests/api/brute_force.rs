//! Password guessing on `POST /api/v1/app/sessions` is limited per account
//! (from anywhere) and per client (on any account), with a lockout that
//! grows while it is hammered; scan/confirm/cancel are limited per app
//! session. Unknown and existing accounts answer alike throughout.

use qrlogin_core::{ApiError, ErrorCode};
use reqwest::{Response, StatusCode};
use serde_json::json;

use crate::{Db, TestApp, assert_error, spawn_app_with};

async fn attempt(app: &TestApp, username: &str, password: &str) -> Response {
    app.post_session(json!({"username": username, "password": password, "device_name": "test"}))
        .await
}

async fn attempt_from(app: &TestApp, forwarded_for: &str, username: &str) -> Response {
    app.client
        .post(app.url("/api/v1/app/sessions"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": username, "password": "guess", "device_name": "test"}))
        .send()
        .await
        .unwrap()
}

fn retry_after(response: &Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Asserts a 429 `rate_limited` with a Retry-After; returns its seconds.
async fn assert_limited(response: Response) -> u64 {
    let seconds = retry_after(&response);
    assert!(seconds >= 1, "Retry-After {seconds}");
    assert_error(response, 429, ErrorCode::RateLimited).await;
    seconds
}

#[tokio::test]
async fn an_account_is_locked_after_its_burst_of_wrong_passwords() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--account-sign-in-rate",
            "1",
            "--account-sign-in-burst",
            "3",
        ],
    )
    .await;
    for _ in 0..3 {
        let wrong = attempt(&app, "alice", "guess").await;
        assert_error(wrong, 401, ErrorCode::InvalidCredentials).await;
    }
    let seconds = assert_limited(attempt(&app, "alice", "guess").await).await;
    assert!((30..=180).contains(&seconds), "Retry-After {seconds}");
    // Locked means locked: even the right password waits.
    assert_limited(attempt(&app, "alice", "demo").await).await;
    // The same name spelled differently shares the budget.
    assert_limited(attempt(&app, " ALICE ", "demo").await).await;
    // Other accounts are not affected.
    assert_eq!(
        attempt(&app, "bob", "demo").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn only_failed_attempts_count_toward_the_lockout() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--account-sign-in-rate",
            "1",
            "--account-sign-in-burst",
            "2",
            "--sign-in-rate",
            "1",
            "--sign-in-burst",
            "2",
        ],
    )
    .await;
    for _ in 0..5 {
        app.sign_in("alice").await;
    }
    for _ in 0..2 {
        let wrong = attempt(&app, "alice", "guess").await;
        assert_error(wrong, 401, ErrorCode::InvalidCredentials).await;
    }
    assert_limited(attempt(&app, "alice", "guess").await).await;
}

#[tokio::test]
async fn hammering_a_locked_account_pushes_the_retry_further_out() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--account-sign-in-rate",
            "1",
            "--account-sign-in-burst",
            "2",
        ],
    )
    .await;
    for _ in 0..2 {
        assert_eq!(
            attempt(&app, "alice", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let first = assert_limited(attempt(&app, "alice", "guess").await).await;
    let second = assert_limited(attempt(&app, "alice", "guess").await).await;
    assert!(second > first, "Retry-After {second} after {first}");
}

#[tokio::test]
async fn a_guesser_locks_out_only_themselves_not_the_owner_elsewhere() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--trust-proxy",
            "--account-sign-in-rate",
            "1",
            "--account-sign-in-burst",
            "2",
        ],
    )
    .await;
    for _ in 0..2 {
        let response = attempt_from(&app, "203.0.113.1", "alice").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(attempt_from(&app, "203.0.113.1", "alice").await).await;
    // Alice, on her own network, still signs in.
    let owner = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("x-forwarded-for", "198.51.100.7")
        .json(&json!({"username": "alice", "password": "demo", "device_name": "test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(owner.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn the_account_wide_budget_holds_across_client_addresses() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--trust-proxy",
            "--account-wide-sign-in-rate",
            "1",
            "--account-wide-sign-in-burst",
            "3",
        ],
    )
    .await;
    for n in 1..=3 {
        let response = attempt_from(&app, &format!("203.0.113.{n}"), "alice").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    assert_limited(attempt_from(&app, "198.51.100.7", "alice").await).await;
}

#[tokio::test]
async fn tries_against_a_locked_account_spend_the_clients_budget() {
    // 45 wrong passwords on one account from one address: the address is
    // locked out of that account after 3, and every further try costs its
    // own budget, so it cannot go on to other accounts.
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--trust-proxy",
            "--sign-in-rate",
            "1",
            "--sign-in-burst",
            "20",
            "--account-sign-in-rate",
            "1",
            "--account-sign-in-burst",
            "3",
        ],
    )
    .await;
    for _ in 0..45 {
        attempt_from(&app, "203.0.113.1", "alice").await;
    }
    assert_limited(attempt_from(&app, "203.0.113.1", "bob").await).await;
    // Another address still has its budget.
    let other = attempt_from(&app, "203.0.113.2", "bob").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn unknown_accounts_answer_and_lock_exactly_like_real_ones() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--account-sign-in-rate",
            "1",
            "--account-sign-in-burst",
            "2",
        ],
    )
    .await;
    let mut bodies = Vec::new();
    for username in ["alice", "nobody"] {
        for _ in 0..2 {
            let response = attempt(&app, username, "guess").await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            bodies.push(response.json::<ApiError>().await.unwrap());
        }
        let locked = attempt(&app, username, "guess").await;
        assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
        let body: ApiError = locked.json().await.unwrap();
        assert_eq!(body.error, ErrorCode::RateLimited);
        // No "unknown user" / "wrong password" distinction anywhere.
        assert!(!body.message.contains(username), "{}", body.message);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "answers differ: {bodies:?}"
    );
    assert_eq!(bodies[0].error, ErrorCode::InvalidCredentials);
}

#[tokio::test]
async fn a_client_past_its_budget_is_refused_on_every_account() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--trust-proxy",
            "--sign-in-rate",
            "1",
            "--sign-in-burst",
            "2",
        ],
    )
    .await;
    for username in ["alice", "bob"] {
        let response = attempt_from(&app, "203.0.113.1", username).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    // A third account, even a real one with the right password: refused.
    let spraying = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("x-forwarded-for", "203.0.113.1")
        .json(&json!({"username": "alice", "password": "demo", "device_name": "test"}))
        .send()
        .await
        .unwrap();
    assert_limited(spraying).await;
    // Prepending addresses does not escape: the proxy's entry counts.
    assert_limited(attempt_from(&app, "192.0.2.50, 203.0.113.1", "carol").await).await;
    // Another client behind the same proxy has its own budget.
    let other = attempt_from(&app, "203.0.113.2", "carol").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_trust_proxy_forwarded_for_buys_no_new_client_budget() {
    let app = spawn_app_with(Db::Sqlite, &["--sign-in-rate", "1", "--sign-in-burst", "1"]).await;
    let first = attempt_from(&app, "203.0.113.1", "alice").await;
    assert_eq!(first.status(), StatusCode::UNAUTHORIZED);
    assert_limited(attempt_from(&app, "203.0.113.2", "bob").await).await;
}

#[tokio::test]
async fn zero_rates_turn_the_sign_in_limits_off() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--sign-in-rate",
            "0",
            "--sign-in-burst",
            "1",
            "--account-sign-in-rate",
            "0",
            "--account-sign-in-burst",
            "1",
        ],
    )
    .await;
    for _ in 0..4 {
        assert_eq!(
            attempt(&app, "alice", "guess").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt(&app, "alice", "demo").await.status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn an_app_session_past_its_scan_budget_gets_429() {
    let app = spawn_app_with(Db::Sqlite, &["--scan-rate", "1", "--scan-burst", "2"]).await;
    let alice = app.sign_in("alice").await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.app_call(&alice, &id, "confirm").await.status(),
        StatusCode::OK
    );
    let second = app.create().await;
    let other = second.id.to_string();
    assert_limited(app.app_call(&alice, &other, "scan").await).await;
    assert_limited(app.app_call(&alice, &other, "cancel").await).await;
    // The refused scan did not touch the ticket.
    assert_eq!(app.status(&second).await.version, 1);
    // Another session (of the same user) has its own budget.
    let alice_tablet = app.sign_in("alice").await;
    assert_eq!(
        app.app_call(&alice_tablet, &other, "scan").await.status(),
        StatusCode::OK
    );
}
