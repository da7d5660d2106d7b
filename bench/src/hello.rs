//! The floor: the smallest useful axum server, served the way
//! `qrlogin-server` is (`axum::serve` on tokio's default multi-thread
//! runtime, with connect info), so the difference is the work per request.

use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::routing::get;

pub async fn serve(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    let addr = listener.local_addr()?;
    let app = Router::new().route("/", get(|| async { "Hello, World!" }));
    println!("listening on {addr}");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .context("serving")
}
