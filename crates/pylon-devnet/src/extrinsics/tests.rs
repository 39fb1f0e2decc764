//! Every rule, checked by applying a signed extrinsic to a genesis state and reading the module
//! error back out of `System.Events` through the metadata.

use std::sync::Arc;

use scale_value::Value;

use super::*;
use crate::codec;
use crate::genesis::write_genesis;
use crate::keys::{dev_keypair, DevKeypair};
use crate::scenario::Scenario;
use crate::storage::{zero_value, BlockState, Phase, RawState};

const BLOCK: u32 = 1000;

const SCENARIO: &str = r#"
accounts = ["//Dave"]

[[subnets]]
netuid = 1
[subnets.hyperparameters]
tempo = 100
weights_version_key = 5
weights_rate_limit = 10
min_allowed_weights = 2
max_weights_limit = 40000
serving_rate_limit = 0
burn = 1000000000
[[subnets.neurons]]
hotkey = "//Alice"
coldkey = "//Bob"
stake = 1000000000
validator_permit = true
[[subnets.neurons]]
hotkey = "//Charlie"
coldkey = "//Bob"
[[subnets.neurons]]
hotkey = "//sn1/uid2"
coldkey = "//Bob"
[[subnets.neurons]]
hotkey = "//sn1/uid3"
coldkey = "//Bob"

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

struct Harness {
    meta: Arc<ChainMetadata>,
    state: BlockState,
    ctx: ApplyContext,
}

fn key(uri: &str) -> DevKeypair {
    dev_keypair(uri).unwrap()
}

fn u(n: impl Into<u128>) -> Value {
    Value::u128(n.into())
}

fn list(items: &[u16]) -> Value {
    Value::unnamed_composite(items.iter().map(|n| u(*n)))
}

fn harness() -> Harness {
    harness_on(ChainMetadata::finney().unwrap())
}

/// The spec-343 runtime: the grid epoch schedule and the 343 extension.
fn harness_343() -> Harness {
    harness_on(ChainMetadata::finney_343().unwrap())
}

fn harness_on(meta: ChainMetadata) -> Harness {
    let meta = Arc::new(meta);
    let scenario: Scenario = toml::from_str(SCENARIO).unwrap();
    let mut state = BlockState::new(meta.clone(), RawState::new(), BLOCK);
    write_genesis(&mut state, &scenario).unwrap();
    Harness {
        meta,
        state,
        ctx: ApplyContext {
            block_number: BLOCK,
            extrinsic_index: 1,
            genesis_hash: [1; 32],
            parent_hash: [2; 32],
            spec_version: 343,
            transaction_version: 1,
            now_ms: 0,
        },
    }
}

/// How the test signs: which era, which nonce, which genesis it believes in.
#[derive(Clone, Copy)]
struct Signing {
    nonce: u32,
    /// (period, phase) of a mortal era; `None` = immortal.
    era: Option<(u64, u64)>,
    genesis: [u8; 32],
}

impl Harness {
    fn signing(&self, who: &DevKeypair) -> Signing {
        Signing {
            nonce: checks::account_state(&self.state, &who.public).nonce,
            era: None,
            genesis: self.ctx.genesis_hash,
        }
    }

    /// A V4 signed extrinsic built from the metadata's extension list, independently of the
    /// decoder under test.
    fn extrinsic(
        &self,
        signer: &DevKeypair,
        address: [u8; 32],
        pallet: &str,
        call: Value,
        s: Signing,
    ) -> Vec<u8> {
        let types = self.meta.types();
        let xt = &self.meta.v15().extrinsic;
        let call_bytes = codec::encode(
            &Value::unnamed_variant(pallet, [call]),
            self.meta.call_enum_type(),
            types,
        )
        .unwrap();
        let era_bytes: Vec<u8> = match s.era {
            None => vec![0],
            Some((period, phase)) => {
                let low = (period.trailing_zeros() - 1).clamp(1, 15) as u16;
                let encoded = low | ((phase as u16) << 4);
                encoded.to_le_bytes().to_vec()
            }
        };
        let mut extra = Vec::new();
        let mut additional = Vec::new();
        for ext in &xt.signed_extensions {
            let explicit = match ext.identifier.as_str() {
                "CheckMortality" => {
                    extra.extend_from_slice(&era_bytes);
                    None
                }
                "CheckNonce" => Some(Value::unnamed_composite([u(s.nonce)])),
                "CheckMetadataHash" => Some(Value::named_composite([(
                    "mode",
                    Value::unnamed_variant("Disabled", []),
                )])),
                _ => Some(zero_value(types, ext.ty.id)),
            };
            if let Some(v) = explicit {
                extra.extend(codec::encode(&v, ext.ty.id, types).unwrap());
            }
            let implicit = match ext.identifier.as_str() {
                "CheckSpecVersion" => u(self.ctx.spec_version),
                "CheckTxVersion" => u(1u32),
                "CheckGenesis" => Value::from_bytes(s.genesis),
                "CheckMortality" => Value::from_bytes(match s.era {
                    None => s.genesis,
                    Some(_) => self.ctx.parent_hash,
                }),
                "CheckMetadataHash" => Value::unnamed_variant("None", []),
                _ => zero_value(types, ext.additional_signed.id),
            };
            additional.extend(codec::encode(&implicit, ext.additional_signed.id, types).unwrap());
        }
        let mut payload = call_bytes.clone();
        payload.extend(&extra);
        payload.extend(&additional);
        if payload.len() > 256 {
            payload = sp_crypto_hashing::blake2_256(&payload).to_vec();
        }
        let signature = signer.sign(&payload);
        let mut body = vec![0x84u8];
        body.extend(
            codec::encode(
                &Value::unnamed_variant("Id", [Value::from_bytes(address)]),
                xt.address_ty.id,
                types,
            )
            .unwrap(),
        );
        body.extend(
            codec::encode(
                &Value::unnamed_variant("Sr25519", [Value::from_bytes(signature)]),
                xt.signature_ty.id,
                types,
            )
            .unwrap(),
        );
        body.extend(extra);
        body.extend(call_bytes);
        let mut out =
            parity_scale_codec::Encode::encode(&parity_scale_codec::Compact(body.len() as u32));
        out.extend(body);
        out
    }

    fn submit_as(
        &mut self,
        uri: &str,
        pallet: &str,
        call: Value,
    ) -> Result<ApplyOutcome, TransactionInvalid> {
        let who = key(uri);
        let s = self.signing(&who);
        let bytes = self.extrinsic(&who, who.public, pallet, call, s);
        self.apply_bytes(&bytes)
    }

