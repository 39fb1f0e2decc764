//! The auto-reveal against a genesis state: real ciphertexts made with `pylon_timelock` for the
//! devnet beacon, pulses stored by the beacon, and `Weights` / events read back by name.

use std::sync::Arc;

use parity_scale_codec::Encode;
use scale_value::Value;

use super::*;
use crate::drand::DrandBeacon;
use crate::genesis::write_genesis;
use crate::keys::dev_keypair;
use crate::metadata::ChainMetadata;
use crate::scenario::Scenario;
use crate::storage::{BlockState, RawState};

/// The spec-343 runtime and its grid schedule (the stateful one is tested through the chain in
/// `extrinsics/tests.rs`). netuid 2: tempo 10, reveal period 1, so commits of epoch 91
/// (blocks 998..=1008) are revealed in epoch 92 (blocks 1009..=1019) and expire at block 1020.
const SCENARIO: &str = r#"
[[subnets]]
netuid = 2
[subnets.hyperparameters]
tempo = 10
commit_reveal_weights_enabled = true
reveal_period_epochs = 1
weights_rate_limit = 0
min_allowed_weights = 1
[[subnets.neurons]]
hotkey = "//Alice"
coldkey = "//Bob"
stake = 1000000000
validator_permit = true
[[subnets.neurons]]
hotkey = "//Charlie"
coldkey = "//Bob"
"#;

const COMMIT_EPOCH: u64 = 91;
const COMMIT_BLOCK: u64 = 1000;
const FIRST_REVEAL_BLOCK: u64 = 1009;
const LAST_REVEAL_BLOCK: u64 = 1019;
const NOW_MS: u64 = 1_800_000_000_000;

struct Harness {
    state: BlockState,
    beacon: DrandBeacon,
    /// The newest round with a stored pulse.
    round: u64,
}

fn harness() -> Harness {
    let meta = Arc::new(ChainMetadata::finney_343().unwrap());
    let scenario: Scenario = toml::from_str(SCENARIO).unwrap();
    let mut state = BlockState::new(meta, RawState::new(), COMMIT_BLOCK as u32);
    write_genesis(&mut state, &scenario).unwrap();
    let beacon = DrandBeacon::from_seed(&scenario.drand.seed);
    beacon.store_pulses(&mut state, NOW_MS);
    let round = read_uint_drand(&state, "LastStoredRound");
    Harness {
        state,
        beacon,
        round,
    }
}

fn read_uint_drand(state: &dyn StateAccess, item: &str) -> u64 {
    state
        .read("Drand", item, &[])
        .as_ref()
        .and_then(values::uint)
        .unwrap() as u64
}

fn alice() -> [u8; 32] {
    dev_keypair("//Alice").unwrap().public
}

fn payload(hotkey: &[u8; 32], uids: &[u16], weights: &[u16], version_key: u64) -> Vec<u8> {
    (
        hotkey.to_vec(),
        uids.to_vec(),
        weights.to_vec(),
        version_key,
    )
        .encode()
}

impl Harness {
    fn encrypt(&self, plaintext: &[u8], round: u64) -> Vec<u8> {
        pylon_timelock::encrypt(plaintext, &self.beacon.public_key(), round).unwrap()
    }

    /// Store a commit as `commit_timelocked_weights` does (appended to the epoch's list).
    fn commit(&mut self, who: &[u8; 32], ciphertext: Vec<u8>, round: u64) {
        self.commit_at(2, who, ciphertext, round);
    }

    fn commit_at(&mut self, netuid_index: u16, who: &[u8; 32], ciphertext: Vec<u8>, round: u64) {
        let key = [u(netuid_index), u(COMMIT_EPOCH)];
        let mut items = match self.state.read(SUBTENSOR, COMMITS, &key).map(|v| v.value) {
            Some(scale_value::ValueDef::Composite(c)) => c.into_values().collect(),
            _ => Vec::new(),
        };
        items.push(Value::unnamed_composite([
            account_value(who),
            u(COMMIT_BLOCK),
            Value::from_bytes(ciphertext),
            u(round),
        ]));
        self.state
            .write(SUBTENSOR, COMMITS, &key, Value::unnamed_composite(items));
    }

    fn pending_commits(&self) -> usize {
        self.state
            .iter_prefix(SUBTENSOR, COMMITS, &[u(2u16)])
            .iter()
            .map(|(_, list)| match &list.value {
                scale_value::ValueDef::Composite(c) => c.len(),
                _ => 0,
            })
            .sum()
    }

    fn weights_row(&self, uid: u16) -> Vec<(u128, u128)> {
        self.weights_row_at(2, uid)
    }

    fn weights_row_at(&self, netuid_index: u16, uid: u16) -> Vec<(u128, u128)> {
        let row = self
            .state
            .read(SUBTENSOR, "Weights", &[u(netuid_index), u(uid)])
            .unwrap();
        let scale_value::ValueDef::Composite(pairs) = row.value else {
            panic!("Weights holds a list")
        };
        pairs
            .into_values()
            .map(|pair| {
                let n = values::uints(&pair).unwrap();
                (n[0], n[1])
            })
            .collect()
    }

    /// (pallet, event) names of the events recorded so far.
    fn event_names(&mut self) -> Vec<(String, String)> {
        self.state.flush_events();
        let Some(scale_value::ValueDef::Composite(records)) =
            self.state.read("System", "Events", &[]).map(|v| v.value)
        else {
            return Vec::new();
        };
        records
            .into_values()
            .filter_map(|record| {
                let (pallet, inner) = values::variant(values::field(&record, "event")?)?;
                let (event, _) = values::variant(inner.values().next()?)?;
                Some((pallet.to_owned(), event.to_owned()))
            })
            .collect()
    }

