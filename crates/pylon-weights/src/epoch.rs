//! When a subnet's epochs run, from the chain's own schedule.
//!
//! Since spec 423 subtensor keeps the schedule in storage (`coinbase/run_coinbase.rs` at
//! `v3.4.9-424`): `LastEpochBlock` (the block of the last fire), `PendingEpochAt` (an owner's
//! `trigger_epoch`, or a fire deferred by the `MaxEpochsPerBlock` cap; 0 = none),
//! `SubnetEpochIndex` (+1 per fire) and `BlocksSinceLastStep`. An epoch fires at block `b` when
//! `should_run_epoch`: tempo ≠ 0 and (`P > 0 && b ≥ P`, or `BlocksSinceLastStep > MAX_TEMPO`, or
//! `b − L ≥ tempo`). A fire sets `L = b`, `P = 0`, index + 1. [`EpochState`] is that storage at
//! one pinned block, and [`Schedule::Stateful`] everything here derives from it.
//!
//! Older runtimes (≤ 422) fire on a fixed grid: at `b` when `(b + netuid + 1) % (tempo + 1) ==
//! tempo`, epoch index `(b + netuid + 1) / (tempo + 1)`. [`Schedule::Fixed`] keeps that model
//! for chains whose metadata has no `LastEpochBlock` (decided by the metadata, not the spec).
//!
//! "The epoch containing a block" is the half-open range from the last fire (inclusive) to the
//! next one (exclusive), the reference service's `get_epoch_containing_block`. A weights job
//! belongs to the epoch of the block it was requested at and expires once the chain has moved on
//! to a later epoch: on a stateful chain when `SubnetEpochIndex` passes the job's index (the end
//! is only a forecast there: an owner's trigger or a deferral moves it), on a fixed grid when the
//! chain reaches the epoch's end.

use serde::{Deserialize, Serialize};

/// subtensor's `MAX_TEMPO`: a subnet whose `BlocksSinceLastStep` exceeds it fires at once.
pub const MAX_TEMPO: u64 = 50_400;

/// Blocks between the head a commit is built at and the block it is included in, as the
/// Bittensor SDK assumes (bittensor-core's `COMMIT_INCLUSION_BLOCK_OFFSET`).
pub const COMMIT_INCLUSION_OFFSET: u64 = 1;

/// Reveal periods beyond this are not simulated (subtensor caps `RevealPeriodEpochs` far lower).
const MAX_SIMULATED_REVEAL_PERIODS: u64 = 10_000;

/// The stateful scheduler's storage for one subnet at `block` (after that block's `block_step`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochState {
    /// The pinned block every other field was read at.
    pub block: u64,
    pub tempo: u16,
    /// `LastEpochBlock`.
    pub last_epoch_block: u64,
    /// `PendingEpochAt` (0 = none).
    pub pending_epoch_at: u64,
    /// `SubnetEpochIndex`.
    pub epoch_index: u64,
    /// `BlocksSinceLastStep`.
    pub blocks_since_last_step: u64,
}

