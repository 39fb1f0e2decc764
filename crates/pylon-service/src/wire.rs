//! The v1 wire types: what the service sends, defined once. They serialize the responses and
//! describe them in the OpenAPI document (utoipa), so the two cannot drift apart.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
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
    /// Hex without `0x` (the reference's form).
    pub public_key: String,
}

/// `GET …/block/latest/certificates`: every certificate by hotkey, a bare map as the reference
/// answers (no `block`).
pub type CertificatesResponse = BTreeMap<String, NeuronCertificate>;

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

/// An epoch: the blocks `[start, end)` between two runs of the subnet's epoch.
#[derive(Debug, Serialize, ToSchema)]
pub struct Epoch {
    pub start: u64,
    pub end: u64,
}

/// `PUT …/weights`: the job that will set them (the reference's answer has no fields; its
/// client ignores these).
#[derive(Debug, Serialize, ToSchema)]
pub struct SetWeightsResponse {
    pub detail: String,
    /// Uids the weights go to.
    pub count: usize,
    pub job_id: u64,
    /// The pending job of the same identity, netuid and mechanism this one replaced.
    pub superseded_job_id: Option<u64>,
    /// The job is submitted within this epoch or expires.
    pub epoch: Epoch,
    /// Hotkeys not registered on the subnet at the latest block: their weights go nowhere.
    pub unknown_hotkeys: Vec<String>,
}

/// `GET …/weights/status`: the identity's newest weights job.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeightsJob {
    pub job_id: u64,
    pub netuid: u16,
    pub mechanism_id: u8,
    /// `pending`, `submitted`, `included`, `failed`, `expired` or `superseded`.
    pub status: String,
    /// Whether the weights are on chain (status `included`).
    pub weights_submitted: bool,
    pub epoch: Epoch,
    pub requested_at_block: u64,
    /// Extrinsics sent so far.
    pub attempts: u32,
    /// Why the last attempt did not land, while the job retries.
    pub last_error: Option<String>,
    pub included_block: Option<u64>,
    pub extrinsic_hash: Option<String>,
    /// Why the job failed (status `failed`).
    pub reason: Option<String>,
    /// The job that replaced this one (status `superseded`).
    pub superseded_by: Option<u64>,
    /// The weights as sent: uids and their u16 values.
    pub uids: Vec<u16>,
    pub weights: Vec<u16>,
    /// Unix seconds.
    pub created_at: u64,
    pub updated_at: u64,
    /// Commit-reveal subnets: what the newest CRv4 commit's drand round was computed from.
    pub commit: Option<CommitPlan>,
}

/// How a CRv4 commit's drand round was chosen: the chain state pinned at one block, the measured
/// block time, the time of the computation, and the result (for checks by other implementations,
/// e.g. bittensor-core's `get_encrypted_commit_v2`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CommitPlan {
    /// The block every input was read at.
    pub pinned_block: u64,
    /// `stateful` (spec 423+ storage) or `fixed` (the older `tempo + 1` grid).
    pub schedule: String,
    pub tempo: u16,
    /// The stateful schedule's storage at the pinned block (absent on the fixed grid).
    pub last_epoch_block: Option<u64>,
    pub pending_epoch_at: Option<u64>,
    pub subnet_epoch_index: Option<u64>,
    pub blocks_since_last_step: Option<u64>,
    pub reveal_period_epochs: u64,
    pub block_time_secs: f64,
    /// Unix time (seconds) the round was computed at.
    pub computed_at: f64,
    /// `ingest-offset` (the Bittensor SDK's) or `pulse-delay`.
    pub rule: String,
    /// The first block the chain tries to reveal the commit in.
    pub reveal_block: u64,
    pub reveal_round: u64,
}

/// The reference's `…/mechanism/{m}/block/{n}/weights/status`.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeightsSubmitted {
    /// Whether weights were included during the epoch containing the block.
    pub weights_submitted: bool,
}

/// `POST …/commitments`: where the commitment landed.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetCommitmentResponse {
    pub block: Block,
    pub extrinsic_hash: String,
}

/// `POST …/commitments/revealed`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SetRevealedCommitmentResponse {
    /// The drand round whose pulse lets the chain reveal the commitment.
    pub reveal_round: u64,
    pub block: Block,
    pub extrinsic_hash: String,
}

/// `POST …/certificates/self`: the published certificate and its private key (returned once).
#[derive(Serialize, ToSchema)]
pub struct CertificateKeypair {
    /// 1: EdDSA using Ed25519.
    pub algorithm: u8,
    /// Hex (no `0x`) of the 32-byte public key.
    pub public_key: String,
    /// Hex (no `0x`) of the 32-byte Ed25519 secret seed.
    pub private_key: String,
}

impl std::fmt::Debug for CertificateKeypair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateKeypair")
            .field("algorithm", &self.algorithm)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

// Request bodies of the write routes, as the reference client sends them. Unknown fields are
// ignored, like the reference's models do.

/// `PUT …/weights` (validated by `pylon_weights::body`, which names every bad entry).
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetWeightsBody {
    /// Weight by hotkey ss58: finite, not negative; scaled so the largest becomes 65535.
    pub weights: BTreeMap<String, f64>,
}

/// `POST …/commitments`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetCommitmentBody {
    /// Hex of the bytes to commit, with or without `0x`; 1 to 384 bytes.
    #[schema(pattern = "^(0x)?([0-9a-fA-F]{2}){1,384}$")]
    pub commitment: String,
}

/// `POST …/commitments/revealed`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct SetRevealedCommitmentBody {
    /// Text, encrypted until the reveal and then published as sent.
    #[schema(min_length = 1)]
    pub commitment: String,
    /// Blocks from now until the chain reveals it (at least 1).
    #[schema(minimum = 1, maximum = 4294967295_i64)]
    pub blocks_until_reveal: i64,
}

/// `POST …/certificates/self`; an empty body means Ed25519.
#[derive(Debug, Deserialize, ToSchema)]
pub struct GenerateCertificateBody {
    /// 1: EdDSA using Ed25519, the only algorithm the chain's users know.
    #[serde(default = "ed25519_algorithm")]
    #[schema(minimum = 1, maximum = 1, default = 1)]
    pub algorithm: i64,
}

pub fn ed25519_algorithm() -> i64 {
    1
}
