//! The shared backend: weights jobs in PostgreSQL, so several instances see the same jobs.
//!
//! Each change is one transaction that first locks its key's row in `weights_job_keys`
//! (`SELECT … FOR UPDATE`): per key, "supersede the pending job", "claim an attempt" and "leave
//! `submitted`" run one at a time across every instance, as redb's single writer does for one
//! process. A new job is announced with `NOTIFY pylon_weights_jobs` (payload: its identity),
//! delivered at commit, which wakes the identity's leader.
//!
//! The API is synchronous like the embedded store's: the calls are served by a few worker
//! threads, each with its own connection (reconnected when lost), and the caller waits for the
//! answer. Schema migrations run once at connect, under an advisory lock so that instances
//! starting together do not race.

use std::str::FromStr;
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use postgres::types::Json;
use postgres::{Client, Config, NoTls, Transaction};

use super::{new_job_record, now_unix, Claim, StoreError, Submitted};
use crate::commit::CommitPlan;
use crate::job::{Job, JobId, JobKey, JobState, NewJob};

/// The channel a new job is announced on; the payload is its identity.
pub const NOTIFY_CHANNEL: &str = "pylon_weights_jobs";

/// Connections (and threads) serving the store's calls in one process.
const WORKERS: usize = 4;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The schema, in order; each entry runs once, in one transaction, and is recorded in
/// `pylon_schema_migrations`.
const MIGRATIONS: &[(i32, &str)] = &[(
    1,
    "CREATE TABLE weights_jobs (
         id BIGINT PRIMARY KEY,
         job_key TEXT NOT NULL,
         identity TEXT NOT NULL,
         state TEXT NOT NULL,
         terminal BOOLEAN NOT NULL,
         updated_at_unix BIGINT NOT NULL,
         job JSONB NOT NULL
     );
     CREATE INDEX weights_jobs_live ON weights_jobs (id) WHERE NOT terminal;
     CREATE INDEX weights_jobs_by_key ON weights_jobs (job_key, id);
     CREATE SEQUENCE weights_job_ids;
     CREATE TABLE weights_job_keys (
         job_key TEXT PRIMARY KEY,
         latest_id BIGINT,
         in_flight_id BIGINT
     );",
)];

type Work = Box<dyn FnOnce(Result<&mut Client, StoreError>) + Send>;

pub struct PgStore {
    work: mpsc::Sender<Work>,
}

fn pg(error: postgres::Error) -> StoreError {
    StoreError::Postgres(error.to_string())
}

fn gone() -> StoreError {
    StoreError::Postgres("the store's worker thread stopped".into())
}

fn config(url: &str) -> Result<Config, StoreError> {
    let mut config = Config::from_str(url)
        .map_err(|e| StoreError::Postgres(format!("PYLON_DATABASE_URL: {e}")))?;
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    Ok(config)
}

