//! Request bodies are read here, whole, before a handler runs: at most `PYLON_MAX_BODY_BYTES` (413,
//! announced sizes refused before a byte is read) within `PYLON_BODY_READ_TIMEOUT_SECONDS` (408:
//! a client that stops sending is the client's stall, not the chain's, and costs no more than
//! that), and a body the client garbles (broken chunk sizes) is a 400. Every refusal is the
//! usual JSON error; handlers then see a body that is already in memory. Applied by
//! [`crate::frame`].

use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::Request;
use axum::http::header::{CONNECTION, CONTENT_LENGTH};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};

use crate::error::ApiError;

#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub max_bytes: usize,
    pub read_timeout: Duration,
}

fn too_large(limits: &BodyLimits) -> Response {
    ApiError::TooLarge(format!(
        "body: larger than {} bytes (PYLON_MAX_BODY_BYTES)",
        limits.max_bytes
    ))
    .into_response()
}

/// The connection cannot be reused after a body was left unread: say so.
fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(CONNECTION, HeaderValue::from_static("close"));
    response
}

/// `request` with its body in memory, or the refusal to answer instead.
pub async fn read_whole(request: Request, limits: &BodyLimits) -> Result<Request, Response> {
    let announced = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limits.max_bytes as u64) {
        return Err(closing(too_large(limits)));
    }
    if request.body().size_hint().exact() == Some(0) {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let read = Limited::new(body, limits.max_bytes).collect();
    let refusal = match tokio::time::timeout(limits.read_timeout, read).await {
        Ok(Ok(collected)) => {
            return Ok(Request::from_parts(parts, Body::from(collected.to_bytes())))
        }
        Ok(Err(error)) if error.is::<LengthLimitError>() => too_large(limits),
        Ok(Err(error)) => {
            let mut reason = error.to_string();
            let mut source = std::error::Error::source(error.as_ref());
            while let Some(cause) = source {
                reason.push_str(": ");
                reason.push_str(&cause.to_string());
                source = cause.source();
            }
            ApiError::BadRequest(format!("body: cannot be read ({reason})")).into_response()
        }
        Err(_) => ApiError::RequestTimeout(format!(
            "body: did not arrive in full within {:.3} s (PYLON_BODY_READ_TIMEOUT_SECONDS)",
            limits.read_timeout.as_secs_f64()
        ))
        .into_response(),
    };
    Err(closing(refusal))
}
