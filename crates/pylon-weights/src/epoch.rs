//! Epoch arithmetic as subtensor does it (`blocks_until_next_epoch`, `get_epoch_index`).
//!
//! A subnet runs its epoch at block `b` when `blocks_until_next_epoch(netuid, tempo, b) == 0`,
//! i.e. every `tempo + 1` blocks with a `netuid + 1` offset. We call "the epoch containing a
//! block" the half-open range from the last epoch run (inclusive) to the next one (exclusive),
//! which is the reference service's `get_epoch_containing_block`. A weights job belongs to the
//! epoch of the block it was requested at and expires once the chain reaches `end`: from then on
//! anything that lands counts for the next epoch.
//!
//! Note: subtensor's `get_epoch_index` (used by commit-reveal) counts `(block + netuid + 1) /
//! (tempo + 1)`, which increments one block *after* the epoch run. Both are reproduced here as the
//! chain has them. Newer subtensor releases are moving to a stateful epoch schedule
//! (`LastEpochBlock`/`PendingEpochAt`, mirrored by bittensor-drand's `generate_commit_v2`); the
//! formulas here are the fixed-tempo model that finney spec 343 and bittensor-drand 2.0 use.

use serde::{Deserialize, Serialize};

/// Blocks from `block` to the next epoch run (0 when the epoch runs at `block`); subtensor's
/// function, including its `u64::MAX` for tempo 0 (a subnet that never runs its epoch).
pub fn blocks_until_next_epoch(netuid: u16, tempo: u16, block: u64) -> u64 {
    if tempo == 0 {
        return u64::MAX;
    }
    let netuid_plus_one = u64::from(netuid) + 1;
    let tempo_plus_one = u64::from(tempo) + 1;
    u64::from(tempo) - (block + netuid_plus_one) % tempo_plus_one
}

/// subtensor's `get_epoch_index`, the epoch numbering commit-reveal uses.
pub fn epoch_index(netuid: u16, tempo: u16, block: u64) -> u64 {
    (block + u64::from(netuid) + 1) / (u64::from(tempo) + 1)
}

/// A half-open block range `[start, end)` between two epoch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Epoch {
    pub start: u64,
    pub end: u64,
}

impl Epoch {
    /// Whether the chain at `block` has passed this epoch.
    pub fn is_over_at(&self, block: u64) -> bool {
        block >= self.end
    }
}

/// The epoch containing `block`; `None` for tempo 0, where no epoch ever runs.
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
    Some(Epoch { start, end })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_until_next_epoch_matches_subtensors_table() {
        // The table in subtensor's doc comment: (tempo, netuid) → first epoch block.
        for (tempo, netuid, first) in [
            (1, 0, 0),
            (1, 1, 1),
            (2, 0, 1),
            (2, 1, 0),
            (100, 0, 99),
            (100, 1, 98),
        ] {
            assert_eq!(
                blocks_until_next_epoch(netuid, tempo, 0),
                first,
                "tempo {tempo} netuid {netuid}"
            );
        }
        assert_eq!(blocks_until_next_epoch(3, 0, 10), u64::MAX);
    }

    #[test]
    fn epoch_runs_every_tempo_plus_one_blocks() {
        // tempo 360, netuid 1: runs where (b + 2) % 361 == 360, i.e. b = 358, 719, 1080, …
        assert_eq!(blocks_until_next_epoch(1, 360, 358), 0);
        assert_eq!(blocks_until_next_epoch(1, 360, 359), 360);
        assert_eq!(blocks_until_next_epoch(1, 360, 719), 0);
        assert_eq!(
            epoch_containing(1, 360, 358),
            Some(Epoch {
                start: 358,
                end: 719
            })
        );
        assert_eq!(
            epoch_containing(1, 360, 500),
            Some(Epoch {
                start: 358,
                end: 719
            })
        );
        assert_eq!(
            epoch_containing(1, 360, 718),
            Some(Epoch {
                start: 358,
                end: 719
            })
        );
        assert_eq!(
            epoch_containing(1, 360, 719),
            Some(Epoch {
                start: 719,
                end: 1080
            })
        );
    }

    #[test]
    fn the_first_epoch_starts_at_genesis_without_underflow() {
        // tempo 10, netuid 0: runs at b = 9, 20, …; block 3 lies in [−2, 9), clamped to start 0.
        assert_eq!(epoch_containing(0, 10, 3), Some(Epoch { start: 0, end: 9 }));
        assert_eq!(
            epoch_containing(0, 10, 9),
            Some(Epoch { start: 9, end: 20 })
        );
        assert_eq!(epoch_containing(0, 0, 9), None);
    }

    #[test]
    fn expiry_is_reaching_the_next_run() {
        let epoch = Epoch {
            start: 358,
            end: 719,
        };
        assert!(!epoch.is_over_at(718));
        assert!(epoch.is_over_at(719));
    }

    #[test]
    fn epoch_index_increments_the_block_after_the_run() {
        // tempo 360, netuid 1: index = (b + 2) / 361.
        // Runs at 358 and 719; the index moves at 359 and 720.
        assert_eq!(epoch_index(1, 360, 358), 0);
        assert_eq!(epoch_index(1, 360, 359), 1);
        assert_eq!(epoch_index(1, 360, 719), 1);
        assert_eq!(epoch_index(1, 360, 720), 2);
    }
}
