//! What can go wrong talking to the chain, in the terms the service maps to HTTP statuses.

/// A chain failure. The service maps `Unreachable` → 503, `UnknownBlock` → 404 and the rest → 502.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ChainError {
    /// No connection to any node that could answer (connecting, reconnecting, or down).
    #[error("chain unreachable: {0}")]
    Unreachable(String),
    /// The block does not exist (yet), or its state is gone from every node we can ask.
    #[error("unknown block: {0}")]
    UnknownBlock(String),
    /// The node answered with something the metadata cannot explain.
    #[error("cannot decode the chain's answer: {0}")]
    Decode(String),
    /// The node answered with an error.
    #[error("chain RPC error: {0}")]
    Rpc(String),
}

/// JSON-RPC error code substrate's `state_*` / `chain_*` methods answer a client-side failure
/// with (`BASE_ERROR + 3`): on a storage or runtime-API read, an unknown block or discarded state.
const SUBSTRATE_CLIENT_ERROR: i32 = 4003;

impl ChainError {
    /// Classify any subxt / RPC error from its typed variants and JSON-RPC error codes.
    pub fn from_subxt(error: impl Into<subxt::Error>) -> Self {
        let error: subxt::Error = error.into();
        let text = error.to_string();
        match classify(&error) {
            Kind::Unreachable => ChainError::Unreachable(text),
            Kind::UnknownBlock => ChainError::UnknownBlock(text),
            Kind::Decode => ChainError::Decode(text),
            Kind::Rpc => ChainError::Rpc(text),
        }
    }

    /// `error` classified as [`ChainError::from_subxt`] does, its message saying which `step`
    /// of a longer exchange (connecting, say) failed.
    pub fn from_step(step: &str, error: impl Into<subxt::Error>) -> Self {
        let error: subxt::Error = error.into();
        let text = format!("{step}: {error}");
        match classify(&error) {
            Kind::Unreachable => ChainError::Unreachable(text),
            Kind::UnknownBlock => ChainError::UnknownBlock(text),
            Kind::Decode => ChainError::Decode(text),
            Kind::Rpc => ChainError::Rpc(text),
        }
    }

