//! The weights write path against a devnet: signed submissions watched to inclusion, module
//! errors by name, and weights jobs driven by the runner through `ChainWeightsSubmitter` into the
//! devnet's `Weights` storage, across a restart.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pylon_chain::pool_refusal::{RefusalReason, SubtensorRefusal};
use pylon_chain::weights::{commit_timelocked_weights_call, set_weights_call};
use pylon_chain::{ChainClient, ChainConfig, Network, SubmitError};
use pylon_devnet::{DevnetConfig, DevnetHandle, Scenario};
use pylon_service::writes::submitter::{ChainWeightsSubmitter, EpochSchedules, Hotkeys};
use pylon_test_support::{
    account_nonce, devnet, devnet_config, ready_chain, signer, stored_weights, wait_for_block,
    weights_scenario,
};
use pylon_wallet::HotkeySigner;
use pylon_weights::commit::{build_commit, reveal_target, BeaconInfo, RevealInputs, RevealRule};
use pylon_weights::convert::ChainWeights;
use pylon_weights::epoch::Schedule;
use pylon_weights::job::{JobKey, JobState, NewJob};
use pylon_weights::jobs::WeightsJobs;
use pylon_weights::runner::{RunnerConfig, WeightsSubmitter};
use pylon_weights::store::{Claim, JobStore};

const IDENTITY: &str = "validator";
/// Netuid 1 (direct weights) in the test scenario.
const DIRECT_NETUID: u16 = 1;
const VERSION_KEY: u64 = 7;
/// Netuid 2 (commit-reveal) in the test scenario: short epochs so a reveal comes within seconds.
const CR_NETUID: u16 = 2;
const CR_TEMPO: u16 = 49;

/// The built-in scenario (//Alice is uid 0 and a validator on every subnet), with weights
/// taken at any block, netuid 1's under a known version key, and netuid 2's epochs short.
fn scenario() -> Scenario {
    let mut scenario = weights_scenario(CR_NETUID, CR_TEMPO);
    for subnet in &mut scenario.subnets {
        if subnet.netuid == DIRECT_NETUID {
            subnet.hyperparameters.weights_version_key = VERSION_KEY;
        }
    }
    scenario
}

struct Setup {
    devnet: DevnetHandle,
    chain: Arc<ChainClient>,
    alice: Arc<HotkeySigner>,
}

async fn setup() -> Setup {
    // Blocks keep coming so submissions are included without a manual seal.
    let devnet = devnet(devnet_config(Duration::from_millis(200), scenario())).await;
    let chain = Arc::new(ready_chain(&devnet).await);
    Setup {
        devnet,
        chain,
        alice: Arc::new(signer("//Alice")),
    }
}

impl Setup {
    /// Wait until the chain has produced `number` blocks.
    async fn wait_for_block(&self, number: u64) {
        wait_for_block(&self.chain, u32::try_from(number).unwrap()).await
    }

    fn submitter(&self) -> Arc<ChainWeightsSubmitter> {
        Arc::new(ChainWeightsSubmitter::new(
            Arc::clone(&self.chain),
            Arc::new(Hotkeys::from_iter([(
                IDENTITY.to_owned(),
                Arc::clone(&self.alice),
            )])),
        ))
    }

    fn jobs(&self, store: JobStore, reveal_rule: RevealRule) -> WeightsJobs<ChainWeightsSubmitter> {
        WeightsJobs::new(
            Arc::new(store),
            self.submitter(),
            RunnerConfig {
                initial_backoff: Duration::from_millis(200),
                max_backoff: Duration::from_secs(1),
                reveal_rule,
                ..RunnerConfig::default()
            },
        )
    }

