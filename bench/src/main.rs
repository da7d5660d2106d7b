//! `qrlogin-bench`: benchmarks of the QR Login server (not tests; CI only
//! compiles them). Each command starts release binaries on loopback, loads
//! them with our own HTTP/1.1 client (hyper, keep-alive, one connection per
//! worker), and prints a Markdown section for `BENCHMARKS.md`. Every loop is
//! bounded in count and in time.
//!
//! - `hello`: the floor — a bare axum "hello world" server.
//! - `api`: throughput of each API call and of a whole login flow, next to
//!   `hello` served and loaded the same way in the same run.
//! - `push`: from the app's confirm to the waiting page's event, over SSE and
//!   long-poll, next to 1 s polling.
//! - `stores`: flow throughput with the memory store, Redis, and two
//!   instances sharing Redis.
//! - `oidc`: the OpenID Provider's authorization-code flows and token
//!   endpoint, RS256 and EdDSA.

mod api;
mod flow;
mod hello;
mod http;
mod load;
mod oidc;
mod procs;
mod profile;
mod push;
mod report;
mod stores;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "qrlogin-bench", about = "Benchmarks of the QR Login server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a bare axum "hello world" (the floor); prints `listening on ADDR`.
    Hello {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: std::net::SocketAddr,
    },
    /// Request cost of each API call and of a login flow vs hello world.
    Api(api::Options),
    /// Push latency: confirm → page event over SSE and long-poll.
    Push(push::Options),
    /// Flow throughput with the memory store, Redis, and two instances.
    Stores(stores::Options),
    /// The OpenID Provider: authorization-code flows and `/oauth2/token`,
    /// RS256 and EdDSA.
    Oidc(oidc::Options),
}

/// Where the binaries under test are.
#[derive(Debug, Clone, Args)]
pub struct Binaries {
    /// The `qrlogin-server` binary (default: beside this one).
    #[arg(long)]
    server: Option<PathBuf>,
}

impl Binaries {
    /// `--server`, else `$QRLOGIN_SERVER_BIN`, else the one beside this binary.
    pub fn server(&self) -> PathBuf {
        self.server
            .clone()
            .unwrap_or_else(qrlogin_testkit::process::server_binary)
    }
}

/// A binary in the same directory as this one.
pub fn beside_me(name: &str) -> anyhow::Result<PathBuf> {
    let me = std::env::current_exe().context("locating this binary")?;
    let dir = me.parent().context("this binary has no directory")?;
    Ok(dir.join(name))
}

/// Parses `5`, `1.5` or `500ms` (bench phase lengths).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, scale) = match text.strip_suffix("ms") {
        Some(ms) => (ms, 0.001),
        None => (text.strip_suffix('s').unwrap_or(text), 1.0),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration"))?;
    if !(value > 0.0 && value < 3600.0) {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().context("starting tokio")?;
    runtime.block_on(async move {
        match cli.command {
            Command::Hello { listen } => hello::serve(listen).await,
            Command::Api(options) => api::run(options).await,
            Command::Push(options) => push::run(options).await,
            Command::Stores(options) => stores::run(options).await,
            Command::Oidc(options) => oidc::run(options).await,
        }
    })
}
