//! `X-Pylon-Timeout: <seconds>`: answer 504 when a request cannot finish in time (capped by the
//! max setting; the default applies when the header is absent).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::state::AppState;

pub const TIMEOUT_HEADER: &str = "x-pylon-timeout";

pub async fn limit(State(state): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let settings = &state.settings;
    let requested = match request.headers().get(TIMEOUT_HEADER) {
        None => settings.default_request_timeout,
        Some(value) => match value
            .to_str()
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| *s >= 0.0)
            // Any non-negative number is a budget; one past what a Duration holds (1e308, inf)
            // is simply more than the max, which caps it below.
            .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
        {
            Some(duration) => duration,
            None => {
                return ApiError::BadRequest(
                    "X-Pylon-Timeout: expected a non-negative number of seconds".into(),
                )
                .into_response()
            }
        },
    };
    let allowed = requested.min(settings.max_request_timeout);
    match tokio::time::timeout(allowed, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout(allowed.as_secs_f64()).into_response(),
    }
}
