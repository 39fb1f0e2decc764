//! One behaviour suite for both job store backends: every case runs against the embedded store
//! and against PostgreSQL (a throwaway cluster, a fresh database per case).

use std::sync::Arc;

use super::pg_cluster::PgCluster;
use super::*;
use crate::convert::ChainWeights;
use crate::epoch::Epoch;

/// Where a case's store lives; `open` may be called again to reopen it (a restart).
trait Backend {
    fn open(&self) -> JobStore;
}

struct Embedded(tempfile::TempDir);

impl Backend for Embedded {
    fn open(&self) -> JobStore {
        JobStore::open(self.0.path().join("jobs.redb")).unwrap()
    }
}

struct Postgres(String);

impl Backend for Postgres {
    fn open(&self) -> JobStore {
        JobStore::connect(&self.0).unwrap()
    }
}

type Case = (&'static str, fn(&dyn Backend));

const CASES: &[Case] = &[
    (
        "a_new_job_is_pending_and_is_the_latest_for_its_key",
        a_new_job_is_pending_and_is_the_latest_for_its_key,
    ),
    (
        "pending_jobs_survive_reopening_the_file",
        pending_jobs_survive_reopening_the_file,
    ),
    (
        "a_newer_request_supersedes_a_pending_job_which_then_cannot_be_claimed",
        a_newer_request_supersedes_a_pending_job_which_then_cannot_be_claimed,
    ),
    (
        "a_job_in_flight_is_not_superseded_and_holds_back_the_next_one",
        a_job_in_flight_is_not_superseded_and_holds_back_the_next_one,
    ),
    (
        "retries_count_attempts_and_keep_the_last_error",
        retries_count_attempts_and_keep_the_last_error,
    ),
    ("terminal_states_are_final", terminal_states_are_final),
    (
        "weights_status_is_per_key_and_epoch",
        weights_status_is_per_key_and_epoch,
    ),
    (
        "pruning_deletes_old_finished_jobs_but_keeps_live_and_newest_ones",
        pruning_deletes_old_finished_jobs_but_keeps_live_and_newest_ones,
    ),
    (
        "concurrent_submits_leave_exactly_one_live_job_per_key",
        concurrent_submits_leave_exactly_one_live_job_per_key,
    ),
];

#[test]
fn the_store_suite_on_the_embedded_backend() {
    for (name, case) in CASES {
        eprintln!("embedded: {name}");
        case(&Embedded(tempfile::tempdir().unwrap()));
    }
}

#[test]
fn the_store_suite_on_postgresql() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    for (n, (name, case)) in CASES.iter().enumerate() {
        eprintln!("postgresql: {name}");
        case(&Postgres(cluster.create_database(&format!("case_{n}"))));
    }
}

fn key(identity: &str) -> JobKey {
    JobKey {
        identity: identity.to_owned(),
        netuid: 1,
        mechid: 0,
    }
}

fn new_job(identity: &str, value: u16) -> NewJob {
    NewJob {
        key: key(identity),
        weights: ChainWeights {
            uids: vec![0],
            values: vec![value],
        },
        epoch: Epoch {
            start: 100,
            end: 200,
            index: None,
        },
        requested_at_block: 150,
    }
}

fn a_new_job_is_pending_and_is_the_latest_for_its_key(backend: &dyn Backend) {
    let store = backend.open();
    let submitted = store.submit(new_job("alice", 7)).unwrap();
    assert_eq!(submitted.superseded, None);
    let job = store.get(submitted.id).unwrap().unwrap();
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.weights.values, vec![7]);
    assert_eq!(job.attempts, 0);
    assert_eq!(
        store.latest_for(&key("alice")).unwrap().unwrap().id,
        submitted.id
    );
    assert_eq!(store.latest_for(&key("bob")).unwrap(), None);
    assert_eq!(store.get(999).unwrap(), None);
}

fn pending_jobs_survive_reopening_the_file(backend: &dyn Backend) {
    let (pending_id, submitted_id, done_id) = {
        let store = backend.open();
        let pending = store.submit(new_job("alice", 1)).unwrap().id;
        let submitted = store.submit(new_job("bob", 2)).unwrap().id;
        assert_eq!(
            store.claim_attempt(submitted, 160).unwrap(),
            Claim::Claimed { attempt: 1 }
        );
        let done = store.submit(new_job("carol", 3)).unwrap().id;
        store.update(done, JobState::Expired).unwrap();
        (pending, submitted, done)
    };
    let store = backend.open();
    let live: Vec<(JobId, JobState)> = store
        .pending()
        .unwrap()
        .into_iter()
        .map(|job| (job.id, job.state))
        .collect();
    assert_eq!(
        live,
        vec![
            (pending_id, JobState::Pending),
            (
                submitted_id,
                JobState::Submitted {
                    attempt: 1,
                    at_block: 160,
                    extrinsic_hash: None,
                }
            ),
        ]
    );
    assert_eq!(
        store.get(done_id).unwrap().unwrap().state,
        JobState::Expired
    );
    // Ids keep counting up after a reopen.
    assert!(store.submit(new_job("dave", 4)).unwrap().id > done_id);
}

