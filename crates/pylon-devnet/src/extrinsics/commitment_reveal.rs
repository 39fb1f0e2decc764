//! The timelocked-commitment reveal: every block, `Commitments.on_initialize` opens the
//! `TimelockEncrypted` fields of the commitments listed in `TimelockedIndex` whose drand round has
//! its pulse stored, following subtensor's `reveal_timelocked_commitments`
//! (pallets/commitments/src/lib.rs):
//! - an entry whose `CommitmentOf` is gone, or that has no timelocked field, leaves the index;
//! - a field whose `Drand.Pulses[reveal_round]` is not stored yet stays, and is tried next block;
//! - an opened field's plaintext is appended to `RevealedCommitments[(netuid, who)]` as
//!   `(bytes, block)` (the newest 10 kept), with `CommitmentRevealed { netuid, who }`; a field that
//!   does not open (or opens to nothing) is dropped (subtensor only logs it);
//! - the commitment keeps its other fields, or is removed (and leaves the index) when none remain.
//!
//! Nothing is rewritten while no field of an entry has its pulse yet.

use std::collections::BTreeSet;

use scale_value::{Composite, Value, ValueDef};

use super::reveal::pulse_signature;
use super::values::{self, account_value, u};
use crate::state_access::StateAccess;

const PALLET: &str = "Commitments";
/// Subtensor keeps this many revealed commitments per (netuid, hotkey).
const MAX_REVEALS: usize = 10;

/// `TimelockedIndex`, a `BoundedBTreeSet<(NetUid, AccountId)>` (a newtype around the set, so the
/// stored value is a composite holding the sequence), as the set it is.
pub type TimelockedIndex = BTreeSet<(u16, [u8; 32])>;

pub fn timelocked_index(state: &dyn StateAccess) -> TimelockedIndex {
    let Some(stored) = state.read(PALLET, "TimelockedIndex", &[]) else {
        return TimelockedIndex::new();
    };
    match &values::unwrap_newtype_seq(&stored).value {
        ValueDef::Composite(c) => c.values().filter_map(index_entry).collect(),
        _ => TimelockedIndex::new(),
    }
}

pub fn write_timelocked_index(state: &mut dyn StateAccess, index: &TimelockedIndex) {
    let entries = index
        .iter()
        .map(|(netuid, who)| Value::unnamed_composite([u(*netuid), account_value(who)]));
    state.write(
        PALLET,
        "TimelockedIndex",
        &[],
        Value::unnamed_composite(entries),
    );
}

pub fn reveal_timelocked_commitments(state: &mut dyn StateAccess, block: u64) {
    let index = timelocked_index(state);
    if index.is_empty() {
        return;
    }
    let mut kept = index.clone();
    kept.retain(|(netuid, who)| reveal_entry(state, *netuid, who, block) == Some(true));
    if kept != index {
        write_timelocked_index(state, &kept);
    }
}

/// An index entry `(netuid, account)`.
fn index_entry(entry: &Value) -> Option<(u16, [u8; 32])> {
    let ValueDef::Composite(c) = &entry.value else {
        return None;
    };
    let f: Vec<&Value> = c.values().collect();
    Some((
        values::uint(f.first()?)? as u16,
        values::account(f.get(1)?)?,
    ))
}

