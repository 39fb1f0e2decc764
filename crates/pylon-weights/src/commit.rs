//! CRv4 commits: the timelocked payload `commit_timelocked_weights` carries, and the drand round
//! it is encrypted to.
//!
//! The payload is subtensor's `WeightsTlockPayload` (pallets/subtensor/src/coinbase/
//! reveal_commits.rs): SCALE of `{ hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>,
//! version_key: u64 }` in that field order. At reveal the chain decodes `hotkey` as its
//! `AccountId` (the 32 raw public-key bytes) and drops the commit unless it equals the signer, so
//! the hotkey must be the identity's public key, not its ss58 text.
//!
//! The reveal round is computed by one of two rules ([`RevealRule`]); both target the epoch
//! `reveal_period` epochs after the current one in subtensor's `get_epoch_index` numbering, which
//! is where the chain reveals (`reveal_crv3_commits_for_subnet`; a commit whose pulse is not yet
//! stored is retried every block of that epoch):
//! - [`RevealRule::PulseDelay`] (default): the round published `SUBTENSOR_PULSE_DELAY` rounds
//!   before the estimated reveal time, with the reveal epoch pushed later while it is less than
//!   `SUBTENSOR_PULSE_DELAY` periods away — the `generate_commit` of bittensor-drand 0.5 (CRv3
//!   era). The chain holds the pulse when the reveal epoch starts, so the reveal happens in its
//!   first block; the cost is that the commit can be opened about `24 * period` seconds early.
//! - [`RevealRule::IngestOffset`]: the round published at the reveal epoch's first block plus
//!   3 blocks, rounded down — bittensor-drand 1.0.x's `generate_commit` (the CRv4 one with the
//!   hotkey), which turbobt 0.3 and so the reference service call. Checked against the published
//!   1.0.1 wheel. Nothing opens before the reveal epoch; the chain reveals a few blocks into it.
//!
//! Differences from those functions, on purpose: genesis time, period and public key are inputs
//! (read from the chain's Drand `BeaconConfig`, so a devnet's simulated beacon works too, and the
//! minimum distance is `SUBTENSOR_PULSE_DELAY * period`, bittensor-drand's `24 * 3` seconds on
//! quicknet); `now` and the block time are inputs, so the computation is a pure function; the
//! arithmetic saturates instead of panicking near genesis.
//!
//! bittensor-drand's current source (2.0) replaced both with `generate_commit_v2`, which predicts
//! the reveal block by simulating subtensor's newer stateful epoch schedule (`LastEpochBlock`,
//! `PendingEpochAt`). Finney spec 343 runs the fixed-tempo schedule, so that is what we follow.

use parity_scale_codec::{Decode, Encode};
use pylon_timelock::TimelockError;

use crate::convert::ChainWeights;

/// Rounds subtensor waits behind the beacon before it stores a pulse (bittensor-drand's
/// `SUBTENSOR_PULSE_DELAY`).
pub const SUBTENSOR_PULSE_DELAY: u64 = 24;

/// The plaintext of a CRv4 commit, exactly as subtensor decodes it.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct WeightsTlockPayload {
    pub hotkey: Vec<u8>,
    pub uids: Vec<u16>,
    pub values: Vec<u16>,
    pub version_key: u64,
}

/// The drand beacon the chain follows, as its Drand pallet's `BeaconConfig` describes it.
#[derive(Clone, PartialEq, Eq)]
pub struct BeaconInfo {
    /// Compressed G2 public key (96 bytes).
    pub public_key: Vec<u8>,
    /// Unix time of round 1's publication.
    pub genesis_time: u64,
    /// Seconds between rounds.
    pub period: u64,
}

impl std::fmt::Debug for BeaconInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BeaconInfo")
            .field(
                "public_key",
                &format_args!("0x{}", hex_prefix(&self.public_key)),
            )
            .field("genesis_time", &self.genesis_time)
            .field("period", &self.period)
            .finish()
    }
}

fn hex_prefix(bytes: &[u8]) -> String {
    let shown: String = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    if bytes.len() > 8 {
        format!("{shown}…")
    } else {
        shown
    }
}

