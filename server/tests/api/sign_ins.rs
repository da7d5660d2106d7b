//! QR sign-ins as the app sees them afterwards: recorded at the exchange,
//! listed, and revocable ("Was this you? — No"), which either cancels a
//! ticket the page has not collected yet or puts the web token on the
//! revocation list that `GET /api/v1/web/me` and relying parties check.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use qrlogin_core::{
    CancelReason, CreateTicketResponse, ErrorCode, ExchangeResponse, RevocationList, RevokeOutcome,
    RevokeResponse, SignInList, SignInResponse, TicketStatus, UserProfile,
};
use reqwest::StatusCode;
use serde_json::json;

use crate::{Db, TestApp, assert_error, both_databases, spawn_app, spawn_app_with};

both_databases!(
    a_session_signed_out_between_confirm_and_exchange_yields_no_token,
    qr_login_turned_off_between_confirm_and_exchange_yields_no_token,
    a_sign_in_is_recorded_with_the_requesters_context_at_the_exchange,
    revoking_an_exchanged_sign_in_revokes_its_web_token,
    revoking_before_the_exchange_cancels_the_ticket,
    revoke_racing_the_exchange_never_leaves_a_live_token,
    every_token_handed_out_is_already_in_the_users_sign_in_list,
    records_written_together_each_land_in_their_own_row,
);

