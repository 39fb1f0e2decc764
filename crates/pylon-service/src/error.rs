//! Every failure a request can meet, as one enum that renders the reference's error body
//! `{"status_code": …, "detail": …}`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use pylon_chain::{ChainError, SubmitError};
use pylon_weights::store::StoreError;

/// A refusal reads as one; the other failures say what they are themselves.
fn submit_detail(error: &SubmitError) -> String {
    match error {
        SubmitError::Invalid(_) | SubmitError::Module { .. } | SubmitError::Dispatch(_) => {
            format!("the chain refused the extrinsic: {error}")
        }
        SubmitError::Call(_) | SubmitError::Connection(_) => error.to_string(),
    }
}

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
    /// A signed submission failed; its kind decides the status (see [`ApiError::status`]).
    #[error("{}", submit_detail(.0))]
    Submit(#[from] SubmitError),
    /// The weights job store failed.
    #[error("the weights job store failed: {0}")]
    Store(#[from] StoreError),
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
            // The call does not fit the chain's metadata: the request cannot be acted on.
            ApiError::Submit(SubmitError::Call(_)) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Submit(SubmitError::Connection(_)) => StatusCode::SERVICE_UNAVAILABLE,
            // Refused by the pool, or included and failed: the chain's answer, in its words.
            ApiError::Submit(
                SubmitError::Invalid(_) | SubmitError::Module { .. } | SubmitError::Dispatch(_),
            ) => StatusCode::BAD_GATEWAY,
            ApiError::Store(_) => StatusCode::SERVICE_UNAVAILABLE,
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
        if let ApiError::Store(error) = &self {
            tracing::error!(%error, "weights job store");
        } else if status.is_server_error() {
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

    #[test]
    fn submission_failures_map_by_kind_and_refusals_say_so() {
        let call = ApiError::from(SubmitError::Call("no such call".into()));
        assert_eq!(call.status(), 422);
        assert_eq!(call.to_string(), "cannot build the call: no such call");
        let gone = ApiError::from(SubmitError::Connection("closed".into()));
        assert_eq!(gone.status(), 503);
        let refused = ApiError::from(SubmitError::Module {
            pallet: "SubtensorModule".into(),
            name: "HotKeyNotRegisteredInSubNet".into(),
            docs: String::new(),
        });
        assert_eq!(refused.status(), 502);
        assert_eq!(
            refused.to_string(),
            "the chain refused the extrinsic: SubtensorModule.HotKeyNotRegisteredInSubNet"
        );
        assert_eq!(
            ApiError::from(SubmitError::Dispatch("BadOrigin".into())).status(),
            502
        );
    }
}
