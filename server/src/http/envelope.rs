//! What every response gets on its way out, in one layer: the security
//! headers (unless the handler set its own) and the latency histogram
//! under the route's template.
//!
//! One hand-written layer instead of a `SetResponseHeaderLayer` per header
//! and a `from_fn` middleware: each of those is a future of its own per
//! request, and `from_fn` boxes the rest of the stack on every call; for
//! the quick calls (a status read is ~40 µs of CPU) those layers were a
//! visible share.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::http::header::{self, HeaderName, HeaderValue};
use axum::response::Response;
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::metrics::Metrics;

/// The hosted pages' Content-Security-Policy: no inline script.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// `Strict-Transport-Security` when the public URL is https: two years.
pub const HSTS: &str = "max-age=63072000; includeSubDomains";

/// Set on every response that does not carry its own.
const SECURITY_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    ),
    (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
    (
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    ),
    (
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    ),
    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
];

/// The layer; `https` adds `Strict-Transport-Security` (HTTPS only from
/// then on, for browsers that reached us over HTTPS once).
#[derive(Clone)]
pub struct EnvelopeLayer {
    metrics: Arc<Metrics>,
    https: bool,
}

impl EnvelopeLayer {
    pub fn new(metrics: Arc<Metrics>, https: bool) -> Self {
        Self { metrics, https }
    }
}

impl<S> Layer<S> for EnvelopeLayer {
    type Service = Envelope<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Envelope {
            inner,
            layer: self.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Envelope<S> {
    inner: S,
    layer: EnvelopeLayer,
}

impl<S> Service<Request> for Envelope<S>
where
    S: Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = EnvelopeFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        // A clone of the template (an `Arc`), not a copy of its text: the
        // raw path would let ids explode the label set.
        let route = request.extensions().get::<MatchedPath>().cloned();
        let method = request.method().clone();
        EnvelopeFuture {
            inner: self.inner.call(request),
            seen: Some(Seen {
                route,
                method,
                start: Instant::now(),
                layer: self.layer.clone(),
            }),
        }
    }
}

/// What the response needs from its request.
struct Seen {
    route: Option<MatchedPath>,
    method: Method,
    start: Instant,
    layer: EnvelopeLayer,
}

pin_project! {
    pub struct EnvelopeFuture<F> {
        #[pin]
        inner: F,
        seen: Option<Seen>,
    }
}

impl<F, E> Future for EnvelopeFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
            Poll::Ready(Ok(response)) => response,
        };
        if let Some(seen) = this.seen.take() {
            seen.finish(&mut response);
        }
        Poll::Ready(Ok(response))
    }
}

impl Seen {
    fn finish(self, response: &mut Response) {
        let headers = response.headers_mut();
        for (name, value) in SECURITY_HEADERS {
            if !headers.contains_key(&name) {
                headers.insert(name, value);
            }
        }
        if self.layer.https && !headers.contains_key(header::STRICT_TRANSPORT_SECURITY) {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static(HSTS),
            );
        }
        self.layer.metrics.observe_request(
            self.method.as_str(),
            self.route.as_ref().map_or("unmatched", MatchedPath::as_str),
            response.status().as_u16(),
            self.start.elapsed(),
        );
    }
}