const SAFARI_UA: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 \
    (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

/// Alice's app session on a device called "Pixel 8".
async fn alice_on_pixel(app: &TestApp) -> String {
    let response = app
        .post_session(json!({"username": "alice", "password": "demo", "device_name": "Pixel 8"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let body: SignInResponse = response.json().await.unwrap();
    body.token.expose().to_string()
}

/// A ticket scanned and confirmed with `token`.
async fn confirmed_by(app: &TestApp, token: &str) -> CreateTicketResponse {
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(token, &id, "scan").await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.app_call(token, &id, "confirm").await.status(),
        StatusCode::OK
    );
    ticket
}

async fn exchanged(app: &TestApp, ticket: &CreateTicketResponse) -> ExchangeResponse {
    let response = app.exchange(ticket).await;
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn sign_ins(app: &TestApp, token: &str) -> SignInList {
    let response = app
        .client
        .get(app.url("/api/v1/app/sign-ins"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

async fn revoke(app: &TestApp, token: &str, id: &str) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/app/sign-ins/{id}/revoke")))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

async fn revoked_as(app: &TestApp, token: &str, id: &str) -> RevokeOutcome {
    let response = revoke(app, token, id).await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: RevokeResponse = response.json().await.unwrap();
    body.outcome
}

async fn web_me(app: &TestApp, access_token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/api/v1/web/me"))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap()
}

async fn revocation_list(app: &TestApp) -> RevocationList {
    let response = app
        .client
        .get(app.url("/api/v1/web/revoked"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The claims of a JWT, read without verifying.
fn claims(jwt: &str) -> serde_json::Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn a_sign_in_is_recorded_with_the_requesters_context_at_the_exchange(db: Db) {
    let app = spawn_app_with(db, &["--trust-proxy"]).await;
    let alice = alice_on_pixel(&app).await;
    let bob = app.sign_in("bob").await;
    let response = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("user-agent", SAFARI_UA)
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let ticket: CreateTicketResponse = response.json().await.unwrap();
    let id = ticket.id.to_string();
    app.app_call(&alice, &id, "scan").await;
    app.app_call(&alice, &id, "confirm").await;
    assert!(
        sign_ins(&app, &alice).await.sign_ins.is_empty(),
        "not listed before the exchange"
    );

    let exchange = exchanged(&app, &ticket).await;
    let list = sign_ins(&app, &alice).await.sign_ins;
    assert_eq!(list.len(), 1);
    let record = &list[0];
    assert_eq!(record.id, id);
    assert_eq!(record.device_name, "Pixel 8");
    assert_eq!(record.requester.ip.to_string(), "203.0.113.9");
    assert_eq!(record.requester.user_agent, SAFARI_UA);
    assert_eq!(record.requester.browser, "Safari 17");
    assert!(
        record.requester.os.starts_with("Mac"),
        "{}",
        record.requester.os
    );
    assert_eq!(record.revoked_at, None);
    let claims = claims(&exchange.access_token);
    assert_eq!(
        record.expires_at.unix_timestamp(),
        claims["exp"].as_i64().unwrap()
    );
    assert!(record.signed_in_at <= record.expires_at);
    assert!(record.requester.created_at <= record.signed_in_at);
    assert!(
        sign_ins(&app, &bob).await.sign_ins.is_empty(),
        "only the user's own"
    );

    // A second sign-in is listed first.
    let second = confirmed_by(&app, &alice).await;
    exchanged(&app, &second).await;
    let list = sign_ins(&app, &alice).await.sign_ins;
    let ids: Vec<&str> = list.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 2);
    assert!(ids.contains(&id.as_str()));
    assert!(list[0].signed_in_at >= list[1].signed_in_at);
}

async fn revoking_an_exchanged_sign_in_revokes_its_web_token(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = alice_on_pixel(&app).await;
    let bob = app.sign_in("bob").await;
    let ticket = confirmed_by(&app, &alice).await;
    let id = ticket.id.to_string();
    let exchange = exchanged(&app, &ticket).await;
    let jti = claims(&exchange.access_token)["jti"]
        .as_str()
        .unwrap()
        .to_string();

    let me = web_me(&app, &exchange.access_token).await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: UserProfile = me.json().await.unwrap();
    assert_eq!(me, exchange.user);
    assert!(revocation_list(&app).await.revoked.is_empty());

    // Bob cannot revoke alice's sign-in.
    assert_error(revoke(&app, &bob, &id).await, 404, ErrorCode::NotFound).await;
    assert_eq!(
        web_me(&app, &exchange.access_token).await.status(),
        StatusCode::OK
    );

    assert_eq!(revoked_as(&app, &alice, &id).await, RevokeOutcome::Revoked);
    assert_error(
        web_me(&app, &exchange.access_token).await,
        401,
        ErrorCode::TokenRevoked,
    )
    .await;
    let list = revocation_list(&app).await.revoked;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].jti, jti);
    assert_eq!(
        list[0].expires_at.unix_timestamp(),
        claims(&exchange.access_token)["exp"].as_i64().unwrap()
    );
    let record = &sign_ins(&app, &alice).await.sign_ins[0];
    assert!(record.revoked_at.is_some());

    // Again: still revoked, same list.
    assert_eq!(revoked_as(&app, &alice, &id).await, RevokeOutcome::Revoked);
    assert_eq!(revocation_list(&app).await.revoked, list);
    // Other sign-ins of alice are untouched.
    let other = exchanged(&app, &confirmed_by(&app, &alice).await).await;
    assert_eq!(
        web_me(&app, &other.access_token).await.status(),
        StatusCode::OK
    );
}

async fn revoking_before_the_exchange_cancels_the_ticket(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = alice_on_pixel(&app).await;
    let bob = app.sign_in("bob").await;
    let ticket = confirmed_by(&app, &alice).await;
    let id = ticket.id.to_string();

    assert_error(revoke(&app, &bob, &id).await, 404, ErrorCode::NotFound).await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Confirmed);

    assert_eq!(
        revoked_as(&app, &alice, &id).await,
        RevokeOutcome::Cancelled
    );
    let status = app.status(&ticket).await;
    assert_eq!(status.status, TicketStatus::Cancelled);
    assert_eq!(status.reason, Some(CancelReason::Declined));
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::Cancelled).await;
    assert_eq!(
        revoked_as(&app, &alice, &id).await,
        RevokeOutcome::Cancelled
    );
    assert!(sign_ins(&app, &alice).await.sign_ins.is_empty());

    // A code only scanned (not confirmed yet) is cancelled the same way.
    let scanned = app.create().await;
    let scanned_id = scanned.id.to_string();
    app.app_call(&alice, &scanned_id, "scan").await;
    assert_eq!(
        revoked_as(&app, &alice, &scanned_id).await,
        RevokeOutcome::Cancelled
    );
    assert_eq!(app.status(&scanned).await.status, TicketStatus::Cancelled);

    // A code nobody scanned, or an unknown one, is not alice's.
    let pending = app.create().await;
    assert_error(
        revoke(&app, &alice, &pending.id.to_string()).await,
        404,
        ErrorCode::NotFound,
    )
    .await;
    assert_eq!(app.status(&pending).await.status, TicketStatus::Pending);
    assert_error(
        revoke(&app, &alice, "AAAAAAAAAAAAAAAAAAAAAA").await,
        404,
        ErrorCode::NotFound,
    )
    .await;
    assert_error(
        revoke(&app, &alice, "short").await,
        400,
        ErrorCode::InvalidTicketId,
    )
    .await;
}

/// The user taps "No" just as the page exchanges: whichever wins, no web
/// token stays valid.
async fn revoke_racing_the_exchange_never_leaves_a_live_token(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = alice_on_pixel(&app).await;
    for _ in 0..8 {
        let ticket = confirmed_by(&app, &alice).await;
        let id = ticket.id.to_string();
        let (outcome, exchange) =
            tokio::join!(revoked_as(&app, &alice, &id), app.exchange(&ticket));
        match outcome {
            // The token left before the revoke (and is now refused), or the
            // exchange read the revoke back and handed out nothing.
            RevokeOutcome::Revoked if exchange.status() == StatusCode::OK => {
                let exchange: ExchangeResponse = exchange.json().await.unwrap();
                assert_error(
                    web_me(&app, &exchange.access_token).await,
                    401,
                    ErrorCode::TokenRevoked,
                )
                .await;
            }
            RevokeOutcome::Revoked => {
                assert_error(exchange, 409, ErrorCode::Cancelled).await;
            }
            RevokeOutcome::Cancelled => {
                assert_error(exchange, 409, ErrorCode::Cancelled).await;
            }
        }
    }
}

/// The app that confirmed is signed out before the page exchanges: the
/// exchange re-checks the confirming session and hands out nothing.
async fn a_session_signed_out_between_confirm_and_exchange_yields_no_token(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = alice_on_pixel(&app).await;
    let ticket = confirmed_by(&app, &alice).await;
    let signed_out = app
        .client
        .delete(app.url("/api/v1/app/sessions/current"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(signed_out.status(), StatusCode::NO_CONTENT);
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::Cancelled).await;
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Cancelled);
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::Cancelled).await;
}

async fn qr_login_turned_off_between_confirm_and_exchange_yields_no_token(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let alice = alice_on_pixel(&app).await;
    let ticket = confirmed_by(&app, &alice).await;
    crate::sessions::set_qr_login(&app, &alice, false).await;
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::Cancelled).await;
}

/// The confirm's record cannot be written (here: the database refuses every
/// insert into sign_ins): the ticket does not become confirmed, so the page
/// never signs in without a record the user could see and revoke.
#[tokio::test]
async fn a_confirm_whose_record_fails_leaves_the_ticket_unconfirmed() {
    use sqlx::Connection as _;
    let app = spawn_app().await;
    let alice = alice_on_pixel(&app).await;
    let ticket = app.create().await;
    let id = ticket.id.to_string();
    assert_eq!(
        app.app_call(&alice, &id, "scan").await.status(),
        StatusCode::OK
    );
    let db = app.dir.path().join("test.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display()))
        .await
        .unwrap();
    sqlx::query(
        "CREATE TRIGGER refuse_sign_ins BEFORE INSERT ON sign_ins
         BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    let confirm = app.app_call(&alice, &id, "confirm").await;
    assert!(confirm.status().is_server_error(), "{}", confirm.status());
    assert_eq!(app.status(&ticket).await.status, TicketStatus::Scanned);
    assert_error(app.exchange(&ticket).await, 409, ErrorCode::NotConfirmed).await;
}

#[tokio::test]
async fn web_me_refuses_missing_forged_foreign_and_expired_tokens() {
    let app = spawn_app().await;
    let alice = alice_on_pixel(&app).await;
    let exchange = exchanged(&app, &confirmed_by(&app, &alice).await).await;
    let good = claims(&exchange.access_token);

    let missing = app
        .client
        .get(app.url("/api/v1/web/me"))
        .send()
        .await
        .unwrap();
    assert_error(missing, 401, ErrorCode::Unauthorized).await;
    assert_error(
        web_me(&app, "not.a.jwt").await,
        401,
        ErrorCode::Unauthorized,
    )
    .await;

    // The payload changed (another user's id), the signature kept.
    let parts: Vec<&str> = exchange.access_token.split('.').collect();
    let mut forged = good.clone();
    forged["sub"] = "someone-else".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(forged.to_string()),
        parts[2]
    );
    assert_error(web_me(&app, &forged).await, 401, ErrorCode::Unauthorized).await;

    // A token signed by another server (another key).
    let other = spawn_app().await;
    let other_alice = alice_on_pixel(&other).await;
    let foreign = exchanged(&other, &confirmed_by(&other, &other_alice).await).await;
    assert_error(
        web_me(&app, &foreign.access_token).await,
        401,
        ErrorCode::Unauthorized,
    )
    .await;

    // Tokens signed with this server's own key: valid claims pass (so the
    // expired one below fails for its expiry alone), an expired one does not.
    let pem = std::fs::read(app.dir.path().join("jwt.pem")).unwrap();
    let key = EncodingKey::from_ed_pem(&pem).unwrap();
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = jsonwebtoken::decode_header(&exchange.access_token)
        .unwrap()
        .kid;
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mint = |iat: i64, exp: i64| {
        let mut claims = good.clone();
        claims["iat"] = iat.into();
        claims["nbf"] = iat.into();
        claims["exp"] = exp.into();
        claims["jti"] = format!("minted-{iat}-{exp}").into();
        jsonwebtoken::encode(&header, &claims, &key).unwrap()
    };
    let fresh = web_me(&app, &mint(now, now + 60)).await;
    assert_eq!(fresh.status(), StatusCode::OK);
    let expired = mint(now - 600, now - 300);
    assert_error(web_me(&app, &expired).await, 401, ErrorCode::Unauthorized).await;
    // A token of the app side is not a web token.
    assert_error(web_me(&app, &alice).await, 401, ErrorCode::Unauthorized).await;
}

/// Two sites share one login server: a token issued on site A names A as
/// its audience; site B's pages cannot use it; the app was told A asked.
#[tokio::test]
async fn a_token_is_for_the_site_whose_page_asked() {
    const SHOP: &str = "https://shop.example.com";
    const BLOG: &str = "https://blog.example.com";
    let app = spawn_app_with(
        Db::Sqlite,
        &["--allowed-origin", SHOP, "--allowed-origin", BLOG],
    )
    .await;
    let created = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("origin", SHOP)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let ticket: CreateTicketResponse = created.json().await.unwrap();
    let alice = alice_on_pixel(&app).await;
    let id = ticket.id.to_string();
    let scan: qrlogin_core::ScanResponse = app
        .app_call(&alice, &id, "scan")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scan.site.origin, SHOP, "the app learns which site asked");
    assert_eq!(
        app.app_call(&alice, &id, "confirm").await.status(),
        StatusCode::OK
    );
    let exchange = exchanged(&app, &ticket).await;
    let payload = exchange.access_token.split('.').nth(1).unwrap();
    let claims: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["aud"], SHOP);
    let me_from = |origin: Option<&'static str>| {
        let mut request = app
            .client
            .get(app.url("/api/v1/web/me"))
            .bearer_auth(&exchange.access_token);
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        request.send()
    };
    assert_eq!(me_from(Some(SHOP)).await.unwrap().status(), StatusCode::OK);
    assert_error(
        me_from(Some(BLOG)).await.unwrap(),
        401,
        ErrorCode::Unauthorized,
    )
    .await;
    // A site's backend (no Origin) checks the token and reads `aud` itself.
    assert_eq!(me_from(None).await.unwrap().status(), StatusCode::OK);

    // A page of an origin the server does not know: the public URL is the audience.
    let unknown = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    let ticket: CreateTicketResponse = unknown.json().await.unwrap();
    let scan: qrlogin_core::ScanResponse = app
        .app_call(&alice, &ticket.id.to_string(), "scan")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(scan.site.origin, app.base);
}

/// The record commits before the token leaves (even with concurrent
/// exchanges, whose writes the database may commit together): the moment
/// the page holds a token, the user sees the sign-in and can revoke it.
async fn every_token_handed_out_is_already_in_the_users_sign_in_list(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let token = alice_on_pixel(&app).await;
    let mut tickets = Vec::new();
    for _ in 0..16 {
        tickets.push(confirmed_by(&app, &token).await);
    }
    let checks = tickets.iter().map(|ticket| async {
        let exchange = exchanged(&app, ticket).await;
        let listed = sign_ins(&app, &token).await;
        let id = ticket.id.to_string();
        assert!(
            listed.sign_ins.iter().any(|record| record.id == id),
            "the sign-in of {id} was not listed when its token arrived"
        );
        let revoked = revoke(&app, &token, &id).await;
        assert_eq!(revoked.status(), StatusCode::OK);
        let me = app
            .client
            .get(app.url("/api/v1/web/me"))
            .bearer_auth(&exchange.access_token)
            .send()
            .await
            .unwrap();
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED, "revoked at once");
    });
    futures_util::future::join_all(checks).await;
}

