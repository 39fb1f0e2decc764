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

impl ChainError {
    /// Classify any subxt / RPC error by what the node or transport said.
    ///
    /// subxt's error types keep their backend classification private, so the message is the only
    /// stable signal across them; substrate nodes word "unknown block" errors consistently.
    pub fn from_subxt(error: impl std::fmt::Display) -> Self {
        let text = error.to_string();
        let lower = text.to_ascii_lowercase();
        if is_unknown_block_text(&lower) {
            ChainError::UnknownBlock(text)
        } else if lower.contains("client error")
            || lower.contains("connection")
            || lower.contains("restart")
            || lower.contains("background task")
            || lower.contains("subscription dropped")
            || lower.contains("reconnect")
        {
            ChainError::Unreachable(text)
        } else if lower.contains("decode") {
            ChainError::Decode(text)
        } else {
            ChainError::Rpc(text)
        }
    }

    /// `error` classified as [`ChainError::from_subxt`] does, its message saying which `step`
    /// of a longer exchange (connecting, say) failed.
    pub fn from_step(step: &str, error: impl std::fmt::Display) -> Self {
        let text = format!("{step}: {error}");
        match ChainError::from_subxt(&error) {
            ChainError::Unreachable(_) => ChainError::Unreachable(text),
            ChainError::UnknownBlock(_) => ChainError::UnknownBlock(text),
            ChainError::Decode(_) => ChainError::Decode(text),
            ChainError::Rpc(_) => ChainError::Rpc(text),
        }
    }

    /// Worth asking the archive node instead.
    pub fn is_unknown_block(&self) -> bool {
        matches!(self, ChainError::UnknownBlock(_))
    }
}

/// The phrases substrate nodes use when a block or its state is not (or no longer) there.
pub(crate) fn is_unknown_block_text(lower: &str) -> bool {
    lower.contains("unknown block")
        || lower.contains("unknownblock")
        || lower.contains("state already discarded")
        || lower.contains("block not found")
        || lower.contains("header not found")
        || lower.contains("4003")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_state_and_missing_blocks_are_unknown_blocks() {
        assert!(
            ChainError::from_subxt("RPC error: User error: State already discarded for 0xab")
                .is_unknown_block()
        );
        assert!(ChainError::from_subxt("Error: UnknownBlock: header not found").is_unknown_block());
    }

    #[test]
    fn transport_failures_are_unreachable_and_the_rest_is_an_rpc_error() {
        assert!(matches!(
            ChainError::from_subxt("RPC error: client error: The background task closed"),
            ChainError::Unreachable(_)
        ));
        assert!(matches!(
            ChainError::from_subxt("RPC error: User error: Invalid params"),
            ChainError::Rpc(_)
        ));
    }
}
