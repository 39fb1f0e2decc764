//! Name-addressed SCALE: values and storage keys encoded and decoded against the metadata's types,
//! so what the devnet stores is byte-for-byte what subtensor would store.

use frame_metadata::v14::StorageHasher;
use scale_info::PortableRegistry;
use scale_value::Value;

use crate::metadata::StorageItem;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("cannot encode value as type {type_id}: {reason}")]
    Encode { type_id: u32, reason: String },
    #[error("cannot decode bytes as type {type_id}: {reason}")]
    Decode { type_id: u32, reason: String },
    #[error("{pallet}.{item} takes {expected} keys, got {given}")]
    KeyCount {
        pallet: String,
        item: String,
        expected: usize,
        given: usize,
    },
    #[error("storage key of {pallet}.{item} cannot be reversed (opaque hasher)")]
    OpaqueKey { pallet: String, item: String },
}

pub fn encode(
    value: &Value,
    type_id: u32,
    types: &PortableRegistry,
) -> Result<Vec<u8>, CodecError> {
    let mut out = Vec::new();
    scale_value::scale::encode_as_type(value, type_id, types, &mut out).map_err(|e| {
        CodecError::Encode {
            type_id,
            reason: e.to_string(),
        }
    })?;
    Ok(out)
}

/// Decode exactly one value; trailing bytes are an error (they mean a type mismatch).
pub fn decode(bytes: &[u8], type_id: u32, types: &PortableRegistry) -> Result<Value, CodecError> {
    let mut cursor = bytes;
    let value = decode_prefix(&mut cursor, type_id, types)?;
    if !cursor.is_empty() {
        return Err(CodecError::Decode {
            type_id,
            reason: format!("{} trailing bytes", cursor.len()),
        });
    }
    Ok(value)
}

/// Decode one value from the front of `cursor`, advancing it.
pub fn decode_prefix(
    cursor: &mut &[u8],
    type_id: u32,
    types: &PortableRegistry,
) -> Result<Value, CodecError> {
    scale_value::scale::decode_as_type(cursor, type_id, types)
        .map(|v| v.remove_context())
        .map_err(|e| CodecError::Decode {
            type_id,
            reason: e.to_string(),
        })
}

fn hash_key(hasher: &StorageHasher, encoded: &[u8], out: &mut Vec<u8>) {
    match hasher {
        StorageHasher::Blake2_128 => out.extend(sp_crypto_hashing::blake2_128(encoded)),
        StorageHasher::Blake2_256 => out.extend(sp_crypto_hashing::blake2_256(encoded)),
        StorageHasher::Blake2_128Concat => {
            out.extend(sp_crypto_hashing::blake2_128(encoded));
            out.extend_from_slice(encoded);
        }
        StorageHasher::Twox128 => out.extend(sp_crypto_hashing::twox_128(encoded)),
        StorageHasher::Twox256 => out.extend(sp_crypto_hashing::twox_256(encoded)),
        StorageHasher::Twox64Concat => {
            out.extend(sp_crypto_hashing::twox_64(encoded));
            out.extend_from_slice(encoded);
        }
        StorageHasher::Identity => out.extend_from_slice(encoded),
    }
}

/// Bytes a hasher puts before the (possibly concatenated) encoded key.
fn hash_len(hasher: &StorageHasher) -> usize {
    match hasher {
        StorageHasher::Blake2_128 | StorageHasher::Twox128 | StorageHasher::Blake2_128Concat => 16,
        StorageHasher::Blake2_256 | StorageHasher::Twox256 => 32,
        StorageHasher::Twox64Concat => 8,
        StorageHasher::Identity => 0,
    }
}

fn is_transparent(hasher: &StorageHasher) -> bool {
    matches!(
        hasher,
        StorageHasher::Blake2_128Concat | StorageHasher::Twox64Concat | StorageHasher::Identity
    )
}

/// The storage key of `item[keys]`; `keys` may be a prefix of the item's keys (for iteration).
pub fn storage_key(
    item: &StorageItem,
    keys: &[Value],
    types: &PortableRegistry,
) -> Result<Vec<u8>, CodecError> {
    if keys.len() > item.key_types.len() {
        return Err(CodecError::KeyCount {
            pallet: item.pallet.clone(),
            item: item.item.clone(),
            expected: item.key_types.len(),
            given: keys.len(),
        });
    }
    let mut out = item.prefix.clone();
    for ((key, ty), hasher) in keys.iter().zip(&item.key_types).zip(&item.hashers) {
        let encoded = encode(key, *ty, types)?;
        hash_key(hasher, &encoded, &mut out);
    }
    Ok(out)
}

/// Recover the key values from a full storage key of `item`.
pub fn storage_key_values(
    item: &StorageItem,
    key: &[u8],
    types: &PortableRegistry,
) -> Result<Vec<Value>, CodecError> {
    let mut cursor = key.get(item.prefix.len()..).unwrap_or_default();
    let mut values = Vec::with_capacity(item.key_types.len());
    for (ty, hasher) in item.key_types.iter().zip(&item.hashers) {
        if !is_transparent(hasher) {
            return Err(CodecError::OpaqueKey {
                pallet: item.pallet.clone(),
                item: item.item.clone(),
            });
        }
        cursor = cursor.get(hash_len(hasher)..).unwrap_or_default();
        values.push(decode_prefix(&mut cursor, *ty, types)?);
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metadata::ChainMetadata;

    #[test]
    fn storage_keys_round_trip_and_match_finney() {
        let md = ChainMetadata::finney().unwrap();
        // SubtensorModule.Tempo(1) as recorded from finney (Identity hasher over u16 netuid).
        let item = md.storage_item("SubtensorModule", "Keys").unwrap();
        let key = storage_key(item, &[Value::u128(1), Value::u128(7)], md.types()).unwrap();
        let values = storage_key_values(item, &key, md.types()).unwrap();
        assert_eq!(values, vec![Value::u128(1), Value::u128(7)]);
    }
}
