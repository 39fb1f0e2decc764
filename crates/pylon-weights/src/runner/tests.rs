//! The runner against the scripted chain: each test checks the job's final state and exactly
//! which extrinsics were sent.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use parity_scale_codec::Decode;

use super::*;
use crate::commit::{RevealRule, RevealTarget, WeightsTlockPayload};
use crate::epoch::{EpochState, Schedule};
use crate::testing::*;

#[tokio::test]
async fn direct_weights_land_on_the_first_attempt() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    let id = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

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

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

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
        AttemptError::Fatal("SubtensorModule.HotKeyNotRegisteredInSubNet".into()),
    ))]);
    let id = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

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

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

    assert_eq!(state, JobState::Expired);
    // Reads see 100, 102, 104, 106 (attempts) and 108 (expired: the epoch ended at 107).
    let blocks = direct_blocks(&chain.calls());
    assert_eq!(blocks, vec![100, 102, 104, 106]);
    assert!(store.pending().unwrap().is_empty());
}

#[tokio::test]
async fn on_a_stateful_chain_the_job_expires_when_the_epoch_index_moves() {
    let (_dir, store) = store();
    let mut chain = ScriptedChain::new(SubnetSettings {
        schedule: Schedule::Stateful(EpochState {
            block: 0,
            tempo: 100,
            last_epoch_block: 90,
            pending_epoch_at: 0,
            epoch_index: 5,
            blocks_since_last_step: 0,
        }),
        ..direct_settings()
    })
    .script((0..50).map(|_| retryable("connection reset")));
    chain.blocks_per_read = 2;
    chain.epoch_index.store(5, Ordering::SeqCst);
    // The epoch's fire comes late (deferred): the index moves on the fifth read (block 108).
    let index = Arc::clone(&chain.epoch_index);
    chain.on_read = Some(Box::new(move |read| {
        if read == 5 {
            index.store(6, Ordering::SeqCst);
        }
    }));
    let mut job = new_job(105);
    job.epoch.index = Some(5);
    let id = store.submit(job).unwrap().id;

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

    assert_eq!(state, JobState::Expired);
    // Past the forecast end (105) the epoch is still 5, so the job keeps trying (106); it stops
    // when the chain counts epoch 6.
    assert_eq!(direct_blocks(&chain.calls()), vec![100, 102, 104, 106]);
}

#[tokio::test]
async fn attempts_run_out_into_a_failure_that_says_why() {
    let (_dir, store) = store();
    let chain =
        ScriptedChain::new(direct_settings()).script((0..10).map(|_| retryable("pool full")));
    let id = store.submit(new_job(1000)).unwrap().id;
    let config = RunnerConfig {
        max_attempts: 3,
        ..config()
    };

    let state = run_job(id, &chain, &store, &config).await.unwrap();

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
    for rule in [RevealRule::PulseDelay, RevealRule::IngestOffset] {
        let (_dir, store) = store();
        let chain = ScriptedChain::new(SubnetSettings {
            commit_reveal_enabled: true,
            reveal_period_epochs: 2,
            ..direct_settings()
        });
        let id = store.submit(new_job(1000)).unwrap().id;
        let config = RunnerConfig {
            reveal_rule: rule,
            ..config()
        };

        let before = now_unix_secs();
        let state = run_job(id, &chain, &store, &config).await.unwrap();
        let after = now_unix_secs();

        assert!(matches!(state, JobState::Included { .. }), "{state:?}");
        let calls = chain.calls();
        let [Call::Commit { at_block, commit }] = calls.as_slice() else {
            panic!("expected one commit, got {calls:?}");
        };
        // The round is the one `reveal_target` gives under the configured rule for the schedule
        // pinned at the block the attempt saw, at a time between the run's start and end.
        let target_at = |now: f64| -> RevealTarget {
            reveal_target(
                &RevealInputs {
                    schedule: Schedule::Fixed {
                        netuid: 7,
                        tempo: 100,
                        block: *at_block,
                    },
                    reveal_period_epochs: 2,
                    block_time_secs: 12.0,
                    now_unix_secs: now,
                },
                pylon_timelock::RoundClock {
                    genesis_time: chain.beacon_genesis,
                    period: 3,
                },
                rule,
            )
            .unwrap()
        };
        assert!(
            target_at(before).reveal_round <= commit.reveal_round,
            "{rule:?}"
        );
        assert!(
            commit.reveal_round <= target_at(after).reveal_round,
            "{rule:?}"
        );
        // The job keeps the plan it committed by.
        let plan = store.get(id).unwrap().unwrap().commit.unwrap();
        assert_eq!(plan.rule, rule);
        assert_eq!(plan.inputs.schedule.block(), *at_block);
        assert_eq!(plan.target.reveal_round, commit.reveal_round);
        assert!((before..=after).contains(&plan.inputs.now_unix_secs));
        assert_eq!(plan.target, target_at(plan.inputs.now_unix_secs));

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
}

#[tokio::test]
async fn a_superseded_job_sends_nothing() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    let first = store.submit(new_job(1000)).unwrap().id;
    let second = store.submit(new_job(1000)).unwrap().id;

    let state = run_job(first, &chain, &store, &config()).await.unwrap();

    assert_eq!(state, JobState::Superseded { by: second });
    assert!(chain.calls().is_empty());
}