impl PgStore {
    /// Connect, apply the migrations this database has not seen, and start the workers.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config = config(url)?;
        // On a thread of its own: the blocking client may not run inside an async runtime.
        let connecting = config.clone();
        let first = std::thread::spawn(move || {
            let mut client = connecting.connect(NoTls).map_err(pg)?;
            migrate(&mut client)?;
            Ok::<_, StoreError>(client)
        })
        .join()
        .map_err(|_| StoreError::Postgres("connecting panicked".into()))??;
        let (work, queue) = mpsc::channel::<Work>();
        let queue = Arc::new(Mutex::new(queue));
        let mut first = Some(first);
        for n in 0..WORKERS {
            let config = config.clone();
            let queue = Arc::clone(&queue);
            let client = first.take();
            std::thread::Builder::new()
                .name(format!("pylon-jobs-pg-{n}"))
                .spawn(move || serve(config, queue, client))
                .map_err(|e| StoreError::Postgres(format!("cannot start a worker: {e}")))?;
        }
        Ok(PgStore { work })
    }

    /// Run `f` on a worker's connection and wait for its answer.
    fn call<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Client) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let (answer, answered) = mpsc::sync_channel(1);
        let work: Work = Box::new(move |client| {
            let _ = answer.send(client.and_then(f));
        });
        self.work.send(work).map_err(|_| gone())?;
        answered.recv().map_err(|_| gone())?
    }

    pub fn submit(&self, new: NewJob) -> Result<Submitted, StoreError> {
        self.call(move |client| {
            let mut txn = client.transaction().map_err(pg)?;
            let storage_key = new.key.storage_key();
            let identity = new.key.identity.clone();
            let slot = lock_key(&mut txn, &storage_key)?;
            let id: i64 = txn
                .query_one("SELECT nextval('weights_job_ids')", &[])
                .map_err(pg)?
                .get(0);
            let id = id as JobId;
            let mut superseded = None;
            if let Some(previous_id) = slot.latest {
                let mut previous = read_job(&mut txn, previous_id)?;
                if previous.state == JobState::Pending {
                    previous.state = JobState::Superseded { by: id };
                    previous.updated_at_unix = now_unix();
                    write_job(&mut txn, &previous)?;
                    superseded = Some(previous_id);
                }
            }
            write_job(&mut txn, &new_job_record(id, new))?;
            txn.execute(
                "UPDATE weights_job_keys SET latest_id = $2 WHERE job_key = $1",
                &[&storage_key, &(id as i64)],
            )
            .map_err(pg)?;
            txn.execute("SELECT pg_notify($1, $2)", &[&NOTIFY_CHANNEL, &identity])
                .map_err(pg)?;
            txn.commit().map_err(pg)?;
            Ok(Submitted { id, superseded })
        })
    }

    pub fn get(&self, id: JobId) -> Result<Option<Job>, StoreError> {
        self.call(move |client| {
            let row = client
                .query_opt(
                    "SELECT job FROM weights_jobs WHERE id = $1",
                    &[&(id as i64)],
                )
                .map_err(pg)?;
            row.map(|row| decode(id, &row, 0)).transpose()
        })
    }

    pub fn latest_for(&self, key: &JobKey) -> Result<Option<Job>, StoreError> {
        let storage_key = key.storage_key();
        self.call(move |client| {
            let row = client
                .query_opt(
                    "SELECT j.id, j.job FROM weights_job_keys k
                     JOIN weights_jobs j ON j.id = k.latest_id WHERE k.job_key = $1",
                    &[&storage_key],
                )
                .map_err(pg)?;
            row.map(|row| decode(row.get::<_, i64>(0) as JobId, &row, 1))
                .transpose()
        })
    }

    pub fn pending(&self) -> Result<Vec<Job>, StoreError> {
        self.call(|client| {
            client
                .query(
                    "SELECT id, job FROM weights_jobs WHERE NOT terminal ORDER BY id",
                    &[],
                )
                .map_err(pg)?
                .iter()
                .map(|row| decode(row.get::<_, i64>(0) as JobId, row, 1))
                .collect()
        })
    }

    pub fn weights_included_in_epoch_of(
        &self,
        key: &JobKey,
        block: u64,
    ) -> Result<bool, StoreError> {
        let storage_key = key.storage_key();
        self.call(move |client| {
            let rows = client
                .query(
                    "SELECT id, job FROM weights_jobs WHERE job_key = $1 AND state = 'included'
                     ORDER BY id DESC",
                    &[&storage_key],
                )
                .map_err(pg)?;
            for row in &rows {
                let job = decode(row.get::<_, i64>(0) as JobId, row, 1)?;
                if job.epoch.contains(block) {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    pub fn prune_finished(&self, before_unix: u64) -> Result<usize, StoreError> {
        let before = i64::try_from(before_unix).unwrap_or(i64::MAX);
        self.call(move |client| {
            let deleted = client
                .execute(
                    "DELETE FROM weights_jobs WHERE terminal AND updated_at_unix < $1
                     AND id NOT IN (SELECT latest_id FROM weights_job_keys
                                    WHERE latest_id IS NOT NULL)",
                    &[&before],
                )
                .map_err(pg)?;
            Ok(deleted as usize)
        })
    }

    pub fn claim_attempt(&self, id: JobId, at_block: u64) -> Result<Claim, StoreError> {
        self.call(move |client| {
            let mut txn = client.transaction().map_err(pg)?;
            let storage_key = key_of(&mut txn, id)?;
            let slot = lock_key(&mut txn, &storage_key)?;
            let mut job = read_job(&mut txn, id)?;
            let claim = match slot.in_flight {
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
                    write_job(&mut txn, &job)?;
                    txn.execute(
                        "UPDATE weights_job_keys SET in_flight_id = $2 WHERE job_key = $1",
                        &[&storage_key, &(id as i64)],
                    )
                    .map_err(pg)?;
                    Claim::Claimed {
                        attempt: job.attempts,
                    }
                }
            };
            txn.commit().map_err(pg)?;
            Ok(claim)
        })
    }

    pub fn update(&self, id: JobId, state: JobState) -> Result<Job, StoreError> {
        self.change(id, move |job| job.state = state)
    }

    pub fn record_extrinsic_hash(&self, id: JobId, hash: &str) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.while_submitted(id, move |job| {
            if let JobState::Submitted { extrinsic_hash, .. } = &mut job.state {
                *extrinsic_hash = Some(hash);
            }
        })
    }

    pub fn record_commit_plan(&self, id: JobId, plan: &CommitPlan) -> Result<(), StoreError> {
        let plan = *plan;
        self.while_submitted(id, move |job| job.commit = Some(plan))
    }

    pub fn retry_later(&self, id: JobId, reason: &str) -> Result<Job, StoreError> {
        let reason = reason.to_owned();
        self.change(id, move |job| {
            job.state = JobState::Pending;
            job.last_error = Some(reason);
        })
    }

    /// Apply `apply` to a job that is still `submitted`; otherwise leave it alone.
    fn while_submitted(
        &self,
        id: JobId,
        apply: impl FnOnce(&mut Job) + Send + 'static,
    ) -> Result<(), StoreError> {
        self.call(move |client| {
            let mut txn = client.transaction().map_err(pg)?;
            let mut job = read_job(&mut txn, id)?;
            if matches!(job.state, JobState::Submitted { .. }) {
                apply(&mut job);
                job.updated_at_unix = now_unix();
                write_job(&mut txn, &job)?;
            }
            txn.commit().map_err(pg)
        })
    }

    fn change(
        &self,
        id: JobId,
        apply: impl FnOnce(&mut Job) + Send + 'static,
    ) -> Result<Job, StoreError> {
        self.call(move |client| {
            let mut txn = client.transaction().map_err(pg)?;
            let storage_key = key_of(&mut txn, id)?;
            let slot = lock_key(&mut txn, &storage_key)?;
            let mut job = read_job(&mut txn, id)?;
            if job.state.is_terminal() {
                return Err(StoreError::Final {
                    id,
                    state: job.state,
                });
            }
            apply(&mut job);
            job.updated_at_unix = now_unix();
            write_job(&mut txn, &job)?;
            if slot.in_flight == Some(id) && !matches!(job.state, JobState::Submitted { .. }) {
                txn.execute(
                    "UPDATE weights_job_keys SET in_flight_id = NULL WHERE job_key = $1",
                    &[&storage_key],
                )
                .map_err(pg)?;
            }
            txn.commit().map_err(pg)?;
            Ok(job)
        })
    }
}

/// A worker: serve calls until the store is dropped, reconnecting when the connection is lost.
fn serve(config: Config, queue: Arc<Mutex<mpsc::Receiver<Work>>>, mut client: Option<Client>) {
    loop {
        let work = {
            let queue = queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            match queue.recv() {
                Ok(work) => work,
                Err(_) => return,
            }
        };
        if client.as_ref().is_none_or(Client::is_closed) {
            match config.connect(NoTls) {
                Ok(fresh) => client = Some(fresh),
                Err(error) => {
                    client = None;
                    work(Err(pg(error)));
                    continue;
                }
            }
        }
        if let Some(client) = client.as_mut() {
            work(Ok(client));
        }
    }
}

fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut txn = client.transaction().map_err(pg)?;
    txn.batch_execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('pylon:schema-migrations', 0));
         CREATE TABLE IF NOT EXISTS pylon_schema_migrations (
             version INTEGER PRIMARY KEY,
             applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
         );",
    )
    .map_err(pg)?;
    let applied: i32 = txn
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM pylon_schema_migrations",
            &[],
        )
        .map_err(pg)?
        .get(0);
    let known = MIGRATIONS.last().map(|(version, _)| *version).unwrap_or(0);
    if applied > known {
        return Err(StoreError::Postgres(format!(
            "the database's schema is at version {applied}, newer than this Pylon knows ({known}): \
             upgrade this instance"
        )));
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > applied) {
        txn.batch_execute(sql).map_err(pg)?;
        txn.execute(
            "INSERT INTO pylon_schema_migrations (version) VALUES ($1)",
            &[version],
        )
        .map_err(pg)?;
        tracing::info!(version, "job store schema migrated");
    }
    txn.commit().map_err(pg)
}

