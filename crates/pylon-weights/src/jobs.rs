//! The write path's entry point for a service: record a job and drive it in the background, and
//! resume unfinished jobs after a restart.
//!
//! `submit` returns as soon as the job is durable, so the HTTP answer never waits for the chain.
//! A job has at most one runner task at a time: two runners of one job could each decide the
//! other's extrinsic was lost and send a second one. `resume` (at start-up) therefore skips jobs
//! whose runner is alive.
//!
//! With a store shared by several instances, a [`Gate`] says which identities this instance
//! leads: only their jobs get a runner here (the others are recorded for their leader to pick
//! up), and [`WeightsJobs::stop_identity`] aborts an identity's runners when leadership is lost.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::{AbortHandle, JoinHandle};

use crate::job::{JobId, JobState, NewJob};
use crate::runner::{run_job, RunError, RunnerConfig, WeightsSubmitter};
use crate::store::{JobStore, StoreError, Submitted};

pub type JobTask = JoinHandle<Result<JobState, RunError>>;

/// Jobs whose runner task is alive in this process: their identity, and (once spawned) the
/// handle that stops the runner.
type Running = Arc<Mutex<HashMap<JobId, (String, Option<AbortHandle>)>>>;

/// Whether this instance may drive an identity's jobs now (it leads that identity).
pub type Gate = Arc<dyn Fn(&str) -> bool + Send + Sync>;

pub struct WeightsJobs<S> {
    store: Arc<JobStore>,
    submitter: Arc<S>,
    config: RunnerConfig,
    /// Jobs whose runner task is alive in this process.
    running: Running,
    /// `None`: this instance drives every job (the store is its own).
    gate: Option<Gate>,
}

impl<S> Clone for WeightsJobs<S> {
    fn clone(&self) -> Self {
        WeightsJobs {
            store: Arc::clone(&self.store),
            submitter: Arc::clone(&self.submitter),
            config: self.config.clone(),
            running: Arc::clone(&self.running),
            gate: self.gate.clone(),
        }
    }
}

fn lock(running: &Running) -> MutexGuard<'_, HashMap<JobId, (String, Option<AbortHandle>)>> {
    // The set stays consistent even if a holder panicked: every change is a single call.
    running
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Takes a job off the running set when its task ends, however it ends (also when aborted).
struct RunningGuard {
    running: Running,
    id: JobId,
}

impl Drop for RunningGuard {
    fn drop(&mut self) {
        lock(&self.running).remove(&self.id);
    }
}

