//! The traces a landed weights extrinsic leaves in storage, read by name, so a job resumed after a
//! restart can tell whether its extrinsic made it: the hotkey's uid (`Uids`), the block each uid
//! last set weights (`LastUpdate`) and the unrevealed CRv4 commits (`TimelockedWeightCommits`).

use subxt::dynamic;
use subxt::utils::AccountId32;

use crate::client::ChainClient;
use crate::connection::Connection;
use crate::error::ChainError;
use crate::model::BlockRef;

const SM: &str = "SubtensorModule";

/// subtensor's `GLOBAL_MAX_SUBNET_COUNT`: mechanism `m` of subnet `n` keeps its weights, commits
/// and `LastUpdate` under the storage index `m * 4096 + n` (`NetUidStorageIndex`).
pub const GLOBAL_MAX_SUBNET_COUNT: u16 = 4096;

/// The storage index of a subnet's mechanism (`Weights`, `LastUpdate`, `TimelockedWeightCommits`).
pub fn netuid_storage_index(netuid: u16, mechid: u8) -> u16 {
    u16::from(mechid)
        .saturating_mul(GLOBAL_MAX_SUBNET_COUNT)
        .saturating_add(netuid)
}

/// One `TimelockedWeightCommits` entry: who committed, at which block, to which drand round, and
/// the epoch key the chain filed it under (when the key's hasher keeps it readable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedCommitEntry {
    pub epoch: Option<u64>,
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

    /// Every live `SubtensorModule.TimelockedWeightCommits` entry of a subnet mechanism, under
    /// whatever epoch keys the chain filed them (the whole `storage_index` prefix).
    pub async fn timelocked_weight_commits(
        &self,
        storage_index: u16,
        block: &BlockRef,
    ) -> Result<Vec<TimelockedCommitEntry>, ChainError> {
        self.route(
            "timelocked_weight_commits",
            block.number,
            |connection| async move { timelocked_commits_on(&connection, storage_index, block).await },
        )
        .await
    }
}

async fn timelocked_commits_on(
    connection: &Connection,
    storage_index: u16,
    block: &BlockRef,
) -> Result<Vec<TimelockedCommitEntry>, ChainError> {
    let at = connection.at(block).await?;
    // (who, commit block, ciphertext, reveal round), as subtensor stores them.
    type Entry = (AccountId32, u64, Vec<u8>, u64);
    let mut entries = at
        .storage()
        .iter(
            dynamic::storage::<(u16, u64), Vec<Entry>>(SM, "TimelockedWeightCommits"),
            (storage_index,),
        )
        .await
        .map_err(ChainError::from_subxt)?;
    let mut found = Vec::new();
    while let Some(entry) = entries.next().await {
        let entry = entry.map_err(ChainError::from_subxt)?;
        let key = entry
            .key()
            .map_err(|e| ChainError::Decode(format!("{SM}.TimelockedWeightCommits key: {e}")))?;
        let epoch = match key.part(1) {
            Some(part) => part.decode_as::<u64>().map_err(|e| {
                ChainError::Decode(format!("{SM}.TimelockedWeightCommits key: {e}"))
            })?,
            None => None,
        };
        let commits: Vec<Entry> = entry
            .value()
            .decode_as()
            .map_err(|e| ChainError::Decode(format!("{SM}.TimelockedWeightCommits: {e}")))?;
        found.extend(
            commits.into_iter().map(
                |(who, commit_block, _, reveal_round)| TimelockedCommitEntry {
                    epoch,
                    who: who.0,
                    commit_block,
                    reveal_round,
                },
            ),
        );
    }
    Ok(found)
}
