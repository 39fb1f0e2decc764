//! Chain state: a raw storage-key → SCALE-value map, shared structurally between blocks so every
//! block keeps its own cheap snapshot, and the name-addressed [`StateAccess`] view over it.

use std::sync::Arc;

use scale_info::TypeDef;
use scale_value::{Composite, Value, ValueDef};

use crate::codec;
use crate::metadata::ChainMetadata;
use crate::state_access::StateAccess;

/// Raw storage of one block. Cloning is O(1); blocks share unchanged subtrees.
pub type RawState = im::OrdMap<Vec<u8>, Vec<u8>>;

/// Where in the block an event was emitted (`frame_system::Phase`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    ApplyExtrinsic(u32),
    Finalization,
    Initialization,
}

impl Phase {
    fn to_value(self) -> Value {
        match self {
            Phase::ApplyExtrinsic(i) => {
                Value::unnamed_variant("ApplyExtrinsic", [Value::u128(i.into())])
            }
            Phase::Finalization => Value::unnamed_variant("Finalization", []),
            Phase::Initialization => Value::unnamed_variant("Initialization", []),
        }
    }
}

/// The state of the block being built (or of a past block, read-only use), addressed by names.
pub struct BlockState {
    meta: Arc<ChainMetadata>,
    pub raw: RawState,
    events: Vec<Value>,
    phase: Phase,
    number: u32,
}

impl BlockState {
    pub fn new(meta: Arc<ChainMetadata>, raw: RawState, number: u32) -> Self {
        Self {
            meta,
            raw,
            events: Vec::new(),
            phase: Phase::Initialization,
            number,
        }
    }

    pub fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
    }

    /// Events recorded so far, and how many (for rolling back an invalid extrinsic).
    pub fn event_count(&self) -> usize {
        self.events.len()
    }

    pub fn truncate_events(&mut self, len: usize) {
        self.events.truncate(len);
    }

    /// Store the collected events in `System.Events` (done once, when the block is sealed).
    pub fn flush_events(&mut self) {
        let events = std::mem::take(&mut self.events);
        let count = events.len() as u128;
        self.write("System", "Events", &[], Value::unnamed_composite(events));
        self.write("System", "EventCount", &[], Value::u128(count));
    }

    pub fn metadata(&self) -> &ChainMetadata {
        &self.meta
    }

    fn key(&self, pallet: &str, item: &str, keys: &[Value]) -> Vec<u8> {
        let entry = self
            .meta
            .storage_item(pallet, item)
            .unwrap_or_else(|e| panic!("runtime logic bug: {e}"));
        codec::storage_key(entry, keys, self.meta.types())
            .unwrap_or_else(|e| panic!("runtime logic bug in {pallet}.{item} key: {e}"))
    }
}

impl StateAccess for BlockState {
    fn read(&self, pallet: &str, item: &str, keys: &[Value]) -> Option<Value> {
        let entry = self.meta.storage_item(pallet, item).ok()?;
        let key = self.key(pallet, item, keys);
        match self.raw.get(&key) {
            Some(bytes) => codec::decode(bytes, entry.value_type, self.meta.types()).ok(),
            None if entry.optional => None,
            None => codec::decode(&entry.default, entry.value_type, self.meta.types()).ok(),
        }
    }

    fn write(&mut self, pallet: &str, item: &str, keys: &[Value], value: Value) {
        let entry = self
            .meta
            .storage_item(pallet, item)
            .unwrap_or_else(|e| panic!("runtime logic bug: {e}"));
        let bytes = codec::encode(&value, entry.value_type, self.meta.types())
            .unwrap_or_else(|e| panic!("runtime logic bug writing {pallet}.{item}: {e}"));
        let key = self.key(pallet, item, keys);
        self.raw.insert(key, bytes);
    }

    fn remove(&mut self, pallet: &str, item: &str, keys: &[Value]) {
        let key = self.key(pallet, item, keys);
        self.raw.remove(&key);
    }

