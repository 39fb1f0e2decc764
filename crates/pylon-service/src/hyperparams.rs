//! `…/block/{n|latest}/hyperparameters`: a subnet's settings at a block, read once per block
//! (through the response cache, like neurons) from the chain's own runtime API where the block
//! has it, storage otherwise (see [`pylon_chain::hyperparams`]).

use std::collections::BTreeMap;
use std::sync::Arc;

use pylon_chain::{BlockRef, HyperparamsSource};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Scope;
use crate::cache::Rendered;
use crate::error::ApiError;
use crate::paths::{BlockPath, Params};
use crate::render::{block, to_bytes};
use crate::respond::{cached, Conditions};
use crate::routes::{head, AppResult, St};
use crate::state::{AppState, CacheKey};
use crate::wire;

/// A subnet's settings at a block.
#[derive(Debug, Serialize, ToSchema)]
pub struct SubnetHyperparameters {
    pub block: wire::Block,
    pub netuid: u16,
    /// `runtime_api` (`SubnetInfoRuntimeApi.get_subnet_hyperparams_v3`) or `storage` (runtimes
    /// without it).
    pub source: String,
    /// Blocks per epoch.
    pub tempo: u16,
    pub commit_reveal_weights_enabled: bool,
    /// `CommitRevealWeightsVersion` (4: drand-timelocked commits); null where the chain has none.
    pub commit_reveal_version: Option<u16>,
    /// Epochs from a commit to its reveal (`RevealPeriodEpochs`).
    pub commit_reveal_period: u64,
    /// Blocks a validator must wait between two weight settings.
    pub weights_rate_limit: u64,
    pub min_allowed_weights: u16,
    /// Largest weight one uid may get, as a u16 fraction (65535 = no limit).
    pub max_weights_limit: u16,
    /// The version key a weights extrinsic must carry.
    pub weights_version: u64,
    /// Blocks without an update after which a validator counts as inactive.
    pub activity_cutoff: u64,
    pub immunity_period: u16,
    /// First block of the next epoch (`get_next_epoch_start_block`); null where the runtime
    /// has no such API.
    pub next_epoch_start: Option<u64>,
    /// Every value the source reported, by the runtime's names (fixed-point values as numbers,
    /// balances in rao).
    #[schema(value_type = Object)]
    pub all: BTreeMap<String, serde_json::Value>,
}

/// Rendered once per block: the answer, or `null` when the subnet does not exist there.
async fn read(
    state: &Arc<AppState>,
    netuid: u16,
    at: &BlockRef,
) -> Result<Arc<Rendered>, ApiError> {
    let rendered = state
        .cache
        .get_or_fetch(CacheKey::Hyperparameters(netuid, at.hash), || async {
            let found = state.chain.hyperparams(netuid, at).await?;
            let body = match found {
                None => b"null".to_vec(),
                Some(h) => to_bytes(&SubnetHyperparameters {
                    block: block(at),
                    netuid,
                    source: match h.source {
                        HyperparamsSource::RuntimeApi => "runtime_api",
                        HyperparamsSource::Storage => "storage",
                    }
                    .to_owned(),
                    tempo: h.tempo,
                    commit_reveal_weights_enabled: h.commit_reveal_weights_enabled,
                    commit_reveal_version: h.commit_reveal_version,
                    commit_reveal_period: h.commit_reveal_period,
                    weights_rate_limit: h.weights_rate_limit,
                    min_allowed_weights: h.min_allowed_weights,
                    max_weights_limit: h.max_weights_limit,
                    weights_version: h.weights_version,
                    activity_cutoff: h.activity_cutoff,
                    immunity_period: h.immunity_period,
                    next_epoch_start: h.next_epoch_start,
                    all: h.all,
                }),
            };
            Ok(Rendered::new(at.clone(), body))
        })
        .await?;
    if &rendered.body[..] == b"null" {
        return Err(ApiError::NotFound(format!(
            "subnet {netuid} does not exist at block {}",
            at.number
        )));
    }
    Ok(rendered)
}

/// Subnet settings at the latest block.
#[utoipa::path(get, path = "/block/latest/hyperparameters",
    responses((status = 200, body = SubnetHyperparameters), (status = 304, description = "Not modified")))]
pub async fn latest_hyperparameters(
    axum::extract::State(state): St,
    scope: Scope,
    headers: Conditions,
) -> AppResult {
    let at = head(&state, &scope)?;
    Ok(cached(&read(&state, scope.netuid, &at).await?, &headers))
}

/// Subnet settings at a block.
#[utoipa::path(get, path = "/block/{block_number}/hyperparameters", params(BlockPath),
    responses((status = 200, body = SubnetHyperparameters), (status = 304, description = "Not modified")))]
pub async fn hyperparameters_at(
    axum::extract::State(state): St,
    scope: Scope,
    Params(path): Params<BlockPath>,
    headers: Conditions,
) -> AppResult {
    state.note_requested(scope.netuid);
    let at = state.chain.block(path.block_number).await?;
    Ok(cached(&read(&state, scope.netuid, &at).await?, &headers))
}
