//! Request cost against a floor: each API call and a whole login flow, next
//! to a bare axum hello world served and loaded the same way in the same run.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hyper::{Method, StatusCode};

use crate::flow::{self, CallTimes, Ticket};
use crate::http::{self, Auth, Conn};
use crate::load::{self, Bounds, Outcome};
use crate::procs::{self, Database, Proc, Store};
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
    /// The databases to measure, one after the other in the same run.
    #[arg(long, value_enum, value_delimiter = ',', default_values = ["sqlite", "postgres"])]
    databases: Vec<Database>,
}

/// Runs phases, with `perf` attached to the loaded server when asked.
struct Phases {
    perf_dir: Option<PathBuf>,
    profiles: Vec<Profiled>,
}

/// One phase's profile.
struct Profiled {
    name: &'static str,
    database: Option<Database>,
    calls: usize,
    cpu_per_job: Duration,
    profile: Profile,
}

/// What a phase hands back: its outcome, maybe with what it passes on.
trait PhaseResult {
    fn server_cpu_per_job(&self) -> Duration;
}

impl<T> PhaseResult for Outcome<T> {
    fn server_cpu_per_job(&self) -> Duration {
        Outcome::server_cpu_per_job(self)
    }
}

impl<T> PhaseResult for (Outcome<()>, T) {
    fn server_cpu_per_job(&self) -> Duration {
        self.0.server_cpu_per_job()
    }
}

impl Phases {
    async fn run<T: PhaseResult>(
        &mut self,
        name: &'static str,
        server: &Proc,
        phase: impl Future<Output = anyhow::Result<T>>,
    ) -> anyhow::Result<T> {
        let Some(dir) = &self.perf_dir else {
            return phase.await;
        };
        let file = format!("{}-{}.data", self.profiles.len(), name.replace(' ', "-"));
        let profiler = Profiler::start(server.pid()?, dir.join(file)).await?;
        let result = phase.await?;
        self.profiles.push(Profiled {
            name,
            database: None,
            calls: if name == "whole flow" { 4 } else { 1 },
            cpu_per_job: result.server_cpu_per_job(),
            profile: profiler.finish(6)?,
        });
        Ok(result)
    }
}

/// One row of a table.
struct Row {
    name: &'static str,
    /// API calls per job (4 for a flow).
    calls: usize,
    /// The floor this call is held against: hello `GET` or hello `POST`.
    floor: Floor,
    /// The least share of its floor's rate that the goal asks for.
    goal: Option<f64>,
    outcome: Outcome<()>,
}

#[derive(Debug, Clone, Copy)]
pub enum Floor {
    Get,
    Post,
}

/// Whole flows per second the goal asks for, with `workers` flows in flight.
const FLOW_GOAL: f64 = 5_000.0;

/// Everything measured on one database.
struct DatabaseRun {
    database: Database,
    rows: Vec<Row>,
    /// p50 / p99 of each call within the whole flows.
    flow_calls: String,
    single: Outcome<()>,
    sign_in: Outcome<()>,
}

/// The floor phases, before and after the servers under test.
struct Floors {
    get: [Outcome<()>; 2],
    post: [Outcome<()>; 2],
}

impl Floors {
    fn rate(&self, floor: Floor) -> f64 {
        let pair = match floor {
            Floor::Get => &self.get,
            Floor::Post => &self.post,
        };
        (pair[0].rate() + pair[1].rate()) / 2.0
    }

    fn cpu_per_call(&self, floor: Floor) -> Duration {
        let pair = match floor {
            Floor::Get => &self.get,
            Floor::Post => &self.post,
        };
        (pair[0].server_cpu_per_job() + pair[1].server_cpu_per_job()) / 2
    }
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let hello = procs::hello().await?;
    let bounds = Bounds {
        workers: options.workers,
        max_count: options.max,
        max_time: options.time,
    };
    let warm = Bounds {
        max_time: Duration::from_secs(1),
        ..bounds
    };
    hello_phase(&hello, warm, Floor::Get).await?;
    let mut phases = Phases {
        perf_dir: options.perf.clone(),
        profiles: Vec::new(),
    };
    if let Some(dir) = &options.perf {
        std::fs::create_dir_all(dir)?;
    }
    let get_before = phases
        .run("hello GET", &hello, hello_phase(&hello, bounds, Floor::Get))
        .await?;
    let post_before = phases
        .run(
            "hello POST",
            &hello,
            hello_phase(&hello, bounds, Floor::Post),
        )
        .await?;
    let mut runs = Vec::new();
    for &database in &options.databases {
        runs.push(database_run(&options, &mut phases, database, bounds).await?);
    }
    if options.perf.is_some() {
        print_profiles(&phases.profiles);
        return Ok(());
    }
    let floors = Floors {
        get: [get_before, hello_phase(&hello, bounds, Floor::Get).await?],
        post: [post_before, hello_phase(&hello, bounds, Floor::Post).await?],
    };
    print_report(&options, &floors, &runs);
    Ok(())
}

