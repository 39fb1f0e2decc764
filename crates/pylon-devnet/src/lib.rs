//! `pylon devnet`: a local chain that speaks Substrate JSON-RPC with subtensor's real metadata.

pub mod state_access;