    fn apply_bytes(&mut self, bytes: &[u8]) -> Result<ApplyOutcome, TransactionInvalid> {
        self.state
            .set_phase(Phase::ApplyExtrinsic(self.ctx.extrinsic_index));
        let meta = self.meta.clone();
        apply_detailed(&meta, &mut self.state, bytes, &self.ctx)
    }

    /// Apply and return the failed dispatch's module error, resolved through the metadata
    /// from the `System.ExtrinsicFailed` event.
    fn module_error(&mut self, uri: &str, pallet: &str, call: Value) -> String {
        let outcome = self
            .submit_as(uri, pallet, call)
            .expect("transaction is valid");
        assert!(outcome.result.is_err(), "dispatch unexpectedly succeeded");
        let events = self.events();
        let failed = events
            .iter()
            .rev()
            .find_map(|e| {
                let event = values::field(e, "event")?;
                let (pallet, inner) = values::variant(event)?;
                let inner = inner.values().next()?;
                let (name, _) = values::variant(inner)?;
                (pallet == "System" && name == "ExtrinsicFailed").then(|| inner.clone())
            })
            .expect("an ExtrinsicFailed event");
        let error = values::field(&failed, "dispatch_error").unwrap();
        let (kind, fields) = values::variant(error).unwrap();
        assert_eq!(kind, "Module");
        let module = fields.values().next().unwrap();
        let index = values::field(module, "index")
            .and_then(values::uint)
            .unwrap() as u8;
        let bytes = values::field(module, "error")
            .and_then(values::bytes)
            .unwrap();
        let (pallet, name) = module_error_name(&self.meta, index, bytes[0]).unwrap();
        format!("{pallet}.{name}")
    }

    /// `System.Events` as they would be stored now (flushes the recorded events).
    fn events(&mut self) -> Vec<Value> {
        self.state.flush_events();
        match self.state.read("System", "Events", &[]).map(|v| v.value) {
            Some(scale_value::ValueDef::Composite(c)) => c.into_values().collect(),
            _ => Vec::new(),
        }
    }

    fn read(&self, pallet: &str, item: &str, keys: &[Value]) -> Option<Value> {
        self.state.read(pallet, item, keys)
    }
}

fn set_weights(netuid: u16, uids: &[u16], weights: &[u16], version_key: u64) -> Value {
    Value::named_variant(
        "set_weights",
        [
            ("netuid", u(netuid)),
            ("dests", list(uids)),
            ("weights", list(weights)),
            ("version_key", u(version_key)),
        ],
    )
}

const SM: &str = "SubtensorModule";

#[test]
fn set_weights_stores_max_upscaled_weights_and_last_update() {
    let mut h = harness();
    let outcome = h
        .submit_as(
            "//Alice",
            SM,
            set_weights(1, &[1, 2, 3], &[100, 300, 200], 5),
        )
        .unwrap();
    assert_eq!(outcome.result, Ok(()));
    let stored = h.read(SM, "Weights", &[u(1u16), u(0u16)]).unwrap();
    let expected = Value::unnamed_composite([
        Value::unnamed_composite([u(1u16), u(21845u16)]),
        Value::unnamed_composite([u(2u16), u(65535u16)]),
        Value::unnamed_composite([u(3u16), u(43690u16)]),
    ]);
    assert_eq!(stored, expected);
    let last = h
        .read(SM, "LastUpdate", &[u(1u16)])
        .and_then(|v| values::uints(&v))
        .unwrap();
    assert_eq!(last[0], u128::from(BLOCK));
    let nonce = checks::account_state(&h.state, &key("//Alice").public).nonce;
    assert_eq!(nonce, 1);
    let names: Vec<String> = h
        .events()
        .iter()
        .filter_map(|e| {
            let (p, inner) = values::variant(values::field(e, "event")?)?;
            let (n, _) = values::variant(inner.values().next()?)?;
            Some(format!("{p}.{n}"))
        })
        .collect();
    assert_eq!(
        names,
        [
            "SubtensorModule.WeightsSet",
            "TransactionPayment.TransactionFeePaid",
            "System.ExtrinsicSuccess"
        ]
    );
}

#[test]
fn weights_rules_fail_with_subtensor_module_errors() {
    let cases: Vec<(&str, Value, &str)> = vec![
        (
            "//Dave",
            set_weights(1, &[1, 2], &[1, 1], 5),
            "HotKeyNotRegisteredInSubNet",
        ),
        (
            "//Alice",
            set_weights(1, &[1, 2], &[1, 1], 4),
            "IncorrectWeightVersionKey",
        ),
        (
            "//Alice",
            set_weights(2, &[1], &[1], 0),
            "CommitRevealEnabled",
        ),
        (
            "//Alice",
            set_weights(1, &[1], &[1], 5),
            "WeightVecLengthIsLow",
        ),
        (
            "//Alice",
            set_weights(1, &[1, 2], &[65535, 1], 5),
            "MaxWeightExceeded",
        ),
        (
            "//Alice",
            set_weights(1, &[1, 1], &[1, 1], 5),
            "DuplicateUids",
        ),
        (
            "//Alice",
            set_weights(1, &[1, 2], &[1], 5),
            "WeightVecNotEqualSize",
        ),
        (
            "//Alice",
            set_weights(1, &[1, 99], &[1, 1], 5),
            "UidVecContainInvalidOne",
        ),
        (
            "//Alice",
            // `CommitRevealWeightsEnabled` defaults to true: a missing subnet fails that first.
            set_weights(9, &[1, 2], &[1, 1], 5),
            "CommitRevealEnabled",
        ),
        (
            "//Alice",
            set_weights(1, &[1, 2, 3, 0, 1], &[1; 5], 5),
            "UidsLengthExceedUidsInSubNet",
        ),
        (
            "//Charlie",
            set_weights(1, &[0, 2], &[1, 1], 5),
            "NeuronNoValidatorPermit",
        ),
        (
            "//Alice",
            Value::named_variant(
                "set_mechanism_weights",
                [
                    ("netuid", u(1u16)),
                    ("mecid", u(1u8)),
                    ("dests", list(&[1, 2])),
                    ("weights", list(&[1, 1])),
                    ("version_key", u(5u64)),
                ],
            ),
            "MechanismDoesNotExist",
        ),
    ];
    for (who, call, expected) in cases {
        let mut h = harness();
        assert_eq!(
            h.module_error(who, SM, call),
            format!("SubtensorModule.{expected}"),
            "{expected}"
        );
        // The nonce is spent even though dispatch failed; no weights were written.
        assert_eq!(checks::account_state(&h.state, &key(who).public).nonce, 1);
        assert!(h.state.iter_prefix(SM, "Weights", &[]).is_empty());
    }
}

