//! The runner against a scripted in-memory chain: each test scripts what the chain answers and
//! checks the job's final state and exactly which extrinsics were sent.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use parity_scale_codec::Decode;
use pylon_timelock::SimulatedBeacon;

use super::*;
use crate::commit::{RevealTarget, WeightsTlockPayload};
use crate::epoch::Epoch;
use crate::job::NewJob;

const HOTKEY: [u8; 32] = [0x11; 32];
const VERSION_KEY: u64 = 4242;

/// What the scripted chain answers to a submission.
enum Outcome {
    Answer(Result<Inclusion, ChainError>),
    /// Never answers: a stalled node.
    Stall,
}

#[derive(Debug, Clone, PartialEq)]
enum Call {
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
    },
}

type LatestHook = Box<dyn Fn(u32) + Send + Sync>;

struct ScriptedChain {
    /// The next block `latest_block` reports.
    block: AtomicU64,
    /// The block `latest_block` reported last.
    last_read: AtomicU64,
    blocks_per_read: u64,
    settings: SubnetSettings,
    beacon: SimulatedBeacon,
    beacon_genesis: u64,
    outcomes: Mutex<VecDeque<Outcome>>,
    landed: Option<Inclusion>,
    failing_reads: AtomicU32,
    reads: AtomicU32,
    on_read: Option<LatestHook>,
    previous_resolved: Arc<AtomicBool>,
    calls: Mutex<Vec<Call>>,
}

impl ScriptedChain {
    fn new(settings: SubnetSettings) -> Self {
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
            calls: Mutex::new(Vec::new()),
        }
    }

    fn script(self, outcomes: impl IntoIterator<Item = Outcome>) -> Self {
        self.outcomes.lock().unwrap().extend(outcomes);
        self
    }

    fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    fn last_read(&self) -> u64 {
        self.last_read.load(Ordering::SeqCst)
    }

    async fn answer(&self) -> Result<Inclusion, ChainError> {
        let next = self.outcomes.lock().unwrap().pop_front();
        match next {
            Some(Outcome::Answer(answer)) => answer,
            Some(Outcome::Stall) => std::future::pending().await,
            None => Ok(Inclusion {
                block: self.last_read() + 1,
                extrinsic_hash: format!("0x{:064x}", self.last_read()),
            }),
        }
    }
}

impl WeightsSubmitter for ScriptedChain {
    async fn latest_block(&self) -> Result<u64, ChainError> {
        let read = self.reads.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(hook) = &self.on_read {
            hook(read);
        }
        if self
            .failing_reads
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(ChainError::Retryable("connection refused".into()));
        }
        let block = self.block.fetch_add(self.blocks_per_read, Ordering::SeqCst);
        self.last_read.store(block, Ordering::SeqCst);
        Ok(block)
    }

    async fn subnet_settings(&self, netuid: u16) -> Result<SubnetSettings, ChainError> {
        assert_eq!(netuid, 7);
        Ok(self.settings.clone())
    }

    async fn beacon(&self) -> Result<BeaconInfo, ChainError> {
        Ok(BeaconInfo {
            public_key: self.beacon.public_key().to_vec(),
            genesis_time: self.beacon_genesis,
            period: 3,
        })
    }

    fn hotkey_public_key(&self, identity: &str) -> Result<[u8; 32], ChainError> {
        assert_eq!(identity, "validator");
        Ok(HOTKEY)
    }

    async fn submit_direct(
        &self,
        key: &JobKey,
        weights: &ChainWeights,
        version_key: u64,
    ) -> Result<Inclusion, ChainError> {
        assert_eq!(key, &job_key());
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
    ) -> Result<Inclusion, ChainError> {
        assert_eq!(key, &job_key());
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
    ) -> Result<Option<Inclusion>, ChainError> {
        assert_eq!(key, &job_key());
        self.calls
            .lock()
            .unwrap()
            .push(Call::FindLanded { since_block });
        Ok(self.landed.clone())
    }
}

fn direct_settings() -> SubnetSettings {
    SubnetSettings {
        tempo: 100,
        commit_reveal_enabled: false,
        reveal_period_epochs: 1,
        version_key: VERSION_KEY,
        block_time_secs: 12.0,
    }
}

fn job_key() -> JobKey {
    JobKey {
        identity: "validator".into(),
        netuid: 7,
        mechid: 0,
    }
}

fn weights() -> ChainWeights {
    ChainWeights {
        uids: vec![1, 4],
        values: vec![65535, 21845],
    }
}

