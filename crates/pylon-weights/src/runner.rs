//! Drive one weights job to inclusion: retry with backoff until it lands or its epoch ends,
//! recording every state in the [`JobStore`] so a restart resumes where it stopped.
//!
//! The chain is reached only through [`WeightsSubmitter`], implemented over the chain-access
//! crate; each attempt re-reads the subnet's settings and epoch schedule (at one pinned block),
//! so a change on chain between attempts is followed rather than fought.

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::commit::{
    build_commit, reveal_target, BeaconInfo, CommitPlan, RevealInputs, RevealRule, TimelockedCommit,
};
use crate::convert::ChainWeights;
use crate::epoch::{ChainPosition, Schedule};
use crate::job::{Job, JobId, JobKey, JobState};
use crate::store::{Claim, JobStore, StoreError};

/// The subnet settings a weights attempt depends on, all read from the chain at one pinned block
/// (the latest when read).
#[derive(Debug, Clone, PartialEq)]
pub struct SubnetSettings {
    /// The epoch schedule at the pinned block (which it names), tempo included.
    pub schedule: Schedule,
    /// `CommitRevealWeightsEnabled`: on → a CRv4 timelocked commit, off → direct weights.
    pub commit_reveal_enabled: bool,
    /// `RevealPeriodEpochs`.
    pub reveal_period_epochs: u64,
    /// `WeightsVersionKey`.
    pub version_key: u64,
    /// The chain's block time in seconds (12 on finney; a devnet's own), measured up to the
    /// pinned block.
    pub block_time_secs: f64,
    /// The Drand pallet's `BeaconConfig` at the pinned block, read when commit-reveal is on.
    pub beacon: Option<BeaconInfo>,
}

/// Where an extrinsic landed: included in `block` without `ExtrinsicFailed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inclusion {
    pub block: u64,
    pub extrinsic_hash: String,
}

/// A chain call that did not succeed, classified by whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttemptError {
    /// Connection trouble, timeouts, a full pool, a rate limit (`SettingWeightsTooFast`), a stale
    /// nonce, a version key that changed under us: the next attempt may succeed.
    #[error("{0}")]
    Retryable(String),
    /// The chain refused for a reason retrying cannot fix (e.g. `HotKeyNotRegisteredInSubNet`,
    /// decoded into words), or the identity has no usable key.
    #[error("{0}")]
    Fatal(String),
}

/// Where a submission reports its extrinsic's hash as soon as it is signed, before inclusion, so
/// the job's `submitted` state carries it.
pub struct SignedNote<'a> {
    store: &'a JobStore,
    id: JobId,
}

impl SignedNote<'_> {
    pub fn signed(&self, extrinsic_hash: &str) {
        // The hash is informative: failing to note it must not fail the submission.
        if let Err(error) = self.store.record_extrinsic_hash(self.id, extrinsic_hash) {
            tracing::warn!(job = self.id, %error, "cannot note the extrinsic hash");
        }
    }

    fn planned(&self, plan: &CommitPlan) {
        if let Err(error) = self.store.record_commit_plan(self.id, plan) {
            tracing::warn!(job = self.id, %error, "cannot note the commit's plan");
        }
    }
}

/// The chain as the runner needs it. Submissions call `note.signed(hash)` once the extrinsic is
/// signed and resolve when it is included (or definitely not).
pub trait WeightsSubmitter: Send + Sync {
    /// The latest block and, on a chain with the stateful schedule, the subnet's
    /// `SubnetEpochIndex` there.
    fn position(
        &self,
        netuid: u16,
    ) -> impl Future<Output = Result<ChainPosition, AttemptError>> + Send;

    /// Settings, schedule, block time and (commit-reveal on) beacon, at one pinned block.
    fn subnet_settings(
        &self,
        netuid: u16,
    ) -> impl Future<Output = Result<SubnetSettings, AttemptError>> + Send;

    /// The identity's hotkey public key (what a CRv4 payload must carry).
    fn hotkey_public_key(&self, identity: &str) -> Result<[u8; 32], AttemptError>;