    fn revealed_events(&mut self) -> usize {
        self.event_names()
            .iter()
            .filter(|(p, e)| p == SUBTENSOR && e == "TimelockedWeightsRevealed")
            .count()
    }
}

#[test]
fn a_commit_opens_in_its_reveal_epoch_and_lands_in_weights() {
    let mut h = harness();
    let alice = alice();
    let ciphertext = h.encrypt(&payload(&alice, &[0, 1], &[1, 3], 0), h.round);
    h.commit(&alice, ciphertext, h.round);

    // Still the commit epoch: nothing is opened even though the pulse is there.
    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK - 1);
    assert_eq!(h.pending_commits(), 1);
    assert!(h.weights_row(0).is_empty());

    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert_eq!(h.weights_row(0), vec![(0, 21845), (1, 65535)]);
    assert_eq!(h.pending_commits(), 0);
    assert_eq!(h.revealed_events(), 1);
}

#[test]
fn a_commit_for_another_key_or_round_is_dropped_unapplied() {
    let mut h = harness();
    let alice = alice();
    let plaintext = payload(&alice, &[0], &[5], 0);
    let other_key = DrandBeacon::from_seed("another beacon").public_key();
    let foreign = pylon_timelock::encrypt(&plaintext, &other_key, h.round).unwrap();
    h.commit(&alice, foreign, h.round);
    // Made for the next round but claiming the current one (whose pulse is stored).
    let early = h.encrypt(&plaintext, h.round + 1);
    h.commit(&alice, early, h.round);
    h.commit(&alice, b"not a ciphertext".to_vec(), h.round);

    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert!(h.weights_row(0).is_empty());
    assert_eq!(h.pending_commits(), 0, "undecryptable commits are removed");
    assert_eq!(h.revealed_events(), 0);
}

#[test]
fn a_payload_naming_another_hotkey_is_dropped_and_the_legacy_payload_is_applied() {
    let mut h = harness();
    let alice = alice();
    let charlie = dev_keypair("//Charlie").unwrap().public;
    let impostor = h.encrypt(&payload(&charlie, &[1], &[7], 0), h.round);
    h.commit(&alice, impostor, h.round);
    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert!(h.weights_row(0).is_empty());
    assert_eq!(h.pending_commits(), 0);

    let mut h = harness();
    let legacy = (vec![0u16, 1], vec![2u16, 2], 0u64).encode();
    let ciphertext = h.encrypt(&legacy, h.round);
    h.commit(&alice, ciphertext, h.round);
    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert_eq!(h.weights_row(0), vec![(0, 65535), (1, 65535)]);
}

#[test]
fn a_commit_waits_for_its_pulse_within_the_reveal_epoch_then_expires() {
    let mut h = harness();
    let alice = alice();
    let later = h.round + 2;
    let ciphertext = h.encrypt(&payload(&alice, &[1], &[9], 0), later);
    h.commit(&alice, ciphertext.clone(), later);

    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert_eq!(
        h.pending_commits(),
        1,
        "kept until its round's pulse arrives"
    );
    assert!(h.weights_row(0).is_empty());

    h.beacon.store_pulses(&mut h.state, NOW_MS + 6_000);
    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK + 1);
    assert_eq!(h.weights_row(0), vec![(1, 65535)]);
    assert_eq!(h.pending_commits(), 0);

    // A pulse that never comes before the reveal epoch ends: the commit expires unrevealed.
    let mut h = harness();
    let never = h.round + 1000;
    let ciphertext = h.encrypt(&payload(&alice, &[1], &[9], 0), never);
    h.commit(&alice, ciphertext, never);
    reveal_timelocked_commits(&mut h.state, LAST_REVEAL_BLOCK);
    assert_eq!(h.pending_commits(), 1);
    reveal_timelocked_commits(&mut h.state, LAST_REVEAL_BLOCK + 1);
    assert_eq!(h.pending_commits(), 0);
    assert!(h.weights_row(0).is_empty());
}

#[test]
fn a_commit_breaking_a_weights_rule_is_dropped() {
    let mut h = harness();
    let alice = alice();
    // Duplicate uids: subtensor's set-weights check refuses it at reveal time.
    let ciphertext = h.encrypt(&payload(&alice, &[1, 1], &[9, 9], 0), h.round);
    h.commit(&alice, ciphertext, h.round);
    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert!(h.weights_row(0).is_empty());
    assert_eq!(h.pending_commits(), 0);
    assert_eq!(h.revealed_events(), 0);
}

#[test]
fn a_mechanism_commit_is_revealed_into_its_mechanism_weights() {
    let mut h = harness();
    let alice = alice();
    h.state
        .write(SUBTENSOR, "MechanismCountCurrent", &[u(2u16)], u(2u8));
    let mechanism_index = storage_index(2, 1);
    let ciphertext = h.encrypt(&payload(&alice, &[1], &[4], 0), h.round);
    h.commit_at(mechanism_index, &alice, ciphertext, h.round);
    reveal_timelocked_commits(&mut h.state, FIRST_REVEAL_BLOCK);
    assert_eq!(h.weights_row_at(mechanism_index, 0), vec![(1, 65535)]);
    assert!(h.weights_row(0).is_empty(), "mechanism 0 is untouched");
    assert_eq!(h.revealed_events(), 1);
}