/// Every call, whole flows, one flow at a time and app sign-ins, on a fresh
/// server with a fresh database of one kind.
async fn database_run(
    options: &Options,
    phases: &mut Phases,
    database: Database,
    bounds: Bounds,
) -> anyhow::Result<DatabaseRun> {
    let dir = tempfile::tempdir()?;
    let server = procs::qrlogin_server_on(
        &options.binaries.server(),
        "qrlogin-server",
        dir.path(),
        &Store::Memory,
        database,
    )
    .await?;
    let mut conn = Conn::open(server.addr()).await?;
    let token: Arc<str> = http::sign_in(&mut conn, "alice", "demo").await?.into();
    // Warm up (connections, allocator, database caches).
    let warm = Bounds {
        max_time: Duration::from_secs(1),
        ..bounds
    };
    flow_phase(&server, warm, token.clone()).await?;

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
    let flows = phases
        .run(
            "whole flow",
            &server,
            flow_phase(&server, bounds, token.clone()),
        )
        .await?;
    let flow_calls = per_call_quantiles(&flows);
    let flows = without_results(flows);
    let one_at_a_time = Bounds {
        workers: 1,
        max_count: 2_000,
        ..bounds
    };
    let single = without_results(flow_phase(&server, one_at_a_time, token).await?);
    let sign_in = sign_in_phase(&server, bounds).await?;
    for profile in phases.profiles.iter_mut().filter(|p| p.database.is_none()) {
        if !profile.name.starts_with("hello") {
            profile.database = Some(database);
        }
    }
    let row = |name, floor, goal, outcome| Row {
        name,
        calls: 1,
        floor,
        goal: Some(goal),
        outcome,
    };
    Ok(DatabaseRun {
        database,
        rows: vec![
            row("create `POST /qr`", Floor::Post, 0.4, create),
            row("status `GET /qr/{id}`", Floor::Get, 0.6, status),
            row("scan `POST /qr/{id}/scan`", Floor::Post, 0.4, scan),
            row("confirm `POST /qr/{id}/confirm`", Floor::Post, 0.4, confirm),
            row(
                "exchange `POST /qr/{id}/exchange`",
                Floor::Post,
                0.25,
                exchange,
            ),
            Row {
                name: "whole flow (4 calls)",
                calls: 4,
                floor: Floor::Post,
                goal: None,
                outcome: flows,
            },
        ],
        flow_calls,
        single,
        sign_in,
    })
}

pub async fn hello_phase(
    hello: &Proc,
    bounds: Bounds,
    floor: Floor,
) -> anyhow::Result<Outcome<()>> {
    let method = match floor {
        Floor::Get => Method::GET,
        Floor::Post => Method::POST,
    };
    load::run(
        &[hello.addr()],
        &[hello],
        bounds,
        move |mut conns: load::Conns, _| {
            let method = method.clone();
            async move {
                let result = conns[0]
                    .expect(StatusCode::OK, method, "/", Auth::None, None)
                    .await
                    .map(drop);
                (conns, result)
            }
        },
    )
    .await
}

