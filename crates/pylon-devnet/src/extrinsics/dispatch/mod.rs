//! Dispatch of the calls the devnet models, with subtensor's rules, storage layout, events and
//! module errors. Each handler checks everything before its first write, so a failed dispatch
//! leaves no trace besides the nonce bump and `System.ExtrinsicFailed` (FRAME's transactional
//! dispatch gives the same result).

mod commitments;
pub mod registration;
mod serving;
mod staking;
mod tempo;
pub mod weights;

use scale_value::Value;

use super::decode::DecodedCall;
use super::invalid::TransactionInvalid;
use super::values::{self, account_value, u};
use crate::metadata::ChainMetadata;
use crate::state_access::StateAccess;

pub const SUBTENSOR: &str = "SubtensorModule";

/// Why a dispatch failed, as `sp_runtime::DispatchError` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchError {
    /// `DispatchError::Module`: a pallet's error variant, by pallet and variant name.
    Module {
        pallet: &'static str,
        error: &'static str,
    },
    BadOrigin,
    /// `DispatchError::Other`.
    Other(&'static str),
}

impl DispatchError {
    pub const fn subtensor(error: &'static str) -> Self {
        DispatchError::Module {
            pallet: SUBTENSOR,
            error,
        }
    }
}

impl std::fmt::Display for DispatchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DispatchError::Module { pallet, error } => write!(f, "{pallet}.{error}"),
            DispatchError::BadOrigin => f.write_str("BadOrigin"),
            DispatchError::Other(reason) => write!(f, "Other({reason})"),
        }
    }
}

/// A module error's `(pallet index, error index)` as the metadata numbers them.
pub fn module_error_index(meta: &ChainMetadata, pallet: &str, error: &str) -> Option<(u8, u8)> {
    let pallet_md = meta.v15().pallets.iter().find(|p| p.name == pallet)?;
    let error_ty = pallet_md.error.as_ref()?.ty.id;
    match &meta.types().resolve(error_ty)?.type_def {
        scale_info::TypeDef::Variant(v) => v
            .variants
            .iter()
            .find(|var| var.name == error)
            .map(|var| (pallet_md.index, var.index)),
        _ => None,
    }
}

/// The error's name from a `(pallet index, error index)` pair (for tests and logs).
pub fn module_error_name(meta: &ChainMetadata, index: u8, error: u8) -> Option<(String, String)> {
    let pallet_md = meta.v15().pallets.iter().find(|p| p.index == index)?;
    let error_ty = pallet_md.error.as_ref()?.ty.id;
    match &meta.types().resolve(error_ty)?.type_def {
        scale_info::TypeDef::Variant(v) => v
            .variants
            .iter()
            .find(|var| var.index == error)
            .map(|var| (pallet_md.name.clone(), var.name.clone())),
        _ => None,
    }
}

/// `sp_runtime::DispatchError` as a value of the metadata's type.
pub fn dispatch_error_value(meta: &ChainMetadata, error: DispatchError) -> Value {
    match error {
        DispatchError::Module { pallet, error } => {
            let (index, error) = module_error_index(meta, pallet, error)
                .unwrap_or_else(|| panic!("runtime logic bug: no error {pallet}.{error}"));
            Value::unnamed_variant(
                "Module",
                [Value::named_composite([
                    ("index", u(index)),
                    ("error", Value::from_bytes([error, 0, 0, 0])),
                ])],
            )
        }
        DispatchError::BadOrigin => Value::unnamed_variant("BadOrigin", []),
        DispatchError::Other(_) => Value::unnamed_variant("Other", []),
    }
}

/// Everything a handler sees.
pub struct DispatchCtx<'a> {
    pub meta: &'a ChainMetadata,
    pub state: &'a mut dyn StateAccess,
    /// The signer (hotkey or coldkey, depending on the call).
    pub who: [u8; 32],
    pub call: &'a DecodedCall,
    pub block: u64,
}

