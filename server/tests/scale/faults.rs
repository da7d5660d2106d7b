//! Faults: an instance restarts or is killed mid-flow; Redis or PostgreSQL
//! becomes unreachable and comes back.

use std::time::{Duration, Instant};

use qrlogin_core::{StatusView, TicketStatus};
use reqwest::StatusCode;

use crate::{
    OwnRedis, PgProxy, SHARED_REDIS, Server, ServerConfig, app_call, assert_json_error, create,
    exchange, fresh_database, http, next_event, open_events, sign_in, status, unique,
    wait_for_health,
};

/// How long a request may take while a dependency is down: the Redis
/// operation timeout is 2 s and the database pool's acquire timeout 5 s.
const FAILURE_BOUND: Duration = Duration::from_secs(12);
const EVENT_BOUND: Duration = Duration::from_secs(5);

#[tokio::test]
async fn a_ticket_and_its_state_survive_an_instance_restart() {
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig::new(
        dir.path(),
        &fresh_database().await,
        SHARED_REDIS,
        &unique("restart"),
    );
    let mut server = Server::start(&config).await;
    let client = http();
    let ticket = create(&client, &server).await;
    let id = ticket.id.to_string();
    let alice = sign_in(&client, &server, "alice").await;
    assert_eq!(
        app_call(&client, &server, &alice, &id, "scan")
            .await
            .status(),
        StatusCode::OK
    );

    server.kill_hard();
    let server = Server::start(&config).await;

    // The page's SDK reconnects its stream, resuming after the version it saw.
    let mut events = open_events(&client, &server, &ticket, Some(1)).await;
    let (_, seen) = next_event(&mut events, EVENT_BOUND).await;
    assert_eq!((seen.status, seen.version), (TicketStatus::Scanned, 2));
    // The app's session lives in PostgreSQL: it survives too.
    assert_eq!(
        app_call(&client, &server, &alice, &id, "confirm")
            .await
            .status(),
        StatusCode::OK
    );
    let (_, seen) = next_event(&mut events, EVENT_BOUND).await;
    assert_eq!(seen.status, TicketStatus::Confirmed);
    assert_eq!(
        exchange(&client, &server, &ticket).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn kill_9_during_confirm_leaves_no_half_changed_ticket() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = unique("kill9");
    let config = ServerConfig::new(dir.path(), &fresh_database().await, SHARED_REDIS, &prefix);
    let client = http();
    let mut redis = redis::Client::open(SHARED_REDIS)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for round in 0..4u64 {
        let mut server = Server::start(&config).await;
        let ticket = create(&client, &server).await;
        let id = ticket.id.to_string();
        let bob = sign_in(&client, &server, "bob").await;
        assert_eq!(
            app_call(&client, &server, &bob, &id, "scan").await.status(),
            StatusCode::OK
        );
        // Confirm, and kill the process while the request is in flight
        // (a little later each round).
        let confirm = {
            let request = client
                .post(server.url(&format!("/api/v1/qr/{id}/confirm")))
                .bearer_auth(&bob);
            tokio::spawn(async move { request.send().await })
        };
        tokio::time::sleep(Duration::from_micros(500 * round)).await;
        server.kill_hard();
        let _ = confirm.await;

        // Redis holds either the scanned or the confirmed ticket, whole.
        let key = format!("{prefix}:ticket:{{{id}}}");
        let (version, json): (u64, String) = redis::cmd("HMGET")
            .arg(&key)
            .arg("v")
            .arg("t")
            .query_async(&mut redis)
            .await
            .unwrap();
        let stored: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(
            stored["version"].as_u64(),
            Some(version),
            "version field and body disagree"
        );
        let server = Server::start(&config).await;
        let view: StatusView = status(&client, &server, &ticket)
            .await
            .json()
            .await
            .unwrap();
        match (view.status, view.version) {
            (TicketStatus::Scanned, 2) | (TicketStatus::Confirmed, 3) => {}
            other => panic!("half-changed ticket after kill -9: {other:?}"),
        }
        // Either way the sign-in can finish, exactly once.
        assert_eq!(
            app_call(&client, &server, &bob, &id, "confirm")
                .await
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            exchange(&client, &server, &ticket).await.status(),
            StatusCode::OK
        );
        assert_json_error(
            exchange(&client, &server, &ticket).await,
            409,
            "already_consumed",
        )
        .await;
    }
}

/// On the default SQLite (WAL, `synchronous = NORMAL`) a process crash
/// loses no committed write: every sign-in whose token the page received
/// before a `kill -9` is still listed, and revocable, after the restart.
#[tokio::test]
async fn sign_ins_handed_out_before_a_kill_9_are_kept_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite://{}", dir.path().join("crash.db").display());
    let config = ServerConfig::new(dir.path(), &database, SHARED_REDIS, &unique("crash"));
    let mut server = Server::start(&config).await;
    let client = http();
    let alice = sign_in(&client, &server, "alice").await;
    let flows = (0..12).map(|_| async {
        let ticket = create(&client, &server).await;
        let id = ticket.id.to_string();
        for action in ["scan", "confirm"] {
            let response = app_call(&client, &server, &alice, &id, action).await;
            assert_eq!(response.status(), StatusCode::OK);
        }
        assert_eq!(
            exchange(&client, &server, &ticket).await.status(),
            StatusCode::OK
        );
        id
    });
    let handed_out = futures_util::future::join_all(flows).await;
    server.kill_hard();

    let server = Server::start(&config).await;
    let alice = sign_in(&client, &server, "alice").await;
    let listed: qrlogin_core::SignInList = client
        .get(server.url("/api/v1/app/sign-ins"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for id in &handed_out {
        assert!(
            listed.sign_ins.iter().any(|record| &record.id == id),
            "the sign-in {id} was lost in the crash"
        );
    }
}

#[tokio::test]
async fn redis_down_answers_503_promptly_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let mut own_redis = OwnRedis::start().await;
    let config = ServerConfig::new(
        dir.path(),
        &fresh_database().await,
        &own_redis.url(),
        "qrlogin",
    );
    let server = Server::start(&config).await;
    let client = http();
    wait_for_health(&client, &server, StatusCode::OK, Duration::from_secs(10)).await;
    let ticket = create(&client, &server).await;

    own_redis.kill();
    let started = Instant::now();
    let response = client.post(server.url("/api/v1/qr")).send().await.unwrap();
    let took = started.elapsed();
    assert_json_error(response, 503, "service_unavailable").await;
    assert!(took < FAILURE_BOUND, "503 took {took:?}");
    assert_json_error(
        status(&client, &server, &ticket).await,
        503,
        "service_unavailable",
    )
    .await;
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["ticket_store"], "unavailable", "{health}");
    assert_eq!(health["database"], "ok", "{health}");
    eprintln!("503 with Redis down after {took:?}");

    // Redis comes back (empty: it kept nothing). No restart of the server.
    own_redis.restart().await;
    let started = Instant::now();
    wait_for_health(&client, &server, StatusCode::OK, Duration::from_secs(15)).await;
    eprintln!("healthy again {:?} after Redis returned", started.elapsed());
    let ticket = create(&client, &server).await;
    let mut events = open_events(&client, &server, &ticket, None).await;
    next_event(&mut events, EVENT_BOUND).await;
    let alice = sign_in(&client, &server, "alice").await;
    let id = ticket.id.to_string();
    assert_eq!(
        app_call(&client, &server, &alice, &id, "scan")
            .await
            .status(),
        StatusCode::OK
    );
    let (_, seen) = next_event(&mut events, EVENT_BOUND).await;
    assert_eq!(
        seen.status,
        TicketStatus::Scanned,
        "notifications work again"
    );
}