fn a_newer_request_supersedes_a_pending_job_which_then_cannot_be_claimed(backend: &dyn Backend) {
    let store = backend.open();
    let first = store.submit(new_job("alice", 1)).unwrap().id;
    let second = store.submit(new_job("alice", 2)).unwrap();
    assert_eq!(second.superseded, Some(first));
    assert_eq!(
        store.get(first).unwrap().unwrap().state,
        JobState::Superseded { by: second.id }
    );
    assert_eq!(
        store.claim_attempt(first, 150).unwrap(),
        Claim::NotPending(JobState::Superseded { by: second.id })
    );
    assert_eq!(
        store.claim_attempt(second.id, 150).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
    // Other keys are untouched.
    let other = store.submit(new_job("bob", 3)).unwrap();
    assert_eq!(other.superseded, None);
}

fn a_job_in_flight_is_not_superseded_and_holds_back_the_next_one(backend: &dyn Backend) {
    let store = backend.open();
    let first = store.submit(new_job("alice", 1)).unwrap().id;
    assert_eq!(
        store.claim_attempt(first, 150).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
    let second = store.submit(new_job("alice", 2)).unwrap();
    assert_eq!(second.superseded, None);
    assert_eq!(
        store.claim_attempt(second.id, 151).unwrap(),
        Claim::Busy { in_flight: first }
    );
    // Once the first resolves, the second may go.
    store
        .update(
            first,
            JobState::Included {
                block: 152,
                extrinsic_hash: "0x01".into(),
            },
        )
        .unwrap();
    assert_eq!(
        store.claim_attempt(second.id, 153).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
}

fn retries_count_attempts_and_keep_the_last_error(backend: &dyn Backend) {
    let store = backend.open();
    let id = store.submit(new_job("alice", 1)).unwrap().id;
    assert_eq!(
        store.claim_attempt(id, 150).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
    assert_eq!(
        store.claim_attempt(id, 150).unwrap(),
        Claim::NotPending(JobState::Submitted {
            attempt: 1,
            at_block: 150,
            extrinsic_hash: None,
        })
    );
    store.record_extrinsic_hash(id, "0xabc").unwrap();
    assert_eq!(
        store.get(id).unwrap().unwrap().state,
        JobState::Submitted {
            attempt: 1,
            at_block: 150,
            extrinsic_hash: Some("0xabc".into()),
        }
    );
    let job = store.retry_later(id, "connection reset").unwrap();
    // Only a submitted job takes a hash.
    store.record_extrinsic_hash(id, "0xdef").unwrap();
    assert_eq!(store.get(id).unwrap().unwrap().state, JobState::Pending);
    assert_eq!(job.state, JobState::Pending);
    assert_eq!(job.last_error.as_deref(), Some("connection reset"));
    assert_eq!(
        store.claim_attempt(id, 155).unwrap(),
        Claim::Claimed { attempt: 2 }
    );
    assert_eq!(store.get(id).unwrap().unwrap().attempts, 2);
}

fn terminal_states_are_final(backend: &dyn Backend) {
    let store = backend.open();
    let id = store.submit(new_job("alice", 1)).unwrap().id;
    store
        .update(
            id,
            JobState::Failed {
                reason: "NotRegistered".into(),
            },
        )
        .unwrap();
    assert!(matches!(
        store.update(id, JobState::Pending),
        Err(StoreError::Final { .. })
    ));
    assert!(matches!(
        store.update(42, JobState::Pending),
        Err(StoreError::UnknownJob(42))
    ));
}

fn weights_status_is_per_key_and_epoch(backend: &dyn Backend) {
    let store = backend.open();
    let included = store.submit(new_job("alice", 1)).unwrap().id;
    store
        .update(
            included,
            JobState::Included {
                block: 160,
                extrinsic_hash: "0x01".into(),
            },
        )
        .unwrap();
    let failed = store.submit(new_job("bob", 1)).unwrap().id;
    store
        .update(failed, JobState::Failed { reason: "x".into() })
        .unwrap();
    // Epoch of new_job is [100, 200).
    assert!(store
        .weights_included_in_epoch_of(&key("alice"), 100)
        .unwrap());
    assert!(store
        .weights_included_in_epoch_of(&key("alice"), 199)
        .unwrap());
    assert!(!store
        .weights_included_in_epoch_of(&key("alice"), 200)
        .unwrap());
    assert!(!store
        .weights_included_in_epoch_of(&key("alice"), 99)
        .unwrap());
    assert!(!store
        .weights_included_in_epoch_of(&key("bob"), 150)
        .unwrap());
    assert!(!store
        .weights_included_in_epoch_of(&key("carol"), 150)
        .unwrap());
}

fn pruning_deletes_old_finished_jobs_but_keeps_live_and_newest_ones(backend: &dyn Backend) {
    let store = backend.open();
    let old = store.submit(new_job("alice", 1)).unwrap().id;
    let newest = store.submit(new_job("alice", 2)).unwrap().id; // supersedes `old`
    store.update(newest, JobState::Expired).unwrap();
    let live = store.submit(new_job("bob", 3)).unwrap().id;

    assert_eq!(store.prune_finished(0).unwrap(), 0, "nothing is old enough");
    assert_eq!(store.prune_finished(u64::MAX).unwrap(), 1);
    assert_eq!(store.get(old).unwrap(), None);
    assert!(store.get(newest).unwrap().is_some());
    assert!(store.get(live).unwrap().is_some());
}

fn concurrent_submits_leave_exactly_one_live_job_per_key(backend: &dyn Backend) {
    let store = backend.open();
    let store = Arc::new(store);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    let ids: Vec<JobId> = runtime.block_on(async {
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::task::spawn_blocking(move || store.submit(new_job("alice", i)).unwrap().id)
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap());
        }
        ids
    });
    let mut unique = ids.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), 16, "ids are unique");

    let live = store.pending().unwrap();
    assert_eq!(live.len(), 1, "one live job: {live:?}");
    let latest = store.latest_for(&key("alice")).unwrap().unwrap();
    assert_eq!(latest.id, live[0].id);
    assert_eq!(latest.id, *unique.last().unwrap(), "the newest job wins");
    for id in unique.iter().filter(|&&id| id != latest.id) {
        assert!(matches!(
            store.get(*id).unwrap().unwrap().state,
            JobState::Superseded { .. }
        ));
    }
}

