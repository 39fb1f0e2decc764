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

/// A subnet's neurons entry at a block: one fetch, rendered as both views (the neurons answer,
/// and the validators answer as its companion), cached as one entry.
async fn neurons_entry(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    let entry = state
        .cache
        .get_or_fetch(CacheKey::Neurons(netuid, block.hash), || async {
            let neurons = state.chain.neurons(netuid, block).await?;
            let validators = Rendered::new(block.clone(), render::validators(block, &neurons));
            Ok(
                Rendered::new(block.clone(), render::neurons(block, &neurons))
                    .with_companion(validators),
            )
        })
        .await?;
    state.note_newest(netuid, block);
    Ok(entry)
}

/// A view of a subnet's neurons at a block.
pub async fn view_at(state: &Arc<AppState>, view: View, netuid: u16, block: &BlockRef) -> Read {
    Ok(view.of(&neurons_entry(state, netuid, block).await?))
}

/// Neurons of a subnet at a block.
pub async fn neurons(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    view_at(state, View::Neurons, netuid, block).await
}

/// Validators of a subnet at a block (the same cache entry as its neurons).
pub async fn validators(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Read {
    view_at(state, View::Validators, netuid, block).await
}

/// The latest block's neurons or validators, stale-while-revalidate: a reader does not wait on
/// the chain when an older answer for the subnet is at hand. The new head's fetch (a prefetch
/// already running, or one this reader starts in the background) is waited for at most
/// `PYLON_LATEST_REFRESH_WAIT_SECONDS` — not at all when it, or a refresh for an older head, is
/// already running: one background refresh per subnet at a time — and meanwhile
/// the newest cached answer is served, its `block` saying which it is (and `X-Pylon-Block`). A
/// failing fetch also leaves readers the cached answer. Only answers at most
/// `PYLON_RECENT_OBJECTS_HARD_LIMIT_BLOCKS` behind the head stand in; past that — or when the
/// cache has evicted the subnet's newest entry — the reader waits for the chain like any
/// uncached read.
pub async fn latest(state: &Arc<AppState>, view: View, netuid: u16, head: &BlockRef) -> Read {
    if let Some(hit) = state.cache.get(&CacheKey::Neurons(netuid, head.hash)) {
        return Ok(view.of(&hit));
    }
    let limit = state.settings.recent_objects_hard_limit_blocks;
    let Some(previous) = state
        .newest(netuid)
        .filter(|previous| head.number.saturating_sub(previous.block.number) <= limit)
        .map(|previous| view.of(&previous))
    else {
        return view_at(state, view, netuid, head).await;
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
            let fresh = view_at(&state, view, netuid, &head).await;
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

/// The newest neurons already fetched for the subnet (no chain call), else the latest ones.
/// Only for subnets kept fresh on every head (identities' and `PYLON_RECENT_OBJECTS_NETUIDS`).
/// When the cache has evicted the newest entry, this is an uncached read of the latest block.
pub async fn recent_neurons(state: &Arc<AppState>, netuid: u16) -> Result<Arc<Rendered>, ApiError> {
    let settings = &state.settings;
    let kept = settings.recent_objects_netuids.contains(&netuid)
        || settings.identities.iter().any(|i| i.netuid == netuid);
    if !kept {
        return Err(ApiError::NotFound(format!(
            "netuid {netuid} is not kept fresh: add it to PYLON_RECENT_OBJECTS_NETUIDS"
        )));
    }
    let Some(recent) = state.newest(netuid) else {
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