#[tokio::test]
async fn a_stalled_attempt_times_out_and_is_retried() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings()).script([Outcome::Stall]);
    let id = store.submit(new_job(1000)).unwrap().id;
    let config = RunnerConfig {
        attempt_timeout: Duration::from_millis(20),
        ..config()
    };

    let state = run_job(id, &chain, &store, &config).await.unwrap();

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

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

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
    // The previous process claimed an attempt at block 95, signed and sent it, and stopped.
    assert_eq!(
        store.claim_attempt(id, 95).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
    store.record_extrinsic_hash(id, "0xaa").unwrap();

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

    assert_eq!(
        state,
        JobState::Included {
            block: 97,
            extrinsic_hash: "0xaa".into()
        }
    );
    assert_eq!(
        chain.calls(),
        vec![Call::FindLanded {
            since_block: 95,
            extrinsic_hash: Some("0xaa".into())
        }]
    );
}

#[tokio::test]
async fn a_resumed_job_whose_extrinsic_did_not_land_is_sent_again() {
    let (_dir, store) = store();
    let chain = ScriptedChain::new(direct_settings());
    let id = store.submit(new_job(1000)).unwrap().id;
    store.claim_attempt(id, 95).unwrap();

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    let calls = chain.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[0],
        Call::FindLanded {
            since_block: 95,
            extrinsic_hash: None
        }
    );
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

    let state = run_job(newer, &chain, &store, &config()).await.unwrap();

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

#[tokio::test]
async fn a_job_superseded_during_a_step_ends_superseded() {
    let (_dir, store) = store();
    let store = Arc::new(store);
    // The epoch is already over at the first read, and a newer request arrives during that read.
    let id = store.submit(new_job(50)).unwrap().id;
    let mut chain = ScriptedChain::new(direct_settings());
    let hook_store = Arc::clone(&store);
    let newer = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let newer_seen = Arc::clone(&newer);
    chain.on_read = Some(Box::new(move |read| {
        if read == 1 {
            let id = hook_store.submit(new_job(1000)).unwrap().id;
            newer_seen.store(id, Ordering::SeqCst);
        }
    }));

    let state = run_job(id, &chain, &store, &config()).await.unwrap();

    assert_eq!(
        state,
        JobState::Superseded {
            by: newer.load(Ordering::SeqCst)
        }
    );
    assert!(chain.calls().is_empty());
}

#[tokio::test]
async fn a_submitted_job_shows_its_extrinsic_hash_while_in_flight() {
    let (_dir, store) = store();
    let store = Arc::new(store);
    let chain = Arc::new(ScriptedChain::new(direct_settings()).script([Outcome::Stall]));
    let id = store.submit(new_job(1000)).unwrap().id;

    let runner = {
        let (store, chain) = (Arc::clone(&store), Arc::clone(&chain));
        tokio::spawn(async move { run_job(id, chain.as_ref(), &store, &config()).await })
    };
    let mut seen = None;
    for _ in 0..10_000 {
        if let JobState::Submitted {
            extrinsic_hash: Some(hash),
            ..
        } = store.get(id).unwrap().unwrap().state
        {
            seen = Some(hash);
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    runner.abort();

    assert_eq!(seen, Some(format!("0x{:064x}", 100)));
}
