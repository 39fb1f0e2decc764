//! Per-request series: `pylon_requests_total`, `pylon_request_duration_seconds`,
//! `pylon_requests_in_progress` and `pylon_requests_error_total`, labelled by method, the route's
//! *template* (`/api/v1/subnet/{netuid}/block/latest/neurons`, never the raw path, so a scan of
//! random URLs cannot grow the series) and status code. Counted by [`crate::frame`].

use std::collections::HashMap;
use std::sync::{LazyLock, PoisonError, RwLock};
use std::time::{Duration, Instant};

use axum::extract::MatchedPath;
use axum::http::{Method, StatusCode};
use prometheus::{Histogram, IntCounter, IntGauge};

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

/// One route's series handles, per method and status, looked up in the registry once: a lookup
/// there hashes every label value and takes a lock, three times per request.
#[derive(Default)]
struct RouteSeries {
    in_progress: Vec<(&'static str, IntGauge)>,
    answered: Vec<(&'static str, StatusCode, Answered)>,
}

#[derive(Clone)]
struct Answered {
    requests: IntCounter,
    duration: Histogram,
    errors: Option<IntCounter>,
}

/// By route template; bounded by the route table (unmatched paths share one label).
static SERIES: LazyLock<RwLock<HashMap<String, RouteSeries>>> = LazyLock::new(Default::default);

/// `find` in the route's series, or `make` it and keep it.
fn series<T: Clone>(
    path: &str,
    find: impl Fn(&RouteSeries) -> Option<T>,
    make: impl FnOnce(&mut RouteSeries) -> T,
) -> T {
    let known = SERIES
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .get(path)
        .and_then(&find);
    if let Some(found) = known {
        return found;
    }
    let mut all = SERIES.write().unwrap_or_else(PoisonError::into_inner);
    let route = all.entry(path.to_owned()).or_default();
    find(route).unwrap_or_else(|| make(route))
}

fn in_progress(method: &'static str, path: &str) -> IntGauge {
    series(
        path,
        |route| {
            route
                .in_progress
                .iter()
                .find(|(m, _)| *m == method)
                .map(|(_, gauge)| gauge.clone())
        },
        |route| {
            let gauge = global()
                .requests_in_progress
                .with_label_values(&[method, path, APP_NAME]);
            route.in_progress.push((method, gauge.clone()));
            gauge
        },
    )
}

fn answered(method: &'static str, path: &str, status: StatusCode) -> Answered {
    series(
        path,
        |route| {
            route
                .answered
                .iter()
                .find(|(m, s, _)| *m == method && *s == status)
                .map(|(_, _, series)| series.clone())
        },
        |route| {
            let metrics = global();
            let labels = [method, path, status.as_str(), APP_NAME];
            let series = Answered {
                requests: metrics.requests.with_label_values(&labels),
                duration: metrics.request_duration.with_label_values(&labels),
                errors: status
                    .is_server_error()
                    .then(|| metrics.request_errors.with_label_values(&labels)),
            };
            route.answered.push((method, status, series.clone()));
            series
        },
    )
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
        let in_progress = in_progress(method, path.as_ref().map_or(UNMATCHED, MatchedPath::as_str));
        in_progress.inc();
        Tracker {
            method,
            path,
            in_progress,
            started: Instant::now(),
        }
    }

    /// The request was answered with `status`; how long it took.
    pub fn finish(self, status: StatusCode) -> Duration {
        let took = self.started.elapsed();
        let elapsed = took.as_secs_f64();
        let path = self.path.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
        let series = answered(self.method, path, status);
        series.requests.inc();
        series.duration.observe(elapsed);
        if let Some(errors) = series.errors {
            errors.inc();
        }
        took
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.in_progress.dec();
    }
}
