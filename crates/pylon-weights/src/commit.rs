//! CRv4 commits: the timelocked payload `commit_timelocked_weights` carries, and the drand round
//! it is encrypted to.
//!
//! The payload is subtensor's `WeightsTlockPayload` (pallets/subtensor/src/coinbase/
//! reveal_commits.rs): SCALE of `{ hotkey: Vec<u8>, uids: Vec<u16>, values: Vec<u16>,
//! version_key: u64 }` in that field order. At reveal the chain decodes `hotkey` as its
//! `AccountId` (the 32 raw public-key bytes) and drops the commit unless it equals the signer, so
//! the hotkey must be the identity's public key, not its ss58 text.
//!
//! The reveal round is chosen for the block in which the chain will reveal the commit
//! ([`Schedule::first_reveal_block`]: the chain's own epoch schedule, read at one pinned block),
//! turned into a wall-clock time with the chain's measured block time, then into a drand round
//! by [`pylon_timelock::RoundClock`] with the beacon's genesis time and period from the chain's
//! `Drand.BeaconConfig`. Two rules ([`RevealRule`]):
//! - [`RevealRule::IngestOffset`] (default): the Bittensor SDK 11.3's rule (bittensor-core
//!   0.1.5 `get_encrypted_commit_v2`): the target time is that of the reveal block plus
//!   [`INGEST_BLOCK_OFFSET`] blocks, and the round is `floor((target − genesis) / period)`
//!   (at least 1), the newest round a full period old by then. Nobody can open the commit before
//!   the reveal epoch; the chain holds the pulse a few blocks into it and reveals it then (it
//!   retries every block of the reveal epoch). This works for any tempo and block time the
//!   reveal epoch is longer than a few blocks plus a drand period on: finney (12 s, tempo 360)
//!   as a 1 s-block tempo-30 subnet.
//! - [`RevealRule::PulseDelay`]: the round published [`SUBTENSOR_PULSE_DELAY`] rounds before
//!   the reveal block's time, so the chain holds the pulse when the reveal epoch starts; never a
//!   round already published now (it would open at once, and the pool refuses rounds the chain
//!   already stores). The cost: the commit can be opened up to `24 × period` seconds early.
//!
//! Differences from the SDK, on purpose: genesis time, period and public key come from the
//! chain (so a devnet's simulated beacon works too); the block time is measured, not declared;
//! `now` is an input, so the computation is a pure function.

use parity_scale_codec::{Decode, Encode};
use pylon_timelock::{RoundClock, TimelockError};
use serde::{Deserialize, Serialize};

use crate::convert::ChainWeights;
use crate::epoch::Schedule;

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

impl BeaconInfo {
    /// The beacon's round clock.
    pub fn clock(&self) -> RoundClock {
        RoundClock {
            genesis_time: self.genesis_time,
            period: self.period,
        }
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

/// What the reveal round depends on, all as of one pinned block.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RevealInputs {
    /// The subnet's epoch schedule at the pinned block (the head the commit is built at).
    pub schedule: Schedule,
    /// The subnet's `RevealPeriodEpochs`.
    pub reveal_period_epochs: u64,
    /// The chain's block time in seconds (12 on finney), measured.
    pub block_time_secs: f64,
    /// Unix time the commit is built at, in seconds.
    pub now_unix_secs: f64,
}

/// How the drand round of a commit is chosen (see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevealRule {
    PulseDelay,
    #[default]
    IngestOffset,
}

/// Blocks after the reveal block whose time [`RevealRule::IngestOffset`] targets
/// (bittensor-core's `SECURITY_BLOCK_OFFSET`).
pub const INGEST_BLOCK_OFFSET: u64 = 3;

/// Where and when the chain will reveal a commit made now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevealTarget {
    /// The first block in which the chain tries to reveal the commit.
    pub reveal_block: u64,
    pub reveal_round: u64,
}

/// The block and drand round at which a commit made now will be revealed; `None` when the
/// subnet never reveals (tempo 0).
pub fn reveal_target(
    inputs: &RevealInputs,
    clock: RoundClock,
    rule: RevealRule,
) -> Option<RevealTarget> {
    let head = inputs.schedule.block();
    let reveal_block = inputs
        .schedule
        .first_reveal_block(inputs.reveal_period_epochs)?;
    let time_of = |block: u64| {
        inputs.now_unix_secs + block.saturating_sub(head) as f64 * inputs.block_time_secs
    };
    let reveal_round = match rule {
        RevealRule::IngestOffset => clock
            .settled_round_at(time_of(reveal_block + INGEST_BLOCK_OFFSET))
            .max(1),
        RevealRule::PulseDelay => clock
            .round_at(time_of(reveal_block))
            .saturating_sub(SUBTENSOR_PULSE_DELAY)
            .max(clock.round_at(inputs.now_unix_secs) + 1),
    };
    Some(RevealTarget {
        reveal_block,
        reveal_round,
    })
}

