//! The traces a landed weights extrinsic leaves in storage, read by name, so a job resumed after a
//! restart can tell whether its extrinsic made it: the hotkey's uid (`Uids`), the block each uid
//! last set weights (`LastUpdate`) and the unrevealed CRv4 commits (`TimelockedWeightCommits`).

use subxt::dynamic;
use subxt::utils::AccountId32;

use crate::client::ChainClient;
use crate::connection::Connection;
use crate::error::ChainError;
use crate::model::BlockRef;

/// subtensor's `GLOBAL_MAX_SUBNET_COUNT`: mechanism `m` of subnet `n` keeps its weights, commits
/// and `LastUpdate` under the storage index `m * 4096 + n` (`NetUidStorageIndex`).
pub const GLOBAL_MAX_SUBNET_COUNT: u16 = 4096;

/// The storage index of a subnet's mechanism (`Weights`, `LastUpdate`, `TimelockedWeightCommits`).
pub fn netuid_storage_index(netuid: u16, mechid: u8) -> u16 {
    u16::from(mechid)
        .saturating_mul(GLOBAL_MAX_SUBNET_COUNT)
        .saturating_add(netuid)
}

/// One `TimelockedWeightCommits` entry: who committed, at which block, to which drand round.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedCommitEntry {
    pub who: [u8; 32],
    pub commit_block: u64,
    pub reveal_round: u64,
}

impl ChainClient {
    /// The uid of `hotkey` on `netuid` at `block` (`SubtensorModule.Uids`), if registered.
    pub async fn uid_of_hotkey(
        &self,
        netuid: u16,
        hotkey: [u8; 32],
        block: &BlockRef,
    ) -> Result<Option<u16>, ChainError> {
        self.route("uid_of_hotkey", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let value = at
                .storage()
                .try_fetch(
                    dynamic::storage::<(u16, [u8; 32]), u16>("SubtensorModule", "Uids"),
                    (netuid, hotkey),
                )
                .await
                .map_err(ChainError::from_subxt)?;
            value
                .map(|v| v.decode())
                .transpose()
                .map_err(|e| ChainError::Decode(format!("SubtensorModule.Uids: {e}")))
        })
        .await
    }

    /// `SubtensorModule.LastUpdate` of a subnet mechanism: the block each uid last set weights.
    pub async fn last_update(
        &self,
        storage_index: u16,
        block: &BlockRef,
    ) -> Result<Vec<u64>, ChainError> {
        self.route("last_update", block.number, |connection| async move {
            let at = connection.at(block).await?;
            at.storage()
                .fetch(
                    dynamic::storage::<(u16,), Vec<u64>>("SubtensorModule", "LastUpdate"),
                    (storage_index,),
                )
                .await
                .map_err(ChainError::from_subxt)?
                .decode()
                .map_err(|e| ChainError::Decode(format!("SubtensorModule.LastUpdate: {e}")))
        })
        .await
    }

    /// `SubtensorModule.TimelockedWeightCommits` of a subnet mechanism under one epoch key.
    pub async fn timelocked_weight_commits(
        &self,
        storage_index: u16,
        epoch: u64,
        block: &BlockRef,
    ) -> Result<Vec<TimelockedCommitEntry>, ChainError> {
        self.route(
            "timelocked_weight_commits",
            block.number,
            |connection| async move {
                timelocked_commits_on(&connection, storage_index, epoch, block).await
            },
        )
        .await
    }
}

async fn timelocked_commits_on(
    connection: &Connection,
    storage_index: u16,
    epoch: u64,
    block: &BlockRef,
) -> Result<Vec<TimelockedCommitEntry>, ChainError> {
    let at = connection.at(block).await?;
    // (who, commit block, ciphertext, reveal round), as subtensor stores them.
    type Entry = (AccountId32, u64, Vec<u8>, u64);
    let entries: Vec<Entry> = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, u64), Vec<Entry>>(
                "SubtensorModule",
                "TimelockedWeightCommits",
            ),
            (storage_index, epoch),
        )
        .await
        .map_err(ChainError::from_subxt)?
        .decode()
        .map_err(|e| ChainError::Decode(format!("SubtensorModule.TimelockedWeightCommits: {e}")))?;
    Ok(entries
        .into_iter()
        .map(
            |(who, commit_block, _, reveal_round)| TimelockedCommitEntry {
                who: who.0,
                commit_block,
                reveal_round,
            },
        )
        .collect())
}
