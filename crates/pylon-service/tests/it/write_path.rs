//! The write path over HTTP against a devnet: weights PUT → the devnet's `Weights` storage (direct
//! and CRv4 commit-reveal), a job that survives its pylon being killed mid-flight, every invalid
//! body refused with nothing sent, and commitments and certificates read back.
//!
//! Supersede and chain faults are tested where they are decided, one layer down:
//! `pylon-chain/tests/weights_write.rs` (two requests in one epoch → one extrinsic with the
//! second's weights; a job landing through failing calls and a dropped connection).

use crate::common;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use common::{bearer, identity, local_settings, request, serve, ss58, write_dev_hotkey, Reply};
use pylon_devnet::DevnetHandle;
use pylon_service::{Secret, Service, Settings};
use pylon_test_support::{
    self as test_support, account_nonce, devnet_config, public_key, stored_weights,
    weights_scenario,
};
use pylon_weights::commit::RevealRule;
use serde_json::{json, Value};

const TOKEN: &str = "identity-token";
const METRICS: &str = "metrics-token";
const DIRECT_NETUID: u16 = 1;
/// Commit-reveal on, and epochs short enough for a reveal within seconds.
const CR_NETUID: u16 = 2;
const CR_TEMPO: u16 = 49;
const VERSION_KEY: u64 = 7;

/// The built-in scenario (//Alice is uid 0, //Bob uid 1, validators on every subnet) with
/// weights accepted at any block under a known version key, and netuid 2's epochs short.
async fn devnet(block_time: Duration) -> DevnetHandle {
    let mut scenario = weights_scenario(CR_NETUID, CR_TEMPO);
    for subnet in &mut scenario.subnets {
        subnet.hyperparameters.weights_version_key = VERSION_KEY;
    }
    test_support::devnet(devnet_config(block_time, scenario)).await
}

/// Settings for identity `validator` (//Alice) on `netuid`, its wallet and jobs under `dir`.
fn settings(devnet: &DevnetHandle, dir: &Path, netuid: u16) -> Settings {
    let mut settings = local_settings(devnet);
    settings.wallet_path = dir.join("wallets");
    settings.data_dir = dir.join("data");
    settings.weights_reveal_rule = RevealRule::IngestOffset;
    settings.metrics_token = Secret::new(METRICS);
    write_dev_hotkey(&settings.wallet_path, "w", "h", "//Alice");
    settings.identities = vec![identity("validator", "h", netuid, TOKEN)];
    settings
}

fn path(netuid: u16, tail: &str) -> String {
    format!("/api/v1/identity/validator/subnet/{netuid}{tail}")
}

async fn put_weights(addr: SocketAddr, netuid: u16, body: &Value) -> Reply {
    let bytes = serde_json::to_vec(body).unwrap();
    request(
        addr,
        "PUT",
        &path(netuid, "/weights"),
        &bearer(TOKEN),
        &bytes,
    )
    .await
}

async fn post(addr: SocketAddr, netuid: u16, tail: &str, body: &[u8]) -> Reply {
    request(addr, "POST", &path(netuid, tail), &bearer(TOKEN), body).await
}

async fn get(addr: SocketAddr, netuid: u16, tail: &str) -> Reply {
    request(addr, "GET", &path(netuid, tail), &bearer(TOKEN), b"").await
}

