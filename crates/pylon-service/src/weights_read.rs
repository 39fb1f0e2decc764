//! `…/block/{n|latest}/weights/{hotkey|self}` and
//! `…/block/{n|latest}/mechanism/{mechanism_id}/weights/{hotkey|self}`: a validator's weights as
//! the chain holds them at a block (its `Weights` row under the subnet mechanism's storage index,
//! the main mechanism for the short routes), and its CRv4 commits still waiting for their reveal
//! (`TimelockedWeightCommits`). A validator checks here that what it asked for is what the chain
//! holds.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::extract::State;
use pylon_chain::weights_traces::netuid_storage_index;
use pylon_chain::BlockRef;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::Scope;
use crate::error::ApiError;
use crate::paths::{BlockPath, HotkeyArg, HotkeyPath, Params};
use crate::render::{block, to_bytes};
use crate::routes::{head, hotkey_of, json_bytes, own_hotkey, AppResult, St};
use crate::state::AppState;
use crate::{reads, wire};

/// `{block_number}/weights/{hotkey}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BlockHotkeyPath {
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub block_number: u32,
    #[param(value_type = String, format = "ss58")]
    pub hotkey: HotkeyArg,
}

/// `{mechanism_id}/weights/{hotkey}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MechanismHotkeyPath {
    #[param(minimum = 0, maximum = 255)]
    pub mechanism_id: u8,
    #[param(value_type = String, format = "ss58")]
    pub hotkey: HotkeyArg,
}

/// `{block_number}/mechanism/{mechanism_id}/weights/{hotkey}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BlockMechanismHotkeyPath {
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub block_number: u32,
    #[param(minimum = 0, maximum = 255)]
    pub mechanism_id: u8,
    #[param(value_type = String, format = "ss58")]
    pub hotkey: HotkeyArg,
}

/// `{mechanism_id}` (latest block, the identity's own hotkey).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MechanismSelfPath {
    #[param(minimum = 0, maximum = 255)]
    pub mechanism_id: u8,
}

/// `{block_number}/mechanism/{mechanism_id}` (the identity's own hotkey).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct BlockMechanismSelfPath {
    #[param(minimum = 0, maximum = 4294967295_u64)]
    pub block_number: u32,
    #[param(minimum = 0, maximum = 255)]
    pub mechanism_id: u8,
}

/// The hotkey's `Weights` row: parallel `uids` and `values` as stored, and the same weights
/// normalised to sum 1 keyed by the hotkey registered at each uid.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeightsRow {
    pub uids: Vec<u16>,
    /// The chain's u16 values.
    pub values: Vec<u16>,
    /// `value / sum(values)` by the target uid's hotkey at the block.
    pub normalized: BTreeMap<String, f64>,
}

/// One CRv4 timelocked commit not yet revealed.
#[derive(Debug, Serialize, ToSchema)]
pub struct PendingCommit {
    /// The epoch key the chain filed the commit under; null when unreadable from the key.
    pub epoch: Option<u64>,
    pub commit_block: u64,
    /// The drand round whose signature reveals it.
    pub reveal_round: u64,
}

/// A validator's weights on chain at a block.
#[derive(Debug, Serialize, ToSchema)]
pub struct OnChainWeights {
    pub block: wire::Block,
    pub netuid: u16,
    /// The subnet mechanism whose row this is (0: the main one).
    pub mechanism_id: u8,
    pub hotkey: String,
    pub uid: u16,
    pub weights: WeightsRow,
    pub pending_commits: Vec<PendingCommit>,
}

/// uid → hotkey of the subnet at `at`, from the (cached) neurons read.
async fn hotkeys_by_uid(
    state: &Arc<AppState>,
    netuid: u16,
    at: &BlockRef,
) -> Result<HashMap<u16, String>, ApiError> {
    #[derive(Deserialize)]
    struct Uid {
        uid: u16,
    }
    #[derive(Deserialize)]
    struct Neurons {
        neurons: BTreeMap<String, Uid>,
    }
    let neurons = reads::neurons(state, netuid, at).await?;
    let neurons: Neurons = serde_json::from_slice(&neurons.body).map_err(|e| {
        ApiError::Chain(pylon_chain::ChainError::Decode(format!(
            "neurons answer unreadable: {e}"
        )))
    })?;
    Ok(neurons
        .neurons
        .into_iter()
        .map(|(hotkey, n)| (n.uid, hotkey))
        .collect())
}