impl<S: WeightsSubmitter + 'static> WeightsJobs<S> {
    pub fn new(store: Arc<JobStore>, submitter: Arc<S>, config: RunnerConfig) -> Self {
        WeightsJobs {
            store,
            submitter,
            config,
            running: Running::default(),
            gate: None,
        }
    }

    /// Drive only the jobs of identities `gate` approves (a store shared with other instances).
    pub fn with_gate(mut self, gate: Gate) -> Self {
        self.gate = Some(gate);
        self
    }

    fn may_drive(&self, identity: &str) -> bool {
        self.gate.as_ref().is_none_or(|gate| gate(identity))
    }

    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// Record a job (superseding its key's pending one) and start driving it, unless another
    /// instance leads its identity (then `None`: the leader picks it up). Must be called within
    /// a tokio runtime.
    pub fn submit(&self, new: NewJob) -> Result<(Submitted, Option<JobTask>), StoreError> {
        let identity = new.key.identity.clone();
        // Held across the write so a concurrent `resume` cannot see the job without its runner.
        let mut running = lock(&self.running);
        let submitted = self.store.submit(new)?;
        if !self.may_drive(&identity) {
            return Ok((submitted, None));
        }
        running.insert(submitted.id, (identity, None));
        drop(running);
        let task = self.spawn(submitted.id);
        Ok((submitted, Some(task)))
    }

    /// Start driving every unfinished job found in the store that has no runner yet (of the
    /// identities this instance leads, when gated).
    pub fn resume(&self) -> Result<Vec<(JobId, JobTask)>, StoreError> {
        self.resume_where(|_| true)
    }

    /// [`Self::resume`] for one identity's jobs (when this instance becomes its leader, or is
    /// told of a new job).
    pub fn resume_identity(&self, identity: &str) -> Result<Vec<(JobId, JobTask)>, StoreError> {
        self.resume_where(|name| name == identity)
    }

    fn resume_where(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> Result<Vec<(JobId, JobTask)>, StoreError> {
        let unfinished = self.store.pending()?;
        let mut running = lock(&self.running);
        let ids: Vec<JobId> = unfinished
            .into_iter()
            .filter(|job| wanted(&job.key.identity) && self.may_drive(&job.key.identity))
            .filter_map(|job| match running.entry(job.id) {
                std::collections::hash_map::Entry::Occupied(_) => None,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert((job.key.identity, None));
                    Some(job.id)
                }
            })
            .collect();
        drop(running);
        if !ids.is_empty() {
            tracing::info!(jobs = ids.len(), "resuming unfinished weights jobs");
        }
        Ok(ids.into_iter().map(|id| (id, self.spawn(id))).collect())
    }

    /// Abort the runners of an identity's jobs (this instance stopped leading it); how many.
    /// Their jobs stay in the store for the next leader, which looks up what was sent.
    pub fn stop_identity(&self, identity: &str) -> usize {
        let running = lock(&self.running);
        let mut stopped = 0;
        for (name, handle) in running.values() {
            if name == identity {
                if let Some(handle) = handle {
                    handle.abort();
                }
                stopped += 1;
            }
        }
        stopped
    }

    /// Start the runner of a job already marked running.
    fn spawn(&self, id: JobId) -> JobTask {
        let jobs = self.clone();
        // Made outside the task so it is dropped with it even if the task never runs.
        let running = RunningGuard {
            running: Arc::clone(&self.running),
            id,
        };
        let task = tokio::spawn(async move {
            let _running = running;
            let outcome = run_job(id, jobs.submitter.as_ref(), &jobs.store, &jobs.config).await;
            if let Err(error) = &outcome {
                tracing::error!(job = id, %error, "weights job stopped on a store error");
            }
            outcome
        });
        let mut running = lock(&self.running);
        if let Some((identity, handle)) = running.get_mut(&id) {
            // Leadership may have been lost between the check and this spawn.
            if self.may_drive(identity) {
                *handle = Some(task.abort_handle());
            } else {
                task.abort();
            }
        }
        task
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::*;

    #[tokio::test]
    async fn two_requests_in_one_epoch_send_one_extrinsic_with_the_second_weights() {
        let (_dir, store) = store();
        let chain = Arc::new(ScriptedChain::new(direct_settings()));
        let jobs = WeightsJobs::new(Arc::new(store), Arc::clone(&chain), config());

        let mut first_request = new_job(1000);
        first_request.weights.values = vec![1, 1];
        let (first, first_task) = jobs.submit(first_request).unwrap();
        let first_task = first_task.unwrap();
        // On the current-thread test runtime the first runner has not run yet: its job is still
        // pending when the second request arrives, as with two quick PUTs.
        let (second, second_task) = jobs.submit(new_job(1000)).unwrap();
        let second_task = second_task.unwrap();
        assert_eq!(second.superseded, Some(first.id));

        assert_eq!(
            first_task.await.unwrap().unwrap(),
            JobState::Superseded { by: second.id }
        );
        assert!(matches!(
            second_task.await.unwrap().unwrap(),
            JobState::Included { .. }
        ));
        let calls = chain.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        assert!(matches!(&calls[0], Call::Direct { weights: w, .. } if *w == weights()));
    }

    #[tokio::test]
    async fn jobs_recorded_before_a_restart_complete_once_after_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jobs.redb");
        let recorded = {
            // The process accepted the request, then stopped before any attempt.
            let store = JobStore::open(&path).unwrap();
            store.submit(new_job(1000)).unwrap().id
        };

        let chain = Arc::new(ScriptedChain::new(direct_settings()));
        let jobs = WeightsJobs::new(
            Arc::new(JobStore::open(&path).unwrap()),
            Arc::clone(&chain),
            config(),
        );
        let resumed = jobs.resume().unwrap();
        assert_eq!(resumed.len(), 1);
        let (id, task) = resumed.into_iter().next().unwrap();
        assert_eq!(id, recorded);
        assert!(matches!(
            task.await.unwrap().unwrap(),
            JobState::Included { .. }
        ));
        assert_eq!(chain.calls().len(), 1);
        // Nothing is left to resume a second time.
        assert!(jobs.resume().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_job_is_never_driven_by_two_runners_at_once() {
        let (_dir, store) = store();
        let chain = Arc::new(ScriptedChain::new(direct_settings()).script([Outcome::Stall]));
        let jobs = WeightsJobs::new(Arc::new(store), Arc::clone(&chain), config());
        let (submitted, task) = jobs.submit(new_job(1000)).unwrap();
        let task = task.unwrap();

        // Let its runner reach the stalled submission.
        for _ in 0..10_000 {
            let state = jobs.store().get(submitted.id).unwrap().unwrap().state;
            if matches!(state, JobState::Submitted { .. }) {
                break;
            }
            tokio::task::yield_now().await;
        }
        // Its runner is alive with an extrinsic in flight: resuming must not start another.
        assert!(jobs.resume().unwrap().is_empty());
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());

        // Once that runner is gone, the unfinished job is resumed: it looks for the extrinsic
        // first, and (not found) sends it again, once.
        let resumed = jobs.resume().unwrap();
        assert_eq!(resumed.len(), 1);
        let (id, task) = resumed.into_iter().next().unwrap();
        assert_eq!(id, submitted.id);
        assert!(matches!(
            task.await.unwrap().unwrap(),
            JobState::Included { .. }
        ));
        let calls = chain.calls();
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(matches!(calls[1], Call::FindLanded { .. }));
    }
}