#[tokio::test]
async fn postgres_down_answers_503_on_sign_in_and_recovers_by_itself() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = PgProxy::start().await;
    let database = proxy.url(&fresh_database().await);
    let config = ServerConfig::new(dir.path(), &database, SHARED_REDIS, &unique("pgdown"));
    let server = Server::start(&config).await;
    let client = http();
    sign_in(&client, &server, "alice").await;

    proxy.cut();
    let started = Instant::now();
    let response = client
        .post(server.url("/api/v1/app/sessions"))
        .json(&serde_json::json!({"username": "alice", "password": "demo", "device_name": "t"}))
        .send()
        .await
        .unwrap();
    let took = started.elapsed();
    assert_json_error(response, 503, "service_unavailable").await;
    assert!(took < FAILURE_BOUND, "503 took {took:?}");
    eprintln!("sign-in 503 with PostgreSQL down after {took:?}");
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);
    let health: serde_json::Value = health.json().await.unwrap();
    assert_eq!(health["database"], "unavailable", "{health}");
    // Tickets live in Redis: pages can still get a code.
    create(&client, &server).await;

    proxy.restore().await;
    wait_for_health(&client, &server, StatusCode::OK, Duration::from_secs(20)).await;
    sign_in(&client, &server, "alice").await;
}