/// A mechanism beyond the subnet's `MechanismCountCurrent` at the block is a 404 saying so
/// (mechanism 0 always exists).
async fn ensure_mechanism(
    state: &AppState,
    netuid: u16,
    mechid: u8,
    at: &BlockRef,
) -> Result<(), ApiError> {
    if mechid == 0 {
        return Ok(());
    }
    let count = state.chain.mechanism_count(netuid, at).await?;
    if mechid >= count {
        return Err(ApiError::NotFound(format!(
            "mechanism {mechid} does not exist on netuid {netuid} at block {}: the subnet has {count} mechanism{} (ids 0..{count})",
            at.number,
            if count == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

async fn weights_of(
    state: &Arc<AppState>,
    netuid: u16,
    mechid: u8,
    hotkey: String,
    id: [u8; 32],
    at: &BlockRef,
) -> AppResult {
    ensure_mechanism(state, netuid, mechid, at).await?;
    let index = netuid_storage_index(netuid, mechid);
    let uid = state
        .chain
        .uid_of_hotkey(netuid, id, at)
        .await?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "{hotkey} is not registered on netuid {netuid} at block {}",
                at.number
            ))
        })?;
    let (row, commits, hotkeys) = tokio::try_join!(
        async { Ok::<_, ApiError>(state.chain.weights_row(index, uid, at).await?) },
        async { Ok::<_, ApiError>(state.chain.timelocked_weight_commits(index, at).await?) },
        hotkeys_by_uid(state, netuid, at),
    )?;
    let sum: f64 = row.iter().map(|(_, v)| f64::from(*v)).sum();
    let normalized = row
        .iter()
        .filter_map(|(uid, value)| {
            let share = if sum > 0.0 {
                f64::from(*value) / sum
            } else {
                0.0
            };
            hotkeys.get(uid).map(|h| (h.clone(), share))
        })
        .collect();
    Ok(json_bytes(to_bytes(&OnChainWeights {
        block: block(at),
        netuid,
        mechanism_id: mechid,
        hotkey,
        uid,
        weights: WeightsRow {
            uids: row.iter().map(|(uid, _)| *uid).collect(),
            values: row.iter().map(|(_, v)| *v).collect(),
            normalized,
        },
        pending_commits: commits
            .into_iter()
            .filter(|c| c.who == id)
            .map(|c| PendingCommit {
                epoch: c.epoch,
                commit_block: c.commit_block,
                reveal_round: c.reveal_round,
            })
            .collect(),
    })))
}

/// A hotkey's weights on chain at the latest block (main mechanism).
#[utoipa::path(get, path = "/block/latest/weights/{hotkey}", params(HotkeyPath),
    responses((status = 200, body = OnChainWeights)))]
pub async fn latest_weights(
    State(state): St,
    scope: Scope,
    Params(path): Params<HotkeyPath>,
) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    let at = head(&state, &scope)?;
    weights_of(&state, scope.netuid, 0, hotkey, id, &at).await
}

/// A hotkey's weights on chain at a block (main mechanism).
#[utoipa::path(get, path = "/block/{block_number}/weights/{hotkey}", params(BlockHotkeyPath),
    responses((status = 200, body = OnChainWeights)))]
pub async fn weights_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockHotkeyPath>,
) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    state.note_requested(scope.netuid);
    let at = state.chain.block(path.block_number).await?;
    weights_of(&state, scope.netuid, 0, hotkey, id, &at).await
}

/// The identity's weights on chain at the latest block (main mechanism).
#[utoipa::path(get, path = "/block/latest/weights/self",
    responses((status = 200, body = OnChainWeights)))]
pub async fn own_weights(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    let at = head(&state, &scope)?;
    weights_of(&state, scope.netuid, 0, hotkey, id, &at).await
}

/// The identity's weights on chain at a block (main mechanism).
#[utoipa::path(get, path = "/block/{block_number}/weights/self", params(BlockPath),
    responses((status = 200, body = OnChainWeights)))]
pub async fn own_weights_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockPath>,
) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    state.note_requested(scope.netuid);
    let at = state.chain.block(path.block_number).await?;
    weights_of(&state, scope.netuid, 0, hotkey, id, &at).await
}

/// A hotkey's weights on chain for one subnet mechanism at the latest block.
#[utoipa::path(get, path = "/block/latest/mechanism/{mechanism_id}/weights/{hotkey}",
    params(MechanismHotkeyPath),
    responses((status = 200, body = OnChainWeights),
        (status = 404, description = "No such mechanism, or the hotkey is not registered")))]
pub async fn latest_mechanism_weights(
    State(state): St,
    scope: Scope,
    Params(path): Params<MechanismHotkeyPath>,
) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    let at = head(&state, &scope)?;
    weights_of(&state, scope.netuid, path.mechanism_id, hotkey, id, &at).await
}

/// A hotkey's weights on chain for one subnet mechanism at a block.
#[utoipa::path(get, path = "/block/{block_number}/mechanism/{mechanism_id}/weights/{hotkey}",
    params(BlockMechanismHotkeyPath),
    responses((status = 200, body = OnChainWeights),
        (status = 404, description = "No such block or mechanism, or the hotkey is not registered")))]
pub async fn mechanism_weights_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockMechanismHotkeyPath>,
) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    state.note_requested(scope.netuid);
    let at = state.chain.block(path.block_number).await?;
    weights_of(&state, scope.netuid, path.mechanism_id, hotkey, id, &at).await
}

/// The identity's weights on chain for one subnet mechanism at the latest block.
#[utoipa::path(get, path = "/block/latest/mechanism/{mechanism_id}/weights/self",
    params(MechanismSelfPath),
    responses((status = 200, body = OnChainWeights)))]
pub async fn own_mechanism_weights(
    State(state): St,
    scope: Scope,
    Params(path): Params<MechanismSelfPath>,
) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    let at = head(&state, &scope)?;
    weights_of(&state, scope.netuid, path.mechanism_id, hotkey, id, &at).await
}

/// The identity's weights on chain for one subnet mechanism at a block.
#[utoipa::path(get, path = "/block/{block_number}/mechanism/{mechanism_id}/weights/self",
    params(BlockMechanismSelfPath),
    responses((status = 200, body = OnChainWeights)))]
pub async fn own_mechanism_weights_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockMechanismSelfPath>,
) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    state.note_requested(scope.netuid);
    let at = state.chain.block(path.block_number).await?;
    weights_of(&state, scope.netuid, path.mechanism_id, hotkey, id, &at).await
}
