//! Per-request series: `pylon_requests_total`, `pylon_request_duration_seconds`,
//! `pylon_requests_in_progress` and `pylon_requests_error_total`, labelled by method, the route's
//! *template* (`/api/v1/subnet/{netuid}/block/latest/neurons`, never the raw path, so a scan of
//! random URLs cannot grow the series) and status code. Counted by [`crate::frame`].

use std::time::Instant;

use axum::extract::MatchedPath;
use axum::http::{Method, StatusCode};
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

/// One request being counted: in the in-progress gauge from [`Tracker::start`] until it is
/// finished or dropped (a request whose future is dropped still leaves the gauge).
pub struct Tracker {
    method: &'static str,
    path: Option<MatchedPath>,
    in_progress: IntGauge,
    started: Instant,
}

impl Tracker {
    /// Start counting a request to `path` (the route's template; `None`: no route matched).
    pub fn start(method: &Method, path: Option<&MatchedPath>) -> Self {
        let method = method_label(method);
        let path = path.cloned();
        let label = path.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        let in_progress = global()
            .requests_in_progress
            .with_label_values(&[method, label, APP_NAME]);
        in_progress.inc();
        Tracker {
            method,
            path,
            in_progress,
            started: Instant::now(),
        }
    }

    /// The request was answered with `status`.
    pub fn finish(self, status: StatusCode) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let metrics = global();
        let path = self.path.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        let labels = [self.method, path, status.as_str(), APP_NAME];
        metrics.requests.with_label_values(&labels).inc();
        metrics
            .request_duration
            .with_label_values(&labels)
            .observe(elapsed);
        if status.is_server_error() {
            metrics.request_errors.with_label_values(&labels).inc();
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.in_progress.dec();
    }
}
