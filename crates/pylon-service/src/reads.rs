//! Reads through the cache: each answer is fetched once per block, rendered once, and the same
//! bytes are served to every reader.

use std::sync::Arc;

use pylon_chain::{BlockRef, ChainError};

use crate::cache::Rendered;
use crate::error::ApiError;
use crate::render;
use crate::state::{AppState, CacheKey, View};

pub type Read = Result<Arc<Rendered>, ChainError>;

/// Neurons of a subnet at a block; the validators view of the same fetch is cached alongside.
pub async fn neurons(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    let rendered = state
        .cache
        .get_or_fetch(CacheKey::Neurons(netuid, block.hash), || async {
            let neurons = state.chain.neurons(netuid, block).await?;
            let validators = Arc::new(Rendered::new(
                block.clone(),
                render::validators(block, &neurons),
            ));
            state.remember_recent(View::Validators, netuid, &validators);
            state
                .cache
                .insert(CacheKey::Validators(netuid, block.hash), validators);
            Ok(Rendered::new(
                block.clone(),
                render::neurons(block, &neurons),
            ))
        })
        .await?;
    state.remember_recent(View::Neurons, netuid, &rendered);
    Ok(rendered)
}

/// The latest block's neurons or validators — without waiting for the chain when that block's
/// fetch is already running (a prefetch on its arrival) and the previous block's answer is at
/// hand: that one is served, saying which block it is from, until the new one lands.
pub async fn latest(state: &Arc<AppState>, view: View, netuid: u16, head: &BlockRef) -> Read {
    if let Some(hit) = state.cache.get(&view.key(netuid, head.hash)) {
        return Ok(hit);
    }
    if state
        .cache
        .is_in_flight(&CacheKey::Neurons(netuid, head.hash))
    {
        if let Some(previous) = state.recent(view, netuid) {
            if previous.block.number + 1 >= head.number {
                return Ok(previous);
            }
        }
    }
    match view {
        View::Neurons => neurons(state, netuid, head).await,
        View::Validators => validators(state, netuid, head).await,
    }
}

pub async fn validators(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    let key = CacheKey::Validators(netuid, block.hash);
    if let Some(hit) = state.cache.get(&key) {
        return Ok(hit);
    }
    neurons(state, netuid, block).await?;
    match state.cache.get(&key) {
        Some(hit) => Ok(hit),
        // The neurons were cached but their validators view was evicted: render it again.
        None => {
            state
                .cache
                .get_or_fetch(key, || async {
                    let neurons = state.chain.neurons(netuid, block).await?;
                    Ok(Rendered::new(
                        block.clone(),
                        render::validators(block, &neurons),
                    ))
                })
                .await
        }
    }
}

/// The newest neurons already fetched for the subnet (no chain call), else the latest ones.
/// Only for subnets kept fresh on every head (identities' and `PYLON_RECENT_OBJECTS_NETUIDS`).
pub async fn recent_neurons(state: &Arc<AppState>, netuid: u16) -> Result<Arc<Rendered>, ApiError> {
    let settings = &state.settings;
    let kept = settings.recent_objects_netuids.contains(&netuid)
        || settings.identities.iter().any(|i| i.netuid == netuid);
    if !kept {
        return Err(ApiError::NotFound(format!(
            "netuid {netuid} is not kept fresh: add it to PYLON_RECENT_OBJECTS_NETUIDS"
        )));
    }
    let recent = state.recent(View::Neurons, netuid);
    let Some(recent) = recent else {
        let head = state.chain.latest_block()?;
        return Ok(neurons(state, netuid, &head).await?);
    };
    let age = state
        .chain
        .head()
        .map_or(0, |head| head.number.saturating_sub(recent.block.number));
    if age > settings.recent_objects_hard_limit_blocks {
        return Err(ApiError::Chain(ChainError::Unreachable(format!(
            "the newest neurons of netuid {netuid} are from block {}, {age} blocks old",
            recent.block.number
        ))));
    }
    if age > settings.recent_objects_soft_limit_blocks {
        tracing::warn!(netuid, age, "recent neurons are getting old");
    }
    Ok(recent)
}

pub async fn block_info(state: &Arc<AppState>, block: &BlockRef) -> Read {
    state
        .cache
        .get_or_fetch(CacheKey::BlockInfo(block.hash), || async {
            let timestamp = state.chain.timestamp(block).await?;
            Ok(Rendered::new(
                block.clone(),
                render::block_info(block, timestamp),
            ))
        })
        .await
}

pub async fn certificates(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    state
        .cache
        .get_or_fetch(CacheKey::Certificates(netuid, block.hash), || async {
            let all = state.chain.certificates(netuid, block).await?;
            Ok(Rendered::new(
                block.clone(),
                render::certificates(block, &all),
            ))
        })
        .await
}

pub async fn commitments(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    state
        .cache
        .get_or_fetch(CacheKey::Commitments(netuid, block.hash), || async {
            let all = state.chain.commitments(netuid, block).await?;
            Ok(Rendered::new(
                block.clone(),
                render::commitments(block, &all),
            ))
        })
        .await
}

pub async fn revealed_commitments(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    state
        .cache
        .get_or_fetch(
            CacheKey::RevealedCommitments(netuid, block.hash),
            || async {
                let all = state.chain.revealed_commitments(netuid, block).await?;
                Ok(Rendered::new(
                    block.clone(),
                    render::revealed_commitments(block, &all),
                ))
            },
        )
        .await
}
