//! Neurons of a subnet at a block: `NeuronInfoRuntimeApi.get_neurons_lite`, decoded by field name,
//! plus each hotkey's stakes (alpha on the subnet, TAO on root) read from storage in one batch.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use parity_scale_codec::Encode;
use scale_decode::DecodeAsType;
use subxt::dynamic;
use subxt::rpcs::rpc_params;
use subxt::utils::AccountId32;

use crate::client::ChainClient;
use crate::connection::{AtBlock, Connection};
use crate::decode::{runtime_list, ss58};
use crate::error::ChainError;
use crate::model::{AxonInfo, BlockRef, NeuronInfo, Stakes};

const ROOT_NETUID: u16 = 0;

/// The fields of subtensor's `NeuronInfoLite` we use; others (netuid, prometheus_info) are ignored.
#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct NeuronInfoLite {
    hotkey: AccountId32,
    coldkey: AccountId32,
    uid: u16,
    active: bool,
    axon_info: RawAxonInfo,
    stake: Vec<(AccountId32, u64)>,
    rank: u16,
    emission: u64,
    incentive: u16,
    consensus: u16,
    trust: u16,
    validator_trust: u16,
    dividends: u16,
    last_update: u64,
    validator_permit: bool,
    pruning_score: u16,
}

#[derive(DecodeAsType)]
#[decode_as_type(crate_path = "scale_decode")]
struct RawAxonInfo {
    ip: u128,
    port: u16,
    ip_type: u8,
    protocol: u8,
}

