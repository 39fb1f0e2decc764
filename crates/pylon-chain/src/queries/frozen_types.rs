//! Layouts of subtensor's runtime-API answer types for runtimes that do not describe them.
//!
//! Old runtimes (spec 218 and before) declare their runtime APIs' output as an opaque `Vec<u8>`
//! and their metadata has no `NeuronInfoLite` at all. Clients still decode those answers because
//! subtensor freezes the layouts (`#[freeze_struct]` in `rpc_info/neuron_info.rs` and the
//! pallet's `AxonInfo`/`PrometheusInfo`): async-substrate-interface carries them as a type
//! registry of its own. These mirrors are the same layouts, field for field in subtensor's order,
//! turned into a registry with scale-info so the answer is decoded by field names exactly as a
//! described one is; an answer that does not fit (bytes left over, too few) is refused.

use parity_scale_codec::Compact;
use scale_info::{MetaType, PortableRegistry, Registry, TypeInfo};

/// `sp_core::crypto::AccountId32`: a newtype over its 32 bytes, as runtimes describe it.
#[allow(dead_code)]
#[derive(TypeInfo)]
struct AccountId32([u8; 32]);

type AccountId = AccountId32;

#[allow(dead_code)] // Only its type information is used.
#[derive(TypeInfo)]
struct AxonInfo {
    block: u64,
    version: u32,
    ip: u128,
    port: u16,
    ip_type: u8,
    protocol: u8,
    placeholder1: u8,
    placeholder2: u8,
}

#[allow(dead_code)]
#[derive(TypeInfo)]
struct PrometheusInfo {
    block: u64,
    version: u32,
    ip: u128,
    port: u16,
    ip_type: u8,
}

#[allow(dead_code)]
#[derive(TypeInfo)]
struct NeuronInfoLite {
    hotkey: AccountId,
    coldkey: AccountId,
    uid: Compact<u16>,
    netuid: Compact<u16>,
    active: bool,
    axon_info: AxonInfo,
    prometheus_info: PrometheusInfo,
    stake: Vec<(AccountId, Compact<u64>)>,
    rank: Compact<u16>,
    emission: Compact<u64>,
    incentive: Compact<u16>,
    consensus: Compact<u16>,
    trust: Compact<u16>,
    validator_trust: Compact<u16>,
    dividends: Compact<u16>,
    last_update: Compact<u64>,
    validator_permit: bool,
    pruning_score: Compact<u16>,
}

/// The frozen layout of the type subtensor names `name`, as a registry and the type's id in it.
pub(crate) fn frozen_type(name: &str) -> Option<(PortableRegistry, u32)> {
    let meta = match name {
        "NeuronInfoLite" => MetaType::new::<NeuronInfoLite>(),
        _ => return None,
    };
    let mut registry = Registry::new();
    let id = registry.register_type(&meta).id;
    Some((registry.into(), id))
}
