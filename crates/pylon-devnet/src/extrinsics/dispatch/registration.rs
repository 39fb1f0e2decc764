//! `burned_register` (pallets/subtensor/src/subnets/registration.rs): the coldkey pays the
//! subnet's burn and its hotkey takes the next uid, or the slot of the neuron with the lowest
//! pruning score when the subnet is full.
//!
//! The per-interval counters are kept but not enforced: subtensor resets them in its difficulty
//! adjustment, which the devnet does not run.

use scale_value::Value;

use super::chain::{contains, free_balance, read_bool, read_uint, subnet_exists, uid_of, withdraw};
use super::{DispatchCtx, DispatchError, SUBTENSOR};
use crate::extrinsics::decode::DecodedCall;
use crate::extrinsics::invalid::TransactionInvalid;
use crate::extrinsics::values::{self, account_value, u};
use crate::state_access::StateAccess;

fn err(name: &'static str) -> DispatchError {
    DispatchError::subtensor(name)
}

/// `on_initialize`: `RegistrationsThisBlock` starts every block at 0.
pub fn reset_block_counters(state: &mut dyn StateAccess) {
    for (keys, count) in state.iter_prefix(SUBTENSOR, "RegistrationsThisBlock", &[]) {
        if values::uint(&count).unwrap_or(0) != 0 {
            state.write(SUBTENSOR, "RegistrationsThisBlock", &keys, u(0u8));
        }
    }
}

pub fn burned_register(ctx: &mut DispatchCtx<'_>) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    let hotkey = ctx.arg_account("hotkey")?;
    let coldkey = ctx.who;
    let block = ctx.block;
    let state = &mut *ctx.state;
    if netuid == 0 {
        return Err(err("RegistrationNotPermittedOnRootSubnet"));
    }
    if !subnet_exists(state, netuid) {
        return Err(err("SubnetNotExists"));
    }
    if !read_bool(state, "NetworkRegistrationAllowed", &[u(netuid)]) {
        return Err(err("SubNetRegistrationDisabled"));
    }
    if read_uint(state, "RegistrationsThisBlock", &[u(netuid)])
        >= read_uint(state, "MaxRegistrationsPerBlock", &[u(netuid)])
    {
        return Err(err("TooManyRegistrationsThisBlock"));
    }
    if uid_of(state, netuid, &hotkey).is_some() {
        return Err(err("HotKeyAlreadyRegisteredInSubNet"));
    }
    let burn = read_uint(state, "Burn", &[u(netuid)]);
    if free_balance(state, &coldkey) < burn {
        return Err(err("NotEnoughBalanceToStake"));
    }
    let owner_key = [account_value(&hotkey)];
    let owned = contains(state, SUBTENSOR, "Owner", &owner_key);
    if owned {
        let owner = state
            .read(SUBTENSOR, "Owner", &owner_key)
            .as_ref()
            .and_then(values::account);
        if owner != Some(coldkey) {
            return Err(err("NonAssociatedColdKey"));
        }
    }
    if read_uint(state, "MaxAllowedUids", &[u(netuid)]) == 0 {
        return Err(err("NoNeuronIdAvailable"));
    }

    if !owned {
        state.write(SUBTENSOR, "Owner", &owner_key, account_value(&coldkey));
        let mut hotkeys = state
            .read(SUBTENSOR, "OwnedHotkeys", &[account_value(&coldkey)])
            .map(|v| match v.value {
                scale_value::ValueDef::Composite(c) => c.into_values().collect(),
                _ => Vec::new(),
            })
            .unwrap_or_default();
        hotkeys.push(account_value(&hotkey));
        state.write(
            SUBTENSOR,
            "OwnedHotkeys",
            &[account_value(&coldkey)],
            Value::unnamed_composite(hotkeys),
        );
    }
    withdraw(state, &coldkey, burn);
    let uid = register_neuron(state, netuid, &hotkey, block);
    for item in [
        "BurnRegistrationsThisInterval",
        "RegistrationsThisInterval",
        "RegistrationsThisBlock",
    ] {
        let n = read_uint(state, item, &[u(netuid)]);
        state.write(SUBTENSOR, item, &[u(netuid)], u(n + 1));
    }
    state.deposit_event(
        SUBTENSOR,
        "NeuronRegistered",
        vec![("", u(netuid)), ("", u(uid)), ("", account_value(&hotkey))],
    );
    Ok(())
}

