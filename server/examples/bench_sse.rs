//! Benchmark (not a test): memory of many idle SSE streams on one instance.
//!
//! Starts a `qrlogin-server` binary (the one beside this example, or
//! `--server PATH`), creates N tickets, opens one event stream per ticket
//! (raw HTTP/1.1 over TCP, reading each stream's first event), keeps them
//! idle, and samples the server's resident memory (VmRSS) along the way.
//! Prints a Markdown table.
//!
//!   bench_sse [--streams N] [--redis-url URL] [--hold SECONDS] [--server PATH]
//!
//! Needs about N+100 open files in both processes (`ulimit -n`).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use futures_util::StreamExt as _;
use qrlogin_core::CreateTicketResponse;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

struct Options {
    streams: usize,
    redis_url: Option<String>,
    hold: Duration,
    server: PathBuf,
}

fn options() -> anyhow::Result<Options> {
    let mut options = Options {
        streams: 10_000,
        redis_url: None,
        hold: Duration::from_secs(10),
        server: std::env::current_exe()?
            .parent()
            .and_then(|examples| examples.parent())
            .context("no target directory")?
            .join("qrlogin-server"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let mut value = || args.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--streams" => options.streams = value()?.parse()?,
            "--redis-url" => options.redis_url = Some(value()?),
            "--hold" => options.hold = Duration::from_secs(value()?.parse()?),
            "--server" => options.server = value()?.into(),
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(options)
}

/// The server process; killed on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn rss_kib(pid: u32) -> anyhow::Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .context("no VmRSS")?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .context("bad VmRSS")?
        .parse()?)
}

/// Opens an event stream and reads until its first event; returns the
/// still-open connection.
async fn open_stream(port: u16, ticket: &CreateTicketResponse) -> anyhow::Result<TcpStream> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!(
        "GET /api/v1/qr/{}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {}\r\nAccept: text/event-stream\r\n\r\n",
        ticket.id,
        ticket.poll_secret.expose()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("data:") {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            bail!("stream closed: {}", String::from_utf8_lossy(&seen));
        }
        seen.extend_from_slice(&buf[..n]);
    }
    if !seen.starts_with(b"HTTP/1.1 200") {
        bail!("unexpected answer: {}", String::from_utf8_lossy(&seen));
    }
    Ok(stream)
}

/// The goal per open event stream (issue #17).
const GOAL_KIB: f64 = 8.0;

fn met(yes: bool) -> &'static str {
    if yes { "met" } else { "**not met**" }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let dir = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut command = Command::new(&options.server);
    command
        .args(["serve", "--create-rate", "0", "--max-tickets", "1000000"])
        .args([
            "--max-streams",
            "0",
            "--max-streams-per-ip",
            "0",
            "--listen",
        ])
        .arg(format!("127.0.0.1:{port}"))
        .arg("--database-url")
        .arg(format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        ))
        .arg("--jwt-key")
        .arg(dir.path().join("jwt.pem"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    if let Some(url) = &options.redis_url {
        let prefix = format!("qrlogin-bench-{}", std::process::id());
        command.args(["--redis-url", url, "--redis-prefix", &prefix]);
    }
    let server = Server(
        command
            .spawn()
            .with_context(|| format!("starting {}", options.server.display()))?,
    );
    let pid = server.0.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let started = Instant::now();
    while client.get(format!("{base}/healthz")).send().await.is_err() {
        if started.elapsed() > Duration::from_secs(30) {
            bail!("the server did not start");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let idle = rss_kib(pid)?;

    let tickets: Vec<CreateTicketResponse> = futures_util::stream::iter(0..options.streams)
        .map(|_| {
            let client = client.clone();
            let url = format!("{base}/api/v1/qr");
            async move {
                anyhow::Ok(
                    client
                        .post(url)
                        .send()
                        .await?
                        .error_for_status()?
                        .json()
                        .await?,
                )
            }
        })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    drop(client);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let with_tickets = rss_kib(pid)?;

    let opening = Instant::now();
    let tickets = Arc::new(tickets);
    let streams: Vec<TcpStream> = futures_util::stream::iter(0..options.streams)
        .map(|i| {
            let tickets = tickets.clone();
            async move { open_stream(port, &tickets[i]).await }
        })
        .buffer_unordered(256)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()?;
    let open_time = opening.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let opened = rss_kib(pid)?;
    tokio::time::sleep(options.hold).await;
    let held = rss_kib(pid)?;

    let n = options.streams as f64;
    let store = if options.redis_url.is_some() {
        "redis"
    } else {
        "memory"
    };
    println!(
        "## Idle SSE streams on one instance ({store} store, {} streams)",
        streams.len()
    );
    println!();
    println!("| measure | value |");
    println!("|---|---|");
    println!("| server RSS, idle | {:.1} MiB |", idle as f64 / 1024.0);
    println!(
        "| … with {} pending tickets | {:.1} MiB |",
        tickets.len(),
        with_tickets as f64 / 1024.0
    );
    println!(
        "| … and one open stream per ticket | {:.1} MiB |",
        opened as f64 / 1024.0
    );
    println!(
        "| … after {} s idle | {:.1} MiB |",
        options.hold.as_secs(),
        held as f64 / 1024.0
    );
    println!(
        "| RSS per stream (streams − tickets) | {:.1} KiB |",
        (opened as f64 - with_tickets as f64) / n
    );
    println!(
        "| RSS per waiting page (ticket + stream) | {:.1} KiB |",
        (opened as f64 - idle as f64) / n
    );
    println!(
        "| time to open all streams | {:.2} s |",
        open_time.as_secs_f64()
    );
    let per_stream = (opened as f64 - with_tickets as f64) / n;
    let per_page = (held.max(opened) as f64 - idle as f64) / n;
    let growth = (held as f64 - opened as f64) / n;
    let hundred_thousand_mib = (idle as f64 + 100_000.0 * per_page) / 1024.0;
    println!();
    println!(
        "- Goal ≤ {GOAL_KIB} KiB of RSS per open stream: {per_stream:.1} KiB — {}.",
        met(per_stream <= GOAL_KIB)
    );
    println!(
        "- Goal flat after {} s idle: {growth:+.2} KiB per stream — {}.",
        options.hold.as_secs(),
        met(growth <= 0.1)
    );
    println!(
        "- 100,000 waiting pages (extrapolated from {} at {per_page:.1} KiB each, plus the idle \
         server): {hundred_thousand_mib:.0} MiB — goal under 1 GiB {}.",
        streams.len(),
        met(hundred_thousand_mib < 1024.0)
    );
    drop(streams);
    drop(server);
    Ok(())
}
