//! Weights: `set_weights`, `set_mechanism_weights`, hash commit/reveal (`commit_weights`,
//! `reveal_weights`) and timelocked commits (CRv4 `commit_timelocked_weights`), following
//! subtensor's pallets/subtensor/src/subnets/weights.rs, check for check: at `v3.4.9-424` when the
//! runtime has the stateful epoch schedule ([`crate::epochs::Schedule`]), at spec 343 otherwise.
//!
//! Storage is keyed as subtensor keys it: `Weights[NetUidStorageIndex][uid]`,
//! `LastUpdate[NetUidStorageIndex]`, `WeightCommits[NetUidStorageIndex][hotkey]`,
//! `TimelockedWeightCommits[NetUidStorageIndex][epoch]`, where
//! `NetUidStorageIndex = mecid * 4096 + netuid`. Under the stateful schedule `epoch` is the
//! subnet's `SubnetEpochIndex` looked ahead by one in a block where its epoch is due
//! (`current_epoch_with_lookahead`), and a `WeightCommits` entry is
//! `(hash, commit_epoch, commit_block, 0)`; under the grid it is `(hash, commit_block,
//! first_reveal_block, last_reveal_block)` and epochs are `(block + netuid + 1) / (tempo + 1)`.

use parity_scale_codec::Encode;
use scale_value::Value;

use super::chain::{commit_reveal_enabled, read_uint, subnet_exists, tempo, uid_exists, uid_of};
use super::{DispatchCtx, DispatchError, SUBTENSOR};
use crate::epochs::{self, Schedule};
use crate::extrinsics::decode::DecodedCall;
use crate::extrinsics::invalid::{subtensor_custom, TransactionInvalid};
use crate::extrinsics::values::{self, account_value, u};
use crate::state_access::StateAccess;

/// `GLOBAL_MAX_SUBNET_COUNT`: mechanism `m` of subnet `n` is stored under `m * 4096 + n`.
const GLOBAL_MAX_SUBNET_COUNT: u16 = 4096;
/// Unrevealed commits one hotkey may hold per subnet (and per epoch for timelocked ones).
const MAX_UNREVEALED_COMMITS: usize = 10;

fn err(name: &'static str) -> DispatchError {
    DispatchError::subtensor(name)
}

pub fn storage_index(netuid: u16, mecid: u8) -> u16 {
    u16::from(mecid)
        .saturating_mul(GLOBAL_MAX_SUBNET_COUNT)
        .saturating_add(netuid)
}

fn ensure_mechanism_exists(
    state: &dyn StateAccess,
    netuid: u16,
    mecid: u8,
) -> Result<(), DispatchError> {
    if !subnet_exists(state, netuid) {
        return Err(err("MechanismDoesNotExist"));
    }
    let count = read_uint(state, "MechanismCountCurrent", &[u(netuid)]);
    if count <= u128::from(mecid) {
        return Err(err("MechanismDoesNotExist"));
    }
    Ok(())
}

/// `get_epoch_index`: `SubnetEpochIndex`, or the grid's `(block + netuid + 1) / (tempo + 1)`.
pub fn epoch_index(state: &dyn StateAccess, netuid: u16, block: u64) -> u64 {
    epochs::epoch_index(state, netuid, block)
}

fn last_update(state: &dyn StateAccess, netuid_index: u16) -> Vec<u64> {
    state
        .read(SUBTENSOR, "LastUpdate", &[u(netuid_index)])
        .as_ref()
        .and_then(values::uints)
        .map(|v| v.into_iter().map(|n| n as u64).collect())
        .unwrap_or_default()
}

/// `set_last_update_for_uid`: only an existing slot of the vector is updated.
fn set_last_update(state: &mut dyn StateAccess, netuid_index: u16, uid: u16, block: u64) {
    let mut all = last_update(state, netuid_index);
    let Some(slot) = all.get_mut(usize::from(uid)) else {
        return;
    };
    *slot = block;
    state.write(
        SUBTENSOR,
        "LastUpdate",
        &[u(netuid_index)],
        Value::unnamed_composite(all.into_iter().map(u)),
    );
}