impl DispatchCtx<'_> {
    pub fn arg(&self, name: &str) -> Result<&Value, DispatchError> {
        self.call
            .arg(name)
            .ok_or(DispatchError::Other("missing call argument"))
    }

    pub fn arg_uint(&self, name: &str) -> Result<u128, DispatchError> {
        values::uint(self.arg(name)?).ok_or(DispatchError::Other("argument is not a number"))
    }

    pub fn arg_uints(&self, name: &str) -> Result<Vec<u16>, DispatchError> {
        values::uints(self.arg(name)?)
            .map(|v| v.into_iter().map(|n| n as u16).collect())
            .ok_or(DispatchError::Other("argument is not a list of numbers"))
    }

    pub fn arg_bytes(&self, name: &str) -> Result<Vec<u8>, DispatchError> {
        values::bytes(self.arg(name)?).ok_or(DispatchError::Other("argument is not bytes"))
    }

    pub fn arg_account(&self, name: &str) -> Result<[u8; 32], DispatchError> {
        values::account(self.arg(name)?).ok_or(DispatchError::Other("argument is not an account"))
    }
}

/// Whether the call pays a fee (`Pays::Yes`) in subtensor's annotations.
pub fn pays_fee(call: &DecodedCall) -> bool {
    matches!(
        (call.pallet.as_str(), call.name.as_str()),
        (
            SUBTENSOR,
            "add_stake" | "burned_register" | "set_tempo" | "trigger_epoch"
        ) | ("System", "remark" | "remark_with_event")
    )
}

/// Whether the devnet can dispatch this call at all (others are refused by the pool).
pub fn is_supported(call: &DecodedCall) -> bool {
    matches!(
        (call.pallet.as_str(), call.name.as_str()),
        (
            SUBTENSOR,
            "set_weights"
                | "set_mechanism_weights"
                | "commit_weights"
                | "commit_mechanism_weights"
                | "reveal_weights"
                | "reveal_mechanism_weights"
                | "commit_timelocked_weights"
                | "commit_timelocked_mechanism_weights"
                | "serve_axon"
                | "serve_axon_tls"
                | "burned_register"
                | "add_stake"
                | "set_tempo"
                | "trigger_epoch"
        ) | ("Commitments", "set_commitment")
            | ("System", "remark" | "remark_with_event")
    )
}

/// Dispatch a supported call signed by `ctx.who`.
pub fn dispatch(ctx: &mut DispatchCtx<'_>) -> Result<(), DispatchError> {
    let pallet = ctx.call.pallet.clone();
    let name = ctx.call.name.clone();
    match (pallet.as_str(), name.as_str()) {
        (SUBTENSOR, "set_weights") => weights::set_weights(ctx, false),
        (SUBTENSOR, "set_mechanism_weights") => weights::set_weights(ctx, true),
        (SUBTENSOR, "commit_weights") => weights::commit_weights(ctx, false),
        (SUBTENSOR, "commit_mechanism_weights") => weights::commit_weights(ctx, true),
        (SUBTENSOR, "reveal_weights") => weights::reveal_weights(ctx, false),
        (SUBTENSOR, "reveal_mechanism_weights") => weights::reveal_weights(ctx, true),
        (SUBTENSOR, "commit_timelocked_weights") => weights::commit_timelocked(ctx, false),
        (SUBTENSOR, "commit_timelocked_mechanism_weights") => weights::commit_timelocked(ctx, true),
        (SUBTENSOR, "serve_axon") => serving::serve_axon(ctx, false),
        (SUBTENSOR, "serve_axon_tls") => serving::serve_axon(ctx, true),
        (SUBTENSOR, "burned_register") => registration::burned_register(ctx),
        (SUBTENSOR, "add_stake") => staking::add_stake(ctx),
        (SUBTENSOR, "set_tempo") => tempo::set_tempo(ctx),
        (SUBTENSOR, "trigger_epoch") => tempo::trigger_epoch(ctx),
        ("Commitments", "set_commitment") => commitments::set_commitment(ctx),
        ("System", "remark") => Ok(()),
        ("System", "remark_with_event") => {
            let remark = ctx.arg_bytes("remark")?;
            let who = account_value(&ctx.who);
            ctx.state.deposit_event(
                "System",
                "Remarked",
                vec![
                    ("sender", who),
                    (
                        "hash",
                        Value::from_bytes(sp_crypto_hashing::blake2_256(&remark)),
                    ),
                ],
            );
            Ok(())
        }
        _ => Err(DispatchError::Other("call not supported by this devnet")),
    }
}

