//! `Commitments.set_commitment` (pallets/commitments/src/lib.rs): a registered hotkey's
//! commitment in `CommitmentOf[netuid][who]` as `Registration { deposit, block, info }`, with
//! the per-epoch space limit and subtensor's free deposits.

use scale_value::Value;

use super::weights::epoch_index;
use super::{DispatchCtx, DispatchError};
use crate::extrinsics::commitment_reveal;
use crate::extrinsics::values::{self, account_value, u};
use crate::state_access::StateAccess;

const PALLET: &str = "Commitments";
/// Subtensor's `MaxCommitFields`.
const MAX_FIELDS: usize = 3;
/// Every commitment counts at least this many bytes against the space limit.
const MIN_USED_SPACE: u64 = 100;

fn err(name: &'static str) -> DispatchError {
    DispatchError::Module {
        pallet: PALLET,
        error: name,
    }
}

/// `Data::len_for_rate_limit`.
fn field_len(field: &Value) -> u64 {
    let Some((name, inner)) = values::variant(field) else {
        return 0;
    };
    let first = inner.values().next();
    match name {
        "None" | "ResetBondsFlag" => 0,
        "BlakeTwo256" | "Sha256" | "Keccak256" | "ShaThree256" => 32,
        "TimelockEncrypted" => values::field(field, "encrypted")
            .and_then(values::bytes)
            .map_or(0, |b| b.len() as u64),
        _ => first.and_then(values::bytes).map_or(0, |b| b.len() as u64),
    }
}

fn read_uint(state: &dyn StateAccess, item: &str, keys: &[Value]) -> u128 {
    state
        .read(PALLET, item, keys)
        .as_ref()
        .and_then(values::uint)
        .unwrap_or(0)
}

pub fn set_commitment(ctx: &mut DispatchCtx<'_>) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    let info = ctx.arg("info")?.clone();
    let who = ctx.who;
    let block = ctx.block;
    let state = &mut *ctx.state;
    if super::chain::uid_of(state, netuid, &who).is_none() {
        return Err(err("AccountNotAllowedCommit"));
    }
    // `fields` is a `BoundedVec<Data>`, a newtype around the sequence once decoded by type.
    let fields: Vec<Value> =
        match values::field(&info, "fields").map(|f| &values::unwrap_newtype_seq(f).value) {
            Some(scale_value::ValueDef::Composite(c)) => c.values().cloned().collect(),
            _ => Vec::new(),
        };
    if fields.len() > MAX_FIELDS {
        return Err(err("TooManyFieldsInCommitmentInfo"));
    }
    let required: u64 = fields
        .iter()
        .map(field_len)
        .sum::<u64>()
        .max(MIN_USED_SPACE);
    let key = [u(netuid), account_value(&who)];
    let epoch = epoch_index(state, netuid, block);
    let (mut last_epoch, mut used) = state
        .read(PALLET, "UsedSpaceOf", &key)
        .map(|usage| {
            let get = |n: &str| values::field(&usage, n).and_then(values::uint).unwrap_or(0) as u64;
            (get("last_epoch"), get("used_space"))
        })
        .unwrap_or((0, 0));
    if last_epoch != epoch {
        last_epoch = epoch;
        used = 0;
    }
    let max_space = read_uint(state, "MaxSpace", &[]) as u64;
    if used + required > max_space {
        return Err(err("SpaceLimitExceeded"));
    }

    let resets_bonds = fields
        .iter()
        .any(|f| values::variant(f).is_some_and(|(n, _)| n == "ResetBondsFlag"));
    if resets_bonds {
        state.write(PALLET, "LastBondsReset", &key, u(block));
    }
    state.write(
        PALLET,
        "UsedSpaceOf",
        &key,
        Value::named_composite([
            ("last_epoch", u(last_epoch)),
            ("used_space", u(used + required)),
        ]),
    );
    state.write(
        PALLET,
        "CommitmentOf",
        &key,
        Value::named_composite([("deposit", u(0u8)), ("block", u(block)), ("info", info)]),
    );
    state.write(PALLET, "LastCommitment", &key, u(block));

    let timelocked = fields.iter().find_map(|f| match values::variant(f) {
        Some(("TimelockEncrypted", _)) => values::field(f, "reveal_round").and_then(values::uint),
        _ => None,
    });
    let mut index = commitment_reveal::timelocked_index(state);
    let changed = match timelocked {
        Some(reveal_round) => {
            state.deposit_event(
                PALLET,
                "TimelockCommitment",
                vec![
                    ("netuid", u(netuid)),
                    ("who", account_value(&who)),
                    ("reveal_round", u(reveal_round)),
                ],
            );
            index.insert((netuid, who))
        }
        None => {
            state.deposit_event(
                PALLET,
                "Commitment",
                vec![("netuid", u(netuid)), ("who", account_value(&who))],
            );
            index.remove(&(netuid, who))
        }
    };
    if changed {
        commitment_reveal::write_timelocked_index(state, &index);
    }
    Ok(())
}
