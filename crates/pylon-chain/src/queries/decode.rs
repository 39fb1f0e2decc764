//! Small helpers shared by the queries: account ids, byte strings and dynamic values.

use parity_scale_codec::{Compact, Decode};
use scale_decode::DecodeAsType;
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use scale_value::{Composite, Primitive, Value, ValueDef};
use subxt::utils::AccountId32;

use crate::error::ChainError;
use crate::frozen_types::frozen_type;

/// ss58 (prefix 42) of a 32-byte account id.
pub(crate) fn ss58(bytes: [u8; 32]) -> String {
    AccountId32(bytes).to_string()
}

/// Every u8 in a value, in order: byte strings arrive as (possibly nested) composites of u8.
pub(crate) fn bytes_of<T>(value: &Value<T>) -> Vec<u8> {
    let mut out = Vec::new();
    collect_bytes(value, &mut out);
    out
}

fn collect_bytes<T>(value: &Value<T>, out: &mut Vec<u8>) {
    match &value.value {
        ValueDef::Primitive(Primitive::U128(n)) => out.push(*n as u8),
        ValueDef::Composite(composite) => composite.values().for_each(|v| collect_bytes(v, out)),
        ValueDef::Variant(variant) => variant.values.values().for_each(|v| collect_bytes(v, out)),
        _ => {}
    }
}

/// A 32-byte account id held in a value (an `AccountId32([u8; 32])` composite).
pub(crate) fn account_of<T>(value: &Value<T>) -> Option<[u8; 32]> {
    bytes_of(value).try_into().ok()
}

/// A dynamic value (decoded with type ids as context) as JSON the way Substrate tooling shows it:
/// byte strings and byte arrays as `0x` hex, named composites as objects, newtypes as their
/// content, variants as `{name: fields}` or the bare name when they carry nothing.
pub(crate) fn to_json(value: &Value<u32>, types: &PortableRegistry) -> serde_json::Value {
    use serde_json::Value as J;
    match &value.value {
        ValueDef::Primitive(p) => match p {
            Primitive::Bool(b) => J::Bool(*b),
            Primitive::Char(c) => J::String(c.to_string()),
            Primitive::String(s) => J::String(s.clone()),
            Primitive::U128(n) => number(*n),
            Primitive::I128(n) => i64::try_from(*n)
                .map(J::from)
                .unwrap_or_else(|_| J::String(n.to_string())),
            Primitive::U256(b) | Primitive::I256(b) => J::String(format!("0x{}", hex::encode(b))),
        },
        ValueDef::Composite(composite) => {
            if is_byte_string(value.context, types) {
                J::String(format!("0x{}", hex::encode(bytes_of(value))))
            } else {
                composite_json(composite, types)
            }
        }
        ValueDef::Variant(variant) => {
            if variant.values.is_empty() {
                J::String(variant.name.clone())
            } else {
                let mut map = serde_json::Map::new();
                map.insert(variant.name.clone(), composite_json(&variant.values, types));
                J::Object(map)
            }
        }
        ValueDef::BitSequence(bits) => J::String(format!("{bits:?}")),
    }
}

/// A sequence or array of u8.
fn is_byte_string(type_id: u32, types: &PortableRegistry) -> bool {
    let Some(ty) = types.resolve(type_id) else {
        return false;
    };
    let element = match &ty.type_def {
        TypeDef::Sequence(seq) => seq.type_param.id,
        TypeDef::Array(array) => array.type_param.id,
        _ => return false,
    };
    matches!(
        types.resolve(element).map(|t| &t.type_def),
        Some(TypeDef::Primitive(TypeDefPrimitive::U8))
    )
}

fn number(n: u128) -> serde_json::Value {
    // JSON numbers above 2^53 lose precision in most readers: send those as strings.
    if n <= (1u128 << 53) {
        serde_json::Value::from(n as u64)
    } else {
        serde_json::Value::String(n.to_string())
    }
}

fn composite_json(composite: &Composite<u32>, types: &PortableRegistry) -> serde_json::Value {
    match composite {
        Composite::Named(fields) => serde_json::Value::Object(
            fields
                .iter()
                .map(|(name, v)| (name.clone(), to_json(v, types)))
                .collect(),
        ),
        // Newtype wrappers (e.g. `AccountId32([u8; 32])`) render as their content.
        Composite::Unnamed(values) if values.len() == 1 => to_json(&values[0], types),
        Composite::Unnamed(values) => {
            serde_json::Value::Array(values.iter().map(|v| to_json(v, types)).collect())
        }
    }
}

