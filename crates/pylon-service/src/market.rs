//! Chain data beside the neurons: alpha prices (all subnets, or one), a subnet's EVM associations,
//! and the drand round the chain stored last. Read through the response cache by block hash, so
//! a past block's answer is fetched once and the latest block's once per head.
//!
//! Shapes are the published client's (`pylon_client` 2.3.1 `_unstable` models):
//! - prices: `{block, prices: {netuid: {value}}}`, value in rao of TAO per alpha;
//! - price: `{block, netuid, price: {value}}`;
//! - EVM associations: `{block, evm_associations: {hotkey: {hotkey, evm_address,
//!   last_block_where_ownership_was_proven}}}`;
//! - drand: `{last_stored_round}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use pylon_chain::BlockRef;
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Scope;
use crate::cache::Rendered;
use crate::error::ApiError;
use crate::paths::{BlockPath, Params};
use crate::render::{block, to_bytes};
use crate::respond::{cached, Conditions};
use crate::routes::{AppResult, St};
use crate::state::{AppState, CacheKey};
use crate::wire::Block;

/// A price in rao of TAO per alpha.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = market::PriceEntry)]
pub struct PriceEntry {
    pub value: u64,
}

/// Every subnet's alpha price at a block.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = market::SubnetPrices)]
pub struct SubnetPrices {
    pub block: Block,
    /// By netuid: root and stable subnets 1 TAO (10⁹ rao), dynamic ones from their pool. (JSON
    /// object keys are strings: the netuid written as one.)
    #[schema(value_type = BTreeMap<String, PriceEntry>)]
    pub prices: BTreeMap<u16, PriceEntry>,
}

/// One subnet's alpha price at a block.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = market::SubnetPrice)]
pub struct SubnetPrice {
    pub block: Block,
    pub netuid: u16,
    pub price: PriceEntry,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = market::EvmAssociation)]
pub struct EvmAssociation {
    /// ss58.
    pub hotkey: String,
    /// `0x` + 40 lowercase hex digits.
    pub evm_address: String,
    pub last_block_where_ownership_was_proven: u64,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = market::SubnetEvmAssociations)]
pub struct SubnetEvmAssociations {
    pub block: Block,
    /// By hotkey (ss58).
    pub evm_associations: BTreeMap<String, EvmAssociation>,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = market::DrandLastStoredRound)]
pub struct DrandLastStoredRound {
    /// `Drand.LastStoredRound` at the latest block.
    pub last_stored_round: u64,
}

async fn block_at(state: &AppState, number: u32) -> Result<BlockRef, ApiError> {
    Ok(state.chain.block(number).await?)
}

fn latest(state: &AppState) -> Result<BlockRef, ApiError> {
    Ok(state.chain.latest_block()?)
}

async fn prices_read(state: &Arc<AppState>, at: &BlockRef) -> Result<Arc<Rendered>, ApiError> {
    Ok(state
        .cache
        .get_or_fetch(CacheKey::Prices(at.hash), || async {
            let prices = state.chain.alpha_prices(at).await?;
            Ok(Rendered::new(
                at.clone(),
                to_bytes(&SubnetPrices {
                    block: block(at),
                    prices: prices
                        .into_iter()
                        .map(|(netuid, value)| (netuid, PriceEntry { value }))
                        .collect(),
                }),
            ))
        })
        .await?)
}

async fn price_read(
    state: &Arc<AppState>,
    netuid: u16,
    at: &BlockRef,
) -> Result<Arc<Rendered>, ApiError> {
    let key = CacheKey::Price(netuid, at.hash);
    if let Some(hit) = state.cache.get(&key) {
        return Ok(hit);
    }
    // A subnet that does not exist is a 404, not a cached answer.
    let value = state.chain.alpha_price(netuid, at).await?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "netuid {netuid} does not exist at block {}",
            at.number
        ))
    })?;
    Ok(state
        .cache
        .get_or_fetch(key, || async {
            Ok(Rendered::new(
                at.clone(),
                to_bytes(&SubnetPrice {
                    block: block(at),
                    netuid,
                    price: PriceEntry { value },
                }),
            ))
        })
        .await?)
}

