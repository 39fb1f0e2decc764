//! The read routes (writes in [`crate::writes`]), each a handler with its `#[utoipa::path]`
//! operation, collected in tables ([`subnet_table`], [`chain_table`], [`public_table`]) that
//! [`crate::table`] mounts under every API prefix. [`Scope`] does the auth; the route's own
//! segments are typed ([`crate::paths`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pylon_chain::BlockRef;
use utoipa_axum::router::UtoipaMethodRouter;
use utoipa_axum::routes;

use crate::access::Scope;
use crate::cache::Rendered;
use crate::error::ApiError;
use crate::paths::{BlockPath, ExtrinsicPath, HotkeyArg, HotkeyPath, Params};
use crate::respond::{self, cached, Conditions};
use crate::state::{AppState, View};
use crate::table::{Api, Tier};
use crate::{
    events, evm, hyperparams, market, reads, render, unstable, weights_read, wire, writes,
};

pub(crate) type AppResult = Result<Response, ApiError>;
pub(crate) type St = State<Arc<AppState>>;

/// A set of routes with their OpenAPI operations (one `routes!` per handler registers both), at
/// paths relative to the prefix [`crate::table::mount`] registers them under. Kept as the
/// `routes!` values rather than a router so that each route is registered once at its full path
/// (no `nest`, whose `StripPrefix` rebuilds the URI of every request).
#[derive(Default)]
pub struct Table(Vec<UtoipaMethodRouter<Arc<AppState>>>);

impl Table {
    pub fn new() -> Self {
        Self::default()
    }

    /// `route` (a `routes!(…)`) added to the table.
    pub fn routes(mut self, route: UtoipaMethodRouter<Arc<AppState>>) -> Self {
        self.0.push(route);
        self
    }

    /// `other`'s routes added after this table's.
    pub fn merge(mut self, other: Table) -> Self {
        self.0.extend(other.0);
        self
    }

    pub(crate) fn into_routes(self) -> impl Iterator<Item = UtoipaMethodRouter<Arc<AppState>>> {
        self.0.into_iter()
    }
}

/// Every route under a subnet prefix (`…/subnet/{netuid}`) of an API, for a tier: open access
/// gets the reads; identities also get their own objects (`…/self`) and the writes.
pub fn subnet_table(api: Api, tier: Tier) -> Table {
    let table = subnet_reads().merge(match api {
        Api::V1 => v1_subnet_reads(),
        Api::Unstable => unstable::subnet_reads(),
    });
    match tier {
        Tier::OpenAccess => table,
        Tier::Identity => table
            .merge(own_reads())
            .merge(match api {
                Api::V1 => v1_own_reads(),
                Api::Unstable => unstable::own_reads(),
            })
            .merge(writes::table()),
    }
}

/// The reads of a subnet answered alike by every API (a new subnet read goes here).
fn subnet_reads() -> Table {
    Table::new()
        .routes(routes!(latest_block))
        .routes(routes!(latest_neurons))
        .routes(routes!(recent_neurons))
        .routes(routes!(neurons_at))
        .routes(routes!(latest_validators))
        .routes(routes!(validators_at))
        .routes(routes!(extrinsic))
        .routes(routes!(certificates))
        .routes(routes!(certificate))
        .routes(routes!(revealed_commitments))
        .routes(routes!(revealed_commitment))
        .routes(routes!(market::latest_price))
        .routes(routes!(market::price_at))
        .routes(routes!(market::latest_evm_associations))
        .routes(routes!(hyperparams::latest_hyperparameters))
        .routes(routes!(hyperparams::hyperparameters_at))
        .routes(routes!(weights_read::latest_weights))
        .routes(routes!(weights_read::weights_at))
        .routes(routes!(weights_read::latest_mechanism_weights))
        .routes(routes!(weights_read::mechanism_weights_at))
        .routes(routes!(events::events))
}