/// A short, readable name of a type: primitives by name, `Vec<_>`, `Compact<_>`, else its path's
/// last segment.
pub(crate) fn type_name(type_id: u32, types: &PortableRegistry) -> String {
    let Some(ty) = types.resolve(type_id) else {
        return format!("#{type_id}");
    };
    match &ty.type_def {
        TypeDef::Primitive(p) => format!("{p:?}").to_ascii_lowercase(),
        TypeDef::Sequence(seq) => format!("Vec<{}>", type_name(seq.type_param.id, types)),
        TypeDef::Array(a) => format!("[{}; {}]", type_name(a.type_param.id, types), a.len),
        TypeDef::Compact(c) => format!("Compact<{}>", type_name(c.type_param.id, types)),
        TypeDef::Tuple(t) => format!(
            "({})",
            t.fields
                .iter()
                .map(|f| type_name(f.id, types))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => ty
            .path
            .segments
            .last()
            .cloned()
            .unwrap_or_else(|| format!("#{type_id}")),
    }
}

/// A runtime API answer that is a list of `element` values, decoded as `Vec<T>`.
///
/// Current runtimes declare the list's type as the output (`Vec<NeuronInfoLite>`), and the answer
/// decodes with it. Old ones (spec 218 and before) declare an opaque `Vec<u8>` whose content is
/// the SCALE-encoded list: then the inner bytes are decoded with the type the block's own
/// registry names `element`, as async-substrate-interface does. Trailing bytes are an error
/// either way: an answer only partly understood is not an answer.
pub(crate) fn runtime_list<T: DecodeAsType>(
    bytes: &[u8],
    output_ty: u32,
    types: &PortableRegistry,
    element: &str,
) -> Result<Vec<T>, ChainError> {
    let cannot = |what: String| ChainError::Decode(format!("{element} list: {what}"));
    if !is_byte_string(output_ty, types) {
        let input = &mut &bytes[..];
        let list =
            Vec::<T>::decode_as_type(input, output_ty, types).map_err(|e| cannot(e.to_string()))?;
        return finished(input, list).map_err(cannot);
    }
    let inner = Vec::<u8>::decode(&mut &bytes[..])
        .map_err(|e| cannot(format!("the opaque answer is not a byte string: {e}")))?;
    // The block's own description first; a runtime that describes none (spec 218) gets the
    // layout subtensor froze for the type, as async-substrate-interface decodes it.
    let frozen;
    let (element_ty, types) = match type_named(element, types) {
        Some(id) => (id, types),
        None => {
            frozen = frozen_type(element).ok_or_else(|| {
                cannot(
                    "the runtime answers opaque bytes and its metadata describes no such type"
                        .into(),
                )
            })?;
            (frozen.1, &frozen.0)
        }
    };
    let input = &mut &inner[..];
    let Compact(count) = Compact::<u32>::decode(input).map_err(|e| cannot(e.to_string()))?;
    // Every element takes at least a byte: a count beyond the bytes left is a lie, not a size.
    let mut list = Vec::with_capacity((count as usize).min(input.len()));
    for _ in 0..count {
        list.push(T::decode_as_type(input, element_ty, types).map_err(|e| cannot(e.to_string()))?);
    }
    finished(input, list).map_err(cannot)
}

fn finished<T>(rest: &[u8], value: T) -> Result<T, String> {
    if rest.is_empty() {
        Ok(value)
    } else {
        Err(format!("{} bytes left over", rest.len()))
    }
}

/// The id of the composite type whose path ends in `name` (`NeuronInfoLite`), if the registry
/// has one.
pub(crate) fn type_named(name: &str, types: &PortableRegistry) -> Option<u32> {
    types
        .types
        .iter()
        .find(|ty| {
            ty.ty.path.segments.last().is_some_and(|last| last == name)
                && matches!(ty.ty.type_def, TypeDef::Composite(_))
        })
        .map(|ty| ty.id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_are_collected_through_newtype_wrappers() {
        let bytes = Value::unnamed_composite([Value::u128(1), Value::u128(255)]);
        let wrapped = Value::unnamed_composite([bytes]);
        assert_eq!(bytes_of(&wrapped), vec![1, 255]);
        assert_eq!(account_of(&wrapped), None);
    }
}