/// A key's row, locked until the transaction ends.
struct Slot {
    latest: Option<JobId>,
    in_flight: Option<JobId>,
}

fn lock_key(txn: &mut Transaction<'_>, storage_key: &str) -> Result<Slot, StoreError> {
    txn.execute(
        "INSERT INTO weights_job_keys (job_key) VALUES ($1) ON CONFLICT DO NOTHING",
        &[&storage_key],
    )
    .map_err(pg)?;
    let row = txn
        .query_one(
            "SELECT latest_id, in_flight_id FROM weights_job_keys WHERE job_key = $1 FOR UPDATE",
            &[&storage_key],
        )
        .map_err(pg)?;
    Ok(Slot {
        latest: row.get::<_, Option<i64>>(0).map(|id| id as JobId),
        in_flight: row.get::<_, Option<i64>>(1).map(|id| id as JobId),
    })
}

fn key_of(txn: &mut Transaction<'_>, id: JobId) -> Result<String, StoreError> {
    txn.query_opt(
        "SELECT job_key FROM weights_jobs WHERE id = $1",
        &[&(id as i64)],
    )
    .map_err(pg)?
    .map(|row| row.get(0))
    .ok_or(StoreError::UnknownJob(id))
}

/// Read a job and lock its row until the transaction ends.
fn read_job(txn: &mut Transaction<'_>, id: JobId) -> Result<Job, StoreError> {
    let row = txn
        .query_opt(
            "SELECT job FROM weights_jobs WHERE id = $1 FOR UPDATE",
            &[&(id as i64)],
        )
        .map_err(pg)?
        .ok_or(StoreError::UnknownJob(id))?;
    decode(id, &row, 0)
}

fn write_job(txn: &mut Transaction<'_>, job: &Job) -> Result<(), StoreError> {
    txn.execute(
        "INSERT INTO weights_jobs (id, job_key, identity, state, terminal, updated_at_unix, job)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, terminal = excluded.terminal,
             updated_at_unix = excluded.updated_at_unix, job = excluded.job",
        &[
            &(job.id as i64),
            &job.key.storage_key(),
            &job.key.identity,
            &state_name(&job.state),
            &job.state.is_terminal(),
            &(job.updated_at_unix as i64),
            &Json(job),
        ],
    )
    .map_err(pg)?;
    Ok(())
}

fn decode(id: JobId, row: &postgres::Row, column: usize) -> Result<Job, StoreError> {
    row.try_get::<_, Json<Job>>(column)
        .map(|Json(job)| job)
        .map_err(|e| StoreError::Corrupt(id, e.to_string()))
}

fn state_name(state: &JobState) -> &'static str {
    match state {
        JobState::Pending => "pending",
        JobState::Submitted { .. } => "submitted",
        JobState::Included { .. } => "included",
        JobState::Failed { .. } => "failed",
        JobState::Expired => "expired",
        JobState::Superseded { .. } => "superseded",
    }
}
