//! The request timeout: a quick call that takes longer than
//! [`REQUEST_TIMEOUT`] (a database that hangs, say) is answered 503
//! `service_unavailable`. Long-polls and event streams wait on purpose and
//! are not subject to it.
//!
//! A layer of its own rather than `from_fn`, which boxes the rest of the
//! stack and its future on every request; the timer lives inside the
//! response future.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::Request;
use axum::http::Method;
use axum::response::{IntoResponse as _, Response};
use pin_project_lite::pin_project;
use qrlogin_core::ErrorCode;
use tokio::time::Sleep;
use tower::{Layer, Service};

use crate::http::error::AppError;

/// Longest a quick (non-waiting) request may take before it is answered
/// 503, e.g. when the database hangs.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Clone, Copy)]
pub struct RequestTimeoutLayer {
    /// GETs are long-polls or event streams here: no timeout for them.
    exempt_gets: bool,
}

impl RequestTimeoutLayer {
    /// Every request of the routes it wraps.
    pub fn all() -> Self {
        Self { exempt_gets: false }
    }

    /// All but GETs (the web side's long-poll and event stream wait on
    /// purpose; its create, exchange and abort do not).
    pub fn unless_waiting() -> Self {
        Self { exempt_gets: true }
    }
}

impl<S> Layer<S> for RequestTimeoutLayer {
    type Service = RequestTimeout<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestTimeout {
            inner,
            layer: *self,
        }
    }
}

#[derive(Clone)]
pub struct RequestTimeout<S> {
    inner: S,
    layer: RequestTimeoutLayer,
}

impl<S> Service<Request> for RequestTimeout<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = TimeoutFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let waits = self.layer.exempt_gets && request.method() == Method::GET;
        TimeoutFuture {
            deadline: (!waits).then(|| tokio::time::sleep(REQUEST_TIMEOUT)),
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    pub struct TimeoutFuture<F> {
        #[pin]
        inner: F,
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<F> Future for TimeoutFuture<F>
where
    F: Future<Output = Result<Response, Infallible>>,
{
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(response) = this.inner.poll(cx) {
            return Poll::Ready(response);
        }
        match this.deadline.as_pin_mut().map(|deadline| deadline.poll(cx)) {
            Some(Poll::Ready(())) => Poll::Ready(Ok(AppError::new(
                ErrorCode::ServiceUnavailable,
                "the server took too long to answer, try again shortly",
            )
            .into_response())),
            _ => Poll::Pending,
        }
    }
}
