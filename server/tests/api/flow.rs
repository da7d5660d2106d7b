//! The whole sign-in, as the page, the app and a relying party see it.

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use qrlogin_core::{ErrorCode, ExchangeResponse, ScanResponse, StatusResponse, TicketStatus};
use reqwest::StatusCode;

use crate::{Db, assert_error, both_databases, read_events, spawn_app, spawn_app_with};

both_databases!(full_flow_signs_in_exactly_once);

async fn full_flow_signs_in_exactly_once(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let ticket = app.create().await;
    assert_eq!(ticket.status, TicketStatus::Pending);
    assert_eq!(ticket.version, 1);
    assert_eq!(ticket.qr_url, format!("{}/q/{}", app.base, ticket.id));
    assert!(ticket.qr_svg.starts_with("<?xml") || ticket.qr_svg.starts_with("<svg"));
    let id = ticket.id.to_string();

    // The page listens on SSE and on a long-poll at the same time.
    let sse = app
        .client
        .get(app.url(&format!("/api/v1/qr/{id}/events")))
        .bearer_auth(ticket.poll_secret.expose())
        .send()
        .await
        .unwrap();
    assert_eq!(sse.status(), StatusCode::OK);
    assert!(
        sse.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let events = tokio::spawn(read_events(sse, |v| v.status.is_final()));
    let long_poll = {
        let request = app
            .client
            .get(app.url(&format!("/api/v1/qr/{id}?after=1&wait=20")))
            .bearer_auth(ticket.poll_secret.expose());
        tokio::spawn(async move { request.send().await.unwrap() })
    };

    let alice = app.sign_in("alice").await;
    let scan = app.app_call(&alice, &id, "scan").await;
    assert_eq!(scan.status(), StatusCode::OK);
    let scan: ScanResponse = scan.json().await.unwrap();
    assert_eq!(scan.status, TicketStatus::Scanned);
    assert_eq!(scan.requester.browser, "Firefox 133");
    assert!(scan.requester.os.starts_with("Windows"));
    assert_eq!(scan.requester.ip.to_string(), "127.0.0.1");
    assert_eq!(scan.requester.user_agent, crate::FIREFOX_UA);

    let polled: qrlogin_core::StatusView = long_poll.await.unwrap().json().await.unwrap();
    assert_eq!(polled.status, TicketStatus::Scanned);
    assert_eq!(polled.version, 2);
    let user = polled.user.expect("scanned status shows the user");
    assert_eq!(user.display_name, "Alice Example");
    // Before the exchange the page gets the initials inline (no user id).
    let avatar = user.avatar_url.expect("an avatar url");
    let inline = avatar
        .strip_prefix("data:image/svg+xml;base64,")
        .expect("an inline initials image");
    let inline =
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, inline).unwrap();
    assert!(String::from_utf8(inline).unwrap().contains(">AE<"));

    let confirm = app.app_call(&alice, &id, "confirm").await;
    assert_eq!(confirm.status(), StatusCode::OK);
    let confirm: StatusResponse = confirm.json().await.unwrap();
    assert_eq!(confirm.status, TicketStatus::Confirmed);

    let exchange = app.exchange(&ticket).await;
    assert_eq!(exchange.status(), StatusCode::OK);
    let exchange: ExchangeResponse = exchange.json().await.unwrap();
    assert_eq!(exchange.token_type, "Bearer");
    assert_eq!(exchange.user.username, "alice");
    let avatar = exchange.user.avatar_url.clone().expect("an avatar url");
    let svg = app.client.get(&avatar).send().await.unwrap();
    assert_eq!(svg.status(), StatusCode::OK);
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains(">AE<"));
    assert_eq!(exchange.user.display_name, "Alice Example");

    // The JWT verifies against the published JWKS (independent verifier).
    let jwks: JwkSet = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = jsonwebtoken::decode_header(&exchange.access_token).unwrap();
    assert_eq!(header.alg, Algorithm::EdDSA);
    let kid = header.kid.expect("kid");
    let jwk = jwks.find(&kid).expect("the token's kid is in the JWKS");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[&app.base]);
    // A relying party checks the audience: the hosted page's own origin here.
    validation.set_audience(&[&app.base]);
    validation.set_required_spec_claims(&["exp", "iat", "sub", "iss", "aud"]);
    let claims = jsonwebtoken::decode::<serde_json::Value>(
        &exchange.access_token,
        &DecodingKey::from_jwk(jwk).unwrap(),
        &validation,
    )
    .unwrap()
    .claims;
    assert_eq!(claims["sub"], exchange.user.id);
    assert_eq!(claims["name"], "Alice Example");
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime as u64, exchange.expires_in);

    // Exactly once.
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::AlreadyConsumed).await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Consumed);

    // The SSE stream saw every step, in order, and ended at the final state.
    let seen = events.await.unwrap();
    let statuses: Vec<_> = seen.iter().map(|v| v.status).collect();
    assert_eq!(
        statuses,
        [
            TicketStatus::Pending,
            TicketStatus::Scanned,
            TicketStatus::Confirmed,
            TicketStatus::Consumed
        ]
    );
    assert_eq!(seen[1].user.as_ref().unwrap().display_name, "Alice Example");
    assert!(seen.windows(2).all(|w| w[0].version < w[1].version));
}

