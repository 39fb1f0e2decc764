//! The frame every request passes through, as one layer around each route (and the fallback):
//! its id and log span, its body read whole ([`request_body`]), its time budget ([`timeout`]),
//! and its per-route series ([`http_metrics`]).
//!
//! One hand-written layer, one boxed future per request: a stack of separate middlewares costs
//! a boxed service clone and a boxed future each, per request, which on a cached read is a large
//! share of the whole answer's cost.
//!
//! Order, outside in: request id → span → metrics → body → timeout → route. So the id is on every
//! answer and log line, refused bodies and timeouts are counted, and the timeout covers the
//! route's work, not the client's upload (which has its own bound). Errors the router gives by
//! itself are put in the JSON shape around the whole router
//! ([`json_errors`](crate::json_errors)).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::extract::{MatchedPath, Request};
use axum::http::header::HeaderName;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};
use tracing::Instrument;

use crate::error::ApiError;
use crate::request_body::BodyLimits;
use crate::settings::Settings;
use crate::{http_metrics, request_body, timeout};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The layer; one per router (its request-id sequence is shared by every route).
#[derive(Clone)]
pub struct FrameLayer {
    shared: Arc<Shared>,
}

struct Shared {
    budget: timeout::Budget,
    body: BodyLimits,
    last_id: AtomicU64,
}

impl FrameLayer {
    pub fn new(settings: &Settings, body: BodyLimits) -> Self {
        FrameLayer {
            shared: Arc::new(Shared {
                budget: timeout::Budget::from_settings(settings),
                body,
                last_id: AtomicU64::new(0),
            }),
        }
    }
}

impl<S> Layer<S> for FrameLayer {
    type Service = Frame<S>;

    fn layer(&self, inner: S) -> Frame<S> {
        Frame {
            inner,
            shared: self.shared.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Frame<S> {
    inner: S,
    shared: Arc<Shared>,
}

impl<S> Service<Request> for Frame<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request) -> Self::Future {
        // The clone is the one not yet polled ready: keep it, call the ready one.
        let ready = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, ready);
        let shared = self.shared.clone();
        let id = request_id(&mut request, &shared.last_id);
        let span = request_span(&request, &id);
        Box::pin(
            async move {
                let mut response = answer(inner, &shared, request).await;
                response.headers_mut().entry(REQUEST_ID).or_insert(id);
                Ok(response)
            }
            .instrument(span),
        )
    }
}

async fn answer<S>(mut inner: S, shared: &Shared, request: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let tracked =
        http_metrics::Tracker::start(request.method(), request.extensions().get::<MatchedPath>());
    let response = match request_body::read_whole(request, &shared.body).await {
        Err(refusal) => refusal,
        Ok(request) => match shared.budget.of(request.headers()) {
            Err(error) => error.into_response(),
            Ok(allowed) => match tokio::time::timeout(allowed, inner.call(request)).await {
                Ok(Ok(response)) => response,
                Ok(Err(never)) => match never {},
                Err(_) => ApiError::Timeout(allowed.as_secs_f64()).into_response(),
            },
        },
    };
    let took = tracked.finish(response.status());
    // Every request at debug level (an access log when asked for; in the request's span).
    tracing::debug!(
        status = response.status().as_u16(),
        latency_ms = took.as_secs_f64() * 1e3,
        "finished processing request"
    );
    response
}

/// The client's `x-request-id` when it sent one; else the next of a process-wide sequence. It is
/// set on the request (handlers and logs see it) and copied to the answer.
fn request_id(request: &mut Request, last: &AtomicU64) -> HeaderValue {
    if let Some(id) = request.headers().get(&REQUEST_ID) {
        return id.clone();
    }
    let id = HeaderValue::from(last.fetch_add(1, Ordering::Relaxed) + 1);
    request.headers_mut().insert(REQUEST_ID, id.clone());
    id
}

/// Every log line of a request carries its id, method and path. The span is at info level so
/// warnings inside it keep the id; no header other than the id and no query string goes in
/// (tokens travel in headers). The fields are written as they are (`%`), not quoted and escaped:
/// a parsed path and a header value's `to_str` hold visible ASCII only.
fn request_span(request: &Request, id: &HeaderValue) -> tracing::Span {
    tracing::info_span!(
        "request",
        id = %id.to_str().unwrap_or("-"),
        method = %request.method(),
        path = %request.uri().path(),
    )
}
