//! The seam between the chain state (storage, events, blocks) and the runtime logic that changes it.
//!
//! Dispatch code (extrinsics, drand reveals, epoch hooks) speaks only in subtensor's own names —
//! pallet, storage item, key values, field names — and never sees raw storage keys or SCALE bytes.
//! The implementation encodes and hashes everything against the served metadata, so what dispatch
//! writes is exactly what a real client decodes.

use scale_value::Value;

/// Name-addressed access to the state of the block being built.
pub trait StateAccess {
    /// The storage value at `pallet.item[keys]`, decoded against the metadata's value type.
    ///
    /// `ValueQuery` items yield their metadata default when absent; `OptionQuery` items yield `None`.
    fn read(&self, pallet: &str, item: &str, keys: &[Value]) -> Option<Value>;

    /// Encode `value` against the item's value type and store it. Panics on a type mismatch,
    /// because that is a bug in runtime logic, never a consequence of user input.
    fn write(&mut self, pallet: &str, item: &str, keys: &[Value], value: Value);

    /// Remove the entry (it reads as its default again afterwards).
    fn remove(&mut self, pallet: &str, item: &str, keys: &[Value]);

    /// Every entry under a partial key (`keys` may be a prefix of the item's keys, or empty),
    /// as (full key values, value) pairs in storage-key order.
    fn iter_prefix(&self, pallet: &str, item: &str, keys: &[Value]) -> Vec<(Vec<Value>, Value)>;

    /// Record `pallet.event { fields }` for the extrinsic being applied (goes to `System.Events`).
    fn deposit_event(&mut self, pallet: &str, event: &str, fields: Vec<(&str, Value)>);

    /// Number of the block being built.
    fn block_number(&self) -> u32;

    /// Whether the runtime has storage item `pallet.item` (runtime profiles differ in layout:
    /// spec 424 dropped `Rank`, `Trust` and `PruningScores`, for example).
    fn has_item(&self, pallet: &str, item: &str) -> bool;
}
