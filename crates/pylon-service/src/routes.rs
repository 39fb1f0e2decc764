//! The v1 routes: reads here, writes in [`crate::writes`]. Each is registered under both `/api/v1/subnet/{netuid}` (open access) and
//! `/api/v1/identity/{name}/subnet/{netuid}` (identity); [`Scope`] does the auth for both.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use pylon_chain::BlockRef;

use crate::access::Scope;
use crate::cache::Rendered;
use crate::error::ApiError;
use crate::respond::cached;
use crate::state::{AppState, View};
use crate::{evm, market, reads, render, wire, writes};

type AppResult = Result<Response, ApiError>;
type St = State<Arc<AppState>>;

pub fn router() -> Router<Arc<AppState>> {
    let subnet = Router::new()
        .route("/block/latest", get(latest_block))
        .route("/block/latest/neurons", get(latest_neurons))
        .route("/block/recent/neurons", get(recent_neurons))
        .route("/block/{block_number}/neurons", get(neurons_at))
        .route("/block/latest/validators", get(latest_validators))
        .route("/block/{block_number}/validators", get(validators_at))
        .route(
            "/block/{block_number}/extrinsic/{extrinsic_index}",
            get(extrinsic),
        )
        .route("/block/latest/certificates", get(certificates))
        .route("/block/latest/certificates/self", get(own_certificate))
        .route("/block/latest/certificates/{hotkey}", get(certificate))
        .route("/block/latest/commitments", get(commitments))
        .route("/block/latest/commitments/self", get(own_commitment))
        .route("/block/latest/commitments/{hotkey}", get(commitment))
        .route(
            "/block/latest/commitments/revealed",
            get(revealed_commitments),
        )
        .route(
            "/block/latest/commitments/revealed/self",
            get(own_revealed_commitments),
        )
        .route(
            "/block/latest/commitments/revealed/{hotkey}",
            get(revealed_commitment),
        )
        .route("/block/latest/price", get(market::latest_price))
        .route("/block/{block_number}/price", get(market::price_at))
        .route(
            "/block/latest/evm_associations",
            get(market::latest_evm_associations),
        );
    Router::new()
        .route("/api/v1/identities", get(identities))
        // Chain-level routes (no subnet), open access like the subnet routes.
        .route("/api/v1/block/latest", get(latest_block))
        .route(
            "/api/v1/block/{block_number}/extrinsic/{extrinsic_index}",
            get(extrinsic),
        )
        .route("/api/v1/block/latest/prices", get(market::latest_prices))
        .route(
            "/api/v1/block/{block_number}/prices",
            get(market::prices_at),
        )
        .route(
            "/api/v1/block/latest/drand/last_stored_round",
            get(market::drand_last_stored_round),
        )
        .route(
            "/api/v1/evm/contracts/{contract_address}/logs",
            axum::routing::post(evm::contract_logs),
        )
        .nest(
            "/api/v1/subnet/{netuid}",
            subnet.clone().merge(writes::open_access_router()),
        )
        .nest(
            "/api/v1/identity/{name}/subnet/{netuid}",
            subnet.merge(writes::identity_router()),
        )
}

fn head(state: &AppState, scope: &Scope) -> Result<BlockRef, ApiError> {
    state.note_requested(scope.netuid);
    Ok(state.chain.latest_block()?)
}

async fn block_at(state: &AppState, scope: &Scope) -> Result<BlockRef, ApiError> {
    let number = scope.block_number()?;
    state.note_requested(scope.netuid);
    Ok(state.chain.block(number).await?)
}

fn ok(rendered: Result<Arc<Rendered>, pylon_chain::ChainError>, headers: &HeaderMap) -> AppResult {
    Ok(cached(&rendered?, headers))
}

async fn latest_block(State(state): St, _scope: Scope, headers: HeaderMap) -> AppResult {
    let head = state.chain.latest_block()?;
    ok(reads::block_info(&state, &head).await, &headers)
}

async fn latest_neurons(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::latest(&state, View::Neurons, scope.netuid, &head).await,
        &headers,
    )
}

async fn recent_neurons(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    state.note_requested(scope.netuid);
    Ok(cached(
        &reads::recent_neurons(&state, scope.netuid).await?,
        &headers,
    ))
}

