//! Blocks: hash by number, and a block's timestamp.
//!
//! A block this far behind the head is final on subtensor (GRANDPA finalizes within a few
//! blocks), so its hash by number is remembered and never asked for again.

use subxt::dynamic;
use subxt::rpcs::rpc_params;

use crate::client::ChainClient;
use crate::error::ChainError;
use crate::model::BlockRef;

/// Depth behind the head from which a block's number → hash is treated as settled.
pub const SETTLED_DEPTH: u32 = 64;
/// At most this many settled hashes are remembered (32 bytes each; the oldest numbers go first).
const MAX_SETTLED: usize = 100_000;

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
        if let Some(hash) = self.settled_hashes.lock().get(&number) {
            return Ok(BlockRef {
                number,
                hash: *hash,
            });
        }
        let block = self
            .route("block", number, |connection| async move {
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
            .await?;
        let settled = self
            .head()
            .is_some_and(|head| head.number.saturating_sub(number) >= SETTLED_DEPTH);
        if settled {
            let mut hashes = self.settled_hashes.lock();
            hashes.insert(number, block.hash);
            while hashes.len() > MAX_SETTLED {
                hashes.pop_first();
            }
        }
        Ok(block)
    }

    /// `Timestamp.Now` at the block (milliseconds since the Unix epoch).
    pub async fn timestamp(&self, block: &BlockRef) -> Result<u64, ChainError> {
        self.route("timestamp", block.number, |connection| async move {
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
