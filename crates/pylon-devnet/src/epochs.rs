//! Subtensor's epoch schedule, per block, as `block_step` runs it from `on_initialize`.
//!
//! Two schedules exist, and the served metadata says which one this runtime has (whether it
//! declares `SubtensorModule.SubnetEpochIndex`; never the spec number):
//!
//! - **Stateful** (subtensor `v3.4.9-424`, `coinbase/run_coinbase.rs`): each subnet keeps
//!   `LastEpochBlock`, `PendingEpochAt` and `SubnetEpochIndex`. Its epoch is due at block `b`
//!   when `tempo != 0 && ((P > 0 && b >= P) || BlocksSinceLastStep > MAX_TEMPO || b - L >= tempo)`.
//!   Subnets are visited in `NetworksAdded` storage order (root excluded); every one counts
//!   `BlocksSinceLastStep` up first; at most `MaxEpochsPerBlock` due subnets fire, later due ones
//!   are deferred (`PendingEpochAt = b + 1`, `EpochDeferred`). A fired slot sets
//!   `LastEpochBlock = b`, `PendingEpochAt = 0`, `SubnetEpochIndex += 1`; when the subnet's
//!   `Keys` hold no duplicate hotkey it also resets `BlocksSinceLastStep` and records
//!   `LastMechansimStepBlock = b` (otherwise `EpochSkipped`, and the slot is still consumed).
//!   The CRv4 reveal ([`crate::extrinsics::reveal`]) runs before this, each block.
//! - **Grid** (up to spec 422): the epoch runs when `(b + netuid + 1) % (tempo + 1) == tempo`.
//!
//! Emission and consensus are not simulated.

use std::collections::BTreeSet;

use scale_value::Value;

use crate::state_access::StateAccess;

const SM: &str = "SubtensorModule";

/// `MAX_TEMPO`: past this many blocks without a step, an epoch is due whatever the schedule.
pub const MAX_TEMPO: u64 = 50_400;

/// Which epoch schedule the runtime has, read from the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// `LastEpochBlock` / `PendingEpochAt` / `SubnetEpochIndex` in storage (spec 423+).
    Stateful,
    /// The fixed `(block + netuid + 1) % (tempo + 1)` grid.
    Grid,
}

impl Schedule {
    /// The schedule of the runtime whose state this is: whether it declares `SubnetEpochIndex`.
    pub fn of(state: &dyn StateAccess) -> Self {
        if state.has_item(SM, "SubnetEpochIndex") {
            Schedule::Stateful
        } else {
            Schedule::Grid
        }
    }
}

/// One subnet's schedule state (the stateful items plus what `should_run_epoch` reads).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SubnetClock {
    pub tempo: u16,
    pub last_epoch_block: u64,
    pub pending_epoch_at: u64,
    pub blocks_since_last_step: u64,
    pub epoch_index: u64,
}

impl SubnetClock {
    /// Subtensor's `should_run_epoch` under the stateful schedule.
    pub fn should_run(&self, block: u64) -> bool {
        if self.tempo == 0 {
            return false;
        }
        if self.pending_epoch_at > 0 && block >= self.pending_epoch_at {
            return true;
        }
        if self.blocks_since_last_step > MAX_TEMPO {
            return true;
        }
        block.saturating_sub(self.last_epoch_block) >= u64::from(self.tempo)
    }

    /// `get_next_epoch_start_block`: `LastEpochBlock + tempo`, or an earlier pending trigger;
    /// `None` when tempo is 0. Ignores deferral and the `MAX_TEMPO` safety net, as subtensor does.
    pub fn next_epoch_start(&self) -> Option<u64> {
        if self.tempo == 0 {
            return None;
        }
        let auto = self.last_epoch_block.saturating_add(u64::from(self.tempo));
        Some(if self.pending_epoch_at > 0 {
            auto.min(self.pending_epoch_at)
        } else {
            auto
        })
    }
}

