//! Cached bytes as an HTTP response: `ETag`, `If-None-Match` → 304, and the block it is from.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::FromRequestParts;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY,
};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;

use crate::cache::Rendered;
use crate::encoding::{negotiate, Coding};

/// Which block an answer is from, so a reader can tell a cached answer's age.
pub const BLOCK_HEADER: &str = "x-pylon-block";
const BLOCK_HEADER_NAME: HeaderName = HeaderName::from_static(BLOCK_HEADER);

/// What a request asks of a cached answer: the tags of its `If-None-Match` and the coding it
/// accepts. An extractor that reads the two headers, not a copy of the whole header map (which
/// the `HeaderMap` extractor makes).
#[derive(Debug, Clone, Default)]
pub struct Conditions {
    if_none_match: Option<HeaderValue>,
    coding: Option<Coding>,
}

impl Conditions {
    pub fn of(headers: &HeaderMap) -> Self {
        Conditions {
            if_none_match: headers.get(IF_NONE_MATCH).cloned(),
            coding: negotiate(headers),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Conditions {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(Conditions::of(&parts.headers))
    }
}

/// On every cached read, so it allocates nothing but the response: the header values are the
/// ones `Rendered` built once, the body a shared `Bytes` (compressed once per coding).
pub fn cached(rendered: &Arc<Rendered>, request: &Conditions) -> Response {
    let matches = request
        .if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == rendered.etag || tag.trim() == "*")
        });
    let (status, body, coding) = if matches {
        (StatusCode::NOT_MODIFIED, Body::empty(), None)
    } else {
        // The compression layer leaves bodies that already have a Content-Encoding alone.
        match request.coding {
            Some(coding) => (
                StatusCode::OK,
                Body::from(rendered.encoded(coding)),
                Some(coding),
            ),
            None => (StatusCode::OK, Body::from(rendered.body.clone()), None),
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(6);
    headers.insert(ETAG, rendered.etag_header.clone());
    headers.insert(BLOCK_HEADER_NAME, rendered.block_header.clone());
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    if !matches {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
        if let Some(coding) = coding {
            headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
        }
    }
    response
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