/// `check_rate_limit`: the uid's last update is at least `WeightsSetRateLimit` blocks old.
fn passes_rate_limit(
    state: &dyn StateAccess,
    netuid: u16,
    mecid: u8,
    uid: u16,
    block: u64,
) -> bool {
    if !uid_exists(state, netuid, uid) {
        return false;
    }
    let last = last_update(state, storage_index(netuid, mecid))
        .get(usize::from(uid))
        .copied()
        .unwrap_or(0);
    if last == 0 {
        return true;
    }
    let limit = read_uint(state, "WeightsSetRateLimit", &[u(netuid)]) as u64;
    block.saturating_sub(last) >= limit
}

/// The hotkey's stake weight on the subnet: its alpha plus its root stake times `TaoWeight`
/// (child/parent inheritance is not modelled).
fn stake_weight(state: &dyn StateAccess, hotkey: &[u8; 32], netuid: u16) -> u128 {
    let alpha = read_uint(
        state,
        "TotalHotkeyAlpha",
        &[account_value(hotkey), u(netuid)],
    );
    let root = read_uint(state, "TotalHotkeyAlpha", &[account_value(hotkey), u(0u16)]);
    let tao_weight = read_uint(state, "TaoWeight", &[]);
    alpha + root * tao_weight / u128::from(u64::MAX)
}

fn has_min_stake(state: &dyn StateAccess, hotkey: &[u8; 32], netuid: u16) -> bool {
    stake_weight(state, hotkey, netuid) >= read_uint(state, "StakeThreshold", &[])
}

fn is_self_weight(uid: u16, uids: &[u16], weights: &[u16]) -> bool {
    weights.len() == 1 && uids.first() == Some(&uid)
}

/// `vec_u16_max_upscale_to_u16` in I32F32 fixed point (32 fractional bits), rounding like the
/// `fixed` crate: products and quotients truncate, `round()` goes half away from zero.
pub fn max_upscale(weights: &[u16]) -> Vec<u16> {
    const FRAC: u32 = 32;
    let max = weights.iter().copied().max().unwrap_or(0);
    let round = |bits: u128| -> u16 {
        ((bits + (1 << (FRAC - 1))) >> FRAC).min(u128::from(u16::MAX)) as u16
    };
    if max == 0 {
        return weights.to_vec();
    }
    let max = u128::from(max);
    let u16_max = u128::from(u16::MAX);
    if max > 32768 {
        let factor_bits = (u16_max << FRAC) / max;
        weights
            .iter()
            .map(|&w| round(u128::from(w) * factor_bits))
            .collect()
    } else {
        weights
            .iter()
            .map(|&w| round(((u128::from(w) * u16_max) << FRAC) / max))
            .collect()
    }
}

/// `check_vec_max_limited`: after normalising to sum 1, no weight exceeds `limit / 65535`.
fn max_limited(weights: &[u16], limit: u16) -> bool {
    const FRAC: u32 = 32;
    let limit_bits = (u128::from(limit) << FRAC) / u128::from(u16::MAX);
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return true;
    }
    weights
        .iter()
        .map(|&w| (u128::from(w) << FRAC) / sum)
        .max()
        .is_none_or(|m| m <= limit_bits)
}

/// One weights submission, as `internal_set_weights` receives it.
#[derive(Debug, Clone)]
pub struct WeightsInput {
    pub netuid: u16,
    pub mecid: u8,
    pub uids: Vec<u16>,
    pub values: Vec<u16>,
    pub version_key: u64,
}