fn new_job(epoch_end: u64) -> NewJob {
    NewJob {
        key: job_key(),
        weights: weights(),
        epoch: Epoch {
            start: 90,
            end: epoch_end,
        },
        requested_at_block: 100,
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        initial_backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(4),
        max_attempts: 5,
        attempt_timeout: Duration::from_secs(30),
    }
}

fn store() -> (tempfile::TempDir, JobStore) {
    let dir = tempfile::tempdir().unwrap();
    let store = JobStore::open(dir.path().join("jobs.redb")).unwrap();
    (dir, store)
}

fn retryable(reason: &str) -> Outcome {
    Outcome::Answer(Err(ChainError::Retryable(reason.into())))
}

fn direct_blocks(calls: &[Call]) -> Vec<u64> {
    calls
        .iter()
        .map(|call| match call {
            Call::Direct { at_block, .. } => *at_block,
            other => panic!("unexpected call {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn direct_weights_land_on_the_first_attempt() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    let id = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert_eq!(
        state,
        JobState::Included {
            block: 101,
            extrinsic_hash: format!("0x{:064x}", 100)
        }
    );
    assert_eq!(
        chain.calls(),
        vec![Call::Direct {
            at_block: 100,
            weights: weights(),
            version_key: VERSION_KEY,
            previous_resolved: false,
        }]
    );
    let job = store.get(id).unwrap().unwrap();
    assert_eq!(job.attempts, 1);
    assert_eq!(job.state, state);
}

#[tokio::test]
async fn transient_failures_are_retried_until_included() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings())
        .script([retryable("pool full"), retryable("SettingWeightsTooFast")]);
    let id = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    assert_eq!(direct_blocks(&chain.calls()).len(), 3);
    let job = store.get(id).unwrap().unwrap();
    assert_eq!(job.attempts, 3);
    assert_eq!(job.last_error.as_deref(), Some("SettingWeightsTooFast"));
}

#[tokio::test]
async fn a_refusal_fails_the_job_with_its_reason() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings()).script([Outcome::Answer(Err(
        ChainError::Fatal("SubtensorModule.HotKeyNotRegisteredInSubNet".into()),
    ))]);
    let id = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert_eq!(
        state,
        JobState::Failed {
            reason: "SubtensorModule.HotKeyNotRegisteredInSubNet".into()
        }
    );
    assert_eq!(chain.calls().len(), 1);
}

#[tokio::test]
async fn the_job_expires_when_its_epoch_ends_and_sends_nothing_after() {
    let (_dir, store) = store();
    let mut chain = ScriptedChain::new(direct_settings())
        .script((0..50).map(|_| retryable("connection reset")));
    chain.blocks_per_read = 2;
    let id = store.submit(new_job(107)).unwrap().id;

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert_eq!(state, JobState::Expired);
    // Reads see 100, 102, 104, 106 (attempts) and 108 (expired: the epoch ended at 107).
    let blocks = direct_blocks(&chain.calls());
    assert_eq!(blocks, vec![100, 102, 104, 106]);
    assert!(store.pending().unwrap().is_empty());
}

#[tokio::test]
async fn attempts_run_out_into_a_failure_that_says_why() {
    let (_dir, store) = store();
    let chain =
        ScriptedChain::new(direct_settings()).script((0..10).map(|_| retryable("pool full")));
    let id = store.submit(new_job(1000)).unwrap().id;
    let policy = RetryPolicy {
        max_attempts: 3,
        ..policy()
    };

    let state = run_job(id, &chain, &store, &policy).await.unwrap();

    assert_eq!(
        state,
        JobState::Failed {
            reason: "gave up after 3 attempts: pool full".into()
        }
    );
    assert_eq!(chain.calls().len(), 3);
}