    fn iter_prefix(&self, pallet: &str, item: &str, keys: &[Value]) -> Vec<(Vec<Value>, Value)> {
        let Ok(entry) = self.meta.storage_item(pallet, item) else {
            return Vec::new();
        };
        let prefix = self.key(pallet, item, keys);
        let types = self.meta.types();
        self.raw
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter_map(|(k, v)| {
                let keys = codec::storage_key_values(entry, k, types).ok()?;
                let value = codec::decode(v, entry.value_type, types).ok()?;
                Some((keys, value))
            })
            .collect()
    }

    fn deposit_event(&mut self, pallet: &str, event: &str, fields: Vec<(&str, Value)>) {
        let inner = event_value(&self.meta, pallet, event, fields)
            .unwrap_or_else(|| panic!("runtime logic bug: no event {pallet}.{event}"));
        let record = Value::named_composite([
            ("phase", self.phase.to_value()),
            ("event", Value::unnamed_variant(pallet, [inner])),
            ("topics", Value::unnamed_composite([])),
        ]);
        self.events.push(record);
    }

    fn block_number(&self) -> u32 {
        self.number
    }

    fn has_item(&self, pallet: &str, item: &str) -> bool {
        self.meta.storage_item(pallet, item).is_ok()
    }
}

/// `pallet`'s event variant `event` with `fields` by name; fields not given take their zero value,
/// and unnamed metadata fields are filled in declaration order.
fn event_value(
    meta: &ChainMetadata,
    pallet: &str,
    event: &str,
    fields: Vec<(&str, Value)>,
) -> Option<Value> {
    let pallet_md = meta.v15().pallets.iter().find(|p| p.name == pallet)?;
    let event_ty = pallet_md.event.as_ref()?.ty.id;
    let types = meta.types();
    let TypeDef::Variant(variants) = &types.resolve(event_ty)?.type_def else {
        return None;
    };
    let variant = variants.variants.iter().find(|v| v.name == event)?;
    let named = variant.fields.iter().all(|f| f.name.is_some());
    let mut given = fields;
    let values: Vec<(String, Value)> = variant
        .fields
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let name = f.name.clone().unwrap_or_default();
            let pos = if named {
                given.iter().position(|(n, _)| *n == name)
            } else if i < given.len() {
                Some(i)
            } else {
                None
            };
            let value = match pos {
                Some(p) => std::mem::replace(&mut given[p].1, Value::bool(false)),
                None => zero_value(types, f.ty.id),
            };
            (name, value)
        })
        .collect();
    Some(if named {
        Value::named_variant(event, values)
    } else {
        Value::unnamed_variant(event, values.into_iter().map(|(_, v)| v))
    })
}

/// The all-zero value of a type: numbers 0, empty sequences, `None`, first enum variant.
/// Runtime-API outputs start from this and get their known fields filled by name, so fields the
/// devnet does not model still encode exactly as the real type.
pub fn zero_value(types: &scale_info::PortableRegistry, type_id: u32) -> Value {
    use scale_info::TypeDefPrimitive as P;
    let Some(ty) = types.resolve(type_id) else {
        return Value::unnamed_composite([]);
    };
    match &ty.type_def {
        TypeDef::Composite(c) => fields_value(types, &c.fields),
        TypeDef::Variant(v) => {
            let variant = v
                .variants
                .iter()
                .find(|var| var.name == "None")
                .or_else(|| v.variants.first());
            match variant {
                Some(var) => Value {
                    value: ValueDef::Variant(scale_value::Variant {
                        name: var.name.clone(),
                        values: match fields_value(types, &var.fields).value {
                            ValueDef::Composite(c) => c,
                            _ => Composite::Unnamed(vec![]),
                        },
                    }),
                    context: (),
                },
                None => Value::unnamed_composite([]),
            }
        }
        TypeDef::Sequence(_) => Value::unnamed_composite([]),
        TypeDef::Array(a) => {
            Value::unnamed_composite((0..a.len).map(|_| zero_value(types, a.type_param.id)))
        }
        TypeDef::Tuple(t) => {
            Value::unnamed_composite(t.fields.iter().map(|f| zero_value(types, f.id)))
        }
        TypeDef::Primitive(p) => match p {
            P::Bool => Value::bool(false),
            P::Char => Value::char('\0'),
            P::Str => Value::string(""),
            P::I8 | P::I16 | P::I32 | P::I64 | P::I128 | P::I256 => Value::i128(0),
            _ => Value::u128(0),
        },
        TypeDef::Compact(c) => zero_value(types, c.type_param.id),
        TypeDef::BitSequence(_) => Value::bit_sequence(scale_value::BitSequence::new()),
    }
}