/// `internal_set_weights`: every rule, then `Weights`, `LastUpdate` (when commit-reveal is
/// off) and the `WeightsSet` event.
///
/// This is also the hook for the CRv4 auto-reveal: subtensor applies a decrypted
/// `TimelockedWeightCommits` payload by calling the same function as the committing hotkey
/// (errors are logged and the commit dropped), so the drand reveal should call this with the
/// payload's uids, values and version key at the reveal block.
pub fn apply_weights(
    state: &mut dyn StateAccess,
    hotkey: &[u8; 32],
    input: &WeightsInput,
    block: u64,
) -> Result<(), DispatchError> {
    let WeightsInput {
        netuid,
        mecid,
        ref uids,
        ref values,
        version_key,
    } = *input;
    let netuid_index = storage_index(netuid, mecid);
    if netuid == 0 {
        return Err(err("CanNotSetRootNetworkWeights"));
    }
    if uids.len() != values.len() {
        return Err(err("WeightVecNotEqualSize"));
    }
    ensure_mechanism_exists(state, netuid, mecid)?;
    let subnet_n = read_uint(state, "SubnetworkN", &[u(netuid)]) as usize;
    if uids.len() > subnet_n {
        return Err(err("UidsLengthExceedUidsInSubNet"));
    }
    let Some(uid) = uid_of(state, netuid, hotkey) else {
        return Err(err("HotKeyNotRegisteredInSubNet"));
    };
    if !has_min_stake(state, hotkey, netuid) {
        return Err(err("NotEnoughStakeToSetWeights"));
    }
    let network_key = read_uint(state, "WeightsVersionKey", &[u(netuid)]) as u64;
    if network_key != 0 && version_key < network_key {
        return Err(err("IncorrectWeightVersionKey"));
    }
    let commit_reveal = commit_reveal_enabled(state, netuid);
    if !commit_reveal && !passes_rate_limit(state, netuid, mecid, uid, block) {
        return Err(err("SettingWeightsTooFast"));
    }
    if !is_self_weight(uid, uids, values) {
        let permits = state
            .read(SUBTENSOR, "ValidatorPermit", &[u(netuid)])
            .as_ref()
            .and_then(values::bools)
            .unwrap_or_default();
        if !permits.get(usize::from(uid)).copied().unwrap_or(false) {
            return Err(err("NeuronNoValidatorPermit"));
        }
    }
    let mut seen = std::collections::HashSet::new();
    if !uids.iter().all(|uid| seen.insert(*uid)) {
        return Err(err("DuplicateUids"));
    }
    if uids.iter().any(|uid| !uid_exists(state, netuid, *uid)) {
        return Err(err("UidVecContainInvalidOne"));
    }
    let min_allowed = (read_uint(state, "MinAllowedWeights", &[u(netuid)]) as usize).min(subnet_n);
    if !is_self_weight(uid, uids, values) && values.len() < min_allowed {
        return Err(err("WeightVecLengthIsLow"));
    }
    let upscaled = max_upscale(values);
    let max_limit = read_uint(state, "MaxWeightsLimit", &[u(netuid)]) as u16;
    if !is_self_weight(uid, uids, &upscaled)
        && max_limit != u16::MAX
        && !max_limited(&upscaled, max_limit)
    {
        return Err(err("MaxWeightExceeded"));
    }

    let pairs = uids
        .iter()
        .zip(&upscaled)
        .map(|(uid, w)| Value::unnamed_composite([u(*uid), u(*w)]));
    state.write(
        SUBTENSOR,
        "Weights",
        &[u(netuid_index), u(uid)],
        Value::unnamed_composite(pairs),
    );
    if !commit_reveal {
        set_last_update(state, netuid_index, uid, block);
    }
    state.deposit_event(
        SUBTENSOR,
        "WeightsSet",
        vec![("", u(netuid_index)), ("", u(uid))],
    );
    Ok(())
}

fn mecid_arg(ctx: &DispatchCtx<'_>, mechanism: bool) -> Result<u8, DispatchError> {
    if mechanism {
        Ok(ctx.arg_uint("mecid")? as u8)
    } else {
        Ok(0)
    }
}

