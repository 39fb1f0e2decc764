//! The CRv4 auto-reveal: every block, for every subnet, the chain opens the timelocked weight
//! commits whose reveal epoch has come with the drand pulse of their round and applies them as
//! the committing hotkey, following subtensor's `reveal_crv3_commits` (coinbase/block_step.rs and
//! coinbase/reveal_commits.rs), which `block_step` runs from `on_initialize` BEFORE the epoch
//! schedule advances ([`crate::epochs::block_step`]).
//!
//! The rule, per subnet `netuid` at block `b`:
//! - Stateful schedule (`v3.4.9-424`): subnets in `NetworksAdded` order, root excluded; a subnet
//!   whose due epoch the `MaxEpochsPerBlock` cap defers in this block is skipped.
//!   `cur_epoch = current_epoch_with_lookahead` (`SubnetEpochIndex`, plus one when its epoch is
//!   due in `b`), so the commits of epoch `e` are first taken in the block of the fire that starts
//!   `e + RevealPeriodEpochs`, retried each block of that epoch, and dropped at the next fire.
//! - Grid (spec 343): `cur_epoch = (b + netuid + 1) / (tempo + 1)`.
//! - `reveal_epoch = cur_epoch - RevealPeriodEpochs`.
//! - Commits stored under an epoch below `reveal_epoch` are removed unrevealed (expired).
//! - The commits stored under `reveal_epoch` are taken: a commit whose `Drand.Pulses[round]` is
//!   not stored yet is put back and retried on the next block (until its epoch expires); one that
//!   does not deserialize, does not open with the pulse signature, does not decode as a
//!   `WeightsTlockPayload` (or the legacy payload without hotkey), names another hotkey than the
//!   committer, or fails a weights rule is dropped silently (subtensor only logs it).
//! - An applied commit emits `SubtensorModule.TimelockedWeightsRevealed(netuid_index, hotkey)`.

use parity_scale_codec::Decode;
use scale_value::Value;

use super::dispatch::chain::read_uint;
use super::dispatch::weights::{apply_weights, epoch_index, storage_index, WeightsInput};
use super::dispatch::SUBTENSOR;
use super::values::{self, account_value, u};
use crate::epochs::{self, Schedule};
use crate::state_access::StateAccess;

const COMMITS: &str = "TimelockedWeightCommits";

/// The plaintext a CRv4 commit encrypts (SCALE), as the SDK and bittensor-drand build it.
#[derive(Decode)]
struct WeightsTlockPayload {
    hotkey: Vec<u8>,
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
}

/// The payload of commits made before the hotkey was added to it.
#[derive(Decode)]
struct LegacyWeightsTlockPayload {
    uids: Vec<u16>,
    values: Vec<u16>,
    version_key: u64,
}

/// One `TimelockedWeightCommits` entry: (hotkey, commit block, ciphertext, reveal round).
struct TimelockedCommit {
    who: [u8; 32],
    raw: Value,
    ciphertext: Vec<u8>,
    round: u64,
}

impl TimelockedCommit {
    fn parse(raw: Value) -> Option<Self> {
        let scale_value::ValueDef::Composite(fields) = &raw.value else {
            return None;
        };
        let f: Vec<&Value> = fields.values().collect();
        Some(Self {
            who: values::account(f.first()?)?,
            ciphertext: values::bytes(f.get(2)?)?,
            round: values::uint(f.get(3)?)? as u64,
            raw,
        })
    }
}

/// Run the reveal for every subnet (the root network has no weights to reveal).
pub fn reveal_timelocked_commits(state: &mut dyn StateAccess, block: u64) {
    if Schedule::of(state) == Schedule::Stateful {
        let clocks = epochs::clocks(state);
        let deferred = {
            let view: &dyn StateAccess = &*state;
            epochs::deferred_this_block(&clocks, block, epochs::max_epochs_per_block(view), |n| {
                epochs::input_state_consistent(view, n)
            })
        };
        for (netuid, _) in clocks {
            if !deferred.contains(&netuid) {
                let cur_epoch = epochs::epoch_with_lookahead(state, netuid, block);
                reveal_subnet(state, netuid, cur_epoch, block);
            }
        }
        return;
    }
    let netuids: Vec<u16> = state
        .iter_prefix(SUBTENSOR, "NetworksAdded", &[])
        .into_iter()
        .filter(|(_, added)| values::boolean(added).unwrap_or(false))
        .filter_map(|(keys, _)| keys.first().and_then(values::uint))
        .map(|n| n as u16)
        .filter(|netuid| *netuid != 0)
        .collect();
    for netuid in netuids {
        let cur_epoch = epoch_index(state, netuid, block);
        reveal_subnet(state, netuid, cur_epoch, block);
    }
}