/// Two instances (two connections' worth of stores) on one database: concurrent submits for one
/// key from both leave exactly one live job, each sees the other's jobs, and a new job is
/// announced on the channel the identity's leader listens to.
#[test]
fn two_instances_share_one_postgresql_store() {
    let Some(cluster) = PgCluster::start() else {
        return;
    };
    let url = cluster.create_database("shared");
    let first = Arc::new(JobStore::connect(&url).unwrap());
    // Migrations already applied; and connected from within an async runtime, as the service does.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let second = Arc::new(runtime.block_on(async { JobStore::connect(&url).unwrap() }));
    let mut listener = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    listener
        .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
        .unwrap();

    let threads: Vec<_> = (0..16)
        .map(|i| {
            let store = Arc::clone(if i % 2 == 0 { &first } else { &second });
            std::thread::spawn(move || store.submit(new_job("alice", i)).unwrap().id)
        })
        .collect();
    let ids: Vec<JobId> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let live = first.pending().unwrap();
    assert_eq!(live.len(), 1, "one live job: {live:?}");
    assert_eq!(
        second.latest_for(&key("alice")).unwrap().unwrap().id,
        live[0].id
    );
    assert_eq!(
        live[0].id,
        *ids.iter().max().unwrap(),
        "the newest job wins"
    );

    // One instance claims; the other sees the claim and cannot claim again.
    assert_eq!(
        first.claim_attempt(live[0].id, 150).unwrap(),
        Claim::Claimed { attempt: 1 }
    );
    assert!(matches!(
        second.claim_attempt(live[0].id, 150).unwrap(),
        Claim::NotPending(JobState::Submitted { .. })
    ));

    use ::postgres::fallible_iterator::FallibleIterator;
    let mut notes = listener.notifications();
    let mut waiting = notes.timeout_iter(std::time::Duration::from_secs(2));
    let mut payloads = Vec::new();
    while let Some(note) = waiting.next().unwrap() {
        payloads.push(note.payload().to_owned());
    }
    assert_eq!(payloads.len(), 16);
    assert!(payloads.iter().all(|p| p == "alice"), "{payloads:?}");
}
