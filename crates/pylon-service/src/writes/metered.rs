//! The weights runner's chain, timed: every extrinsic attempt is recorded in
//! `pylon_apply_weights_attempt_duration_seconds` with what was sent (the call's name, as
//! `pylon_chain::weights` names it) and how it ended
//! (`included`, `retryable`, `fatal`, or `timeout` when the runner gave up waiting).

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pylon_chain::weights::{commit_timelocked_weights_call_name, set_weights_call_name};
use pylon_chain::ChainWeightsSubmitter;
use pylon_weights::commit::TimelockedCommit;
use pylon_weights::convert::ChainWeights;
use pylon_weights::epoch::ChainPosition;
use pylon_weights::job::JobKey;
use pylon_weights::runner::{ChainError, Inclusion, SignedNote, SubnetSettings, WeightsSubmitter};

use super::lead::Leadership;
use crate::metrics::observe_weights_attempt;

pub struct MeteredSubmitter {
    inner: ChainWeightsSubmitter,
    /// Identity → hotkey ss58, the metric's `hotkey` label.
    hotkeys: Arc<HashMap<String, String>>,
    /// With a shared job store: sign only for identities this instance leads.
    fence: Option<Arc<Leadership>>,
}

impl MeteredSubmitter {
    pub fn new(inner: ChainWeightsSubmitter, hotkeys: HashMap<String, String>) -> Self {
        MeteredSubmitter {
            inner,
            hotkeys: Arc::new(hotkeys),
            fence: None,
        }
    }

    /// Refuse to sign for an identity this instance does not lead (checked before each
    /// submission, so a runner that outlived its leadership sends nothing).
    pub fn fenced(mut self, leadership: Arc<Leadership>) -> Self {
        self.fence = Some(leadership);
        self
    }

    fn check_fence(&self, key: &JobKey) -> Result<(), ChainError> {
        match &self.fence {
            Some(leadership) if !leadership.leads(&key.identity) => Err(ChainError::Retryable(
                format!("this instance does not lead identity `{}`", key.identity),
            )),
            _ => Ok(()),
        }
    }

    fn timer(&self, key: &JobKey, operation: &'static str) -> AttemptTimer {
        AttemptTimer {
            operation,
            netuid: key.netuid,
            hotkey: self.hotkeys.get(&key.identity).cloned().unwrap_or_default(),
            started: Instant::now(),
            finished: false,
        }
    }
}

/// Records the attempt when it resolves, or as `timeout` when the runner drops it unresolved.
struct AttemptTimer {
    operation: &'static str,
    netuid: u16,
    hotkey: String,
    started: Instant,
    finished: bool,
}

impl AttemptTimer {
    fn finish<T>(mut self, outcome: &Result<T, ChainError>) {
        let status = match outcome {
            Ok(_) => "included",
            Err(ChainError::Retryable(_)) => "retryable",
            Err(ChainError::Fatal(_)) => "fatal",
        };
        self.record(status, self.started.elapsed());
        self.finished = true;
    }

    fn record(&self, status: &'static str, elapsed: Duration) {
        observe_weights_attempt(self.operation, status, self.netuid, &self.hotkey, elapsed);
    }
}

impl Drop for AttemptTimer {
    fn drop(&mut self) {
        if !self.finished {
            self.record("timeout", self.started.elapsed());
        }
    }
}

impl WeightsSubmitter for MeteredSubmitter {
    fn position(
        &self,
        netuid: u16,
    ) -> impl Future<Output = Result<ChainPosition, ChainError>> + Send {
        self.inner.position(netuid)
    }

    fn subnet_settings(
        &self,
        netuid: u16,
    ) -> impl Future<Output = Result<SubnetSettings, ChainError>> + Send {
        self.inner.subnet_settings(netuid)
    }

    fn hotkey_public_key(&self, identity: &str) -> Result<[u8; 32], ChainError> {
        self.inner.hotkey_public_key(identity)
    }

    async fn submit_direct(
        &self,
        key: &JobKey,
        weights: &ChainWeights,
        version_key: u64,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, ChainError> {
        self.check_fence(key)?;
        let timer = self.timer(key, set_weights_call_name(key.mechid));
        let outcome = self
            .inner
            .submit_direct(key, weights, version_key, note)
            .await;
        timer.finish(&outcome);
        outcome
    }

    async fn submit_commit(
        &self,
        key: &JobKey,
        commit: &TimelockedCommit,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, ChainError> {
        self.check_fence(key)?;
        let timer = self.timer(key, commit_timelocked_weights_call_name(key.mechid));
        let outcome = self.inner.submit_commit(key, commit, note).await;
        timer.finish(&outcome);
        outcome
    }

    fn find_landed(
        &self,
        key: &JobKey,
        since_block: u64,
        extrinsic_hash: Option<&str>,
    ) -> impl Future<Output = Result<Option<Inclusion>, ChainError>> + Send {
        self.inner.find_landed(key, since_block, extrinsic_hash)
    }
}