/// Reveal what can be revealed of one commitment; whether it stays in the index (`None`: the
/// commitment is gone).
fn reveal_entry(
    state: &mut dyn StateAccess,
    netuid: u16,
    who: &[u8; 32],
    block: u64,
) -> Option<bool> {
    let key = [u(netuid), account_value(who)];
    let mut registration = state.read(PALLET, "CommitmentOf", &key)?;
    // `fields` is a `BoundedVec<Data>`: a newtype around the sequence.
    let fields: Vec<Value> = match values::field(&registration, "info")
        .and_then(|info| values::field(info, "fields"))
        .map(|f| &values::unwrap_newtype_seq(f).value)
    {
        Some(ValueDef::Composite(c)) => c.values().cloned().collect(),
        _ => Vec::new(),
    };
    let mut remaining = Vec::new();
    let mut revealed = Vec::new();
    let mut saw_timelock = false;
    let mut processed = false;
    for field in fields {
        let Some(("TimelockEncrypted", _)) = values::variant(&field) else {
            remaining.push(field);
            continue;
        };
        saw_timelock = true;
        let round = values::field(&field, "reveal_round").and_then(values::uint);
        let Some(signature) = round.and_then(|r| pulse_signature(state, r as u64)) else {
            remaining.push(field);
            continue;
        };
        processed = true;
        let plaintext = values::field(&field, "encrypted")
            .and_then(values::bytes)
            .and_then(|ciphertext| pylon_timelock::decrypt(&ciphertext, &signature).ok())
            .unwrap_or_default();
        if !plaintext.is_empty() {
            revealed.push(plaintext);
        }
    }
    if !saw_timelock {
        return Some(false);
    }
    if !processed {
        return Some(true);
    }
    if !revealed.is_empty() {
        let mut reveals: Vec<Value> = match state.read(PALLET, "RevealedCommitments", &key) {
            Some(Value {
                value: ValueDef::Composite(c),
                ..
            }) => c.into_values().collect(),
            _ => Vec::new(),
        };
        for bytes in revealed {
            reveals.push(Value::unnamed_composite([
                Value::from_bytes(bytes),
                u(block),
            ]));
            state.deposit_event(
                PALLET,
                "CommitmentRevealed",
                vec![("netuid", u(netuid)), ("who", account_value(who))],
            );
        }
        let excess = reveals.len().saturating_sub(MAX_REVEALS);
        reveals.drain(..excess);
        state.write(
            PALLET,
            "RevealedCommitments",
            &key,
            Value::unnamed_composite(reveals),
        );
    }
    if remaining.is_empty() {
        state.remove(PALLET, "CommitmentOf", &key);
        return Some(false);
    }
    let still_timelocked = remaining
        .iter()
        .any(|f| matches!(values::variant(f), Some(("TimelockEncrypted", _))));
    if let Some(info) = values::field(&registration, "info").cloned() {
        let mut info = info;
        values::set_field(
            &mut info,
            "fields",
            Value {
                value: ValueDef::Composite(Composite::Unnamed(remaining)),
                context: (),
            },
        );
        values::set_field(&mut registration, "info", info);
    }
    state.write(PALLET, "CommitmentOf", &key, registration);
    Some(still_timelocked)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::drand::DrandBeacon;
    use crate::genesis::write_genesis;
    use crate::keys::dev_keypair;
    use crate::metadata::ChainMetadata;
    use crate::scenario::Scenario;
    use crate::storage::{BlockState, RawState};

    const BLOCK: u64 = 1000;
    const NOW_MS: u64 = 1_800_000_000_000;

    struct Harness {
        state: BlockState,
        beacon: DrandBeacon,
        /// The newest round with a stored pulse.
        round: u64,
        alice: [u8; 32],
    }

    fn harness() -> Harness {
        let meta = Arc::new(ChainMetadata::finney().unwrap());
        let scenario = Scenario::builtin_default();
        let mut state = BlockState::new(meta, RawState::new(), BLOCK as u32);
        write_genesis(&mut state, &scenario).unwrap();
        let beacon = DrandBeacon::from_seed(&scenario.drand.seed);
        beacon.store_pulses(&mut state, NOW_MS);
        let round = state
            .read("Drand", "LastStoredRound", &[])
            .as_ref()
            .and_then(values::uint)
            .unwrap() as u64;
        Harness {
            state,
            beacon,
            round,
            alice: dev_keypair("//Alice").unwrap().public,
        }
    }

    impl Harness {
        /// Store Alice's commitment on netuid 1 as `set_commitment` does: `fields`, indexed.
        fn commit(&mut self, fields: Vec<Value>) {
            let key = [u(1u16), account_value(&self.alice)];
            let info = Value::named_composite([("fields", Value::unnamed_composite(fields))]);
            self.state.write(
                PALLET,
                "CommitmentOf",
                &key,
                Value::named_composite([("deposit", u(0u8)), ("block", u(BLOCK)), ("info", info)]),
            );
            let entry = Value::unnamed_composite([u(1u16), account_value(&self.alice)]);
            self.state.write(
                PALLET,
                "TimelockedIndex",
                &[],
                Value::unnamed_composite([entry]),
            );
        }

        fn timelocked(&self, plaintext: &[u8], round: u64) -> Value {
            let ciphertext =
                pylon_timelock::encrypt(plaintext, &self.beacon.public_key(), round).unwrap();
            Value::named_variant(
                "TimelockEncrypted",
                [
                    ("encrypted", Value::from_bytes(ciphertext)),
                    ("reveal_round", u(round)),
                ],
            )
        }

        fn revealed(&self) -> Vec<(Vec<u8>, u64)> {
            let key = [u(1u16), account_value(&self.alice)];
            match self.state.read(PALLET, "RevealedCommitments", &key) {
                Some(Value {
                    value: ValueDef::Composite(c),
                    ..
                }) => c
                    .values()
                    .map(|item| {
                        let ValueDef::Composite(pair) = &item.value else {
                            panic!("{item:?}")
                        };
                        let f: Vec<&Value> = pair.values().collect();
                        (
                            values::bytes(f[0]).unwrap(),
                            values::uint(f[1]).unwrap() as u64,
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            }
        }

        fn indexed(&self) -> usize {
            timelocked_index(&self.state).len()
        }
    }

    #[test]
    fn a_field_whose_round_has_its_pulse_is_revealed_and_the_commitment_removed() {
        let mut h = harness();
        let field = h.timelocked(b"model-v2", h.round);
        h.commit(vec![field]);
        reveal_timelocked_commitments(&mut h.state, BLOCK + 1);
        assert_eq!(h.revealed(), vec![(b"model-v2".to_vec(), BLOCK + 1)]);
        let key = [u(1u16), account_value(&h.alice)];
        assert!(h.state.read(PALLET, "CommitmentOf", &key).is_none());
        assert_eq!(h.indexed(), 0);
    }

    #[test]
    fn a_future_round_waits_and_plain_fields_stay_after_the_reveal() {
        let mut h = harness();
        let later = h.timelocked(b"later", h.round + 5);
        let plain = Value::unnamed_variant("Raw4", [Value::from_bytes(b"keep")]);
        h.commit(vec![plain.clone(), later]);
        reveal_timelocked_commitments(&mut h.state, BLOCK + 1);
        assert!(h.revealed().is_empty());
        assert_eq!(h.indexed(), 1, "still waiting for its round");
        // The round's pulse arrives.
        h.beacon.store_pulses(&mut h.state, NOW_MS + 5 * 3_000);
        reveal_timelocked_commitments(&mut h.state, BLOCK + 2);
        assert_eq!(h.revealed(), vec![(b"later".to_vec(), BLOCK + 2)]);
        let key = [u(1u16), account_value(&h.alice)];
        let kept = h
            .state
            .read(PALLET, "CommitmentOf", &key)
            .expect("the plain field stays");
        let shown = format!("{kept:?}");
        assert!(
            shown.contains("Raw4") && !shown.contains("TimelockEncrypted"),
            "{shown}"
        );
        assert_eq!(h.indexed(), 0);
    }
}