/// Subnet reads whose v1 answer differs from `_unstable`'s (see [`crate::unstable`]).
fn v1_subnet_reads() -> Table {
    Table::new()
        .routes(routes!(commitments))
        .routes(routes!(commitment))
}

/// `…/self`: the identity's own hotkey's objects (identity tier only).
fn own_reads() -> Table {
    Table::new()
        .routes(routes!(own_certificate))
        .routes(routes!(own_revealed_commitments))
        .routes(routes!(weights_read::own_weights))
        .routes(routes!(weights_read::own_weights_at))
        .routes(routes!(weights_read::own_mechanism_weights))
        .routes(routes!(weights_read::own_mechanism_weights_at))
}

fn v1_own_reads() -> Table {
    Table::new().routes(routes!(own_commitment))
}

/// Routes about the chain rather than a subnet, under the API's root (v1: open access;
/// `_unstable`: under `openaccess` and under `identity/{name}` alike).
pub fn chain_table(api: Api) -> Table {
    let table = Table::new()
        .routes(routes!(latest_block))
        .routes(routes!(extrinsic))
        .routes(routes!(market::latest_prices))
        .routes(routes!(market::prices_at))
        .routes(routes!(market::drand_last_stored_round))
        .routes(routes!(evm::contract_logs));
    match api {
        Api::V1 => table,
        Api::Unstable => table.merge(unstable::chain_reads()),
    }
}

/// Routes under the API's root that are not about the chain: the identities (public) and the
/// deprecated identity login.
pub fn public_table() -> Table {
    Table::new()
        .routes(routes!(identities))
        .routes(routes!(identity_login))
}

pub(crate) fn head(state: &AppState, scope: &Scope) -> Result<BlockRef, ApiError> {
    state.note_requested(scope.netuid);
    Ok(state.chain.latest_block()?)
}

async fn block_at(state: &AppState, scope: &Scope, number: u32) -> Result<BlockRef, ApiError> {
    state.note_requested(scope.netuid);
    Ok(state.chain.block(number).await?)
}

pub(crate) fn ok(
    rendered: Result<Arc<Rendered>, pylon_chain::ChainError>,
    headers: &Conditions,
) -> AppResult {
    Ok(cached(&rendered?, headers))
}

/// Latest block: number, hash, timestamp.
#[utoipa::path(get, path = "/block/latest",
    responses((status = 200, body = wire::BlockInfo), (status = 304, description = "Not modified")))]
async fn latest_block(State(state): St, _scope: Scope, headers: Conditions) -> AppResult {
    let head = state.chain.latest_block()?;
    ok(reads::block_info(&state, &head).await, &headers)
}

/// Neurons at the latest block.
#[utoipa::path(get, path = "/block/latest/neurons",
    responses((status = 200, body = wire::NeuronsResponse), (status = 304, description = "Not modified")))]
async fn latest_neurons(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::latest(&state, View::Neurons, scope.netuid, &head).await,
        &headers,
    )
}

/// Newest neurons already fetched.
#[utoipa::path(get, path = "/block/recent/neurons",
    responses((status = 200, body = wire::NeuronsResponse), (status = 304, description = "Not modified")))]
async fn recent_neurons(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    state.note_requested(scope.netuid);
    let rendered = reads::recent_neurons(&state, scope.netuid).await?;
    let head = state.chain.head().map(|head| head.number);
    Ok(respond::with_age(
        cached(&rendered, &headers),
        rendered.block.number,
        head,
    ))
}

/// Neurons at a block.
#[utoipa::path(get, path = "/block/{block_number}/neurons", params(BlockPath),
    responses((status = 200, body = wire::NeuronsResponse), (status = 304, description = "Not modified")))]
async fn neurons_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockPath>,
    headers: Conditions,
) -> AppResult {
    let block = block_at(&state, &scope, path.block_number).await?;
    let answer = ok(reads::neurons(&state, scope.netuid, &block).await, &headers)?;
    let head = state.chain.head().map(|head| head.number);
    Ok(respond::for_block(answer, block.number, head))
}