/// What the reveal round depends on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RevealInputs {
    pub netuid: u16,
    pub tempo: u16,
    pub current_block: u64,
    /// The subnet's `RevealPeriodEpochs`.
    pub reveal_period_epochs: u64,
    /// The chain's block time in seconds (12 on finney).
    pub block_time_secs: f64,
    /// Unix time now, in seconds.
    pub now_unix_secs: f64,
}

/// How the drand round of a commit is chosen (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevealRule {
    #[default]
    PulseDelay,
    IngestOffset,
}

/// Blocks after the reveal epoch's first block whose time [`RevealRule::IngestOffset`] targets
/// (bittensor-drand 1.0's `SECURITY_BLOCK_OFFSET`).
pub const INGEST_BLOCK_OFFSET: u64 = 3;

/// Where and when the chain will reveal a commit made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevealTarget {
    pub reveal_epoch: u64,
    pub reveal_block: u64,
    pub reveal_round: u64,
}

/// The epoch, block and drand round at which a commit made now will be revealed.
pub fn reveal_target(
    inputs: &RevealInputs,
    genesis_time: u64,
    period: u64,
    rule: RevealRule,
) -> RevealTarget {
    let tempo_plus_one = u64::from(inputs.tempo) + 1;
    let netuid_plus_one = u64::from(inputs.netuid) + 1;
    let current_epoch = (inputs.current_block + netuid_plus_one) / tempo_plus_one;
    let period = period.max(1);
    let first_block_of = |epoch: u64| (epoch * tempo_plus_one).saturating_sub(netuid_plus_one);
    let secs_until =
        |block: u64| block.saturating_sub(inputs.current_block) as f64 * inputs.block_time_secs;
    let round_at = |unix_secs: f64| (unix_secs - genesis_time as f64) / period as f64;

    let mut reveal_epoch = current_epoch + inputs.reveal_period_epochs;
    match rule {
        RevealRule::PulseDelay => {
            let min_secs_until_reveal = (SUBTENSOR_PULSE_DELAY * period) as f64;
            // A zero block time would never get far enough: take the first candidate then.
            while secs_until(first_block_of(reveal_epoch)) < min_secs_until_reveal
                && inputs.block_time_secs > 0.0
            {
                reveal_epoch += 1;
            }
            let reveal_block = first_block_of(reveal_epoch);
            let reveal_time = inputs.now_unix_secs + secs_until(reveal_block);
            // The saturating cast sends a (devnet) reveal time before genesis to round 0.
            let reveal_round =
                (round_at(reveal_time).ceil() as u64).saturating_sub(SUBTENSOR_PULSE_DELAY);
            RevealTarget {
                reveal_epoch,
                reveal_block,
                reveal_round,
            }
        }
        RevealRule::IngestOffset => {
            let reveal_block = first_block_of(reveal_epoch);
            let ingest_time = inputs.now_unix_secs + secs_until(reveal_block + INGEST_BLOCK_OFFSET);
            let reveal_round = (round_at(ingest_time).floor() as u64).max(1);
            RevealTarget {
                reveal_epoch,
                reveal_block,
                reveal_round,
            }
        }
    }
}

