//! Why a transaction is refused by the pool and left out of blocks: Substrate's
//! `TransactionValidityError`, with the texts a real node puts in the `data` of its
//! `author_submitExtrinsic` error (code 1010 "Invalid Transaction" / 1011 "Unknown Transaction
//! Validity"), which clients match on.

/// A transaction the runtime refuses (`InvalidTransaction` / `UnknownTransaction`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransactionInvalid {
    /// The bytes are not an extrinsic of this runtime (the node's "bad format").
    #[error("Could not decode extrinsic: {0}")]
    BadFormat(String),
    /// `InvalidTransaction::Call`.
    #[error("Transaction call is not expected")]
    Call,
    /// `InvalidTransaction::Payment`: the signer's account does not exist or cannot pay fees.
    #[error("Inability to pay some fees (e.g. account balance too low)")]
    Payment,
    /// `InvalidTransaction::Future`: nonce above the account's next nonce.
    #[error("Transaction will be valid in the future")]
    Future,
    /// `InvalidTransaction::Stale`: nonce already used.
    #[error("Transaction is outdated")]
    Stale,
    /// `InvalidTransaction::BadProof`: the signature does not match the signing payload (wrong
    /// key, or signed for another genesis hash, spec/transaction version or era birth block).
    #[error("Transaction has a bad signature")]
    BadProof,
    /// `InvalidTransaction::AncientBirthBlock`: the era's birth block hash is no longer kept.
    #[error("Transaction has an ancient birth block")]
    AncientBirthBlock,
    /// `InvalidTransaction::ExhaustsResources`.
    #[error("Transaction would exhaust the block limits")]
    ExhaustsResources,
    /// `InvalidTransaction::BadMandatory`.
    #[error("A call was labelled as mandatory, but resulted into an Error.")]
    BadMandatory,
    /// `InvalidTransaction::MandatoryValidation`: an inherent submitted as a transaction.
    #[error("Transaction dispatch is mandatory; transactions must not be validated.")]
    MandatoryValidation,
    /// `InvalidTransaction::BadSigner` (e.g. the all-zero account, refused by CheckNonZeroSender).
    #[error("Invalid signing address")]
    BadSigner,
    /// `InvalidTransaction::Custom(code)`; subtensor's codes are its `CustomTransactionError`.
    #[error("Custom error: {0}")]
    Custom(u8),
    /// `UnknownTransaction::CannotLookup`: the signer address is not an account id.
    #[error("Could not lookup information required to validate the transaction")]
    CannotLookup,
    /// `UnknownTransaction::NoUnsignedValidator`: an unsigned call nobody validates.
    #[error("Could not find an unsigned validator for the unsigned transaction")]
    NoUnsignedValidator,
}

impl TransactionInvalid {
    /// Substrate's RPC error code for this rejection: 1010 for `InvalidTransaction`, 1011 for
    /// `UnknownTransaction`, 1001 for undecodable bytes.
    pub fn rpc_code(&self) -> i32 {
        match self {
            TransactionInvalid::BadFormat(_) => 1001,
            TransactionInvalid::CannotLookup | TransactionInvalid::NoUnsignedValidator => 1011,
            _ => 1010,
        }
    }
}

/// Subtensor's `CustomTransactionError` codes (pallets/subtensor/src/lib.rs), as the
/// `SubtensorTransactionExtension` reports them.
pub mod subtensor_custom {
    pub const COLDKEY_IN_SWAP_SCHEDULE: u8 = 0;
    pub const STAKE_AMOUNT_TOO_LOW: u8 = 1;
    pub const RATE_LIMIT_EXCEEDED: u8 = 6;
    pub const HOTKEY_NOT_REGISTERED_IN_NETWORK: u8 = 10;
    pub const INVALID_IP_ADDRESS: u8 = 11;
    pub const SERVING_RATE_LIMIT_EXCEEDED: u8 = 12;
    pub const INVALID_PORT: u8 = 13;
    pub const INVALID_REVEAL_ROUND: u8 = 15;
    pub const COMMIT_NOT_FOUND: u8 = 16;
    pub const COMMIT_BLOCK_NOT_IN_REVEAL_RANGE: u8 = 17;
    pub const COLDKEY_SWAP_DISPUTED: u8 = 21;
    pub const BAD_REQUEST: u8 = 255;
}