fn reveal_subnet(state: &mut dyn StateAccess, netuid: u16, cur_epoch: u64, block: u64) {
    let reveal_period = read_uint(state, "RevealPeriodEpochs", &[u(netuid)]) as u64;
    let reveal_epoch = cur_epoch.saturating_sub(reveal_period);
    let mechanisms = read_uint(state, "MechanismCountCurrent", &[u(netuid)]) as u8;
    for mecid in 0..mechanisms {
        let netuid_index = storage_index(netuid, mecid);
        drop_expired(state, netuid_index, reveal_epoch);
        // Subtensor returns from the whole subnet here, before looking at other mechanisms.
        if cur_epoch < reveal_period {
            return;
        }
        let key = [u(netuid_index), u(reveal_epoch)];
        let entries = take_commits(state, &key);
        let mut unrevealed = Vec::new();
        for commit in entries {
            let Some(signature) = pulse_signature(state, commit.round) else {
                // The round's pulse has not arrived: retried every block of the reveal epoch.
                unrevealed.push(commit.raw);
                continue;
            };
            let Some((uids, values, version_key)) = open(&commit, &signature) else {
                continue;
            };
            let input = WeightsInput {
                netuid,
                mecid,
                uids,
                values,
                version_key,
            };
            if apply_weights(state, &commit.who, &input, block).is_ok() {
                state.deposit_event(
                    SUBTENSOR,
                    "TimelockedWeightsRevealed",
                    vec![("", u(netuid_index)), ("", account_value(&commit.who))],
                );
            }
        }
        if !unrevealed.is_empty() {
            state.write(
                SUBTENSOR,
                COMMITS,
                &key,
                Value::unnamed_composite(unrevealed),
            );
        }
    }
}

/// Remove the commits of epochs before `reveal_epoch`: their reveal window has passed.
fn drop_expired(state: &mut dyn StateAccess, netuid_index: u16, reveal_epoch: u64) {
    let expired: Vec<Value> = state
        .iter_prefix(SUBTENSOR, COMMITS, &[u(netuid_index)])
        .into_iter()
        .filter_map(|(keys, _)| keys.get(1).cloned())
        .filter(|epoch| values::uint(epoch).is_some_and(|e| (e as u64) < reveal_epoch))
        .collect();
    for epoch in expired {
        state.remove(SUBTENSOR, COMMITS, &[u(netuid_index), epoch]);
    }
}

fn take_commits(state: &mut dyn StateAccess, key: &[Value]) -> Vec<TimelockedCommit> {
    let Some(stored) = state.read(SUBTENSOR, COMMITS, key) else {
        return Vec::new();
    };
    state.remove(SUBTENSOR, COMMITS, key);
    match stored.value {
        scale_value::ValueDef::Composite(items) => items
            .into_values()
            .filter_map(TimelockedCommit::parse)
            .collect(),
        _ => Vec::new(),
    }
}

/// `Drand.Pulses[round].signature`, without the `0x` prefix the pallet tolerates.
pub(crate) fn pulse_signature(state: &dyn StateAccess, round: u64) -> Option<Vec<u8>> {
    let pulse = state.read("Drand", "Pulses", &[u(round)])?;
    let signature = values::bytes(values::field(&pulse, "signature")?)?;
    Some(match signature.strip_prefix(b"0x") {
        Some(rest) => rest.to_vec(),
        None => signature,
    })
}

/// Decrypt and decode a commit into (uids, values, version key); `None` drops it.
fn open(commit: &TimelockedCommit, signature: &[u8]) -> Option<(Vec<u16>, Vec<u16>, u64)> {
    let plaintext = pylon_timelock::decrypt(&commit.ciphertext, signature).ok()?;
    decode_payload(&plaintext, &commit.who)
}

/// Subtensor's decoding order: the payload with hotkey first (the hotkey must be the
/// committer's), the legacy payload when that does not decode or its hotkey is not an account.
/// Like subtensor, trailing bytes are ignored (`Decode::decode`, not `decode_all`).
fn decode_payload(plaintext: &[u8], committer: &[u8; 32]) -> Option<(Vec<u16>, Vec<u16>, u64)> {
    let legacy = || {
        LegacyWeightsTlockPayload::decode(&mut &plaintext[..])
            .ok()
            .map(|p| (p.uids, p.values, p.version_key))
    };
    let Ok(payload) = WeightsTlockPayload::decode(&mut &plaintext[..]) else {
        return legacy();
    };
    match <[u8; 32]>::decode(&mut &payload.hotkey[..]) {
        Ok(hotkey) if hotkey == *committer => {
            Some((payload.uids, payload.values, payload.version_key))
        }
        Ok(_) => None,
        Err(_) => legacy(),
    }
}

#[cfg(test)]
mod tests;
