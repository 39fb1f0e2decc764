//! The checks FRAME runs before dispatch: the signed extensions' implicit data (spec and
//! transaction version, genesis hash, era birth block hash, metadata hash), the signature over
//! the real signing payload, then each extension's validation (non-zero sender, nonce, tip).

use scale_value::Value;

use super::decode::{DecodedCall, Signature, SignedPart};
use super::invalid::TransactionInvalid;
use super::values::{self, account_value};
use super::ApplyContext;
use crate::codec;
use crate::metadata::ChainMetadata;
use crate::state_access::StateAccess;
use crate::storage::zero_value;

/// Signing payloads longer than this are signed as their blake2-256 hash.
const MAX_UNHASHED_PAYLOAD: usize = 256;
/// `frame_system`'s `BlockHashCount` for subtensor when the metadata has no constant.
const DEFAULT_BLOCK_HASH_COUNT: u32 = 2400;

/// A transaction's era (`sp_runtime::generic::Era`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Era {
    Immortal,
    Mortal { period: u64, phase: u64 },
}

impl Era {
    /// Decode from the era's SCALE bytes: `0x00` or two bytes packing period and phase.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, TransactionInvalid> {
        match bytes {
            [0] => Ok(Era::Immortal),
            [first, second] => {
                let encoded = u64::from(*first) + (u64::from(*second) << 8);
                let period = 2u64 << (encoded % (1 << 4));
                let quantize_factor = (period >> 12).max(1);
                let phase = (encoded >> 4) * quantize_factor;
                if period >= 4 && phase < period {
                    Ok(Era::Mortal { period, phase })
                } else {
                    Err(TransactionInvalid::BadFormat(
                        "era has an invalid period and phase".into(),
                    ))
                }
            }
            _ => Err(TransactionInvalid::BadFormat("era".into())),
        }
    }

    /// The block whose hash the signature commits to, seen from block `current`.
    pub fn birth(self, current: u64) -> u64 {
        match self {
            Era::Immortal => 0,
            Era::Mortal { period, phase } => (current.max(phase) - phase) / period * period + phase,
        }
    }
}

fn block_hash_count(meta: &ChainMetadata) -> u32 {
    meta.v15()
        .pallets
        .iter()
        .find(|p| p.name == "System")
        .and_then(|p| p.constants.iter().find(|c| c.name == "BlockHashCount"))
        .and_then(|c| codec::decode(&c.value, c.ty.id, meta.types()).ok())
        .and_then(|v| values::uint(&v))
        .map(|n| n as u32)
        .unwrap_or(DEFAULT_BLOCK_HASH_COUNT)
}

/// `frame_system::BlockHash[n]` as the runtime sees it while building `ctx.block_number`:
/// the genesis hash is kept forever, others for `BlockHashCount` blocks.
fn block_hash(
    meta: &ChainMetadata,
    state: &dyn StateAccess,
    ctx: &ApplyContext,
    n: u64,
) -> Option<[u8; 32]> {
    let current = u64::from(ctx.block_number);
    if n == 0 {
        return Some(ctx.genesis_hash);
    }
    if n >= current || current - n > u64::from(block_hash_count(meta)) {
        return None;
    }
    if n + 1 == current {
        return Some(ctx.parent_hash);
    }
    let n = u32::try_from(n).ok()?;
    state
        .read("System", "BlockHash", &[Value::u128(n.into())])
        .and_then(|v| values::account(&v))
        .filter(|h| *h != [0u8; 32])
}

/// The implicit (additional signed) bytes of every extension, in order.
fn additional_signed(
    meta: &ChainMetadata,
    state: &dyn StateAccess,
    signed: &SignedPart,
    ctx: &ApplyContext,
) -> Result<Vec<u8>, TransactionInvalid> {
    let types = meta.types();
    let mut out = Vec::new();
    for ext in &signed.extensions {
        let value = match ext.identifier.as_str() {
            "CheckSpecVersion" => Value::u128(ctx.spec_version.into()),
            "CheckTxVersion" => Value::u128(ctx.transaction_version.into()),
            "CheckGenesis" => Value::from_bytes(ctx.genesis_hash),
            "CheckMortality" | "CheckEra" => {
                let era = Era::from_bytes(&ext.bytes)?;
                let birth = era.birth(u64::from(ctx.block_number));
                let hash = block_hash(meta, state, ctx, birth)
                    .ok_or(TransactionInvalid::AncientBirthBlock)?;
                Value::from_bytes(hash)
            }
            // The runtime is built without a metadata hash, so `Enabled` mode still signs `None`
            // (a client that signed a hash gets BadProof, as on such a node).
            "CheckMetadataHash" => Value::unnamed_variant("None", []),
            _ => zero_value(types, ext.additional_type),
        };
        let bytes = codec::encode(&value, ext.additional_type, types).map_err(|e| {
            TransactionInvalid::BadFormat(format!("implicit data of {}: {e}", ext.identifier))
        })?;
        out.extend(bytes);
    }
    Ok(out)
}

