//! The crate's integration tests as one binary (one link instead of one per file): one module per
//! former test file.

mod chain_reset;
mod common;
mod events;
mod fault_matrix;
mod hostile;
mod logs;
mod market;
mod operations;
mod read_path;
mod resilience;
mod security;
mod unstable;
mod weights_write;
mod write_path;
