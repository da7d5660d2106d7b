//! Request cost against a floor: each API call and a whole login flow, next
//! to a bare axum hello world served and loaded the same way in the same run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hyper::{Method, StatusCode};

use crate::flow::{self, Ticket};
use crate::http::{self, Auth, Conn};
use crate::load::{self, Bounds, Outcome};
use crate::procs::{self, Proc, Store};
use crate::profile::{Profile, Profiler};
use crate::report;

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[command(flatten)]
    binaries: crate::Binaries,
    /// Concurrent connections (workers) of the load generator.
    #[arg(long, default_value_t = 32)]
    workers: usize,
    /// Longest a phase runs.
    #[arg(long, default_value = "4s", value_parser = crate::parse_duration)]
    time: Duration,
    /// Most jobs (requests or flows) in a phase.
    #[arg(long, default_value_t = 300_000)]
    max: usize,
    /// Profile each phase with `perf record` attached to the server under
    /// load, keep the data in DIR, and print where the time goes instead of
    /// the rates (perf's sampling slows the server a little).
    #[arg(long, value_name = "DIR")]
    perf: Option<PathBuf>,
}

/// Runs phases, with `perf` attached to the loaded server when asked.
struct Phases {
    perf_dir: Option<PathBuf>,
    profiles: Vec<(&'static str, Profile)>,
}

impl Phases {
    async fn run<T>(
        &mut self,
        name: &'static str,
        server: &Proc,
        phase: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let Some(dir) = &self.perf_dir else {
            return phase.await;
        };
        let file = format!("{}.data", name.split_whitespace().next().unwrap_or(name));
        let profiler = Profiler::start(server.pid()?, dir.join(file)).await?;
        let result = phase.await;
        self.profiles.push((name, profiler.finish(6)?));
        result
    }
}

/// One row of the table.
struct Row {
    name: &'static str,
    /// API calls per job (4 for a flow).
    calls: usize,
    outcome: Outcome<()>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let hello = procs::hello().await?;
    let server = procs::qrlogin_server(
        &options.binaries.server()?,
        "qrlogin-server",
        dir.path(),
        &Store::Memory,
    )
    .await?;
    let bounds = Bounds {
        workers: options.workers,
        max_count: options.max,
        max_time: options.time,
    };
    let mut conn = Conn::open(server.addr).await?;
    let token: Arc<str> = http::sign_in(&mut conn, "alice", "demo").await?.into();

    // Warm both servers up (connections, allocator, SQLite cache).
    let warm = Bounds {
        max_time: Duration::from_secs(1),
        ..bounds
    };
    hello_phase(&hello, warm).await?;
    flow_phase(&server, warm, token.clone()).await?;

    let mut phases = Phases {
        perf_dir: options.perf.clone(),
        profiles: Vec::new(),
    };
    if let Some(dir) = &options.perf {
        std::fs::create_dir_all(dir)?;
    }
    let hello_before = phases
        .run("hello world", &hello, hello_phase(&hello, bounds))
        .await?;
    let (create, tickets) = phases
        .run("create", &server, create_phase(&server, bounds))
        .await?;
    let status = phases
        .run(
            "status",
            &server,
            status_phase(&server, bounds, tickets.clone()),
        )
        .await?;
    let (scan, scanned) = phases
        .run(
            "scan",
            &server,
            app_phase(&server, bounds, tickets, "scan", token.clone()),
        )
        .await?;
    let (confirm, confirmed) = phases
        .run(
            "confirm",
            &server,
            app_phase(&server, bounds, scanned, "confirm", token.clone()),
        )
        .await?;
    let exchange = phases
        .run(
            "exchange",
            &server,
            exchange_phase(&server, bounds, confirmed),
        )
        .await?;
    if options.perf.is_some() {
        print_profiles(
            &phases.profiles,
            &[&hello_before, &create, &status, &scan, &confirm, &exchange],
        );
        return Ok(());
    }
    let hello_after = hello_phase(&hello, bounds).await?;
    let flows = flow_phase(&server, bounds, token.clone()).await?;
    let one_at_a_time = Bounds {
        workers: 1,
        max_count: 2_000,
        ..bounds
    };
    let single = flow_phase(&server, one_at_a_time, token).await?;
    let sign_in = sign_in_phase(&server, bounds).await?;