#[test]
fn setting_weights_again_within_the_rate_limit_is_too_fast() {
    // Spec 343 fails it in dispatch; 424's pool refuses it (spec_424_refuses_weights_…).
    let mut h = harness_343();
    assert_eq!(
        h.submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
            .unwrap()
            .result,
        Ok(())
    );
    h.ctx.block_number += 9;
    h.state = BlockState::new(h.meta.clone(), h.state.raw.clone(), h.ctx.block_number);
    assert_eq!(
        h.module_error("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5)),
        "SubtensorModule.SettingWeightsTooFast"
    );
    h.ctx.block_number += 1;
    h.state = BlockState::new(h.meta.clone(), h.state.raw.clone(), h.ctx.block_number);
    assert_eq!(
        h.submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
            .unwrap()
            .result,
        Ok(())
    );
}

#[test]
fn self_weight_needs_no_permit_and_ignores_limits() {
    let mut h = harness();
    let outcome = h
        .submit_as("//Charlie", SM, set_weights(1, &[1], &[7], 5))
        .unwrap();
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(
        h.read(SM, "Weights", &[u(1u16), u(1u16)]).unwrap(),
        Value::unnamed_composite([Value::unnamed_composite([u(1u16), u(65535u16)])])
    );
}

fn timelocked(netuid: u16, round: u64, version: u16) -> Value {
    Value::named_variant(
        "commit_timelocked_weights",
        [
            ("netuid", u(netuid)),
            ("commit", Value::from_bytes([9u8; 40])),
            ("reveal_round", u(round)),
            ("commit_reveal_version", u(version)),
        ],
    )
}

#[test]
fn timelocked_commit_is_stored_per_epoch_with_its_reveal_round() {
    // The grid's epoch index; 424 keys commits by SubnetEpochIndex (a_crv4_commit_of_epoch_…).
    let mut h = harness_343();
    let outcome = h.submit_as("//Alice", SM, timelocked(2, 777, 4)).unwrap();
    assert_eq!(outcome.result, Ok(()));
    // tempo 10, netuid 2: epoch = (1000 + 3) / 11 = 91 (block 1000 does not run the epoch).
    let commits = h
        .read(SM, "TimelockedWeightCommits", &[u(2u16), u(91u64)])
        .unwrap();
    let scale_value::ValueDef::Composite(items) = &commits.value else {
        panic!("a list of commits")
    };
    assert_eq!(items.len(), 1);
    let item = items.values().next().unwrap();
    let scale_value::ValueDef::Composite(fields) = &item.value else {
        panic!("a commit tuple")
    };
    let f: Vec<&Value> = fields.values().collect();
    assert_eq!(values::account(f[0]), Some(key("//Alice").public));
    assert_eq!(values::uint(f[1]), Some(u128::from(BLOCK)));
    assert_eq!(values::bytes(f[2]), Some(vec![9u8; 40]));
    assert_eq!(values::uint(f[3]), Some(777));

    let mut h = harness_343();
    assert_eq!(
        h.module_error("//Alice", SM, timelocked(2, 777, 3)),
        "SubtensorModule.IncorrectCommitRevealVersion"
    );
    let mut h = harness_343();
    assert_eq!(
        h.module_error("//Alice", SM, timelocked(1, 777, 4)),
        "SubtensorModule.CommitRevealDisabled"
    );
    let mut h = harness_343();
    assert_eq!(
        h.module_error("//Dave", SM, timelocked(2, 777, 4)),
        "SubtensorModule.HotKeyNotRegisteredInSubNet"
    );
}

#[test]
fn timelocked_commit_for_a_past_round_is_refused_by_the_pool() {
    let mut h = harness();
    h.state.write("Drand", "LastStoredRound", &[], u(1000u64));
    let err = h
        .submit_as("//Alice", SM, timelocked(2, 999, 4))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(15));
}

#[test]
fn hash_commit_then_reveal_in_the_reveal_epoch_sets_weights() {
    // The grid's reveal window; 424's is a_hash_commit_is_tagged_with_its_epoch_….
    let mut h = harness_343();
    let alice = key("//Alice").public;
    let (uids, weights, salt) = ([0u16, 1], [10u16, 20], [1u16, 2, 3]);
    let hash = dispatch::weights::commit_hash(&alice, 2, &uids, &weights, &salt, 0);
    let commit = Value::named_variant(
        "commit_weights",
        [
            ("netuid", u(2u16)),
            ("commit_hash", Value::from_bytes(hash)),
        ],
    );
    assert_eq!(h.submit_as("//Alice", SM, commit).unwrap().result, Ok(()));
    let reveal = Value::named_variant(
        "reveal_weights",
        [
            ("netuid", u(2u16)),
            ("uids", list(&uids)),
            ("values", list(&weights)),
            ("salt", list(&salt)),
            ("version_key", u(0u64)),
        ],
    );
    // Same epoch: the extension refuses it (CommitBlockNotInRevealRange).
    let too_early = h.submit_as("//Alice", SM, reveal.clone()).unwrap_err();
    assert_eq!(too_early, TransactionInvalid::Custom(17));
    // Next epoch (tempo 10 → 11 blocks later).
    h.ctx.block_number += 11;
    h.state = BlockState::new(h.meta.clone(), h.state.raw.clone(), h.ctx.block_number);
    assert_eq!(h.submit_as("//Alice", SM, reveal).unwrap().result, Ok(()));
    assert_eq!(
        h.read(SM, "Weights", &[u(2u16), u(0u16)]).unwrap(),
        Value::unnamed_composite([
            Value::unnamed_composite([u(0u16), u(32768u16)]),
            Value::unnamed_composite([u(1u16), u(65535u16)]),
        ])
    );
    assert!(h
        .read(SM, "WeightCommits", &[u(2u16), Value::from_bytes(alice)])
        .is_none());
    // A reveal nobody committed to is refused by the pool (CommitNotFound).
    let unknown = Value::named_variant(
        "reveal_weights",
        [
            ("netuid", u(2u16)),
            ("uids", list(&[0])),
            ("values", list(&[1])),
            ("salt", list(&[9])),
            ("version_key", u(0u64)),
        ],
    );
    assert_eq!(
        h.submit_as("//Alice", SM, unknown).unwrap_err(),
        TransactionInvalid::Custom(16)
    );
}

#[test]
fn commit_weights_on_a_subnet_without_commit_reveal_fails() {
    let mut h = harness();
    let commit = Value::named_variant(
        "commit_weights",
        [
            ("netuid", u(1u16)),
            ("commit_hash", Value::from_bytes([3u8; 32])),
        ],
    );
    assert_eq!(
        h.module_error("//Alice", SM, commit),
        "SubtensorModule.CommitRevealDisabled"
    );
}

