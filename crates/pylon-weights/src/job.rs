//! What a weights job is: its key, its weights, the epoch it is for, and its state.

use serde::{Deserialize, Serialize};

use crate::commit::CommitPlan;
use crate::convert::ChainWeights;
use crate::epoch::Epoch;

pub type JobId = u64;

/// At most one live job exists per key: a newer request supersedes an older pending one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct JobKey {
    pub identity: String,
    pub netuid: u16,
    /// The mechanism (sub-subnet) id; 0 for the plain `…/weights` route.
    pub mechid: u8,
}

impl JobKey {
    /// The index key in the store. The identity comes last so any character in it is harmless.
    pub(crate) fn storage_key(&self) -> String {
        format!("{}/{}/{}", self.netuid, self.mechid, self.identity)
    }
}

/// A job's life: `pending` → `submitted` → `included`, with retries going back to `pending`, and
/// `failed` / `expired` / `superseded` as the other ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for its (next) attempt.
    Pending,
    /// An extrinsic for it is on its way to the chain; its hash once signed.
    Submitted {
        attempt: u32,
        at_block: u64,
        extrinsic_hash: Option<String>,
    },
    /// Included in `block` without `ExtrinsicFailed`.
    Included { block: u64, extrinsic_hash: String },
    /// Given up: the chain refused it for a reason retrying cannot fix, or attempts ran out.
    Failed { reason: String },
    /// Its epoch ended before it could be included.
    Expired,
    /// A newer request for the same key replaced it before it was submitted.
    Superseded { by: JobId },
}

impl JobState {
    /// Terminal states never change again.
    pub fn is_terminal(&self) -> bool {
        !matches!(self, JobState::Pending | JobState::Submitted { .. })
    }
}

/// A request to record: validated, mapped and converted weights for one epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewJob {
    pub key: JobKey,
    pub weights: ChainWeights,
    /// The epoch containing the block the request arrived at; the job expires when the chain
    /// leaves it.
    pub epoch: Epoch,
    pub requested_at_block: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: JobId,
    pub key: JobKey,
    pub weights: ChainWeights,
    pub epoch: Epoch,
    pub requested_at_block: u64,
    pub state: JobState,
    /// Extrinsics sent so far.
    pub attempts: u32,
    /// Why the last attempt did not land, while the job is still retrying.
    pub last_error: Option<String>,
    pub created_at_unix: u64,
    pub updated_at_unix: u64,
    /// The newest CRv4 commit's inputs and drand round (commit-reveal subnets only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<CommitPlan>,
}
