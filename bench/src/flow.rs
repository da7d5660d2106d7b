//! The steps of a login, as the page and the app make them.

use std::time::{Duration, Instant};

use hyper::{Method, StatusCode};
use qrlogin_core::CreateTicketResponse;

use crate::http::{Auth, Conn};

/// What the page keeps of a new ticket.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub id: String,
    pub secret: String,
}

/// `POST /api/v1/qr` (the page asks for a QR).
pub async fn create(conn: &mut Conn) -> anyhow::Result<Ticket> {
    let bytes = conn
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/qr",
            Auth::None,
            None,
        )
        .await?;
    let created: CreateTicketResponse = serde_json::from_slice(&bytes)?;
    Ok(Ticket {
        id: created.id.to_string(),
        secret: created.poll_secret.expose().to_string(),
    })
}

/// `GET /api/v1/qr/{id}` (the page checks once).
pub async fn status(conn: &mut Conn, ticket: &Ticket) -> anyhow::Result<()> {
    let path = format!("/api/v1/qr/{}", ticket.id);
    conn.expect(
        StatusCode::OK,
        Method::GET,
        &path,
        Auth::Bearer(&ticket.secret),
        None,
    )
    .await?;
    Ok(())
}

/// `POST /api/v1/qr/{id}/{action}` by the app: `scan`, `confirm` or `cancel`.
pub async fn app_call(
    conn: &mut Conn,
    ticket: &Ticket,
    action: &str,
    app_token: &str,
) -> anyhow::Result<()> {
    let path = format!("/api/v1/qr/{}/{action}", ticket.id);
    conn.expect(
        StatusCode::OK,
        Method::POST,
        &path,
        Auth::Bearer(app_token),
        None,
    )
    .await?;
    Ok(())
}

/// `POST /api/v1/qr/{id}/exchange` (the page takes its token, once).
pub async fn exchange(conn: &mut Conn, ticket: &Ticket) -> anyhow::Result<()> {
    let path = format!("/api/v1/qr/{}/exchange", ticket.id);
    conn.expect(
        StatusCode::OK,
        Method::POST,
        &path,
        Auth::Bearer(&ticket.secret),
        None,
    )
    .await?;
    Ok(())
}

/// The four calls of a whole login, in order.
pub const CALLS: [&str; 4] = ["create", "scan", "confirm", "exchange"];

/// How long each of a flow's [`CALLS`] took.
pub type CallTimes = [Duration; 4];

/// A whole login: create, scan, confirm, exchange — the four calls without
/// which nobody signs in (the page's wait is measured by `push`). With two
/// connections the calls alternate between them (two instances behind a
/// load balancer).
pub async fn whole(conns: &mut [Conn], app_token: &str) -> anyhow::Result<CallTimes> {
    let n = conns.len();
    let mut times = [Duration::ZERO; 4];
    let mut started = Instant::now();
    let mut lap = |i: usize| {
        let now = Instant::now();
        times[i] = now - started;
        started = now;
    };
    let ticket = create(&mut conns[0]).await?;
    lap(0);
    app_call(&mut conns[1 % n], &ticket, "scan", app_token).await?;
    lap(1);
    app_call(&mut conns[0], &ticket, "confirm", app_token).await?;
    lap(2);
    exchange(&mut conns[1 % n], &ticket).await?;
    lap(3);
    Ok(times)
}
