//! The cap on open event streams and long-polls (`--max-streams-per-ip`,
//! `--max-streams`): over it, 429 `rate_limited` with `Retry-After` before
//! anything is streamed; a closed stream gives its place back.

use std::time::Duration;

use qrlogin_core::{CreateTicketResponse, ErrorCode};
use reqwest::{Method, Response, StatusCode};

use crate::{Db, TestApp, assert_error, spawn_app_with};

/// `GET /api/v1/qr/{id}{suffix}` with the poll secret, as if from `ip`
/// (the server trusts X-Forwarded-For in these tests).
async fn page_get_from(
    app: &TestApp,
    ticket: &CreateTicketResponse,
    suffix: &str,
    ip: &str,
) -> Response {
    app.client
        .get(app.url(&format!("/api/v1/qr/{}{suffix}", ticket.id)))
        .bearer_auth(ticket.poll_secret.expose())
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
}

/// Asserts a 429 refusal with a Retry-After header.
async fn assert_refused(response: Response) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
    assert!(
        retry_after.is_some_and(|s| s >= 1),
        "Retry-After: {retry_after:?}"
    );
    assert_error(response, 429, ErrorCode::RateLimited).await;
}

/// The `qrlogin_open_streams` gauge of `/metrics`.
async fn open_streams_metric(app: &TestApp) -> u64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("qrlogin_open_streams "))
        .expect("the gauge is exported")
        .parse()
        .unwrap()
}

/// Opens event streams from `ip` until one is accepted again (the server
/// notices a closed connection shortly after the client leaves).
async fn eventually_accepted(app: &TestApp, ticket: &CreateTicketResponse, ip: &str) -> Response {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let response = page_get_from(app, ticket, "/events", ip).await;
        if response.status() == StatusCode::OK {
            return response;
        }
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(
            tokio::time::Instant::now() < deadline,
            "the slot was never given back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_client_over_its_stream_cap_is_refused_until_it_closes_one() {
    let app = spawn_app_with(Db::Sqlite, &["--trust-proxy", "--max-streams-per-ip", "3"]).await;
    let ticket = app.create().await;
    let me = "203.0.113.5";
    let mut open = Vec::new();
    for _ in 0..3 {
        let stream = page_get_from(&app, &ticket, "/events", me).await;
        assert_eq!(stream.status(), StatusCode::OK);
        open.push(stream);
    }
    assert_eq!(open_streams_metric(&app).await, 3);
    assert_refused(page_get_from(&app, &ticket, "/events", me).await).await;
    assert_refused(page_get_from(&app, &ticket, "?after=1&wait=5", me).await).await;
    // A plain status call holds nothing and is never capped.
    let status = page_get_from(&app, &ticket, "", me).await;
    assert_eq!(status.status(), StatusCode::OK);
    // Another client has its own share.
    let other = page_get_from(&app, &ticket, "/events", "203.0.113.6").await;
    assert_eq!(other.status(), StatusCode::OK);

    drop(open.pop());
    let again = eventually_accepted(&app, &ticket, me).await;
    drop(again);
    drop(open);
    drop(other);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_streams_metric(&app).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "streams still counted"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn waiting_long_polls_count_and_give_their_place_back_when_answered() {
    let app = spawn_app_with(Db::Sqlite, &["--trust-proxy", "--max-streams-per-ip", "2"]).await;
    let ticket = app.create().await;
    let me = "203.0.113.5";
    let mut polls = Vec::new();
    for _ in 0..2 {
        let app_client = app.client.clone();
        let url = app.url(&format!("/api/v1/qr/{}?after=1&wait=20", ticket.id));
        let secret = ticket.poll_secret.expose().to_string();
        polls.push(tokio::spawn(async move {
            app_client
                .get(url)
                .bearer_auth(secret)
                .header("x-forwarded-for", me)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    // Both long-polls are waiting once the cap is reached.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while open_streams_metric(&app).await < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "long-polls not counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_refused(page_get_from(&app, &ticket, "/events", me).await).await;
    // A change answers both polls; their places are free again.
    let alice = app.sign_in("alice").await;
    let scan = app.app_call(&alice, &ticket.id.to_string(), "scan").await;
    assert_eq!(scan.status(), StatusCode::OK);
    for poll in polls {
        assert_eq!(poll.await.unwrap(), StatusCode::OK);
    }
    let stream = page_get_from(&app, &ticket, "/events", me).await;
    assert_eq!(stream.status(), StatusCode::OK);
}

#[tokio::test]
async fn ipv6_clients_share_their_64_and_the_total_caps_everyone() {
    let app = spawn_app_with(
        Db::Sqlite,
        &[
            "--trust-proxy",
            "--max-streams-per-ip",
            "1",
            "--max-streams",
            "3",
        ],
    )
    .await;
    let ticket = app.create().await;
    let first = page_get_from(&app, &ticket, "/events", "2001:db8:1:2::1").await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_refused(page_get_from(&app, &ticket, "/events", "2001:db8:1:2::99").await).await;
    let mut open = vec![first];
    for ip in ["2001:db8:1:3::1", "198.51.100.1"] {
        let stream = page_get_from(&app, &ticket, "/events", ip).await;
        assert_eq!(stream.status(), StatusCode::OK, "{ip}");
        open.push(stream);
    }
    // Three open in total: a fourth client is refused too.
    assert_refused(page_get_from(&app, &ticket, "/events", "198.51.100.2").await).await;
}

#[tokio::test]
async fn zero_switches_the_caps_off() {
    let app = spawn_app_with(
        Db::Sqlite,
        &["--max-streams-per-ip", "0", "--max-streams", "0"],
    )
    .await;
    let ticket = app.create().await;
    let mut open = Vec::new();
    for _ in 0..40 {
        let stream = app.page_call(Method::GET, &ticket, "/events").await;
        assert_eq!(stream.status(), StatusCode::OK);
        open.push(stream);
    }
}

#[tokio::test]
async fn requests_without_the_poll_secret_take_no_place() {
    let app = spawn_app_with(Db::Sqlite, &["--max-streams-per-ip", "1"]).await;
    let ticket = app.create().await;
    for _ in 0..5 {
        let refused = app
            .client
            .get(app.url(&format!("/api/v1/qr/{}/events", ticket.id)))
            .bearer_auth("wrong")
            .send()
            .await
            .unwrap();
        assert_error(refused, 401, ErrorCode::Unauthorized).await;
    }
    let stream = app.page_call(Method::GET, &ticket, "/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
}
