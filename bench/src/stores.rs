//! Store backends: whole-flow throughput with the memory store, with Redis,
//! and with two instances sharing Redis (calls alternate between them, as
//! behind a load balancer), all in one run.

use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::api::flow_phase_on;
use crate::http::{self, Conn};
use crate::load::{Bounds, Outcome};
use crate::procs::{self, Proc, Store};
use crate::report;

/// The least share of the memory store's flow rate a Redis configuration
/// should reach (issue #17).
const REDIS_GOAL: f64 = 0.8;

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[command(flatten)]
    binaries: crate::Binaries,
    /// Redis for the shared store.
    #[arg(long, default_value = "redis://127.0.0.1:6379")]
    redis_url: String,
    /// Key prefix in Redis (default: `qrlogin-bench-<pid>`).
    #[arg(long)]
    redis_prefix: Option<String>,
    /// Concurrent flows.
    #[arg(long, default_value_t = 32)]
    workers: usize,
    /// Longest each configuration runs.
    #[arg(long, default_value = "5s", value_parser = crate::parse_duration)]
    time: Duration,
    /// Most flows per configuration.
    #[arg(long, default_value_t = 200_000)]
    max: usize,
}

struct Row {
    name: String,
    measured: Result<Outcome<()>, String>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let bounds = Bounds {
        workers: options.workers,
        max_count: options.max,
        max_time: options.time,
    };
    let binary = options.binaries.server();
    let prefix = options
        .redis_prefix
        .clone()
        .unwrap_or_else(|| format!("qrlogin-bench-{}", std::process::id()));
    let redis = Store::Redis {
        url: options.redis_url.clone(),
        prefix: prefix.clone(),
    };
    let mut rows = Vec::new();
    for (name, store, instances) in [
        ("memory store, 1 instance", Store::Memory, 1),
        ("Redis store, 1 instance", redis.clone(), 1),
        ("Redis store, 2 instances (calls alternate)", redis, 2),
    ] {
        let measured = measure(&binary, &store, instances, bounds)
            .await
            .map_err(|e| format!("{e:#}"));
        rows.push(Row {
            name: name.to_string(),
            measured,
        });
    }
    print_report(&options, &prefix, &rows);
    Ok(())
}

async fn measure(
    binary: &std::path::Path,
    store: &Store,
    instances: usize,
    bounds: Bounds,
) -> anyhow::Result<Outcome<()>> {
    // One users database for all instances: an app token works on each.
    let dir = tempfile::tempdir()?;
    let mut servers: Vec<Proc> = Vec::new();
    for n in 0..instances {
        servers.push(
            procs::qrlogin_server(binary, &format!("instance-{n}"), dir.path(), store).await?,
        );
    }
    let mut conn = Conn::open(servers[0].addr()).await?;
    let token: Arc<str> = http::sign_in(&mut conn, "alice", "demo").await?.into();
    let refs: Vec<&Proc> = servers.iter().collect();
    let warm = Bounds {
        max_time: Duration::from_secs(1),
        ..bounds
    };
    flow_phase_on(&refs, warm, token.clone()).await?;
    let flows = flow_phase_on(&refs, bounds, token).await?;
    Ok(crate::api::without_results(flows))
}

fn print_report(options: &Options, prefix: &str, rows: &[Row]) {
    println!("## Store backends");
    println!();
    println!(
        "Whole flows (create, scan, confirm, exchange) from {} concurrent workers for up to \
         {} per configuration; Redis at `{}` (key prefix `{prefix}`), on this machine, so \
         Redis and every instance share its {} cores. Absolute rates are this machine's.",
        options.workers,
        report::span(options.time),
        options.redis_url,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
    );
    println!();
    println!(
        "| configuration | flows | errors | flows/s (this machine) | vs memory | p50 | p99 | server CPU per flow |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let memory_rate = rows
        .first()
        .and_then(|r| r.measured.as_ref().ok())
        .map(|o| o.rate())
        .filter(|rate| *rate > 0.0);
    for row in rows {
        match &row.measured {
            Ok(o) => println!(
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                row.name,
                report::thousands(o.done as u64),
                o.errors,
                report::rate(o.rate()),
                memory_rate.map_or("–".into(), |m| report::percent(o.rate(), m)),
                report::ms(o.quantile(0.5)),
                report::ms(o.quantile(0.99)),
                report::us(o.server_cpu_per_job()),
            ),
            Err(why) => println!("| {} | not measured: {why} | | | | | | |", row.name),
        }
    }
    println!();
    println!("Server CPU excludes Redis's own CPU.");
    if let Some(memory) = memory_rate {
        for row in rows.iter().skip(1) {
            if let Ok(o) = &row.measured {
                let share = o.rate() / memory;
                let verdict = if share >= REDIS_GOAL && o.errors == 0 {
                    "met"
                } else {
                    "**not met**"
                };
                println!(
                    "- {}: {:.0}% of memory (no errors) — goal ≥ 80% {verdict}.",
                    row.name,
                    100.0 * share
                );
            }
        }
    }
    for row in rows {
        if let Ok(o) = &row.measured {
            if o.errors > 0 {
                println!(
                    "- errors with {}: {} (first: {})",
                    row.name,
                    o.errors,
                    o.first_error.as_deref().unwrap_or("?")
                );
            }
        }
    }
}
