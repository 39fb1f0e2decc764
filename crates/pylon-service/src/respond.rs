//! Cached bytes as an HTTP response: `ETag`, `If-None-Match` → 304, and the block it is from.

use std::sync::Arc;

use axum::body::Body;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::cache::Rendered;
use crate::encoding::negotiate;

/// Which block an answer is from, so a reader can tell a cached answer's age.
pub const BLOCK_HEADER: &str = "x-pylon-block";

pub fn cached(rendered: &Arc<Rendered>, request: &HeaderMap) -> Response {
    let etag = HeaderValue::from_str(&rendered.etag).expect("etags are hex in quotes");
    let block = HeaderValue::from(rendered.block.number);
    let matches = request
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == rendered.etag || tag.trim() == "*")
        });
    let mut builder = Response::builder()
        .header(ETAG, etag)
        .header(BLOCK_HEADER, block)
        .header(CACHE_CONTROL, "no-cache");
    if matches {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder.body(Body::empty()).expect("valid response");
    }
    builder = builder
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "application/json")
        .header(VARY, "accept-encoding");
    // Compressed once per coding and shared (the compression layer leaves encoded bodies alone).
    let body = match negotiate(request) {
        Some(coding) => {
            builder = builder.header(CONTENT_ENCODING, coding.name());
            rendered.encoded(coding)
        }
        None => rendered.body.clone(),
    };
    builder.body(Body::from(body)).expect("valid response")
}

// --- replicas behind an HTTP cache (issue 13) ---

/// What a shared cache (nginx, a CDN) may do with an answer about a past, settled block: keep
/// it for a year and never revalidate it — that block's data cannot change.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// How many blocks a `recent` answer is behind the head.
pub const AGE_BLOCKS_HEADER: &str = "x-pylon-age-blocks";

/// Mark an answer about block `block` immutable when the block is settled (at least
/// `SETTLED_DEPTH` behind the head, so no fork can replace it); a newer block's answer keeps
/// `no-cache` (revalidated with its `ETag`, like `latest`).
pub fn for_block(mut response: Response, block: u32, head: Option<u32>) -> Response {
    let settled =
        head.is_some_and(|head| head.saturating_sub(block) >= pylon_chain::blocks::SETTLED_DEPTH);
    let status = response.status();
    if settled && (status == StatusCode::OK || status == StatusCode::NOT_MODIFIED) {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    response
}

/// Say how old a `recent` answer is: how many blocks behind the head its block is.
pub fn with_age(mut response: Response, block: u32, head: Option<u32>) -> Response {
    if let Some(head) = head {
        response.headers_mut().insert(
            AGE_BLOCKS_HEADER,
            HeaderValue::from(head.saturating_sub(block)),
        );
    }
    response
}
