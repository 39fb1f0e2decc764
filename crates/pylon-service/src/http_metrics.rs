//! Per-request series: `pylon_requests_total`, `pylon_request_duration_seconds`,
//! `pylon_requests_in_progress` and `pylon_requests_error_total`, labelled by method, the route's
//! *template* (`/api/v1/subnet/{netuid}/block/latest/neurons`, never the raw path, so a scan of
//! random URLs cannot grow the series) and status code.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus::IntGauge;

use crate::metrics::{global, APP_NAME};

/// The `path` label of requests no route matched.
pub const UNMATCHED: &str = "<unmatched>";

/// Methods outside the standard set share one label value.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::PUT => "PUT",
        Method::POST => "POST",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "OTHER",
    }
}

/// Decrements the in-progress gauge however the request ends (also when its future is dropped).
struct InProgress(IntGauge);

impl Drop for InProgress {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Middleware: count and time every request by route template.
pub async fn track(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| UNMATCHED.to_owned());
    let metrics = global();
    let gauge = metrics
        .requests_in_progress
        .with_label_values(&[method, path.as_str(), APP_NAME]);
    gauge.inc();
    let in_progress = InProgress(gauge);
    let started = Instant::now();
    let response = next.run(request).await;
    let elapsed = started.elapsed().as_secs_f64();
    drop(in_progress);
    let status = response.status();
    let labels = [method, path.as_str(), status.as_str(), APP_NAME];
    metrics.requests.with_label_values(&labels).inc();
    metrics
        .request_duration
        .with_label_values(&labels)
        .observe(elapsed);
    if status.is_server_error() {
        metrics.request_errors.with_label_values(&labels).inc();
    }
    response
}