async fn create_phase(
    server: &Proc,
    bounds: Bounds,
) -> anyhow::Result<(Outcome<()>, Arc<Vec<Ticket>>)> {
    let mut outcome = load::run(
        &[server.addr()],
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
        &[server.addr()],
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
        &[server.addr()],
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
        &[server.addr()],
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

async fn flow_phase(
    server: &Proc,
    bounds: Bounds,
    token: Arc<str>,
) -> anyhow::Result<Outcome<CallTimes>> {
    flow_phase_on(&[server], bounds, token).await
}

/// `create 0.41 / 2.10 ms, scan …`: p50 / p99 of each call within flows.
fn per_call_quantiles(flows: &Outcome<CallTimes>) -> String {
    flow::CALLS
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let mut times: Vec<Duration> = flows.results.iter().map(|t| t[i]).collect();
            times.sort_unstable();
            format!(
                "{name} {} / {}",
                report::ms(load::quantile(&times, 0.5)),
                report::ms(load::quantile(&times, 0.99))
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whole flows; with several servers each flow's calls alternate between
/// the first two. Each result is the time of each call of the flow.
pub async fn flow_phase_on(
    servers: &[&Proc],
    bounds: Bounds,
    token: Arc<str>,
) -> anyhow::Result<Outcome<CallTimes>> {
    let targets: Vec<_> = servers.iter().map(|s| s.addr()).collect();
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
        &[server.addr()],
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

pub fn without_results<T>(outcome: Outcome<T>) -> Outcome<()> {
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

fn print_report(options: &Options, floors: &Floors, runs: &[DatabaseRun]) {
    println!("## Request cost against a floor");
    println!();
    println!(
        "Load: {} keep-alive HTTP/1.1 connections from our hyper client (`qrlogin-bench`), \
         each phase up to {} or {} requests; both servers are release builds on \
         tokio's default runtime, on loopback, with the memory ticket store. Each call is \
         held against the floor of its kind, measured in the same run: hello world's `GET` \
         for the status read, its `POST` for the rest (each the mean of a phase before and \
         one after the servers under test). Absolute rates are this machine's.",
        options.workers,
        report::span(options.time),
        report::thousands(options.max as u64),
    );
    println!();
    println!(
        "| floor | before | after | mean | p50 | p99 | server CPU per call | client CPU per call |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, pair, floor) in [
        ("hello world `GET /`", &floors.get, Floor::Get),
        ("hello world `POST /`", &floors.post, Floor::Post),
    ] {
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            report::rate(pair[0].rate()),
            report::rate(pair[1].rate()),
            report::rate(floors.rate(floor)),
            report::ms(pair[0].quantile(0.5)),
            report::ms(pair[0].quantile(0.99)),
            report::us(floors.cpu_per_call(floor)),
            report::us(pair[0].client_cpu_per_job()),
        );
    }
    for run in runs {
        println!();
        println!("### {}", run.database.name());
        println!();
        println!(
            "| phase | done | errors | rate (this machine) | calls/s vs floor | goal | p50 | p99 | server CPU per call | floor's CPU ÷ this |"
        );
        println!("|---|---|---|---|---|---|---|---|---|---|");
        for row in &run.rows {
            let o = &row.outcome;
            let calls = row.calls as f64;
            let cpu_per_call = o.server_cpu_per_job().div_f64(calls);
            let goal = match row.goal {
                Some(share) => format!("≥ {share:.2}"),
                None => format!("≥ {}", report::rate(FLOW_GOAL)),
            };
            println!(
                "| {} | {} | {} | {} | {:.2} | {goal} | {} | {} | {} | {} |",
                row.name,
                report::thousands(o.done as u64),
                o.errors,
                report::rate(o.rate()),
                o.rate() * calls / floors.rate(row.floor),
                report::ms(o.quantile(0.5)),
                report::ms(o.quantile(0.99)),
                report::us(cpu_per_call),
                report::percent(
                    floors.cpu_per_call(row.floor).as_secs_f64(),
                    cpu_per_call.as_secs_f64()
                ),
            );
        }
        println!();
        println!(
            "Each call within the whole flows ({} in flight), p50 / p99: {}.",
            options.workers, run.flow_calls
        );
        println!();
        println!(
            "A whole flow one at a time (1 connection, {} flows): p50 {}, p99 {}, max {}.",
            report::thousands(run.single.done as u64),
            report::ms(run.single.quantile(0.5)),
            report::ms(run.single.quantile(0.99)),
            report::ms(run.single.quantile(1.0)),
        );
        println!();
        println!(
            "App sign-in (`POST /app/sessions`, argon2 by design, 2 at a time, {} sign-ins): \
             {}, p50 {}, p99 {}, server CPU {} each.",
            run.sign_in.done,
            report::rate(run.sign_in.rate()),
            report::ms(run.sign_in.quantile(0.5)),
            report::ms(run.sign_in.quantile(0.99)),
            report::ms(run.sign_in.server_cpu_per_job()),
        );
    }
    println!();
    println!("### Goals");
    println!();
    for run in runs {
        for row in &run.rows {
            let o = &row.outcome;
            let (met, measured, wanted) = match row.goal {
                Some(share) => {
                    let ratio = o.rate() * row.calls as f64 / floors.rate(row.floor);
                    (
                        ratio >= share,
                        format!("{ratio:.2} of the floor"),
                        format!("≥ {share:.2}"),
                    )
                }
                None => (
                    o.rate() >= FLOW_GOAL,
                    format!(
                        "{} with {} in flight",
                        report::rate(o.rate()),
                        options.workers
                    ),
                    format!("≥ {}", report::rate(FLOW_GOAL)),
                ),
            };
            let met = if met && o.errors == 0 {
                "met"
            } else {
                "**not met**"
            };
            println!(
                "- {} on {}: {measured} (goal {wanted}, no errors) — {met}.",
                row.name,
                run.database.name()
            );
        }
    }
    for run in runs {
        for row in run.rows.iter().filter(|r| r.outcome.errors > 0) {
            println!();
            println!(
                "Errors in {} on {}: {} (first: {}).",
                row.name,
                run.database.name(),
                row.outcome.errors,
                row.outcome.first_error.as_deref().unwrap_or("?")
            );
        }
    }
}

fn print_profiles(profiles: &[Profiled]) {
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
    for profiled in profiles {
        let top: Vec<String> = profiled
            .profile
            .top
            .iter()
            .map(|(share, symbol)| format!("`{}` {share:.1}%", short_symbol(symbol)))
            .collect();
        let name = match profiled.database {
            Some(database) => format!("{} ({})", profiled.name, database.name()),
            None => profiled.name.to_string(),
        };
        println!(
            "| {name} | {} | {:.0}% | {} |",
            report::us(profiled.cpu_per_job.div_f64(profiled.calls as f64)),
            profiled.profile.kernel,
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
