//! The write path's entry point for a service: record a job and drive it in the background, and
//! resume unfinished jobs after a restart.
//!
//! `submit` returns as soon as the job is durable, so the HTTP answer never waits for the chain.
//! Every job gets exactly one runner task per process: one when it is submitted, or one from
//! `resume` at start-up (call it once, before accepting requests).

use std::sync::Arc;

use tokio::task::JoinHandle;

use crate::job::{JobId, JobState, NewJob};
use crate::runner::{run_job, RunError, RunnerConfig, WeightsSubmitter};
use crate::store::{JobStore, StoreError, Submitted};

pub type JobTask = JoinHandle<Result<JobState, RunError>>;

pub struct WeightsJobs<S> {
    store: Arc<JobStore>,
    submitter: Arc<S>,
    config: RunnerConfig,
}

impl<S> Clone for WeightsJobs<S> {
    fn clone(&self) -> Self {
        WeightsJobs {
            store: Arc::clone(&self.store),
            submitter: Arc::clone(&self.submitter),
            config: self.config.clone(),
        }
    }
}

impl<S: WeightsSubmitter + 'static> WeightsJobs<S> {
    pub fn new(store: Arc<JobStore>, submitter: Arc<S>, config: RunnerConfig) -> Self {
        WeightsJobs {
            store,
            submitter,
            config,
        }
    }

    pub fn store(&self) -> &JobStore {
        &self.store
    }

    /// Record a job (superseding its key's pending one) and start driving it. Must be called
    /// within a tokio runtime.
    pub fn submit(&self, new: NewJob) -> Result<(Submitted, JobTask), StoreError> {
        let submitted = self.store.submit(new)?;
        let task = self.spawn(submitted.id);
        Ok((submitted, task))
    }

    /// Start driving every unfinished job found in the store.
    pub fn resume(&self) -> Result<Vec<(JobId, JobTask)>, StoreError> {
        let pending = self.store.pending()?;
        if !pending.is_empty() {
            tracing::info!(jobs = pending.len(), "resuming unfinished weights jobs");
        }
        Ok(pending
            .into_iter()
            .map(|job| (job.id, self.spawn(job.id)))
            .collect())
    }

    fn spawn(&self, id: JobId) -> JobTask {
        let jobs = self.clone();
        tokio::spawn(async move {
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
}
