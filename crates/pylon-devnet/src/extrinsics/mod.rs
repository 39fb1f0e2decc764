//! Extrinsic application: decode by the metadata, check the signature, era, versions and nonce
//! over subtensor's signed extensions, then dispatch with subtensor's rules and module errors.
//!
//! Contract with the chain (`crate::chain` calls this while sealing a block and, on submission,
//! against a scratch copy of the pending state to validate):
//! - `bytes` are the extrinsic exactly as submitted (SCALE `Vec<u8>`-prefixed, i.e. with the
//!   compact length); `state` is the block being built, whose event phase is already
//!   `ApplyExtrinsic(ctx.extrinsic_index)`.
//! - [`apply`] → `Ok(())`: the extrinsic goes into the block. It has bumped the signer's nonce
//!   and deposited the pallet events, then `System.ExtrinsicSuccess`, or — when dispatch failed —
//!   `System.ExtrinsicFailed` with the real `DispatchError::Module { index, error }`. A dispatch
//!   error is never an `Err`.
//! - `Err(TransactionInvalid)`: the transaction is invalid (bad format, bad signature, stale or
//!   future nonce, a `SubtensorTransactionExtension` refusal, …) and nothing was written. Its
//!   `Display` is the text a real node puts in the `data` of the RPC error, and
//!   [`TransactionInvalid::rpc_code`] the code (1010, or 1011 / 1001 for unknown validity and
//!   undecodable bytes).
//! - [`validate`] runs the same checks without writing anything (the pool's check);
//!   [`transaction_validity`] turns its answer into the value of the
//!   `TaggedTransactionQueue_validate_transaction` runtime API (encode it against that API's
//!   output type).
//! - Fees are not charged (every call costs 0; `TransactionPayment.TransactionFeePaid` reports
//!   0 plus the tip), so a `TransactionPaymentApi` answer should report a partial fee of 0.
//! - Block hooks, for runtime logic that is not an extrinsic (drand pulses, CRv4 auto-reveal,
//!   epochs): [`on_initialize`] runs after the chain has set `System.Number`,
//!   `System.ParentHash`, `System.BlockHash` and `Timestamp.Now` and before any extrinsic (event
//!   phase `Initialization`); [`on_finalize`] runs after the last extrinsic (phase
//!   `Finalization`), just before `System.Events` is stored. `ctx.extrinsic_index` is 0 in both.
//!   Hooks cannot fail; a panic in one is caught and its writes are rolled back.
//! - Future nonces are refused (`Future`) rather than parked: subxt and the Python SDK always
//!   ask `system_accountNextIndex`, which counts the pool.

mod checks;
pub mod commitment_reveal;
mod decode;
pub mod dispatch;
mod invalid;
pub mod reveal;
mod validity;
mod values;

use scale_value::Value;

pub use checks::Era;
pub use decode::{decode_extrinsic, DecodedCall, DecodedExtrinsic};
pub use dispatch::weights::{apply_weights, WeightsInput};
pub use dispatch::{module_error_index, module_error_name, DispatchError};
pub use invalid::TransactionInvalid;
pub use validity::transaction_validity;

use crate::metadata::ChainMetadata;
use crate::state_access::StateAccess;
use crate::storage::build_struct;

/// What the chain knows about the extrinsic's surroundings.
#[derive(Debug, Clone)]
pub struct ApplyContext {
    /// Number of the block being built.
    pub block_number: u32,
    /// Position of this extrinsic in the block (0 is the timestamp inherent).
    pub extrinsic_index: u32,
    /// Hash of block 0 (part of the signing payload).
    pub genesis_hash: [u8; 32],
    /// Hash of the parent of the block being built (older ones come from `System.BlockHash`).
    pub parent_hash: [u8; 32],
    pub spec_version: u32,
    pub transaction_version: u32,
    /// `Timestamp.Now` of the block being built, in milliseconds.
    pub now_ms: u64,
}

/// The previous name of [`TransactionInvalid`], kept for callers.
pub type ApplyError = TransactionInvalid;

/// A transaction that passed every pre-dispatch check.
#[derive(Debug, Clone)]
pub struct Validated {
    /// `None` for a bare (unsigned) extrinsic.
    pub signer: Option<[u8; 32]>,
    pub nonce: u32,
    pub tip: u128,
    /// Blocks the transaction stays valid for (`u64::MAX` when immortal).
    pub longevity: u64,
    pub call: DecodedCall,
}

/// What applying an included extrinsic did.
#[derive(Debug, Clone)]
pub struct ApplyOutcome {
    pub signer: Option<[u8; 32]>,
    pub pallet: String,
    pub call: String,
    /// `Err` = included with `System.ExtrinsicFailed`.
    pub result: Result<(), DispatchError>,
}

/// The pool's check: decode, signature, era, versions, nonce and subtensor's extension, with
/// no writes.
pub fn validate(
    meta: &ChainMetadata,
    state: &dyn StateAccess,
    bytes: &[u8],
    ctx: &ApplyContext,
) -> Result<Validated, TransactionInvalid> {
    let xt = decode_extrinsic(meta, bytes)?;
    let Some(signed) = &xt.signed else {
        // Only inherents are bare, and the block author adds those itself.
        return Err(match xt.call.pallet.as_str() {
            "Timestamp" => TransactionInvalid::MandatoryValidation,
            _ => TransactionInvalid::NoUnsignedValidator,
        });
    };
    let checked = checks::check_signed(meta, state, &xt.call, signed, ctx)?;
    if !dispatch::is_supported(&xt.call) {
        return Err(TransactionInvalid::Call);
    }
    dispatch::subtensor_extension(
        state,
        &checked.signer,
        &xt.call,
        u64::from(ctx.block_number),
    )?;
    Ok(Validated {
        signer: Some(checked.signer),
        nonce: checked.nonce,
        tip: checked.tip,
        longevity: checked.longevity,
        call: xt.call,
    })
}