impl EpochState {
    /// subtensor's `should_run_epoch(netuid, block)` evaluated against this storage.
    pub fn should_run_epoch(&self, block: u64) -> bool {
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

    /// subtensor's `current_epoch_with_lookahead` at `block`, with this storage as it stands when
    /// `block` starts: the index, plus one if an epoch is due at `block`. Commits made in `block`
    /// are filed under it, and the reveal step (which runs before the epoch step) uses it.
    pub fn epoch_with_lookahead(&self, block: u64) -> u64 {
        if self.should_run_epoch(block) {
            self.epoch_index.saturating_add(1)
        } else {
            self.epoch_index
        }
    }

    /// The storage after `block`'s coinbase: one more block since the last step, and a fire if
    /// one is due (the `MaxEpochsPerBlock` deferral, which needs every subnet's state, is not
    /// modelled, as the SDK does not).
    pub fn after_block(&self, block: u64) -> EpochState {
        let mut next = *self;
        next.block = block;
        next.blocks_since_last_step = next.blocks_since_last_step.saturating_add(1);
        if next.should_run_epoch(block) {
            next.last_epoch_block = block;
            next.pending_epoch_at = 0;
            next.epoch_index = next.epoch_index.saturating_add(1);
            next.blocks_since_last_step = 0;
        }
        next
    }

    /// subtensor's `get_next_epoch_start_block`: `LastEpochBlock + tempo`, or the pending fire if
    /// sooner; `None` for tempo 0.
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

/// A subnet's epoch schedule at one pinned block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum Schedule {
    /// Spec 423+: the storage of the stateful scheduler.
    Stateful(EpochState),
    /// Before spec 423: the fixed `tempo + 1` grid offset by `netuid + 1`.
    Fixed { netuid: u16, tempo: u16, block: u64 },
}

/// A subnet's epoch schedule at one block, and where the chain says the epoch ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PinnedSchedule {
    pub schedule: Schedule,
    /// `get_next_epoch_start_block` as the runtime API answered it, where the chain has it.
    pub next_epoch_start: Option<u64>,
}

impl PinnedSchedule {
    /// The epoch containing the pinned block; `None` for tempo 0.
    pub fn epoch(&self) -> Option<Epoch> {
        self.schedule.epoch(self.next_epoch_start)
    }
}

/// Where the chain stands for one subnet: the head, and its `SubnetEpochIndex` when it has one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainPosition {
    pub block: u64,
    pub epoch_index: Option<u64>,
}

impl Schedule {
    /// The block the schedule was read at.
    pub fn block(&self) -> u64 {
        match self {
            Schedule::Stateful(state) => state.block,
            Schedule::Fixed { block, .. } => *block,
        }
    }

    pub fn tempo(&self) -> u16 {
        match self {
            Schedule::Stateful(state) => state.tempo,
            Schedule::Fixed { tempo, .. } => *tempo,
        }
    }

    pub fn position(&self) -> ChainPosition {
        ChainPosition {
            block: self.block(),
            epoch_index: match self {
                Schedule::Stateful(state) => Some(state.epoch_index),
                Schedule::Fixed { .. } => None,
            },
        }
    }

    /// The epoch containing the pinned block; `None` for tempo 0, where no epoch ever runs.
    ///
    /// Stateful: `[LastEpochBlock, next start)` with the next start as the chain answers it
    /// (`next_start`, from the runtime API `get_next_epoch_start_block`, where it has one) or as
    /// that function computes it from the same storage. A fire that is overdue (deferred past
    /// its slot) can come no earlier than the next block, so the end is never before it.
    pub fn epoch(&self, next_start: Option<u64>) -> Option<Epoch> {
        match self {
            Schedule::Stateful(state) => {
                let end = next_start.or_else(|| state.next_epoch_start())?;
                Some(Epoch {
                    start: state.last_epoch_block,
                    end: end.max(state.block.saturating_add(1)),
                    index: Some(state.epoch_index),
                })
            }
            Schedule::Fixed {
                netuid,
                tempo,
                block,
            } => epoch_containing(*netuid, *tempo, *block),
        }
    }

