//! The chain's metadata: subtensor's real finney metadata (spec 343), served as recorded and used
//! as the single source of truth for storage layout, value types and runtime-API output types.

use std::collections::HashMap;

use frame_metadata::v14::{StorageEntryModifier, StorageEntryType, StorageHasher};
use frame_metadata::v15::RuntimeMetadataV15;
use frame_metadata::{RuntimeMetadata, RuntimeMetadataPrefixed};
use parity_scale_codec::Decode;
use scale_info::PortableRegistry;

/// `RuntimeMetadataPrefixed` bytes (b"meta" + V15) recorded from finney at spec 343.
const FINNEY_V15: &[u8] = include_bytes!("../assets/finney-spec343-metadata-v15.scale");
/// The same runtime's `state_getMetadata` answer (V14), recorded alongside.
const FINNEY_V14: &[u8] = include_bytes!("../assets/finney-spec343-metadata-v14.scale");

#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("metadata bytes do not decode: {0}")]
    Undecodable(String),
    #[error("metadata is not V15")]
    NotV15,
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
    v15_bytes: Vec<u8>,
    v14_bytes: Vec<u8>,
    v15: RuntimeMetadataV15,
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
    /// Subtensor's finney metadata at spec 343 (the devnet's runtime).
    pub fn finney() -> Result<Self, MetadataError> {
        Self::from_bytes(FINNEY_V15.to_vec(), FINNEY_V14.to_vec())
    }

    pub fn from_bytes(v15_bytes: Vec<u8>, v14_bytes: Vec<u8>) -> Result<Self, MetadataError> {
        let prefixed = RuntimeMetadataPrefixed::decode(&mut &v15_bytes[..])
            .map_err(|e| MetadataError::Undecodable(e.to_string()))?;
        let RuntimeMetadata::V15(v15) = prefixed.1 else {
            return Err(MetadataError::NotV15);
        };
        let storage = index_storage(&v15);
        let apis = index_apis(&v15);
        Ok(Self {
            v15_bytes,
            v14_bytes,
            v15,
            storage,
            apis,
        })
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
}
