//! Pylon's access to a subtensor chain.
//!
//! Layers, each with one job and one folder:
//! - [`connection`]: one node — connect, follow new heads by subscription, reconnect with backoff;
//!   [`client`]: the main node plus an optional archive node, and which of them answers a block.
//! - [`queries`] ([`neurons`], [`certificates`], [`commitments`], [`extrinsic`], [`blocks`], …):
//!   decode the chain's answers by pallet/item/field *names* from its metadata.
//! - [`submission`]: signed calls submitted and watched to inclusion, refusals decoded by name.
//! - [`model`]: the plain domain values the queries return; [`error`]: what can go wrong.

pub mod connection;
pub mod error;
pub mod model;
pub mod queries;
pub mod submission;

// The flat module paths the crate has always offered.
pub use connection::{client, network, observe};
pub use queries::{
    blocks, certificates, commitments, epoch_schedule, evm_associations, extrinsic, hyperparams,
    market, neurons, pace, subnet, weights_row, weights_traces,
};
pub(crate) use queries::{decode, frozen_types, subnet_maps};
pub use submission::{pool_refusal, publish, submit, weights};

pub use client::{ChainClient, ChainConfig};
pub use error::ChainError;
pub use evm_associations::EvmAssociation;
pub use hyperparams::{Hyperparams, HyperparamsSource};
pub use model::{
    AxonInfo, BlockRef, Certificate, Commitment, Extrinsic, ExtrinsicArg, NeuronInfo,
    RevealedCommitment, Stakes, TimelockedField,
};
pub use network::{Network, NetworkError};
pub use observe::{ChainObserver, FallbackReason, Outcome};
pub use submit::{ChainCall, Included, SubmitError};
pub use subnet::{DrandBeacon, SubnetSettings};

/// The 32-byte account id of an ss58 address, if it is one.
pub fn account_id_from_ss58(text: &str) -> Option<[u8; 32]> {
    text.parse::<subxt::utils::AccountId32>().ok().map(|a| a.0)
}