/// Validators at the latest block.
#[utoipa::path(get, path = "/block/latest/validators",
    responses((status = 200, body = wire::ValidatorsResponse), (status = 304, description = "Not modified")))]
async fn latest_validators(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::latest(&state, View::Validators, scope.netuid, &head).await,
        &headers,
    )
}

/// Validators at a block.
#[utoipa::path(get, path = "/block/{block_number}/validators", params(BlockPath),
    responses((status = 200, body = wire::ValidatorsResponse), (status = 304, description = "Not modified")))]
async fn validators_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockPath>,
    headers: Conditions,
) -> AppResult {
    let block = block_at(&state, &scope, path.block_number).await?;
    let answer = ok(
        reads::validators(&state, scope.netuid, &block).await,
        &headers,
    )?;
    let head = state.chain.head().map(|head| head.number);
    Ok(respond::for_block(answer, block.number, head))
}

/// One extrinsic, decoded by the chain's metadata.
#[utoipa::path(get, path = "/block/{block_number}/extrinsic/{extrinsic_index}", params(ExtrinsicPath),
    responses((status = 200, body = wire::ExtrinsicResponse)))]
async fn extrinsic(
    State(state): St,
    _scope: Scope,
    Params(path): Params<ExtrinsicPath>,
) -> AppResult {
    let (number, index) = (path.block_number, path.extrinsic_index);
    let block = state.chain.block(number).await?;
    let extrinsic =
        state.chain.extrinsic(&block, index).await?.ok_or_else(|| {
            ApiError::NotFound(format!("block {number} has no extrinsic {index}"))
        })?;
    Ok(json_bytes(render::extrinsic(&extrinsic)))
}

/// Every certificate on the subnet.
#[utoipa::path(get, path = "/block/latest/certificates",
    responses((status = 200, body = BTreeMap<String, wire::NeuronCertificate>,
        description = "By hotkey (a bare map, as the reference answers)"),
        (status = 304, description = "Not modified")))]
async fn certificates(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::certificates(&state, scope.netuid, &head).await,
        &headers,
    )
}

/// A hotkey's certificate.
#[utoipa::path(get, path = "/block/latest/certificates/{hotkey}", params(HotkeyPath),
    responses((status = 200, body = wire::NeuronCertificate)))]
async fn certificate(
    State(state): St,
    scope: Scope,
    Params(path): Params<HotkeyPath>,
) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    certificate_of(&state, &scope, &hotkey, id).await
}

/// The identity's certificate.
#[utoipa::path(get, path = "/block/latest/certificates/self",
    responses((status = 200, body = wire::NeuronCertificate)))]
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

/// Every commitment of a hotkey registered on the subnet.
#[utoipa::path(get, path = "/block/latest/commitments",
    responses((status = 200, body = wire::CommitmentsResponse), (status = 304, description = "Not modified")))]
async fn commitments(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    let head = head(&state, &scope)?;
    let (all, registered) = tokio::try_join!(
        async { Ok::<_, ApiError>(reads::commitments(&state, scope.netuid, &head).await?) },
        unstable::registered_hotkeys(&state, scope.netuid, &head),
    )?;
    Ok(cached(&registered_only(all, &registered)?, &headers))
}

/// The cached commitments answer with only registered hotkeys' entries (the reference's filter);
/// the cached bytes themselves when every entry is registered, the usual case.
fn registered_only(
    all: Arc<Rendered>,
    registered: &std::collections::BTreeSet<String>,
) -> Result<Arc<Rendered>, ApiError> {
    #[derive(serde::Deserialize, serde::Serialize)]
    struct Answer {
        block: serde_json::Value,
        commitments: std::collections::BTreeMap<String, String>,
    }
    let mut answer: Answer = serde_json::from_slice(&all.body).map_err(|e| {
        ApiError::Chain(pylon_chain::ChainError::Decode(format!(
            "commitments answer unreadable: {e}"
        )))
    })?;
    let before = answer.commitments.len();
    answer
        .commitments
        .retain(|hotkey, _| registered.contains(hotkey));
    if answer.commitments.len() == before {
        return Ok(all);
    }
    Ok(Arc::new(Rendered::new(
        all.block.clone(),
        render::to_bytes(&answer),
    )))
}