fn axon(call: &str, port: u16, extra: Option<Vec<u8>>) -> Value {
    let mut fields = vec![
        ("netuid", u(1u16)),
        ("version", u(7u32)),
        ("ip", u(0x0a00_0001u32)),
        ("port", u(port)),
        ("ip_type", u(4u8)),
        ("protocol", u(4u8)),
        ("placeholder1", u(0u8)),
        ("placeholder2", u(0u8)),
    ];
    if let Some(cert) = extra {
        fields.push(("certificate", Value::from_bytes(cert)));
    }
    Value::named_variant(call, fields)
}

#[test]
fn serve_axon_tls_writes_axon_and_certificate() {
    let mut h = harness();
    let mut cert = vec![1u8];
    cert.extend([0xabu8; 32]);
    let outcome = h
        .submit_as("//Alice", SM, axon("serve_axon_tls", 8091, Some(cert)))
        .unwrap();
    assert_eq!(outcome.result, Ok(()));
    let alice = Value::from_bytes(key("//Alice").public);
    let stored = h.read(SM, "Axons", &[u(1u16), alice.clone()]).unwrap();
    assert_eq!(
        values::field(&stored, "port").and_then(values::uint),
        Some(8091)
    );
    assert_eq!(
        values::field(&stored, "block").and_then(values::uint),
        Some(u128::from(BLOCK))
    );
    let cert = h.read(SM, "NeuronCertificates", &[u(1u16), alice]).unwrap();
    assert_eq!(
        values::field(&cert, "algorithm").and_then(values::uint),
        Some(1)
    );
    assert_eq!(
        values::field(&cert, "public_key").and_then(values::bytes),
        Some(vec![0xab; 32])
    );
}

#[test]
fn serve_axon_bad_input_is_refused_by_the_pool_but_tls_fails_in_the_block() {
    // Spec 343's extension checks serve_axon only; 424's refuses tls too (spec_424_…_tls_…).
    let mut h = harness_343();
    assert_eq!(
        h.submit_as("//Alice", SM, axon("serve_axon", 0, None))
            .unwrap_err(),
        TransactionInvalid::Custom(13)
    );
    assert_eq!(
        h.submit_as("//Dave", SM, axon("serve_axon", 80, None))
            .unwrap_err(),
        TransactionInvalid::Custom(10)
    );
    assert_eq!(
        h.module_error("//Alice", SM, axon("serve_axon_tls", 0, Some(vec![1, 2]))),
        "SubtensorModule.InvalidPort"
    );
    assert_eq!(
        h.submit_as("//Alice", SM, axon("serve_axon", 80, None))
            .unwrap()
            .result,
        Ok(())
    );
}

fn commitment(netuid: u16, text: &[u8]) -> Value {
    Value::named_variant(
        "set_commitment",
        [
            ("netuid", u(netuid)),
            (
                "info",
                Value::named_composite([(
                    "fields",
                    Value::unnamed_composite([Value::unnamed_variant(
                        format!("Raw{}", text.len()),
                        [Value::from_bytes(text)],
                    )]),
                )]),
            ),
        ],
    )
}

#[test]
fn set_commitment_stores_a_registration_and_refuses_strangers() {
    let mut h = harness();
    assert_eq!(
        h.submit_as("//Alice", "Commitments", commitment(1, b"hello"))
            .unwrap()
            .result,
        Ok(())
    );
    let stored = h
        .read(
            "Commitments",
            "CommitmentOf",
            &[u(1u16), Value::from_bytes(key("//Alice").public)],
        )
        .unwrap();
    assert_eq!(
        values::field(&stored, "block").and_then(values::uint),
        Some(u128::from(BLOCK))
    );
    assert_eq!(
        values::field(&stored, "deposit").and_then(values::uint),
        Some(0)
    );
    assert_eq!(
        h.module_error("//Dave", "Commitments", commitment(1, b"hi")),
        "Commitments.AccountNotAllowedCommit"
    );
}

#[test]
fn burned_register_appends_a_neuron_and_charges_the_burn() {
    let mut h = harness();
    let eve = key("//Eve").public;
    let dave = key("//Dave").public;
    let before = checks::account_state(&h.state, &dave).free;
    let call = Value::named_variant(
        "burned_register",
        [("netuid", u(1u16)), ("hotkey", Value::from_bytes(eve))],
    );
    assert_eq!(
        h.submit_as("//Dave", SM, call.clone()).unwrap().result,
        Ok(())
    );
    assert_eq!(dispatch::chain::uid_of(&h.state, 1, &eve), Some(4));
    assert_eq!(h.read(SM, "SubnetworkN", &[u(1u16)]), Some(u(5u16)));
    assert_eq!(
        checks::account_state(&h.state, &dave).free,
        before - 1_000_000_000
    );
    assert_eq!(
        h.module_error("//Dave", SM, call),
        "SubtensorModule.TooManyRegistrationsThisBlock"
    );
}

#[test]
fn add_stake_moves_balance_into_alpha() {
    let mut h = harness();
    let alice = key("//Alice").public;
    let call = |amount: u64| {
        Value::named_variant(
            "add_stake",
            [
                ("hotkey", Value::from_bytes(alice)),
                ("netuid", u(1u16)),
                ("amount_staked", u(amount)),
            ],
        )
    };
    assert_eq!(
        h.submit_as("//Bob", SM, call(5_000_000_000))
            .unwrap()
            .result,
        Ok(())
    );
    assert_eq!(
        h.read(SM, "TotalHotkeyAlpha", &[Value::from_bytes(alice), u(1u16)]),
        Some(u(6_000_000_000u64))
    );
    assert_eq!(
        h.module_error("//Bob", SM, call(1000)),
        "SubtensorModule.AmountTooLow"
    );
}

#[test]
fn signature_nonce_and_era_failures_are_invalid_transactions() {
    let mut h = harness();
    let alice = key("//Alice");
    let bob = key("//Bob");
    let call = set_weights(1, &[1, 2], &[1, 1], 5);
    let base = h.signing(&alice);

    // Signed by Bob but claiming to be Alice.
    let xt = h.extrinsic(&bob, alice.public, SM, call.clone(), base);
    assert_eq!(
        h.apply_bytes(&xt).unwrap_err(),
        TransactionInvalid::BadProof
    );
    // Signed for another chain.
    let xt = h.extrinsic(
        &alice,
        alice.public,
        SM,
        call.clone(),
        Signing {
            genesis: [9; 32],
            ..base
        },
    );
    assert_eq!(
        h.apply_bytes(&xt).unwrap_err(),
        TransactionInvalid::BadProof
    );
    // Nonce from the future.
    let xt = h.extrinsic(
        &alice,
        alice.public,
        SM,
        call.clone(),
        Signing { nonce: 5, ..base },
    );
    assert_eq!(h.apply_bytes(&xt).unwrap_err(), TransactionInvalid::Future);
    // Mortal era born at the parent block: valid.
    let mortal = Signing {
        era: Some((64, u64::from(BLOCK - 1) % 64)),
        ..base
    };
    let xt = h.extrinsic(&alice, alice.public, SM, call.clone(), mortal);
    assert_eq!(h.apply_bytes(&xt).unwrap().result, Ok(()));
    // The same bytes again: the nonce is used.
    assert_eq!(h.apply_bytes(&xt).unwrap_err(), TransactionInvalid::Stale);
    // An account that does not exist cannot pay for its nonce.
    let ferdie = key("//Ferdie");
    let s = h.signing(&ferdie);
    let xt = h.extrinsic(&ferdie, ferdie.public, SM, call.clone(), s);
    assert_eq!(h.apply_bytes(&xt).unwrap_err(), TransactionInvalid::Payment);
    // Garbage.
    assert!(matches!(
        h.apply_bytes(&[8, 1, 2]).unwrap_err(),
        TransactionInvalid::BadFormat(_)
    ));
}

