//! Why a node's transaction pool refused an extrinsic, decoded from its answer: the JSON-RPC
//! error code (Substrate's author API: 1010 invalid, 1011 unknown validity, 1012 temporarily
//! banned, 1013 already imported, 1014 priority too low, 1016 immediately dropped) and its data,
//! which for `InvalidTransaction::Custom(n)` is `Custom error: n` with `n` one of subtensor's
//! `CustomTransactionError` codes (common/src/transaction_error.rs at `v3.4.9-424`), named here.
//! The same texts come in a watched transaction's `invalid`/`dropped` status.

/// subtensor's `CustomTransactionError`, by its `u8` code (v3.4.9-424).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubtensorRefusal {
    ColdkeyInSwapSchedule,
    StakeAmountTooLow,
    BalanceTooLow,
    SubnetNotExists,
    HotkeyAccountDoesntExist,
    NotEnoughStakeToWithdraw,
    RateLimitExceeded,
    InsufficientLiquidity,
    SlippageTooHigh,
    TransferDisallowed,
    HotKeyNotRegisteredInNetwork,
    InvalidIpAddress,
    ServingRateLimitExceeded,
    InvalidPort,
    ZeroMaxAmount,
    InvalidRevealRound,
    CommitNotFound,
    CommitBlockNotInRevealRange,
    InputLengthsUnequal,
    UidNotFound,
    EvmKeyAssociateRateLimitExceeded,
    ColdkeySwapDisputed,
    InvalidRealAccount,
    FailedShieldedTxParsing,
    InvalidShieldedTxPubKeyHash,
    NonAssociatedColdKey,
    DelegateTakeTooLow,
    DelegateTakeTooHigh,
    BadRequest,
}

/// Codes and variants, as subtensor's `From<CustomTransactionError> for u8` numbers them.
const SUBTENSOR_CODES: [(u8, SubtensorRefusal); 29] = {
    use SubtensorRefusal::*;
    [
        (0, ColdkeyInSwapSchedule),
        (1, StakeAmountTooLow),
        (2, BalanceTooLow),
        (3, SubnetNotExists),
        (4, HotkeyAccountDoesntExist),
        (5, NotEnoughStakeToWithdraw),
        (6, RateLimitExceeded),
        (7, InsufficientLiquidity),
        (8, SlippageTooHigh),
        (9, TransferDisallowed),
        (10, HotKeyNotRegisteredInNetwork),
        (11, InvalidIpAddress),
        (12, ServingRateLimitExceeded),
        (13, InvalidPort),
        (14, ZeroMaxAmount),
        (15, InvalidRevealRound),
        (16, CommitNotFound),
        (17, CommitBlockNotInRevealRange),
        (18, InputLengthsUnequal),
        (19, UidNotFound),
        (20, EvmKeyAssociateRateLimitExceeded),
        (21, ColdkeySwapDisputed),
        (22, InvalidRealAccount),
        (23, FailedShieldedTxParsing),
        (24, InvalidShieldedTxPubKeyHash),
        (25, NonAssociatedColdKey),
        (26, DelegateTakeTooLow),
        (27, DelegateTakeTooHigh),
        (255, BadRequest),
    ]
};

impl SubtensorRefusal {
    pub fn from_code(code: u8) -> Option<Self> {
        SUBTENSOR_CODES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, refusal)| *refusal)
    }

    pub fn code(self) -> u8 {
        SUBTENSOR_CODES
            .iter()
            .find(|(_, r)| *r == self)
            .map(|(c, _)| *c)
            .expect("every variant has a code")
    }

    /// Whether the cause can pass before a weights job's epoch ends: rate limits (the next
    /// attempt comes later) and a drand round the chain already holds (the next attempt picks
    /// a later one). Registration, stake, balance and malformed calls do not pass by waiting.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            SubtensorRefusal::RateLimitExceeded
                | SubtensorRefusal::ServingRateLimitExceeded
                | SubtensorRefusal::EvmKeyAssociateRateLimitExceeded
                | SubtensorRefusal::InvalidRevealRound
        )
    }
}

/// What the pool said, classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    /// `InvalidTransaction::Custom(code)`; the subtensor variant when the code is one of its.
    Custom(u8, Option<SubtensorRefusal>),
    /// Nonce already used (`Stale`) or ahead of the account (`Future`): a race with another
    /// extrinsic of the account.
    Stale,
    Future,
    /// The signer cannot pay the fees.
    Payment,
    /// Signature does not verify (e.g. signed against a runtime that upgraded meanwhile).
    BadProof,
    AncientBirthBlock,
    ExhaustsResources,
    /// The call is not accepted as a transaction, or the signer is not a valid account.
    Call,
    BadSigner,
    /// 1011: the runtime could not judge it (e.g. a lookup failed).
    UnknownValidity,
    /// 1012, 1013, 1014, 1016: the pool's own bookkeeping.
    TemporarilyBanned,
    AlreadyImported,
    TooLowPriority,
    ImmediatelyDropped,
    /// Anything else the node said.
    Other,
}

/// A pool refusal: the node's code (when it answered a submission with an error), the decoded
/// reason, and the node's own words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolRefusal {
    pub rpc_code: Option<i32>,
    pub reason: RefusalReason,
    pub detail: String,
}

impl std::fmt::Display for PoolRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(code) = self.rpc_code {
            write!(f, "[{code}] ")?;
        }
        write!(f, "{}", self.detail)?;
        if let RefusalReason::Custom(_, Some(refusal)) = self.reason {
            write!(f, " ({refusal:?})")?;
        }
        Ok(())
    }
}