    /// A job for the epoch containing the head, as the chain's schedule gives it.
    async fn new_job(&self, netuid: u16, weights: ChainWeights) -> NewJob {
        let head = self.chain.latest_block().unwrap();
        let epoch = self
            .chain
            .epoch_schedule(netuid, &head)
            .await
            .unwrap()
            .epoch()
            .expect("tempo is not 0");
        NewJob {
            key: JobKey {
                identity: IDENTITY.to_owned(),
                netuid,
                mechid: 0,
            },
            weights,
            epoch,
            requested_at_block: u64::from(head.number),
        }
    }

    /// `SubtensorModule.Weights[(netuid, uid)]` at the devnet's best block, read with subxt.
    async fn stored_weights(&self, netuid: u16, uid: u16) -> Vec<(u16, u16)> {
        stored_weights(&self.devnet, netuid, uid).await
    }

    /// //Alice's account nonce: how many extrinsics she has sent.
    async fn alice_nonce(&self) -> u64 {
        account_nonce(&self.devnet, self.alice.public_key()).await
    }
}

fn weights(uids: &[u16], values: &[u16]) -> ChainWeights {
    ChainWeights {
        uids: uids.to_vec(),
        values: values.to_vec(),
    }
}

/// The row `Weights` holds for these weights: (uid, value) pairs, zeros included.
fn row(weights: &ChainWeights) -> Vec<(u16, u16)> {
    weights
        .uids
        .iter()
        .copied()
        .zip(weights.values.iter().copied())
        .collect()
}

#[tokio::test]
async fn direct_weights_signed_by_a_hotkey_land_in_weights_storage() {
    let setup = setup().await;
    let noted = Mutex::new(None);
    let call = set_weights_call(DIRECT_NETUID, 0, &[1, 2], &[21845, 65535], VERSION_KEY);
    let included = setup
        .chain
        .submit_signed(setup.alice.as_ref(), &call, |hash| {
            *noted.lock().unwrap() = Some(hash.to_owned())
        })
        .await
        .expect("set_weights is included without ExtrinsicFailed");

    // The hash is noted before sending, and it is the included extrinsic's.
    assert_eq!(
        noted.lock().unwrap().as_deref(),
        Some(included.extrinsic_hash.as_str())
    );
    assert!(included.block_number > 0);
    let block = setup
        .chain
        .block(included.block_number as u32)
        .await
        .unwrap();
    assert_eq!(block.hash, included.block_hash);
    assert_eq!(
        setup.stored_weights(DIRECT_NETUID, 0).await,
        vec![(1, 21845), (2, 65535)]
    );
    setup.devnet.stop().await;
}

