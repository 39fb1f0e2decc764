//! Blocks: hash by number, and a block's timestamp.

use subxt::dynamic;
use subxt::rpcs::rpc_params;

use crate::client::ChainClient;
use crate::error::ChainError;
use crate::model::BlockRef;

impl ChainClient {
    /// The block with this number, or `UnknownBlock` when there is none (yet).
    pub async fn block(&self, number: u32) -> Result<BlockRef, ChainError> {
        if let Some(head) = self.head() {
            if number > head.number {
                return Err(ChainError::UnknownBlock(format!(
                    "block {number} is in the future (latest is {})",
                    head.number
                )));
            }
            if number == head.number {
                return Ok(head);
            }
        }
        self.route(number, |connection| async move {
            let hash: Option<String> = connection
                .rpc
                .request("chain_getBlockHash", rpc_params![number])
                .await
                .map_err(ChainError::from_subxt)?;
            let hash =
                hash.ok_or_else(|| ChainError::UnknownBlock(format!("no block {number}")))?;
            let bytes: [u8; 32] = hex::decode(hash.trim_start_matches("0x"))
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| ChainError::Decode(format!("block hash {hash}")))?;
            Ok(BlockRef {
                number,
                hash: bytes,
            })
        })
        .await
    }

    /// `Timestamp.Now` at the block (milliseconds since the Unix epoch).
    pub async fn timestamp(&self, block: &BlockRef) -> Result<u64, ChainError> {
        self.route(block.number, |connection| async move {
            let at = connection.at(block).await?;
            at.storage()
                .fetch(dynamic::storage::<(), u64>("Timestamp", "Now"), ())
                .await
                .map_err(ChainError::from_subxt)?
                .decode()
                .map_err(ChainError::from_subxt)
        })
        .await
    }
}
