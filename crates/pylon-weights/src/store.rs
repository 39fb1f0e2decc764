//! Durable weights jobs in one embedded database file (redb), so a restart resumes them.
//!
//! Each change is one write transaction, committed (fsync'd) before the call returns, and redb
//! runs write transactions one at a time: that makes "supersede the pending job" and "claim an
//! attempt" atomic with respect to each other, which is what guarantees that a superseded job
//! never sends an extrinsic and that one key never has two extrinsics in flight.
//!
//! The calls block on disk I/O for a few milliseconds; async callers on a busy runtime may wrap
//! them in `spawn_blocking`.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Database, ReadableTable, TableDefinition};

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

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("job database error: {0}")]
    Database(Box<redb::Error>),
    #[error("job {0} is stored in an unreadable form: {1}")]
    Corrupt(JobId, String),
    #[error("no job {0}")]
    UnknownJob(JobId),
    #[error("job {id} is already {state:?} and cannot change")]
    Final { id: JobId, state: JobState },
}

fn db_error(error: impl Into<redb::Error>) -> StoreError {
    StoreError::Database(Box::new(error.into()))
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

pub struct JobStore {
    db: Database,
}

/// redb's page cache. Its default (1 GiB) would let the process grow with the file for as long as
/// jobs accumulate; the working set (each key's newest jobs) is a few pages.
const CACHE_BYTES: usize = 4 * 1024 * 1024;

impl JobStore {
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
        Ok(JobStore { db })
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

            let now = now_unix();
            let job = Job {
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
            };
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

fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::convert::ChainWeights;
    use crate::epoch::Epoch;
    use std::sync::Arc;

    fn key(identity: &str) -> JobKey {
        JobKey {
            identity: identity.to_owned(),
            netuid: 1,
            mechid: 0,
        }
    }

    fn new_job(identity: &str, value: u16) -> NewJob {
        NewJob {
            key: key(identity),
            weights: ChainWeights {
                uids: vec![0],
                values: vec![value],
            },
            epoch: Epoch {
                start: 100,
                end: 200,
                index: None,
            },
            requested_at_block: 150,
        }
    }

    fn temp_store() -> (tempfile::TempDir, JobStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = JobStore::open(dir.path().join("jobs.redb")).unwrap();
        (dir, store)
    }

    #[test]
    fn a_new_job_is_pending_and_is_the_latest_for_its_key() {
        let (_dir, store) = temp_store();
        let submitted = store.submit(new_job("alice", 7)).unwrap();
        assert_eq!(submitted.superseded, None);
        let job = store.get(submitted.id).unwrap().unwrap();
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(job.weights.values, vec![7]);
        assert_eq!(job.attempts, 0);
        assert_eq!(
            store.latest_for(&key("alice")).unwrap().unwrap().id,
            submitted.id
        );
        assert_eq!(store.latest_for(&key("bob")).unwrap(), None);
        assert_eq!(store.get(999).unwrap(), None);
    }

    #[test]
    fn pending_jobs_survive_reopening_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let (pending_id, submitted_id, done_id) = {
            let store = JobStore::open(&path).unwrap();
            let pending = store.submit(new_job("alice", 1)).unwrap().id;
            let submitted = store.submit(new_job("bob", 2)).unwrap().id;
            assert_eq!(
                store.claim_attempt(submitted, 160).unwrap(),
                Claim::Claimed { attempt: 1 }
            );
            let done = store.submit(new_job("carol", 3)).unwrap().id;
            store.update(done, JobState::Expired).unwrap();
            (pending, submitted, done)
        };
        let store = JobStore::open(&path).unwrap();
        let live: Vec<(JobId, JobState)> = store
            .pending()
            .unwrap()
            .into_iter()
            .map(|job| (job.id, job.state))
            .collect();
        assert_eq!(
            live,
            vec![
                (pending_id, JobState::Pending),
                (
                    submitted_id,
                    JobState::Submitted {
                        attempt: 1,
                        at_block: 160,
                        extrinsic_hash: None,
                    }
                ),
            ]
        );
        assert_eq!(
            store.get(done_id).unwrap().unwrap().state,
            JobState::Expired
        );
        // Ids keep counting up after a reopen.
        assert!(store.submit(new_job("dave", 4)).unwrap().id > done_id);
    }

    #[test]
    fn a_newer_request_supersedes_a_pending_job_which_then_cannot_be_claimed() {
        let (_dir, store) = temp_store();
        let first = store.submit(new_job("alice", 1)).unwrap().id;
        let second = store.submit(new_job("alice", 2)).unwrap();
        assert_eq!(second.superseded, Some(first));
        assert_eq!(
            store.get(first).unwrap().unwrap().state,
            JobState::Superseded { by: second.id }
        );
        assert_eq!(
            store.claim_attempt(first, 150).unwrap(),
            Claim::NotPending(JobState::Superseded { by: second.id })
        );
        assert_eq!(
            store.claim_attempt(second.id, 150).unwrap(),
            Claim::Claimed { attempt: 1 }
        );
        // Other keys are untouched.
        let other = store.submit(new_job("bob", 3)).unwrap();
        assert_eq!(other.superseded, None);
    }

    #[test]
    fn a_job_in_flight_is_not_superseded_and_holds_back_the_next_one() {
        let (_dir, store) = temp_store();
        let first = store.submit(new_job("alice", 1)).unwrap().id;
        assert_eq!(
            store.claim_attempt(first, 150).unwrap(),
            Claim::Claimed { attempt: 1 }
        );
        let second = store.submit(new_job("alice", 2)).unwrap();
        assert_eq!(second.superseded, None);
        assert_eq!(
            store.claim_attempt(second.id, 151).unwrap(),
            Claim::Busy { in_flight: first }
        );
        // Once the first resolves, the second may go.
        store
            .update(
                first,
                JobState::Included {
                    block: 152,
                    extrinsic_hash: "0x01".into(),
                },
            )
            .unwrap();
        assert_eq!(
            store.claim_attempt(second.id, 153).unwrap(),
            Claim::Claimed { attempt: 1 }
        );
    }

    #[test]
    fn retries_count_attempts_and_keep_the_last_error() {
        let (_dir, store) = temp_store();
        let id = store.submit(new_job("alice", 1)).unwrap().id;
        assert_eq!(
            store.claim_attempt(id, 150).unwrap(),
            Claim::Claimed { attempt: 1 }
        );
        assert_eq!(
            store.claim_attempt(id, 150).unwrap(),
            Claim::NotPending(JobState::Submitted {
                attempt: 1,
                at_block: 150,
                extrinsic_hash: None,
            })
        );
        store.record_extrinsic_hash(id, "0xabc").unwrap();
        assert_eq!(
            store.get(id).unwrap().unwrap().state,
            JobState::Submitted {
                attempt: 1,
                at_block: 150,
                extrinsic_hash: Some("0xabc".into()),
            }
        );
        let job = store.retry_later(id, "connection reset").unwrap();
        // Only a submitted job takes a hash.
        store.record_extrinsic_hash(id, "0xdef").unwrap();
        assert_eq!(store.get(id).unwrap().unwrap().state, JobState::Pending);
        assert_eq!(job.state, JobState::Pending);
        assert_eq!(job.last_error.as_deref(), Some("connection reset"));
        assert_eq!(
            store.claim_attempt(id, 155).unwrap(),
            Claim::Claimed { attempt: 2 }
        );
        assert_eq!(store.get(id).unwrap().unwrap().attempts, 2);
    }

    #[test]
    fn terminal_states_are_final() {
        let (_dir, store) = temp_store();
        let id = store.submit(new_job("alice", 1)).unwrap().id;
        store
            .update(
                id,
                JobState::Failed {
                    reason: "NotRegistered".into(),
                },
            )
            .unwrap();
        assert!(matches!(
            store.update(id, JobState::Pending),
            Err(StoreError::Final { .. })
        ));
        assert!(matches!(
            store.update(42, JobState::Pending),
            Err(StoreError::UnknownJob(42))
        ));
    }

    #[test]
    fn weights_status_is_per_key_and_epoch() {
        let (_dir, store) = temp_store();
        let included = store.submit(new_job("alice", 1)).unwrap().id;
        store
            .update(
                included,
                JobState::Included {
                    block: 160,
                    extrinsic_hash: "0x01".into(),
                },
            )
            .unwrap();
        let failed = store.submit(new_job("bob", 1)).unwrap().id;
        store
            .update(failed, JobState::Failed { reason: "x".into() })
            .unwrap();
        // Epoch of new_job is [100, 200).
        assert!(store
            .weights_included_in_epoch_of(&key("alice"), 100)
            .unwrap());
        assert!(store
            .weights_included_in_epoch_of(&key("alice"), 199)
            .unwrap());
        assert!(!store
            .weights_included_in_epoch_of(&key("alice"), 200)
            .unwrap());
        assert!(!store
            .weights_included_in_epoch_of(&key("alice"), 99)
            .unwrap());
        assert!(!store
            .weights_included_in_epoch_of(&key("bob"), 150)
            .unwrap());
        assert!(!store
            .weights_included_in_epoch_of(&key("carol"), 150)
            .unwrap());
    }

    #[test]
    fn pruning_deletes_old_finished_jobs_but_keeps_live_and_newest_ones() {
        let (_dir, store) = temp_store();
        let old = store.submit(new_job("alice", 1)).unwrap().id;
        let newest = store.submit(new_job("alice", 2)).unwrap().id; // supersedes `old`
        store.update(newest, JobState::Expired).unwrap();
        let live = store.submit(new_job("bob", 3)).unwrap().id;

        assert_eq!(store.prune_finished(0).unwrap(), 0, "nothing is old enough");
        assert_eq!(store.prune_finished(u64::MAX).unwrap(), 1);
        assert_eq!(store.get(old).unwrap(), None);
        assert!(store.get(newest).unwrap().is_some());
        assert!(store.get(live).unwrap().is_some());
    }

    #[test]
    fn concurrent_submits_leave_exactly_one_live_job_per_key() {
        let (_dir, store) = temp_store();
        let store = Arc::new(store);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .build()
            .unwrap();
        let ids: Vec<JobId> = runtime.block_on(async {
            let tasks: Vec<_> = (0..16)
                .map(|i| {
                    let store = Arc::clone(&store);
                    tokio::task::spawn_blocking(move || {
                        store.submit(new_job("alice", i)).unwrap().id
                    })
                })
                .collect();
            let mut ids = Vec::new();
            for task in tasks {
                ids.push(task.await.unwrap());
            }
            ids
        });
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 16, "ids are unique");

        let live = store.pending().unwrap();
        assert_eq!(live.len(), 1, "one live job: {live:?}");
        let latest = store.latest_for(&key("alice")).unwrap().unwrap();
        assert_eq!(latest.id, live[0].id);
        assert_eq!(latest.id, *unique.last().unwrap(), "the newest job wins");
        for id in unique.iter().filter(|&&id| id != latest.id) {
            assert!(matches!(
                store.get(*id).unwrap().unwrap().state,
                JobState::Superseded { .. }
            ));
        }
    }
}
