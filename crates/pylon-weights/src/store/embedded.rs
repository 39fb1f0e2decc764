//! The embedded backend: durable weights jobs in one database file (redb), so a restart resumes them.
//!
//! Each change is one write transaction, committed (fsync'd) before the call returns, and redb
//! runs write transactions one at a time: that makes "supersede the pending job" and "claim an
//! attempt" atomic with respect to each other, which is what guarantees that a superseded job
//! never sends an extrinsic and that one key never has two extrinsics in flight.
//!
//! The calls block on disk I/O for a few milliseconds; async callers on a busy runtime may wrap
//! them in `spawn_blocking`.

use std::path::Path;

use redb::{Database, ReadableTable, TableDefinition};

use super::{new_job_record, now_unix, Claim, StoreError, Submitted};
use crate::commit::CommitPlan;
use crate::job::{Job, JobId, JobKey, JobState, NewJob};

/// Job id → job (JSON).
const JOBS: TableDefinition<u64, &[u8]> = TableDefinition::new("jobs");
/// Job key → the newest job id for it.
const LATEST: TableDefinition<&str, u64> = TableDefinition::new("latest_job");
/// Job key → the job whose extrinsic is on its way to the chain.
const IN_FLIGHT: TableDefinition<&str, u64> = TableDefinition::new("in_flight_job");
/// Counters.
const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const NEXT_ID: &str = "next_job_id";

fn db_error(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Database(Box::new(error.into()))
}

pub struct EmbeddedStore {
    db: Database,
}

/// redb's page cache. Its default (1 GiB) would let the process grow with the file for as long as
/// jobs accumulate; the working set (each key's newest jobs) is a few pages.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

