//! The devnet's drand beacon: quicknet's round numbering and period, but its own BLS key, so the
//! devnet can publish every round's signature and timelocked commits can be opened on time.
//!
//! `Drand.BeaconConfig` carries the simulated beacon's public key (clients encrypt to it), and
//! every block stores the pulses of the rounds that have passed since the last block in
//! `Drand.Pulses`, `Drand.LastStoredRound` and `Drand.OldestStoredRound`, as the pallet does.

use pylon_timelock::{quicknet_round_at, SimulatedBeacon};
use scale_value::Value;

use crate::state_access::StateAccess;
use crate::storage::with_fields;

/// Most pulses stored by one block. A long pause in manual sealing would otherwise mean
/// thousands of signatures in one block; rounds older than this window are skipped (a real
/// chain also only stores the pulses it received).
const MAX_PULSES_PER_BLOCK: u64 = 64;

pub struct DrandBeacon {
    beacon: SimulatedBeacon,
}

impl std::fmt::Debug for DrandBeacon {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DrandBeacon(0x{})", hex::encode(self.public_key()))
    }
}

impl DrandBeacon {
    /// A beacon whose key derives from `seed` (the same seed gives the same key on every start).
    pub fn from_seed(seed: &str) -> Self {
        Self {
            beacon: SimulatedBeacon::from_seed(seed.as_bytes()),
        }
    }

    /// Compressed G2 public key (96 bytes), as stored in `BeaconConfig.public_key`.
    pub fn public_key(&self) -> [u8; 96] {
        self.beacon.public_key()
    }

    /// The BLS signature of `round`: the key that opens ciphertexts made for that round.
    pub fn signature(&self, round: u64) -> [u8; 48] {
        self.beacon.signature(round)
    }

    /// Put this beacon's public key into `Drand.BeaconConfig` (period and genesis time stay
    /// quicknet's, so round numbers agree with every quicknet-aware client).
    pub fn write_config(&self, state: &mut dyn StateAccess) {
        let config = state
            .read("Drand", "BeaconConfig", &[])
            .expect("BeaconConfig has a default");
        let config = with_fields(
            config,
            vec![("public_key", Value::from_bytes(self.public_key()))],
        );
        state.write("Drand", "BeaconConfig", &[], config);
    }

    /// Store the pulses of every round up to the one current at `now_ms`.
    pub fn store_pulses(&self, state: &mut dyn StateAccess, now_ms: u64) {
        let current = quicknet_round_at(now_ms / 1000);
        let last = read_u64(state, "LastStoredRound");
        if current == 0 || current <= last {
            return;
        }
        let first = if last == 0 {
            current
        } else {
            (last + 1).max(current.saturating_sub(MAX_PULSES_PER_BLOCK - 1))
        };
        for round in first..=current {
            let pulse = Value::named_composite([
                ("round", Value::u128(round.into())),
                (
                    "randomness",
                    Value::from_bytes(self.beacon.randomness(round)),
                ),
                ("signature", Value::from_bytes(self.signature(round))),
            ]);
            state.write("Drand", "Pulses", &[Value::u128(round.into())], pulse);
        }
        state.write("Drand", "LastStoredRound", &[], Value::u128(current.into()));
        if read_u64(state, "OldestStoredRound") == 0 {
            state.write("Drand", "OldestStoredRound", &[], Value::u128(first.into()));
        }
    }
}

fn read_u64(state: &dyn StateAccess, item: &str) -> u64 {
    state
        .read("Drand", item, &[])
        .and_then(|v| v.as_u128())
        .unwrap_or(0) as u64
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::metadata::ChainMetadata;
    use crate::storage::{BlockState, RawState};

    #[test]
    fn pulses_follow_quicknet_rounds_and_open_ciphertexts() {
        let meta = Arc::new(ChainMetadata::finney().unwrap());
        let mut state = BlockState::new(meta, RawState::new(), 1);
        let beacon = DrandBeacon::from_seed("test");
        beacon.write_config(&mut state);
        let now_ms = 1_800_000_000_000;
        let round = quicknet_round_at(now_ms / 1000);
        beacon.store_pulses(&mut state, now_ms);
        beacon.store_pulses(&mut state, now_ms + 9_000);
        let last = read_u64(&state, "LastStoredRound");
        assert_eq!(last, round + 3);
        assert_eq!(read_u64(&state, "OldestStoredRound"), round);

        let ciphertext =
            pylon_timelock::encrypt(b"weights", &beacon.public_key(), round + 2).unwrap();
        let pulse = state
            .read("Drand", "Pulses", &[Value::u128((round + 2).into())])
            .expect("the pulse of every passed round is stored");
        let signature = match pulse.value {
            scale_value::ValueDef::Composite(c) => c
                .into_values()
                .nth(2)
                .map(|s| {
                    let mut out = Vec::new();
                    fn walk(v: &Value, out: &mut Vec<u8>) {
                        match &v.value {
                            scale_value::ValueDef::Primitive(_) => {
                                out.push(v.as_u128().unwrap() as u8)
                            }
                            scale_value::ValueDef::Composite(c) => {
                                c.values().for_each(|x| walk(x, out))
                            }
                            _ => {}
                        }
                    }
                    walk(&s, &mut out);
                    out
                })
                .unwrap(),
            _ => panic!("Pulse is a struct"),
        };
        assert_eq!(
            pylon_timelock::decrypt(&ciphertext, &signature).unwrap(),
            b"weights"
        );
    }
}
