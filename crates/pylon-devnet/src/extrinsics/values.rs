//! Reading plain numbers, bytes and accounts out of decoded `scale_value::Value`s.
//!
//! Subtensor wraps many primitives in newtypes (`NetUid(u16)`, `AccountId32([u8; 32])`,
//! `TaoCurrency(u64)`), which decode as single-field composites; these helpers look through them.

use scale_value::{Composite, Primitive, Value, ValueDef};

/// The only value inside a chain of single-field composites (a newtype), or the value itself.
fn unwrap_newtype(mut value: &Value) -> &Value {
    loop {
        match &value.value {
            ValueDef::Composite(c) if c.len() == 1 => {
                value = c.values().next().expect("length checked");
            }
            _ => return value,
        }
    }
}

pub fn uint(value: &Value) -> Option<u128> {
    unwrap_newtype(value).as_u128()
}

pub fn boolean(value: &Value) -> Option<bool> {
    unwrap_newtype(value).as_bool()
}

/// A byte string or byte array (`Vec<u8>`, `[u8; N]`, `AccountId32`, `H256`, `BoundedVec<u8>`).
pub fn bytes(value: &Value) -> Option<Vec<u8>> {
    let mut value = value;
    // A newtype around a byte array; stop before unwrapping a 1-byte array into its only byte.
    while let ValueDef::Composite(c) = &value.value {
        let first = c.values().next();
        match first {
            Some(inner) if c.len() == 1 && matches!(inner.value, ValueDef::Composite(_)) => {
                value = inner
            }
            _ => break,
        }
    }
    match &value.value {
        ValueDef::Composite(c) => c
            .values()
            .map(|v| v.as_u128().and_then(|n| u8::try_from(n).ok()))
            .collect(),
        ValueDef::Primitive(Primitive::String(s)) => Some(s.as_bytes().to_vec()),
        _ => None,
    }
}

pub fn account(value: &Value) -> Option<[u8; 32]> {
    bytes(value)?.try_into().ok()
}

/// A sequence of unsigned numbers (`Vec<u16>`, `Vec<u64>`, `Vec<Compact<u16>>`).
pub fn uints(value: &Value) -> Option<Vec<u128>> {
    match &unwrap_newtype_seq(value).value {
        ValueDef::Composite(c) => c.values().map(uint).collect(),
        _ => None,
    }
}

/// A sequence of booleans (`Vec<bool>`).
pub fn bools(value: &Value) -> Option<Vec<bool>> {
    match &value.value {
        ValueDef::Composite(c) => c.values().map(boolean).collect(),
        _ => None,
    }
}

/// Sequences are composites too; only unwrap a newtype whose single field is itself a sequence.
pub fn unwrap_newtype_seq(value: &Value) -> &Value {
    match &value.value {
        ValueDef::Composite(c) if c.len() == 1 => {
            let inner = c.values().next().expect("length checked");
            if matches!(inner.value, ValueDef::Composite(_)) {
                inner
            } else {
                value
            }
        }
        _ => value,
    }
}

/// Field `name` of a struct-like value, or of a variant's named fields.
pub fn field<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    let composite = match &value.value {
        ValueDef::Composite(c) => c,
        ValueDef::Variant(v) => &v.values,
        _ => return None,
    };
    match composite {
        Composite::Named(fields) => fields.iter().find(|(n, _)| n == name).map(|(_, v)| v),
        Composite::Unnamed(_) => None,
    }
}

/// Variant name and its fields.
pub fn variant(value: &Value) -> Option<(&str, &Composite<()>)> {
    match &value.value {
        ValueDef::Variant(v) => Some((v.name.as_str(), &v.values)),
        _ => None,
    }
}

/// Replace (or add) a named field of a struct value.
pub fn set_field(value: &mut Value, name: &str, new: Value) {
    if let ValueDef::Composite(Composite::Named(fields)) = &mut value.value {
        match fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = new,
            None => fields.push((name.to_owned(), new)),
        }
    }
}

pub fn u(n: impl Into<u128>) -> Value {
    Value::u128(n.into())
}

pub fn account_value(id: &[u8; 32]) -> Value {
    Value::from_bytes(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_through_newtypes() {
        let netuid = Value::unnamed_composite([Value::u128(3)]);
        assert_eq!(uint(&netuid), Some(3));
        let account_id = Value::unnamed_composite([Value::from_bytes([7u8; 32])]);
        assert_eq!(account(&account_id), Some([7u8; 32]));
        let one_byte = Value::from_bytes([9u8]);
        assert_eq!(bytes(&one_byte), Some(vec![9]));
        let seq = Value::unnamed_composite([Value::u128(1), Value::u128(2)]);
        assert_eq!(uints(&seq), Some(vec![1, 2]));
    }
}