#[test]
fn era_born_before_the_kept_block_hashes_is_ancient() {
    let mut h = harness();
    let alice = key("//Alice");
    h.ctx.block_number = 10_000;
    h.state = BlockState::new(h.meta.clone(), h.state.raw.clone(), 10_000);
    // Period 8192 with phase 0: birth block 8192, whose hash was never stored.
    let s = Signing {
        era: Some((4096, 0)),
        ..h.signing(&alice)
    };
    let xt = h.extrinsic(
        &alice,
        alice.public,
        SM,
        set_weights(1, &[1, 2], &[1, 1], 5),
        s,
    );
    assert_eq!(
        h.apply_bytes(&xt).unwrap_err(),
        TransactionInvalid::AncientBirthBlock
    );
}

#[test]
fn validate_writes_nothing() {
    let mut h = harness();
    let alice = key("//Alice");
    let s = h.signing(&alice);
    let xt = h.extrinsic(
        &alice,
        alice.public,
        SM,
        set_weights(1, &[1, 2], &[1, 1], 5),
        s,
    );
    let before = h.state.raw.clone();
    let valid = validate(&h.meta, &h.state, &xt, &h.ctx).unwrap();
    assert_eq!(valid.signer, Some(alice.public));
    assert_eq!(valid.call.name, "set_weights");
    assert_eq!(h.state.raw, before);
    assert!(h.events().is_empty());
}

#[test]
fn transaction_validity_encodes_as_the_runtime_api_output() {
    let h = harness();
    let alice = key("//Alice");
    let s = h.signing(&alice);
    let xt = h.extrinsic(
        &alice,
        alice.public,
        SM,
        set_weights(1, &[1, 2], &[1, 1], 5),
        s,
    );
    let api = h
        .meta
        .runtime_api("TaggedTransactionQueue_validate_transaction")
        .expect("the runtime has the API");
    let ok = transaction_validity(&h.meta, &h.state, &xt, &h.ctx);
    let bytes = codec::encode(&ok, api.output_type, h.meta.types()).unwrap();
    // Ok (0), priority 0u64, no requires, one provides tag (account ++ u32 nonce 0),
    // immortal longevity, propagate.
    let mut expected = vec![0u8];
    expected.extend([0u8; 8]);
    expected.extend([0, 4, 36 << 2]);
    expected.extend(alice.public);
    expected.extend([0u8; 4]);
    expected.extend([0xff; 8]);
    expected.push(1);
    assert_eq!(bytes, expected);
    let stale = Signing { nonce: 0, ..s };
    let mut h2 = harness();
    h2.submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
        .unwrap();
    let xt = h2.extrinsic(
        &alice,
        alice.public,
        SM,
        set_weights(1, &[1, 2], &[1, 1], 5),
        stale,
    );
    let err = transaction_validity(&h2.meta, &h2.state, &xt, &h2.ctx);
    let bytes = codec::encode(&err, api.output_type, h2.meta.types()).unwrap();
    // Err (1), Invalid (0), Stale (3).
    assert_eq!(bytes, vec![1, 0, 3]);
}

#[test]
fn a_coldkey_with_a_scheduled_swap_is_refused_by_the_pool() {
    // Spec 343's swap schedule (424 replaced it with announcements).
    let mut h = harness_on(ChainMetadata::finney_343().unwrap());
    let alice = key("//Alice").public;
    let item = h
        .meta
        .storage_item(SM, "ColdkeySwapScheduled")
        .unwrap()
        .value_type;
    let value = zero_value(h.meta.types(), item);
    h.state.write(
        SM,
        "ColdkeySwapScheduled",
        &[Value::from_bytes(alice)],
        value,
    );
    let err = h
        .submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(0));
}

#[test]
fn stake_below_the_threshold_is_refused_by_the_pool_or_fails_in_dispatch() {
    // Spec 343's extension skips set_mechanism_weights; 424's checks it (spec_424_checks_…).
    let mut h = harness_343();
    h.state.write(SM, "StakeThreshold", &[], u(u64::MAX));
    // set_weights is checked by SubtensorTransactionExtension (StakeAmountTooLow = 1) …
    let err = h
        .submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(1));
    // … set_mechanism_weights is not, so its dispatch fails instead.
    let call = Value::named_variant(
        "set_mechanism_weights",
        [
            ("netuid", u(1u16)),
            ("mecid", u(0u8)),
            ("dests", list(&[1, 2])),
            ("weights", list(&[1, 1])),
            ("version_key", u(5u64)),
        ],
    );
    assert_eq!(
        h.module_error("//Alice", SM, call),
        "SubtensorModule.NotEnoughStakeToSetWeights"
    );
}

#[test]
fn an_eleventh_unrevealed_commit_is_too_many() {
    let mut h = harness();
    for i in 0..10u8 {
        let commit = Value::named_variant(
            "commit_weights",
            [
                ("netuid", u(2u16)),
                ("commit_hash", Value::from_bytes([i; 32])),
            ],
        );
        assert_eq!(h.submit_as("//Alice", SM, commit).unwrap().result, Ok(()));
    }
    let commit = Value::named_variant(
        "commit_weights",
        [
            ("netuid", u(2u16)),
            ("commit_hash", Value::from_bytes([99u8; 32])),
        ],
    );
    assert_eq!(
        h.module_error("//Alice", SM, commit),
        "SubtensorModule.TooManyUnrevealedCommits"
    );
}

// --- The spec-424 runtime: stateful epochs, owner schedule calls, the 424 extension's guards.

fn mechanism_weights(netuid: u16, uids: &[u16], weights: &[u16]) -> Value {
    Value::named_variant(
        "set_mechanism_weights",
        [
            ("netuid", u(netuid)),
            ("mecid", u(0u8)),
            ("dests", list(uids)),
            ("weights", list(weights)),
            ("version_key", u(5u64)),
        ],
    )
}

