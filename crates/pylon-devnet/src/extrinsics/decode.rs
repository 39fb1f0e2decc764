//! Decoding an extrinsic by the metadata's extrinsic description: version byte, `MultiAddress`
//! signer, `MultiSignature`, each signed extension's explicit value (in the metadata's order),
//! then the call as `Pallet { call { field, … } }`.

use parity_scale_codec::{Compact, Decode};
use scale_value::Value;

use super::invalid::TransactionInvalid;
use super::values;
use crate::codec;
use crate::metadata::ChainMetadata;

/// Extrinsic format version 4 (signed or bare) and 5 (bare only here).
const SIGNED_BIT: u8 = 0b1000_0000;
const VERSION_MASK: u8 = 0b0011_1111;
/// V5 "general" transactions (extensions without a signature) set this bit instead.
const GENERAL_BIT: u8 = 0b0100_0000;

#[derive(Debug, Clone)]
pub struct DecodedExtrinsic {
    pub signed: Option<SignedPart>,
    pub call: DecodedCall,
}

#[derive(Debug, Clone)]
pub struct SignedPart {
    pub signer: [u8; 32],
    pub signature: Signature,
    pub extensions: Vec<Extension>,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Signature {
    Sr25519([u8; 64]),
    Ed25519([u8; 64]),
    Ecdsa(Vec<u8>),
}

impl std::fmt::Debug for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Signature::Sr25519(_) => f.write_str("Sr25519(..)"),
            Signature::Ed25519(_) => f.write_str("Ed25519(..)"),
            Signature::Ecdsa(_) => f.write_str("Ecdsa(..)"),
        }
    }
}

/// One signed extension as it appears in the extrinsic.
#[derive(Debug, Clone)]
pub struct Extension {
    pub identifier: String,
    /// The explicit value, decoded against the extension's type.
    pub value: Value,
    /// The same value's SCALE bytes (they go into the signing payload unchanged).
    pub bytes: Vec<u8>,
    /// Type id of the extension's additional signed data (`implicit`).
    pub additional_type: u32,
}

#[derive(Debug, Clone)]
pub struct DecodedCall {
    pub pallet: String,
    pub name: String,
    /// The call variant itself: `name { field: value, … }`.
    pub args: Value,
    /// The call's SCALE bytes (pallet index, call index, arguments).
    pub bytes: Vec<u8>,
}

impl DecodedCall {
    /// Argument `name` of the call.
    pub fn arg(&self, name: &str) -> Option<&Value> {
        values::field(&self.args, name)
    }
}

impl SignedPart {
    pub fn extension(&self, identifier: &str) -> Option<&Extension> {
        self.extensions.iter().find(|e| e.identifier == identifier)
    }
}

fn bad(reason: impl Into<String>) -> TransactionInvalid {
    TransactionInvalid::BadFormat(reason.into())
}

/// Decode `bytes` (SCALE `Vec<u8>`-prefixed, as submitted over RPC and stored in blocks).
pub fn decode_extrinsic(
    meta: &ChainMetadata,
    bytes: &[u8],
) -> Result<DecodedExtrinsic, TransactionInvalid> {
    let mut cursor = bytes;
    let Compact(len) = Compact::<u32>::decode(&mut cursor).map_err(|_| bad("no length prefix"))?;
    if cursor.len() != len as usize {
        return Err(bad(format!(
            "length prefix says {len} bytes but {} follow",
            cursor.len()
        )));
    }
    let (&version_byte, mut body) = cursor.split_first().ok_or_else(|| bad("empty extrinsic"))?;
    let version = version_byte & VERSION_MASK;
    let signed_bit = version_byte & SIGNED_BIT != 0;
    let general_bit = version_byte & GENERAL_BIT != 0;
    let signed = match (version, signed_bit, general_bit) {
        (4, true, false) => Some(decode_signed_part(meta, &mut body)?),
        (4, false, false) | (5, false, false) => None,
        (5, false, true) => {
            return Err(bad("general (version 5) transactions are not supported"));
        }
        _ => {
            return Err(bad(format!(
                "unsupported extrinsic version byte {version_byte:#04x}"
            )))
        }
    };
    let call = decode_call(meta, body)?;
    Ok(DecodedExtrinsic { signed, call })
}

fn decode_signed_part(
    meta: &ChainMetadata,
    cursor: &mut &[u8],
) -> Result<SignedPart, TransactionInvalid> {
    let types = meta.types();
    let xt = &meta.v15().extrinsic;
    let address = codec::decode_prefix(cursor, xt.address_ty.id, types)
        .map_err(|e| bad(format!("signer address: {e}")))?;
    let signer = match values::variant(&address) {
        Some(("Id", fields)) => fields.values().next().and_then(values::account),
        Some(_) => return Err(TransactionInvalid::CannotLookup),
        None => None,
    }
    .ok_or_else(|| bad("signer address is not an account id"))?;

    let signature = codec::decode_prefix(cursor, xt.signature_ty.id, types)
        .map_err(|e| bad(format!("signature: {e}")))?;
    let signature = match values::variant(&signature) {
        Some((kind, fields)) => {
            let raw = fields
                .values()
                .next()
                .and_then(values::bytes)
                .ok_or_else(|| bad("signature bytes"))?;
            match kind {
                "Sr25519" => Signature::Sr25519(raw.try_into().map_err(|_| bad("sr25519 length"))?),
                "Ed25519" => Signature::Ed25519(raw.try_into().map_err(|_| bad("ed25519 length"))?),
                "Ecdsa" => Signature::Ecdsa(raw),
                other => return Err(bad(format!("unknown signature kind {other}"))),
            }
        }
        None => return Err(bad("signature is not a MultiSignature")),
    };

    let mut extensions = Vec::with_capacity(xt.signed_extensions.len());
    for ext in &xt.signed_extensions {
        let before = *cursor;
        let value = codec::decode_prefix(cursor, ext.ty.id, types)
            .map_err(|e| bad(format!("signed extension {}: {e}", ext.identifier)))?;
        let used = before.len() - cursor.len();
        extensions.push(Extension {
            identifier: ext.identifier.clone(),
            value,
            bytes: before[..used].to_vec(),
            additional_type: ext.additional_signed.id,
        });
    }
    Ok(SignedPart {
        signer,
        signature,
        extensions,
    })
}

/// Decode a whole call (`RuntimeCall` bytes, nothing after them).
pub fn decode_call(meta: &ChainMetadata, bytes: &[u8]) -> Result<DecodedCall, TransactionInvalid> {
    let call = codec::decode(bytes, meta.call_enum_type(), meta.types())
        .map_err(|e| bad(format!("call: {e}")))?;
    let (pallet, inner) = values::variant(&call).ok_or_else(|| bad("call is not an enum"))?;
    let args = inner
        .values()
        .next()
        .cloned()
        .ok_or_else(|| bad("call without a pallet call"))?;
    let name = values::variant(&args)
        .map(|(n, _)| n.to_owned())
        .ok_or_else(|| bad("pallet call is not an enum"))?;
    Ok(DecodedCall {
        pallet: pallet.to_owned(),
        name,
        args,
        bytes: bytes.to_vec(),
    })
}
