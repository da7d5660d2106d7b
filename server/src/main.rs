//! `qrlogin-server`: parse the command line, then serve or manage users,
//! OpenID Connect clients and keys.

mod clients_cli;
mod users_cli;

use anyhow::Context as _;
use clap::Parser as _;
use qrlogin_server::{Command, Config, ServeArgs};
use tracing_subscriber::EnvFilter;

/// jemalloc instead of glibc's malloc: requests allocate and free many
/// small buffers across threads, where glibc's malloc spent a tenth of
/// each call's CPU; and an idle event stream keeps less resident
/// (BENCHMARKS.md; mimalloc was as fast but kept more per stream).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match Config::parse().into_command() {
        Command::Serve(args) => serve(args).await,
        Command::Users(args) => users_cli::run(args).await,
        Command::Clients(args) => clients_cli::run(args).await,
        Command::Keys(args) => clients_cli::keys(args),
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let server = qrlogin_server::start(&args)
        .await
        .context("starting the login server")?;
    let url = server.url();
    if args.demo {
        eprintln!(
            "WARNING: demo mode — the users alice and bob exist with the password `demo`. \
             Never use --demo on a server others can reach."
        );
    }
    println!(
        "qrlogin-server listening on {url} (bound to {})",
        server.addr
    );
    println!("Login page: {url}/");
    let trigger = server.state.shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        tracing::info!("shutting down");
        trigger.cancel();
    });
    server.wait().await.context("serving HTTP")
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