    let rows = vec![
        Row {
            name: "hello world (before)",
            calls: 1,
            outcome: hello_before,
        },
        Row {
            name: "hello world (after)",
            calls: 1,
            outcome: hello_after,
        },
        Row {
            name: "create `POST /qr`",
            calls: 1,
            outcome: create,
        },
        Row {
            name: "status `GET /qr/{id}`",
            calls: 1,
            outcome: status,
        },
        Row {
            name: "scan `POST /qr/{id}/scan`",
            calls: 1,
            outcome: scan,
        },
        Row {
            name: "confirm `POST /qr/{id}/confirm`",
            calls: 1,
            outcome: confirm,
        },
        Row {
            name: "exchange `POST /qr/{id}/exchange`",
            calls: 1,
            outcome: exchange,
        },
        Row {
            name: "whole flow (4 calls)",
            calls: 4,
            outcome: flows,
        },
    ];
    print_report(&options, &rows, &single, &sign_in);
    Ok(())
}

pub async fn hello_phase(hello: &Proc, bounds: Bounds) -> anyhow::Result<Outcome<()>> {
    load::run(
        &[hello.addr],
        &[hello],
        bounds,
        |mut conns: load::Conns, _| async move {
            let result = conns[0]
                .expect(StatusCode::OK, Method::GET, "/", Auth::None, None)
                .await
                .map(drop);
            (conns, result)
        },
    )
    .await
}

async fn create_phase(
    server: &Proc,
    bounds: Bounds,
) -> anyhow::Result<(Outcome<()>, Arc<Vec<Ticket>>)> {
    let mut outcome = load::run(
        &[server.addr],
        &[server],
        bounds,
        |mut conns: load::Conns, _| async move {
            let result = flow::create(&mut conns[0]).await;
            (conns, result)
        },
    )
    .await?;
    let tickets = Arc::new(std::mem::take(&mut outcome.results));
    Ok((without_results(outcome), tickets))
}

async fn status_phase(
    server: &Proc,
    bounds: Bounds,
    tickets: Arc<Vec<Ticket>>,
) -> anyhow::Result<Outcome<()>> {
    anyhow::ensure!(!tickets.is_empty(), "no ticket was created");
    load::run(
        &[server.addr],
        &[server],
        bounds,
        move |mut conns: load::Conns, i| {
            let tickets = tickets.clone();
            async move {
                let result = flow::status(&mut conns[0], &tickets[i % tickets.len()]).await;
                (conns, result)
            }
        },
    )
    .await
}

/// Scans or confirms each ticket once; returns the tickets it moved on.
async fn app_phase(
    server: &Proc,
    bounds: Bounds,
    tickets: Arc<Vec<Ticket>>,
    action: &'static str,
    token: Arc<str>,
) -> anyhow::Result<(Outcome<()>, Arc<Vec<Ticket>>)> {
    let bounds = Bounds {
        max_count: bounds.max_count.min(tickets.len()),
        ..bounds
    };
    let mut outcome = load::run(
        &[server.addr],
        &[server],
        bounds,
        move |mut conns: load::Conns, i| {
            let tickets = tickets.clone();
            let token = token.clone();
            async move {
                let ticket = &tickets[i];
                let result = flow::app_call(&mut conns[0], ticket, action, &token).await;
                (conns, result.map(|()| ticket.clone()))
            }
        },
    )
    .await?;
    let moved = Arc::new(std::mem::take(&mut outcome.results));
    Ok((without_results(outcome), moved))
}

async fn exchange_phase(
    server: &Proc,
    bounds: Bounds,
    tickets: Arc<Vec<Ticket>>,
) -> anyhow::Result<Outcome<()>> {
    let bounds = Bounds {
        max_count: bounds.max_count.min(tickets.len()),
        ..bounds
    };
    load::run(
        &[server.addr],
        &[server],
        bounds,
        move |mut conns: load::Conns, i| {
            let tickets = tickets.clone();
            async move {
                let result = flow::exchange(&mut conns[0], &tickets[i]).await;
                (conns, result)
            }
        },
    )
    .await
}

async fn flow_phase(server: &Proc, bounds: Bounds, token: Arc<str>) -> anyhow::Result<Outcome<()>> {
    flow_phase_on(&[server], bounds, token).await
}

/// Whole flows; with several servers each flow's calls alternate between
/// the first two.
pub async fn flow_phase_on(
    servers: &[&Proc],
    bounds: Bounds,
    token: Arc<str>,
) -> anyhow::Result<Outcome<()>> {
    let targets: Vec<_> = servers.iter().map(|s| s.addr).collect();
    load::run(
        &targets,
        servers,
        bounds,
        move |mut conns: load::Conns, _| {
            let token = token.clone();
            async move {
                let result = flow::whole(&mut conns, &token).await;
                (conns, result)
            }
        },
    )
    .await
}

/// App sign-ins (argon2 by design): a few, two at a time.
async fn sign_in_phase(server: &Proc, bounds: Bounds) -> anyhow::Result<Outcome<()>> {
    let bounds = Bounds {
        workers: 2,
        max_count: 40,
        max_time: bounds.max_time,
    };
    load::run(
        &[server.addr],
        &[server],
        bounds,
        |mut conns: load::Conns, _| async move {
            let result = http::sign_in(&mut conns[0], "alice", "demo")
                .await
                .map(drop);
            (conns, result)
        },
    )
    .await
}

fn without_results<T>(outcome: Outcome<T>) -> Outcome<()> {
    Outcome {
        done: outcome.done,
        errors: outcome.errors,
        first_error: outcome.first_error,
        elapsed: outcome.elapsed,
        latencies: outcome.latencies,
        server_cpu: outcome.server_cpu,
        client_cpu: outcome.client_cpu,
        results: Vec::new(),
    }
}

fn print_report(options: &Options, rows: &[Row], single: &Outcome<()>, sign_in: &Outcome<()>) {
    let floor = (rows[0].outcome.rate() + rows[1].outcome.rate()) / 2.0;
    let floor_cpu =
        (rows[0].outcome.server_cpu_per_job() + rows[1].outcome.server_cpu_per_job()) / 2;
    println!("## Request cost against a floor");
    println!();
    println!(
        "Load: {} keep-alive HTTP/1.1 connections from our hyper client (`qrlogin-bench`), \
         each phase up to {} or {} requests; both servers are release builds on \
         tokio's default runtime, on loopback. Absolute rates are this machine's; the \
         floor is the mean of the two hello-world phases ({}).",
        options.workers,
        report::span(options.time),
        report::thousands(options.max as u64),
        report::rate(floor),
    );
    println!();
    println!(
        "| phase | done | errors | rate (this machine) | calls/s vs hello | p50 | p99 | server CPU per call | floor's CPU ÷ this | client CPU per call |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        let o = &row.outcome;
        let calls = row.calls as f64;
        let cpu_per_call = o.server_cpu_per_job().div_f64(calls);
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            row.name,
            report::thousands(o.done as u64),
            o.errors,
            report::rate(o.rate()),
            report::percent(o.rate() * calls, floor),
            report::ms(o.quantile(0.5)),
            report::ms(o.quantile(0.99)),
            report::us(cpu_per_call),
            report::percent(floor_cpu.as_secs_f64(), cpu_per_call.as_secs_f64()),
            report::us(o.client_cpu_per_job().div_f64(calls)),
        );
    }
    println!();
    println!(
        "A whole flow one at a time (1 connection, {} flows): p50 {}, p99 {}, max {}.",
        report::thousands(single.done as u64),
        report::ms(single.quantile(0.5)),
        report::ms(single.quantile(0.99)),
        report::ms(single.quantile(1.0)),
    );
    println!();
    println!(
        "App sign-in (`POST /app/sessions`, argon2 by design, 2 at a time, {} sign-ins): \
         {}, p50 {}, p99 {}, server CPU {} each — {} of the floor's rate.",
        sign_in.done,
        report::rate(sign_in.rate()),
        report::ms(sign_in.quantile(0.5)),
        report::ms(sign_in.quantile(0.99)),
        report::ms(sign_in.server_cpu_per_job()),
        report::percent(sign_in.rate(), floor),
    );
    println!();
    let mut unmet = Vec::new();
    for row in rows.iter().skip(2).filter(|r| r.calls == 1) {
        let share = row.outcome.rate() / floor;
        if share < 0.5 {
            unmet.push(format!("{} ({:.0}%)", row.name, 100.0 * share));
        }
    }
    if unmet.is_empty() {
        println!("Goal (every API call ≥ 50% of hello world): **met**.");
    } else {
        println!(
            "Goal (every API call ≥ 50% of hello world): **not met** by {}.",
            unmet.join(", ")
        );
    }
    for row in rows.iter().filter(|r| r.outcome.errors > 0) {
        println!();
        println!(
            "Errors in {}: {} (first: {}).",
            row.name,
            row.outcome.errors,
            row.outcome.first_error.as_deref().unwrap_or("?")
        );
    }
}

