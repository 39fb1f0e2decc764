//! What the chain layer reports about its own work, for whoever keeps metrics: every routed node
//! call with its outcome and duration, and every fallback from one node to the other.
//!
//! The layer knows nothing of metric libraries; the service installs an observer once, and a
//! client without one reports nothing (one atomic load per call).

use std::time::Duration;

use crate::error::ChainError;

/// Receives the chain layer's reports. Called on the request path, so implementations must be
/// cheap and must not block.
pub trait ChainObserver: Send + Sync + std::fmt::Debug {
    /// A node call finished: `operation` is the chain method's name (`neurons`, `block`, …).
    fn operation(&self, operation: &'static str, outcome: Outcome, elapsed: Duration);
    /// A call went to the other node than the one first chosen.
    fn fallback(&self, operation: &'static str, reason: FallbackReason);
}

/// A node call's outcome, as a bounded set of label values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    UnknownBlock,
    Unreachable,
    Decode,
    Rpc,
}

impl Outcome {
    pub fn of<T>(result: &Result<T, ChainError>) -> Self {
        match result {
            Ok(_) => Outcome::Success,
            Err(ChainError::UnknownBlock(_)) => Outcome::UnknownBlock,
            Err(ChainError::Unreachable(_)) => Outcome::Unreachable,
            Err(ChainError::Decode(_)) => Outcome::Decode,
            Err(ChainError::Rpc(_)) => Outcome::Rpc,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::UnknownBlock => "unknown_block",
            Outcome::Unreachable => "unreachable",
            Outcome::Decode => "decode_error",
            Outcome::Rpc => "rpc_error",
        }
    }
}

/// Why a call went to the other node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FallbackReason {
    /// The main node no longer has the block (pruned state): asked the archive.
    UnknownBlock,
    /// The block is past the archive cutoff but the archive is not connected: asked the main node.
    ArchiveUnreachable,
}

impl FallbackReason {
    pub fn as_str(self) -> &'static str {
        match self {
            FallbackReason::UnknownBlock => "unknown_block",
            FallbackReason::ArchiveUnreachable => "archive_unreachable",
        }
    }
}
