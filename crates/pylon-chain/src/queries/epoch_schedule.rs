//! A subnet's epoch schedule as the chain keeps it, read at one pinned block.
//!
//! Spec 423+ keeps the schedule in storage (`LastEpochBlock`, `PendingEpochAt`,
//! `SubnetEpochIndex`, `BlocksSinceLastStep`, with `Tempo`); older runtimes fire on a fixed grid
//! computed from `Tempo`. Which model applies is decided by the block's metadata: the stateful
//! items present → [`EpochStorage::stateful`] is `Some`, absent → `None`. Never by spec number,
//! so a chain that upgrades mid-way is read right on both sides of the upgrade.
//!
//! This module only reads; what the values mean (when an epoch fires, which epoch contains a
//! block) is `pylon_weights::epoch`'s one formula, applied by the service's chain adapter.

use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::AtBlock;
use crate::error::ChainError;
use crate::model::BlockRef;

const SM: &str = "SubtensorModule";

/// The storage items of the stateful scheduler that must all be present to use it.
const STATEFUL_ITEMS: [&str; 4] = [
    "LastEpochBlock",
    "PendingEpochAt",
    "SubnetEpochIndex",
    "BlocksSinceLastStep",
];

/// The runtime API that answers the next epoch start (`SubnetInfoRuntimeApi`).
const NEXT_EPOCH_START_API: (&str, &str) = ("SubnetInfoRuntimeApi", "get_next_epoch_start_block");

/// A subnet's epoch storage at one pinned block, as the chain keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochStorage {
    pub netuid: u16,
    /// The pinned block every other field was read at.
    pub block: u64,
    pub tempo: u16,
    /// The stateful scheduler's items; `None` where the block's metadata has none of them
    /// (the fixed grid of spec ≤ 422).
    pub stateful: Option<StatefulEpochItems>,
    /// `get_next_epoch_start_block` as the runtime API answered it, where the metadata has it.
    pub next_epoch_start: Option<u64>,
}

/// `LastEpochBlock`, `PendingEpochAt`, `SubnetEpochIndex`, `BlocksSinceLastStep` of one subnet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatefulEpochItems {
    pub last_epoch_block: u64,
    pub pending_epoch_at: u64,
    pub epoch_index: u64,
    pub blocks_since_last_step: u64,
}

fn has_storage(at: &AtBlock, item: &str) -> bool {
    at.metadata()
        .pallet_by_name(SM)
        .and_then(|pallet| pallet.storage())
        .and_then(|storage| storage.entry_by_name(item))
        .is_some()
}

fn has_runtime_api(at: &AtBlock, (api, method): (&str, &str)) -> bool {
    at.metadata()
        .runtime_api_trait_by_name(api)
        .and_then(|trait_| trait_.method_by_name(method))
        .is_some()
}

/// A `SubtensorModule` map keyed by netuid, as a number (its default when absent).
async fn netuid_number(at: &AtBlock, item: &'static str, netuid: u16) -> Result<u64, ChainError> {
    at.storage()
        .fetch(dynamic::storage::<(u16,), u64>(SM, item), (netuid,))
        .await
        .map_err(ChainError::from_subxt)?
        .decode()
        .map_err(|e| ChainError::Decode(format!("{SM}.{item}: {e}")))
}

impl ChainClient {
    /// The epoch storage of `netuid` at `block`, every item read at that one block, with the
    /// runtime API's next epoch start where the block's metadata has the API.
    pub async fn epoch_storage(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<EpochStorage, ChainError> {
        self.route("epoch_schedule", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let number = u64::from(block.number);
            let tempo = u16::try_from(netuid_number(&at, "Tempo", netuid).await?)
                .map_err(|_| ChainError::Decode(format!("{SM}.Tempo is not a u16")))?;
            if !STATEFUL_ITEMS.iter().all(|item| has_storage(&at, item)) {
                return Ok(EpochStorage {
                    netuid,
                    block: number,
                    tempo,
                    stateful: None,
                    next_epoch_start: None,
                });
            }
            let (last_epoch_block, pending_epoch_at, epoch_index, blocks_since_last_step) = futures::try_join!(
                netuid_number(&at, "LastEpochBlock", netuid),
                netuid_number(&at, "PendingEpochAt", netuid),
                netuid_number(&at, "SubnetEpochIndex", netuid),
                netuid_number(&at, "BlocksSinceLastStep", netuid),
            )?;
            let next_epoch_start = if has_runtime_api(&at, NEXT_EPOCH_START_API) {
                let (api, method) = NEXT_EPOCH_START_API;
                at.runtime_apis()
                    .call(dynamic::runtime_api_call::<_, Option<u64>>(
                        api,
                        method,
                        (netuid,),
                    ))
                    .await
                    .map_err(ChainError::from_subxt)?
            } else {
                None
            };
            Ok(EpochStorage {
                netuid,
                block: number,
                tempo,
                stateful: Some(StatefulEpochItems {
                    last_epoch_block,
                    pending_epoch_at,
                    epoch_index,
                    blocks_since_last_step,
                }),
                next_epoch_start,
            })
        })
        .await
    }

    /// `SubnetEpochIndex` of `netuid` at `block`; `None` where the metadata has no such item
    /// (the fixed grid).
    pub async fn subnet_epoch_index(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Option<u64>, ChainError> {
        self.route(
            "subnet_epoch_index",
            block.number,
            |connection| async move {
                let at = connection.at(block).await?;
                if !has_storage(&at, "SubnetEpochIndex") {
                    return Ok(None);
                }
                netuid_number(&at, "SubnetEpochIndex", netuid)
                    .await
                    .map(Some)
            },
        )
        .await
    }
}
