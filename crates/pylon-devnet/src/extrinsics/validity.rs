//! The answer of the `TaggedTransactionQueue_validate_transaction` runtime API (what subxt's
//! `SubmittableTransaction::validate` asks): `Result<ValidTransaction, TransactionValidityError>`
//! built from [`validate`](super::validate), to be encoded against the API's output type.

use parity_scale_codec::Encode;
use scale_value::Value;

use super::{validate, ApplyContext, TransactionInvalid, Validated};
use crate::metadata::ChainMetadata;
use crate::state_access::StateAccess;

/// The `TransactionValidity` of `bytes` (the extrinsic with its length prefix) on `state`.
pub fn transaction_validity(
    meta: &ChainMetadata,
    state: &dyn StateAccess,
    bytes: &[u8],
    ctx: &ApplyContext,
) -> Value {
    match validate(meta, state, bytes, ctx) {
        Ok(valid) => Value::unnamed_variant("Ok", [valid_transaction(&valid)]),
        Err(e) => Value::unnamed_variant("Err", [validity_error(&e)]),
    }
}

/// `ValidTransaction`: `CheckNonce` provides the (signer, nonce) tag; nothing is required
/// because only the account's next nonce is accepted.
fn valid_transaction(valid: &Validated) -> Value {
    let provides = valid
        .signer
        .map(|who| Value::from_bytes((who, valid.nonce).encode()))
        .into_iter();
    Value::named_composite([
        ("priority", Value::u128(0)),
        ("requires", Value::unnamed_composite([])),
        ("provides", Value::unnamed_composite(provides)),
        ("longevity", Value::u128(valid.longevity.into())),
        ("propagate", Value::bool(true)),
    ])
}

/// `TransactionValidityError::{Invalid, Unknown}`. Undecodable bytes have no variant of their
/// own; they are answered as an unexpected call.
fn validity_error(e: &TransactionInvalid) -> Value {
    let invalid =
        |name: &str| Value::unnamed_variant("Invalid", [Value::unnamed_variant(name, [])]);
    match e {
        TransactionInvalid::BadFormat(_) | TransactionInvalid::Call => invalid("Call"),
        TransactionInvalid::Payment => invalid("Payment"),
        TransactionInvalid::Future => invalid("Future"),
        TransactionInvalid::Stale => invalid("Stale"),
        TransactionInvalid::BadProof => invalid("BadProof"),
        TransactionInvalid::AncientBirthBlock => invalid("AncientBirthBlock"),
        TransactionInvalid::ExhaustsResources => invalid("ExhaustsResources"),
        TransactionInvalid::BadMandatory => invalid("BadMandatory"),
        TransactionInvalid::MandatoryValidation => invalid("MandatoryValidation"),
        TransactionInvalid::BadSigner => invalid("BadSigner"),
        TransactionInvalid::Custom(code) => Value::unnamed_variant(
            "Invalid",
            [Value::unnamed_variant(
                "Custom",
                [Value::u128((*code).into())],
            )],
        ),
        TransactionInvalid::CannotLookup => {
            Value::unnamed_variant("Unknown", [Value::unnamed_variant("CannotLookup", [])])
        }
        TransactionInvalid::NoUnsignedValidator => Value::unnamed_variant(
            "Unknown",
            [Value::unnamed_variant("NoUnsignedValidator", [])],
        ),
    }
}