impl EmbeddedStore {
    /// Open (or create) the job database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(db_error)?;
        let txn = db.begin_write().map_err(db_error)?;
        {
            txn.open_table(JOBS).map_err(db_error)?;
            txn.open_table(LATEST).map_err(db_error)?;
            txn.open_table(IN_FLIGHT).map_err(db_error)?;
            txn.open_table(META).map_err(db_error)?;
        }
        txn.commit().map_err(db_error)?;
        Ok(EmbeddedStore { db })
    }

    /// Record a new job for its key, superseding the key's previous job if that one is still
    /// pending (not yet handed to the chain).
    pub fn submit(&self, new: NewJob) -> Result<Submitted, StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        let outcome = {
            let mut jobs = txn.open_table(JOBS).map_err(db_error)?;
            let mut latest = txn.open_table(LATEST).map_err(db_error)?;
            let mut meta = txn.open_table(META).map_err(db_error)?;

            let id = meta
                .get(NEXT_ID)
                .map_err(db_error)?
                .map(|v| v.value())
                .unwrap_or(1);
            meta.insert(NEXT_ID, id + 1).map_err(db_error)?;

            let storage_key = new.key.storage_key();
            let previous = latest
                .get(storage_key.as_str())
                .map_err(db_error)?
                .map(|v| v.value());
            let mut superseded = None;
            if let Some(previous_id) = previous {
                let mut previous_job = read_job(&jobs, previous_id)?;
                if previous_job.state == JobState::Pending {
                    previous_job.state = JobState::Superseded { by: id };
                    previous_job.updated_at_unix = now_unix();
                    write_job(&mut jobs, &previous_job)?;
                    superseded = Some(previous_id);
                }
            }

            let job = new_job_record(id, new);
            write_job(&mut jobs, &job)?;
            latest.insert(storage_key.as_str(), id).map_err(db_error)?;
            Submitted { id, superseded }
        };
        txn.commit().map_err(db_error)?;
        Ok(outcome)
    }

    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let jobs = txn.open_table(JOBS).map_err(db_error)?;
        match jobs.get(id).map_err(db_error)? {
            Some(bytes) => decode_job(id, bytes.value()).map(Some),
            None => Ok(None),
        }
    }

    /// The newest job for a key, whatever its state (what `…/weights/status` reports).
    pub fn latest_for(&self, key: &JobKey) -> Result<Option<Job>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let latest = txn.open_table(LATEST).map_err(db_error)?;
        let Some(id) = latest
            .get(key.storage_key().as_str())
            .map_err(db_error)?
            .map(|v| v.value())
        else {
            return Ok(None);
        };
        let jobs = txn.open_table(JOBS).map_err(db_error)?;
        read_job(&jobs, id).map(Some)
    }

    /// Jobs not yet finished (pending or submitted), oldest first: what to resume after a restart.
    pub fn pending(&self) -> Result<Vec<Job>, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let jobs = txn.open_table(JOBS).map_err(db_error)?;
        let mut live = Vec::new();
        for row in jobs.iter().map_err(db_error)? {
            let (id, bytes) = row.map_err(db_error)?;
            let job = decode_job(id.value(), bytes.value())?;
            if !job.state.is_terminal() {
                live.push(job);
            }
        }
        Ok(live)
    }

    /// Whether weights of `key` were included during the epoch containing `block` (what the
    /// reference's `…/block/{n}/weights/status` answers as `weights_submitted`).
    pub fn weights_included_in_epoch_of(
        &self,
        key: &JobKey,
        block: u64,
    ) -> Result<bool, StoreError> {
        let txn = self.db.begin_read().map_err(db_error)?;
        let jobs = txn.open_table(JOBS).map_err(db_error)?;
        for row in jobs.iter().map_err(db_error)?.rev() {
            let (id, bytes) = row.map_err(db_error)?;
            let job = decode_job(id.value(), bytes.value())?;
            let in_epoch = job.epoch.contains(block);
            if &job.key == key && in_epoch && matches!(job.state, JobState::Included { .. }) {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Delete finished jobs last changed before `before_unix`, keeping each key's newest job (the
    /// one status reports). Bounds the file's growth; returns how many were deleted.
    pub fn prune_finished(&self, before_unix: u64) -> Result<usize, StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        let deleted = {
            let mut jobs = txn.open_table(JOBS).map_err(db_error)?;
            let latest = txn.open_table(LATEST).map_err(db_error)?;
            let mut newest = std::collections::HashSet::new();
            for row in latest.iter().map_err(db_error)? {
                newest.insert(row.map_err(db_error)?.1.value());
            }
            let mut doomed = Vec::new();
            for row in jobs.iter().map_err(db_error)? {
                let (id, bytes) = row.map_err(db_error)?;
                let job = decode_job(id.value(), bytes.value())?;
                if job.state.is_terminal()
                    && job.updated_at_unix < before_unix
                    && !newest.contains(&job.id)
                {
                    doomed.push(job.id);
                }
            }
            for id in &doomed {
                jobs.remove(*id).map_err(db_error)?;
            }
            doomed.len()
        };
        txn.commit().map_err(db_error)?;
        Ok(deleted)
    }

    /// Atomically move a pending job to `submitted` before its extrinsic is sent. Refused when it
    /// was superseded meanwhile, or while another job of its key has an extrinsic in flight.
    pub fn claim_attempt(&self, id: JobId, at_block: u64) -> Result<Claim, StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        let claim = {
            let mut jobs = txn.open_table(JOBS).map_err(db_error)?;
            let mut in_flight = txn.open_table(IN_FLIGHT).map_err(db_error)?;
            let mut job = read_job(&jobs, id)?;
            let storage_key = job.key.storage_key();
            let holder = in_flight
                .get(storage_key.as_str())
                .map_err(db_error)?
                .map(|v| v.value());
            match holder {
                _ if job.state != JobState::Pending => Claim::NotPending(job.state),
                Some(other) if other != id => Claim::Busy { in_flight: other },
                _ => {
                    job.attempts += 1;
                    job.state = JobState::Submitted {
                        attempt: job.attempts,
                        at_block,
                        extrinsic_hash: None,
                    };
                    job.updated_at_unix = now_unix();
                    write_job(&mut jobs, &job)?;
                    in_flight
                        .insert(storage_key.as_str(), id)
                        .map_err(db_error)?;
                    Claim::Claimed {
                        attempt: job.attempts,
                    }
                }
            }
        };
        txn.commit().map_err(db_error)?;
        Ok(claim)
    }

    /// Set a job's state. Leaving `submitted` frees its key's in-flight slot. A terminal state is
    /// final: changing it is an error.
    pub fn update(&self, id: JobId, state: JobState) -> Result<Job, StoreError> {
        self.change(id, |job| job.state = state)
    }

    /// Note the hash of a submitted job's signed extrinsic (for status, and to find it after a
    /// restart). Ignored unless the job is still `submitted`.
    pub fn record_extrinsic_hash(&self, id: JobId, hash: &str) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(db_error)?;
            let mut job = read_job(&jobs, id)?;
            if let JobState::Submitted { extrinsic_hash, .. } = &mut job.state {
                *extrinsic_hash = Some(hash.to_owned());
                job.updated_at_unix = now_unix();
                write_job(&mut jobs, &job)?;
            }
        }
        txn.commit().map_err(db_error)?;
        Ok(())
    }

    /// Note the plan of the CRv4 commit a submitted job is sending (its inputs and drand round).
    /// Ignored unless the job is still `submitted`.
    pub fn record_commit_plan(&self, id: JobId, plan: &CommitPlan) -> Result<(), StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        {
            let mut jobs = txn.open_table(JOBS).map_err(db_error)?;
            let mut job = read_job(&jobs, id)?;
            if matches!(job.state, JobState::Submitted { .. }) {
                job.commit = Some(*plan);
                job.updated_at_unix = now_unix();
                write_job(&mut jobs, &job)?;
            }
        }
        txn.commit().map_err(db_error)?;
        Ok(())
    }

    /// Put a submitted job back to `pending` after an attempt that did not land, noting why.
    pub fn retry_later(&self, id: JobId, reason: &str) -> Result<Job, StoreError> {
        self.change(id, |job| {
            job.state = JobState::Pending;
            job.last_error = Some(reason.to_owned());
        })
    }

    fn change(&self, id: JobId, apply: impl FnOnce(&mut Job)) -> Result<Job, StoreError> {
        let txn = self.db.begin_write().map_err(db_error)?;
        let job = {
            let mut jobs = txn.open_table(JOBS).map_err(db_error)?;
            let mut in_flight = txn.open_table(IN_FLIGHT).map_err(db_error)?;
            let mut job = read_job(&jobs, id)?;
            if job.state.is_terminal() {
                return Err(StoreError::Final {
                    id,
                    state: job.state,
                });
            }
            apply(&mut job);
            job.updated_at_unix = now_unix();
            write_job(&mut jobs, &job)?;
            let storage_key = job.key.storage_key();
            let holder = in_flight
                .get(storage_key.as_str())
                .map_err(db_error)?
                .map(|v| v.value());
            if holder == Some(id) && !matches!(job.state, JobState::Submitted { .. }) {
                in_flight.remove(storage_key.as_str()).map_err(db_error)?;
            }
            job
        };
        txn.commit().map_err(db_error)?;
        Ok(job)
    }
}

fn read_job(jobs: &impl ReadableTable<u64, &'static [u8]>, id: JobId) -> Result<Job, StoreError> {
    match jobs.get(id).map_err(db_error)? {
        Some(bytes) => decode_job(id, bytes.value()),
        None => Err(StoreError::UnknownJob(id)),
    }
}

fn write_job(jobs: &mut redb::Table<u64, &'static [u8]>, job: &Job) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(job).map_err(|e| StoreError::Corrupt(job.id, e.to_string()))?;
    jobs.insert(job.id, bytes.as_slice()).map_err(db_error)?;
    Ok(())
}

fn decode_job(id: JobId, bytes: &[u8]) -> Result<Job, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt(id, e.to_string()))
}