/// Validate, bump the nonce, dispatch and record the outcome events (see the module docs).
pub fn apply_detailed(
    meta: &ChainMetadata,
    state: &mut dyn StateAccess,
    bytes: &[u8],
    ctx: &ApplyContext,
) -> Result<ApplyOutcome, TransactionInvalid> {
    let valid = validate(meta, state, bytes, ctx)?;
    let signer = valid.signer.expect("validate refuses bare extrinsics");
    checks::bump_nonce(state, &signer);
    let mut dctx = dispatch::DispatchCtx {
        meta,
        state,
        who: signer,
        call: &valid.call,
        block: u64::from(ctx.block_number),
    };
    let result = dispatch::dispatch(&mut dctx);
    let pays = dispatch::pays_fee(&valid.call);
    deposit_fee_paid(meta, state, &signer, valid.tip);
    deposit_outcome(meta, state, &result, pays);
    Ok(ApplyOutcome {
        signer: Some(signer),
        pallet: valid.call.pallet.clone(),
        call: valid.call.name.clone(),
        result,
    })
}

/// [`apply_detailed`] for the block builder, which only needs to know whether it is included.
pub fn apply(
    meta: &ChainMetadata,
    state: &mut dyn StateAccess,
    bytes: &[u8],
    ctx: &ApplyContext,
) -> Result<(), TransactionInvalid> {
    apply_detailed(meta, state, bytes, ctx).map(|_| ())
}

/// Block-start hook: subtensor's per-block resets that the modelled calls depend on, its
/// `block_step` ([`crate::epochs::block_step`]: the CRv4 auto-reveal, then the epoch schedule; its
/// events carry the `Initialization` phase), and the timelocked-commitment reveal
/// ([`commitment_reveal`]). The chain stores this block's drand pulses before this hook, so a
/// commit whose round has passed by this block's timestamp opens in this block.
pub fn on_initialize(_meta: &ChainMetadata, state: &mut dyn StateAccess, ctx: &ApplyContext) {
    dispatch::registration::reset_block_counters(state);
    crate::epochs::block_step(state, ctx.block_number);
    commitment_reveal::reveal_timelocked_commitments(state, u64::from(ctx.block_number));
}

/// Block-end hook (nothing of subtensor's `on_finalize` is modelled).
pub fn on_finalize(_meta: &ChainMetadata, _state: &mut dyn StateAccess, _ctx: &ApplyContext) {}

/// Type id of field `index` of `pallet`'s event `event`.
fn event_field_type(meta: &ChainMetadata, pallet: &str, event: &str, index: usize) -> Option<u32> {
    let pallet_md = meta.v15().pallets.iter().find(|p| p.name == pallet)?;
    let ty = meta.types().resolve(pallet_md.event.as_ref()?.ty.id)?;
    let scale_info::TypeDef::Variant(v) = &ty.type_def else {
        return None;
    };
    v.variants
        .iter()
        .find(|v| v.name == event)?
        .fields
        .get(index)
        .map(|f| f.ty.id)
}

/// `TransactionPayment.TransactionFeePaid`: subtensor's calls here are free or the devnet
/// does not charge them, so the fee is 0 (plus the tip, which is not withdrawn either).
fn deposit_fee_paid(meta: &ChainMetadata, state: &mut dyn StateAccess, who: &[u8; 32], tip: u128) {
    if event_field_type(meta, "TransactionPayment", "TransactionFeePaid", 0).is_none() {
        return;
    }
    state.deposit_event(
        "TransactionPayment",
        "TransactionFeePaid",
        vec![
            ("who", values::account_value(who)),
            ("actual_fee", values::u(0u8)),
            ("tip", values::u(tip)),
        ],
    );
}

fn deposit_outcome(
    meta: &ChainMetadata,
    state: &mut dyn StateAccess,
    result: &Result<(), DispatchError>,
    pays: bool,
) {
    let (event, info_index) = match result {
        Ok(()) => ("ExtrinsicSuccess", 0),
        Err(_) => ("ExtrinsicFailed", 1),
    };
    let info_ty = event_field_type(meta, "System", event, info_index).unwrap_or(0);
    let info = build_struct(
        meta.types(),
        info_ty,
        vec![
            ("class", Value::unnamed_variant("Normal", [])),
            (
                "pays_fee",
                Value::unnamed_variant(if pays { "Yes" } else { "No" }, []),
            ),
        ],
    );
    match result {
        Ok(()) => state.deposit_event("System", event, vec![("dispatch_info", info)]),
        Err(e) => state.deposit_event(
            "System",
            event,
            vec![
                ("dispatch_error", dispatch::dispatch_error_value(meta, *e)),
                ("dispatch_info", info),
            ],
        ),
    }
}

#[cfg(test)]
mod tests;