/// `set_weights` / `set_mechanism_weights`: refused outright while commit-reveal is on.
pub fn set_weights(ctx: &mut DispatchCtx<'_>, mechanism: bool) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    if commit_reveal_enabled(ctx.state, netuid) {
        return Err(err("CommitRevealEnabled"));
    }
    let input = WeightsInput {
        netuid,
        mecid: mecid_arg(ctx, mechanism)?,
        uids: ctx.arg_uints("dests")?,
        values: ctx.arg_uints("weights")?,
        version_key: ctx.arg_uint("version_key")? as u64,
    };
    apply_weights(ctx.state, &ctx.who, &input, ctx.block)
}

/// A `WeightCommits` entry: `(hash, commit_epoch, commit_block, 0)` under the stateful
/// schedule, `(hash, commit_block, first_reveal_block, last_reveal_block)` under the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct HashCommit {
    hash: [u8; 32],
    /// The commit's epoch (stateful) or block (grid): what expiry and the reveal window read.
    tag: u64,
    second: u64,
    third: u64,
}

fn read_hash_commits(
    state: &dyn StateAccess,
    netuid_index: u16,
    who: &[u8; 32],
) -> Option<Vec<HashCommit>> {
    let value = state.read(
        SUBTENSOR,
        "WeightCommits",
        &[u(netuid_index), account_value(who)],
    )?;
    Some(parse_hash_commits(&value))
}

fn parse_hash_commits(value: &Value) -> Vec<HashCommit> {
    let scale_value::ValueDef::Composite(items) = &value.value else {
        return Vec::new();
    };
    items
        .values()
        .filter_map(|item| {
            let scale_value::ValueDef::Composite(fields) = &item.value else {
                return None;
            };
            let f: Vec<&Value> = fields.values().collect();
            Some(HashCommit {
                hash: values::account(f.first()?)?,
                tag: values::uint(f.get(1)?)? as u64,
                second: values::uint(f.get(2)?)? as u64,
                third: values::uint(f.get(3)?)? as u64,
            })
        })
        .collect()
}

fn write_hash_commits(
    state: &mut dyn StateAccess,
    netuid_index: u16,
    who: &[u8; 32],
    commits: &[HashCommit],
) {
    let key = [u(netuid_index), account_value(who)];
    if commits.is_empty() {
        state.remove(SUBTENSOR, "WeightCommits", &key);
        return;
    }
    let items = commits.iter().map(|c| {
        Value::unnamed_composite([Value::from_bytes(c.hash), u(c.tag), u(c.second), u(c.third)])
    });
    state.write(
        SUBTENSOR,
        "WeightCommits",
        &key,
        Value::unnamed_composite(items),
    );
}

fn reveal_period(state: &dyn StateAccess, netuid: u16) -> u64 {
    read_uint(state, "RevealPeriodEpochs", &[u(netuid)]) as u64
}

/// The current epoch and the commit's, as `is_commit_expired` / `is_reveal_block_range`
/// compare them: the look-ahead epoch and the stored `commit_epoch` (stateful), or the grid
/// epochs of this block and of the commit block.
fn epochs_of(state: &dyn StateAccess, netuid: u16, tag: u64, block: u64) -> (u64, u64) {
    match Schedule::of(state) {
        Schedule::Stateful => (epochs::epoch_with_lookahead(state, netuid, block), tag),
        Schedule::Grid => (
            epoch_index(state, netuid, block),
            epoch_index(state, netuid, tag),
        ),
    }
}

fn is_commit_expired(state: &dyn StateAccess, netuid: u16, tag: u64, block: u64) -> bool {
    let (current, committed) = epochs_of(state, netuid, tag, block);
    current > committed + reveal_period(state, netuid)
}

fn is_reveal_block_range(state: &dyn StateAccess, netuid: u16, tag: u64, block: u64) -> bool {
    let (current, committed) = epochs_of(state, netuid, tag, block);
    current == committed + reveal_period(state, netuid)
}

