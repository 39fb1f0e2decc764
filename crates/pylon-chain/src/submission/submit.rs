//! Signed submissions: sign a dynamic call (pallet, call and fields by name, encoded by the
//! chain's metadata) with a hotkey, send it, and follow it until it is in a block; then report
//! success or the `System.ExtrinsicFailed` dispatch error decoded by the metadata into words.
//!
//! Transactions are built with subxt's default `SubstrateConfig`. Its transaction extensions
//! cover subtensor's (spec 343: `SubtensorTransactionExtension` and `DrandPriority` carry empty
//! payloads, which subxt encodes from the metadata as nothing; `CheckMetadataHash` gets its mode
//! byte, "disabled"), so no chain-specific config is needed. The devnet serves finney's metadata
//! and verifies the signature over exactly these extensions, which the tests exercise.
//!
//! Nonces: one account signs one extrinsic at a time, from asking the node for its next index
//! (`system_accountNextIndex`, which counts the transaction pool) until the node has accepted the
//! extrinsic into its pool. Two writes of one hotkey at once (a weights job and a commitment)
//! would otherwise read the same nonce and one of them would be refused as outdated or as a
//! duplicate. The turn does not wait for inclusion, so writes still share blocks.
//!
//! "Included" means in a best block without `ExtrinsicFailed`: that is when subtensor has applied
//! the call (weights stored, commit recorded). Waiting for finality would add two or more blocks
//! to every job without changing what the chain did.

use std::collections::HashMap;
use std::sync::Arc;

use scale_value::Value;
use subxt::config::DefaultExtrinsicParamsBuilder;
use subxt::error::{DispatchError, TransactionEventsError};
use subxt::rpcs::rpc_params;
use subxt::tx::{Signer, TransactionStatus};
use subxt::{dynamic, SubstrateConfig};

use crate::client::ChainClient;
use crate::connection::Connection;
use crate::error::ChainError;
use crate::pool_refusal::PoolRefusal;

/// A call named as the metadata names it, with its fields in declaration order.
#[derive(Debug, Clone)]
pub struct ChainCall {
    pub pallet: &'static str,
    pub call: &'static str,
    pub fields: Vec<Value>,
}

/// Where a submitted extrinsic landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Included {
    pub block_number: u64,
    pub block_hash: [u8; 32],
    /// `0x`-prefixed hex.
    pub extrinsic_hash: String,
}

/// Why a submission did not land. Carries no key material: only the chain's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// No node to send to, or the connection broke before the outcome was known.
    #[error("chain connection: {0}")]
    Connection(String),
    /// The node refused the transaction or dropped it from its pool (bad nonce, stale era,
    /// priority, a transaction extension's check such as subtensor's `Custom(n)`), decoded.
    #[error("transaction refused: {0}")]
    Invalid(PoolRefusal),
    /// Included, but the call failed with a pallet's error, named by the metadata.
    #[error("{pallet}.{name}{}", docs_suffix(docs))]
    Module {
        pallet: String,
        name: String,
        docs: String,
    },
    /// Included, but the call failed with a non-module dispatch error (e.g. `BadOrigin`).
    #[error("dispatch failed: {0}")]
    Dispatch(String),
    /// The call does not fit the chain's metadata (unknown pallet/call, fields of the wrong shape).
    #[error("cannot build the call: {0}")]
    Call(String),
}

fn docs_suffix(docs: &str) -> String {
    if docs.is_empty() {
        String::new()
    } else {
        format!(": {docs}")
    }
}

impl From<ChainError> for SubmitError {
    fn from(error: ChainError) -> Self {
        SubmitError::Connection(error.to_string())
    }
}

/// `0x`-prefixed hex of a 32-byte hash.
pub fn hash_hex(hash: &[u8; 32]) -> String {
    format!("0x{}", hex::encode(hash))
}

impl ChainClient {
    /// Sign `call` with `signer` (nonce from the node, mortal era, no tip), call `on_signed` with
    /// the extrinsic's hash before it is sent (so a caller can record it durably), send it to the
    /// main node and wait until it is in a block.
    pub async fn submit_signed<S>(
        &self,
        signer: &S,
        call: &ChainCall,
        on_signed: impl FnOnce(&str) + Send,
    ) -> Result<Included, SubmitError>
    where
        S: Signer<SubstrateConfig> + Send + Sync,
    {
        let turn = self.signing_turns.of(signer.account_id().0);
        let connection = self.main_connection().await?;
        submit_on(&connection, signer, call, on_signed, &turn).await
    }

    /// The main node's connection (the archive never receives transactions).
    pub(crate) async fn main_connection(&self) -> Result<Connection, ChainError> {
        let head = self.latest_block()?;
        // `route` picks the main node for the head; this only borrows its choice.
        self.route("main_connection", head.number, |connection| async move {
            Ok(connection)
        })
        .await
    }
}

/// Per-account signing turns.
#[derive(Debug, Default)]
pub(crate) struct SigningTurns(parking_lot::Mutex<HashMap<[u8; 32], Arc<tokio::sync::Mutex<()>>>>);