/// `SubtensorTransactionExtension::validate`: the pool-level checks subtensor runs for some
/// calls, refusing the transaction (`Custom(code)`) instead of failing its dispatch.
pub fn subtensor_extension(
    state: &dyn StateAccess,
    who: &[u8; 32],
    call: &DecodedCall,
    block: u64,
) -> Result<(), TransactionInvalid> {
    crate::extrinsics::checks::coldkey_swap(state, who, call)?;
    if call.pallet != SUBTENSOR {
        return Ok(());
    }
    weights::extension_checks(state, who, call, block)?;
    serving::extension_checks(state, who, call, block)?;
    // The 424 extension no longer refuses registrations over the interval limit.
    if crate::epochs::Schedule::of(state) == crate::epochs::Schedule::Grid {
        registration::extension_checks(state, call)?;
    }
    Ok(())
}

/// Read helpers shared by the handlers, in subtensor's own terms.
pub mod chain {
    use super::*;

    pub fn netuid_value(netuid: u16) -> Value {
        u(netuid)
    }

    pub fn read_uint(state: &dyn StateAccess, item: &str, keys: &[Value]) -> u128 {
        state
            .read(SUBTENSOR, item, keys)
            .as_ref()
            .and_then(values::uint)
            .unwrap_or(0)
    }

    pub fn read_bool(state: &dyn StateAccess, item: &str, keys: &[Value]) -> bool {
        state
            .read(SUBTENSOR, item, keys)
            .as_ref()
            .and_then(values::boolean)
            .unwrap_or(false)
    }

    /// `contains_key` for `ValueQuery` items (absent and default read the same).
    pub fn contains(state: &dyn StateAccess, pallet: &str, item: &str, keys: &[Value]) -> bool {
        !state.iter_prefix(pallet, item, keys).is_empty()
    }

    pub fn subnet_exists(state: &dyn StateAccess, netuid: u16) -> bool {
        read_bool(state, "NetworksAdded", &[u(netuid)])
    }

    pub fn uid_of(state: &dyn StateAccess, netuid: u16, hotkey: &[u8; 32]) -> Option<u16> {
        state
            .read(SUBTENSOR, "Uids", &[u(netuid), account_value(hotkey)])
            .as_ref()
            .and_then(values::uint)
            .map(|n| n as u16)
    }

    pub fn uid_exists(state: &dyn StateAccess, netuid: u16, uid: u16) -> bool {
        contains(state, SUBTENSOR, "Keys", &[u(netuid), u(uid)])
    }

    pub fn tempo(state: &dyn StateAccess, netuid: u16) -> u64 {
        read_uint(state, "Tempo", &[u(netuid)]) as u64
    }

    pub fn commit_reveal_enabled(state: &dyn StateAccess, netuid: u16) -> bool {
        read_bool(state, "CommitRevealWeightsEnabled", &[u(netuid)])
    }

    pub fn free_balance(state: &dyn StateAccess, who: &[u8; 32]) -> u128 {
        crate::extrinsics::checks::account_state(state, who).free
    }

    /// Take `amount` from `who`'s free balance (the caller checked it is there).
    pub fn withdraw(state: &mut dyn StateAccess, who: &[u8; 32], amount: u128) {
        let key = [account_value(who)];
        let Some(mut info) = state.read("System", "Account", &key) else {
            return;
        };
        if let Some(mut data) = values::field(&info, "data").cloned() {
            let free = values::field(&data, "free")
                .and_then(values::uint)
                .unwrap_or(0);
            values::set_field(&mut data, "free", u(free.saturating_sub(amount)));
            values::set_field(&mut info, "data", data);
        }
        state.write("System", "Account", &key, info);
    }
}