/// A hotkey's commitment.
#[utoipa::path(get, path = "/block/latest/commitments/{hotkey}", params(HotkeyPath),
    responses((status = 200, body = wire::CommitmentResponse)))]
async fn commitment(State(state): St, scope: Scope, Params(path): Params<HotkeyPath>) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    commitment_of(&state, &scope, &hotkey, id).await
}

/// The identity's commitment.
#[utoipa::path(get, path = "/block/latest/commitments/self",
    responses((status = 200, body = wire::CommitmentResponse)))]
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

/// Every revealed commitment on the subnet.
#[utoipa::path(get, path = "/block/latest/commitments/revealed",
    responses((status = 200, body = wire::RevealedCommitmentsResponse), (status = 304, description = "Not modified")))]
async fn revealed_commitments(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    let head = head(&state, &scope)?;
    ok(
        reads::revealed_commitments(&state, scope.netuid, &head).await,
        &headers,
    )
}

/// A hotkey's revealed commitments.
#[utoipa::path(get, path = "/block/latest/commitments/revealed/{hotkey}", params(HotkeyPath),
    responses((status = 200, body = wire::HotkeyRevealedCommitmentsResponse)))]
async fn revealed_commitment(
    State(state): St,
    scope: Scope,
    Params(path): Params<HotkeyPath>,
) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    revealed_of(&state, &scope, &hotkey, id).await
}

/// The identity's revealed commitments.
#[utoipa::path(get, path = "/block/latest/commitments/revealed/self",
    responses((status = 200, body = wire::HotkeyRevealedCommitmentsResponse)))]
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

/// A `{hotkey}` segment's account: `self` on an open-access prefix is the 404 of [`own_hotkey`].
pub(crate) async fn hotkey_of(
    state: &AppState,
    scope: &Scope,
    hotkey: HotkeyArg,
) -> Result<(String, [u8; 32]), ApiError> {
    match hotkey {
        HotkeyArg::Address { ss58, id } => Ok((ss58, id)),
        HotkeyArg::Own => own_hotkey(state, scope).await,
    }
}

/// `self` routes exist only for identities: the identity's own hotkey.
pub(crate) async fn own_hotkey(
    state: &AppState,
    scope: &Scope,
) -> Result<(String, [u8; 32]), ApiError> {
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

/// Configured identities and their netuids.
#[utoipa::path(get, path = "/identities", security(()),
    responses((status = 200, body = wire::IdentitiesResponse)))]
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

/// What the deprecated login answers: the identity and its netuid.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct IdentityLoginResponse {
    pub netuid: u16,
    pub identity_name: String,
}

/// Deprecated (the reference keeps it for old clients): checks the identity's token and answers
/// its netuid. Any body is accepted and ignored; the token is the `Authorization` header's.
#[utoipa::path(post, path = "/login/identity/{name}",
    params(("name" = String, Path, description = "The identity")),
    responses((status = 200, body = IdentityLoginResponse)))]
async fn identity_login(scope: Scope) -> AppResult {
    let identity = scope
        .identity
        .ok_or_else(|| ApiError::NotFound("no such identity".into()))?;
    Ok(Json(IdentityLoginResponse {
        netuid: identity.netuid,
        identity_name: identity.name,
    })
    .into_response())
}

pub(crate) fn json_bytes(body: Vec<u8>) -> Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body,
    )
        .into_response()
}
