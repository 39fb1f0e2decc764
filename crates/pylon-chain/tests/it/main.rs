//! The crate's integration tests as one binary (one link instead of one per file): one module per
//! former test file.

mod connection;
mod devnet_reads;
mod publish_write;
