//! Every error answer is the service's JSON shape (`{"status_code", "detail"}`), also the ones
//! the router gives by itself: 405 for a method a path does not take (with its `Allow` header:
//! unknown methods, `OPTIONS`, `TRACE`, a CORS preflight) and any extractor's plain-text
//! rejection. Answers that are already JSON pass untouched.
//!
//! It wraps the whole router, not each route: axum adds a 405's `Allow` header outside the
//! route's layers, and the detail names the allowed methods.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::http::header::{ALLOW, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::Response;
use pylon_weights::echo::echo;

/// A plain-text error body longer than this is not repeated (only its status' reason is given).
const MAX_TEXT: usize = 4096;

/// The router with every error answer in the JSON shape.
#[derive(Clone)]
pub struct JsonErrors<S>(pub S);

impl<S> tower::Service<Request> for JsonErrors<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let method = request.method().clone();
        let answer = self.0.call(request);
        Box::pin(async move { Ok(render(&method, answer.await?).await) })
    }
}

/// `response` to a `method` request, in the JSON shape if it is an error that is not yet.
async fn render(method: &Method, response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_TEXT)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error");
    let detail = if status == StatusCode::METHOD_NOT_ALLOWED {
        let allowed = parts
            .headers
            .get(ALLOW)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("")
            .replace(',', ", ");
        format!(
            "method {} is not allowed on this path; allowed: {allowed}",
            echo(method.as_str())
        )
    } else if text.is_empty() {
        reason.to_owned()
    } else {
        text
    };
    let body = serde_json::to_vec(&crate::wire::ErrorResponse {
        status_code: status.as_u16(),
        detail,
    })
    .expect("an error body serialises");
    parts.headers.remove(CONTENT_LENGTH);
    parts
        .headers
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}
