//! The floor: the smallest useful axum server, served the way
//! `qrlogin-server` is (its own accept loop, `qrlogin_server::serve`: hyper
//! HTTP/1 with a header-read deadline and connect info, on tokio's default
//! multi-thread runtime), so the difference is the work per request.
//! `GET /` is the floor of the reads, `POST /` (its body read and dropped)
//! the floor of the calls that change something.

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new().route(
        "/",
        get(|| async { "Hello, World!" }).post(|_body: Bytes| async { "Hello, World!" }),
    );
    println!("listening on {addr}");
    qrlogin_server::serve::serve(listener, app, CancellationToken::new())
        .await
        .context("serving")
}