impl ChainClient {
    /// Every neuron of `netuid` at `block`, in uid order. An unknown subnet has none.
    pub async fn neurons(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Vec<NeuronInfo>, ChainError> {
        self.route("neurons", block.number, |connection| async move {
            fetch_neurons(&connection, netuid, block).await
        })
        .await
    }
}

async fn fetch_neurons(
    connection: &Connection,
    netuid: u16,
    block: &BlockRef,
) -> Result<Vec<NeuronInfo>, ChainError> {
    let at = connection.at(block).await?;
    let raw = neurons_lite(&at, netuid).await?;
    let hotkeys: Vec<[u8; 32]> = raw.iter().map(|n| n.hotkey.0).collect();
    let (root_stakes, tao_weight) = if has_root_stakes(&at.metadata()) {
        root_stakes_and_tao_weight(connection, &at, block, &hotkeys).await?
    } else {
        // A runtime from before dynamic TAO (spec 218) has no per-subnet alpha and no root
        // weighting: a neuron's stake is what the runtime API lists for it.
        (vec![0; hotkeys.len()], 0)
    };
    Ok(raw
        .into_iter()
        .zip(root_stakes)
        .map(|(neuron, tao)| {
            let alpha: u64 = neuron.stake.iter().map(|(_, amount)| *amount).sum();
            let stakes = Stakes {
                alpha,
                tao,
                total: alpha.saturating_add(weighted(tao, tao_weight)),
            };
            into_neuron(neuron, alpha, stakes)
        })
        .collect())
}

/// `NeuronInfoRuntimeApi.get_neurons_lite(netuid)` at the block, decoded with that block's
/// metadata: typed where the runtime declares `Vec<NeuronInfoLite>`, from the inner bytes where
/// an old runtime declares an opaque `Vec<u8>` (see [`crate::decode::runtime_list`]).
async fn neurons_lite(at: &AtBlock, netuid: u16) -> Result<Vec<NeuronInfoLite>, ChainError> {
    let metadata = at.metadata();
    let output_ty = metadata
        .runtime_api_trait_by_name("NeuronInfoRuntimeApi")
        .and_then(|api| api.method_by_name("get_neurons_lite"))
        .map(|method| method.output_ty())
        .ok_or_else(|| {
            ChainError::Decode("the runtime has no NeuronInfoRuntimeApi.get_neurons_lite".into())
        })?;
    let bytes = at
        .runtime_apis()
        .call_raw(
            "NeuronInfoRuntimeApi_get_neurons_lite",
            Some(&netuid.encode()),
        )
        .await
        .map_err(ChainError::from_subxt)?;
    runtime_list(&bytes, output_ty, metadata.types(), "NeuronInfoLite")
}

fn into_neuron(raw: NeuronInfoLite, stake: u64, stakes: Stakes) -> NeuronInfo {
    NeuronInfo {
        uid: raw.uid,
        hotkey: ss58(raw.hotkey.0),
        coldkey: ss58(raw.coldkey.0),
        active: raw.active,
        axon_info: AxonInfo {
            ip: ip_of(raw.axon_info.ip, raw.axon_info.ip_type),
            port: raw.axon_info.port,
            protocol: raw.axon_info.protocol,
        },
        stake,
        rank: raw.rank,
        incentive: raw.incentive,
        consensus: raw.consensus,
        trust: raw.trust,
        validator_trust: raw.validator_trust,
        dividends: raw.dividends,
        emission: raw.emission,
        last_update: raw.last_update,
        validator_permit: raw.validator_permit,
        pruning_score: raw.pruning_score,
        stakes,
    }
}

/// Axon IPs are stored as a u128 with a 4/6 type tag.
pub(crate) fn ip_of(ip: u128, ip_type: u8) -> IpAddr {
    if ip_type == 6 {
        IpAddr::V6(Ipv6Addr::from(ip))
    } else {
        IpAddr::V4(Ipv4Addr::from(ip as u32))
    }
}

/// `tao × weight`, where the weight is a u64 fixed-point fraction of `u64::MAX`.
fn weighted(tao: u64, weight: u64) -> u64 {
    ((u128::from(tao) * u128::from(weight)) / u128::from(u64::MAX)) as u64
}

/// Whether the block's runtime keeps stakes the dynamic-TAO way: `TotalHotkeyAlpha(hotkey,
/// netuid)` and a plain `TaoWeight`. Decided by the block's metadata, never by a spec number.
fn has_root_stakes(metadata: &subxt::Metadata) -> bool {
    let Some(storage) = metadata
        .pallet_by_name("SubtensorModule")
        .and_then(|p| p.storage())
    else {
        return false;
    };
    let keys = |name: &str| storage.entry_by_name(name).map(|e| e.keys().len());
    keys("TotalHotkeyAlpha") == Some(2) && keys("TaoWeight") == Some(0)
}

/// Each hotkey's stake on root (`TotalHotkeyAlpha(hotkey, 0)`) and the chain's `TaoWeight`, in a
/// single `state_queryStorageAt` so a 256-neuron subnet costs one round trip, not 257.
async fn root_stakes_and_tao_weight(
    connection: &Connection,
    at: &AtBlock,
    block: &BlockRef,
    hotkeys: &[[u8; 32]],
) -> Result<(Vec<u64>, u64), ChainError> {
    let storage = at.storage();
    let alpha_entry = storage
        .entry(dynamic::storage::<([u8; 32], u16), scale_value::Value>(
            "SubtensorModule",
            "TotalHotkeyAlpha",
        ))
        .map_err(ChainError::from_subxt)?;
    let weight_entry = storage
        .entry(dynamic::storage::<(), scale_value::Value>(
            "SubtensorModule",
            "TaoWeight",
        ))
        .map_err(ChainError::from_subxt)?;
    let mut keys = Vec::with_capacity(hotkeys.len() + 1);
    for hotkey in hotkeys {
        keys.push(
            alpha_entry
                .fetch_key((*hotkey, ROOT_NETUID))
                .map_err(ChainError::from_subxt)?,
        );
    }
    keys.push(weight_entry.fetch_key(()).map_err(ChainError::from_subxt)?);
    let values = query_storage_at(connection, &keys, block).await?;

    let metadata = at.metadata();
    let types = metadata.types();
    let value_type = |entry: &str| -> Result<u32, ChainError> {
        metadata
            .pallet_by_name("SubtensorModule")
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(entry))
            .map(|e| e.value_ty())
            .ok_or_else(|| ChainError::Decode(format!("no SubtensorModule.{entry} in metadata")))
    };
    let alpha_ty = value_type("TotalHotkeyAlpha")?;
    let weight_ty = value_type("TaoWeight")?;
    let decode = |bytes: &Option<Vec<u8>>, ty: u32| -> Result<u64, ChainError> {
        match bytes {
            None => Ok(0),
            Some(bytes) => u64::decode_as_type(&mut &bytes[..], ty, types)
                .map_err(|e| ChainError::Decode(e.to_string())),
        }
    };
    let mut stakes = Vec::with_capacity(hotkeys.len());
    for bytes in &values[..hotkeys.len()] {
        stakes.push(decode(bytes, alpha_ty)?);
    }
    let tao_weight = decode(&values[hotkeys.len()], weight_ty)?;
    Ok((stakes, tao_weight))
}

#[derive(serde::Deserialize)]
struct StorageChangeSet {
    changes: Vec<(String, Option<String>)>,
}

