//! Pylon's access to a subtensor chain.
//!
//! Layers, each with one job:
//! - [`connection`]: one node — connect, follow new heads by subscription, reconnect with backoff.
//! - [`client`]: the main node plus an optional archive node, and which of them answers a block.
//! - queries ([`neurons`], [`certificates`], [`commitments`], [`extrinsic`], [`blocks`]): decode the
//!   chain's answers by pallet/item/field *names* from its metadata (scale-decode / scale-value).
//! - [`model`]: the plain domain values the queries return.

pub mod blocks;
pub mod certificates;
pub mod client;
pub mod commitments;
pub mod connection;
mod decode;
pub mod epoch_schedule;
pub mod error;
pub mod extrinsic;
mod frozen_types;
pub mod hyperparams;
pub mod model;
pub mod network;
pub mod neurons;
pub mod observe;
pub mod pace;
pub mod pool_refusal;
pub mod publish;
pub mod submit;
pub mod subnet;
mod subnet_maps;
pub mod weights;
pub mod weights_row;
pub mod weights_submitter;
pub mod weights_traces;

pub use client::{ChainClient, ChainConfig};
pub use error::ChainError;
pub use hyperparams::{Hyperparams, HyperparamsSource};
pub use model::{
    AxonInfo, BlockRef, Certificate, Commitment, Extrinsic, ExtrinsicArg, Neuron,
    RevealedCommitment, Stakes,
};
pub use network::{Network, NetworkError};
pub use observe::{ChainObserver, FallbackReason, Outcome};
pub use submit::{ChainCall, Included, SubmitError};
pub use subnet::{DrandBeacon, SubnetSettings};
pub use weights_submitter::ChainWeightsSubmitter;

/// The 32-byte account id of an ss58 address, if it is one.
pub fn account_id_from_ss58(text: &str) -> Option<[u8; 32]> {
    text.parse::<subxt::utils::AccountId32>().ok().map(|a| a.0)
}