/// Every subnet's alpha price at the latest block (rao of TAO per alpha).
#[utoipa::path(get, path = "/block/latest/prices",
    responses((status = 200, body = SubnetPrices), (status = 304, description = "Not modified")))]
pub async fn latest_prices(State(state): St, _scope: Scope, headers: Conditions) -> AppResult {
    let head = latest(&state)?;
    Ok(cached(&prices_read(&state, &head).await?, &headers))
}

/// Every subnet's alpha price at a block (rao of TAO per alpha).
#[utoipa::path(get, path = "/block/{block_number}/prices", params(BlockPath),
    responses((status = 200, body = SubnetPrices), (status = 304, description = "Not modified")))]
pub async fn prices_at(
    State(state): St,
    _scope: Scope,
    Params(path): Params<BlockPath>,
    headers: Conditions,
) -> AppResult {
    let at = block_at(&state, path.block_number).await?;
    Ok(cached(&prices_read(&state, &at).await?, &headers))
}

/// The subnet's alpha price at the latest block (rao of TAO per alpha).
#[utoipa::path(get, path = "/block/latest/price",
    responses((status = 200, body = SubnetPrice), (status = 304, description = "Not modified")))]
pub async fn latest_price(State(state): St, scope: Scope, headers: Conditions) -> AppResult {
    let head = latest(&state)?;
    Ok(cached(
        &price_read(&state, scope.netuid, &head).await?,
        &headers,
    ))
}

/// The subnet's alpha price at a block (rao of TAO per alpha).
#[utoipa::path(get, path = "/block/{block_number}/price", params(BlockPath),
    responses((status = 200, body = SubnetPrice), (status = 304, description = "Not modified")))]
pub async fn price_at(
    State(state): St,
    scope: Scope,
    Params(path): Params<BlockPath>,
    headers: Conditions,
) -> AppResult {
    let at = block_at(&state, path.block_number).await?;
    Ok(cached(
        &price_read(&state, scope.netuid, &at).await?,
        &headers,
    ))
}

/// EVM addresses associated with the subnet's hotkeys, at the latest block.
#[utoipa::path(get, path = "/block/latest/evm_associations",
    responses((status = 200, body = SubnetEvmAssociations), (status = 304, description = "Not modified")))]
pub async fn latest_evm_associations(
    State(state): St,
    scope: Scope,
    headers: Conditions,
) -> AppResult {
    let head = latest(&state)?;
    let netuid = scope.netuid;
    let rendered = state
        .cache
        .get_or_fetch(CacheKey::EvmAssociations(netuid, head.hash), || async {
            let found = state.chain.evm_associations(netuid, &head).await?;
            Ok(Rendered::new(
                head.clone(),
                to_bytes(&SubnetEvmAssociations {
                    block: block(&head),
                    evm_associations: found
                        .iter()
                        .map(|a| {
                            (
                                a.hotkey.clone(),
                                EvmAssociation {
                                    hotkey: a.hotkey.clone(),
                                    evm_address: a.evm_address_hex(),
                                    last_block_where_ownership_was_proven: a
                                        .last_block_where_ownership_was_proven,
                                },
                            )
                        })
                        .collect(),
                }),
            ))
        })
        .await?;
    Ok(cached(&rendered, &headers))
}

/// The newest drand round whose pulse the chain stored, at the latest block. Public: the
/// published client sends no token for it.
#[utoipa::path(get, path = "/block/latest/drand/last_stored_round", security(()),
    responses((status = 200, body = DrandLastStoredRound), (status = 304, description = "Not modified")))]
pub async fn drand_last_stored_round(State(state): St, headers: Conditions) -> AppResult {
    let head = latest(&state)?;
    let rendered = state
        .cache
        .get_or_fetch(CacheKey::DrandLastStoredRound(head.hash), || async {
            let round = state.chain.drand_last_stored_round(&head).await?;
            Ok(Rendered::new(
                head.clone(),
                to_bytes(&DrandLastStoredRound {
                    last_stored_round: round,
                }),
            ))
        })
        .await?;
    Ok(cached(&rendered, &headers))
}