#[test]
fn spec_424_refuses_weights_within_the_rate_limit_in_the_pool() {
    let mut h = harness();
    let first = h.submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5));
    assert_eq!(first.unwrap().result, Ok(()));
    // LastUpdate is this block and WeightsSetRateLimit 10: CheckRateLimits → RateLimitExceeded.
    let err = h
        .submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(6));
    let err = h
        .submit_as("//Alice", SM, mechanism_weights(1, &[1, 2], &[1, 1]))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(6));
    // A hash commit is rate-limited even on a commit-reveal subnet.
    let commit = |byte: u8| {
        Value::named_variant(
            "commit_weights",
            [
                ("netuid", u(2u16)),
                ("commit_hash", Value::from_bytes([byte; 32])),
            ],
        )
    };
    h.state
        .write(SM, "WeightsSetRateLimit", &[u(2u16)], u(10u64));
    assert_eq!(
        h.submit_as("//Alice", SM, commit(1)).unwrap().result,
        Ok(())
    );
    assert_eq!(
        h.submit_as("//Alice", SM, commit(2)).unwrap_err(),
        TransactionInvalid::Custom(6)
    );
}

#[test]
fn spec_424_checks_mechanism_variants_and_timelocked_rounds_in_the_pool() {
    let mut h = harness();
    h.state.write(SM, "StakeThreshold", &[], u(u64::MAX));
    let err = h
        .submit_as("//Alice", SM, mechanism_weights(1, &[1, 2], &[1, 1]))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(1), "StakeAmountTooLow");

    let mut h = harness();
    h.state.write("Drand", "LastStoredRound", &[], u(1000u64));
    let call = Value::named_variant(
        "commit_timelocked_mechanism_weights",
        [
            ("netuid", u(2u16)),
            ("mecid", u(0u8)),
            ("commit", Value::from_bytes([9u8; 40])),
            ("reveal_round", u(999u64)),
            ("commit_reveal_version", u(4u16)),
        ],
    );
    assert_eq!(
        h.submit_as("//Alice", SM, call).unwrap_err(),
        TransactionInvalid::Custom(15),
        "InvalidRevealRound"
    );
}

#[test]
fn spec_424_finds_a_hash_reveal_among_the_signers_own_commits_only() {
    let mut h = harness();
    let salt = [7u16];
    let hash =
        |who: &str| dispatch::weights::commit_hash(&key(who).public, 2, &[0], &[1], &salt, 0);
    // Charlie commits Alice's hash: a 343 node finds it (any hotkey's commits), 424 does not.
    let commit = Value::named_variant(
        "commit_weights",
        [
            ("netuid", u(2u16)),
            ("commit_hash", Value::from_bytes(hash("//Alice"))),
        ],
    );
    assert_eq!(h.submit_as("//Charlie", SM, commit).unwrap().result, Ok(()));
    let reveal = Value::named_variant(
        "reveal_weights",
        [
            ("netuid", u(2u16)),
            ("uids", list(&[0])),
            ("values", list(&[1])),
            ("salt", list(&salt)),
            ("version_key", u(0u64)),
        ],
    );
    assert_eq!(
        h.submit_as("//Alice", SM, reveal.clone()).unwrap_err(),
        TransactionInvalid::Custom(16),
        "CommitNotFound"
    );
    // Alice's own commit, revealed in its own epoch: not yet the reveal epoch.
    let commit = Value::named_variant(
        "commit_weights",
        [
            ("netuid", u(2u16)),
            ("commit_hash", Value::from_bytes(hash("//Alice"))),
        ],
    );
    assert_eq!(h.submit_as("//Alice", SM, commit).unwrap().result, Ok(()));
    assert_eq!(
        h.submit_as("//Alice", SM, reveal).unwrap_err(),
        TransactionInvalid::Custom(17),
        "CommitBlockNotInRevealRange"
    );
}

#[test]
fn spec_424_refuses_a_bad_tls_axon_in_the_pool() {
    let mut h = harness();
    let err = h
        .submit_as(
            "//Alice",
            SM,
            axon("serve_axon_tls", 0, Some(vec![1, 2, 3])),
        )
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(13), "InvalidPort");
}

#[test]
fn spec_424_refuses_coldkeys_with_an_announced_or_disputed_swap() {
    let mut h = harness();
    let alice = Value::from_bytes(key("//Alice").public);
    let announcement = h
        .meta
        .storage_item(SM, "ColdkeySwapAnnouncements")
        .unwrap()
        .value_type;
    let value = zero_value(h.meta.types(), announcement);
    h.state.write(
        SM,
        "ColdkeySwapAnnouncements",
        std::slice::from_ref(&alice),
        value,
    );
    let err = h
        .submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(0));
    h.state.write(SM, "ColdkeySwapDisputes", &[alice], u(5u32));
    let err = h
        .submit_as("//Alice", SM, set_weights(1, &[1, 2], &[1, 1], 5))
        .unwrap_err();
    assert_eq!(err, TransactionInvalid::Custom(21));
}

fn owner_call(name: &str, netuid: u16, tempo: Option<u16>) -> Value {
    let mut fields = vec![("netuid", u(netuid))];
    if let Some(t) = tempo {
        fields.push(("tempo", u(t)));
    }
    Value::named_variant(name, fields)
}

fn owner_result(h: &mut Harness, uri: &str, call: Value) -> Result<(), DispatchError> {
    h.submit_as(uri, SM, call).expect("valid").result
}

