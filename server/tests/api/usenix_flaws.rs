//! The six flaws the USENIX Security 2025 study of QR-code login found
//! across top sites, each as a test that fails if the flaw were present:
//! unbound session, reusable QR, predictable id, client-chosen id, weak
//! app-token validation, and data leakage.

use std::collections::HashSet;
use std::io::Read as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrlogin_core::{CreateTicketResponse, ErrorCode, ExchangeResponse, TicketStatus};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Db, TestApp, assert_error, spawn_app, spawn_app_with};

/// `method` on `/api/v1/qr/{id}{suffix}` with `bearer` (or none).
async fn web_call(
    app: &TestApp,
    method: Method,
    id: &str,
    suffix: &str,
    bearer: Option<&str>,
) -> reqwest::Response {
    let request = app
        .client
        .request(method, app.url(&format!("/api/v1/qr/{id}{suffix}")));
    let request = match bearer {
        Some(bearer) => request.bearer_auth(bearer),
        None => request,
    };
    request.send().await.unwrap()
}

// ---- 1. Unbound session -------------------------------------------------

#[tokio::test]
async fn unbound_session_a_ticket_id_alone_never_yields_a_token() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    let other_browser = app.create().await;
    let alice = app.sign_in("alice").await;
    let id = ticket.id.to_string();
    // Whoever saw the QR (the id) but does not hold this browser's poll
    // secret gets nothing: no secret, the id itself, another browser's
    // secret, the confirming user's app token.
    for bearer in [
        None,
        Some(id.as_str()),
        Some(other_browser.poll_secret.expose()),
        Some(alice.as_str()),
    ] {
        let exchange = web_call(&app, Method::POST, &id, "/exchange", bearer).await;
        assert_error(exchange, 401, ErrorCode::Unauthorized).await;
        let status = web_call(&app, Method::GET, &id, "", bearer).await;
        assert_error(status, 401, ErrorCode::Unauthorized).await;
        let events = web_call(&app, Method::GET, &id, "/events", bearer).await;
        assert_error(events, 401, ErrorCode::Unauthorized).await;
    }
    // Nothing was consumed: the browser that created the ticket gets it.
    let response = app.exchange(&ticket).await;
    assert_eq!(response.status(), StatusCode::OK);
    let token: ExchangeResponse = response.json().await.unwrap();
    assert_eq!(token.user.username, "alice");
}

// ---- 2. Reusable QR -----------------------------------------------------

#[tokio::test]
async fn reusable_qr_a_consumed_ticket_cannot_be_scanned_confirmed_or_exchanged_again() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    let id = ticket.id.to_string();
    assert_eq!(app.exchange(&ticket).await.status(), StatusCode::OK);
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    for token in [&alice, &bob] {
        for action in ["scan", "confirm"] {
            let again = app.app_call(token, &id, action).await;
            assert_eq!(
                again.status(),
                StatusCode::CONFLICT,
                "{action} after consume"
            );
        }
    }
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::AlreadyConsumed).await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Consumed);
}

#[tokio::test]
async fn reusable_qr_a_cancelled_ticket_stays_cancelled() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    // Cancelled by the app user, and aborted by the page.
    let by_user = app.create().await;
    let id = by_user.id.to_string();
    assert_eq!(app.app_call(&alice, &id, "scan").await.status(), 200);
    assert_eq!(app.app_call(&alice, &id, "cancel").await.status(), 200);
    let by_page = app.create().await;
    let aborted = app.page_call(Method::DELETE, &by_page, "").await;
    assert_eq!(aborted.status(), StatusCode::NO_CONTENT);
    for ticket in [&by_user, &by_page] {
        let id = ticket.id.to_string();
        for token in [&alice, &bob] {
            for action in ["scan", "confirm"] {
                let again = app.app_call(token, &id, action).await;
                assert_error(again, 409, ErrorCode::Cancelled).await;
            }
        }
        assert_error(app.exchange(ticket).await, 409, ErrorCode::Cancelled).await;
        assert_eq!(app.status(ticket).await.status, TicketStatus::Cancelled);
    }
}

#[tokio::test]
async fn reusable_qr_an_expired_ticket_cannot_be_scanned_confirmed_or_exchanged() {
    let app = spawn_app_with(Db::Sqlite, &["--confirmed-lifetime", "300ms"]).await;
    let ticket = app.confirmed_ticket().await;
    let id = ticket.id.to_string();
    // Wait for the expiry through the API (a long-poll), not a sleep.
    let waited = app
        .page_call(Method::GET, &ticket, "?after=3&wait=10")
        .await;
    let view: qrlogin_core::StatusView = waited.json().await.unwrap();
    assert_eq!(view.status, TicketStatus::Expired);
    let alice = app.sign_in("alice").await;
    for action in ["scan", "confirm"] {
        let again = app.app_call(&alice, &id, action).await;
        assert_error(again, 410, ErrorCode::Expired).await;
    }
    assert_error(app.exchange(&ticket).await, 410, ErrorCode::Expired).await;
}

