//! The chain's metadata: subtensor's real finney metadata, served as recorded and used as the
//! single source of truth for storage layout, value types and runtime-API output types.
//!
//! Two runtimes are known. Spec 424 (the default) is recorded as V16; its V15 and V14 are derived
//! from it ([`convert`]) for clients that ask for them. Spec 343 is recorded as V15 and V14.
//! Internally the devnet reads the V15 description (recorded or derived) of either.

pub mod convert;

use std::collections::HashMap;

use frame_metadata::v14::{StorageEntryModifier, StorageEntryType, StorageHasher};
use frame_metadata::v15::RuntimeMetadataV15;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed, META_RESERVED};
use parity_scale_codec::{Decode, Encode};
use scale_info::PortableRegistry;

/// `RuntimeMetadataPrefixed` bytes (b"meta" + V15) recorded from finney at spec 343.
const FINNEY_343_V15: &[u8] = include_bytes!("../assets/finney-spec343-metadata-v15.scale");
/// The same runtime's `state_getMetadata` answer (V14), recorded alongside.
const FINNEY_343_V14: &[u8] = include_bytes!("../assets/finney-spec343-metadata-v14.scale");
/// `RuntimeMetadataPrefixed` bytes (b"meta" + 0x10 + V16) of finney's runtime at spec 424.
const FINNEY_424_V16: &[u8] = include_bytes!("../assets/finney-spec424-metadata-v16.scale");

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata bytes do not decode: {0}")]
    Undecodable(String),
    #[error("metadata is not V{0}")]
    WrongVersion(u32),
    #[error("no storage item {pallet}.{item} in the metadata")]
    UnknownStorage { pallet: String, item: String },
}

/// Layout of one storage item, resolved from the metadata once.
#[derive(Debug, Clone)]
pub struct StorageItem {
    pub pallet: String,
    pub item: String,
    /// twox128(pallet prefix) ++ twox128(item name).
    pub prefix: Vec<u8>,
    pub hashers: Vec<StorageHasher>,
    /// One type id per key (a multi-key map's key tuple is split into its fields).
    pub key_types: Vec<u32>,
    pub value_type: u32,
    /// SCALE default of a `ValueQuery` item.
    pub default: Vec<u8>,
    /// `OptionQuery`: absent reads as `None` instead of the default.
    pub optional: bool,
}

/// A runtime-API method as `state_call` names it (`Trait_method`).
#[derive(Debug, Clone)]
pub struct RuntimeApiMethod {
    pub input_types: Vec<(String, u32)>,
    pub output_type: u32,
}

pub struct ChainMetadata {
    /// `RuntimeMetadataPrefixed` bytes of V16, for runtimes that serve it.
    v16_bytes: Option<Vec<u8>>,
    v15_bytes: Vec<u8>,
    v14_bytes: Vec<u8>,
    v15: RuntimeMetadataV15,
    /// `(blake2_64(trait name), version)` of every runtime API, when the metadata says (V16).
    api_versions: Option<Vec<([u8; 8], u32)>>,
    /// pallet name → item name → layout (nested so lookups by `&str` do not allocate).
    storage: HashMap<String, HashMap<String, StorageItem>>,
    apis: HashMap<String, RuntimeApiMethod>,
}

impl std::fmt::Debug for ChainMetadata {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChainMetadata")
            .field("pallets", &self.v15.pallets.len())
            .field("types", &self.v15.types.types.len())
            .finish()
    }
}

impl ChainMetadata {
    /// Subtensor's finney metadata at spec 424 (the devnet's default runtime).
    pub fn finney() -> Result<Self, MetadataError> {
        Self::from_v16_bytes(FINNEY_424_V16.to_vec())
    }

    /// Subtensor's finney metadata at spec 343 (the `--runtime 343` profile).
    pub fn finney_343() -> Result<Self, MetadataError> {
        Self::from_bytes(FINNEY_343_V15.to_vec(), FINNEY_343_V14.to_vec())
    }

    /// A runtime recorded as V15 and V14.
    pub fn from_bytes(v15_bytes: Vec<u8>, v14_bytes: Vec<u8>) -> Result<Self, MetadataError> {
        let RuntimeMetadata::V15(v15) = decode_prefixed(&v15_bytes)? else {
            return Err(MetadataError::WrongVersion(15));
        };
        Ok(Self::index(None, v15_bytes, v14_bytes, v15, None))
    }