fn fields_value(
    types: &scale_info::PortableRegistry,
    fields: &[scale_info::Field<scale_info::form::PortableForm>],
) -> Value {
    if !fields.is_empty() && fields.iter().all(|f| f.name.is_some()) {
        Value::named_composite(fields.iter().map(|f| {
            (
                f.name.clone().unwrap_or_default(),
                zero_value(types, f.ty.id),
            )
        }))
    } else {
        Value::unnamed_composite(fields.iter().map(|f| zero_value(types, f.ty.id)))
    }
}

/// Replace named fields of a composite value (fields the type lacks are ignored, so one
/// builder serves several versions of a runtime-API struct).
pub fn with_fields(mut value: Value, fields: Vec<(&str, Value)>) -> Value {
    if let ValueDef::Composite(Composite::Named(named)) = &mut value.value {
        for (name, v) in fields {
            if let Some(slot) = named.iter_mut().find(|(n, _)| n == name) {
                slot.1 = v;
            }
        }
    }
    value
}

/// A struct of type `ty` from named fields: fields not given, or given with a value that does
/// not fit the field's type, keep their zero value. Lets one builder serve every version of a
/// runtime-API struct without ever failing the whole answer over one field.
pub fn build_struct(
    types: &scale_info::PortableRegistry,
    ty: u32,
    fields: Vec<(&str, Value)>,
) -> Value {
    let Some(TypeDef::Composite(composite)) = types.resolve(ty).map(|t| &t.type_def) else {
        return zero_value(types, ty);
    };
    let mut value = zero_value(types, ty);
    if let ValueDef::Composite(Composite::Named(named)) = &mut value.value {
        for (name, v) in fields {
            let Some(field_ty) = composite
                .fields
                .iter()
                .find(|f| f.name.as_deref() == Some(name))
                .map(|f| f.ty.id)
            else {
                continue;
            };
            if crate::codec::encode(&v, field_ty, types).is_ok() {
                if let Some(slot) = named.iter_mut().find(|(n, _)| n == name) {
                    slot.1 = v;
                }
            }
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_read_back_and_iterate_by_name() {
        let meta = Arc::new(ChainMetadata::finney().unwrap());
        let mut state = BlockState::new(meta, RawState::new(), 1);
        state.write(
            "SubtensorModule",
            "Tempo",
            &[Value::u128(3)],
            Value::u128(99),
        );
        assert_eq!(
            state.read("SubtensorModule", "Tempo", &[Value::u128(3)]),
            Some(Value::u128(99))
        );
        // ValueQuery default (360 on finney) for a subnet never written.
        assert!(state
            .read("SubtensorModule", "Tempo", &[Value::u128(4)])
            .is_some());
        state.write(
            "SubtensorModule",
            "Uids",
            &[Value::u128(3), Value::from_bytes([7u8; 32])],
            Value::u128(5),
        );
        let all = state.iter_prefix("SubtensorModule", "Uids", &[Value::u128(3)]);
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, Value::u128(5));
    }

    #[test]
    fn events_encode_into_system_events() {
        let meta = Arc::new(ChainMetadata::finney().unwrap());
        let mut state = BlockState::new(meta, RawState::new(), 1);
        state.set_phase(Phase::ApplyExtrinsic(1));
        state.deposit_event(
            "SubtensorModule",
            "WeightsSet",
            vec![("netuid", Value::u128(1)), ("uid", Value::u128(2))],
        );
        state.deposit_event("System", "ExtrinsicSuccess", vec![]);
        state.flush_events();
        assert_eq!(
            state.read("System", "EventCount", &[]),
            Some(Value::u128(2))
        );
    }
}