// ---- 3. Predictable id ----------------------------------------------------

#[tokio::test]
async fn predictable_id_a_thousand_ids_are_distinct_unstructured_128_bit_values() {
    const N: usize = 1000;
    let app = spawn_app_with(Db::Sqlite, &["--create-rate", "0"]).await;
    let mut ids = Vec::with_capacity(N);
    let mut secrets = HashSet::new();
    for _ in 0..N {
        let ticket = app.create().await;
        let text = ticket.id.to_string();
        assert_eq!(text.len(), 22, "{text}");
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{text}"
        );
        let bytes: [u8; 16] = URL_SAFE_NO_PAD.decode(&text).unwrap().try_into().unwrap();
        ids.push(u128::from_be_bytes(bytes));
        let secret = ticket.poll_secret.expose().to_string();
        assert_eq!(URL_SAFE_NO_PAD.decode(&secret).unwrap().len(), 32);
        secrets.insert(secret);
    }
    assert_eq!(ids.iter().collect::<HashSet<_>>().len(), N, "repeated ids");
    assert_eq!(secrets.len(), N, "repeated poll secrets");
    // No counter or timestamp inside: consecutive ids share no long prefix
    // (chance for random ids: about 1000 / 2^32) ...
    for pair in ids.windows(2) {
        assert!(
            (pair[0] ^ pair[1]).leading_zeros() < 32,
            "{:032x} then {:032x}",
            pair[0],
            pair[1]
        );
    }
    // ... and every one of the 128 bit positions is set in about half of the
    // ids (expected 500, standard deviation about 16; bounds at 9 sigma).
    for bit in 0..128 {
        let ones = ids.iter().filter(|id| (*id >> bit) & 1 == 1).count();
        assert!(
            (350..=650).contains(&ones),
            "bit {bit} set in {ones} of {N}"
        );
    }
}

// ---- 4. Client-chosen id ------------------------------------------------