/// What the coinbase did to a subnet in one block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Not due.
    Idle,
    /// Due and run.
    Fired,
    /// Due, but its `Keys` hold a duplicate hotkey: the slot is consumed without a step.
    Skipped,
    /// Due, but `MaxEpochsPerBlock` subnets already fired in this block: moved to the next block.
    Deferred,
}

/// Subtensor's `drain_pending` over `subnets` (in iteration order) at `block`, updating each
/// clock; `consistent(netuid)` is `is_epoch_input_state_consistent`, asked only for due subnets.
pub fn drain_pending(
    subnets: &mut [(u16, SubnetClock)],
    block: u64,
    max_epochs_per_block: u8,
    mut consistent: impl FnMut(u16) -> bool,
) -> Vec<Step> {
    let mut fired: u32 = 0;
    let mut steps = Vec::with_capacity(subnets.len());
    for (netuid, clock) in subnets.iter_mut() {
        clock.blocks_since_last_step = clock.blocks_since_last_step.saturating_add(1);
        if !clock.should_run(block) {
            steps.push(Step::Idle);
            continue;
        }
        if fired >= u32::from(max_epochs_per_block) {
            clock.pending_epoch_at = block.saturating_add(1);
            steps.push(Step::Deferred);
            continue;
        }
        let step = if consistent(*netuid) {
            clock.blocks_since_last_step = 0;
            fired += 1;
            Step::Fired
        } else {
            Step::Skipped
        };
        clock.last_epoch_block = block;
        clock.pending_epoch_at = 0;
        clock.epoch_index = clock.epoch_index.saturating_add(1);
        steps.push(step);
    }
    steps
}

/// Subtensor's `epochs_deferred_this_block`: the due subnets the cap will push to the next block,
/// judged before `drain_pending` has counted this block (the reveal skips them).
pub fn deferred_this_block(
    subnets: &[(u16, SubnetClock)],
    block: u64,
    max_epochs_per_block: u8,
    mut consistent: impl FnMut(u16) -> bool,
) -> BTreeSet<u16> {
    let mut fired: u32 = 0;
    let mut deferred = BTreeSet::new();
    for (netuid, clock) in subnets {
        if !clock.should_run(block) {
            continue;
        }
        if fired >= u32::from(max_epochs_per_block) {
            deferred.insert(*netuid);
            continue;
        }
        if consistent(*netuid) {
            fired += 1;
        }
    }
    deferred
}

/// The old grid: whether `netuid`'s epoch runs in `block` (`blocks_until_next_epoch == 0`).
pub fn runs_epoch(netuid: u16, tempo: u16, block: u64) -> bool {
    if tempo == 0 {
        return false;
    }
    let tempo = u64::from(tempo);
    (block + u64::from(netuid) + 1) % (tempo + 1) == tempo
}

/// The old grid's epoch index `(block + netuid + 1) / (tempo + 1)`.
pub fn grid_epoch_index(netuid: u16, tempo: u16, block: u64) -> u64 {
    (block + u64::from(netuid) + 1) / (u64::from(tempo) + 1)
}

fn number(state: &dyn StateAccess, item: &str, keys: &[Value]) -> u128 {
    state
        .read(SM, item, keys)
        .and_then(|v| v.as_u128())
        .unwrap_or(0)
}

/// `get_all_subnet_netuids` without root, in `NetworksAdded` storage order (what subtensor
/// iterates: the map is `Identity`-hashed, so little-endian netuid bytes decide the order).
pub fn subnets(state: &dyn StateAccess) -> Vec<u16> {
    state
        .iter_prefix(SM, "NetworksAdded", &[])
        .into_iter()
        .filter_map(|(keys, _)| keys.first().and_then(|k| k.as_u128()))
        .map(|n| n as u16)
        .filter(|n| *n != 0)
        .collect()
}

