//! Plain values read from the chain, in the chain's own units (rao, u16 fractions, block numbers).
//! Rendering them in the reference API's units is the service's job.

use std::net::IpAddr;

/// A block by number and hash (hash as `0x`-prefixed hex).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BlockRef {
    pub number: u32,
    pub hash: [u8; 32],
}

impl BlockRef {
    pub fn hash_hex(&self) -> String {
        format!("0x{}", hex::encode(self.hash))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonInfo {
    pub ip: IpAddr,
    pub port: u16,
    pub protocol: u8,
}

/// A hotkey's stake on a subnet, in rao.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stakes {
    /// Alpha staked to the hotkey on this subnet.
    pub alpha: u64,
    /// TAO staked to the hotkey on the root subnet.
    pub tao: u64,
    /// Alpha-denominated total: alpha + tao × the chain's TAO weight.
    pub total: u64,
}

/// One neuron of `NeuronInfoRuntimeApi.get_neurons_lite`, plus its stakes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NeuronInfo {
    pub uid: u16,
    /// ss58 (prefix 42).
    pub hotkey: String,
    pub coldkey: String,
    pub active: bool,
    pub axon_info: AxonInfo,
    /// Sum of the neuron's stake entries, rao.
    pub stake: u64,
    /// u16 fractions of 65535.
    pub rank: u16,
    pub incentive: u16,
    pub consensus: u16,
    pub trust: u16,
    pub validator_trust: u16,
    pub dividends: u16,
    /// rao
    pub emission: u64,
    pub last_update: u64,
    pub validator_permit: bool,
    pub pruning_score: u16,
    pub stakes: Stakes,
}

/// `SubtensorModule.NeuronCertificates` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub algorithm: u8,
    pub public_key: Vec<u8>,
}

/// `Commitments.CommitmentOf` entry: the raw bytes of its data fields, concatenated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment {
    pub block: u32,
    /// The readable fields' bytes (`Raw*` and the hash variants), in order.
    pub data: Vec<u8>,
    /// A `TimelockEncrypted` field, not readable until the chain reveals it (the last, when
    /// there are several).
    pub timelocked: Option<TimelockedField>,
}

/// A commitment's `TimelockEncrypted { encrypted, reveal_round }` field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedField {
    pub encrypted: Vec<u8>,
    pub reveal_round: u64,
}

/// One `Commitments.RevealedCommitments` item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevealedCommitment {
    pub reveal_block: u64,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExtrinsicArg {
    pub name: String,
    pub type_name: String,
    pub value: serde_json::Value,
}

/// An extrinsic decoded by the metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Extrinsic {
    pub block_number: u32,
    pub index: u32,
    pub hash: [u8; 32],
    pub length: u32,
    /// ss58 of the signer; `None` for inherents.
    pub address: Option<String>,
    pub module: String,
    pub function: String,
    pub args: Vec<ExtrinsicArg>,
}
