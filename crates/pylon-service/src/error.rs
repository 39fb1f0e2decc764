//! Every failure a request can meet, as one enum that renders the reference's error body
//! `{"status_code": …, "detail": …}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pylon_chain::ChainError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed input; the message names the field.
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    /// The identity works on another netuid than the URL's. 308, as the reference answers: its
    /// clients then look the identity's netuid up again and repeat the call; `location` is the
    /// same path with the identity's netuid (the `Location` header).
    #[error("{detail}")]
    NetuidMismatch { detail: String, location: String },
    #[error("{0}")]
    NotFound(String),
    /// The request body did not arrive in full within `PYLON_BODY_READ_TIMEOUT_SECONDS`.
    #[error("{0}")]
    RequestTimeout(String),
    /// The request body is larger than `PYLON_MAX_BODY_BYTES`.
    #[error("{0}")]
    TooLarge(String),
    /// Well-formed input the request cannot act on (e.g. weights for unregistered hotkeys).
    #[error("{0}")]
    Unprocessable(String),
    /// The chain refused a write (its decoded error).
    #[error("the chain refused the extrinsic: {0}")]
    ChainRefused(String),
    /// A part of the service the request needs is not available (the chain for a write, the job
    /// store).
    #[error("{0}")]
    Unavailable(String),
    #[error("the request did not finish within {0:.3} s")]
    Timeout(f64),
    #[error(transparent)]
    Chain(#[from] ChainError),
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NetuidMismatch { .. } => StatusCode::PERMANENT_REDIRECT,
            ApiError::RequestTimeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::ChainRefused(_) => StatusCode::BAD_GATEWAY,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Timeout(_) => StatusCode::GATEWAY_TIMEOUT,
            ApiError::Chain(ChainError::UnknownBlock(_)) => StatusCode::NOT_FOUND,
            ApiError::Chain(ChainError::Unreachable(_)) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Chain(ChainError::Decode(_) | ChainError::Rpc(_)) => StatusCode::BAD_GATEWAY,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let location = match &self {
            ApiError::NetuidMismatch { location, .. } => HeaderValue::from_str(location).ok(),
            _ => None,
        };
        if status.is_server_error() {
            tracing::warn!(status = status.as_u16(), error = %self, "request failed");
        }
        let body = crate::wire::ErrorResponse {
            status_code: status.as_u16(),
            detail: self.to_string(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(location) = location {
            response.headers_mut().insert(header::LOCATION, location);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_trouble_maps_to_gateway_statuses_and_missing_blocks_to_404() {
        let status = |e: ChainError| ApiError::from(e).status().as_u16();
        assert_eq!(status(ChainError::UnknownBlock("x".into())), 404);
        assert_eq!(status(ChainError::Unreachable("x".into())), 503);
        assert_eq!(status(ChainError::Rpc("x".into())), 502);
        assert_eq!(status(ChainError::Decode("x".into())), 502);
    }
}
