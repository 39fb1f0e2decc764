//! The crate's integration tests as one binary (one link instead of one per file): one module per
//! former test file.

mod drand_subxt;
mod extrinsics_subxt;
mod rpc_reads;
mod rpc_v2_subxt;
mod runtime_upgrade;
