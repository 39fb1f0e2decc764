//! The weights extrinsics as the metadata names them, for mechanism 0 (the plain subnet calls)
//! and other mechanisms (the `…_mechanism_…` calls, which add `mecid` after `netuid`).

use scale_value::Value;

use crate::submit::ChainCall;

/// subtensor's `commit_reveal_version` for a CRv4 timelocked commit (hotkey inside the payload).
pub const COMMIT_REVEAL_VERSION: u16 = 4;

fn u16s(values: &[u16]) -> Value {
    Value::unnamed_composite(values.iter().map(|v| Value::u128(u128::from(*v))))
}

/// Leading fields: `netuid`, then `mecid` for a mechanism other than 0.
fn subnet_fields(netuid: u16, mechid: u8) -> Vec<Value> {
    let mut fields = vec![Value::u128(u128::from(netuid))];
    if mechid != 0 {
        fields.push(Value::u128(u128::from(mechid)));
    }
    fields
}

/// The direct weights call's name: `set_weights` for mechanism 0, `set_mechanism_weights` otherwise.
pub fn set_weights_call_name(mechid: u8) -> &'static str {
    if mechid == 0 {
        "set_weights"
    } else {
        "set_mechanism_weights"
    }
}

/// The CRv4 commit's name: `commit_timelocked_weights` for mechanism 0,
/// `commit_timelocked_mechanism_weights` otherwise.
pub fn commit_timelocked_weights_call_name(mechid: u8) -> &'static str {
    if mechid == 0 {
        "commit_timelocked_weights"
    } else {
        "commit_timelocked_mechanism_weights"
    }
}

/// `set_weights(netuid, dests, weights, version_key)` or
/// `set_mechanism_weights(netuid, mecid, dests, weights, version_key)`.
pub fn set_weights_call(
    netuid: u16,
    mechid: u8,
    uids: &[u16],
    values: &[u16],
    version_key: u64,
) -> ChainCall {
    let mut fields = subnet_fields(netuid, mechid);
    fields.extend([
        u16s(uids),
        u16s(values),
        Value::u128(u128::from(version_key)),
    ]);
    ChainCall {
        pallet: "SubtensorModule",
        call: set_weights_call_name(mechid),
        fields,
    }
}

/// `commit_timelocked_weights(netuid, commit, reveal_round, commit_reveal_version)` or
/// `commit_timelocked_mechanism_weights(netuid, mecid, commit, reveal_round, commit_reveal_version)`.
pub fn commit_timelocked_weights_call(
    netuid: u16,
    mechid: u8,
    ciphertext: &[u8],
    reveal_round: u64,
) -> ChainCall {
    let mut fields = subnet_fields(netuid, mechid);
    fields.extend([
        Value::from_bytes(ciphertext),
        Value::u128(u128::from(reveal_round)),
        Value::u128(u128::from(COMMIT_REVEAL_VERSION)),
    ]);
    ChainCall {
        pallet: "SubtensorModule",
        call: commit_timelocked_weights_call_name(mechid),
        fields,
    }
}
