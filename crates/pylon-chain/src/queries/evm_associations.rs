//! EVM addresses neurons associated with their hotkeys:
//! `SubtensorModule.AssociatedEvmAddress(netuid, uid) → (H160, last_block_where_ownership_was_proven)`,
//! joined with `SubtensorModule.Keys(netuid, uid)` at the same block to name the hotkey.

use std::collections::HashMap;

use scale_value::{At, Value};
use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::AtBlock;
use crate::decode::{account_of, bytes_of, ss58};
use crate::error::ChainError;
use crate::model::BlockRef;

const SM: &str = "SubtensorModule";

/// One hotkey's associated EVM address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmAssociation {
    pub uid: u16,
    /// ss58 of the hotkey registered at `uid`.
    pub hotkey: String,
    /// The 20-byte EVM address.
    pub evm_address: [u8; 20],
    pub last_block_where_ownership_was_proven: u64,
}

impl EvmAssociation {
    /// `0x` + lowercase hex, as the chain's H160 reads in Substrate tooling.
    pub fn evm_address_hex(&self) -> String {
        format!("0x{}", hex::encode(self.evm_address))
    }
}

impl ChainClient {
    /// The subnet's EVM associations at `block`, in uid order. An association whose uid has no
    /// registered hotkey at that block is left out (it names no one).
    pub async fn evm_associations(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Vec<EvmAssociation>, ChainError> {
        self.route("evm_associations", block.number, |connection| async move {
            let at = connection.at(block).await?;
            if !crate::market::has_item(&at, SM, "AssociatedEvmAddress") {
                // Runtimes from before EVM associations: none exist.
                return Ok(Vec::new());
            }
            let associations = uid_map(&at, "AssociatedEvmAddress", netuid).await?;
            if associations.is_empty() {
                return Ok(Vec::new());
            }
            let keys: HashMap<u16, [u8; 32]> = uid_map(&at, "Keys", netuid)
                .await?
                .into_iter()
                .filter_map(|(uid, v)| account_of(&v).map(|a| (uid, a)))
                .collect();
            let mut out = Vec::new();
            for (uid, value) in associations {
                let Some(hotkey) = keys.get(&uid) else {
                    continue;
                };
                let address: [u8; 20] = value
                    .at(0)
                    .map(bytes_of)
                    .and_then(|b| b.try_into().ok())
                    .ok_or_else(|| {
                    ChainError::Decode(format!(
                        "{SM}.AssociatedEvmAddress({netuid}, {uid}) has no 20-byte address"
                    ))
                })?;
                let proven = value
                    .at(1)
                    .and_then(|v| v.as_u128())
                    .and_then(|n| u64::try_from(n).ok())
                    .ok_or_else(|| {
                        ChainError::Decode(format!(
                            "{SM}.AssociatedEvmAddress({netuid}, {uid}) has no block number"
                        ))
                    })?;
                out.push(EvmAssociation {
                    uid,
                    hotkey: ss58(*hotkey),
                    evm_address: address,
                    last_block_where_ownership_was_proven: proven,
                });
            }
            out.sort_by_key(|a| a.uid);
            Ok(out)
        })
        .await
    }
}

/// Every `SubtensorModule.item(netuid, uid)` entry at the block, by uid.
async fn uid_map(at: &AtBlock, item: &str, netuid: u16) -> Result<Vec<(u16, Value)>, ChainError> {
    let mut entries = at
        .storage()
        .iter(dynamic::storage::<(u16, u16), Value>(SM, item), (netuid,))
        .await
        .map_err(ChainError::from_subxt)?;
    let mut out = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(ChainError::from_subxt)?;
        let key = entry.key().map_err(ChainError::from_subxt)?;
        let uid = key
            .part(1)
            .and_then(|part| part.decode_as::<Value>().ok().flatten())
            .and_then(|v| v.as_u128())
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| ChainError::Decode(format!("{SM}.{item} key without a uid")))?;
        out.push((uid, entry.value().decode().map_err(ChainError::from_subxt)?));
    }
    Ok(out)
}