/// The bytes the signer signed: call ++ explicit extension data ++ implicit extension data,
/// hashed with blake2-256 when longer than 256 bytes.
pub fn signing_payload(call: &DecodedCall, signed: &SignedPart, additional: &[u8]) -> Vec<u8> {
    let mut payload = call.bytes.clone();
    for ext in &signed.extensions {
        payload.extend_from_slice(&ext.bytes);
    }
    payload.extend_from_slice(additional);
    if payload.len() > MAX_UNHASHED_PAYLOAD {
        sp_crypto_hashing::blake2_256(&payload).to_vec()
    } else {
        payload
    }
}

fn verify_signature(signer: &[u8; 32], signature: &Signature, payload: &[u8]) -> bool {
    match signature {
        Signature::Sr25519(sig) => {
            let (Ok(public), Ok(sig)) = (
                schnorrkel::PublicKey::from_bytes(signer),
                schnorrkel::Signature::from_bytes(sig),
            ) else {
                return false;
            };
            public.verify_simple(b"substrate", payload, &sig).is_ok()
        }
        // Not supported by this devnet: refused like any signature that does not verify.
        Signature::Ed25519(_) | Signature::Ecdsa(_) => false,
    }
}

/// `System.Account[who]` fields the checks need.
#[derive(Debug, Clone, Copy, Default)]
pub struct AccountState {
    pub nonce: u32,
    pub providers: u32,
    pub sufficients: u32,
    pub free: u128,
}

pub fn account_state(state: &dyn StateAccess, who: &[u8; 32]) -> AccountState {
    let Some(info) = state.read("System", "Account", &[account_value(who)]) else {
        return AccountState::default();
    };
    let num = |name: &str| {
        values::field(&info, name)
            .and_then(values::uint)
            .unwrap_or(0)
    };
    let free = values::field(&info, "data")
        .and_then(|d| values::field(d, "free"))
        .and_then(values::uint)
        .unwrap_or(0);
    AccountState {
        nonce: num("nonce") as u32,
        providers: num("providers") as u32,
        sufficients: num("sufficients") as u32,
        free,
    }
}

/// Explicit values the extensions carry that later steps need.
#[derive(Debug, Clone, Copy)]
pub struct CheckedSigned {
    pub signer: [u8; 32],
    pub nonce: u32,
    pub tip: u128,
    /// Blocks the transaction stays valid for (`u64::MAX` when immortal).
    pub longevity: u64,
}

/// Everything FRAME checks for a signed extrinsic before dispatch, in FRAME's order.
pub fn check_signed(
    meta: &ChainMetadata,
    state: &dyn StateAccess,
    call: &DecodedCall,
    signed: &SignedPart,
    ctx: &ApplyContext,
) -> Result<CheckedSigned, TransactionInvalid> {
    let additional = additional_signed(meta, state, signed, ctx)?;
    let payload = signing_payload(call, signed, &additional);
    if !verify_signature(&signed.signer, &signed.signature, &payload) {
        return Err(TransactionInvalid::BadProof);
    }
    if signed.extension("CheckNonZeroSender").is_some() && signed.signer == [0u8; 32] {
        return Err(TransactionInvalid::BadSigner);
    }
    let nonce = signed
        .extension("CheckNonce")
        .and_then(|e| values::uint(&e.value))
        .unwrap_or(0) as u32;
    let tip = signed
        .extension("ChargeTransactionPayment")
        .and_then(|e| values::field(&e.value, "tip").or(Some(&e.value)))
        .and_then(values::uint)
        .unwrap_or(0);
    let account = account_state(state, &signed.signer);
    if signed.extension("CheckNonce").is_some() {
        // Nonce storage must be paid for: an account that does not exist cannot transact.
        if account.providers == 0 && account.sufficients == 0 {
            return Err(TransactionInvalid::Payment);
        }
        if nonce < account.nonce {
            return Err(TransactionInvalid::Stale);
        }
        // The pool would park it until the gap is filled; clients here always ask the node
        // for the next nonce, so a gap is refused outright.
        if nonce > account.nonce {
            return Err(TransactionInvalid::Future);
        }
    }
    if tip > account.free {
        return Err(TransactionInvalid::Payment);
    }
    let current = u64::from(ctx.block_number);
    let longevity = match signed.extension("CheckMortality") {
        Some(ext) => match Era::from_bytes(&ext.bytes)? {
            Era::Immortal => u64::MAX,
            era @ Era::Mortal { period, .. } => {
                (era.birth(current) + period).saturating_sub(current)
            }
        },
        None => u64::MAX,
    };
    Ok(CheckedSigned {
        signer: signed.signer,
        nonce,
        tip,
        longevity,
    })
}