    /// The first block in which the chain reveals a CRv4 commit built at the pinned block and
    /// included in the next one; `None` for tempo 0 (nothing is ever revealed).
    ///
    /// Stateful, as subtensor runs it and the Bittensor SDK predicts it (bittensor-core's
    /// `predict_first_reveal_block`): the commit is filed under the look-ahead epoch `e` of its
    /// block; every block, before the epoch step, the chain reveals the commits filed under
    /// `lookahead − RevealPeriodEpochs` (retrying those whose drand pulse it lacks, dropping them
    /// once the look-ahead moves on). So the reveal starts at the first block whose look-ahead
    /// epoch is `e + RevealPeriodEpochs`, found by stepping the schedule block by block.
    ///
    /// Fixed: the first block of epoch `get_epoch_index(inclusion) + RevealPeriodEpochs`,
    /// `epoch * (tempo + 1) − (netuid + 1)`.
    pub fn first_reveal_block(&self, reveal_period_epochs: u64) -> Option<u64> {
        if self.tempo() == 0 || reveal_period_epochs > MAX_SIMULATED_REVEAL_PERIODS {
            return None;
        }
        let inclusion = self.block().saturating_add(COMMIT_INCLUSION_OFFSET);
        match self {
            Schedule::Stateful(head) => {
                let mut state = *head;
                for block in head.block.saturating_add(1)..inclusion {
                    state = state.after_block(block);
                }
                let target = state
                    .epoch_with_lookahead(inclusion)
                    .saturating_add(reveal_period_epochs);
                // A fire comes at least every `min(tempo, MAX_TEMPO + 1) + 1` blocks, and the
                // target is at most `reveal_period_epochs + 1` fires away.
                let fire_gap = u64::from(head.tempo).min(MAX_TEMPO + 1) + 1;
                let last =
                    inclusion.saturating_add((reveal_period_epochs + 1).saturating_mul(fire_gap));
                for block in inclusion..=last {
                    if state.epoch_with_lookahead(block) == target {
                        return Some(block);
                    }
                    state = state.after_block(block);
                }
                None
            }
            Schedule::Fixed { netuid, tempo, .. } => {
                let epoch = epoch_index(*netuid, *tempo, inclusion) + reveal_period_epochs;
                Some((epoch * (u64::from(*tempo) + 1)).saturating_sub(u64::from(*netuid) + 1))
            }
        }
    }
}

/// Blocks from `block` to the next epoch run on the fixed grid (0 when the epoch runs at
/// `block`); subtensor's pre-423 function, including its `u64::MAX` for tempo 0.
pub fn blocks_until_next_epoch(netuid: u16, tempo: u16, block: u64) -> u64 {
    if tempo == 0 {
        return u64::MAX;
    }
    let netuid_plus_one = u64::from(netuid) + 1;
    let tempo_plus_one = u64::from(tempo) + 1;
    u64::from(tempo) - (block + netuid_plus_one) % tempo_plus_one
}

/// subtensor's pre-423 `get_epoch_index` (the fixed grid's commit-reveal numbering), which
/// increments one block *after* the epoch run.
pub fn epoch_index(netuid: u16, tempo: u16, block: u64) -> u64 {
    (block + u64::from(netuid) + 1) / (u64::from(tempo) + 1)
}

/// A half-open block range `[start, end)` between two epoch runs, and on a stateful chain the
/// `SubnetEpochIndex` the chain counts during it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Epoch {
    pub start: u64,
    /// The next run: exact on the fixed grid, the chain's forecast on a stateful chain.
    pub end: u64,
    /// `SubnetEpochIndex` during this epoch (stateful chains only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
}

impl Epoch {
    /// Whether the chain standing at `position` has passed this epoch: by the epoch index when
    /// both sides have one, else by reaching the end block.
    pub fn is_over_at(&self, position: &ChainPosition) -> bool {
        match (self.index, position.epoch_index) {
            (Some(mine), Some(now)) => now > mine,
            _ => position.block >= self.end,
        }
    }

    /// Whether `block` falls in this epoch's range.
    pub fn contains(&self, block: u64) -> bool {
        self.start <= block && block < self.end
    }
}

/// The fixed-grid epoch containing `block`; `None` for tempo 0, where no epoch ever runs.
pub fn epoch_containing(netuid: u16, tempo: u16, block: u64) -> Option<Epoch> {
    if tempo == 0 {
        return None;
    }
    let interval = u64::from(tempo) + 1;
    let until = blocks_until_next_epoch(netuid, tempo, block);
    let (start, end) = if until == 0 {
        (block, block + interval)
    } else {
        // Before the first run after genesis the epoch starts at block 0.
        let next_run = block + until;
        (next_run.saturating_sub(interval), next_run)
    };
    Some(Epoch {
        start,
        end,
        index: None,
    })
}

#[cfg(test)]
mod tests;