fn push(state: &mut dyn StateAccess, item: &str, key: Value, value: Value) {
    let key = [key];
    let mut items: Vec<Value> = match state.read(SUBTENSOR, item, &key).map(|v| v.value) {
        Some(scale_value::ValueDef::Composite(c)) => c.into_values().collect(),
        _ => Vec::new(),
    };
    items.push(value);
    state.write(SUBTENSOR, item, &key, Value::unnamed_composite(items));
}

/// `register_neuron`: append while there is room, else replace the neuron to prune.
fn register_neuron(state: &mut dyn StateAccess, netuid: u16, hotkey: &[u8; 32], block: u64) -> u16 {
    let n = read_uint(state, "SubnetworkN", &[u(netuid)]) as u16;
    let max = read_uint(state, "MaxAllowedUids", &[u(netuid)]) as u16;
    let uid = if n < max {
        state.write(SUBTENSOR, "SubnetworkN", &[u(netuid)], u(n + 1));
        for item in [
            "Rank",
            "Trust",
            "Emission",
            "Consensus",
            "Dividends",
            "PruningScores",
            "ValidatorTrust",
        ] {
            // Spec 424 no longer stores Rank, Trust or PruningScores.
            if state.has_item(SUBTENSOR, item) {
                push(state, item, u(netuid), u(0u8));
            }
        }
        push(state, "Active", u(netuid), Value::bool(true));
        push(state, "ValidatorPermit", u(netuid), Value::bool(false));
        let mechanisms = read_uint(state, "MechanismCountCurrent", &[u(netuid)]).max(1) as u8;
        for mecid in 0..mechanisms {
            push(
                state,
                "Incentive",
                u(super::weights::storage_index(netuid, mecid)),
                u(0u8),
            );
        }
        n
    } else {
        let uid = neuron_to_prune(state, netuid, n, block);
        let old = state
            .read(SUBTENSOR, "Keys", &[u(netuid), u(uid)])
            .as_ref()
            .and_then(values::account)
            .unwrap_or_default();
        state.remove(SUBTENSOR, "Uids", &[u(netuid), account_value(&old)]);
        state.remove(
            SUBTENSOR,
            "IsNetworkMember",
            &[account_value(&old), u(netuid)],
        );
        state.remove(
            SUBTENSOR,
            "NeuronCertificates",
            &[u(netuid), account_value(&old)],
        );
        state.remove(SUBTENSOR, "Axons", &[u(netuid), account_value(&old)]);
        state.remove(SUBTENSOR, "Weights", &[u(netuid), u(uid)]);
        uid
    };
    state.write(
        SUBTENSOR,
        "Keys",
        &[u(netuid), u(uid)],
        account_value(hotkey),
    );
    state.write(
        SUBTENSOR,
        "Uids",
        &[u(netuid), account_value(hotkey)],
        u(uid),
    );
    state.write(
        SUBTENSOR,
        "BlockAtRegistration",
        &[u(netuid), u(uid)],
        u(block),
    );
    state.write(
        SUBTENSOR,
        "IsNetworkMember",
        &[account_value(hotkey), u(netuid)],
        Value::bool(true),
    );
    uid
}

/// `get_neuron_to_prune`, without the owner-immortal keys: the lowest pruning score among
/// neurons out of their immunity period (earliest registration breaks ties), else among all.
fn neuron_to_prune(state: &dyn StateAccess, netuid: u16, n: u16, block: u64) -> u16 {
    let scores = state
        .read(SUBTENSOR, "PruningScores", &[u(netuid)])
        .as_ref()
        .and_then(values::uints)
        .unwrap_or_default();
    let immunity = read_uint(state, "ImmunityPeriod", &[u(netuid)]) as u64;
    let candidates: Vec<(bool, u128, u64, u16)> = (0..n)
        .map(|uid| {
            let registered = read_uint(state, "BlockAtRegistration", &[u(netuid), u(uid)]) as u64;
            let immune = block.saturating_sub(registered) < immunity;
            let score = scores.get(usize::from(uid)).copied().unwrap_or(0);
            (immune, score, registered, uid)
        })
        .collect();
    candidates
        .iter()
        .filter(|c| !c.0)
        .min_by_key(|c| (c.1, c.2))
        .or_else(|| candidates.iter().min_by_key(|c| (c.1, c.2)))
        .map(|c| c.3)
        .unwrap_or(0)
}

/// `burned_register` has no pool-level refusal here: the per-interval limit the extension
/// checks is not enforced (see the module docs).
pub fn extension_checks(
    _state: &dyn StateAccess,
    _call: &DecodedCall,
) -> Result<(), TransactionInvalid> {
    Ok(())
}
