//! Storage maps keyed by (netuid, hotkey) — certificates, commitments — read for a whole subnet.

use scale_value::Value;
use subxt::dynamic;

use crate::connection::Connection;
use crate::decode::{account_of, ss58};
use crate::error::ChainError;
use crate::model::BlockRef;

/// Every `pallet.item[netuid][hotkey]` entry at `block`, as (hotkey ss58, value).
pub(crate) async fn iter_subnet(
    connection: &Connection,
    pallet: &str,
    item: &str,
    netuid: u16,
    block: &BlockRef,
) -> Result<Vec<(String, Value)>, ChainError> {
    let at = connection.at(block).await?;
    let mut entries = at
        .storage()
        .iter(
            dynamic::storage::<(u16, [u8; 32]), Value>(pallet, item),
            (netuid,),
        )
        .await
        .map_err(ChainError::from_subxt)?;
    let mut out = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(ChainError::from_subxt)?;
        let key = entry.key().map_err(ChainError::from_subxt)?;
        let hotkey = key
            .part(1)
            .and_then(|part| part.decode_as::<Value>().ok().flatten())
            .and_then(|v| account_of(&v))
            .ok_or_else(|| ChainError::Decode(format!("{item} key without a hotkey")))?;
        let value = entry.value().decode().map_err(ChainError::from_subxt)?;
        out.push((ss58(hotkey), value));
    }
    Ok(out)
}