/// What a CRv4 commit was built from and for: kept with its job, so anyone can check the round
/// against another implementation for the same pinned state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CommitPlan {
    pub inputs: RevealInputs,
    pub rule: RevealRule,
    pub target: RevealTarget,
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
    use crate::epoch::EpochState;
    use pylon_timelock::{quicknet, SimulatedBeacon};

    const QUICKNET_GENESIS: u64 = quicknet::GENESIS_TIME;

    fn stateful(
        last_epoch_block: u64,
        pending_epoch_at: u64,
        epoch_index: u64,
        tempo: u16,
        blocks_since_last_step: u64,
        block: u64,
    ) -> Schedule {
        Schedule::Stateful(EpochState {
            block,
            tempo,
            last_epoch_block,
            pending_epoch_at,
            epoch_index,
            blocks_since_last_step,
        })
    }

    fn inputs(schedule: Schedule, period: u64, block_time: f64, now: f64) -> RevealInputs {
        RevealInputs {
            schedule,
            reveal_period_epochs: period,
            block_time_secs: block_time,
            now_unix_secs: now,
        }
    }

    fn target(inputs: &RevealInputs, rule: RevealRule) -> RevealTarget {
        reveal_target(inputs, RoundClock::QUICKNET, rule).unwrap()
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
    fn the_default_rule_is_the_sdks() {
        assert_eq!(RevealRule::default(), RevealRule::IngestOffset);
    }

    #[test]
    fn sdk_rule_by_hand_on_a_stateful_finney_like_subnet() {
        // L 100, index 5, tempo 10, head 100, period 1: reveal block 110 (epoch::tests' table).
        // 12 s blocks, now = genesis + 1 000 000: target = 110 + 3 − 100 = 13 blocks = 156 s
        // → floor(1 000 156 / 3) = 333 385.
        let now = (QUICKNET_GENESIS + 1_000_000) as f64;
        let plan = inputs(stateful(100, 0, 5, 10, 0, 100), 1, 12.0, now);
        assert_eq!(
            target(&plan, RevealRule::IngestOffset),
            RevealTarget {
                reveal_block: 110,
                reveal_round: 333_385
            }
        );
    }

    #[test]
    fn sdk_rule_on_a_one_second_tempo_30_subnet_reveals_inside_the_window() {
        // L 990, index 33, tempo 30, 10 blocks since the step, head 1000, period 1: the commit
        // (block 1001) is filed under 33 and revealed from the fire at 1020 until the next one
        // at 1050. 1 s blocks, now = genesis + 3000.5: target = 23 blocks = 23 s → floor(3023.5
        // / 3) = 1007, published at genesis + 3018 and a full period old at genesis + 3021,
        // i.e. about block 1020.5: inside [1020, 1050).
        let now = QUICKNET_GENESIS as f64 + 3000.5;
        let plan = inputs(stateful(990, 0, 33, 30, 10, 1000), 1, 1.0, now);
        let sdk = target(&plan, RevealRule::IngestOffset);
        assert_eq!(
            sdk,
            RevealTarget {
                reveal_block: 1020,
                reveal_round: 1007
            }
        );
        let settled_at = RoundClock::QUICKNET.published_at(sdk.reveal_round) as f64 + 3.0;
        let block_when_settled = 1000.0 + (settled_at - now) / 1.0;
        assert!(
            (1020.0..1050.0).contains(&block_when_settled),
            "{block_when_settled}"
        );
        // The pulse-delay rule never picks a round already published: round_at(now) = 1001.
        assert_eq!(target(&plan, RevealRule::PulseDelay).reveal_round, 1002);
    }

    #[test]
    fn pulse_delay_by_hand_on_a_tempo_360_subnet() {
        // L 0, tempo 360, head 5, period 1: reveal block 360, 355 blocks × 12 s = 4260 s;
        // now = genesis + 1 000 000 → round published then: floor(1 004 260 / 3) + 1 = 334 754,
        // minus 24 = 334 730.
        let now = (QUICKNET_GENESIS + 1_000_000) as f64;
        let plan = inputs(stateful(0, 0, 0, 360, 5, 5), 1, 12.0, now);
        assert_eq!(
            target(&plan, RevealRule::PulseDelay),
            RevealTarget {
                reveal_block: 360,
                reveal_round: 334_730
            }
        );
        // The SDK's: 358 blocks = 4296 s → floor(1 004 296 / 3) = 334 765.
        assert_eq!(
            target(&plan, RevealRule::IngestOffset).reveal_round,
            334_765
        );
    }

    #[test]
    fn sdk_rule_on_the_fixed_grid() {
        // tempo 100, netuid 1, head 1000, period 2: reveal block 1109; target 1112 = 112 blocks
        // = 1344 s; now = genesis + 1 000 000 → floor(1 001 344 / 3) = 333 781.
        let now = (QUICKNET_GENESIS + 1_000_000) as f64;
        let fixed = Schedule::Fixed {
            netuid: 1,
            tempo: 100,
            block: 1000,
        };
        assert_eq!(
            target(&inputs(fixed, 2, 12.0, now), RevealRule::IngestOffset),
            RevealTarget {
                reveal_block: 1109,
                reveal_round: 333_781
            }
        );
    }

    #[test]
    fn rounds_before_beacon_genesis_and_tempo_zero() {
        let plan = inputs(stateful(0, 0, 0, 10, 0, 9), 1, 1.0, 0.0);
        let clock = RoundClock {
            genesis_time: 1_000_000,
            period: 3,
        };
        // Before genesis the SDK clamps to round 1; the pulse-delay rule picks the first round.
        for rule in [RevealRule::IngestOffset, RevealRule::PulseDelay] {
            assert_eq!(
                reveal_target(&plan, clock, rule).unwrap().reveal_round,
                1,
                "{rule:?}"
            );
        }
        let never = inputs(stateful(0, 0, 0, 0, 0, 9), 1, 1.0, 0.0);
        assert_eq!(reveal_target(&never, clock, RevealRule::IngestOffset), None);
    }

    #[test]
    fn a_commit_plan_round_trips_through_json() {
        let plan = CommitPlan {
            inputs: inputs(stateful(100, 0, 5, 10, 0, 100), 1, 0.25, 1.5e9),
            rule: RevealRule::IngestOffset,
            target: RevealTarget {
                reveal_block: 110,
                reveal_round: 7,
            },
        };
        let json = serde_json::to_string(&plan).unwrap();
        assert!(json.contains(r#""rule":"ingest-offset""#), "{json}");
        assert_eq!(serde_json::from_str::<CommitPlan>(&json).unwrap(), plan);
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
