//! Storage migrations run when `dev_runtimeUpgrade` moves the chain from spec 343 to 424, at the
//! start of the first block of the new runtime (where FRAME runs `on_runtime_upgrade`).
//!
//! - subtensor's `migrate_dynamic_tempo` (v3.4.9-424): per subnet with a non-zero tempo,
//!   `LastEpochBlock` so the first stateful epoch lands where the old grid's next one would,
//!   `SubnetEpochIndex` = the grid's epoch index (CRv4 commit keys stay continuous),
//!   `ActivityCutoffFactorMilli` from the absolute `ActivityCutoff`; every CR-v2 `WeightCommits`
//!   entry rewritten to `(hash, commit_epoch, commit_block, 0)`.
//! - 424 no longer declares `Rank`, `Trust` and `PruningScores`; their entries are removed (no
//!   client can address them under the new metadata either way).

use scale_value::{Value, ValueDef};

use crate::state_access::StateAccess;
use crate::storage::BlockState;

const SM: &str = "SubtensorModule";
const MIGRATION: &str = "dynamic_tempo_v1";
const MIN_ACTIVITY_CUTOFF_FACTOR_MILLI: u64 = 1_000;
const MAX_ACTIVITY_CUTOFF_FACTOR_MILLI: u64 = 50_000;
const INITIAL_ACTIVITY_CUTOFF_FACTOR_MILLI: u64 = 13_889;
/// `GLOBAL_MAX_SUBNET_COUNT`: a mechanism's storage index is `mecid * 4096 + netuid`.
const GLOBAL_MAX_SUBNET_COUNT: u128 = 4096;
/// Items spec 424 dropped from `SubtensorModule`.
const RETIRED_ITEMS: [&str; 3] = ["Rank", "Trust", "PruningScores"];

fn uint(v: Option<Value>) -> u64 {
    v.and_then(|v| v.as_u128()).unwrap_or(0) as u64
}

/// Run the 343 → 424 migrations on `state` (already decoded with 424's metadata) in block
/// `block`.
pub fn spec_343_to_424(state: &mut BlockState, block: u64) {
    remove_retired_items(state);
    dynamic_tempo(state, block);
}

/// Remove every entry under `SubtensorModule.{Rank,Trust,PruningScores}` by raw prefix.
fn remove_retired_items(state: &mut BlockState) {
    let pallet = sp_crypto_hashing::twox_128(SM.as_bytes());
    for item in RETIRED_ITEMS {
        let mut prefix = pallet.to_vec();
        prefix.extend_from_slice(&sp_crypto_hashing::twox_128(item.as_bytes()));
        let keys: Vec<Vec<u8>> = state
            .raw
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for key in keys {
            state.raw.remove(&key);
        }
    }
}

/// subtensor's `migrate_dynamic_tempo`.
fn dynamic_tempo(state: &mut BlockState, block: u64) {
    let name = Value::from_bytes(MIGRATION.as_bytes());
    if state
        .read(SM, "HasMigrationRun", std::slice::from_ref(&name))
        .and_then(|v| v.as_bool())
        == Some(true)
    {
        return;
    }
    let subnets: Vec<(Value, u64)> = state
        .iter_prefix(SM, "Tempo", &[])
        .into_iter()
        .filter_map(|(keys, tempo)| Some((keys.into_iter().next()?, uint(Some(tempo)))))
        .collect();
    for (netuid, tempo) in subnets {
        if tempo == 0 {
            continue;
        }
        let key = [netuid.clone()];
        let netuid_plus_one = uint(Some(netuid)) + 1;
        let adjusted = block.wrapping_add(netuid_plus_one);
        let remainder = adjusted % (tempo + 1);
        let blocks_until_next = tempo.saturating_sub(remainder);
        let offset = tempo.saturating_sub(blocks_until_next);
        state.write(
            SM,
            "LastEpochBlock",
            &key,
            Value::u128(block.saturating_sub(offset).into()),
        );
        state.write(
            SM,
            "SubnetEpochIndex",
            &key,
            Value::u128((adjusted / (tempo + 1)).into()),
        );
        let old_cutoff = uint(state.read(SM, "ActivityCutoff", &key));
        let factor = (old_cutoff * 1000)
            .saturating_add(tempo - 1)
            .checked_div(tempo)
            .unwrap_or(INITIAL_ACTIVITY_CUTOFF_FACTOR_MILLI)
            .clamp(
                MIN_ACTIVITY_CUTOFF_FACTOR_MILLI,
                MAX_ACTIVITY_CUTOFF_FACTOR_MILLI,
            );
        state.write(
            SM,
            "ActivityCutoffFactorMilli",
            &key,
            Value::u128(factor.into()),
        );
    }

    // CR-v2: field 1 was the absolute commit block; it becomes the grid epoch of that block,
    // and field 2 keeps the block.
    for (keys, commits) in state.iter_prefix(SM, "WeightCommits", &[]) {
        let index = keys.first().and_then(|k| k.as_u128()).unwrap_or(0);
        let netuid = (index % GLOBAL_MAX_SUBNET_COUNT) as u64;
        let tempo = uint(state.read(SM, "Tempo", &[Value::u128(netuid.into())]));
        let ValueDef::Composite(list) = commits.value else {
            continue;
        };
        let converted: Vec<Value> = list
            .into_values()
            .map(|entry| {
                let mut fields: Vec<Value> = match entry.value {
                    ValueDef::Composite(c) => c.into_values().collect(),
                    _ => Vec::new(),
                };
                fields.resize(4, Value::u128(0));
                let commit_block = uint(fields.get(1).cloned());
                let commit_epoch = (commit_block + netuid + 1) / (tempo + 1);
                fields[1] = Value::u128(commit_epoch.into());
                fields[2] = Value::u128(commit_block.into());
                fields[3] = Value::u128(0);
                Value::unnamed_composite(fields)
            })
            .collect();
        state.write(
            SM,
            "WeightCommits",
            &keys,
            Value::unnamed_composite(converted),
        );
    }

    state.write(SM, "HasMigrationRun", &[name], Value::bool(true));
}