/// A ready-to-submit CRv4 commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedCommit {
    /// The compressed timelock ciphertext (the extrinsic's `commit` argument).
    pub ciphertext: Vec<u8>,
    /// The drand round that opens it (the extrinsic's `reveal_round` argument).
    pub reveal_round: u64,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CommitError {
    #[error("weights have {uids} uids but {values} values")]
    LengthMismatch { uids: usize, values: usize },
    #[error("timelock encryption failed: {0}")]
    Timelock(#[from] TimelockError),
}

/// Encrypt the payload for `hotkey` (its 32-byte public key) to `reveal_round` of `beacon`.
pub fn build_commit(
    hotkey: &[u8; 32],
    weights: &ChainWeights,
    version_key: u64,
    reveal_round: u64,
    beacon: &BeaconInfo,
) -> Result<TimelockedCommit, CommitError> {
    if weights.uids.len() != weights.values.len() {
        return Err(CommitError::LengthMismatch {
            uids: weights.uids.len(),
            values: weights.values.len(),
        });
    }
    let payload = WeightsTlockPayload {
        hotkey: hotkey.to_vec(),
        uids: weights.uids.clone(),
        values: weights.values.clone(),
        version_key,
    };
    let ciphertext = pylon_timelock::encrypt(&payload.encode(), &beacon.public_key, reveal_round)?;
    Ok(TimelockedCommit {
        ciphertext,
        reveal_round,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pylon_timelock::{quicknet, SimulatedBeacon};

    const QUICKNET_GENESIS: u64 = quicknet::GENESIS_TIME;

    fn inputs(netuid: u16, tempo: u16, block: u64, period: u64, now: f64) -> RevealInputs {
        RevealInputs {
            netuid,
            tempo,
            current_block: block,
            reveal_period_epochs: period,
            block_time_secs: 12.0,
            now_unix_secs: now,
        }
    }

    #[test]
    fn payload_encodes_in_subtensors_field_order() {
        let payload = WeightsTlockPayload {
            hotkey: vec![0xaa, 0xbb],
            uids: vec![1, 2],
            values: vec![0xffff, 3],
            version_key: 7,
        };
        // compact(2) aa bb | compact(2) 0100 0200 | compact(2) ffff 0300 | u64 LE 7
        let expected: Vec<u8> = [
            &[0x08, 0xaa, 0xbb][..],
            &[0x08, 0x01, 0x00, 0x02, 0x00],
            &[0x08, 0xff, 0xff, 0x03, 0x00],
            &[7, 0, 0, 0, 0, 0, 0, 0],
        ]
        .concat();
        assert_eq!(payload.encode(), expected);
        assert_eq!(
            WeightsTlockPayload::decode(&mut &expected[..]).unwrap(),
            payload
        );
    }

    #[test]
    fn reveal_round_by_hand() {
        // tempo 100, netuid 1, block 1000, reveal period 2, 12 s blocks:
        // epoch (1000+2)/101 = 9 → reveal epoch 11 → block 11*101-2 = 1109, 109 blocks = 1308 s.
        // now = genesis + 1_000_000 → ceil(1_001_308 / 3) = 333_770 → minus 24 = 333_746.
        let now = (QUICKNET_GENESIS + 1_000_000) as f64;
        let target = reveal_target(
            &inputs(1, 100, 1000, 2, now),
            QUICKNET_GENESIS,
            3,
            RevealRule::PulseDelay,
        );
        assert_eq!(
            target,
            RevealTarget {
                reveal_epoch: 11,
                reveal_block: 1109,
                reveal_round: 333_746
            }
        );
    }

    #[test]
    fn a_reveal_too_close_moves_to_a_later_epoch() {
        // tempo 10, netuid 0, block 9, period 1: epoch 10/11 = 0 → reveal epoch 1 → block 10,
        // 1 block = 12 s < 72 s → epoch 2 → block 21, 12 blocks = 144 s.
        // now = genesis + 0.5 → ceil(144.5 / 3) = 49 → minus 24 = 25.
        let now = QUICKNET_GENESIS as f64 + 0.5;
        let target = reveal_target(
            &inputs(0, 10, 9, 1, now),
            QUICKNET_GENESIS,
            3,
            RevealRule::PulseDelay,
        );
        assert_eq!(
            target,
            RevealTarget {
                reveal_epoch: 2,
                reveal_block: 21,
                reveal_round: 25
            }
        );
    }

    #[test]
    fn the_minimum_distance_scales_with_the_beacon_period() {
        // With a 1 s beacon the minimum is 24 s: one block (12 s) away still moves a whole epoch
        // later, two blocks (24 s) away does not.
        let now = 1_000.0;
        let close = reveal_target(&inputs(0, 10, 9, 1, now), 0, 1, RevealRule::PulseDelay);
        assert_eq!(close.reveal_block, 21);
        let exact = reveal_target(&inputs(0, 10, 8, 1, now), 0, 1, RevealRule::PulseDelay);
        assert_eq!(exact.reveal_block, 10);
        // ceil((1000 + 24) / 1) - 24 = 1000.
        assert_eq!(exact.reveal_round, 1000);
    }

    #[test]
    fn ingest_offset_rule_by_hand() {
        // tempo 100, netuid 1, block 1000, reveal period 2, 12 s blocks: reveal epoch 11 starts at
        // block 1109; target 1112 = 112 blocks = 1344 s; now = genesis + 1_000_000 →
        // floor(1_001_344 / 3) = 333_781.
        let now = (QUICKNET_GENESIS + 1_000_000) as f64;
        let target = reveal_target(
            &inputs(1, 100, 1000, 2, now),
            QUICKNET_GENESIS,
            3,
            RevealRule::IngestOffset,
        );
        assert_eq!(
            target,
            RevealTarget {
                reveal_epoch: 11,
                reveal_block: 1109,
                reveal_round: 333_781
            }
        );
        // No push to a later epoch however close: tempo 10, netuid 0, block 9 → epoch 1 starts at
        // block 10; target 13 = 4 blocks = 48 s; now = genesis + 0.5 → floor(48.5 / 3) = 16.
        let now = QUICKNET_GENESIS as f64 + 0.5;
        let target = reveal_target(
            &inputs(0, 10, 9, 1, now),
            QUICKNET_GENESIS,
            3,
            RevealRule::IngestOffset,
        );
        assert_eq!(
            target,
            RevealTarget {
                reveal_epoch: 1,
                reveal_block: 10,
                reveal_round: 16
            }
        );
        // Before genesis the round is clamped to 1, as bittensor-drand does.
        let early = reveal_target(
            &inputs(0, 10, 9, 1, 0.0),
            1_000_000,
            3,
            RevealRule::IngestOffset,
        );
        assert_eq!(early.reveal_round, 1);
    }

    #[test]
    fn reveal_before_beacon_genesis_saturates_to_round_zero() {
        let target = reveal_target(
            &inputs(0, 10, 9, 1, 0.0),
            1_000_000,
            3,
            RevealRule::PulseDelay,
        );
        assert_eq!(target.reveal_round, 0);
    }

    #[test]
    fn commit_opens_at_its_round_into_the_chains_payload() {
        let beacon = SimulatedBeacon::from_seed(b"pylon-weights test beacon");
        let info = BeaconInfo {
            public_key: beacon.public_key().to_vec(),
            genesis_time: 0,
            period: 3,
        };
        let weights = ChainWeights {
            uids: vec![0, 5],
            values: vec![65535, 32768],
        };
        let hotkey = [7u8; 32];
        let commit = build_commit(&hotkey, &weights, 1234, 42, &info).unwrap();
        assert_eq!(commit.reveal_round, 42);

        let plaintext = pylon_timelock::decrypt(&commit.ciphertext, &beacon.signature(42)).unwrap();
        let payload = WeightsTlockPayload::decode(&mut &plaintext[..]).unwrap();
        assert_eq!(
            payload,
            WeightsTlockPayload {
                hotkey: hotkey.to_vec(),
                uids: vec![0, 5],
                values: vec![65535, 32768],
                version_key: 1234,
            }
        );
        // The chain decodes the hotkey as a 32-byte AccountId and compares it with the signer.
        assert_eq!(payload.hotkey.len(), 32);

        assert_eq!(
            pylon_timelock::decrypt(&commit.ciphertext, &beacon.signature(43)),
            Err(TimelockError::WrongRound)
        );
    }

    #[test]
    fn commit_errors_are_typed() {
        let weights = ChainWeights {
            uids: vec![1],
            values: vec![],
        };
        let info = BeaconInfo {
            public_key: vec![1, 2, 3],
            genesis_time: 0,
            period: 3,
        };
        assert_eq!(
            build_commit(&[0; 32], &weights, 0, 1, &info),
            Err(CommitError::LengthMismatch { uids: 1, values: 0 })
        );
        let weights = ChainWeights {
            uids: vec![1],
            values: vec![1],
        };
        assert_eq!(
            build_commit(&[0; 32], &weights, 0, 1, &info),
            Err(CommitError::Timelock(TimelockError::BadPublicKey))
        );
    }
}