/// Poll the weights job status until `done` holds for it (within `patience`).
async fn job_status_until(
    addr: SocketAddr,
    netuid: u16,
    patience: Duration,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        let reply = get(addr, netuid, "/weights/status").await;
        if reply.status == 200 && done(&reply.json()) {
            return reply.json();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "job status never got there: {} {}",
            reply.status,
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// //Alice's account nonce: how many extrinsics she has had included.
async fn alice_nonce(devnet: &DevnetHandle) -> u64 {
    account_nonce(devnet, public_key("//Alice")).await
}

/// A hotkey that is on no subnet of the scenario.
fn stranger() -> String {
    ss58("//Stranger")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_weights_land_in_the_devnets_weights_storage() {
    let devnet = devnet(Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(settings(&devnet, dir.path(), DIRECT_NETUID)).await;

    let body = json!({"weights": {ss58("//Alice"): 1.0, ss58("//Bob"): 0.5, stranger(): 0.3}});
    let reply = put_weights(addr, DIRECT_NETUID, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let answer = reply.json();
    assert_eq!(answer["unknown_hotkeys"], json!([stranger()]));
    assert_eq!(answer["count"], 2);
    let job_id = answer["job_id"].as_u64().unwrap();

    let job = job_status_until(addr, DIRECT_NETUID, Duration::from_secs(30), |job| {
        job["status"] == "included"
    })
    .await;
    assert_eq!(job["job_id"].as_u64(), Some(job_id));
    assert_eq!(job["weights_submitted"], true);
    // 0.5 / 1.0 × 65535 = 32767.5, rounded half to even.
    assert_eq!(job["uids"], json!([0, 1]));
    assert_eq!(job["weights"], json!([65535, 32768]));
    assert_eq!(
        stored_weights(&devnet, DIRECT_NETUID, 0).await,
        vec![(0, 65535), (1, 32768)]
    );
    // The reference's per-block status: included in the epoch of that block.
    let block = job["included_block"].as_u64().unwrap();
    let reply = get(
        addr,
        DIRECT_NETUID,
        &format!("/mechanism/0/block/{block}/weights/status"),
    )
    .await;
    assert_eq!(reply.json(), json!({"weights_submitted": true}));
    // The attempt and the job are in the metrics with their real outcome.
    let alice = ss58("//Alice");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let metrics = request(addr, "GET", "/metrics", &bearer(METRICS), b"").await;
        assert_eq!(metrics.status, 200, "{}", metrics.body);
        let attempt = format!(
            "pylon_apply_weights_attempt_duration_seconds_count{{extrinsic=\"set_weights\",hotkey=\"{alice}\",netuid=\"1\",operation=\"_apply_weights\",outcome=\"included\",status=\"success\"}}"
        );
        let job = format!(
            "pylon_apply_weights_job_duration_seconds_count{{hotkey=\"{alice}\",job_status=\"included\",netuid=\"1\",operation=\"run_job\",status=\"success\"}}"
        );
        if metrics.body.contains(&attempt) && metrics.body.contains(&job) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{attempt} / {job} not in:\n{}",
            metrics.body
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_reveal_subnet_gets_a_timelocked_commit_the_devnet_reveals() {
    // The pace the chain-level CRv4 test uses: 50-block epochs of 10 s, a drand round every 3 s.
    let devnet = devnet(Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(settings(&devnet, dir.path(), CR_NETUID)).await;
    // The reveal round is a wall-clock time from the chain's measured pace, which needs a few
    // produced blocks (before that the declared 12 s slot is assumed).
    while devnet.best_number() < 4 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let body = json!({"weights": {ss58("//Alice"): 0.25, ss58("//Bob"): 1.0}});
    let reply = put_weights(addr, CR_NETUID, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Included means the commit is on chain; the weights stay hidden until the reveal.
    job_status_until(addr, CR_NETUID, Duration::from_secs(30), |job| {
        job["status"] == "included"
    })
    .await;
    let expected = vec![(0, 16384), (1, 65535)];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        let row = stored_weights(&devnet, CR_NETUID, 0).await;
        if row == expected {
            break;
        }
        assert!(
            row.is_empty(),
            "revealed weights differ from those sent: {row:?}"
        );
        assert!(
            tokio::time::Instant::now() < deadline,
            "the commit was never revealed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_whose_pylon_is_killed_after_sending_lands_once_on_restart() {
    // Blocks only when the test seals one, so the extrinsic waits in the pool while pylon dies.
    let devnet = devnet(Duration::ZERO).await;
    let dir = tempfile::tempdir().unwrap();
    let nonce_before = alice_nonce(&devnet).await;

    // The first pylon runs on a runtime of its own, so the test can kill it outright: every task
    // (server, runners, connections) is dropped mid-flight, with no shutdown code running.
    let first = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (addr_tx, addr_rx) = tokio::sync::oneshot::channel();
    let first_settings = settings(&devnet, dir.path(), DIRECT_NETUID);
    first.spawn(async move {
        addr_tx.send(serve(first_settings).await).unwrap();
    });
    let addr = addr_rx.await.unwrap();
    let body = json!({"weights": {ss58("//Alice"): 0.2, ss58("//Bob"): 0.8}});
    let reply = put_weights(addr, DIRECT_NETUID, &body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    job_status_until(addr, DIRECT_NETUID, Duration::from_secs(20), |job| {
        job["status"] == "submitted" && job["extrinsic_hash"].is_string()
    })
    .await;
    first.shutdown_background();

    // The extrinsic lands while no pylon runs.
    devnet.seal_block().await;
    assert_eq!(alice_nonce(&devnet).await, nonce_before + 1);

    // A new pylon on the same data directory finds the job, sees it landed, and sends nothing.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let service = loop {
        match Service::bind(settings(&devnet, dir.path(), DIRECT_NETUID)).await {
            Ok(service) => break service,
            // The killed runtime's threads may still be dropping the job store's handle.
            Err(e) if tokio::time::Instant::now() < deadline => {
                eprintln!("retrying bind: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    let addr = service.local_addr();
    assert!(service.wait_chain_ready(Duration::from_secs(20)).await);
    tokio::spawn(service.serve(std::future::pending()));
    devnet.seal_block().await;
    let job = job_status_until(addr, DIRECT_NETUID, Duration::from_secs(30), |job| {
        job["status"] == "included"
    })
    .await;
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    assert_eq!(
        alice_nonce(&devnet).await,
        nonce_before + 1,
        "a second extrinsic was sent: {job}"
    );
    // 0.2 / 0.8 × 65535 = 16383.75 → 16384.
    assert_eq!(
        stored_weights(&devnet, DIRECT_NETUID, 0).await,
        vec![(0, 16384), (1, 65535)]
    );
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_writes_are_refused_naming_the_problem_and_nothing_is_sent() {
    let devnet = devnet(Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(settings(&devnet, dir.path(), DIRECT_NETUID)).await;
    let nonce_before = alice_nonce(&devnet).await;
    let alice = ss58("//Alice");

    let weights_cases: Vec<(&str, Vec<u8>, u16, String)> = vec![
        (
            "not JSON",
            b"{weights".to_vec(),
            400,
            "not valid JSON".into(),
        ),
        ("no weights", b"{}".to_vec(), 422, "weights".into()),
        (
            "empty",
            br#"{"weights": {}}"#.to_vec(),
            422,
            "no weights".into(),
        ),
        (
            "NaN",
            format!(r#"{{"weights": {{"{alice}": NaN}}}}"#).into_bytes(),
            422,
            alice.clone(),
        ),
        (
            "negative",
            format!(r#"{{"weights": {{"{alice}": -1.0}}}}"#).into_bytes(),
            422,
            alice.clone(),
        ),
        (
            "not ss58",
            br#"{"weights": {"5NotAnAddress": 1.0}}"#.to_vec(),
            422,
            "5NotAnAddress".into(),
        ),
        (
            "none registered",
            format!(r#"{{"weights": {{"{}": 1.0}}}}"#, stranger()).into_bytes(),
            422,
            "registered".into(),
        ),
    ];
    for (case, body, status, named) in weights_cases {
        let reply = request(
            addr,
            "PUT",
            &path(DIRECT_NETUID, "/weights"),
            &bearer(TOKEN),
            &body,
        )
        .await;
        assert_eq!(reply.status, status, "{case}: {}", reply.body);
        let detail = reply.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(&named), "{case}: {detail}");
    }
    let reply = request(
        addr,
        "PUT",
        &path(DIRECT_NETUID, "/mechanism/x/weights"),
        &bearer(TOKEN),
        b"{}",
    )
    .await;
    assert_eq!(reply.status, 400, "{}", reply.body);
    assert!(reply.body.contains("mechanism_id"), "{}", reply.body);
    // Writes are identity routes.
    let reply = request(
        addr,
        "PUT",
        &format!("/api/v1/subnet/{DIRECT_NETUID}/weights"),
        &[],
        br#"{"weights": {}}"#,
    )
    .await;
    assert_eq!(reply.status, 404, "{}", reply.body);
    assert!(reply.body.contains("identity"), "{}", reply.body);

    let publish_cases: [(&str, &[u8], &str); 6] = [
        ("/commitments", br#"{"commitment": "zz"}"#, "hex"),
        ("/commitments", br#"{"commitment": ""}"#, "empty"),
        ("/commitments", br#"{"data": "00"}"#, "commitment"),
        (
            "/commitments/revealed",
            br#"{"commitment": "x", "blocks_until_reveal": 0}"#,
            "blocks_until_reveal",
        ),
        (
            "/commitments/revealed",
            br#"{"commitment": "x"}"#,
            "blocks_until_reveal",
        ),
        ("/certificates/self", br#"{"algorithm": 2}"#, "algorithm"),
    ];
    for (tail, body, named) in publish_cases {
        let reply = post(addr, DIRECT_NETUID, tail, body).await;
        assert_eq!(reply.status, 422, "{tail}: {}", reply.body);
        assert!(reply.body.contains(named), "{tail}: {}", reply.body);
    }
    let long = json!({"commitment": "ab".repeat(385)});
    let reply = post(
        addr,
        DIRECT_NETUID,
        "/commitments",
        &serde_json::to_vec(&long).unwrap(),
    )
    .await;
    assert_eq!(reply.status, 422, "{}", reply.body);
    assert!(reply.body.contains("384"), "{}", reply.body);

    // Nothing was recorded or sent.
    assert_eq!(
        get(addr, DIRECT_NETUID, "/weights/status").await.status,
        404
    );
    for _ in 0..3 {
        devnet.seal_block().await;
    }
    assert_eq!(alice_nonce(&devnet).await, nonce_before);
    devnet.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commitments_and_certificates_are_published_and_read_back() {
    let devnet = devnet(Duration::from_millis(200)).await;
    let dir = tempfile::tempdir().unwrap();
    let addr = serve(settings(&devnet, dir.path(), DIRECT_NETUID)).await;

    let reply = post(
        addr,
        DIRECT_NETUID,
        "/commitments",
        br#"{"commitment": "0x70796c6f6e"}"#,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let landed = reply.json()["block"]["number"].as_u64().unwrap();
    let own = get(addr, DIRECT_NETUID, "/block/latest/commitments/self").await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["commitment"], "0x70796c6f6e");
    assert!(own.json()["block"]["number"].as_u64().unwrap() >= landed);

    let reply = post(addr, DIRECT_NETUID, "/certificates/self", b"").await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let keypair = reply.json();
    assert_eq!(keypair["algorithm"], 1);
    // The private key is the public key's: derive one from the other.
    // Bare hex (no `0x`), as the reference serves it and the published client decodes it.
    let seed: [u8; 32] = hex::decode(keypair["private_key"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let derived: [u8; 32] =
        ed25519_zebra::VerificationKey::from(&ed25519_zebra::SigningKey::from(seed)).into();
    assert_eq!(keypair["public_key"], hex::encode(derived));
    let own = get(addr, DIRECT_NETUID, "/block/latest/certificates/self").await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["public_key"], keypair["public_key"]);

    let reply = post(
        addr,
        DIRECT_NETUID,
        "/commitments/revealed",
        br#"{"commitment": "revealed later", "blocks_until_reveal": 5}"#,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    assert!(reply.json()["reveal_round"].as_u64().unwrap() > 1);
    // The devnet reveals it once its drand round is out (5 blocks of 200 ms: about a second).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let own = get(
            addr,
            DIRECT_NETUID,
            "/block/latest/commitments/revealed/self",
        )
        .await;
        assert_eq!(own.status, 200, "{}", own.body);
        if own.body.contains(&hex::encode(b"revealed later")) || own.body.contains("revealed later")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never revealed: {}",
            own.body
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    devnet.stop().await;
}
