//! Pylon's HTTP service: the v1 read API over a cache that follows the chain's heads, and the
//! write path ([`writes`]) signing with the identities' hotkeys.
//!
//! - [`settings`]: configuration from the environment; [`secret`]: tokens.
//! - [`access`]: bearer auth; [`paths`]: typed path parameters; [`error`]: every failure as a
//!   status + JSON.
//! - [`table`]: the route tables mounted under every API prefix, router and OpenAPI together.
//! - [`routes`] → [`reads`] (cache + single-flight) → [`render`] → [`wire`] (reference JSON
//!   shapes, also the OpenAPI document's schemas via [`schema`]).
//! - [`prefetch`]: hot subnets fetched on each new head; [`respond`]: ETag / 304.
//! - [`events`]: the live event streams (`…/events`), one hub following the heads.
//! - [`frame`]: the one layer around every route: request id, span, metrics, body, timeout.
//! - Hostile clients: [`connections`] (timeouts, caps, buffer bounds), [`request_body`] (bodies
//!   read whole, bounded in size and time), [`json_errors`] (every error in the JSON shape, around the router).
//! - Operations: [`metrics`] (`/metrics`) with [`http_metrics`] (per-request series), [`health`]
//!   (`/health`, `/ready`).

pub mod access;
pub mod cache;
pub mod connections;
pub mod encoding;
pub mod error;
pub mod events;
pub mod evm;
pub mod frame;
pub mod health;
pub mod http_metrics;
pub mod hyperparams;
pub mod json_errors;
pub mod market;
pub mod metrics;
pub mod paths;
pub mod prefetch;
pub mod reads;
pub mod render;
pub mod request_body;
pub mod respond;
pub mod routes;
pub mod schema;
pub mod secret;
pub mod service;
pub mod settings;
pub mod state;
pub mod table;
pub mod timeout;
pub mod unstable;
pub mod weights_read;
pub mod wire;
pub mod writes;

pub use error::ApiError;
pub use secret::Secret;
pub use service::{app, run, App, Service, ServiceError};
pub use settings::{Identity, Settings, SettingsError};
