//! The load generator: a phase runs one job (a request, or a whole flow)
//! many times from `workers` concurrent workers, each with its own
//! keep-alive connection(s), until `max_count` jobs ran or `max_time`
//! passed, whichever comes first. It records each job's latency and the CPU
//! time the servers and the generator itself used meanwhile.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use crate::http::Conn;
use crate::procs::{Proc, own_cpu_time};

/// How much to run.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub workers: usize,
    pub max_count: usize,
    pub max_time: Duration,
}

/// One connection per target for each worker (a flow over two instances
/// uses two).
pub type Conns = Vec<Conn>;

/// What a phase measured, plus the jobs' results by job index.
pub struct Outcome<T> {
    pub done: usize,
    pub errors: usize,
    pub first_error: Option<String>,
    pub elapsed: Duration,
    /// Latency of each successful job, sorted.
    pub latencies: Vec<Duration>,
    /// CPU time of the servers under test during the phase.
    pub server_cpu: Duration,
    /// CPU time of the load generator during the phase.
    pub client_cpu: Duration,
    pub results: Vec<T>,
}

impl<T> Outcome<T> {
    /// Successful jobs per second.
    pub fn rate(&self) -> f64 {
        self.done as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (0..=1) of the latencies.
    pub fn quantile(&self, q: f64) -> Duration {
        quantile(&self.latencies, q)
    }

    /// Server CPU time per successful job.
    pub fn server_cpu_per_job(&self) -> Duration {
        self.server_cpu.div_f64(self.done.max(1) as f64)
    }

    /// Generator CPU time per successful job.
    pub fn client_cpu_per_job(&self) -> Duration {
        self.client_cpu.div_f64(self.done.max(1) as f64)
    }
}

/// The `q` quantile of sorted durations (nearest rank); zero when empty.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `job(conns, index)` for index 0, 1, … within `bounds`. A job hands
/// its connections back with its result; after an error they are reopened.
pub async fn run<T, F, Fut>(
    targets: &[SocketAddr],
    servers: &[&Proc],
    bounds: Bounds,
    job: F,
) -> anyhow::Result<Outcome<T>>
where
    T: Send + 'static,
    F: Fn(Conns, usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = (Conns, anyhow::Result<T>)> + Send + 'static,
{
    let job = Arc::new(job);
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::with_capacity(bounds.workers);
    for _ in 0..bounds.workers {
        workers.push(open_all(targets).await?);
    }
    let server_cpu_before = total_cpu(servers)?;
    let client_cpu_before = own_cpu_time()?;
    let start = Instant::now();
    let deadline = start + bounds.max_time;
    let tasks: Vec<_> = workers
        .into_iter()
        .map(|conns| {
            let job = job.clone();
            let next = next.clone();
            let targets = targets.to_vec();
            tokio::spawn(async move {
                worker(
                    conns,
                    &targets,
                    job.as_ref(),
                    &next,
                    bounds.max_count,
                    deadline,
                )
                .await
            })
        })
        .collect();
    let mut report = WorkerReport::default();
    for task in tasks {
        report.merge(task.await.context("a worker panicked")??);
    }
    let elapsed = start.elapsed();
    let server_cpu = total_cpu(servers)?.saturating_sub(server_cpu_before);
    let client_cpu = own_cpu_time()?.saturating_sub(client_cpu_before);
    report.latencies.sort_unstable();
    report.results.sort_unstable_by_key(|(index, _)| *index);
    Ok(Outcome {
        done: report.latencies.len(),
        errors: report.errors,
        first_error: report.first_error,
        elapsed,
        latencies: report.latencies,
        server_cpu,
        client_cpu,
        results: report.results.into_iter().map(|(_, r)| r).collect(),
    })
}

struct WorkerReport<T> {
    latencies: Vec<Duration>,
    results: Vec<(usize, T)>,
    errors: usize,
    first_error: Option<String>,
}

impl<T> Default for WorkerReport<T> {
    fn default() -> Self {
        Self {
            latencies: Vec::new(),
            results: Vec::new(),
            errors: 0,
            first_error: None,
        }
    }
}

impl<T> WorkerReport<T> {
    fn merge(&mut self, other: Self) {
        self.latencies.extend(other.latencies);
        self.results.extend(other.results);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

async fn worker<T, F, Fut>(
    mut conns: Conns,
    targets: &[SocketAddr],
    job: &F,
    next: &AtomicUsize,
    max_count: usize,
    deadline: Instant,
) -> anyhow::Result<WorkerReport<T>>
where
    F: Fn(Conns, usize) -> Fut,
    Fut: Future<Output = (Conns, anyhow::Result<T>)>,
{
    let mut report = WorkerReport::default();
    loop {
        let index = next.fetch_add(1, Ordering::Relaxed);
        if index >= max_count || Instant::now() >= deadline {
            return Ok(report);
        }
        let started = Instant::now();
        let (returned, result) = job(conns, index).await;
        conns = returned;
        match result {
            Ok(value) => {
                report.latencies.push(started.elapsed());
                report.results.push((index, value));
            }
            Err(e) => {
                report.errors += 1;
                report.first_error.get_or_insert_with(|| format!("{e:#}"));
                conns = open_all(targets).await?;
            }
        }
    }
}

async fn open_all(targets: &[SocketAddr]) -> anyhow::Result<Conns> {
    let mut conns = Vec::with_capacity(targets.len());
    for addr in targets {
        conns.push(Conn::open(*addr).await?);
    }
    Ok(conns)
}

fn total_cpu(servers: &[&Proc]) -> anyhow::Result<Duration> {
    servers.iter().map(|p| p.cpu_time()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let sorted: Vec<Duration> = (1..=100).map(ms).collect();
        assert_eq!(quantile(&sorted, 0.5), ms(50));
        assert_eq!(quantile(&sorted, 0.99), ms(99));
        assert_eq!(quantile(&sorted, 1.0), ms(100));
        assert_eq!(quantile(&sorted, 0.0), ms(1));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }
}
