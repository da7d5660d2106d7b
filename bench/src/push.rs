//! Push latency: the time from the app's confirm returning to the waiting
//! page receiving the change, over SSE and over long-poll, one flow at a
//! time on an otherwise idle server; next to what polling once a second
//! would give with this run's status-call latency.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use clap::Args;
use http_body_util::BodyExt as _;
use hyper::{Method, StatusCode};
use qrlogin_testkit::sse::EventParser;
use tokio::sync::mpsc;

use crate::flow::{self, Ticket};
use crate::http::{self, Auth, Conn};
use crate::load::quantile;
use crate::procs::{self, Store};
use crate::report;

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[command(flatten)]
    binaries: crate::Binaries,
    /// Flows per transport.
    #[arg(long, default_value_t = 1000)]
    flows: usize,
    /// Longest each transport's series may take.
    #[arg(long, default_value = "90s", value_parser = crate::parse_duration)]
    time: Duration,
    /// The polling interval to compare with.
    #[arg(long, default_value = "1s", value_parser = crate::parse_duration)]
    poll_interval: Duration,
    /// Pause between sending the long-poll and confirming, so that the poll
    /// is waiting on the server when the change happens.
    #[arg(long, default_value = "5ms", value_parser = crate::parse_duration)]
    settle: Duration,
}

/// Longest to wait for any one event.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);

/// One flow's timings, in seconds relative to the confirm returning
/// (negative: the page heard of it before the app did).
#[derive(Debug, Clone, Copy)]
struct Sample {
    after_return: f64,
    after_send: f64,
}

struct Series {
    name: String,
    samples: Vec<Sample>,
    errors: usize,
    first_error: Option<String>,
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let server = procs::qrlogin_server(
        &options.binaries.server(),
        "qrlogin-server",
        dir.path(),
        &Store::Memory,
    )
    .await?;
    let addr = server.addr();
    let mut page = Conn::open(addr).await?;
    let mut app = Conn::open(addr).await?;
    let token: Arc<str> = http::sign_in(&mut app, "alice", "demo").await?.into();

    // Warm up (discarded), then measure; each series bounded in count and time.
    let warm = Duration::from_secs(10);
    sse_series(addr, &mut page, &mut app, &token, 50, warm).await;
    long_poll_series(addr, &mut page, &mut app, &token, 50, warm, options.settle).await;
    let sse = sse_series(
        addr,
        &mut page,
        &mut app,
        &token,
        options.flows,
        options.time,
    )
    .await;
    let long_poll = long_poll_series(
        addr,
        &mut page,
        &mut app,
        &token,
        options.flows,
        options.time,
        options.settle,
    )
    .await;
    let status_latencies = status_latencies(&mut page, options.flows).await?;
    let polling = polling_delays(&status_latencies, options.poll_interval);
    print_report(&options, &[sse, long_poll], &polling, &status_latencies);
    Ok(())
}

async fn sse_series(
    addr: SocketAddr,
    page: &mut Conn,
    app: &mut Conn,
    token: &str,
    flows: usize,
    time: Duration,
) -> Series {
    let mut series = Series::new("SSE `GET /qr/{id}/events`");
    let started = Instant::now();
    while series.samples.len() < flows && started.elapsed() < time && series.errors <= flows / 10 {
        series.record(sse_flow(addr, page, app, token).await);
    }
    series
}

async fn long_poll_series(
    addr: SocketAddr,
    page: &mut Conn,
    app: &mut Conn,
    token: &str,
    flows: usize,
    time: Duration,
    settle: Duration,
) -> Series {
    let mut series = Series::new("long-poll `GET /qr/{id}?after=V&wait=30`");
    let started = Instant::now();
    while series.samples.len() < flows && started.elapsed() < time && series.errors <= flows / 10 {
        series.record(long_poll_flow(addr, page, app, token, settle).await);
    }
    series
}