/// The new `WeightCommits` entry for a commit made at `block`.
fn new_hash_commit(state: &dyn StateAccess, netuid: u16, hash: [u8; 32], block: u64) -> HashCommit {
    match Schedule::of(state) {
        Schedule::Stateful => HashCommit {
            hash,
            tag: epochs::epoch_with_lookahead(state, netuid, block),
            second: block,
            third: 0,
        },
        Schedule::Grid => {
            let (first_reveal, last_reveal) = reveal_blocks(state, netuid, block);
            HashCommit {
                hash,
                tag: block,
                second: first_reveal,
                third: last_reveal,
            }
        }
    }
}

/// `get_reveal_blocks`: first and last block of the epoch the commit must be revealed in.
fn reveal_blocks(state: &dyn StateAccess, netuid: u16, commit_block: u64) -> (u64, u64) {
    let tempo = tempo(state, netuid);
    let reveal_epoch = epoch_index(state, netuid, commit_block) + reveal_period(state, netuid);
    let first = (reveal_epoch * (tempo + 1)).saturating_sub(u64::from(netuid) + 1);
    (first, first + tempo)
}

/// `get_commit_hash`: blake2-256 of SCALE (hotkey, netuid_index, uids, values, salt, version_key).
pub fn commit_hash(
    hotkey: &[u8; 32],
    netuid_index: u16,
    uids: &[u16],
    values: &[u16],
    salt: &[u16],
    version_key: u64,
) -> [u8; 32] {
    sp_crypto_hashing::blake2_256(&(hotkey, netuid_index, uids, values, salt, version_key).encode())
}

/// `commit_weights` / `commit_mechanism_weights`.
pub fn commit_weights(ctx: &mut DispatchCtx<'_>, mechanism: bool) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    let mecid = mecid_arg(ctx, mechanism)?;
    let hash: [u8; 32] = values::account(ctx.arg("commit_hash")?)
        .ok_or(DispatchError::Other("commit_hash is not 32 bytes"))?;
    let state = &mut *ctx.state;
    let who = ctx.who;
    let block = ctx.block;
    ensure_mechanism_exists(state, netuid, mecid)?;
    let netuid_index = storage_index(netuid, mecid);
    if !commit_reveal_enabled(state, netuid) {
        return Err(err("CommitRevealDisabled"));
    }
    let Some(uid) = uid_of(state, netuid, &who) else {
        return Err(err("HotKeyNotRegisteredInSubNet"));
    };
    if !passes_rate_limit(state, netuid, mecid, uid, block) {
        return Err(err("CommittingWeightsTooFast"));
    }
    let new_commit = new_hash_commit(state, netuid, hash, block);
    let mut commits = read_hash_commits(state, netuid_index, &who).unwrap_or_default();
    while commits
        .first()
        .is_some_and(|c| is_commit_expired(state, netuid, c.tag, block))
    {
        commits.remove(0);
    }
    if commits.len() >= MAX_UNREVEALED_COMMITS {
        return Err(err("TooManyUnrevealedCommits"));
    }
    commits.push(new_commit);
    write_hash_commits(state, netuid_index, &who, &commits);
    state.deposit_event(
        SUBTENSOR,
        "WeightsCommitted",
        vec![
            ("", account_value(&who)),
            ("", u(netuid_index)),
            ("", Value::from_bytes(hash)),
        ],
    );
    set_last_update(state, netuid_index, uid, block);
    Ok(())
}

