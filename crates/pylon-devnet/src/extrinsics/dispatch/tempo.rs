//! The subnet owner's schedule calls of the stateful epoch schedule (subtensor `v3.4.9-424`,
//! coinbase/tempo_control.rs): `set_tempo` (call 139) and `trigger_epoch` (call 141). The origin is
//! the subnet owner's coldkey (`SubnetOwner`), any other signer gets `BadOrigin`.

use scale_value::Value;

use super::chain::{commit_reveal_enabled, read_uint, tempo};
use super::{DispatchCtx, DispatchError, SUBTENSOR};
use crate::epochs::{self, MAX_TEMPO};
use crate::extrinsics::values::{self, account_value, u};
use crate::state_access::StateAccess;

/// `MIN_TEMPO`: the smallest tempo an owner may set (and `set_tempo`'s cooldown in blocks).
pub const MIN_TEMPO: u64 = 360;
/// `TransactionType::TempoUpdate` as `TransactionKeyLastBlock` numbers it.
const TEMPO_UPDATE_TX: u16 = 11;

fn err(name: &'static str) -> DispatchError {
    DispatchError::subtensor(name)
}

fn ensure_subnet_owner(ctx: &DispatchCtx<'_>, netuid: u16) -> Result<(), DispatchError> {
    let owner = ctx
        .state
        .read(SUBTENSOR, "SubnetOwner", &[u(netuid)])
        .as_ref()
        .and_then(values::account);
    if owner == Some(ctx.who) {
        Ok(())
    } else {
        Err(DispatchError::BadOrigin)
    }
}

/// `blocks_until_next_auto_epoch`: `LastEpochBlock + tempo - now`, `u64::MAX` when tempo is 0.
fn blocks_until_next_auto_epoch(state: &dyn StateAccess, netuid: u16, now: u64) -> u64 {
    let tempo = tempo(state, netuid);
    if tempo == 0 {
        return u64::MAX;
    }
    let last = read_uint(state, "LastEpochBlock", &[u(netuid)]) as u64;
    last.saturating_add(tempo).saturating_sub(now)
}

fn admin_freeze_window(state: &dyn StateAccess) -> u64 {
    read_uint(state, "AdminFreezeWindow", &[]) as u64
}

/// `is_in_admin_freeze_window`: a trigger is pending, or the next automatic epoch is closer
/// than `AdminFreezeWindow` blocks.
fn in_admin_freeze_window(state: &dyn StateAccess, netuid: u16, now: u64) -> bool {
    if tempo(state, netuid) == 0 {
        return false;
    }
    let pending = read_uint(state, "PendingEpochAt", &[u(netuid)]) as u64;
    if pending > 0 && pending > now {
        return true;
    }
    blocks_until_next_auto_epoch(state, netuid, now) < admin_freeze_window(state)
}

/// `TransactionType::check_passes_rate_limit`.
fn passes(limit: u64, now: u64, last: u64) -> bool {
    last == 0 || now.saturating_sub(last) >= limit
}

fn tempo_update_key(who: &[u8; 32], netuid: u16) -> [Value; 3] {
    [account_value(who), u(netuid), u(TEMPO_UPDATE_TX)]
}

/// `RateLimitKey::OwnerHyperparamUpdate(netuid, Hyperparameter::TriggerEpoch)`.
fn trigger_epoch_key(netuid: u16) -> [Value; 1] {
    [Value::unnamed_variant(
        "OwnerHyperparamUpdate",
        [u(netuid), Value::unnamed_variant("TriggerEpoch", [])],
    )]
}

/// `set_tempo(netuid, tempo)`: bounds, freeze window, the `MIN_TEMPO`-block cooldown, then the
/// tempo with a cycle reset (`LastEpochBlock = now`).
pub fn set_tempo(ctx: &mut DispatchCtx<'_>) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    let new_tempo = ctx.arg_uint("tempo")? as u64;
    ensure_subnet_owner(ctx, netuid)?;
    if !(MIN_TEMPO..=MAX_TEMPO).contains(&new_tempo) {
        return Err(err("TempoOutOfBounds"));
    }
    let now = ctx.block;
    let state = &mut *ctx.state;
    if in_admin_freeze_window(state, netuid, now) {
        return Err(err("AdminActionProhibitedDuringWeightsWindow"));
    }
    let key = tempo_update_key(&ctx.who, netuid);
    let last = read_uint(state, "TransactionKeyLastBlock", &key) as u64;
    if !passes(MIN_TEMPO, now, last) {
        return Err(err("TxRateLimitExceeded"));
    }
    epochs::set_tempo_with_cycle_reset(state, netuid, new_tempo as u16);
    state.write(SUBTENSOR, "TransactionKeyLastBlock", &key, u(now));
    Ok(())
}

/// `trigger_epoch(netuid)`: refused while commit-reveal is on (it would break the reveal), while a
/// trigger is pending, or when the automatic epoch is nearer than `AdminFreezeWindow`; otherwise
/// the epoch fires at `now + AdminFreezeWindow`.
pub fn trigger_epoch(ctx: &mut DispatchCtx<'_>) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    ensure_subnet_owner(ctx, netuid)?;
    let now = ctx.block;
    let who = ctx.who;
    let state = &mut *ctx.state;
    if commit_reveal_enabled(state, netuid) {
        return Err(err("DynamicTempoBlockedByCommitReveal"));
    }
    if read_uint(state, "PendingEpochAt", &[u(netuid)]) != 0 {
        return Err(err("EpochTriggerAlreadyPending"));
    }
    let window = admin_freeze_window(state);
    if blocks_until_next_auto_epoch(state, netuid, now) < window {
        return Err(err("AutoEpochAlreadyImminent"));
    }
    let key = trigger_epoch_key(netuid);
    let limit = tempo(state, netuid) * read_uint(state, "OwnerHyperparamRateLimit", &[]) as u64;
    let last = read_uint(state, "LastRateLimitedBlock", &key) as u64;
    if !passes(limit, now, last) {
        return Err(err("TxRateLimitExceeded"));
    }
    let fires_at = now.saturating_add(window);
    state.write(SUBTENSOR, "PendingEpochAt", &[u(netuid)], u(fires_at));
    state.write(SUBTENSOR, "LastRateLimitedBlock", &key, u(now));
    state.deposit_event(
        SUBTENSOR,
        "EpochTriggered",
        vec![
            ("netuid", u(netuid)),
            ("by", account_value(&who)),
            ("fires_at", u(fires_at)),
        ],
    );
    Ok(())
}