    /// `set_weights` (mechanism 0) or `set_mechanism_weights`, signed by the identity's hotkey.
    fn submit_direct(
        &self,
        key: &JobKey,
        weights: &ChainWeights,
        version_key: u64,
        note: &SignedNote<'_>,
    ) -> impl Future<Output = Result<Inclusion, AttemptError>> + Send;

    /// `commit_timelocked_weights` (mechanism 0) or `commit_timelocked_mechanism_weights`, with
    /// `commit_reveal_version` 4.
    fn submit_commit(
        &self,
        key: &JobKey,
        commit: &TimelockedCommit,
        note: &SignedNote<'_>,
    ) -> impl Future<Output = Result<Inclusion, AttemptError>> + Send;

    /// After a restart: did a weights extrinsic of this key's hotkey for its subnet and mechanism
    /// land at or after `since_block` (the one with `extrinsic_hash`, when it was noted)? Lets a
    /// job that was `submitted` when the process stopped finish without sending a second one.
    fn find_landed(
        &self,
        key: &JobKey,
        since_block: u64,
        extrinsic_hash: Option<&str>,
    ) -> impl Future<Output = Result<Option<Inclusion>, AttemptError>> + Send;
}

/// How a job is driven: how patiently, and how CRv4 rounds are chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunnerConfig {
    /// First wait after a failed attempt; doubled after each one up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Extrinsics sent at most; the epoch's end usually comes first.
    pub max_attempts: u32,
    /// How long one attempt (settings, encryption, submission, inclusion) may take before it
    /// counts as failed and is retried: a stalled chain must not hold the job past its epoch.
    pub attempt_timeout: Duration,
    /// How a CRv4 commit's drand round is chosen.
    pub reveal_rule: RevealRule,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(30),
            max_attempts: 30,
            attempt_timeout: Duration::from_secs(120),
            reveal_rule: RevealRule::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no job {0}")]
    UnknownJob(JobId),
}

/// Run job `id` until it reaches a terminal state, and return that state.
pub async fn run_job<S: WeightsSubmitter>(
    id: JobId,
    submitter: &S,
    store: &JobStore,
    config: &RunnerConfig,
) -> Result<JobState, RunError> {
    let mut backoff = Backoff::new(config);
    loop {
        let job = store.get(id)?.ok_or(RunError::UnknownJob(id))?;
        match &job.state {
            state if state.is_terminal() => return Ok(state.clone()),
            JobState::Submitted {
                at_block,
                extrinsic_hash,
                ..
            } => {
                // Only seen when resuming: the previous process sent an extrinsic and stopped
                // before recording its fate.
                let landed = submitter
                    .find_landed(&job.key, *at_block, extrinsic_hash.as_deref())
                    .await;
                match landed {
                    Ok(Some(inclusion)) => {
                        store.update(id, included(inclusion))?;
                    }
                    Ok(None) => {
                        store.retry_later(
                            id,
                            "the previous attempt did not land before a restart",
                        )?;
                    }
                    Err(error) => {
                        tracing::warn!(job = id, %error, "cannot check a resumed job's extrinsic");
                        backoff.wait().await;
                    }
                }
                continue;
            }
            _ => {}
        }

        let position = match submitter.position(job.key.netuid).await {
            Ok(position) => position,
            Err(error) => {
                tracing::warn!(job = id, %error, "cannot read the latest block");
                backoff.wait().await;
                continue;
            }
        };
        let latest = position.block;
        if job.epoch.is_over_at(&position) {
            tracing::info!(
                job = id,
                latest,
                epoch_index = ?position.epoch_index,
                epoch_end = job.epoch.end,
                "weights job expired"
            );
            return finish(store, id, JobState::Expired);
        }

        let attempt = match store.claim_attempt(id, latest)? {
            Claim::Claimed { attempt } => attempt,
            Claim::NotPending(state) => return Ok(state),
            Claim::Busy { in_flight } => {
                tracing::debug!(job = id, in_flight, "waiting for the previous extrinsic");
                backoff.wait().await;
                continue;
            }
        };
        tracing::info!(job = id, attempt, latest, "submitting weights");
        let outcome = tokio::time::timeout(
            config.attempt_timeout,
            attempt_once(
                &job,
                submitter,
                config.reveal_rule,
                &SignedNote { store, id },
            ),
        )
        .await
        .unwrap_or_else(|_| Err(AttemptError::Retryable("the attempt timed out".to_owned())));
        match outcome {
            Ok(inclusion) => {
                tracing::info!(job = id, block = inclusion.block, "weights included");
                return finish(store, id, included(inclusion));
            }
            Err(AttemptError::Fatal(reason)) => {
                tracing::warn!(job = id, %reason, "weights refused");
                return finish(store, id, JobState::Failed { reason });
            }
            Err(AttemptError::Retryable(reason)) if attempt >= config.max_attempts => {
                let reason = format!("gave up after {attempt} attempts: {reason}");
                tracing::warn!(job = id, %reason, "weights job failed");
                return finish(store, id, JobState::Failed { reason });
            }
            Err(AttemptError::Retryable(reason)) => {
                tracing::warn!(job = id, attempt, %reason, "weights attempt failed; retrying");
                store.retry_later(id, &reason)?;
                backoff.wait().await;
            }
        }
    }
}