/// A subnet's clock as stored.
pub fn read_clock(state: &dyn StateAccess, netuid: u16) -> SubnetClock {
    let key = [Value::u128(netuid.into())];
    SubnetClock {
        tempo: number(state, "Tempo", &key) as u16,
        last_epoch_block: number(state, "LastEpochBlock", &key) as u64,
        pending_epoch_at: number(state, "PendingEpochAt", &key) as u64,
        blocks_since_last_step: number(state, "BlocksSinceLastStep", &key) as u64,
        epoch_index: number(state, "SubnetEpochIndex", &key) as u64,
    }
}

/// Store the items of `clock` that differ from `before` (subtensor writes only what it changes).
fn write_clock(
    state: &mut dyn StateAccess,
    netuid: u16,
    before: &SubnetClock,
    clock: &SubnetClock,
) {
    let key = [Value::u128(netuid.into())];
    let items = [
        (
            "LastEpochBlock",
            before.last_epoch_block,
            clock.last_epoch_block,
        ),
        (
            "PendingEpochAt",
            before.pending_epoch_at,
            clock.pending_epoch_at,
        ),
        ("SubnetEpochIndex", before.epoch_index, clock.epoch_index),
    ];
    for (item, old, new) in items {
        if old != new {
            state.write(SM, item, &key, Value::u128(new.into()));
        }
    }
    // `BlocksSinceLastStep` is mutated every block.
    state.write(
        SM,
        "BlocksSinceLastStep",
        &key,
        Value::u128(clock.blocks_since_last_step.into()),
    );
}

/// `MaxEpochsPerBlock` (its metadata default when unset).
pub fn max_epochs_per_block(state: &dyn StateAccess) -> u8 {
    number(state, "MaxEpochsPerBlock", &[]) as u8
}

/// `is_epoch_input_state_consistent`: no hotkey holds two uids of the subnet.
pub fn input_state_consistent(state: &dyn StateAccess, netuid: u16) -> bool {
    let mut seen = BTreeSet::new();
    state
        .iter_prefix(SM, "Keys", &[Value::u128(netuid.into())])
        .into_iter()
        .all(|(_, hotkey)| seen.insert(format!("{hotkey:?}")))
}

/// Every subnet's clock, in iteration order.
pub fn clocks(state: &dyn StateAccess) -> Vec<(u16, SubnetClock)> {
    subnets(state)
        .into_iter()
        .map(|netuid| (netuid, read_clock(state, netuid)))
        .collect()
}

/// Whether `netuid`'s epoch is due at `block` under the runtime's schedule (`should_run_epoch`).
pub fn should_run_epoch(state: &dyn StateAccess, netuid: u16, block: u64) -> bool {
    match Schedule::of(state) {
        Schedule::Stateful => read_clock(state, netuid).should_run(block),
        Schedule::Grid => runs_epoch(netuid, number_tempo(state, netuid), block),
    }
}

fn number_tempo(state: &dyn StateAccess, netuid: u16) -> u16 {
    number(state, "Tempo", &[Value::u128(netuid.into())]) as u16
}

/// `get_epoch_index`: `SubnetEpochIndex`, or the grid's formula.
pub fn epoch_index(state: &dyn StateAccess, netuid: u16, block: u64) -> u64 {
    match Schedule::of(state) {
        Schedule::Stateful => read_clock(state, netuid).epoch_index,
        Schedule::Grid => grid_epoch_index(netuid, number_tempo(state, netuid), block),
    }
}

/// `current_epoch_with_lookahead`: the epoch a commit or reveal made at `block` belongs to,
/// i.e. the index plus one when an epoch slot is due in this block.
pub fn epoch_with_lookahead(state: &dyn StateAccess, netuid: u16, block: u64) -> u64 {
    let index = epoch_index(state, netuid, block);
    if should_run_epoch(state, netuid, block) {
        index + 1
    } else {
        index
    }
}

/// The runtime API `get_next_epoch_start_block(netuid)`: `LastEpochBlock + tempo`, or an
/// earlier pending trigger; `None` when tempo is 0 (deferral and the `MAX_TEMPO` net ignored).
pub fn next_epoch_start_block(state: &dyn StateAccess, netuid: u16) -> Option<u64> {
    read_clock(state, netuid).next_epoch_start()
}