    /// A runtime recorded as V16: V15 and V14 are derived from it.
    pub fn from_v16_bytes(v16_bytes: Vec<u8>) -> Result<Self, MetadataError> {
        let RuntimeMetadata::V16(v16) = decode_prefixed(&v16_bytes)? else {
            return Err(MetadataError::WrongVersion(16));
        };
        let api_versions = v16
            .apis
            .iter()
            .map(|api| {
                (
                    sp_crypto_hashing::blake2_64(api.name.as_bytes()),
                    api.version.0,
                )
            })
            .collect();
        let v15 = convert::v16_to_v15(v16);
        let v14 = convert::v15_to_v14(v15.clone());
        let v15_bytes =
            RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V15(v15.clone())).encode();
        let v14_bytes = RuntimeMetadataPrefixed(META_RESERVED, RuntimeMetadata::V14(v14)).encode();
        Ok(Self::index(
            Some(v16_bytes),
            v15_bytes,
            v14_bytes,
            v15,
            Some(api_versions),
        ))
    }

    fn index(
        v16_bytes: Option<Vec<u8>>,
        v15_bytes: Vec<u8>,
        v14_bytes: Vec<u8>,
        v15: RuntimeMetadataV15,
        api_versions: Option<Vec<([u8; 8], u32)>>,
    ) -> Self {
        let storage = index_storage(&v15);
        let apis = index_apis(&v15);
        Self {
            v16_bytes,
            v15_bytes,
            v14_bytes,
            v15,
            api_versions,
            storage,
            apis,
        }
    }

    /// `RuntimeMetadataPrefixed` bytes of metadata `version`, if the runtime serves it.
    pub fn bytes_at_version(&self, version: u32) -> Option<&[u8]> {
        match version {
            14 => Some(&self.v14_bytes),
            15 => Some(&self.v15_bytes),
            16 => self.v16_bytes.as_deref(),
            _ => None,
        }
    }

    /// The metadata versions the runtime serves (`Metadata_metadata_versions`).
    pub fn versions(&self) -> Vec<u32> {
        let mut out = vec![14, 15];
        if self.v16_bytes.is_some() {
            out.push(16);
        }
        out
    }

    /// `(blake2_64(trait name), version)` of every runtime API, as V16 metadata states them.
    pub fn api_versions(&self) -> Option<&[([u8; 8], u32)]> {
        self.api_versions.as_deref()
    }

    /// A pallet constant's SCALE bytes.
    pub fn constant_bytes(&self, pallet: &str, name: &str) -> Option<&[u8]> {
        self.v15
            .pallets
            .iter()
            .find(|p| p.name == pallet)?
            .constants
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.value.as_slice())
    }

    pub fn types(&self) -> &PortableRegistry {
        &self.v15.types
    }

    pub fn v15(&self) -> &RuntimeMetadataV15 {
        &self.v15
    }

    /// `RuntimeMetadataPrefixed` bytes of the V15 metadata.
    pub fn v15_bytes(&self) -> &[u8] {
        &self.v15_bytes
    }

    /// `RuntimeMetadataPrefixed` bytes of the V14 metadata (what `state_getMetadata` serves).
    pub fn v14_bytes(&self) -> &[u8] {
        &self.v14_bytes
    }

    pub fn storage_item(&self, pallet: &str, item: &str) -> Result<&StorageItem, MetadataError> {
        self.storage
            .get(pallet)
            .and_then(|items| items.get(item))
            .ok_or_else(|| MetadataError::UnknownStorage {
                pallet: pallet.to_owned(),
                item: item.to_owned(),
            })
    }

    /// A runtime-API method by its `state_call` name, e.g. `NeuronInfoRuntimeApi_get_neurons_lite`.
    pub fn runtime_api(&self, call_name: &str) -> Option<&RuntimeApiMethod> {
        self.apis.get(call_name)
    }

    /// Type id of the outer `RuntimeEvent` enum.
    pub fn event_enum_type(&self) -> u32 {
        self.v15.outer_enums.event_enum_ty.id
    }

    /// Type id of the outer `RuntimeCall` enum.
    pub fn call_enum_type(&self) -> u32 {
        self.v15.outer_enums.call_enum_ty.id
    }
}

fn decode_prefixed(bytes: &[u8]) -> Result<RuntimeMetadata, MetadataError> {
    RuntimeMetadataPrefixed::decode(&mut &bytes[..])
        .map(|p| p.1)
        .map_err(|e| MetadataError::Undecodable(e.to_string()))
}

fn index_storage(v15: &RuntimeMetadataV15) -> HashMap<String, HashMap<String, StorageItem>> {
    let mut out: HashMap<String, HashMap<String, StorageItem>> = HashMap::new();
    for pallet in &v15.pallets {
        let Some(storage) = &pallet.storage else {
            continue;
        };
        for entry in &storage.entries {
            let (hashers, key_types, value_type) = match &entry.ty {
                StorageEntryType::Plain(ty) => (Vec::new(), Vec::new(), ty.id),
                StorageEntryType::Map {
                    hashers,
                    key,
                    value,
                } => {
                    let key_types = if hashers.len() == 1 {
                        vec![key.id]
                    } else {
                        tuple_fields(&v15.types, key.id)
                    };
                    (hashers.clone(), key_types, value.id)
                }
            };
            let mut prefix = sp_crypto_hashing::twox_128(storage.prefix.as_bytes()).to_vec();
            prefix.extend_from_slice(&sp_crypto_hashing::twox_128(entry.name.as_bytes()));
            out.entry(pallet.name.clone()).or_default().insert(
                entry.name.clone(),
                StorageItem {
                    pallet: pallet.name.clone(),
                    item: entry.name.clone(),
                    prefix,
                    hashers,
                    key_types,
                    value_type,
                    default: entry.default.clone(),
                    optional: matches!(entry.modifier, StorageEntryModifier::Optional),
                },
            );
        }
    }
    out
}

