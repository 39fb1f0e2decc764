//! Probes for orchestrators, without auth: `/health` (the process answers) and `/ready` (it can
//! serve fresh chain data: the main node is connected and its newest head is recent).

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;

use crate::state::AppState;

pub fn router() -> Router<Arc<AppState>> {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
}

#[derive(Debug, Serialize)]
struct Health {
    status: &'static str,
}

/// 200 whenever the process can answer HTTP at all (a liveness probe: restarting the process is
/// the only remedy for a failure here, so it does not look at the chain).
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// `/ready`'s answer: `status` is `ready` or `not_ready`, with the reason when not.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub connected: bool,
    pub head_block: Option<u32>,
    pub head_age_seconds: Option<f64>,
    /// With a shared job store (`PYLON_DATABASE_URL`): the identities whose weights this
    /// instance signs now (it holds their lock), and those another instance signs. A standby is
    /// ready too: it serves reads and records writes for the leader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub leading: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby: Option<Vec<String>>,
}

/// Why the service is not ready, if it is not.
pub fn not_ready_reason(state: &AppState) -> Option<String> {
    let chain = &state.chain;
    let max_age = state.settings.ready_max_head_age;
    if !chain.is_connected() {
        return Some(format!(
            "not connected to the chain node {}",
            state.settings.network.url()
        ));
    }
    match (chain.head(), chain.head_age()) {
        (Some(head), Some(age)) if age > max_age => Some(format!(
            "the newest head (block {}) arrived {:.1} s ago, more than the {} s allowed \
             (PYLON_READY_MAX_HEAD_AGE_SECONDS)",
            head.number,
            age.as_secs_f64(),
            max_age.as_secs_f64()
        )),
        (Some(_), Some(_)) => None,
        _ => Some("no block seen from the chain yet".into()),
    }
}

/// 200 when connected with a fresh head, else 503 with the reason (a readiness probe: traffic
/// should go elsewhere meanwhile; cached answers would still be served).
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let reason = not_ready_reason(&state);
    let body = Readiness {
        status: if reason.is_none() {
            "ready"
        } else {
            "not_ready"
        },
        connected: state.chain.is_connected(),
        head_block: state.chain.head().map(|head| head.number),
        head_age_seconds: state.chain.head_age().map(|age| age.as_secs_f64()),
        reason,
        leading: None,
        standby: None,
    };
    let body = with_leadership(body, &state);
    let status = if body.reason.is_none() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Fill in which identities this instance leads (issue 13: several instances).
fn with_leadership(mut body: Readiness, state: &AppState) -> Readiness {
    let leadership = state.writer.as_ref().and_then(|w| w.leadership.as_ref());
    if let Some(leadership) = leadership {
        let (leading, standby): (Vec<_>, Vec<_>) = leadership
            .identities()
            .into_iter()
            .partition(|(_, leads)| *leads);
        body.leading = Some(leading.into_iter().map(|(name, _)| name).collect());
        body.standby = Some(standby.into_iter().map(|(name, _)| name).collect());
    }
    body
}