/// `reveal_weights` / `reveal_mechanism_weights`.
pub fn reveal_weights(ctx: &mut DispatchCtx<'_>, mechanism: bool) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    let mecid = mecid_arg(ctx, mechanism)?;
    let uids = ctx.arg_uints("uids")?;
    let weights = ctx.arg_uints("values")?;
    let salt = ctx.arg_uints("salt")?;
    let version_key = ctx.arg_uint("version_key")? as u64;
    let state = &mut *ctx.state;
    let who = ctx.who;
    let block = ctx.block;
    let netuid_index = storage_index(netuid, mecid);
    if !commit_reveal_enabled(state, netuid) {
        return Err(err("CommitRevealDisabled"));
    }
    let mut commits =
        read_hash_commits(state, netuid_index, &who).ok_or(err("NoWeightsCommitFound"))?;
    let mut expired = Vec::new();
    while let Some(first) = commits.first() {
        if !is_commit_expired(state, netuid, first.tag, block) {
            break;
        }
        expired.push(first.hash);
        commits.remove(0);
    }
    let provided = commit_hash(&who, netuid_index, &uids, &weights, &salt, version_key);
    let expired_or = |other: &'static str| {
        if expired.contains(&provided) {
            err("ExpiredWeightCommit")
        } else {
            err(other)
        }
    };
    if commits.is_empty() {
        return Err(expired_or("NoWeightsCommitFound"));
    }
    let Some(position) = commits.iter().position(|c| c.hash == provided) else {
        return Err(expired_or("InvalidRevealCommitHashNotMatch"));
    };
    if !is_reveal_block_range(state, netuid, commits[position].tag, block) {
        return Err(err("RevealTooEarly"));
    }
    let input = WeightsInput {
        netuid,
        mecid,
        uids,
        values: weights,
        version_key,
    };
    apply_weights(state, &who, &input, block)?;
    write_hash_commits(state, netuid_index, &who, &commits[position + 1..]);
    state.deposit_event(
        SUBTENSOR,
        "WeightsRevealed",
        vec![
            ("", account_value(&who)),
            ("", u(netuid_index)),
            ("", Value::from_bytes(provided)),
        ],
    );
    Ok(())
}

/// `commit_timelocked_weights` / `commit_timelocked_mechanism_weights` (CRv4): the ciphertext
/// is stored in `TimelockedWeightCommits[netuid_index][epoch]` as
/// `(hotkey, commit block, commit, reveal_round)`; the drand auto-reveal decrypts it once
/// `reveal_round` is stored and applies it through [`apply_weights`].
pub fn commit_timelocked(ctx: &mut DispatchCtx<'_>, mechanism: bool) -> Result<(), DispatchError> {
    let netuid = ctx.arg_uint("netuid")? as u16;
    let mecid = mecid_arg(ctx, mechanism)?;
    let commit = ctx.arg_bytes("commit")?;
    let reveal_round = ctx.arg_uint("reveal_round")? as u64;
    let version = ctx.arg_uint("commit_reveal_version")?;
    let state = &mut *ctx.state;
    let who = ctx.who;
    let block = ctx.block;
    ensure_mechanism_exists(state, netuid, mecid)?;
    let netuid_index = storage_index(netuid, mecid);
    if !commit_reveal_enabled(state, netuid) {
        return Err(err("CommitRevealDisabled"));
    }
    if version != read_uint(state, "CommitRevealWeightsVersion", &[]) {
        return Err(err("IncorrectCommitRevealVersion"));
    }
    let Some(uid) = uid_of(state, netuid, &who) else {
        return Err(err("HotKeyNotRegisteredInSubNet"));
    };
    if !passes_rate_limit(state, netuid, mecid, uid, block) {
        return Err(err("CommittingWeightsTooFast"));
    }
    // `current_epoch_with_lookahead`: a commit in a block where the epoch is due belongs to the
    // epoch that block starts.
    let epoch = epochs::epoch_with_lookahead(state, netuid, block);
    let key = [u(netuid_index), u(epoch)];
    let existing = state.read(SUBTENSOR, "TimelockedWeightCommits", &key);
    let mut items: Vec<Value> = match existing.map(|v| v.value) {
        Some(scale_value::ValueDef::Composite(c)) => c.into_values().collect(),
        _ => Vec::new(),
    };
    let mine = items
        .iter()
        .filter(|item| match &item.value {
            scale_value::ValueDef::Composite(f) => {
                f.values().next().and_then(values::account) == Some(who)
            }
            _ => false,
        })
        .count();
    if mine >= MAX_UNREVEALED_COMMITS {
        return Err(err("TooManyUnrevealedCommits"));
    }
    let hash = sp_crypto_hashing::blake2_256(&commit);
    items.push(Value::unnamed_composite([
        account_value(&who),
        u(block),
        Value::from_bytes(&commit),
        u(reveal_round),
    ]));
    state.write(
        SUBTENSOR,
        "TimelockedWeightCommits",
        &key,
        Value::unnamed_composite(items),
    );
    state.deposit_event(
        SUBTENSOR,
        "TimelockedWeightsCommitted",
        vec![
            ("", account_value(&who)),
            ("", u(netuid_index)),
            ("", Value::from_bytes(hash)),
            ("", u(reveal_round)),
        ],
    );
    set_last_update(state, netuid_index, uid, block);
    Ok(())
}