#[tokio::test]
async fn refused_calls_return_the_module_error_decoded_by_name() {
    let setup = setup().await;
    let cases = [
        (
            // subtensor accepts any key at or above the subnet's: only an older one is refused.
            set_weights_call(DIRECT_NETUID, 0, &[1], &[65535], VERSION_KEY - 1),
            "IncorrectWeightVersionKey",
        ),
        (
            set_weights_call(CR_NETUID, 0, &[1], &[65535], 0),
            "CommitRevealEnabled",
        ),
        (
            set_weights_call(DIRECT_NETUID, 0, &[1, 1], &[1, 1], VERSION_KEY),
            "DuplicateUids",
        ),
    ];
    for (call, expected) in cases {
        let error = setup
            .chain
            .submit_signed(setup.alice.as_ref(), &call, |_| {})
            .await
            .expect_err(expected);
        match &error {
            SubmitError::Module { pallet, name, .. } => {
                assert_eq!(
                    (pallet.as_str(), name.as_str()),
                    ("SubtensorModule", expected)
                );
            }
            other => panic!("{expected}: expected a module error, got {other:?}"),
        }
        assert!(
            error
                .to_string()
                .starts_with(&format!("SubtensorModule.{expected}")),
            "{error}"
        );
    }
    // A call the metadata does not know is refused before anything is signed or sent.
    let mut unknown = set_weights_call(DIRECT_NETUID, 0, &[1], &[1], VERSION_KEY);
    unknown.call = "set_weights_please";
    let before = setup.alice_nonce().await;
    let error = setup
        .chain
        .submit_signed(setup.alice.as_ref(), &unknown, |_| {
            panic!("nothing is signed for an unknown call")
        })
        .await
        .expect_err("unknown call");
    assert!(matches!(error, SubmitError::Call(_)), "{error:?}");
    assert_eq!(setup.alice_nonce().await, before);
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_runner_job_sets_direct_weights_through_the_chain() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = setup.jobs(
        JobStore::open(dir.path().join("jobs.redb")).unwrap(),
        RevealRule::default(),
    );
    let chosen = weights(&[0, 3, 5], &[65535, 0, 1000]);
    let (submitted, task) = jobs
        .submit(setup.new_job(DIRECT_NETUID, chosen.clone()).await)
        .unwrap();
    let task = task.expect("this process drives its jobs");
    let state = task.await.unwrap().unwrap();
    let JobState::Included {
        block,
        extrinsic_hash,
    } = state
    else {
        panic!("expected inclusion, got {state:?}");
    };
    assert!(extrinsic_hash.starts_with("0x") && extrinsic_hash.len() == 66);
    let job = jobs.store().get(submitted.id).unwrap().unwrap();
    assert_eq!(job.attempts, 1);
    assert!(block >= job.requested_at_block);
    assert_eq!(setup.stored_weights(DIRECT_NETUID, 0).await, row(&chosen));
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_runner_job_failing_on_chain_ends_failed_with_the_error_in_words() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = setup.jobs(
        JobStore::open(dir.path().join("jobs.redb")).unwrap(),
        RevealRule::default(),
    );
    // Uid 300 does not exist on netuid 1 (256 neurons): a refusal retrying cannot fix.
    let (_, task) = jobs
        .submit(
            setup
                .new_job(DIRECT_NETUID, weights(&[1, 300], &[65535, 65535]))
                .await,
        )
        .unwrap();
    let task = task.expect("this process drives its jobs");
    match task.await.unwrap().unwrap() {
        JobState::Failed { reason } => {
            assert!(reason.starts_with("SubtensorModule."), "{reason}");
            assert!(!reason.contains("0x"), "{reason}");
        }
        other => panic!("expected failure, got {other:?}"),
    }
    setup.devnet.stop().await;
}

/// Record a job as a process would before stopping; returns its id.
fn accepted_before_a_restart(path: &Path, job: NewJob) -> u64 {
    let store = JobStore::open(path).unwrap();
    store.submit(job).unwrap().id
}