fn print_profiles(profiles: &[(&'static str, Profile)], outcomes: &[&Outcome<()>]) {
    println!("## Where the server's time goes (perf)");
    println!();
    println!(
        "`perf record -F 999 -p <server>` during each phase of a second, shorter run \
         (rates slightly lower than above while sampling). Kernel: the share of samples in \
         the kernel (sockets, scheduler); then the largest user-space symbols."
    );
    println!();
    println!(
        "| phase | server CPU per call | kernel | top user-space symbols (share of samples) |"
    );
    println!("|---|---|---|---|");
    for ((name, profile), outcome) in profiles.iter().zip(outcomes) {
        let top: Vec<String> = profile
            .top
            .iter()
            .map(|(share, symbol)| format!("`{}` {share:.1}%", short_symbol(symbol)))
            .collect();
        println!(
            "| {name} | {} | {:.0}% | {} |",
            report::us(outcome.server_cpu_per_job()),
            profile.kernel,
            top.join(", ")
        );
    }
}

/// `qrcode::canvas::Canvas::compute_adjacent_penalty_score` → `Canvas::compute_adjacent_penalty_score`;
/// table pipes escaped.
fn short_symbol(symbol: &str) -> String {
    let symbol = symbol.replace('|', "\\|");
    if symbol.contains('<') {
        return symbol;
    }
    let parts: Vec<&str> = symbol.split("::").collect();
    let keep = parts.len().saturating_sub(2);
    parts[keep..].join("::")
}