/// Confirms and exchanges at the same moment are written together (one
/// transaction, multi-row statements): each ticket still gets its own row,
/// with the device that confirmed it and the token its page received, and
/// a confirm repeated at the same moment (two records for one row) changes
/// nothing.
async fn records_written_together_each_land_in_their_own_row(db: Db) {
    let app = spawn_app_with(db, &[]).await;
    let pixel = alice_on_pixel(&app).await;
    let response = app
        .post_session(json!({"username": "alice", "password": "demo", "device_name": "iPad"}))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let ipad: SignInResponse = response.json().await.unwrap();
    let ipad = ipad.token.expose().to_string();
    let mut tickets = Vec::new();
    for i in 0..24 {
        let ticket = app.create().await;
        let device = if i % 2 == 0 { &pixel } else { &ipad };
        let id = ticket.id.to_string();
        assert_eq!(
            app.app_call(device, &id, "scan").await.status(),
            StatusCode::OK
        );
        tickets.push((ticket, device));
    }
    let confirms = tickets.iter().map(|(ticket, device)| async {
        app.app_call(device, &ticket.id.to_string(), "confirm")
            .await
            .status()
    });
    let first = tickets[0].0.id.to_string();
    let repeat = app.app_call(&pixel, &first, "confirm");
    let (confirmed, repeated) = tokio::join!(futures_util::future::join_all(confirms), repeat);
    assert!(
        confirmed.iter().all(|status| *status == StatusCode::OK),
        "{confirmed:?}"
    );
    assert_eq!(repeated.status(), StatusCode::OK);
    let exchanges =
        futures_util::future::join_all(tickets.iter().map(|(ticket, _)| exchanged(&app, ticket)))
            .await;
    let listed = sign_ins(&app, &pixel).await;
    for ((ticket, device), exchange) in tickets.iter().zip(&exchanges) {
        let id = ticket.id.to_string();
        let rows: Vec<_> = listed.sign_ins.iter().filter(|r| r.id == id).collect();
        assert_eq!(rows.len(), 1, "one row for {id}");
        let expected = if *device == &pixel { "Pixel 8" } else { "iPad" };
        assert_eq!(
            rows[0].device_name, expected,
            "the confirming device of {id}"
        );
        assert_eq!(
            web_me(&app, &exchange.access_token).await.status(),
            StatusCode::OK
        );
    }
    // Each row holds its own token: revoking one sign-in refuses that
    // token and no other.
    assert_eq!(revoke(&app, &pixel, &first).await.status(), StatusCode::OK);
    assert_eq!(
        web_me(&app, &exchanges[0].access_token).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        web_me(&app, &exchanges[1].access_token).await.status(),
        StatusCode::OK
    );
}