fn tuple_fields(types: &PortableRegistry, id: u32) -> Vec<u32> {
    match types.resolve(id).map(|t| &t.type_def) {
        Some(scale_info::TypeDef::Tuple(tuple)) => tuple.fields.iter().map(|f| f.id).collect(),
        _ => vec![id],
    }
}

fn index_apis(v15: &RuntimeMetadataV15) -> HashMap<String, RuntimeApiMethod> {
    let mut out = HashMap::new();
    for api in &v15.apis {
        for method in &api.methods {
            out.insert(
                format!("{}_{}", api.name, method.name),
                RuntimeApiMethod {
                    input_types: method
                        .inputs
                        .iter()
                        .map(|p| (p.name.clone(), p.ty.id))
                        .collect(),
                    output_type: method.output.id,
                },
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finney_metadata_has_subtensor_items_and_apis() {
        let md = ChainMetadata::finney().unwrap();
        let keys = md.storage_item("SubtensorModule", "Keys").unwrap();
        assert_eq!(keys.key_types.len(), 2);
        assert!(md
            .runtime_api("NeuronInfoRuntimeApi_get_neurons_lite")
            .is_some());
        assert!(md.storage_item("Commitments", "CommitmentOf").is_ok());
    }

    fn subxt_view(bytes: &[u8]) -> subxt::metadata::Metadata {
        subxt::metadata::Metadata::decode_from(bytes).expect("subxt decodes the metadata")
    }

    fn extension_names(md: &subxt::metadata::Metadata) -> Vec<String> {
        md.extrinsic()
            .transaction_extensions_by_version(0)
            .expect("extension version 0 (what V4 extrinsics use)")
            .map(|e| e.identifier().to_owned())
            .collect()
    }

    #[test]
    fn spec_424_serves_v16_and_derived_v15_and_v14_that_subxt_reads_alike() {
        let md = ChainMetadata::finney().unwrap();
        assert_eq!(md.versions(), vec![14, 15, 16]);
        assert_eq!(md.bytes_at_version(16), Some(FINNEY_424_V16));
        assert!(md.bytes_at_version(13).is_none());
        let v16 = subxt_view(md.bytes_at_version(16).unwrap());
        let v15 = subxt_view(md.bytes_at_version(15).unwrap());
        let v14 = subxt_view(md.bytes_at_version(14).unwrap());
        for derived in [&v15, &v14] {
            let names = |m: &subxt::metadata::Metadata| {
                m.pallets().map(|p| p.name().to_owned()).collect::<Vec<_>>()
            };
            assert_eq!(names(derived), names(&v16));
            assert_eq!(extension_names(derived), extension_names(&v16));
            let sm = |m: &subxt::metadata::Metadata| {
                m.pallet_by_name("SubtensorModule")
                    .and_then(|p| p.storage())
                    .map(|s| s.entries().len())
            };
            assert_eq!(sm(derived), sm(&v16));
            assert!(derived.extrinsic().supported_versions().contains(&4));
        }
        assert_eq!(extension_names(&v16).len(), 13);
        assert!(extension_names(&v16).contains(&"CheckShieldedTxValidity".to_owned()));
        let apis = |m: &subxt::metadata::Metadata| {
            m.runtime_api_traits()
                .map(|a| a.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(apis(&v15), apis(&v16));
        // V14 has no runtime APIs; V15 has no API versions: the devnet keeps them for Core_version.
        assert_eq!(md.api_versions().map(<[_]>::len), Some(apis(&v16).len()));
        // 424's layout: the stateful schedule is there, the retired per-neuron columns are not.
        assert!(md
            .storage_item("SubtensorModule", "SubnetEpochIndex")
            .is_ok());
        assert!(md.storage_item("SubtensorModule", "Rank").is_err());
        assert!(md.storage_item("SubtensorModule", "PruningScores").is_err());
        assert!(md
            .runtime_api("SubnetInfoRuntimeApi_get_next_epoch_start_block")
            .is_some());
    }

    #[test]
    fn spec_343_serves_its_recorded_v15_and_v14() {
        let md = ChainMetadata::finney_343().unwrap();
        assert_eq!(md.versions(), vec![14, 15]);
        assert_eq!(md.bytes_at_version(15), Some(FINNEY_343_V15));
        assert!(md.bytes_at_version(16).is_none());
        assert!(md.storage_item("SubtensorModule", "Rank").is_ok());
        assert!(md
            .storage_item("SubtensorModule", "SubnetEpochIndex")
            .is_err());
    }
}
