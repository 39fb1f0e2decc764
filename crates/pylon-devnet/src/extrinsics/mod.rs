//! Extrinsic application: decode, check the signature and nonce, dispatch with subtensor's rules.
//!
//! Contract with the chain (`crate::chain` calls this while sealing a block and, on submission,
//! against a scratch copy of the pending state to validate):
//! - `apply` gets the raw extrinsic bytes exactly as submitted (SCALE `Vec<u8>`-prefixed, i.e.
//!   with the compact length) and the state of the block being built, whose event phase is
//!   already set to `ApplyExtrinsic(ctx.extrinsic_index)`.
//! - `Ok(())`: the extrinsic goes into the block. `apply` itself bumps the signer's nonce and
//!   deposits `System.ExtrinsicSuccess` or `System.ExtrinsicFailed` (with the module error) and
//!   any pallet events.
//! - `Err(e)`: the transaction is invalid (bad format, bad signature, stale nonce, …). The chain
//!   rolls back every write and event made during the call, leaves it out of the block, answers
//!   `author_submitExtrinsic` with error 1010 and `e.to_string()` as data, and tells watchers
//!   `invalid`.
//! - A panic is treated like `Err` (the chain catches it), but should never happen.
//!
//! Block hooks, for runtime logic that is not an extrinsic (drand pulses, CRv4 auto-reveal,
//! epochs): `on_initialize` runs after the chain has set `System.Number`, `System.ParentHash`,
//! `System.BlockHash` and `Timestamp.Now` and before any extrinsic (event phase
//! `Initialization`); `on_finalize` runs after the last extrinsic (phase `Finalization`), just
//! before `System.Events` is stored. `ctx.extrinsic_index` is 0 in both. Hooks cannot fail; a
//! panic in one is caught and its writes are rolled back.
//!
//! This placeholder rejects everything until the real implementation replaces this module.

use crate::metadata::ChainMetadata;
use crate::state_access::StateAccess;

/// What the chain knows about the extrinsic's surroundings.
#[derive(Debug, Clone)]
pub struct ApplyContext {
    /// Number of the block being built.
    pub block_number: u32,
    /// Position of this extrinsic in the block (0 is the timestamp inherent).
    pub extrinsic_index: u32,
    /// Hash of block 0 (part of the signing payload).
    pub genesis_hash: [u8; 32],
    /// Hash of the parent of the block being built.
    pub parent_hash: [u8; 32],
    pub spec_version: u32,
    pub transaction_version: u32,
    /// `Timestamp.Now` of the block being built, in milliseconds.
    pub now_ms: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("extrinsics are not supported by this devnet build")]
    Unsupported,
}

/// Block-start hook (placeholder: nothing to do).
pub fn on_initialize(_metadata: &ChainMetadata, _state: &mut dyn StateAccess, _ctx: &ApplyContext) {
}

/// Block-end hook (placeholder: nothing to do).
pub fn on_finalize(_metadata: &ChainMetadata, _state: &mut dyn StateAccess, _ctx: &ApplyContext) {}

pub fn apply(
    _metadata: &ChainMetadata,
    _state: &mut dyn StateAccess,
    _bytes: &[u8],
    _ctx: &ApplyContext,
) -> Result<(), ApplyError> {
    Err(ApplyError::Unsupported)
}