#[tokio::test]
async fn commit_reveal_subnets_get_a_crv4_commit_that_opens_at_its_round() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(SubnetSettings {
        commit_reveal_enabled: true,
        reveal_period_epochs: 2,
        ..direct_settings()
    });
    let id = store.submit(new_job(1000)).unwrap().id;

    let before = now_unix_secs();
    let state = run_job(id, &chain, &store, &policy()).await.unwrap();
    let after = now_unix_secs();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    let calls = chain.calls();
    let [Call::Commit { at_block, commit }] = calls.as_slice() else {
        panic!("expected one commit, got {calls:?}");
    };
    // The round is the one `reveal_target` gives for the block the attempt saw, at a time
    // between the run's start and end.
    let target_at = |now: f64| -> RevealTarget {
        reveal_target(
            &RevealInputs {
                netuid: 7,
                tempo: 100,
                current_block: *at_block,
                reveal_period_epochs: 2,
                block_time_secs: 12.0,
                now_unix_secs: now,
            },
            chain.beacon_genesis,
            3,
        )
    };
    assert!(target_at(before).reveal_round <= commit.reveal_round);
    assert!(commit.reveal_round <= target_at(after).reveal_round);

    let signature = chain.beacon.signature(commit.reveal_round);
    let plaintext = pylon_timelock::decrypt(&commit.ciphertext, &signature).unwrap();
    let payload = WeightsTlockPayload::decode(&mut &plaintext[..]).unwrap();
    assert_eq!(
        payload,
        WeightsTlockPayload {
            hotkey: HOTKEY.to_vec(),
            uids: vec![1, 4],
            values: vec![65535, 21845],
            version_key: VERSION_KEY,
        }
    );
}

#[tokio::test]
async fn a_superseded_job_sends_nothing() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    let first = store.submit(new_job(1000)).unwrap().id;
    let second = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(first, &chain, &store, &policy()).await.unwrap();

    assert_eq!(state, JobState::Superseded { by: second });
    assert!(chain.calls().is_empty());
}

#[tokio::test]
async fn a_stalled_attempt_times_out_and_is_retried() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings()).script([Outcome::Stall]);
    let id = store.submit(new_job(1000)).unwrap().id;
    let policy = RetryPolicy {
        attempt_timeout: Duration::from_millis(20),
        ..policy()
    };

    let state = run_job(id, &chain, &store, &policy).await.unwrap();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    assert!(chain.calls().len() >= 2);
    let job = store.get(id).unwrap().unwrap();
    assert_eq!(job.last_error.as_deref(), Some("the attempt timed out"));
}

#[tokio::test]
async fn failed_chain_reads_are_retried() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    chain.failing_reads.store(3, Ordering::SeqCst);
    let id = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    assert_eq!(chain.calls().len(), 1);
    assert_eq!(chain.reads.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn a_resumed_job_whose_extrinsic_landed_completes_without_sending_again() {
    let (_dir, store) = store();
    let mut chain = ScriptedChain::new(direct_settings());
    chain.landed = Some(Inclusion {
        block: 97,
        extrinsic_hash: "0xaa".into(),
    });
    let id = store.submit(new_job(1000)).unwrap().id;
    // The previous process claimed an attempt at block 95 and stopped.
    assert_eq!(
        store.claim_attempt(id, 95).unwrap(),
        Claim::Claimed { attempt: 1 }
    );

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert_eq!(
        state,
        JobState::Included {
            block: 97,
            extrinsic_hash: "0xaa".into()
        }
    );
    assert_eq!(chain.calls(), vec![Call::FindLanded { since_block: 95 }]);
}

#[tokio::test]
async fn a_resumed_job_whose_extrinsic_did_not_land_is_sent_again() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    let id = store.submit(new_job(1000)).unwrap().id;
    store.claim_attempt(id, 95).unwrap();

    let state = run_job(id, &chain, &store, &policy()).await.unwrap();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    let calls = chain.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0], Call::FindLanded { since_block: 95 });
    assert!(matches!(calls[1], Call::Direct { .. }));
    assert_eq!(store.get(id).unwrap().unwrap().attempts, 2);
}

#[tokio::test]
async fn a_job_waits_while_an_older_extrinsic_of_its_key_is_in_flight() {
    let (_dir, store) = store();
    let store = Arc::new(store);
    let older = store.submit(new_job(1000)).unwrap().id;
    assert_eq!(
        store.claim_attempt(older, 99).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
    let newer = store.submit(new_job(1000)).unwrap().id;

    let mut chain = ScriptedChain::new(direct_settings());
    let resolved = Arc::clone(&chain.previous_resolved);
    let hook_store = Arc::clone(&store);
    // On the third read the older extrinsic is included.
    chain.on_read = Some(Box::new(move |read| {
        if read == 3 {
            hook_store
                .update(
                    older,
                    JobState::Included {
                        block: 101,
                        extrinsic_hash: "0x01".into(),
                    },
                )
                .unwrap();
            resolved.store(true, Ordering::SeqCst);
        }
    }));

    let state = run_job(newer, &chain, &store, &policy()).await.unwrap();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    let calls = chain.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert!(matches!(
        calls[0],
        Call::Direct {
            previous_resolved: true,
            ..
        }
    ));
}