/// Values of `keys` at `block` (None = absent), in the order of `keys`.
pub(crate) async fn query_storage_at(
    connection: &Connection,
    keys: &[Vec<u8>],
    block: &BlockRef,
) -> Result<Vec<Option<Vec<u8>>>, ChainError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let hex_keys: Vec<String> = keys
        .iter()
        .map(|k| format!("0x{}", hex::encode(k)))
        .collect();
    let sets: Vec<StorageChangeSet> = connection
        .rpc
        .request(
            "state_queryStorageAt",
            rpc_params![hex_keys.clone(), block.hash_hex()],
        )
        .await
        .map_err(ChainError::from_subxt)?;
    let mut by_key = std::collections::HashMap::new();
    for (key, value) in sets.into_iter().flat_map(|set| set.changes) {
        by_key.insert(key.to_ascii_lowercase(), value);
    }
    hex_keys
        .iter()
        .map(|key| match by_key.get(key).cloned().flatten() {
            None => Ok(None),
            Some(value) => hex::decode(value.trim_start_matches("0x"))
                .map(Some)
                .map_err(|e| ChainError::Decode(e.to_string())),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axon_ips_follow_their_type_tag() {
        assert_eq!(
            ip_of(u128::from(u32::from(Ipv4Addr::new(10, 0, 1, 1))), 4),
            "10.0.1.1".parse::<IpAddr>().unwrap()
        );
        assert_eq!(ip_of(1, 6), "::1".parse::<IpAddr>().unwrap());
    }

    /// finney's answer to `get_neurons_lite(1)` at block 6,852,690 (spec 343), as recorded.
    const RECORDED: &[u8] =
        include_bytes!("../../tests/fixtures/finney-6852690-get-neurons-lite-netuid1.scale");
    /// The metadata of the runtime that gave it.
    const SPEC_343_V15: &[u8] =
        include_bytes!("../../../pylon-devnet/assets/finney-spec343-metadata-v15.scale");

    /// Spec 343's metadata, with `get_neurons_lite`'s declared output replaced by `Vec<u8>` when
    /// `opaque` (what spec 218 and older declare). Returns the registry and the output type.
    fn metadata_343(opaque: bool) -> (subxt::Metadata, u32) {
        use subxt::ext::codec::Decode as _;
        use subxt::ext::frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
        let prefixed = RuntimeMetadataPrefixed::decode(&mut &SPEC_343_V15[..]).unwrap();
        let RuntimeMetadata::V15(mut v15) = prefixed.1 else {
            panic!("the asset is V15")
        };
        if opaque {
            let bytes_ty = v15
                .types
                .types
                .iter()
                .find(|ty| match &ty.ty.type_def {
                    scale_info::TypeDef::Sequence(seq) => matches!(
                        v15.types.resolve(seq.type_param.id).map(|t| &t.type_def),
                        Some(scale_info::TypeDef::Primitive(
                            scale_info::TypeDefPrimitive::U8
                        ))
                    ),
                    _ => false,
                })
                .map(|ty| ty.id)
                .expect("the registry has Vec<u8>");
            let api = v15
                .apis
                .iter_mut()
                .find(|api| api.name == "NeuronInfoRuntimeApi")
                .unwrap();
            let method = api
                .methods
                .iter_mut()
                .find(|m| m.name == "get_neurons_lite")
                .unwrap();
            method.output = bytes_ty.into();
        }
        let metadata = subxt::Metadata::from_v15(v15).unwrap();
        let output = metadata
            .runtime_api_trait_by_name("NeuronInfoRuntimeApi")
            .and_then(|api| api.method_by_name("get_neurons_lite"))
            .unwrap()
            .output_ty();
        (metadata, output)
    }

    #[test]
    fn recorded_finney_neurons_decode_typed_and_from_an_opaque_byte_string() {
        let (typed_meta, typed_ty) = metadata_343(false);
        let typed: Vec<NeuronInfoLite> =
            runtime_list(RECORDED, typed_ty, typed_meta.types(), "NeuronInfoLite").unwrap();
        assert_eq!(typed.len(), 1024);
        assert!(typed.iter().enumerate().all(|(i, n)| n.uid as usize == i));

        // The same value as an old runtime sends it: a `Vec<u8>` holding the SCALE bytes.
        let (opaque_meta, opaque_ty) = metadata_343(true);
        assert_ne!(opaque_ty, typed_ty);
        let wrapped = RECORDED.to_vec().encode();
        let opaque: Vec<NeuronInfoLite> =
            runtime_list(&wrapped, opaque_ty, opaque_meta.types(), "NeuronInfoLite").unwrap();
        assert_eq!(opaque.len(), typed.len());
        for (a, b) in typed.iter().zip(&opaque) {
            assert_eq!(
                (
                    a.uid,
                    a.hotkey.0,
                    a.coldkey.0,
                    a.emission,
                    a.last_update,
                    a.stake.len()
                ),
                (
                    b.uid,
                    b.hotkey.0,
                    b.coldkey.0,
                    b.emission,
                    b.last_update,
                    b.stake.len()
                )
            );
        }
        // Read as typed, the opaque answer is refused, not misread; and a truncated one too.
        assert!(runtime_list::<NeuronInfoLite>(
            &wrapped,
            typed_ty,
            typed_meta.types(),
            "NeuronInfoLite"
        )
        .is_err());
        let cut = RECORDED[..RECORDED.len() - 1].to_vec().encode();
        let error =
            runtime_list::<NeuronInfoLite>(&cut, opaque_ty, opaque_meta.types(), "NeuronInfoLite")
                .err()
                .expect("a truncated answer is an error");
        assert!(matches!(error, ChainError::Decode(_)), "{error}");
    }

    #[test]
    fn an_opaque_answer_from_a_runtime_that_describes_no_neuron_type_decodes_with_the_frozen_layout(
    ) {
        // Spec 218's registry has `Vec<u8>` as the output and no `NeuronInfoLite` at all.
        let mut registry = scale_info::Registry::new();
        let bytes_ty = registry
            .register_type(&scale_info::MetaType::new::<Vec<u8>>())
            .id;
        let bare: scale_info::PortableRegistry = registry.into();
        assert!(crate::decode::type_named("NeuronInfoLite", &bare).is_none());

        let (typed_meta, typed_ty) = metadata_343(false);
        let typed: Vec<NeuronInfoLite> =
            runtime_list(RECORDED, typed_ty, typed_meta.types(), "NeuronInfoLite").unwrap();
        let wrapped = RECORDED.to_vec().encode();
        let frozen: Vec<NeuronInfoLite> =
            runtime_list(&wrapped, bytes_ty, &bare, "NeuronInfoLite").unwrap();
        assert_eq!(frozen.len(), 1024);
        for (a, b) in typed.iter().zip(&frozen) {
            assert_eq!(
                (
                    a.uid,
                    a.hotkey.0,
                    a.coldkey.0,
                    a.active,
                    a.axon_info.ip,
                    a.axon_info.port
                ),
                (
                    b.uid,
                    b.hotkey.0,
                    b.coldkey.0,
                    b.active,
                    b.axon_info.ip,
                    b.axon_info.port
                )
            );
            assert_eq!(a.stake, b.stake);
            assert_eq!(
                (
                    a.rank,
                    a.emission,
                    a.incentive,
                    a.consensus,
                    a.trust,
                    a.validator_trust
                ),
                (
                    b.rank,
                    b.emission,
                    b.incentive,
                    b.consensus,
                    b.trust,
                    b.validator_trust
                )
            );
            assert_eq!(
                (
                    a.dividends,
                    a.last_update,
                    a.validator_permit,
                    a.pruning_score
                ),
                (
                    b.dividends,
                    b.last_update,
                    b.validator_permit,
                    b.pruning_score
                )
            );
        }
        // A layout that does not fit the bytes is refused, never misread.
        let cut = RECORDED[..RECORDED.len() - 1].to_vec().encode();
        assert!(runtime_list::<NeuronInfoLite>(&cut, bytes_ty, &bare, "NeuronInfoLite").is_err());
    }

    #[test]
    fn root_stakes_are_read_only_where_the_runtime_keeps_them() {
        use subxt::ext::codec::Decode as _;
        use subxt::ext::frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
        let (dtao, _) = metadata_343(false);
        assert!(has_root_stakes(&dtao));
        // A runtime from before dynamic TAO has no TotalHotkeyAlpha.
        let prefixed = RuntimeMetadataPrefixed::decode(&mut &SPEC_343_V15[..]).unwrap();
        let RuntimeMetadata::V15(mut v15) = prefixed.1 else {
            panic!("the asset is V15")
        };
        let pallet = v15
            .pallets
            .iter_mut()
            .find(|p| p.name == "SubtensorModule")
            .unwrap();
        let storage = pallet.storage.as_mut().unwrap();
        storage.entries.retain(|e| e.name != "TotalHotkeyAlpha");
        assert!(!has_root_stakes(&subxt::Metadata::from_v15(v15).unwrap()));
    }

    #[test]
    fn an_opaque_answer_names_the_type_its_metadata_lacks() {
        let (meta, ty) = metadata_343(true);
        let error = runtime_list::<NeuronInfoLite>(&[0u8].encode(), ty, meta.types(), "NoSuchInfo")
            .err()
            .unwrap();
        assert!(error.to_string().contains("NoSuchInfo"), "{error}");
    }

    #[test]
    fn tao_weight_is_a_fraction_of_u64_max() {
        assert_eq!(weighted(1_000, u64::MAX), 1_000);
        assert_eq!(weighted(1_000, u64::MAX / 2), 499);
        assert_eq!(weighted(1_000, 0), 0);
    }
}
