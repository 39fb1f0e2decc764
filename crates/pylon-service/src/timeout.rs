//! `X-Pylon-Timeout: <seconds>`: answer 504 when a request cannot finish in time (capped by the
//! max setting; the default applies when the header is absent). Applied by [`crate::frame`].

use std::time::Duration;

use axum::http::HeaderMap;

use crate::error::ApiError;
use crate::settings::Settings;

pub const TIMEOUT_HEADER: &str = "x-pylon-timeout";

/// The request time settings: `PYLON_DEFAULT_REQUEST_TIMEOUT_SECONDS` and the max.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    pub default: Duration,
    pub max: Duration,
}

impl Budget {
    pub fn from_settings(settings: &Settings) -> Self {
        Budget {
            default: settings.default_request_timeout,
            max: settings.max_request_timeout,
        }
    }

    /// The time a request may take: what it asks for, at most the max.
    pub fn of(&self, headers: &HeaderMap) -> Result<Duration, ApiError> {
        let requested = match headers.get(TIMEOUT_HEADER) {
            None => self.default,
            Some(value) => value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| *s >= 0.0)
                // Any non-negative number is a budget; one past what a Duration holds (1e308, inf)
                // is simply more than the max, which caps it below.
                .map(|s| Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX))
                .ok_or_else(|| {
                    ApiError::BadRequest(
                        "X-Pylon-Timeout: expected a non-negative number of seconds".into(),
                    )
                })?,
        };
        Ok(requested.min(self.max))
    }
}