impl SigningTurns {
    fn of(&self, account: [u8; 32]) -> Arc<tokio::sync::Mutex<()>> {
        self.0.lock().entry(account).or_default().clone()
    }
}

async fn submit_on<S>(
    connection: &Connection,
    signer: &S,
    call: &ChainCall,
    on_signed: impl FnOnce(&str),
    turn: &tokio::sync::Mutex<()>,
) -> Result<Included, SubmitError>
where
    S: Signer<SubstrateConfig>,
{
    let payload = dynamic::tx(call.pallet, call.call, call.fields.clone());
    let mut transactions = connection
        .api
        .at_current_block()
        .await
        .map_err(|e| SubmitError::Connection(e.to_string()))?
        .transactions();
    // Encoding the call data first names a call or fields the metadata does not accept
    // before anything is signed.
    transactions
        .call_data(&payload)
        .map_err(|e| SubmitError::Call(e.to_string()))?;
    let my_turn = turn.lock().await;
    let nonce: u64 = connection
        .rpc
        .request(
            "system_accountNextIndex",
            rpc_params![signer.account_id().to_string()],
        )
        .await
        .map_err(|e| SubmitError::Connection(format!("reading the account's next nonce: {e}")))?;
    let params = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
        .nonce(nonce)
        .build();
    let signed = transactions
        .create_signed(&payload, signer, params)
        .await
        .map_err(construction_error)?;
    let extrinsic_hash = hash_hex(&signed.hash().0);
    on_signed(&extrinsic_hash);

    let mut progress = signed.submit_and_watch().await.map_err(refusal)?;
    // In the pool now: the next extrinsic of this account reads the nonce after this one.
    drop(my_turn);
    while let Some(status) = progress.next().await {
        let status = status.map_err(|e| SubmitError::Connection(e.to_string()))?;
        let in_block = match status {
            TransactionStatus::InBestBlock(in_block)
            | TransactionStatus::InFinalizedBlock(in_block) => in_block,
            TransactionStatus::Invalid { message } | TransactionStatus::Dropped { message } => {
                return Err(SubmitError::Invalid(PoolRefusal::from_status(&message)))
            }
            TransactionStatus::Error { message } => return Err(SubmitError::Connection(message)),
            _ => continue,
        };
        let block_hash = in_block.block_hash().0;
        let block_number = in_block
            .at()
            .await
            .map_err(|e| SubmitError::Connection(e.to_string()))?
            .block_number();
        return match in_block.wait_for_success().await {
            Ok(_) => Ok(Included {
                block_number,
                block_hash,
                extrinsic_hash,
            }),
            Err(TransactionEventsError::ExtrinsicFailed(error)) => Err(dispatch_error(error)),
            Err(other) => Err(SubmitError::Connection(other.to_string())),
        };
    }
    Err(SubmitError::Connection(
        "the node stopped reporting the transaction's status".into(),
    ))
}

/// Signing needs the nonce from the node; anything else that fails is the call or the
/// transaction extensions not fitting the chain's metadata.
fn construction_error(error: subxt::error::ExtrinsicError) -> SubmitError {
    use subxt::error::ExtrinsicError as E;
    match error {
        E::EncodeError(_)
        | E::PalletNameNotFound(_)
        | E::CallNameNotFound { .. }
        | E::IncompatibleCodegen
        | E::UnsupportedVersion
        | E::Params(_) => SubmitError::Call(error.to_string()),
        other => SubmitError::Connection(other.to_string()),
    }
}

/// A failed send: the node's refusal when it answered with a pool error code (a typed JSON-RPC
/// error: code, message, data), else a connection problem.
fn refusal(error: subxt::error::ExtrinsicError) -> SubmitError {
    use subxt::error::{BackendError, ExtrinsicError, RpcError};
    if let ExtrinsicError::ErrorSubmittingTransaction(BackendError::Rpc(RpcError::ClientError(
        subxt::rpcs::Error::User(answer),
    ))) = &error
    {
        // The data is a JSON value, a string for every pool refusal.
        let data = answer.data.as_ref().map(|raw| {
            serde_json::from_str::<String>(raw.get()).unwrap_or_else(|_| raw.get().to_owned())
        });
        if let Some(refusal) =
            PoolRefusal::from_rpc_error(answer.code, &answer.message, data.as_deref())
        {
            return SubmitError::Invalid(refusal);
        }
    }
    SubmitError::Connection(error.to_string())
}

fn dispatch_error(error: DispatchError) -> SubmitError {
    match &error {
        DispatchError::Module(module) => match module.details() {
            Ok(details) => SubmitError::Module {
                pallet: details.pallet.name().to_string(),
                name: details.variant.name.clone(),
                docs: details
                    .variant
                    .docs
                    .iter()
                    .map(|line| line.trim())
                    .filter(|line| !line.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            },
            Err(_) => SubmitError::Dispatch(module.details_string()),
        },
        other => SubmitError::Dispatch(other.to_string()),
    }
}
