//! One validator's weights as the chain holds them: its `SubtensorModule.Weights` row, the
//! `(uid, u16 value)` pairs the last set or revealed weights left, under the subnet mechanism's
//! storage index (see [`crate::weights_traces::netuid_storage_index`]).

use subxt::dynamic;

use crate::client::ChainClient;
use crate::error::ChainError;
use crate::model::BlockRef;

impl ChainClient {
    /// `SubtensorModule.Weights[storage_index][uid]` at `block` (empty when never set).
    pub async fn weights_row(
        &self,
        storage_index: u16,
        uid: u16,
        block: &BlockRef,
    ) -> Result<Vec<(u16, u16)>, ChainError> {
        self.route("weights_row", block.number, |connection| async move {
            let at = connection.at(block).await?;
            at.storage()
                .fetch(
                    dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights"),
                    (storage_index, uid),
                )
                .await
                .map_err(ChainError::from_subxt)?
                .decode()
                .map_err(|e| ChainError::Decode(format!("SubtensorModule.Weights: {e}")))
        })
        .await
    }
}

impl ChainClient {
    /// `SubtensorModule.MechanismCountCurrent[netuid]` at `block`: how many mechanisms the subnet
    /// runs (ids `0..count`); 1 where the block's runtime predates mechanisms (no such item).
    pub async fn mechanism_count(&self, netuid: u16, block: &BlockRef) -> Result<u8, ChainError> {
        self.route("mechanism_count", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let stored = at
                .metadata()
                .pallet_by_name("SubtensorModule")
                .and_then(|pallet| pallet.storage())
                .and_then(|storage| storage.entry_by_name("MechanismCountCurrent"))
                .is_some();
            if !stored {
                return Ok(1);
            }
            at.storage()
                .fetch(
                    dynamic::storage::<(u16,), u8>("SubtensorModule", "MechanismCountCurrent"),
                    (netuid,),
                )
                .await
                .map_err(ChainError::from_subxt)?
                .decode()
                .map_err(|e| {
                    ChainError::Decode(format!("SubtensorModule.MechanismCountCurrent: {e}"))
                })
        })
        .await
    }
}
