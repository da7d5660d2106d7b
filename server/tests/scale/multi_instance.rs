//! Two instances, A and B, on different ports, sharing Redis and PostgreSQL:
//! a page waits on A while the app talks to B.

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use qrlogin_core::{StatusView, TicketStatus};
use reqwest::StatusCode;

use crate::{
    SHARED_REDIS, Server, ServerConfig, app_call, assert_json_error, create, exchange,
    fresh_database, http, next_event, open_events, sign_in, unique,
};

/// A generous bound: a change normally arrives within milliseconds; this
/// only catches a lost notification (which would otherwise wait for the
/// state's deadline).
const DELIVERY_BOUND: Duration = Duration::from_secs(5);

async fn two_instances() -> (tempfile::TempDir, Server, Server) {
    let dir = tempfile::tempdir().unwrap();
    let database = fresh_database().await;
    let config = ServerConfig::new(dir.path(), &database, SHARED_REDIS, &unique("multi"));
    let a = Server::start(&config).await;
    let b = Server::start(&config.another()).await;
    (dir, a, b)
}

#[tokio::test]
async fn a_page_waiting_on_a_sees_every_change_made_through_b() {
    let (_dir, a, b) = two_instances().await;
    let client = http();
    let ticket = create(&client, &a).await;
    let id = ticket.id.to_string();
    let mut events = open_events(&client, &a, &ticket, None).await;
    let (_, first) = next_event(&mut events, DELIVERY_BOUND).await;
    assert_eq!((first.status, first.version), (TicketStatus::Pending, 1));
    let long_poll = {
        let request = client
            .get(a.url(&format!("/api/v1/qr/{id}?after=2&wait=20")))
            .bearer_auth(ticket.poll_secret.expose());
        tokio::spawn(async move { request.send().await.unwrap() })
    };

    let alice = sign_in(&client, &b, "alice").await;
    let mut latencies = Vec::new();
    for (action, status) in [
        ("scan", TicketStatus::Scanned),
        ("confirm", TicketStatus::Confirmed),
    ] {
        let sent = Instant::now();
        assert_eq!(
            app_call(&client, &b, &alice, &id, action).await.status(),
            StatusCode::OK
        );
        let (arrived, view) = next_event(&mut events, DELIVERY_BOUND).await;
        assert_eq!(view.status, status);
        latencies.push((action, arrived.duration_since(sent)));
    }
    let polled: StatusView = long_poll.await.unwrap().json().await.unwrap();
    assert_eq!(
        (polled.status, polled.version),
        (TicketStatus::Confirmed, 3)
    );
    // Request sent through B → event read from A's stream (includes B's own
    // work on the request; see the report for measured numbers).
    eprintln!("cross-instance delivery latency: {latencies:?}");

    let response = exchange(&client, &a, &ticket).await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, last) = next_event(&mut events, DELIVERY_BOUND).await;
    assert_eq!(last.status, TicketStatus::Consumed);
}

#[tokio::test]
async fn fifty_concurrent_exchanges_over_two_instances_have_exactly_one_winner() {
    let (_dir, a, b) = two_instances().await;
    let client = http();
    let ticket = create(&client, &a).await;
    let id = ticket.id.to_string();
    let bob = sign_in(&client, &b, "bob").await;
    assert_eq!(
        app_call(&client, &b, &bob, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app_call(&client, &a, &bob, &id, "confirm").await.status(),
        StatusCode::OK
    );

    let attempts = (0..50).map(|n| {
        let server = if n % 2 == 0 { &a } else { &b };
        exchange(&client, server, &ticket)
    });
    let responses = join_all(attempts).await;
    let mut winners = 0;
    for response in responses {
        if response.status() == StatusCode::OK {
            winners += 1;
        } else {
            assert_json_error(response, 409, "already_consumed").await;
        }
    }
    assert_eq!(winners, 1, "exactly one exchange may succeed");
}

#[tokio::test]
async fn an_app_session_made_on_one_instance_works_on_the_other() {
    let (_dir, a, b) = two_instances().await;
    let client = http();
    let token = sign_in(&client, &a, "alice").await;
    let me = client
        .get(b.url("/api/v1/app/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    let signed_out = client
        .delete(b.url("/api/v1/app/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    let me = client
        .get(a.url("/api/v1/app/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
}

/// The session cache's promise: an app session signed out through one
/// instance is refused by every other within a second, even one that had
/// just looked it up (and so holds it in its cache).
#[tokio::test]
async fn a_session_signed_out_on_b_is_refused_by_a_within_a_second() {
    let (_dir, a, b) = two_instances().await;
    let client = http();
    let token = sign_in(&client, &a, "alice").await;
    let me_on_a = || {
        client
            .get(a.url("/api/v1/app/me"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(
        me_on_a().await.unwrap().status(),
        StatusCode::OK,
        "cached on A"
    );
    let signed_out = client
        .delete(b.url("/api/v1/app/sessions/current"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    let since = Instant::now();
    loop {
        // Judged by when the request left, not when its answer came back.
        let sent = since.elapsed();
        let status = me_on_a().await.unwrap().status();
        if status == StatusCode::UNAUTHORIZED {
            break;
        }
        assert_eq!(status, StatusCode::OK);
        assert!(
            sent < Duration::from_secs(1),
            "A still accepted the signed-out session {sent:?} after the sign-out"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
