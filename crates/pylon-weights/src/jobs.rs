//! The write path's entry point for a service: record a job and drive it in the background, and
//! resume unfinished jobs after a restart.
//!
//! `submit` returns as soon as the job is durable, so the HTTP answer never waits for the chain.
//! A job has at most one runner task at a time: two runners of one job could each decide the
//! other's extrinsic was lost and send a second one. `resume` (at start-up) therefore skips jobs
//! whose runner is alive.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::task::JoinHandle;

use crate::job::{JobId, JobState, NewJob};
use crate::runner::{run_job, RunError, RunnerConfig, WeightsSubmitter};
use crate::store::{JobStore, StoreError, Submitted};

pub type JobTask = JoinHandle<Result<JobState, RunError>>;

type Running = Arc<Mutex<HashSet<JobId>>>;

pub struct WeightsJobs<S> {
    store: Arc<JobStore>,
    submitter: Arc<S>,
    config: RunnerConfig,
    /// Jobs whose runner task is alive in this process.
    running: Running,
}

impl<S> Clone for WeightsJobs<S> {
    fn clone(&self) -> Self {
        WeightsJobs {
            store: Arc::clone(&self.store),
            submitter: Arc::clone(&self.submitter),
            config: self.config.clone(),
            running: Arc::clone(&self.running),
        }
    }
}

fn lock(running: &Running) -> MutexGuard<'_, HashSet<JobId>> {
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
        }
    }

    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// Record a job (superseding its key's pending one) and start driving it. Must be called
    /// within a tokio runtime.
    pub fn submit(&self, new: NewJob) -> Result<(Submitted, JobTask), StoreError> {
        // Held across the write so a concurrent `resume` cannot see the job without its runner.
        let mut running = lock(&self.running);
        let submitted = self.store.submit(new)?;
        running.insert(submitted.id);
        drop(running);
        let task = self.spawn(submitted.id);
        Ok((submitted, task))
    }

    /// Start driving every unfinished job found in the store that has no runner yet.
    pub fn resume(&self) -> Result<Vec<(JobId, JobTask)>, StoreError> {
        let mut running = lock(&self.running);
        let ids: Vec<JobId> = self
            .store
            .pending()?
            .into_iter()
            .map(|job| job.id)
            .filter(|id| running.insert(*id))
            .collect();
        drop(running);
        if !ids.is_empty() {
            tracing::info!(jobs = ids.len(), "resuming unfinished weights jobs");
        }
        Ok(ids.into_iter().map(|id| (id, self.spawn(id))).collect())
    }

    /// Start the runner of a job already marked running.
    fn spawn(&self, id: JobId) -> JobTask {
        let jobs = self.clone();
        // Made outside the task so it is dropped with it even if the task never runs.
        let running = RunningGuard {
            running: Arc::clone(&self.running),
            id,
        };
        tokio::spawn(async move {
            let _running = running;
            let outcome = run_job(id, jobs.submitter.as_ref(), &jobs.store, &jobs.config).await;
            if let Err(error) = &outcome {
                tracing::error!(job = id, %error, "weights job stopped on a store error");
            }
            outcome
        })
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
        // On the current-thread test runtime the first runner has not run yet: its job is still
        // pending when the second request arrives, as with two quick PUTs.
        let (second, second_task) = jobs.submit(new_job(1000)).unwrap();
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