/// One attempt: read the settings, then send direct weights or a CRv4 commit.
async fn attempt_once<S: WeightsSubmitter>(
    job: &Job,
    submitter: &S,
    reveal_rule: RevealRule,
    note: &SignedNote<'_>,
) -> Result<Inclusion, AttemptError> {
    let settings = submitter.subnet_settings(job.key.netuid).await?;
    if !settings.commit_reveal_enabled {
        return submitter
            .submit_direct(&job.key, &job.weights, settings.version_key, note)
            .await;
    }
    let beacon = settings.beacon.as_ref().ok_or_else(|| {
        AttemptError::Retryable("the chain's drand beacon was not read".to_owned())
    })?;
    let hotkey = submitter.hotkey_public_key(&job.key.identity)?;
    let inputs = RevealInputs {
        schedule: settings.schedule,
        reveal_period_epochs: settings.reveal_period_epochs,
        block_time_secs: settings.block_time_secs,
        now_unix_secs: now_unix_secs(),
    };
    let target = reveal_target(&inputs, beacon.clock(), reveal_rule).ok_or_else(|| {
        AttemptError::Fatal(format!(
            "netuid {} has tempo 0: it never reveals commits",
            job.key.netuid
        ))
    })?;
    note.planned(&CommitPlan {
        inputs,
        rule: reveal_rule,
        target,
    });
    tracing::debug!(
        netuid = job.key.netuid,
        pinned_block = inputs.schedule.block(),
        reveal_block = target.reveal_block,
        reveal_round = target.reveal_round,
        "CRv4 reveal target"
    );
    let commit = build_commit(
        &hotkey,
        &job.weights,
        settings.version_key,
        target.reveal_round,
        beacon,
    )
    .map_err(|error| AttemptError::Fatal(format!("cannot build the commit: {error}")))?;
    submitter.submit_commit(&job.key, &commit, note).await
}

/// Record a terminal state. If the job reached one meanwhile (a newer request superseded it
/// between our read and this write), that state stands and is the outcome.
fn finish(store: &JobStore, id: JobId, state: JobState) -> Result<JobState, RunError> {
    match store.update(id, state) {
        Ok(job) => Ok(job.state),
        Err(StoreError::Final { state, .. }) => Ok(state),
        Err(error) => Err(error.into()),
    }
}

fn included(inclusion: Inclusion) -> JobState {
    JobState::Included {
        block: inclusion.block,
        extrinsic_hash: inclusion.extrinsic_hash,
    }
}

fn now_unix_secs() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Exponential backoff between attempts and between polls of a busy key.
struct Backoff {
    next: Duration,
    max: Duration,
}

impl Backoff {
    fn new(config: &RunnerConfig) -> Self {
        Backoff {
            next: config.initial_backoff,
            max: config.max_backoff,
        }
    }

    async fn wait(&mut self) {
        tokio::time::sleep(self.next).await;
        self.next = (self.next * 2).min(self.max);
    }
}

#[cfg(test)]
mod tests;