/// Subtensor's `block_step`, the parts modelled: the CRv4 reveal, then the epoch schedule.
pub fn block_step(state: &mut dyn StateAccess, block: u32) {
    let block = u64::from(block);
    match Schedule::of(state) {
        Schedule::Stateful => {
            crate::extrinsics::reveal::reveal_timelocked_commits(state, block);
            stateful_step(state, block);
        }
        Schedule::Grid => {
            grid_step(state, block);
            crate::extrinsics::reveal::reveal_timelocked_commits(state, block);
        }
    }
}

/// `drain_pending` and `distribute_emissions_to_subnets`' `LastMechansimStepBlock`.
fn stateful_step(state: &mut dyn StateAccess, block: u64) {
    let before = clocks(state);
    let mut clocks = before.clone();
    let cap = max_epochs_per_block(state);
    let steps = {
        let view: &dyn StateAccess = &*state;
        drain_pending(&mut clocks, block, cap, |netuid| {
            input_state_consistent(view, netuid)
        })
    };
    for (((netuid, clock), (_, old)), step) in clocks.iter().zip(&before).zip(steps) {
        let netuid = *netuid;
        write_clock(state, netuid, old, clock);
        let id = Value::u128(netuid.into());
        match step {
            Step::Idle => {}
            Step::Fired => state.write(
                SM,
                "LastMechansimStepBlock",
                &[id],
                Value::u128(block.into()),
            ),
            Step::Deferred => state.deposit_event(
                SM,
                "EpochDeferred",
                vec![
                    ("netuid", id),
                    ("from_block", Value::u128(block.into())),
                    ("to_block", Value::u128((block + 1).into())),
                ],
            ),
            Step::Skipped => state.deposit_event(
                SM,
                "EpochSkipped",
                vec![("netuid", id), ("block", Value::u128(block.into()))],
            ),
        }
    }
}

/// The grid: the epoch resets `BlocksSinceLastStep` and records `LastMechansimStepBlock`.
fn grid_step(state: &mut dyn StateAccess, block: u64) {
    let netuids: Vec<Value> = state
        .iter_prefix(SM, "NetworksAdded", &[])
        .into_iter()
        .filter(|(_, added)| added.as_bool() == Some(true))
        .filter_map(|(keys, _)| keys.into_iter().next())
        .collect();
    for netuid in netuids {
        let key = [netuid.clone()];
        let tempo = number(state, "Tempo", &key) as u16;
        let id = netuid.as_u128().unwrap_or(0) as u16;
        if runs_epoch(id, tempo, block) {
            state.write(SM, "BlocksSinceLastStep", &key, Value::u128(0));
            state.write(
                SM,
                "LastMechansimStepBlock",
                &key,
                Value::u128(block.into()),
            );
        } else {
            let since = number(state, "BlocksSinceLastStep", &key);
            state.write(SM, "BlocksSinceLastStep", &key, Value::u128(since + 1));
        }
    }
}

/// `apply_tempo_with_cycle_reset` (owner `set_tempo`, root `sudo_set_tempo`): the new tempo
/// counts from this block.
pub fn set_tempo_with_cycle_reset(state: &mut dyn StateAccess, netuid: u16, tempo: u16) {
    let key = [Value::u128(netuid.into())];
    state.write(SM, "Tempo", &key, Value::u128(tempo.into()));
    state.deposit_event(
        SM,
        "TempoSet",
        vec![
            ("", Value::u128(netuid.into())),
            ("", Value::u128(tempo.into())),
        ],
    );
    if Schedule::of(state) == Schedule::Stateful {
        let now = u64::from(state.block_number());
        state.write(SM, "LastEpochBlock", &key, Value::u128(now.into()));
    }
}

#[cfg(test)]
mod tests;
