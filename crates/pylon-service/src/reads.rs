//! Reads through the cache: each answer is fetched once per block, rendered once, and the same
//! bytes are served to every reader.

use std::future::Future;
use std::sync::Arc;

use pylon_chain::{BlockRef, ChainError};

use crate::cache::Rendered;
use crate::error::ApiError;
use crate::render;
use crate::state::{AppState, CacheKey, View};

pub type Read = Result<Arc<Rendered>, ChainError>;

/// The one cached read: the answer under `key` if cached, else `fetch` from the chain (once,
/// however many readers ask at the same time) and `render` it at `block`.
async fn cached_read<T, Fut>(
    state: &AppState,
    key: CacheKey,
    block: &BlockRef,
    fetch: Fut,
    render: impl FnOnce(&BlockRef, T) -> Vec<u8>,
) -> Read
where
    Fut: Future<Output = Result<T, ChainError>>,
{
    state
        .cache
        .get_or_fetch(key, || async {
            let value = fetch.await?;
            Ok(Rendered::new(block.clone(), render(block, value)))
        })
        .await
}

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

/// The latest block's neurons or validators, stale-while-revalidate: a reader does not wait on
/// the chain when an older answer for the subnet is at hand. The new head's fetch (a prefetch
/// already running, or one this reader starts in the background) is waited for at most
/// `PYLON_LATEST_REFRESH_WAIT_SECONDS` — not at all when it, or a refresh for an older head, is
/// already running: one background refresh per subnet at a time — and meanwhile
/// the newest cached answer is served, its `block` saying which it is (and `X-Pylon-Block`). A
/// failing fetch also leaves readers the cached answer. Only answers at most
/// `PYLON_RECENT_OBJECTS_HARD_LIMIT_BLOCKS` behind the head stand in; past that the reader
/// waits for the chain like any uncached read.
pub async fn latest(state: &Arc<AppState>, view: View, netuid: u16, head: &BlockRef) -> Read {
    if let Some(hit) = state.cache.get(&view.key(netuid, head.hash)) {
        return Ok(hit);
    }
    let limit = state.settings.recent_objects_hard_limit_blocks;
    let Some(previous) = state
        .recent(view, netuid)
        .filter(|previous| head.number.saturating_sub(previous.block.number) <= limit)
    else {
        return fetch_view(state, view, netuid, head).await;
    };
    if state
        .cache
        .is_in_flight(&CacheKey::Neurons(netuid, head.hash))
    {
        return Ok(previous);
    }
    // One refresh per subnet at a time: while one runs (for this head or an older one, stuck on
    // a stalled chain), readers get the cached answer at once.
    let Some(claim) = state.claim_refresh(netuid) else {
        return Ok(previous);
    };
    let refresh = tokio::spawn({
        let (state, head) = (state.clone(), head.clone());
        async move {
            let fresh = fetch_view(&state, view, netuid, &head).await;
            drop(claim);
            fresh
        }
    });
    match tokio::time::timeout(state.settings.latest_refresh_wait, refresh).await {
        Ok(Ok(Ok(fresh))) => Ok(fresh),
        Ok(Ok(Err(error))) => {
            tracing::debug!(netuid, %error, "latest read failed; serving the cached answer");
            Ok(previous)
        }
        // Still fetching (it goes on in the background), or the fetch task died.
        _ => Ok(previous),
    }
}

async fn fetch_view(state: &Arc<AppState>, view: View, netuid: u16, block: &BlockRef) -> Read {
    match view {
        View::Neurons => neurons(state, netuid, block).await,
        View::Validators => validators(state, netuid, block).await,
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
            let fetch = state.chain.neurons(netuid, block);
            cached_read(state, key, block, fetch, |at, all| {
                render::validators(at, &all)
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
    let key = CacheKey::BlockInfo(block.hash);
    cached_read(
        state,
        key,
        block,
        state.chain.timestamp(block),
        render::block_info,
    )
    .await
}

pub async fn certificates(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    let key = CacheKey::Certificates(netuid, block.hash);
    let fetch = state.chain.certificates(netuid, block);
    cached_read(state, key, block, fetch, |at, all| {
        render::certificates(at, &all)
    })
    .await
}

pub async fn commitments(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    let key = CacheKey::Commitments(netuid, block.hash);
    let fetch = state.chain.commitments(netuid, block);
    cached_read(state, key, block, fetch, |at, all| {
        render::commitments(at, &all)
    })
    .await
}

pub async fn revealed_commitments(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    let key = CacheKey::RevealedCommitments(netuid, block.hash);
    let fetch = state.chain.revealed_commitments(netuid, block);
    cached_read(state, key, block, fetch, |at, all| {
        render::revealed_commitments(at, &all)
    })
    .await
}