/// The weights calls' part of `SubtensorTransactionExtension::validate` (pool-level refusal).
pub fn extension_checks(
    state: &dyn StateAccess,
    who: &[u8; 32],
    call: &DecodedCall,
    block: u64,
) -> Result<(), TransactionInvalid> {
    if Schedule::of(state) == Schedule::Stateful {
        return guard_checks(state, who, call, block);
    }
    let netuid = || call.arg("netuid").and_then(values::uint).unwrap_or(0) as u16;
    let stake_low = TransactionInvalid::Custom(subtensor_custom::STAKE_AMOUNT_TOO_LOW);
    match call.name.as_str() {
        "set_weights" | "commit_weights" if !has_min_stake(state, who, netuid()) => {
            return Err(stake_low);
        }
        "commit_timelocked_weights" => {
            if !has_min_stake(state, who, netuid()) {
                return Err(stake_low);
            }
            let round = call.arg("reveal_round").and_then(values::uint).unwrap_or(0);
            let last_stored = state
                .read("Drand", "LastStoredRound", &[])
                .as_ref()
                .and_then(values::uint)
                .unwrap_or(0);
            if round < last_stored {
                return Err(TransactionInvalid::Custom(
                    subtensor_custom::INVALID_REVEAL_ROUND,
                ));
            }
        }
        "reveal_weights" => {
            let netuid = netuid();
            if !has_min_stake(state, who, netuid) {
                return Err(stake_low);
            }
            let list = |name: &str| -> Vec<u16> {
                call.arg(name)
                    .and_then(values::uints)
                    .map(|v| v.into_iter().map(|n| n as u16).collect())
                    .unwrap_or_default()
            };
            let version_key = call.arg("version_key").and_then(values::uint).unwrap_or(0) as u64;
            let provided = commit_hash(
                who,
                netuid,
                &list("uids"),
                &list("values"),
                &list("salt"),
                version_key,
            );
            // `find_commit_block_via_hash` looks through every hotkey's commits on every subnet.
            let commit_block = state
                .iter_prefix(SUBTENSOR, "WeightCommits", &[])
                .iter()
                .flat_map(|(_, v)| parse_hash_commits(v))
                .find(|c| c.hash == provided)
                .map(|c| c.tag);
            match commit_block {
                None => {
                    return Err(TransactionInvalid::Custom(
                        subtensor_custom::COMMIT_NOT_FOUND,
                    ))
                }
                Some(b) if !is_reveal_block_range(state, netuid, b, block) => {
                    return Err(TransactionInvalid::Custom(
                        subtensor_custom::COMMIT_BLOCK_NOT_IN_REVEAL_RANGE,
                    ))
                }
                Some(_) => {}
            }
        }
        _ => {}
    }
    Ok(())
}