#[test]
fn set_tempo_and_trigger_epoch_follow_the_owner_rules() {
    let subtensor = DispatchError::subtensor;
    let mut h = harness();
    let owner = "//Dave";
    for netuid in [1u16, 2] {
        h.state.write(
            SM,
            "SubnetOwner",
            &[u(netuid)],
            Value::from_bytes(key(owner).public),
        );
    }
    // Block 1000, tempo 100, LastEpochBlock 950: the next automatic epoch is at 1050.
    h.state.write(SM, "LastEpochBlock", &[u(1u16)], u(950u64));
    let set_tempo = |t: u16| owner_call("set_tempo", 1, Some(t));
    assert_eq!(
        owner_result(&mut h, "//Bob", set_tempo(400)),
        Err(DispatchError::BadOrigin)
    );
    assert_eq!(
        owner_result(&mut h, owner, set_tempo(359)),
        Err(subtensor("TempoOutOfBounds"))
    );
    // trigger_epoch: refused on a commit-reveal subnet, else fires AdminFreezeWindow (10) ahead.
    assert_eq!(
        owner_result(&mut h, owner, owner_call("trigger_epoch", 2, None)),
        Err(subtensor("DynamicTempoBlockedByCommitReveal"))
    );
    assert_eq!(
        owner_result(&mut h, owner, owner_call("trigger_epoch", 1, None)),
        Ok(())
    );
    let read = |h: &Harness, item: &str| {
        h.read(SM, item, &[u(1u16)])
            .as_ref()
            .and_then(values::uint)
            .unwrap()
    };
    assert_eq!(read(&h, "PendingEpochAt"), 1010);
    assert_eq!(
        owner_result(&mut h, owner, owner_call("trigger_epoch", 1, None)),
        Err(subtensor("EpochTriggerAlreadyPending"))
    );
    // The pending trigger arms the admin freeze window: no tempo change until it has fired.
    assert_eq!(
        owner_result(&mut h, owner, set_tempo(400)),
        Err(subtensor("AdminActionProhibitedDuringWeightsWindow"))
    );
    h.state.write(SM, "PendingEpochAt", &[u(1u16)], u(0u64));
    assert_eq!(owner_result(&mut h, owner, set_tempo(400)), Ok(()));
    assert_eq!(read(&h, "Tempo"), 400);
    assert_eq!(
        read(&h, "LastEpochBlock"),
        u128::from(BLOCK),
        "the cycle restarts now"
    );
    assert_eq!(
        owner_result(&mut h, owner, set_tempo(500)),
        Err(subtensor("TxRateLimitExceeded")),
        "one tempo change per MIN_TEMPO blocks"
    );
    // The next automatic epoch is 5 blocks away: closer than the freeze window.
    h.state
        .write(SM, "LastEpochBlock", &[u(1u16)], u(u64::from(BLOCK) - 395));
    assert_eq!(
        owner_result(&mut h, owner, owner_call("trigger_epoch", 1, None)),
        Err(subtensor("AutoEpochAlreadyImminent"))
    );
}

/// netuid 2 alone, tempo 10, commit-reveal on, reveal period 1: at genesis `LastEpochBlock` is 0,
/// so its epochs fire in blocks 10, 20, 30, …
const CRV4_SCENARIO: &str = r#"
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

/// A chain sealing one block a second, and a signer for it.
struct ChainRun {
    chain: crate::chain::Chain,
    signer: Harness,
    now_ms: u64,
}

impl ChainRun {
    fn new(scenario: &str) -> Self {
        let meta = Arc::new(ChainMetadata::finney().unwrap());
        let scenario: Scenario = toml::from_str(scenario).unwrap();
        let now_ms = 1_800_000_000_000;
        let chain = crate::chain::Chain::new(meta.clone(), &scenario, None, now_ms).unwrap();
        let mut signer = harness();
        signer.ctx.genesis_hash = chain.genesis_hash();
        signer.ctx.spec_version = chain.version().spec_version;
        signer.ctx.transaction_version = chain.version().transaction_version;
        Self {
            chain,
            signer,
            now_ms,
        }
    }

    fn seal(&mut self) -> u32 {
        self.now_ms += 1000;
        self.chain.seal(self.now_ms).number
    }

    fn submit(&mut self, uri: &str, call: Value) {
        let who = key(uri);
        let s = Signing {
            nonce: self.chain.account_next_index(who.public),
            era: None,
            genesis: self.signer.ctx.genesis_hash,
        };
        let bytes = self.signer.extrinsic(&who, who.public, SM, call, s);
        self.chain
            .submit(bytes, self.now_ms)
            .expect("the pool accepts it");
    }

    fn state(&self, number: u32) -> BlockState {
        let hash = self.chain.block_by_number(number).unwrap().hash;
        self.chain.state_at(Some(hash)).unwrap()
    }
}

fn uint_at(state: &BlockState, pallet: &str, item: &str, keys: &[Value]) -> u64 {
    state
        .read(pallet, item, keys)
        .as_ref()
        .and_then(values::uint)
        .unwrap_or(0) as u64
}

fn list_len(value: Option<Value>) -> usize {
    match value.map(|v| v.value) {
        Some(scale_value::ValueDef::Composite(c)) => c.len(),
        _ => 0,
    }
}

fn event_count(state: &BlockState, pallet: &str, event: &str) -> usize {
    let Some(scale_value::ValueDef::Composite(records)) =
        state.read("System", "Events", &[]).map(|v| v.value)
    else {
        return 0;
    };
    records
        .into_values()
        .filter(|record| {
            values::field(record, "event")
                .and_then(values::variant)
                .and_then(|(p, inner)| {
                    let (name, _) = values::variant(inner.values().next()?)?;
                    Some(p == pallet && name == event)
                })
                .unwrap_or(false)
        })
        .count()
}

#[test]
fn a_crv4_commit_of_epoch_e_is_revealed_at_the_fire_starting_e_plus_one_or_dropped_at_the_next() {
    use parity_scale_codec::Encode;
    let mut run = ChainRun::new(CRV4_SCENARIO);
    for _ in 0..3 {
        run.seal();
    }
    let state = run.state(3);
    let round = uint_at(&state, "Drand", "LastStoredRound", &[]);
    let version = uint_at(&state, SM, "CommitRevealWeightsVersion", &[]);
    let beacon = crate::drand::DrandBeacon::from_seed(&Scenario::default().drand.seed);
    let alice = key("//Alice").public;
    let commit = |ciphertext: Vec<u8>, round: u64| {
        Value::named_variant(
            "commit_timelocked_weights",
            [
                ("netuid", u(2u16)),
                ("commit", Value::from_bytes(ciphertext)),
                ("reveal_round", u(round)),
                ("commit_reveal_version", u(version)),
            ],
        )
    };
    let payload =
        |weights: &[u16]| (alice.to_vec(), vec![0u16, 1], weights.to_vec(), 0u64).encode();
    // One commit whose pulse is already stored, one whose pulse comes far too late.
    let ready = pylon_timelock::encrypt(&payload(&[1, 3]), &beacon.public_key(), round).unwrap();
    let late_round = round + 1000;
    let late =
        pylon_timelock::encrypt(&payload(&[3, 1]), &beacon.public_key(), late_round).unwrap();
    run.submit("//Alice", commit(ready, round));
    run.submit("//Alice", commit(late, late_round));
    assert_eq!(run.seal(), 4);

    // Block 4 is in epoch 0 (nothing due): both commits are stored under epoch 0.
    let commits = |state: &BlockState, epoch: u64| {
        list_len(state.read(SM, "TimelockedWeightCommits", &[u(2u16), u(epoch)]))
    };
    assert_eq!(commits(&run.state(4), 0), 2);
    while run.seal() < 21 {}
    let weights = |state: &BlockState| list_len(state.read(SM, "Weights", &[u(2u16), u(0u16)]));
    for block in 4..=9 {
        let state = run.state(block);
        assert_eq!(
            weights(&state),
            0,
            "block {block}: not revealed before the fire"
        );
        assert_eq!(commits(&state, 0), 2, "block {block}");
        assert_eq!(uint_at(&state, SM, "SubnetEpochIndex", &[u(2u16)]), 0);
    }
    // Block 10 fires epoch 1 (= 0 + RevealPeriodEpochs): the ready commit is revealed in it.
    let fire = run.state(10);
    assert_eq!(uint_at(&fire, SM, "SubnetEpochIndex", &[u(2u16)]), 1);
    assert_eq!(uint_at(&fire, SM, "LastEpochBlock", &[u(2u16)]), 10);
    assert_eq!(weights(&fire), 2);
    assert_eq!(event_count(&fire, SM, "TimelockedWeightsRevealed"), 1);
    // The late one is retried every block of epoch 1 and dropped when epoch 2 fires at block 20.
    for block in 10..=19 {
        assert_eq!(
            commits(&run.state(block), 0),
            1,
            "block {block}: kept for a retry"
        );
    }
    let next = run.state(20);
    assert_eq!(uint_at(&next, SM, "SubnetEpochIndex", &[u(2u16)]), 2);
    assert_eq!(commits(&next, 0), 0, "dropped at the next fire");
    assert_eq!(event_count(&next, SM, "TimelockedWeightsRevealed"), 0);
    let row = next
        .read(SM, "Weights", &[u(2u16), u(0u16)])
        .and_then(|v| match v.value {
            scale_value::ValueDef::Composite(c) => c.into_values().last(),
            _ => None,
        })
        .and_then(|pair| values::uints(&pair));
    assert_eq!(row, Some(vec![1, 65535]), "the ready commit's weights stay");
}

