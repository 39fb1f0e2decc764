//! Writes a [`Scenario`] into genesis storage under subtensor's own item names.

use std::collections::BTreeSet;

use scale_value::Value;

use crate::extrinsics::dispatch::weights::storage_index;
use crate::scenario::{Scenario, ScenarioError};
use crate::state_access::StateAccess;
use crate::storage::{with_fields, zero_value, BlockState};

fn u(n: impl Into<u128>) -> Value {
    Value::u128(n.into())
}

fn account(id: &[u8; 32]) -> Value {
    Value::from_bytes(id)
}

/// `Commitments` `Data::Raw{N}` fields holding `text` (128 bytes per field, like the pallet's limit).
fn commitment_fields(text: &str) -> Value {
    Value::unnamed_composite(text.as_bytes().chunks(128).map(|chunk| {
        Value::unnamed_variant(format!("Raw{}", chunk.len()), [Value::from_bytes(chunk)])
    }))
}

pub fn write_genesis(state: &mut BlockState, scenario: &Scenario) -> Result<(), ScenarioError> {
    let mut funded: BTreeSet<[u8; 32]> = BTreeSet::new();
    for key in &scenario.accounts {
        funded.insert(key.account()?);
    }
    let mut netuids = BTreeSet::new();
    for subnet in &scenario.subnets {
        if !netuids.insert(subnet.netuid) {
            return Err(ScenarioError::Invalid(format!(
                "netuid {} appears twice",
                subnet.netuid
            )));
        }
        let netuid = u(subnet.netuid);
        let hp = &subnet.hyperparameters;
        let neurons = scenario.resolved_neurons(subnet)?;
        if neurons.len() > usize::from(hp.max_allowed_uids.max(1)) && hp.max_allowed_uids != 0 {
            return Err(ScenarioError::Invalid(format!(
                "netuid {} has {} neurons but max_allowed_uids {}",
                subnet.netuid,
                neurons.len(),
                hp.max_allowed_uids
            )));
        }
        let sm = "SubtensorModule";
        let k = [netuid.clone()];
        state.write(sm, "NetworksAdded", &k, Value::bool(true));
        state.write(sm, "Tempo", &k, u(hp.tempo));
        if has(state, sm, "LastEpochBlock") {
            // The stateful epoch schedule (spec 423+): `init_new_network` anchors the subnet at
            // `now - netuid % tempo`, which at genesis (block 0) saturates to 0.
            let stagger = u64::from(subnet.netuid) % u64::from(hp.tempo.max(1));
            state.write(sm, "LastEpochBlock", &k, u(0u64.saturating_sub(stagger)));
        }
        state.write(sm, "SubnetworkN", &k, u(neurons.len() as u16));
        state.write(
            sm,
            "CommitRevealWeightsEnabled",
            &k,
            Value::bool(hp.commit_reveal_weights_enabled),
        );
        state.write(sm, "RevealPeriodEpochs", &k, u(hp.reveal_period_epochs));
        state.write(sm, "WeightsVersionKey", &k, u(hp.weights_version_key));
        state.write(sm, "WeightsSetRateLimit", &k, u(hp.weights_rate_limit));
        state.write(sm, "MinAllowedWeights", &k, u(hp.min_allowed_weights));
        state.write(sm, "MaxWeightsLimit", &k, u(hp.max_weights_limit));
        state.write(sm, "MaxAllowedUids", &k, u(hp.max_allowed_uids));
        state.write(sm, "MaxAllowedValidators", &k, u(hp.max_allowed_validators));
        state.write(sm, "ImmunityPeriod", &k, u(hp.immunity_period));
        state.write(sm, "ActivityCutoff", &k, u(hp.activity_cutoff));
        if has(state, sm, "ActivityCutoffFactorMilli") {
            // Spec 424 keeps the cutoff as per-mille of tempo; converted like its
            // `migrate_dynamic_tempo` does (ceiling, clamped to 1_000..=50_000).
            let tempo = u64::from(hp.tempo.max(1));
            let factor = (u64::from(hp.activity_cutoff) * 1000).div_ceil(tempo);
            state.write(
                sm,
                "ActivityCutoffFactorMilli",
                &k,
                u(factor.clamp(1_000, 50_000) as u32),
            );
        }
        state.write(sm, "Kappa", &k, u(hp.kappa));
        state.write(sm, "Rho", &k, u(hp.rho));
        state.write(
            sm,
            "NetworkRegistrationAllowed",
            &k,
            Value::bool(hp.registration_allowed),
        );
        state.write(sm, "Burn", &k, u(hp.burn));
        state.write(sm, "ServingRateLimit", &k, u(hp.serving_rate_limit));
        state.write(sm, "SubtokenEnabled", &k, Value::bool(true));
        if let Some(owner) = &subnet.owner {
            let owner = owner.account()?;
            state.write(sm, "SubnetOwner", &k, account(&owner));
            funded.insert(owner);
        }

        let column = |f: &dyn Fn(&crate::scenario::NeuronSpec) -> Value| {
            Value::unnamed_composite(neurons.iter().map(|(n, _, _)| f(n)))
        };
        state.write(sm, "Active", &k, column(&|n| Value::bool(n.active)));
        state.write(
            sm,
            "ValidatorPermit",
            &k,
            column(&|n| Value::bool(n.validator_permit)),
        );
        // Spec 424 dropped `Rank`, `Trust` and `PruningScores` (its runtime APIs report them as
        // constants); the 343 profile still stores them.
        if has(state, sm, "Rank") {
            state.write(sm, "Rank", &k, column(&|n| u(n.rank)));
            state.write(sm, "Trust", &k, column(&|n| u(n.trust)));
        }
        state.write(sm, "Consensus", &k, column(&|n| u(n.consensus)));
        state.write(sm, "Incentive", &k, column(&|n| u(n.incentive)));
        state.write(sm, "Dividends", &k, column(&|n| u(n.dividends)));
        state.write(sm, "ValidatorTrust", &k, column(&|n| u(n.validator_trust)));
        state.write(sm, "Emission", &k, column(&|n| u(n.emission)));
        state.write(sm, "LastUpdate", &k, column(&|n| u(n.last_update)));
        if has(state, sm, "PruningScores") {
            state.write(sm, "PruningScores", &k, column(&|_| u(u16::MAX)));
        }
        if has(state, sm, "MechanismCountCurrent") {
            let count = hp.mechanism_count.max(1);
            state.write(sm, "MechanismCountCurrent", &k, u(count));
            // Every further mechanism keeps its own per-neuron columns, as `do_set_mechanism_count`
            // sizes them.
            for mecid in 1..count {
                let index = [u(storage_index(subnet.netuid, mecid))];
                state.write(sm, "Incentive", &index, column(&|n| u(n.incentive)));
                state.write(sm, "LastUpdate", &index, column(&|n| u(n.last_update)));
            }
        }

        let mut total_alpha: u128 = 0;
        for (uid, (neuron, hotkey, coldkey)) in neurons.iter().enumerate() {
            let hk = account(hotkey);
            let ck = account(coldkey);
            let uid = u(uid as u16);
            state.write(sm, "Keys", &[netuid.clone(), uid.clone()], hk.clone());
            state.write(sm, "Uids", &[netuid.clone(), hk.clone()], uid.clone());
            state.write(
                sm,
                "IsNetworkMember",
                &[hk.clone(), netuid.clone()],
                Value::bool(true),
            );
            state.write(
                sm,
                "BlockAtRegistration",
                &[netuid.clone(), uid.clone()],
                u(0u64),
            );
            state.write(sm, "Owner", std::slice::from_ref(&hk), ck.clone());
            if neuron.stake > 0 {
                let shares = Value::named_composite([("bits", u(u128::from(neuron.stake) << 64))]);
                state.write(
                    sm,
                    "Alpha",
                    &[hk.clone(), ck.clone(), netuid.clone()],
                    shares.clone(),
                );
                state.write(
                    sm,
                    "TotalHotkeyShares",
                    &[hk.clone(), netuid.clone()],
                    shares,
                );
                state.write(
                    sm,
                    "TotalHotkeyAlpha",
                    &[hk.clone(), netuid.clone()],
                    u(neuron.stake),
                );
                total_alpha += u128::from(neuron.stake);
            }
            if let Some(axon) = &neuron.axon {
                let info = with_fields(
                    zero_value(state.metadata().types(), axon_type(state)),
                    vec![
                        ("version", u(axon.version)),
                        ("ip", u(u32::from(axon.ip))),
                        ("port", u(axon.port)),
                        ("ip_type", u(4u8)),
                        ("protocol", u(axon.protocol)),
                    ],
                );
                state.write(sm, "Axons", &[netuid.clone(), hk.clone()], info);
            }
            if let Some(cert) = &neuron.certificate {
                let key = hex::decode(cert.public_key.trim_start_matches("0x")).map_err(|_| {
                    ScenarioError::Invalid(format!(
                        "certificate key {} is not hex",
                        cert.public_key
                    ))
                })?;
                state.write(
                    sm,
                    "NeuronCertificates",
                    &[netuid.clone(), hk.clone()],
                    Value::named_composite([
                        ("public_key", Value::from_bytes(key)),
                        ("algorithm", u(cert.algorithm)),
                    ]),
                );
            }
            funded.insert(*hotkey);
            funded.insert(*coldkey);
        }
        state.write(
            sm,
            "SubnetAlphaOut",
            &k,
            u(total_alpha.min(u64::MAX as u128) as u64),
        );

        if let Some(pool) = &subnet.pool {
            write_pool(state, subnet.netuid, pool);
        }
        for association in &subnet.evm_associations {
            if !has(state, sm, "AssociatedEvmAddress") {
                return Err(ScenarioError::Invalid(
                    "this runtime has no SubtensorModule.AssociatedEvmAddress".into(),
                ));
            }
            if usize::from(association.uid) >= neurons.len() {
                return Err(ScenarioError::Invalid(format!(
                    "netuid {}: EVM association for uid {} but the subnet has {} neurons",
                    subnet.netuid,
                    association.uid,
                    neurons.len()
                )));
            }
            let address = crate::evm::parse_hex_n::<20>(&association.evm_address)
                .map_err(ScenarioError::Invalid)?;
            state.write(
                sm,
                "AssociatedEvmAddress",
                &[netuid.clone(), u(association.uid)],
                Value::unnamed_composite([Value::from_bytes(address), u(association.block)]),
            );
        }

        for commitment in &subnet.commitments {
            let who = commitment.hotkey.account()?;
            state.write(
                "Commitments",
                "CommitmentOf",
                &[netuid.clone(), account(&who)],
                Value::named_composite([
                    ("deposit", u(0u64)),
                    ("block", u(commitment.block)),
                    (
                        "info",
                        Value::named_composite([("fields", commitment_fields(&commitment.data))]),
                    ),
                ]),
            );
            state.write(
                "Commitments",
                "LastCommitment",
                &[netuid.clone(), account(&who)],
                u(commitment.block),
            );
        }
    }
    state.write(
        "SubtensorModule",
        "TotalNetworks",
        &[],
        u(netuids.len() as u16),
    );

    if scenario.drand.pulses {
        crate::drand::DrandBeacon::from_seed(&scenario.drand.seed).write_config(state);
    }

    for id in &funded {
        state.write(
            "System",
            "Account",
            &[account(id)],
            Value::named_composite([
                ("nonce", u(0u32)),
                ("consumers", u(0u32)),
                ("providers", u(1u32)),
                ("sufficients", u(0u32)),
                (
                    "data",
                    Value::named_composite([
                        ("free", u(scenario.balance)),
                        ("reserved", u(0u64)),
                        ("frozen", u(0u64)),
                        ("flags", Value::unnamed_composite([u(1u128 << 127)])),
                    ]),
                ),
            ]),
        );
    }
    Ok(())
}

/// A subnet's pool as subtensor stores it: reserves, mechanism and (where the runtime has the
/// balancer swap) the quote weight.
fn write_pool(state: &mut BlockState, netuid: u16, pool: &crate::scenario::PoolSpec) {
    let k = [u(netuid)];
    let sm = "SubtensorModule";
    state.write(sm, "SubnetMechanism", &k, u(pool.mechanism));
    state.write(sm, "SubnetTAO", &k, u(pool.tao_in));
    state.write(sm, "SubnetAlphaIn", &k, u(pool.alpha_in));
    if let Some(quote) = pool.quote_weight {
        if has(state, "Swap", "SwapBalancer") {
            state.write(
                "Swap",
                "SwapBalancer",
                &k,
                Value::named_composite([("quote", u(quote))]),
            );
        }
    }
}

/// Whether the runtime has storage item `pallet.item` (profiles differ in layout).
fn has(state: &BlockState, pallet: &str, item: &str) -> bool {
    state.metadata().storage_item(pallet, item).is_ok()
}

fn axon_type(state: &BlockState) -> u32 {
    state
        .metadata()
        .storage_item("SubtensorModule", "Axons")
        .expect("subtensor metadata has Axons")
        .value_type
}