impl Series {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_string(),
            samples: Vec::new(),
            errors: 0,
            first_error: None,
        }
    }

    fn record(&mut self, result: anyhow::Result<Sample>) {
        match result {
            Ok(sample) => self.samples.push(sample),
            Err(e) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
}

/// create → open the event stream (first event: pending) → scan (event:
/// scanned) → confirm, timing the `confirmed` event.
async fn sse_flow(
    addr: SocketAddr,
    page: &mut Conn,
    app: &mut Conn,
    token: &str,
) -> anyhow::Result<Sample> {
    let ticket = flow::create(page).await?;
    let mut events = open_events(addr, &ticket).await?;
    next_event(&mut events, "pending").await?;
    flow::app_call(app, &ticket, "scan", token).await?;
    next_event(&mut events, "scanned").await?;
    let sent = Instant::now();
    flow::app_call(app, &ticket, "confirm", token).await?;
    let returned = Instant::now();
    let heard = next_event(&mut events, "confirmed").await?;
    // Finish the login, which also ends the stream.
    flow::exchange(page, &ticket).await?;
    Ok(Sample::new(sent, returned, heard))
}

/// create → scan → read the version → long-poll after it → confirm.
async fn long_poll_flow(
    addr: SocketAddr,
    page: &mut Conn,
    app: &mut Conn,
    token: &str,
    settle: Duration,
) -> anyhow::Result<Sample> {
    let ticket = flow::create(page).await?;
    flow::app_call(app, &ticket, "scan", token).await?;
    let path = format!("/api/v1/qr/{}", ticket.id);
    let bytes = page
        .expect(
            StatusCode::OK,
            Method::GET,
            &path,
            Auth::Bearer(&ticket.secret),
            None,
        )
        .await?;
    let view: qrlogin_core::StatusView = serde_json::from_slice(&bytes)?;
    let mut poller = Conn::open(addr).await?;
    let poll_path = format!("{path}?after={}&wait=30", view.version);
    let secret = ticket.secret.clone();
    let poll = tokio::spawn(async move {
        let answer = poller
            .call(Method::GET, &poll_path, Auth::Bearer(&secret), None)
            .await;
        (Instant::now(), answer)
    });
    tokio::time::sleep(settle).await;
    let sent = Instant::now();
    flow::app_call(app, &ticket, "confirm", token).await?;
    let returned = Instant::now();
    let (heard, answer) = tokio::time::timeout(EVENT_TIMEOUT, poll)
        .await
        .context("the long-poll did not answer")??;
    let (status, body) = answer?;
    let view: qrlogin_core::StatusView =
        serde_json::from_slice(&body).with_context(|| format!("long-poll answered {status}"))?;
    if view.status.to_string() != "confirmed" {
        bail!("long-poll answered {}, not confirmed", view.status);
    }
    Ok(Sample::new(sent, returned, heard))
}

impl Sample {
    fn new(sent: Instant, returned: Instant, heard: Instant) -> Self {
        let signed = |from: Instant| {
            if heard >= from {
                heard.duration_since(from).as_secs_f64()
            } else {
                -from.duration_since(heard).as_secs_f64()
            }
        };
        Self {
            after_return: signed(returned),
            after_send: signed(sent),
        }
    }
}

type Events = mpsc::UnboundedReceiver<anyhow::Result<(Instant, String)>>;

/// Opens the event stream on a new connection; a task stamps each event's
/// arrival and passes on its status.
async fn open_events(addr: SocketAddr, ticket: &Ticket) -> anyhow::Result<Events> {
    let mut conn = Conn::open(addr).await?;
    let path = format!("/api/v1/qr/{}/events", ticket.id);
    let response = conn
        .send(Method::GET, &path, Auth::Bearer(&ticket.secret), None)
        .await?;
    if response.status() != StatusCode::OK {
        bail!("events answered {}", response.status());
    }
    let (sender, receiver) = mpsc::unbounded_channel();
    let mut body = response.into_body();
    tokio::spawn(async move {
        let _conn = conn;
        let mut parser = EventParser::new();
        while let Some(frame) = body.frame().await {
            let arrived = Instant::now();
            let data = match frame {
                Ok(frame) => match frame.into_data() {
                    Ok(data) => data,
                    Err(_) => continue,
                },
                Err(e) => {
                    let _ = sender.send(Err(e.into()));
                    return;
                }
            };
            for event in parser.push(&data) {
                if let Some(status) = status_of(&event.data) {
                    if sender.send(Ok((arrived, status))).is_err() {
                        return;
                    }
                }
            }
        }
    });
    Ok(receiver)
}

/// The `status` in an event's JSON data.
fn status_of(data: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(data).ok()?;
    Some(value.get("status")?.as_str()?.to_string())
}

async fn next_event(events: &mut Events, want: &str) -> anyhow::Result<Instant> {
    let (at, status) = tokio::time::timeout(EVENT_TIMEOUT, events.recv())
        .await
        .with_context(|| format!("no `{want}` event within {EVENT_TIMEOUT:?}"))?
        .context("the event stream ended")??;
    if status != want {
        bail!("expected a `{want}` event, got `{status}`");
    }
    Ok(at)
}

/// Latency of `n` plain status calls, in the order made.
async fn status_latencies(page: &mut Conn, n: usize) -> anyhow::Result<Vec<Duration>> {
    let ticket = flow::create(page).await?;
    let mut latencies = Vec::with_capacity(n);
    let deadline = Instant::now() + Duration::from_secs(30);
    while latencies.len() < n && Instant::now() < deadline {
        let started = Instant::now();
        flow::status(page, &ticket).await?;
        latencies.push(started.elapsed());
    }
    Ok(latencies)
}

/// With polling every `interval`, a change is seen at the next poll: a wait
/// spread evenly over [0, interval) plus one status call (this run's).
fn polling_delays(status_latencies: &[Duration], interval: Duration) -> Vec<Duration> {
    let n = status_latencies.len();
    let mut delays: Vec<Duration> = status_latencies
        .iter()
        .enumerate()
        .map(|(k, latency)| interval.mul_f64((k as f64 + 0.5) / n as f64) + *latency)
        .collect();
    delays.sort_unstable();
    delays
}

fn sorted(values: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_unstable_by(f64::total_cmp);
    v
}

fn quantile_f(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn print_report(
    options: &Options,
    series: &[Series],
    polling: &[Duration],
    status_latencies: &[Duration],
) {
    let ms = |s: f64| {
        if s.is_finite() {
            format!("{:.2} ms", s * 1e3)
        } else {
            "–".to_string()
        }
    };
    println!("## Push latency");
    println!();
    println!(
        "One flow at a time on an idle release server (memory store), loopback. \"After \
         return\": from the app's `confirm` response arriving to the page receiving the \
         change (negative when the page hears first); \"after send\": from the app sending \
         `confirm`. Long-poll requests are sent {} before the confirm so that they wait \
         on the server. Absolute times are this machine's.",
        report::span(options.settle)
    );
    println!();
    println!(
        "| transport | flows | errors | p50 after return | p99 after return | max after return | p50 after send | p99 after send |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let poll_p99 = quantile(polling, 0.99).as_secs_f64();
    let mut p99s = Vec::new();
    for s in series {
        let ret = sorted(s.samples.iter().map(|x| x.after_return));
        let send = sorted(s.samples.iter().map(|x| x.after_send));
        p99s.push((s.name.clone(), quantile_f(&ret, 0.99)));
        println!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            s.name,
            s.samples.len(),
            s.errors,
            ms(quantile_f(&ret, 0.5)),
            ms(quantile_f(&ret, 0.99)),
            ms(quantile_f(&ret, 1.0)),
            ms(quantile_f(&send, 0.5)),
            ms(quantile_f(&send, 0.99)),
        );
    }
    println!(
        "| polling every {} (estimated: even wait + this run's status call) | {} | – | {} | {} | {} | – | – |",
        report::span(options.poll_interval),
        polling.len(),
        report::ms(quantile(polling, 0.5)),
        report::ms(quantile(polling, 0.99)),
        report::ms(quantile(polling, 1.0)),
    );
    println!();
    let mut sorted_status = status_latencies.to_vec();
    sorted_status.sort_unstable();
    println!(
        "Status call on an idle server (for the polling estimate): p50 {}, p99 {}.",
        report::ms(quantile(&sorted_status, 0.5)),
        report::ms(quantile(&sorted_status, 0.99)),
    );
    println!();
    for (name, p99) in p99s.iter().filter(|(_, p99)| p99.is_finite()) {
        let verdict = if *p99 < 0.005 { "met" } else { "**not met**" };
        println!(
            "- {name}: p99 {} — goal p99 < 5 ms {verdict}; {} sooner than polling's p99.",
            ms(*p99),
            report::times(poll_p99 / p99.max(1e-6)),
        );
    }
    for s in series.iter().filter(|s| s.errors > 0) {
        println!(
            "- errors in {}: {} (first: {})",
            s.name,
            s.errors,
            s.first_error.as_deref().unwrap_or("?")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_status_of_an_event() {
        let data = "{\"id\":\"x\",\"status\":\"scanned\",\"version\":2}";
        assert_eq!(status_of(data).as_deref(), Some("scanned"));
        assert_eq!(status_of("not json"), None);
    }

    #[test]
    fn polling_every_second_waits_half_a_second_at_the_median() {
        let latencies = vec![Duration::from_millis(1); 1000];
        let delays = polling_delays(&latencies, Duration::from_secs(1));
        let p50 = quantile(&delays, 0.5).as_secs_f64();
        let p99 = quantile(&delays, 0.99).as_secs_f64();
        assert!((p50 - 0.5).abs() < 0.002, "{p50}");
        assert!((p99 - 0.99).abs() < 0.002, "{p99}");
    }
}