#[tokio::test]
async fn client_chosen_id_the_server_ignores_ids_and_secrets_a_client_sends() {
    let app = spawn_app().await;
    let chosen_id = URL_SAFE_NO_PAD.encode([7u8; 16]);
    let chosen_secret = URL_SAFE_NO_PAD.encode([9u8; 32]);
    let response = app
        .client
        .post(app.url(&format!(
            "/api/v1/qr?id={chosen_id}&poll_secret={chosen_secret}"
        )))
        .header("x-ticket-id", &chosen_id)
        .bearer_auth(&chosen_secret)
        .json(&json!({"id": chosen_id, "poll_secret": chosen_secret}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: CreateTicketResponse = response.json().await.unwrap();
    assert_ne!(created.id.to_string(), chosen_id);
    assert_ne!(created.poll_secret.expose(), chosen_secret);
    assert!(!created.qr_url.contains(&chosen_id));
    // No ticket exists under the chosen id, for the page or the app.
    let planted = web_call(&app, Method::GET, &chosen_id, "", Some(&chosen_secret)).await;
    assert_error(planted, 404, ErrorCode::NotFound).await;
    let alice = app.sign_in("alice").await;
    let scan = app.app_call(&alice, &chosen_id, "scan").await;
    assert_error(scan, 404, ErrorCode::NotFound).await;
    // The chosen secret does not open the real ticket either.
    let id = created.id.to_string();
    let hijack = web_call(&app, Method::GET, &id, "", Some(&chosen_secret)).await;
    assert_error(hijack, 401, ErrorCode::Unauthorized).await;
}

// ---- 5. Weak app-token validation ----------------------------------------

/// `token` with its last character changed to another base64url one.
fn tampered(token: &str) -> String {
    let mut chars: Vec<char> = token.chars().collect();
    let last = chars.len() - 1;
    chars[last] = if chars[last] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

#[tokio::test]
async fn weak_token_validation_every_forged_or_dead_app_token_is_refused() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let revoked = app.sign_in("alice").await;
    let out = app
        .client
        .delete(app.url("/api/v1/app/sessions/current"))
        .bearer_auth(&revoked)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), StatusCode::NO_CONTENT);
    let jwt = {
        let ticket = app.confirmed_ticket().await;
        let body: ExchangeResponse = app.exchange(&ticket).await.json().await.unwrap();
        body.access_token
    };
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    let forged = [
        tampered(&alice),
        alice[..alice.len() - 1].to_string(),
        format!("{alice}A"),
        alice.to_uppercase(),
        "A".repeat(alice.len()),
        revoked.clone(),
        jwt,
        ticket.poll_secret.expose().to_string(),
        id.clone(),
    ];
    for token in &forged {
        for action in ["scan", "confirm", "cancel"] {
            let refused = app.app_call(token, &id, action).await;
            assert_error(refused, 401, ErrorCode::Unauthorized).await;
        }
        let me = app
            .client
            .get(app.url("/api/v1/app/me"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_error(me, 401, ErrorCode::Unauthorized).await;
    }
    assert_eq!(app.status(&ticket).await.version, 1, "nothing happened");
    // An app token is not a poll secret either.
    for (method, suffix) in [
        (Method::GET, ""),
        (Method::GET, "/events"),
        (Method::POST, "/exchange"),
        (Method::DELETE, ""),
    ] {
        let refused = web_call(&app, method, &id, suffix, Some(&alice)).await;
        assert_error(refused, 401, ErrorCode::Unauthorized).await;
    }
}

#[tokio::test]
async fn weak_token_validation_another_users_token_cannot_act_on_a_scan() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let bob = app.sign_in("bob").await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    assert_eq!(app.app_call(&alice, &id, "scan").await.status(), 200);
    for action in ["confirm", "cancel"] {
        let refused = app.app_call(&bob, &id, action).await;
        assert_error(refused, 403, ErrorCode::NotYours).await;
    }
    let rescan = app.app_call(&bob, &id, "scan").await;
    assert_error(rescan, 409, ErrorCode::AlreadyScanned).await;
    let view = app.status(&ticket).await;
    assert_eq!(view.status, TicketStatus::Scanned);
    assert_eq!(view.user.unwrap().display_name, "Alice Example");
}

// ---- 6. Data leakage ------------------------------------------------------

/// Asserts a raw StatusView JSON shows the user as display name and
/// avatar only, and nothing about the account or the requester.
fn assert_no_leak(view: &Value, forbidden: &[&str]) {
    let keys: HashSet<&str> = view
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let allowed: HashSet<&str> = [
        "id",
        "status",
        "version",
        "expires_at",
        "user",
        "verification_code",
        "reason",
    ]
    .into();
    assert!(keys.is_subset(&allowed), "StatusView keys {keys:?}");
    if let Some(user) = view.get("user").filter(|u| !u.is_null()) {
        let user_keys: HashSet<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(user_keys, ["display_name", "avatar_url"].into());
    }
    let text = view.to_string();
    for secret in forbidden {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
}

/// The raw `data:` payloads of the event stream until its first event
/// with `status`.
async fn event_payloads_until(mut sse: reqwest::Response, status: &str) -> Vec<Value> {
    let mut parser = qrlogin_testkit::sse::EventParser::new();
    let mut payloads = Vec::new();
    loop {
        let chunk = tokio::time::timeout(Duration::from_secs(10), sse.chunk())
            .await
            .expect("an event within 10 s")
            .unwrap()
            .expect("the stream ended early");
        for event in parser.push(&chunk) {
            let view: Value = serde_json::from_str(&event.data).unwrap();
            let done = view["status"] == status;
            payloads.push(view);
            if done {
                return payloads;
            }
        }
    }
}

#[tokio::test]
async fn data_leakage_the_page_sees_only_a_display_name_and_an_avatar() {
    let app = spawn_app_with(Db::Sqlite, &["--trust-proxy", "--verification-code"]).await;
    let ticket: CreateTicketResponse = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("x-forwarded-for", "203.0.113.77")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = ticket.id.to_string();
    let sign_in = app
        .post_session(
            json!({"username": "alice", "password": "demo", "device_name": "Alice's phone"}),
        )
        .await;
    let signed_in: qrlogin_core::SignInResponse = sign_in.json().await.unwrap();
    let alice = signed_in.token.expose().to_string();
    let user_id = signed_in.user.id.clone();
    assert!(
        user_id.len() >= 8,
        "an id long enough to search for: {user_id}"
    );
    // The page listens from the start, before anyone scans.
    let sse = app.page_call(Method::GET, &ticket, "/events").await;
    assert_eq!(sse.status(), StatusCode::OK);
    // The account's id and name, the app's device and token, and the
    // requester's own address and user agent (the page knows them, but a
    // relay must not be able to read them back) never appear before the
    // exchange — not even inside the avatar's URL.
    let forbidden = [
        user_id.as_str(),
        "\"alice\"",
        "username",
        "email",
        "Alice's phone",
        alice.as_str(),
        "203.0.113.77",
        "Firefox",
        "requester",
        "/avatars/",
    ];
    let scan: qrlogin_core::ScanResponse = app
        .app_call(&alice, &id, "scan")
        .await
        .json()
        .await
        .unwrap();
    let scanned: Value = app
        .page_call(Method::GET, &ticket, "")
        .await
        .json()
        .await
        .unwrap();
    assert_no_leak(&scanned, &forbidden);
    let avatar = scanned["user"]["avatar_url"].as_str().unwrap();
    assert!(
        avatar.starts_with("data:image/svg+xml;base64,"),
        "an inline initials image, not a URL: {avatar}"
    );
    let code = scanned["verification_code"].as_str().unwrap();
    assert!(scan.verification_choices.unwrap().iter().any(|c| c == code));
    let confirm = app
        .client
        .post(app.url(&format!("/api/v1/qr/{id}/confirm")))
        .bearer_auth(&alice)
        .json(&json!({"verification_code": code}))
        .send()
        .await
        .unwrap();
    assert_eq!(confirm.status(), StatusCode::OK);
    let confirmed: Value = app
        .page_call(Method::GET, &ticket, "?after=2&wait=5")
        .await
        .json()
        .await
        .unwrap();
    assert_no_leak(&confirmed, &forbidden);
    // Every event the stream carried: pending, scanned, confirmed.
    let events = event_payloads_until(sse, "confirmed").await;
    assert_eq!(events.len(), 3, "{events:?}");
    for view in &events {
        assert_no_leak(view, &forbidden);
    }
    // The exchange, once the page holds the credential, names the user.
    let exchanged: ExchangeResponse = app.exchange(&ticket).await.json().await.unwrap();
    assert_eq!(exchanged.user.id, user_id);
}

#[tokio::test]
async fn data_leakage_errors_reveal_nothing_internal() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let responses = [
        web_call(&app, Method::GET, "not-an-id", "", None).await,
        web_call(&app, Method::GET, &"A".repeat(22), "", Some("x")).await,
        web_call(&app, Method::GET, &ticket.id.to_string(), "", Some("x")).await,
        app.post_session(json!({"username": "alice", "password": "nope", "device_name": "x"}))
            .await,
        app.post_session(json!({"username": "nobody", "password": "nope", "device_name": "x"}))
            .await,
        app.client
            .post(app.url("/api/v1/app/sessions"))
            .header("content-type", "application/json")
            .body("{\"username\":")
            .send()
            .await
            .unwrap(),
    ];
    for response in responses {
        assert!(response.status().is_client_error(), "{}", response.status());
        let body: Value = response.json().await.unwrap();
        let keys: HashSet<&str> = body
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        assert_eq!(keys, ["error", "message"].into(), "{body}");
        let text = body.to_string().to_lowercase();
        for internal in [
            "sqlx", "sqlite", "postgres", "argon2", "panicked", "src/", ".rs:", "select ",
        ] {
            assert!(!text.contains(internal), "{internal} in {text}");
        }
    }
}

#[tokio::test]
async fn data_leakage_secrets_never_reach_a_url_or_a_log_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_qrlogin-server"))
        .args(["--demo", "--listen", "127.0.0.1:0"])
        .env(
            "QRLOGIN_DATABASE_URL",
            format!("sqlite://{}", dir.path().join("d.db").display()),
        )
        // Everything our code and tower-http log, including each request.
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let app = TestApp {
        base,
        client: reqwest::Client::new(),
        server: None,
        dir,
        clock: qrlogin_server::Clock::system(),
    };
    let ticket = app.create().await;
    let wrong_secret = URL_SAFE_NO_PAD.encode([1u8; 32]);
    web_call(
        &app,
        Method::GET,
        &ticket.id.to_string(),
        "",
        Some(&wrong_secret),
    )
    .await;
    let confirmed = app.confirmed_ticket().await;
    let response = app.exchange(&confirmed).await;
    let exchanged: ExchangeResponse = response.json().await.unwrap();
    let alice = app.sign_in("alice").await;
    // Every URL the page and the app were given or used.
    for url in [&ticket.qr_url, &confirmed.qr_url] {
        assert!(!url.contains(ticket.poll_secret.expose()));
        assert!(!url.contains(confirmed.poll_secret.expose()));
    }
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    child.wait().unwrap();
    // The requests were logged (with their paths) ...
    assert!(
        stderr.contains(&format!("/api/v1/qr/{}", confirmed.id)),
        "no request lines in the log:\n{stderr}"
    );
    // ... but no credential was.
    for secret in [
        ticket.poll_secret.expose(),
        confirmed.poll_secret.expose(),
        wrong_secret.as_str(),
        exchanged.access_token.as_str(),
        alice.as_str(),
    ] {
        assert!(
            !stderr.contains(secret),
            "a secret is in the log:\n{stderr}"
        );
    }
}