#[tokio::test]
async fn jobs_survive_a_restart_and_complete_once() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.redb");

    // 1. Accepted, never attempted: the restarted process sends it.
    let chosen = weights(&[2, 4], &[30000, 65535]);
    let id = accepted_before_a_restart(&path, setup.new_job(DIRECT_NETUID, chosen.clone()).await);
    let nonce = setup.alice_nonce().await;
    {
        let jobs = setup.jobs(JobStore::open(&path).unwrap(), RevealRule::default());
        let resumed = jobs.resume().unwrap();
        assert_eq!(
            resumed.iter().map(|(id, _)| *id).collect::<Vec<_>>(),
            vec![id]
        );
        for (_, task) in resumed {
            assert!(matches!(
                task.await.unwrap().unwrap(),
                JobState::Included { .. }
            ));
        }
        assert!(jobs.resume().unwrap().is_empty(), "nothing left to resume");
    }
    assert_eq!(setup.alice_nonce().await, nonce + 1, "sent exactly once");
    assert_eq!(setup.stored_weights(DIRECT_NETUID, 0).await, row(&chosen));

    // 2. Its extrinsic landed, then the process stopped before recording it: the restarted
    // process finds it on chain and sends nothing.
    let landed = weights(&[1, 7], &[65535, 5]);
    let path2 = dir.path().join("jobs2.redb");
    let id = accepted_before_a_restart(&path2, setup.new_job(DIRECT_NETUID, landed.clone()).await);
    {
        let store = JobStore::open(&path2).unwrap();
        let at = u64::from(setup.chain.latest_block().unwrap().number);
        assert!(matches!(
            store.claim_attempt(id, at).unwrap(),
            Claim::Claimed { attempt: 1 }
        ));
        setup
            .chain
            .submit_signed(
                setup.alice.as_ref(),
                &set_weights_call(DIRECT_NETUID, 0, &landed.uids, &landed.values, VERSION_KEY),
                |hash| store.record_extrinsic_hash(id, hash).unwrap(),
            )
            .await
            .expect("included");
    }
    let nonce = setup.alice_nonce().await;
    let jobs = setup.jobs(JobStore::open(&path2).unwrap(), RevealRule::default());
    for (_, task) in jobs.resume().unwrap() {
        assert!(matches!(
            task.await.unwrap().unwrap(),
            JobState::Included { .. }
        ));
    }
    assert_eq!(
        setup.alice_nonce().await,
        nonce,
        "nothing sent a second time"
    );
    assert_eq!(setup.stored_weights(DIRECT_NETUID, 0).await, row(&landed));
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_crv4_commit_from_the_runner_is_stored_then_revealed_into_weights() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    // Pylon's default round rule (the SDK's), on a 200 ms-block devnet.
    let jobs = setup.jobs(
        JobStore::open(dir.path().join("jobs.redb")).unwrap(),
        RevealRule::default(),
    );
    // The reveal round is a wall-clock time estimated from the chain's measured pace, which
    // needs a few produced blocks (before that the declared 12 s slot is assumed).
    setup.wait_for_block(12).await;
    let chosen = weights(&[1, 2, 3], &[65535, 32768, 1]);
    let before = setup.stored_weights(CR_NETUID, 0).await;
    let (_, task) = jobs
        .submit(setup.new_job(CR_NETUID, chosen.clone()).await)
        .unwrap();
    let task = task.expect("this process drives its jobs");
    let JobState::Included { block, .. } = task.await.unwrap().unwrap() else {
        panic!("the commit is included");
    };

    // The commit is stored under its epoch, from //Alice, until its reveal.
    let head = setup.chain.latest_block().unwrap();
    let found = setup
        .chain
        .timelocked_weight_commits(CR_NETUID, &head)
        .await
        .unwrap()
        .iter()
        .any(|c| c.who == setup.alice.public_key() && c.commit_block == block);
    let revealed_meanwhile = setup.stored_weights(CR_NETUID, 0).await != before;
    assert!(found || revealed_meanwhile, "the commit is on chain");

    // The devnet opens it with its drand pulse in the reveal epoch (one to two epochs of 50
    // blocks away): poll the chain for the outcome, without a time bound on the assertion.
    let mut blocks = setup.chain.heads();
    loop {
        if setup.stored_weights(CR_NETUID, 0).await == row(&chosen) {
            break;
        }
        let now = blocks.borrow_and_update().as_ref().map_or(0, |b| b.number);
        assert!(
            u64::from(now) <= block + 3 * u64::from(CR_TEMPO + 1),
            "the commit was not revealed within its reveal epoch"
        );
        blocks.changed().await.unwrap();
    }
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_commit_to_a_round_that_never_comes_in_time_is_not_revealed() {
    let setup = setup().await;
    // A commit whose round is far beyond the reveal epoch: the chain holds no pulse for it, so
    // it expires unrevealed and the weights stay as they were.
    let before = setup.stored_weights(CR_NETUID, 0).await;
    let call = commit_timelocked_weights_call(CR_NETUID, 0, &[7u8; 64], u64::MAX / 2);
    let included = setup
        .chain
        .submit_signed(setup.alice.as_ref(), &call, |_| {})
        .await
        .expect("a commit is accepted whatever its content");
    let mut blocks = setup.chain.heads();
    while blocks
        .borrow_and_update()
        .as_ref()
        .map_or(0, |b| u64::from(b.number))
        <= included.block_number + 3 * u64::from(CR_TEMPO + 1)
    {
        blocks.changed().await.unwrap();
    }
    assert_eq!(setup.stored_weights(CR_NETUID, 0).await, before);
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_commit_encrypted_to_another_beacon_key_is_never_revealed() {
    let setup = setup().await;
    setup.wait_for_block(12).await;
    let submitter = setup.submitter();
    // Everything as the runner would do it, except the key: drand quicknet's real one, for which
    // the devnet's pulses (signed with its own key) cannot open the commit.
    let settings = submitter.subnet_settings(CR_NETUID).await.unwrap();
    let beacon = settings.beacon.clone().expect("commit-reveal is on");
    let quicknet_key = hex::decode(pylon_timelock::quicknet::PUBLIC_KEY_HEX).unwrap();
    assert_ne!(beacon.public_key, quicknet_key);
    let target = reveal_target(
        &RevealInputs {
            schedule: settings.schedule,
            reveal_period_epochs: settings.reveal_period_epochs,
            block_time_secs: settings.block_time_secs,
            now_unix_secs: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap()
                .as_secs_f64(),
        },
        beacon.clock(),
        RevealRule::IngestOffset,
    )
    .expect("tempo is not 0");
    let wrong_beacon = BeaconInfo {
        public_key: quicknet_key,
        ..beacon
    };
    let chosen = weights(&[4, 5], &[65535, 9]);
    let commit = build_commit(
        &setup.alice.public_key(),
        &chosen,
        settings.version_key,
        target.reveal_round,
        &wrong_beacon,
    )
    .unwrap();
    let before = setup.stored_weights(CR_NETUID, 0).await;
    let included = setup
        .chain
        .submit_signed(
            setup.alice.as_ref(),
            &commit_timelocked_weights_call(CR_NETUID, 0, &commit.ciphertext, commit.reveal_round),
            |_| {},
        )
        .await
        .expect("the chain cannot tell a wrong key at commit time");
    // Past its reveal epoch, the commit is gone and the weights are unchanged.
    setup
        .wait_for_block(included.block_number + 3 * u64::from(CR_TEMPO + 1) + 1)
        .await;
    assert_eq!(setup.stored_weights(CR_NETUID, 0).await, before);
    assert_ne!(before, row(&chosen));
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_job_lands_through_failing_calls_and_a_dropped_connection() {
    let setup = setup().await;
    let admin = subxt::rpcs::RpcClient::from_insecure_url(setup.devnet.ws_url())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let jobs = setup.jobs(
        JobStore::open(dir.path().join("jobs.redb")).unwrap(),
        RevealRule::default(),
    );
    let job = setup.new_job(DIRECT_NETUID, weights(&[9], &[65535])).await;
    // The node fails its next calls, then drops every connection.
    let _: serde_json::Value = admin
        .request("dev_failNext", subxt::rpcs::rpc_params![5])
        .await
        .unwrap();
    let _: serde_json::Value = admin
        .request("dev_dropConnections", subxt::rpcs::rpc_params![])
        .await
        .unwrap();
    let (_, task) = jobs.submit(job).unwrap();
    let task = task.expect("this process drives its jobs");
    let state = task.await.unwrap().unwrap();
    assert!(matches!(state, JobState::Included { .. }), "{state:?}");
    assert!(setup.chain.reconnects() >= 1, "the connection was dropped");
    assert_eq!(
        setup.stored_weights(DIRECT_NETUID, 0).await,
        vec![(9, 65535)]
    );
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_resumed_crv4_job_whose_commit_landed_sends_nothing_more() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jobs.redb");
    let id = accepted_before_a_restart(
        &path,
        setup.new_job(CR_NETUID, weights(&[1], &[65535])).await,
    );
    // The commit was sent and included, then the process stopped before recording it.
    let commit_block = {
        let store = JobStore::open(&path).unwrap();
        let at = u64::from(setup.chain.latest_block().unwrap().number);
        assert!(matches!(
            store.claim_attempt(id, at).unwrap(),
            Claim::Claimed { attempt: 1 }
        ));
        setup
            .chain
            .submit_signed(
                setup.alice.as_ref(),
                &commit_timelocked_weights_call(CR_NETUID, 0, &[3u8; 64], u64::MAX / 2),
                |hash| store.record_extrinsic_hash(id, hash).unwrap(),
            )
            .await
            .expect("included")
            .block_number
    };
    let nonce = setup.alice_nonce().await;
    let jobs = setup.jobs(JobStore::open(&path).unwrap(), RevealRule::default());
    let resumed = jobs.resume().unwrap();
    assert_eq!(resumed.len(), 1);
    for (_, task) in resumed {
        match task.await.unwrap().unwrap() {
            JobState::Included {
                block,
                extrinsic_hash,
            } => {
                assert_eq!(block, commit_block);
                assert!(extrinsic_hash.starts_with("0x"), "the noted hash is kept");
            }
            other => panic!("expected inclusion, got {other:?}"),
        }
    }
    assert_eq!(
        setup.alice_nonce().await,
        nonce,
        "nothing sent a second time"
    );
    setup.devnet.stop().await;
}

#[test]
fn the_submitter_shows_identities_and_addresses_but_no_key() {
    let secret = pylon_devnet::dev_keypair("//Alice")
        .unwrap()
        .secret_key_bytes();
    let signer = Arc::new(HotkeySigner::from_private_key(&secret).unwrap());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _entered = runtime.enter();
    let chain = Arc::new(ChainClient::start(ChainConfig {
        network: Network::parse("ws://127.0.0.1:9").unwrap(),
        archive: None,
        archive_cutoff: 300,
    }));
    let submitter = ChainWeightsSubmitter::new(
        chain,
        Arc::new(Hotkeys::from_iter([(
            IDENTITY.to_owned(),
            Arc::clone(&signer),
        )])),
    );
    let shown = format!("{submitter:?}");
    assert!(
        shown.contains(IDENTITY) && shown.contains(&signer.ss58_address()),
        "{shown}"
    );
    for window in secret.windows(8).step_by(8) {
        assert!(!shown.contains(&hex::encode(window)), "{shown}");
    }
    assert!(!shown.contains(&format!("{:?}", &secret[..8])), "{shown}");
}

#[tokio::test]
async fn two_requests_in_one_epoch_send_one_extrinsic_with_the_second_weights() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = setup.jobs(
        JobStore::open(dir.path().join("jobs.redb")).unwrap(),
        RevealRule::default(),
    );
    let nonce = setup.alice_nonce().await;
    // On this current-thread test runtime the first runner has not started when the second
    // request arrives, as with two quick PUTs (both jobs are prepared before either is
    // submitted, so nothing yields in between).
    let first_job = setup.new_job(DIRECT_NETUID, weights(&[1], &[65535])).await;
    let second_weights = weights(&[2, 3], &[65535, 100]);
    let second_job = setup.new_job(DIRECT_NETUID, second_weights.clone()).await;
    let (first, first_task) = jobs.submit(first_job).unwrap();
    let first_task = first_task.expect("this process drives its jobs");
    let (second, second_task) = jobs.submit(second_job).unwrap();
    let second_task = second_task.expect("this process drives its jobs");
    assert_eq!(second.superseded, Some(first.id));
    assert_eq!(
        first_task.await.unwrap().unwrap(),
        JobState::Superseded { by: second.id }
    );
    assert!(matches!(
        second_task.await.unwrap().unwrap(),
        JobState::Included { .. }
    ));
    assert_eq!(setup.alice_nonce().await, nonce + 1, "one extrinsic");
    assert_eq!(
        setup.stored_weights(DIRECT_NETUID, 0).await,
        row(&second_weights)
    );
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_mechanism_job_sends_set_mechanism_weights() {
    let setup = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let jobs = setup.jobs(
        JobStore::open(dir.path().join("jobs.redb")).unwrap(),
        RevealRule::default(),
    );
    let mut job = setup.new_job(DIRECT_NETUID, weights(&[1], &[65535])).await;
    job.key.mechid = 1;
    // The devnet's subnets run one mechanism: the call is encoded and dispatched as
    // `set_mechanism_weights`, which refuses mechanism 1 by name.
    let (_, task) = jobs.submit(job).unwrap();
    let task = task.expect("this process drives its jobs");
    match task.await.unwrap().unwrap() {
        JobState::Failed { reason } => assert!(
            reason.starts_with("SubtensorModule.MechanismDoesNotExist"),
            "{reason}"
        ),
        other => panic!("expected the chain's refusal, got {other:?}"),
    }
    setup.devnet.stop().await;
}

#[tokio::test]
async fn a_pool_refusal_comes_back_decoded_by_name() {
    let setup = setup().await;
    setup.wait_for_block(3).await;
    // A round older than the newest pulse the chain holds: subtensor's extension refuses it in
    // the pool with Custom(15), InvalidRevealRound.
    let call = commit_timelocked_weights_call(CR_NETUID, 0, &[7u8; 64], 1);
    let error = setup
        .chain
        .submit_signed(setup.alice.as_ref(), &call, |_| {})
        .await
        .expect_err("a round the chain already holds is refused");
    let SubmitError::Invalid(refusal) = &error else {
        panic!("expected a pool refusal, got {error:?}");
    };
    assert_eq!(refusal.rpc_code, Some(1010), "{refusal}");
    assert_eq!(
        refusal.reason,
        RefusalReason::Custom(15, Some(SubtensorRefusal::InvalidRevealRound))
    );
    // The next attempt computes a later round: worth retrying.
    assert!(refusal.is_retryable());
    assert!(error.to_string().contains("InvalidRevealRound"), "{error}");
    setup.devnet.stop().await;
}

#[tokio::test]
async fn the_schedule_model_follows_each_blocks_metadata_across_a_runtime_upgrade() {
    let devnet = devnet(DevnetConfig {
        runtime: Some(pylon_devnet::RuntimeSpec::Spec343),
        ..devnet_config(Duration::ZERO, scenario())
    })
    .await;
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    let chain = ready_chain(&devnet).await;
    let head_at_least = |number: u32| wait_for_block(&chain, number);
    head_at_least(4).await;
    let before = chain.latest_block().unwrap();
    // Spec 343's metadata has no LastEpochBlock: the fixed grid.
    let old = chain.epoch_schedule(CR_NETUID, &before).await.unwrap();
    assert_eq!(
        old.schedule,
        Schedule::Fixed {
            netuid: CR_NETUID,
            tempo: CR_TEMPO,
            block: u64::from(before.number),
        }
    );
    assert_eq!(old.epoch().unwrap().index, None);

    let rpc = subxt::rpcs::RpcClient::from_insecure_url(devnet.ws_url())
        .await
        .unwrap();
    let _: serde_json::Value = rpc
        .request("dev_runtimeUpgrade", subxt::rpcs::rpc_params![])
        .await
        .unwrap();
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    head_at_least(before.number + 4).await;
    let after = chain.latest_block().unwrap();
    // Blocks 424 executes carry its storage and metadata: the stateful schedule.
    let new = chain.epoch_schedule(CR_NETUID, &after).await.unwrap();
    let Schedule::Stateful(state) = new.schedule else {
        panic!("expected the stateful schedule after the upgrade, got {new:?}");
    };
    assert_eq!(state.block, u64::from(after.number));
    assert_eq!(state.tempo, CR_TEMPO);
    let window = new.epoch().unwrap();
    assert_eq!(window.start, state.last_epoch_block);
    assert_eq!(window.index, Some(state.epoch_index));
    assert!(window.end > state.block);
    devnet.stop().await;
}
