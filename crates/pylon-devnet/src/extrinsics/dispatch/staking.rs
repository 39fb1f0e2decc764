//! `add_stake` (pallets/subtensor/src/staking/add_stake.rs): the coldkey's TAO leaves its free
//! balance and becomes alpha stake on the hotkey. The devnet's pools swap at a price of 1 with
//! no fee (no AMM), so `alpha = tao`; shares follow subtensor's share-pool layout
//! (`Alpha`, `TotalHotkeyShares` as `U64F64` bits, `TotalHotkeyAlpha`).

use scale_value::Value;

use super::chain::{contains, free_balance, read_bool, read_uint, subnet_exists, withdraw};
use super::{DispatchCtx, DispatchError, SUBTENSOR};
use crate::extrinsics::values::{self, account_value, u};
use crate::state_access::StateAccess;

/// `DefaultMinStake`: 0.002 TAO.
const MIN_STAKE: u128 = 2_000_000;

fn err(name: &'static str) -> DispatchError {
    DispatchError::subtensor(name)
}

/// A `U64F64` value's raw bits.
fn fixed_bits(value: Option<Value>) -> u128 {
    value
        .as_ref()
        .and_then(|v| values::field(v, "bits").or(Some(v)))
        .and_then(values::uint)
        .unwrap_or(0)
}

fn fixed(bits: u128) -> Value {
    Value::named_composite([("bits", u(bits))])
}

pub fn add_stake(ctx: &mut DispatchCtx<'_>) -> Result<(), DispatchError> {
    let hotkey = ctx.arg_account("hotkey")?;
    let netuid = ctx.arg_uint("netuid")? as u16;
    let amount = ctx.arg_uint("amount_staked")?;
    let coldkey = ctx.who;
    let state = &mut *ctx.state;
    if !read_bool(state, "SubtokenEnabled", &[u(netuid)]) && netuid != 0 {
        return Err(if subnet_exists(state, netuid) {
            err("SubtokenDisabled")
        } else {
            err("SubnetNotExists")
        });
    }
    if !subnet_exists(state, netuid) {
        return Err(err("SubnetNotExists"));
    }
    if amount < MIN_STAKE {
        return Err(err("AmountTooLow"));
    }
    if free_balance(state, &coldkey) < amount {
        return Err(err("NotEnoughBalanceToStake"));
    }
    if !contains(state, SUBTENSOR, "Owner", &[account_value(&hotkey)]) {
        return Err(err("HotKeyAccountNotExists"));
    }

    withdraw(state, &coldkey, amount);
    let alpha = amount;
    stake_into(state, &hotkey, &coldkey, netuid, alpha);
    for (item, key) in [
        ("SubnetTAO", vec![u(netuid)]),
        ("SubnetAlphaOut", vec![u(netuid)]),
    ] {
        let n = read_uint(state, item, &key);
        state.write(SUBTENSOR, item, &key, u(n + amount));
    }
    let total = read_uint(state, "TotalStake", &[]);
    state.write(SUBTENSOR, "TotalStake", &[], u(total + amount));
    let mut staking: Vec<Value> = match state
        .read(SUBTENSOR, "StakingHotkeys", &[account_value(&coldkey)])
        .map(|v| v.value)
    {
        Some(scale_value::ValueDef::Composite(c)) => c.into_values().collect(),
        _ => Vec::new(),
    };
    if !staking.iter().any(|v| values::account(v) == Some(hotkey)) {
        staking.push(account_value(&hotkey));
        state.write(
            SUBTENSOR,
            "StakingHotkeys",
            &[account_value(&coldkey)],
            Value::unnamed_composite(staking),
        );
    }
    state.deposit_event(
        SUBTENSOR,
        "StakeAdded",
        vec![
            ("", account_value(&coldkey)),
            ("", account_value(&hotkey)),
            ("", u(amount)),
            ("", u(alpha)),
            ("", u(netuid)),
            ("", u(0u8)),
        ],
    );
    Ok(())
}

/// Add `alpha` to the hotkey's pool on `netuid` and give the coldkey the matching shares.
fn stake_into(
    state: &mut dyn StateAccess,
    hotkey: &[u8; 32],
    coldkey: &[u8; 32],
    netuid: u16,
    alpha: u128,
) {
    let hk_net = [account_value(hotkey), u(netuid)];
    let total_alpha = read_uint(state, "TotalHotkeyAlpha", &hk_net);
    let total_shares = fixed_bits(state.read(SUBTENSOR, "TotalHotkeyShares", &hk_net));
    let new_shares = if total_alpha == 0 || total_shares == 0 {
        alpha << 64
    } else {
        alpha * total_shares / total_alpha
    };
    let alpha_key = [account_value(hotkey), account_value(coldkey), u(netuid)];
    let mine = fixed_bits(state.read(SUBTENSOR, "Alpha", &alpha_key));
    state.write(SUBTENSOR, "Alpha", &alpha_key, fixed(mine + new_shares));
    state.write(
        SUBTENSOR,
        "TotalHotkeyShares",
        &hk_net,
        fixed(total_shares + new_shares),
    );
    state.write(
        SUBTENSOR,
        "TotalHotkeyAlpha",
        &hk_net,
        u(total_alpha + alpha),
    );
}