    /// Worth asking the archive node instead.
    pub fn is_unknown_block(&self) -> bool {
        matches!(self, ChainError::UnknownBlock(_))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Unreachable,
    UnknownBlock,
    Decode,
    Rpc,
}

/// subxt keeps its own "which backend error is inside" private, so the variants that carry one
/// are opened here; every other variant is a local failure (metadata, encoding, decoding).
fn classify(error: &subxt::Error) -> Kind {
    use subxt::error::{
        AccountNonceError, BlockError, BlocksError, Error, EventsError, ExtrinsicError,
        OnlineClientError, RuntimeApiError, StorageError, TransactionProgressError,
    };
    if error.is_disconnected_will_reconnect() {
        return Kind::Unreachable;
    }
    let backend = match error {
        Error::BackendError(e) => e,
        Error::OtherRpcClientError(e)
        | Error::OnlineClientError(OnlineClientError::RpcError(e)) => return classify_rpc(e),
        Error::OnlineClientError(OnlineClientError::CannotGetGenesisHash(e)) => e,
        Error::OnlineClientAtBlockError(e)
        | Error::BlocksError(BlocksError::CannotGetCurrentBlock(e)) => return classify_at_block(e),
        Error::BlocksError(
            BlocksError::CannotGetBlockHeaderStream(e) | BlocksError::CannotGetBlockHeader(e),
        ) => e,
        Error::BlockError(BlockError::BlockNotFound { .. }) => return Kind::UnknownBlock,
        Error::BlockError(BlockError::CouldNotDownloadBlockHeader { reason, .. }) => reason,
        Error::AccountNonceError(AccountNonceError::CouldNotRetrieve(e)) => e,
        Error::EventsError(EventsError::CannotFetchEventBytes(e)) => e,
        Error::ExtrinsicError(
            ExtrinsicError::CannotGetBlockBody(e)
            | ExtrinsicError::ErrorSubmittingTransaction(e)
            | ExtrinsicError::TransactionStatusStreamError(e)
            | ExtrinsicError::CannotGetFeeInfo(e)
            | ExtrinsicError::CannotGetValidationInfo(e),
        ) => e,
        Error::ExtrinsicError(ExtrinsicError::BlockNotFound(_)) => return Kind::UnknownBlock,
        Error::StorageError(
            StorageError::CannotFetchValue(e)
            | StorageError::CannotIterateValues(e)
            | StorageError::StreamFailure(e),
        ) => e,
        Error::RuntimeApiError(RuntimeApiError::CannotCallApi(e)) => e,
        Error::TransactionProgressError(TransactionProgressError::CannotGetNextProgressUpdate(
            e,
        )) => e,
        Error::StorageValueError(_)
        | Error::ExtrinsicDecodeErrorAt(_)
        | Error::OtherCodecError(_)
        | Error::StorageError(StorageError::CannotDecodeStorageVersion(_))
        | Error::RuntimeApiError(RuntimeApiError::CouldNotDecodeResponse(_)) => {
            return Kind::Decode
        }
        _ => return Kind::Rpc,
    };
    classify_backend(backend)
}

fn classify_at_block(error: &subxt::error::OnlineClientAtBlockError) -> Kind {
    use subxt::error::OnlineClientAtBlockError as AtBlock;
    match error {
        AtBlock::BlockNotFound { .. } | AtBlock::BlockHeaderNotFound { .. } => Kind::UnknownBlock,
        AtBlock::CannotGetCurrentBlock { reason }
        | AtBlock::CannotGetBlockHash { reason, .. }
        | AtBlock::CannotGetBlockHeader { reason, .. }
        | AtBlock::CannotGetSpecVersion { reason, .. } => classify_backend(reason),
        // subxt keeps only the text of a failed metadata fetch: an RPC error, not a guess.
        AtBlock::CannotGetMetadata { .. } => Kind::Rpc,
        _ => Kind::Decode,
    }
}

fn classify_backend(error: &subxt::error::BackendError) -> Kind {
    use subxt::error::{BackendError, RpcError};
    match error {
        BackendError::Rpc(RpcError::ClientError(e)) => classify_rpc(e),
        BackendError::Rpc(RpcError::SubscriptionDropped) => Kind::Unreachable,
        _ => Kind::Rpc,
    }
}

/// The RPC layer: a node's JSON-RPC error by its code; a transport failure of jsonrpsee's
/// client (closed socket, a background task gone, a restart needed, a timeout) is unreachable.
fn classify_rpc(error: &subxt::rpcs::Error) -> Kind {
    use jsonrpsee::core::ClientError;
    use subxt::rpcs::Error;
    match error {
        Error::User(user) if user.code == SUBSTRATE_CLIENT_ERROR => Kind::UnknownBlock,
        Error::User(_) => Kind::Rpc,
        Error::DisconnectedWillReconnect(_) => Kind::Unreachable,
        Error::Client(inner) => match inner.downcast_ref::<ClientError>() {
            Some(ClientError::Call(object)) if object.code() == SUBSTRATE_CLIENT_ERROR => {
                Kind::UnknownBlock
            }
            Some(ClientError::Call(_) | ClientError::ParseError(_)) => Kind::Rpc,
            // Transport, RestartNeeded, RequestTimeout and the rest: the connection failed us.
            Some(_) | None => Kind::Unreachable,
        },
        Error::Deserialization(_) | Error::Decode(_) => Kind::Decode,
        _ => Kind::Rpc,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonrpsee::core::ClientError;
    use subxt::rpcs::{Error as RpcError, UserError};

    fn user(code: i32, message: &str) -> RpcError {
        RpcError::User(UserError {
            code,
            message: message.to_owned(),
            data: None,
        })
    }

    #[test]
    fn pruned_state_and_missing_blocks_are_unknown_blocks() {
        assert!(
            ChainError::from_subxt(user(4003, "State already discarded for 0xab"))
                .is_unknown_block()
        );
        let jsonrpsee = ClientError::Call(jsonrpsee::types::ErrorObject::owned(
            4003,
            "UnknownBlock: header not found",
            None::<()>,
        ));
        assert!(ChainError::from_subxt(RpcError::Client(Box::new(jsonrpsee))).is_unknown_block());
    }

    #[test]
    fn transport_failures_are_unreachable_and_the_rest_is_an_rpc_error() {
        let closed = ClientError::Transport("The background task closed".into());
        assert!(matches!(
            ChainError::from_subxt(RpcError::Client(Box::new(closed))),
            ChainError::Unreachable(_)
        ));
        assert!(matches!(
            ChainError::from_subxt(RpcError::Client(Box::new(ClientError::RequestTimeout))),
            ChainError::Unreachable(_)
        ));
        assert!(matches!(
            ChainError::from_subxt(RpcError::DisconnectedWillReconnect("gone".into())),
            ChainError::Unreachable(_)
        ));
        assert!(matches!(
            ChainError::from_subxt(user(-32602, "Invalid params")),
            ChainError::Rpc(_)
        ));
    }
}