async fn neurons_at(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let block = block_at(&state, &scope).await?;
    ok(reads::neurons(&state, scope.netuid, &block).await, &headers)
}

async fn latest_validators(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::latest(&state, View::Validators, scope.netuid, &head).await,
        &headers,
    )
}

async fn validators_at(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let block = block_at(&state, &scope).await?;
    ok(
        reads::validators(&state, scope.netuid, &block).await,
        &headers,
    )
}

async fn extrinsic(State(state): St, scope: Scope) -> AppResult {
    let number = scope.block_number()?;
    let index = scope.extrinsic_index()?;
    let block = state.chain.block(number).await?;
    let extrinsic =
        state.chain.extrinsic(&block, index).await?.ok_or_else(|| {
            ApiError::NotFound(format!("block {number} has no extrinsic {index}"))
        })?;
    Ok(json_bytes(render::extrinsic(&extrinsic)))
}

async fn certificates(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::certificates(&state, scope.netuid, &head).await,
        &headers,
    )
}

async fn certificate(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = scope.hotkey()?;
    certificate_of(&state, &scope, &hotkey, id).await
}

async fn own_certificate(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    certificate_of(&state, &scope, &hotkey, id).await
}

async fn certificate_of(state: &AppState, scope: &Scope, hotkey: &str, id: [u8; 32]) -> AppResult {
    let head = head(state, scope)?;
    let found = state.chain.certificate(scope.netuid, id, &head).await?;
    let found = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "{hotkey} has no certificate on netuid {}",
            scope.netuid
        ))
    })?;
    Ok(Json(render::certificate(&found)).into_response())
}

async fn commitments(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::commitments(&state, scope.netuid, &head).await,
        &headers,
    )
}

async fn commitment(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = scope.hotkey()?;
    commitment_of(&state, &scope, &hotkey, id).await
}

async fn own_commitment(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    commitment_of(&state, &scope, &hotkey, id).await
}

async fn commitment_of(state: &AppState, scope: &Scope, hotkey: &str, id: [u8; 32]) -> AppResult {
    let head = head(state, scope)?;
    let found = state.chain.commitment(scope.netuid, id, &head).await?;
    let found = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "{hotkey} has no commitment on netuid {}",
            scope.netuid
        ))
    })?;
    Ok(json_bytes(render::commitment(&head, hotkey, &found)))
}

async fn revealed_commitments(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::revealed_commitments(&state, scope.netuid, &head).await,
        &headers,
    )
}

async fn revealed_commitment(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = scope.hotkey()?;
    revealed_of(&state, &scope, &hotkey, id).await
}

async fn own_revealed_commitments(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    revealed_of(&state, &scope, &hotkey, id).await
}

async fn revealed_of(state: &AppState, scope: &Scope, hotkey: &str, id: [u8; 32]) -> AppResult {
    let head = head(state, scope)?;
    let items = state
        .chain
        .revealed_commitment(scope.netuid, id, &head)
        .await?;
    Ok(json_bytes(render::revealed_commitment(
        &head, hotkey, &items,
    )))
}

/// `self` routes exist only for identities: the identity's own hotkey.
async fn own_hotkey(state: &AppState, scope: &Scope) -> Result<(String, [u8; 32]), ApiError> {
    let identity = scope.identity.as_ref().ok_or_else(|| {
        ApiError::NotFound("`self` needs an identity route: /api/v1/identity/{name}/…".into())
    })?;
    let hotkey = state
        .identity_hotkey(identity)
        .map_err(ApiError::NotFound)?;
    let id = pylon_chain::account_id_from_ss58(&hotkey).ok_or_else(|| {
        ApiError::NotFound(format!("identity `{}` has no valid hotkey", identity.name))
    })?;
    Ok((hotkey, id))
}

async fn identities(State(state): St) -> Json<wire::IdentitiesResponse> {
    Json(wire::IdentitiesResponse {
        identities: state
            .settings
            .identities
            .iter()
            .map(|i| (i.name.clone(), i.netuid))
            .collect(),
    })
}

fn json_bytes(body: Vec<u8>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
