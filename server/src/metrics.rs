//! Prometheus metrics, kept in atomics and written in the text format:
//! tickets by the state they reached, and request latency per route.
//!
//! Every label comes from a closed set — the method from [`METHODS`] (others
//! count as `other`), the route from the router's templates, the status
//! from the answers the server gives — so no request can add a series of its
//! own, and the table stays a few hundred entries whatever clients send.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use qrlogin_core::TicketStatus;

/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 12] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0, 30.0,
];

/// The methods recorded by name; any other counts as `other`.
pub const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

/// `method` as a label: one of [`METHODS`], or `other`.
fn method_label(method: &str) -> &'static str {
    METHODS
        .iter()
        .find(|known| **known == method)
        .copied()
        .unwrap_or("other")
}

#[derive(Default, Clone)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// One route's histograms by (method, status).
type RouteSeries = HashMap<(&'static str, u16), Histogram>;

#[derive(Default)]
pub struct Metrics {
    tickets: [AtomicU64; TicketStatus::ALL.len()],
    /// route → (method, status) → latency histogram. By route first, so
    /// that a request finds its series without allocating.
    requests: Mutex<HashMap<String, RouteSeries>>,
    /// Event streams and long-polls open now.
    open_streams: AtomicU64,
}

impl Metrics {
    /// Counts a ticket that entered `status` (creation counts as `pending`).
    pub fn ticket_entered(&self, status: TicketStatus) {
        if let Some(i) = TicketStatus::ALL.iter().position(|s| *s == status) {
            self.tickets[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Records how many event streams and long-polls are open.
    pub fn set_open_streams(&self, open: usize) {
        let open = u64::try_from(open).unwrap_or(u64::MAX);
        self.open_streams.store(open, Ordering::Relaxed);
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let key = (method_label(method), status);
        let mut map = self.requests.lock().unwrap_or_else(|p| p.into_inner());
        let series = match map.get_mut(route) {
            Some(series) => series,
            None => map.entry(route.to_string()).or_default(),
        };
        let h = series.entry(key).or_default();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# HELP qrlogin_tickets_total Tickets that entered each state.\n");
        out.push_str("# TYPE qrlogin_tickets_total counter\n");
        for (i, status) in TicketStatus::ALL.iter().enumerate() {
            let n = self.tickets[i].load(Ordering::Relaxed);
            let _ = writeln!(out, "qrlogin_tickets_total{{state=\"{status}\"}} {n}");
        }
        out.push_str("# HELP qrlogin_open_streams Event streams and long-polls open now.\n");
        out.push_str("# TYPE qrlogin_open_streams gauge\n");
        let open = self.open_streams.load(Ordering::Relaxed);
        let _ = writeln!(out, "qrlogin_open_streams {open}");
        out.push_str("# HELP qrlogin_http_request_duration_seconds Time to answer a request (to its headers).\n");
        out.push_str("# TYPE qrlogin_http_request_duration_seconds histogram\n");
        // A snapshot: formatting happens after the lock that every request
        // takes is released.
        let map: BTreeMap<(&'static str, String, u16), Histogram> = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .flat_map(|(route, series)| {
                series
                    .iter()
                    .map(|((method, status), h)| ((*method, route.clone(), *status), h.clone()))
            })
            .collect();
        for ((method, route, status), h) in map.iter() {
            let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
            for (i, bound) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "qrlogin_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {}",
                    h.counts[i]
                );
            }
            let _ = writeln!(
                out,
                "qrlogin_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                h.count
            );
            let _ = writeln!(
                out,
                "qrlogin_http_request_duration_seconds_sum{{{labels}}} {}",
                h.sum
            );
            let _ = writeln!(
                out,
                "qrlogin_http_request_duration_seconds_count{{{labels}}} {}",
                h.count
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_and_cumulative_buckets() {
        let m = Metrics::default();
        m.ticket_entered(TicketStatus::Pending);
        m.ticket_entered(TicketStatus::Pending);
        m.observe_request("GET", "/healthz", 200, Duration::from_millis(3));
        let text = m.render();
        assert!(text.contains("qrlogin_tickets_total{state=\"pending\"} 2"));
        assert!(text.contains("qrlogin_tickets_total{state=\"consumed\"} 0"));
        assert!(text.contains("qrlogin_open_streams 0"));
        assert!(text.contains(
            "qrlogin_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.001\"} 0"
        ));
        assert!(text.contains(
            "qrlogin_http_request_duration_seconds_bucket{method=\"GET\",route=\"/healthz\",status=\"200\",le=\"0.005\"} 1"
        ));
        assert!(text.contains("qrlogin_http_request_duration_seconds_count{method=\"GET\",route=\"/healthz\",status=\"200\"} 1"));
    }

    #[test]
    fn made_up_methods_share_one_series() {
        let m = Metrics::default();
        for i in 0..1000 {
            let method = format!("M{i}{}", "X".repeat(i));
            m.observe_request(&method, "unmatched", 405, Duration::from_millis(1));
        }
        let text = m.render();
        assert!(text.contains("qrlogin_http_request_duration_seconds_count{method=\"other\",route=\"unmatched\",status=\"405\"} 1000"));
        assert!(!text.contains("M999"));
        assert!(text.len() < 4096, "{} bytes", text.len());
    }
}