#[tokio::test]
async fn a_redis_that_stops_answering_yields_503_within_the_timeout_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let own_redis = OwnRedis::start().await;
    let config = ServerConfig::new(
        dir.path(),
        &fresh_database().await,
        &own_redis.url(),
        "qrlogin",
    );
    let server = Server::start(&config).await;
    let client = http();
    wait_for_health(&client, &server, StatusCode::OK, Duration::from_secs(10)).await;
    let ticket = create(&client, &server).await;

    own_redis.freeze(true);
    let started = Instant::now();
    let response = status(&client, &server, &ticket).await;
    let took = started.elapsed();
    assert_json_error(response, 503, "service_unavailable").await;
    assert!(took < FAILURE_BOUND, "503 took {took:?}");
    eprintln!("503 with Redis frozen after {took:?}");
    for (what, request) in [
        ("create", client.post(server.url("/api/v1/qr"))),
        (
            "exchange",
            client
                .post(server.url(&format!("/api/v1/qr/{}/exchange", ticket.id)))
                .bearer_auth(ticket.poll_secret.expose()),
        ),
        (
            "abort",
            client
                .delete(server.url(&format!("/api/v1/qr/{}", ticket.id)))
                .bearer_auth(ticket.poll_secret.expose()),
        ),
    ] {
        let started = Instant::now();
        let response = request.send().await.unwrap();
        let took = started.elapsed();
        assert_json_error(response, 503, "service_unavailable").await;
        assert!(took < FAILURE_BOUND, "{what}: 503 took {took:?}");
    }
    let health = client.get(server.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::SERVICE_UNAVAILABLE);

    own_redis.freeze(false);
    wait_for_health(&client, &server, StatusCode::OK, Duration::from_secs(15)).await;
    let view: StatusView = status(&client, &server, &ticket)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        view.status,
        TicketStatus::Pending,
        "the ticket is still there"
    );
}

#[tokio::test]
async fn a_full_redis_refuses_new_codes_with_503_and_still_serves_reads() {
    use qrlogin_server::store::{RedisSettings, RedisStore, StoreError, TicketStore as _};
    let own_redis =
        OwnRedis::start_with(&["--maxmemory", "3mb", "--maxmemory-policy", "noeviction"]).await;
    let dir = tempfile::tempdir().unwrap();
    let config = ServerConfig {
        extra: vec!["--create-rate".into(), "0".into()],
        ..ServerConfig::new(
            dir.path(),
            &fresh_database().await,
            &own_redis.url(),
            "qrlogin",
        )
    };
    let server = Server::start(&config).await;
    let client = http();
    let first = create(&client, &server).await;

    let store = RedisStore::open(RedisSettings {
        prefix: "filler".into(),
        ..RedisSettings::new(own_redis.url(), Duration::from_secs(60))
    })
    .await
    .unwrap();
    let filler = |n: u32| {
        let mut id = [0u8; 16];
        id[..4].copy_from_slice(&n.to_le_bytes());
        qrlogin_core::Ticket::new(
            qrlogin_core::TicketId::from_random_bytes(id),
            qrlogin_core::PollSecret::from_random_bytes([1; 32]).hash(),
            qrlogin_core::RequesterInfo {
                ip: "192.0.2.1".parse().unwrap(),
                user_agent: "x".repeat(400),
                browser: "b".into(),
                os: "o".into(),
                created_at: time::OffsetDateTime::now_utc(),
            },
            qrlogin_core::Lifetimes::default(),
            time::OffsetDateTime::now_utc(),
        )
    };
    // Fill Redis until it refuses a write, then ask the server for a code.
    // Redis frees a little memory now and then (buffers), so a code may
    // still fit: fill again and retry a few times.
    let mut next = 0u32;
    let mut refused = None;
    for _ in 0..10 {
        loop {
            next += 1;
            assert!(next < 50_000, "Redis never reported that it is full");
            match store.insert(&filler(next)).await {
                Ok(()) => {}
                Err(StoreError::Full) => break,
                Err(other) => panic!("filling Redis: {other}"),
            }
        }
        let response = client.post(server.url("/api/v1/qr")).send().await.unwrap();
        if response.status() != StatusCode::CREATED {
            refused = Some(response);
            break;
        }
    }
    eprintln!("Redis with maxmemory 3mb full after {next} extra tickets");
    let refused = refused.expect("the server kept creating codes in a full Redis");
    assert_json_error(refused, 503, "service_unavailable").await;
    // Codes already shown can still be read (Redis refuses only writes; a
    // refused change is a 503 as well, never a half-written ticket).
    let view: StatusView = status(&client, &server, &first).await.json().await.unwrap();
    assert_eq!(view.status, TicketStatus::Pending);
}
