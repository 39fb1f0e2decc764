//! Queries: the chain's answers decoded by pallet/item/field *names* from each block's metadata
//! (scale-decode / scale-value), each file one subject. Every query is an `impl ChainClient`
//! block answering at one pinned block through the connection layer.

pub mod blocks;
pub mod certificates;
pub mod commitments;
pub(crate) mod decode;
pub mod epoch_schedule;
pub mod evm_associations;
pub mod extrinsic;
pub(crate) mod frozen_types;
pub mod hyperparams;
pub mod market;
pub mod neurons;
pub mod pace;
pub mod subnet;
pub(crate) mod subnet_maps;
pub mod weights_row;
pub mod weights_traces;