impl PoolRefusal {
    /// A submission's JSON-RPC error: `code`, `message` and the `data` text, if any.
    pub fn from_rpc_error(code: i32, message: &str, data: Option<&str>) -> Option<Self> {
        let reason = match code {
            1010 => data.map_or(RefusalReason::Other, invalid_reason),
            1011 => RefusalReason::UnknownValidity,
            1012 => RefusalReason::TemporarilyBanned,
            1013 => RefusalReason::AlreadyImported,
            1014 => RefusalReason::TooLowPriority,
            1016 => RefusalReason::ImmediatelyDropped,
            1015 | 1017..=1019 => RefusalReason::Other,
            _ => return None,
        };
        let detail = match data {
            Some(data) if !data.is_empty() => format!("{message}: {data}"),
            _ => message.to_owned(),
        };
        Some(PoolRefusal {
            rpc_code: Some(code),
            reason,
            detail,
        })
    }

    /// A watched transaction reported `invalid` or `dropped` with the node's `message`.
    pub fn from_status(message: &str) -> Self {
        PoolRefusal {
            rpc_code: None,
            reason: invalid_reason(message),
            detail: message.to_owned(),
        }
    }

    /// Whether sending again (re-signed, later) can succeed.
    pub fn is_retryable(&self) -> bool {
        match self.reason {
            RefusalReason::Custom(_, Some(refusal)) => refusal.is_retryable(),
            // A code subtensor does not define (a newer runtime): let the attempts decide.
            RefusalReason::Custom(_, None) => true,
            RefusalReason::Payment | RefusalReason::Call | RefusalReason::BadSigner => false,
            RefusalReason::Stale
            | RefusalReason::Future
            | RefusalReason::BadProof
            | RefusalReason::AncientBirthBlock
            | RefusalReason::ExhaustsResources
            | RefusalReason::UnknownValidity
            | RefusalReason::TemporarilyBanned
            | RefusalReason::AlreadyImported
            | RefusalReason::TooLowPriority
            | RefusalReason::ImmediatelyDropped
            | RefusalReason::Other => true,
        }
    }
}

/// `InvalidTransaction` as a node writes it (sp-runtime's texts; `Custom error: n`).
fn invalid_reason(text: &str) -> RefusalReason {
    let text = text.trim();
    if let Some(code) = text
        .strip_prefix("Custom error: ")
        .and_then(|n| n.trim().parse::<u8>().ok())
    {
        return RefusalReason::Custom(code, SubtensorRefusal::from_code(code));
    }
    match text {
        "Transaction is outdated" => RefusalReason::Stale,
        "Transaction will be valid in the future" => RefusalReason::Future,
        "Inability to pay some fees (e.g. account balance too low)" => RefusalReason::Payment,
        "Transaction has a bad signature" => RefusalReason::BadProof,
        "Transaction has an ancient birth block" => RefusalReason::AncientBirthBlock,
        "Transaction would exhaust the block limits" => RefusalReason::ExhaustsResources,
        "Transaction call is not expected" => RefusalReason::Call,
        "Invalid signing address" => RefusalReason::BadSigner,
        _ => RefusalReason::Other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtensors_custom_codes_are_named() {
        assert_eq!(
            SubtensorRefusal::from_code(6),
            Some(SubtensorRefusal::RateLimitExceeded)
        );
        assert_eq!(
            SubtensorRefusal::from_code(15),
            Some(SubtensorRefusal::InvalidRevealRound)
        );
        assert_eq!(
            SubtensorRefusal::from_code(10),
            Some(SubtensorRefusal::HotKeyNotRegisteredInNetwork)
        );
        assert_eq!(
            SubtensorRefusal::from_code(255),
            Some(SubtensorRefusal::BadRequest)
        );
        assert_eq!(SubtensorRefusal::from_code(28), None);
        for (code, refusal) in SUBTENSOR_CODES {
            assert_eq!(refusal.code(), code);
        }
    }

    #[test]
    fn a_custom_refusal_is_decoded_and_classified() {
        let limited =
            PoolRefusal::from_rpc_error(1010, "Invalid Transaction", Some("Custom error: 6"))
                .unwrap();
        assert_eq!(
            limited.reason,
            RefusalReason::Custom(6, Some(SubtensorRefusal::RateLimitExceeded))
        );
        assert!(limited.is_retryable());
        assert_eq!(
            limited.to_string(),
            "[1010] Invalid Transaction: Custom error: 6 (RateLimitExceeded)"
        );
        let unregistered =
            PoolRefusal::from_rpc_error(1010, "Invalid Transaction", Some("Custom error: 10"))
                .unwrap();
        assert!(!unregistered.is_retryable());
        let old_round = PoolRefusal::from_status("Custom error: 15");
        assert_eq!(
            old_round.reason,
            RefusalReason::Custom(15, Some(SubtensorRefusal::InvalidRevealRound))
        );
        assert!(old_round.is_retryable());
    }

    #[test]
    fn substrates_own_refusals_are_classified() {
        let stale = PoolRefusal::from_rpc_error(
            1010,
            "Invalid Transaction",
            Some("Transaction is outdated"),
        )
        .unwrap();
        assert_eq!(stale.reason, RefusalReason::Stale);
        assert!(stale.is_retryable());
        let broke = PoolRefusal::from_rpc_error(
            1010,
            "Invalid Transaction",
            Some("Inability to pay some fees (e.g. account balance too low)"),
        )
        .unwrap();
        assert!(!broke.is_retryable());
        let priority =
            PoolRefusal::from_rpc_error(1014, "Priority is too low", Some("(1 vs 1)")).unwrap();
        assert_eq!(priority.reason, RefusalReason::TooLowPriority);
        assert!(priority.is_retryable());
        // Not a pool code: not a refusal (the caller treats it as a connection problem).
        assert_eq!(
            PoolRefusal::from_rpc_error(-32603, "Internal error", None),
            None
        );
    }
}
