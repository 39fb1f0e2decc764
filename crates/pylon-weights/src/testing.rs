//! A scripted in-memory chain for the domain layer's own unit tests: each test scripts what the
//! chain answers and checks exactly which calls were made. (Integration tests run against the
//! devnet, not this.)

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pylon_timelock::SimulatedBeacon;

use crate::commit::{BeaconInfo, RevealRule, TimelockedCommit};
use crate::convert::ChainWeights;
use crate::epoch::{ChainPosition, Epoch, Schedule};
use crate::job::{JobKey, NewJob};
use crate::runner::{
    AttemptError, Inclusion, RunnerConfig, SignedNote, SubnetSettings, WeightsSubmitter,
};
use crate::store::JobStore;

pub(crate) const HOTKEY: [u8; 32] = [0x11; 32];
pub(crate) const VERSION_KEY: u64 = 4242;

/// What the scripted chain answers to a submission.
pub(crate) enum Outcome {
    Answer(Result<Inclusion, AttemptError>),
    /// Never answers: a stalled node.
    Stall,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Call {
    Direct {
        at_block: u64,
        weights: ChainWeights,
        version_key: u64,
        previous_resolved: bool,
    },
    Commit {
        at_block: u64,
        commit: TimelockedCommit,
    },
    FindLanded {
        since_block: u64,
        extrinsic_hash: Option<String>,
    },
}

pub(crate) type LatestHook = Box<dyn Fn(u32) + Send + Sync>;

pub(crate) struct ScriptedChain {
    /// The next block `latest_block` reports.
    pub(crate) block: AtomicU64,
    /// The block `latest_block` reported last.
    pub(crate) last_read: AtomicU64,
    pub(crate) blocks_per_read: u64,
    pub(crate) settings: SubnetSettings,
    pub(crate) beacon: SimulatedBeacon,
    pub(crate) beacon_genesis: u64,
    pub(crate) outcomes: Mutex<VecDeque<Outcome>>,
    pub(crate) landed: Option<Inclusion>,
    pub(crate) failing_reads: AtomicU32,
    pub(crate) reads: AtomicU32,
    pub(crate) on_read: Option<LatestHook>,
    pub(crate) previous_resolved: Arc<AtomicBool>,
    /// The subnet's `SubnetEpochIndex` on a chain with the stateful schedule (`settings.schedule`
    /// stateful); `position` reports it.
    pub(crate) epoch_index: Arc<AtomicU64>,
    pub(crate) calls: Mutex<Vec<Call>>,
}

impl ScriptedChain {
    pub(crate) fn new(settings: SubnetSettings) -> Self {
        ScriptedChain {
            block: AtomicU64::new(100),
            last_read: AtomicU64::new(0),
            blocks_per_read: 1,
            settings,
            beacon: SimulatedBeacon::from_seed(b"runner test beacon"),
            beacon_genesis: 1_600_000_000,
            outcomes: Mutex::new(VecDeque::new()),
            landed: None,
            failing_reads: AtomicU32::new(0),
            reads: AtomicU32::new(0),
            on_read: None,
            previous_resolved: Arc::new(AtomicBool::new(false)),
            epoch_index: Arc::new(AtomicU64::new(0)),
            calls: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn script(self, outcomes: impl IntoIterator<Item = Outcome>) -> Self {
        self.outcomes.lock().unwrap().extend(outcomes);
        self
    }

    /// The hash the extrinsic sent after the last read gets.
    pub(crate) fn hash_of_next(&self) -> String {
        format!("0x{:064x}", self.last_read())
    }

    pub(crate) fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn last_read(&self) -> u64 {
        self.last_read.load(Ordering::SeqCst)
    }

    async fn answer(&self) -> Result<Inclusion, AttemptError> {
        let next = self.outcomes.lock().unwrap().pop_front();
        match next {
            Some(Outcome::Answer(answer)) => answer,
            Some(Outcome::Stall) => std::future::pending().await,
            None => Ok(Inclusion {
                block: self.last_read() + 1,
                extrinsic_hash: self.hash_of_next(),
            }),
        }
    }
}

impl WeightsSubmitter for ScriptedChain {
    async fn position(&self, netuid: u16) -> Result<ChainPosition, AttemptError> {
        assert_eq!(netuid, 7);
        let read = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(hook) = &self.on_read {
            hook(read);
        }
        if self
            .failing_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(AttemptError::Retryable("connection refused".into()));
        }
        let block = self.block.fetch_add(self.blocks_per_read, Ordering::SeqCst);
        self.last_read.store(block, Ordering::SeqCst);
        Ok(ChainPosition {
            block,
            epoch_index: match self.settings.schedule {
                Schedule::Stateful(_) => Some(self.epoch_index.load(Ordering::SeqCst)),
                Schedule::Fixed { .. } => None,
            },
        })
    }

    /// The scripted settings, pinned at the block `position` reported last.
    async fn subnet_settings(&self, netuid: u16) -> Result<SubnetSettings, AttemptError> {
        assert_eq!(netuid, 7);
        let mut settings = self.settings.clone();
        let pinned = self.last_read();
        match &mut settings.schedule {
            Schedule::Stateful(state) => {
                state.block = pinned;
                state.epoch_index = self.epoch_index.load(Ordering::SeqCst);
            }
            Schedule::Fixed { block, .. } => *block = pinned,
        }
        if settings.commit_reveal_enabled {
            settings.beacon = Some(BeaconInfo {
                public_key: self.beacon.public_key().to_vec(),
                genesis_time: self.beacon_genesis,
                period: 3,
            });
        }
        Ok(settings)
    }

    fn hotkey_public_key(&self, identity: &str) -> Result<[u8; 32], AttemptError> {
        assert_eq!(identity, "validator");
        Ok(HOTKEY)
    }

    async fn submit_direct(
        &self,
        key: &JobKey,
        weights: &ChainWeights,
        version_key: u64,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, AttemptError> {
        assert_eq!(key, &job_key());
        note.signed(&self.hash_of_next());
        self.calls.lock().unwrap().push(Call::Direct {
            at_block: self.last_read(),
            weights: weights.clone(),
            version_key,
            previous_resolved: self.previous_resolved.load(Ordering::SeqCst),
        });
        self.answer().await
    }

    async fn submit_commit(
        &self,
        key: &JobKey,
        commit: &TimelockedCommit,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, AttemptError> {
        assert_eq!(key, &job_key());
        note.signed(&self.hash_of_next());
        self.calls.lock().unwrap().push(Call::Commit {
            at_block: self.last_read(),
            commit: commit.clone(),
        });
        self.answer().await
    }

    async fn find_landed(
        &self,
        key: &JobKey,
        since_block: u64,
        extrinsic_hash: Option<&str>,
    ) -> Result<Option<Inclusion>, AttemptError> {
        assert_eq!(key, &job_key());
        self.calls.lock().unwrap().push(Call::FindLanded {
            since_block,
            extrinsic_hash: extrinsic_hash.map(str::to_owned),
        });
        Ok(self.landed.clone())
    }
}

pub(crate) fn direct_settings() -> SubnetSettings {
    SubnetSettings {
        schedule: Schedule::Fixed {
            netuid: 7,
            tempo: 100,
            block: 0,
        },
        commit_reveal_enabled: false,
        reveal_period_epochs: 1,
        version_key: VERSION_KEY,
        block_time_secs: 12.0,
        beacon: None,
    }
}

pub(crate) fn job_key() -> JobKey {
    JobKey {
        identity: "validator".into(),
        netuid: 7,
        mechid: 0,
    }
}

pub(crate) fn weights() -> ChainWeights {
    ChainWeights {
        uids: vec![1, 4],
        values: vec![65535, 21845],
    }
}

pub(crate) fn new_job(epoch_end: u64) -> NewJob {
    NewJob {
        key: job_key(),
        weights: weights(),
        epoch: Epoch {
            start: 90,
            end: epoch_end,
            index: None,
        },
        requested_at_block: 100,
    }
}

pub(crate) fn config() -> RunnerConfig {
    RunnerConfig {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        max_attempts: 5,
        attempt_timeout: Duration::from_secs(30),
        reveal_rule: RevealRule::PulseDelay,
    }
}

pub(crate) fn store() -> (tempfile::TempDir, JobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = JobStore::open(dir.path().join("jobs.redb")).unwrap();
    (dir, store)
}

pub(crate) fn retryable(reason: &str) -> Outcome {
    Outcome::Answer(Err(AttemptError::Retryable(reason.into())))
}

pub(crate) fn direct_blocks(calls: &[Call]) -> Vec<u64> {
    calls
        .iter()
        .map(|call| match call {
            Call::Direct { at_block, .. } => *at_block,
            other => panic!("unexpected call {other:?}"),
        })
        .collect()
}