/// `CheckNonce`'s prepare step: the account's nonce goes up whatever the dispatch outcome.
pub fn bump_nonce(state: &mut dyn StateAccess, who: &[u8; 32]) {
    let key = [account_value(who)];
    let Some(mut info) = state.read("System", "Account", &key) else {
        return;
    };
    let nonce = values::field(&info, "nonce")
        .and_then(values::uint)
        .unwrap_or(0);
    values::set_field(&mut info, "nonce", Value::u128(nonce + 1));
    state.write("System", "Account", &key, info);
}

/// The coldkey-swap refusal of `SubtensorTransactionExtension`, for whichever layout the
/// metadata has. Spec 343: a coldkey in `ColdkeySwapScheduled` may only call
/// `schedule_swap_coldkey` (`Custom(0)`). 424 (`CheckColdkeySwap`): a coldkey in
/// `ColdkeySwapAnnouncements` is refused with `Custom(21)` while its swap is disputed
/// (`ColdkeySwapDisputes`), else with `Custom(0)` unless the call is one of the swap calls or
/// `MevShield.submit_encrypted`.
pub fn coldkey_swap(
    state: &dyn StateAccess,
    who: &[u8; 32],
    call: &DecodedCall,
) -> Result<(), TransactionInvalid> {
    use super::invalid::subtensor_custom::{COLDKEY_IN_SWAP_SCHEDULE, COLDKEY_SWAP_DISPUTED};
    const SM: &str = "SubtensorModule";
    let has = |item: &str| {
        !state
            .iter_prefix(SM, item, &[account_value(who)])
            .is_empty()
    };
    let subtensor_call = |names: &[&str]| call.pallet == SM && names.contains(&call.name.as_str());
    if has("ColdkeySwapScheduled") && !subtensor_call(&["schedule_swap_coldkey"]) {
        return Err(TransactionInvalid::Custom(COLDKEY_IN_SWAP_SCHEDULE));
    }
    if has("ColdkeySwapAnnouncements") {
        if has("ColdkeySwapDisputes") {
            return Err(TransactionInvalid::Custom(COLDKEY_SWAP_DISPUTED));
        }
        let allowed = subtensor_call(&[
            "announce_coldkey_swap",
            "swap_coldkey_announced",
            "dispute_coldkey_swap",
            "clear_coldkey_swap_announcement",
        ]) || (call.pallet == "MevShield" && call.name == "submit_encrypted");
        if !allowed {
            return Err(TransactionInvalid::Custom(COLDKEY_IN_SWAP_SCHEDULE));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn era_decodes_like_sp_runtime() {
        // Period 64 → low nibble log2(64) - 1 = 5; phase 42 (quantize factor 1) → high bits.
        let encoded: u16 = 5 | (42 << 4);
        let era = Era::from_bytes(&encoded.to_le_bytes()).unwrap();
        assert_eq!(
            era,
            Era::Mortal {
                period: 64,
                phase: 42
            }
        );
        assert_eq!(era.birth(100), 42);
        assert_eq!(era.birth(107), 106);
        assert_eq!(Era::from_bytes(&[0]).unwrap(), Era::Immortal);
        assert_eq!(Era::Immortal.birth(100), 0);
    }
}
