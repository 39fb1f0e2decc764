//! A subnet's settings, read from storage by name in one batched call: the hyperparameters the
//! reference reports, and what the weights write path needs (version key, reveal period, block
//! time, the drand beacon).

use scale_value::{At, Value};
use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::{AtBlock, Connection};
use crate::decode::bytes_of;
use crate::error::ChainError;
use crate::model::BlockRef;
use crate::neurons::query_storage_at;

const SM: &str = "SubtensorModule";

/// Per-subnet settings (`SubtensorModule` storage keyed by netuid).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetSettings {
    pub tempo: u16,
    pub commit_reveal_weights_enabled: bool,
    pub reveal_period_epochs: u64,
    pub weights_version_key: u64,
    pub weights_set_rate_limit: u64,
    pub max_weights_limit: u16,
    pub min_allowed_weights: u16,
    /// Expected block time: `Timestamp.MinimumPeriod` × 2, in milliseconds.
    pub block_time_ms: u64,
}

/// `Drand.BeaconConfig`: the beacon timelocked commits are encrypted to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrandBeacon {
    pub public_key: Vec<u8>,
    pub genesis_time: u64,
    pub period: u64,
}

/// Storage items read for [`SubnetSettings`], in field order.
const SUBNET_ITEMS: [&str; 7] = [
    "Tempo",
    "CommitRevealWeightsEnabled",
    "RevealPeriodEpochs",
    "WeightsVersionKey",
    "WeightsSetRateLimit",
    "MaxWeightsLimit",
    "MinAllowedWeights",
];

impl ChainClient {
    pub async fn subnet_settings(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<SubnetSettings, ChainError> {
        self.route("subnet_settings", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let values = read_netuid_items(&connection, &at, block, netuid).await?;
            let number = |i: usize| -> Result<u64, ChainError> {
                values[i].as_u128().map(|n| n as u64).ok_or_else(|| {
                    ChainError::Decode(format!("{SM}.{} is not a number", SUBNET_ITEMS[i]))
                })
            };
            let minimum_period: u64 = at
                .constants()
                .entry(dynamic::constant::<u64>("Timestamp", "MinimumPeriod"))
                .map_err(ChainError::from_subxt)?;
            Ok(SubnetSettings {
                tempo: number(0)? as u16,
                commit_reveal_weights_enabled: values[1].as_bool().ok_or_else(|| {
                    ChainError::Decode(format!("{SM}.CommitRevealWeightsEnabled is not a bool"))
                })?,
                reveal_period_epochs: number(2)?,
                weights_version_key: number(3)?,
                weights_set_rate_limit: number(4)?,
                max_weights_limit: number(5)? as u16,
                min_allowed_weights: number(6)? as u16,
                block_time_ms: minimum_period * 2,
            })
        })
        .await
    }

    pub async fn drand_beacon(&self, block: &BlockRef) -> Result<DrandBeacon, ChainError> {
        self.route("drand_beacon", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let config = at
                .storage()
                .fetch(dynamic::storage::<(), Value>("Drand", "BeaconConfig"), ())
                .await
                .map_err(ChainError::from_subxt)?
                .decode()
                .map_err(ChainError::from_subxt)?;
            let number = |field: &str| {
                config
                    .at(field)
                    .and_then(|v| v.as_u128())
                    .map(|n| n as u64)
                    .ok_or_else(|| ChainError::Decode(format!("Drand.BeaconConfig.{field}")))
            };
            Ok(DrandBeacon {
                public_key: config.at("public_key").map(bytes_of).unwrap_or_default(),
                genesis_time: number("genesis_time")?,
                period: number("period")?,
            })
        })
        .await
    }
}

/// The values of [`SUBNET_ITEMS`] for `netuid` (absent entries take their declared default).
async fn read_netuid_items(
    connection: &Connection,
    at: &AtBlock,
    block: &BlockRef,
    netuid: u16,
) -> Result<Vec<Value<u32>>, ChainError> {
    let storage = at.storage();
    let mut keys = Vec::new();
    let mut defaults = Vec::new();
    for item in SUBNET_ITEMS {
        let entry = storage
            .entry(dynamic::storage::<(u16,), Value>(SM, item))
            .map_err(ChainError::from_subxt)?;
        keys.push(entry.fetch_key((netuid,)).map_err(ChainError::from_subxt)?);
        defaults.push(entry.default_value().map(|v| v.bytes().to_vec()));
    }
    let values = query_storage_at(connection, &keys, block).await?;
    let metadata = at.metadata();
    let types = metadata.types();
    let storage_meta = metadata
        .pallet_by_name(SM)
        .and_then(|p| p.storage())
        .ok_or_else(|| ChainError::Decode(format!("no {SM} storage in metadata")))?;
    SUBNET_ITEMS
        .iter()
        .zip(values.into_iter().zip(defaults))
        .map(|(item, (value, default))| {
            let bytes = value
                .or(default)
                .ok_or_else(|| ChainError::Decode(format!("{SM}.{item} has no value")))?;
            let ty = storage_meta
                .entry_by_name(item)
                .map(|e| e.value_ty())
                .ok_or_else(|| ChainError::Decode(format!("no {SM}.{item} in metadata")))?;
            scale_value::scale::decode_as_type(&mut &bytes[..], ty, types)
                .map_err(|e| ChainError::Decode(format!("{SM}.{item}: {e}")))
        })
        .collect()
}