#[test]
fn a_deferred_subnet_reveals_one_block_later_with_its_fire() {
    // netuids 1, 2, 3 with tempo 10: block 10 fires 1 and 2, defers 3 to block 11.
    let scenario = format!(
        "{}{}",
        CRV4_SCENARIO.replace("netuid = 2", "netuid = 3"),
        "\n[[subnets]]\nnetuid = 1\n[subnets.hyperparameters]\ntempo = 10\n\
         [[subnets]]\nnetuid = 2\n[subnets.hyperparameters]\ntempo = 10\n"
    );
    let mut run = ChainRun::new(&scenario);
    run.seal();
    let state = run.state(1);
    let round = uint_at(&state, "Drand", "LastStoredRound", &[]);
    let version = uint_at(&state, SM, "CommitRevealWeightsVersion", &[]);
    let beacon = crate::drand::DrandBeacon::from_seed(&Scenario::default().drand.seed);
    let alice = key("//Alice").public;
    let plaintext =
        parity_scale_codec::Encode::encode(&(alice.to_vec(), vec![1u16], vec![1u16], 0u64));
    let ciphertext = pylon_timelock::encrypt(&plaintext, &beacon.public_key(), round).unwrap();
    run.submit(
        "//Alice",
        Value::named_variant(
            "commit_timelocked_weights",
            [
                ("netuid", u(3u16)),
                ("commit", Value::from_bytes(ciphertext)),
                ("reveal_round", u(round)),
                ("commit_reveal_version", u(version)),
            ],
        ),
    );
    while run.seal() < 11 {}
    let at =
        |block: u32, item: &str, netuid: u16| uint_at(&run.state(block), SM, item, &[u(netuid)]);
    assert_eq!(at(10, "LastEpochBlock", 1), 10);
    assert_eq!(at(10, "LastEpochBlock", 2), 10);
    assert_eq!(at(10, "LastEpochBlock", 3), 0);
    assert_eq!(at(10, "PendingEpochAt", 3), 11);
    assert_eq!(event_count(&run.state(10), SM, "EpochDeferred"), 1);
    let weights = |block: u32| list_len(run.state(block).read(SM, "Weights", &[u(3u16), u(0u16)]));
    assert_eq!(weights(10), 0, "deferred: no reveal in block 10");
    assert_eq!(at(11, "LastEpochBlock", 3), 11);
    assert_eq!(at(11, "SubnetEpochIndex", 3), 1);
    assert_eq!(weights(11), 1, "revealed with the deferred fire");
}

#[test]
fn a_hash_commit_is_tagged_with_its_epoch_and_revealed_in_the_next_one() {
    let mut run = ChainRun::new(CRV4_SCENARIO);
    for _ in 0..3 {
        run.seal();
    }
    let alice = key("//Alice").public;
    let salt = [3u16, 4];
    let hash = dispatch::weights::commit_hash(&alice, 2, &[1], &[9], &salt, 0);
    run.submit(
        "//Alice",
        Value::named_variant(
            "commit_weights",
            [
                ("netuid", u(2u16)),
                ("commit_hash", Value::from_bytes(hash)),
            ],
        ),
    );
    assert_eq!(run.seal(), 4);
    // (hash, commit_epoch, commit_block, 0): epoch 0, block 4.
    let stored = run
        .state(4)
        .read(SM, "WeightCommits", &[u(2u16), Value::from_bytes(alice)])
        .unwrap();
    let scale_value::ValueDef::Composite(items) = &stored.value else {
        panic!("a queue of commits")
    };
    let entry = items.values().next().unwrap();
    let scale_value::ValueDef::Composite(fields) = &entry.value else {
        panic!("a commit tuple")
    };
    let f: Vec<&Value> = fields.values().collect();
    assert_eq!(values::account(f[0]), Some(hash));
    assert_eq!(
        [f[1], f[2], f[3]].map(|v| values::uint(v).unwrap()),
        [0, 4, 0]
    );
    let reveal = Value::named_variant(
        "reveal_weights",
        [
            ("netuid", u(2u16)),
            ("uids", list(&[1])),
            ("values", list(&[9])),
            ("salt", list(&salt)),
            ("version_key", u(0u64)),
        ],
    );
    // Still epoch 0 in block 9: the pool says the commit is not in its reveal range.
    while run.seal() < 8 {}
    let who = key("//Alice");
    let s = Signing {
        nonce: run.chain.account_next_index(who.public),
        era: None,
        genesis: run.signer.ctx.genesis_hash,
    };
    let bytes = run
        .signer
        .extrinsic(&who, who.public, SM, reveal.clone(), s);
    let err = run.chain.submit(bytes, run.now_ms).unwrap_err();
    assert!(err.to_string().contains("Custom error: 17"), "{err}");
    // Block 10 starts epoch 1: the reveal is accepted and sets the weights.
    run.seal();
    run.submit("//Alice", reveal);
    assert_eq!(run.seal(), 10);
    let weights = run.state(10).read(SM, "Weights", &[u(2u16), u(0u16)]);
    assert_eq!(list_len(weights), 1);
    assert_eq!(event_count(&run.state(10), SM, "WeightsRevealed"), 1);
}