/// The weights calls' part of the `v3.4.9-424` extension: its `CheckWeights` guard (minimum
/// stake, the signer's own hash commit in its reveal epoch, `reveal_round` not behind
/// `Drand.LastStoredRound`), then `CheckRateLimits` (commits always, `set_weights` when
/// commit-reveal is off), mechanism variants included.
fn guard_checks(
    state: &dyn StateAccess,
    who: &[u8; 32],
    call: &DecodedCall,
    block: u64,
) -> Result<(), TransactionInvalid> {
    use subtensor_custom::*;
    let custom = TransactionInvalid::Custom;
    let name = call.name.as_str();
    let applies = matches!(
        name,
        "commit_weights"
            | "commit_mechanism_weights"
            | "reveal_weights"
            | "reveal_mechanism_weights"
            | "set_weights"
            | "set_mechanism_weights"
            | "commit_timelocked_weights"
            | "commit_timelocked_mechanism_weights"
    );
    if !applies {
        return Ok(());
    }
    let uint = |arg: &str| call.arg(arg).and_then(values::uint).unwrap_or(0);
    let netuid = uint("netuid") as u16;
    let mecid = if name.contains("mechanism") {
        uint("mecid") as u8
    } else {
        0
    };
    let netuid_index = storage_index(netuid, mecid);
    if !has_min_stake(state, who, netuid) {
        return Err(custom(STAKE_AMOUNT_TOO_LOW));
    }
    match name {
        "reveal_weights" | "reveal_mechanism_weights" => {
            let list = |arg: &str| -> Vec<u16> {
                call.arg(arg)
                    .and_then(values::uints)
                    .map(|v| v.into_iter().map(|n| n as u16).collect())
                    .unwrap_or_default()
            };
            let hash = commit_hash(
                who,
                netuid_index,
                &list("uids"),
                &list("values"),
                &list("salt"),
                uint("version_key") as u64,
            );
            let commit_epoch = read_hash_commits(state, netuid_index, who)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.hash == hash)
                .map(|c| c.tag)
                .ok_or(custom(COMMIT_NOT_FOUND))?;
            if !is_reveal_block_range(state, netuid, commit_epoch, block) {
                return Err(custom(COMMIT_BLOCK_NOT_IN_REVEAL_RANGE));
            }
        }
        "commit_timelocked_weights" | "commit_timelocked_mechanism_weights" => {
            let last_stored = state
                .read("Drand", "LastStoredRound", &[])
                .as_ref()
                .and_then(values::uint)
                .unwrap_or(0);
            if uint("reveal_round") < last_stored {
                return Err(custom(INVALID_REVEAL_ROUND));
            }
        }
        _ => {}
    }
    let rate_limited = match name {
        "commit_weights" | "commit_mechanism_weights" => true,
        "set_weights" | "set_mechanism_weights" => !commit_reveal_enabled(state, netuid),
        _ => false,
    };
    if rate_limited {
        // An unregistered signer passes here and fails in dispatch.
        if let Some(uid) = uid_of(state, netuid, who) {
            if !passes_rate_limit(state, netuid, mecid, uid, block) {
                return Err(custom(RATE_LIMIT_EXCEEDED));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_upscale_matches_subtensor_fixed_point() {
        assert_eq!(max_upscale(&[1, 1]), vec![65535, 65535]);
        assert_eq!(max_upscale(&[1, 2]), vec![32768, 65535]);
        assert_eq!(max_upscale(&[0, 0]), vec![0, 0]);
        assert_eq!(max_upscale(&[65535, 0, 40000]), vec![65535, 0, 40000]);
        assert_eq!(max_upscale(&[100, 300, 200]), vec![21845, 65535, 43690]);
    }

    #[test]
    fn max_limit_is_checked_on_normalised_weights() {
        // 1/2 each: limit must be at least 32768/65535.
        assert!(max_limited(&[65535, 65535], 32768));
        assert!(!max_limited(&[65535, 65535], 32767));
        assert!(max_limited(&[0, 0], 0));
    }

    #[test]
    fn storage_index_puts_mechanisms_above_4096() {
        assert_eq!(storage_index(7, 0), 7);
        assert_eq!(storage_index(7, 1), 4103);
    }
}
