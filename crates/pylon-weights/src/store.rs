//! Durable weights jobs, one live job per (identity, netuid, mechanism), in one of two backends:
//!
//! - [`EmbeddedStore`] (the default): one redb file in the data directory; one process.
//! - [`PgStore`]: a PostgreSQL database (`PYLON_DATABASE_URL`) shared by several instances, so a
//!   standby sees the jobs a dead leader left and any instance can accept a request.
//!
//! Both give the same guarantees, tested by one suite run against each: every change is one
//! atomic, durable transaction; "supersede the pending job" and "claim an attempt" exclude each
//! other per key, so a superseded job never sends an extrinsic and one key never has two
//! extrinsics in flight.
//!
//! The calls block for a few milliseconds (disk or network); async callers on a busy runtime may
//! wrap them in `spawn_blocking`.

mod embedded;
#[cfg(test)]
pub(crate) mod pg_cluster;
mod postgres;
#[cfg(test)]
mod suite;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

pub use self::embedded::EmbeddedStore;
pub use self::postgres::{PgStore, NOTIFY_CHANNEL};
use crate::commit::CommitPlan;
use crate::job::{Job, JobId, JobKey, JobState, NewJob};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job database error: {0}")]
    Database(Box<redb::Error>),
    #[error("job database (PostgreSQL) error: {0}")]
    Postgres(String),
    #[error("job {0} is stored in an unreadable form: {1}")]
    Corrupt(JobId, String),
    #[error("no job {0}")]
    UnknownJob(JobId),
    #[error("job {id} is already {state:?} and cannot change")]
    Final { id: JobId, state: JobState },
}

/// The answer to [`JobStore::submit`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    pub id: JobId,
    /// The pending job this one replaced, if any.
    pub superseded: Option<JobId>,
}

/// The answer to [`JobStore::claim_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The job is now `submitted`; send attempt number `attempt`.
    Claimed { attempt: u32 },
    /// The job is not pending any more (superseded, or already submitted/finished): send nothing.
    NotPending(JobState),
    /// An older job for the same key has an extrinsic in flight; wait for it to resolve.
    Busy { in_flight: JobId },
}

/// The job store, whichever backend holds it.
pub enum JobStore {
    Embedded(EmbeddedStore),
    Postgres(PgStore),
}

macro_rules! each {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            JobStore::Embedded($store) => $call,
            JobStore::Postgres($store) => $call,
        }
    };
}

impl JobStore {
    /// Open (or create) the embedded job database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        EmbeddedStore::open(path).map(JobStore::Embedded)
    }

    /// Connect to the PostgreSQL database at `url` (`postgres://…`), applying the schema
    /// migrations it has not seen yet.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        PgStore::connect(url).map(JobStore::Postgres)
    }

    /// Whether other instances may share this store (PostgreSQL): then only the leader of an
    /// identity drives its jobs.
    pub fn is_shared(&self) -> bool {
        matches!(self, JobStore::Postgres(_))
    }

    /// Record a new job for its key, superseding the key's previous job if that one is still
    /// pending (not yet handed to the chain).
    pub fn submit(&self, new: NewJob) -> Result<Submitted, StoreError> {
        each!(self, s => s.submit(new))
    }

    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        each!(self, s => s.get(id))
    }

    /// The newest job for a key, whatever its state (what `…/weights/status` reports).
    pub fn latest_for(&self, key: &JobKey) -> Result<Option<Job>, StoreError> {
        each!(self, s => s.latest_for(key))
    }

    /// Jobs not yet finished (pending or submitted), oldest first: what to resume after a restart.
    pub fn pending(&self) -> Result<Vec<Job>, StoreError> {
        each!(self, s => s.pending())
    }

    /// Whether weights of `key` were included during the epoch containing `block` (what the
    /// reference's `…/block/{n}/weights/status` answers as `weights_submitted`).
    pub fn weights_included_in_epoch_of(
        &self,
        key: &JobKey,
        block: u64,
    ) -> Result<bool, StoreError> {
        each!(self, s => s.weights_included_in_epoch_of(key, block))
    }

    /// Delete finished jobs last changed before `before_unix`, keeping each key's newest job (the
    /// one status reports). Bounds the store's growth; returns how many were deleted.
    pub fn prune_finished(&self, before_unix: u64) -> Result<usize, StoreError> {
        each!(self, s => s.prune_finished(before_unix))
    }

    /// Atomically move a pending job to `submitted` before its extrinsic is sent. Refused when it
    /// was superseded meanwhile, or while another job of its key has an extrinsic in flight.
    pub fn claim_attempt(&self, id: JobId, at_block: u64) -> Result<Claim, StoreError> {
        each!(self, s => s.claim_attempt(id, at_block))
    }

    /// Set a job's state. Leaving `submitted` frees its key's in-flight slot. A terminal state is
    /// final: changing it is an error.
    pub fn update(&self, id: JobId, state: JobState) -> Result<Job, StoreError> {
        each!(self, s => s.update(id, state))
    }

    /// Note the hash of a submitted job's signed extrinsic (for status, and to find it after a
    /// restart). Ignored unless the job is still `submitted`.
    pub fn record_extrinsic_hash(&self, id: JobId, hash: &str) -> Result<(), StoreError> {
        each!(self, s => s.record_extrinsic_hash(id, hash))
    }

    /// Note the plan of the CRv4 commit a submitted job is sending (its inputs and drand round).
    /// Ignored unless the job is still `submitted`.
    pub fn record_commit_plan(&self, id: JobId, plan: &CommitPlan) -> Result<(), StoreError> {
        each!(self, s => s.record_commit_plan(id, plan))
    }

    /// Put a submitted job back to `pending` after an attempt that did not land, noting why.
    pub fn retry_later(&self, id: JobId, reason: &str) -> Result<Job, StoreError> {
        each!(self, s => s.retry_later(id, reason))
    }
}

/// A new job as both backends first write it.
fn new_job_record(id: JobId, new: NewJob) -> Job {
    let now = now_unix();
    Job {
        id,
        key: new.key,
        weights: new.weights,
        epoch: new.epoch,
        requested_at_block: new.requested_at_block,
        state: JobState::Pending,
        attempts: 0,
        last_error: None,
        created_at_unix: now,
        updated_at_unix: now,
        commit: None,
    }
}

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}
