//! The v1 wire types: what the service sends, defined once. They serialize the responses and
//! describe them in the OpenAPI document (utoipa), so the two cannot drift apart.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Block {
    pub number: u32,
    /// `0x`-prefixed hex.
    pub hash: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BlockInfo {
    pub number: u32,
    pub hash: String,
    /// `Timestamp.Now` at the block: milliseconds since the Unix epoch.
    pub timestamp: u64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AxonInfo {
    /// IPv4 or IPv6 address; `0.0.0.0` when the neuron serves nothing.
    pub ip: String,
    pub port: u16,
    /// 0 TCP, 1 UDP, 4 HTTP.
    pub protocol: u8,
}

/// Stake on the hotkey, in tokens (rao / 1e9).
#[derive(Debug, Serialize, ToSchema)]
pub struct Stakes {
    /// Alpha staked on this subnet.
    pub alpha: f64,
    /// TAO staked on the root subnet.
    pub tao: f64,
    /// Alpha-denominated total: alpha + tao × the chain's TAO weight.
    pub total: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Neuron {
    pub uid: u16,
    pub coldkey: String,
    pub hotkey: String,
    pub active: bool,
    pub axon_info: AxonInfo,
    /// Sum of the neuron's stake entries, in alpha.
    pub stake: f64,
    /// Fractions of 1 (the chain's u16 / 65535).
    pub rank: f64,
    /// Alpha per epoch (rao / 1e9).
    pub emission: f64,
    pub incentive: f64,
    pub consensus: f64,
    pub trust: f64,
    pub validator_trust: f64,
    pub dividends: f64,
    /// Block number of the neuron's last weights update.
    pub last_update: u64,
    pub validator_permit: bool,
    pub pruning_score: u16,
    pub stakes: Stakes,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeuronsResponse {
    pub block: Block,
    /// By hotkey.
    pub neurons: BTreeMap<String, Neuron>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ValidatorsResponse {
    pub block: Block,
    /// Neurons with a validator permit, largest total stake first.
    pub validators: Vec<Neuron>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NeuronCertificate {
    /// 1 = ED25519.
    pub algorithm: u8,
    /// `0x`-prefixed hex.
    pub public_key: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CertificatesResponse {
    pub block: Block,
    /// By hotkey.
    pub certificates: BTreeMap<String, NeuronCertificate>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentsResponse {
    pub block: Block,
    /// Commitment data (`0x` hex) by hotkey.
    pub commitments: BTreeMap<String, String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CommitmentResponse {
    pub block: Block,
    pub hotkey: String,
    /// The block the commitment was made at.
    pub commitment_block_number: u32,
    /// `0x`-prefixed hex of the commitment's raw data fields.
    pub commitment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedCommitment {
    pub reveal_block_number: u64,
    pub hotkey: String,
    /// The revealed data as text (invalid UTF-8 replaced).
    pub commitment: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedCommitmentsResponse {
    pub block: Block,
    /// By hotkey.
    pub commitments: BTreeMap<String, Vec<RevealedCommitment>>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HotkeyRevealedCommitmentsResponse {
    pub block: Block,
    pub commitments: Vec<RevealedCommitment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtrinsicCallArg {
    pub name: String,
    /// The argument's type as the metadata names it.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The decoded value: numbers, `0x` hex for bytes, objects for structs.
    pub value: serde_json::Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtrinsicCall {
    pub call_module: String,
    pub call_function: String,
    pub call_args: Vec<ExtrinsicCallArg>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExtrinsicResponse {
    pub block_number: u32,
    pub extrinsic_index: u32,
    pub extrinsic_hash: String,
    pub extrinsic_length: u32,
    /// ss58 of the signer; null for inherents.
    pub address: Option<String>,
    pub call: ExtrinsicCall,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IdentitiesResponse {
    /// Netuid by identity name.
    pub identities: BTreeMap<String, u16>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorResponse {
    pub status_code: u16,
    /// Why, naming the field for bad input.
    pub detail: String,
}