#[tokio::test]
async fn sse_resumes_after_last_event_id() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let alice = app.sign_in("alice").await;
    let id = ticket.id.to_string();
    app.app_call(&alice, &id, "scan").await;
    let sse = app
        .client
        .get(app.url(&format!("/api/v1/qr/{id}/events")))
        .bearer_auth(ticket.poll_secret.expose())
        .header("Last-Event-ID", "2")
        .send()
        .await
        .unwrap();
    let events = tokio::spawn(read_events(sse, |v| v.status.is_final()));
    app.app_call(&alice, &id, "cancel").await;
    let seen = events.await.unwrap();
    assert_eq!(seen.len(), 1, "only the change after version 2: {seen:?}");
    assert_eq!(seen[0].status, TicketStatus::Cancelled);
}

#[tokio::test]
async fn sse_of_a_final_ticket_sends_it_once_and_ends() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let response = app.page_call(reqwest::Method::DELETE, &ticket, "").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let sse = app
        .page_call(reqwest::Method::GET, &ticket, "/events")
        .await;
    let seen = read_events(sse, |_| false).await;
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, TicketStatus::Cancelled);
}

#[tokio::test]
async fn page_abort_cancels_the_ticket() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let response = app.page_call(reqwest::Method::DELETE, &ticket, "").await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Cancelled);
    let alice = app.sign_in("alice").await;
    let scan = app.app_call(&alice, &ticket.id.to_string(), "scan").await;
    assert_error(scan, 409, ErrorCode::Cancelled).await;
}

#[tokio::test]
async fn app_user_cancel_is_seen_by_the_page() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let bob = app.sign_in("bob").await;
    let id = ticket.id.to_string();
    app.app_call(&bob, &id, "scan").await;
    let cancel = app.app_call(&bob, &id, "cancel").await;
    assert_eq!(cancel.status(), StatusCode::OK);
    let body: StatusResponse = cancel.json().await.unwrap();
    assert_eq!(body.status, TicketStatus::Cancelled);
    let view = app.status(&ticket).await;
    assert_eq!(view.status, TicketStatus::Cancelled);
    assert!(view.user.is_none());
}

#[tokio::test]
async fn long_poll_returns_the_current_view_when_nothing_changes() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let response = app
        .page_call(reqwest::Method::GET, &ticket, "?after=1&wait=1")
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let view: qrlogin_core::StatusView = response.json().await.unwrap();
    assert_eq!(view.version, 1);
    assert_eq!(view.status, TicketStatus::Pending);
}

#[tokio::test]
async fn repeated_scan_and_confirm_by_the_same_user_are_idempotent() {
    let app = spawn_app().await;
    let ticket = app.create().await;
    let alice = app.sign_in("alice").await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.status(&ticket).await.version, 2);
    assert_eq!(
        app.app_call(&alice, &id, "confirm").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.app_call(&alice, &id, "confirm").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.status(&ticket).await.version, 3);
}

#[tokio::test]
async fn requester_ip_comes_from_x_forwarded_for_only_with_trust_proxy() {
    for (flags, expected) in [
        (&[][..], "127.0.0.1"),
        (&["--trust-proxy"][..], "203.0.113.9"),
    ] {
        let app = spawn_app_with(Db::Sqlite, flags).await;
        let response = app
            .client
            .post(app.url("/api/v1/qr"))
            .header("x-forwarded-for", "198.51.100.1, 203.0.113.9")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let ticket: qrlogin_core::CreateTicketResponse = response.json().await.unwrap();
        let alice = app.sign_in("alice").await;
        let scan: ScanResponse = app
            .app_call(&alice, &ticket.id.to_string(), "scan")
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(scan.requester.ip.to_string(), expected, "flags {flags:?}");
    }
}
