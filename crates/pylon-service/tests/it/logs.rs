//! Every log line of a set of requests, captured at debug level (every crate, ours and the chain
//! libraries'), carries no secret: not the open-access, identity or metrics token — right or
//! wrong tier — and not the identity's hotkey key. The same capture shows the request id on the
//! request's lines and the chain call with its duration, so the scan is of real content.
//!
//! Its own test binary: the capture is the process's global subscriber.

use crate::common;

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{bearer, request, ss58, write_dev_hotkey};
use pylon_chain::Network;
use pylon_devnet::{DevnetConfig, Scenario};
use pylon_service::{Identity, Secret, Service, Settings};
use serde_json::json;

const OPEN_TOKEN: &str = "open-token-never-logged-5f1c";
const IDENTITY_TOKEN: &str = "identity-token-never-logged-9a7e";
const METRICS_TOKEN: &str = "metrics-token-never-logged-3d2b";
const WRONG_TOKEN: &str = "wrong-token-never-logged-77aa";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_of_reads_writes_and_metrics_carry_no_token_or_key() {
    let capture = Capture::default();
    let writer = capture.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let mut scenario = Scenario::builtin_default();
    for subnet in &mut scenario.subnets {
        subnet.hyperparameters.weights_rate_limit = 0;
    }
    let chain = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::from_millis(200),
        scenario,
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    chain.seal_block().await;
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::new(Network::parse(&chain.ws_url()).unwrap());
    settings.host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    settings.port = 0;
    settings.wallet_path = dir.path().join("wallets");
    settings.data_dir = dir.path().join("data");
    settings.open_access_token = Secret::new(OPEN_TOKEN);
    settings.metrics_token = Secret::new(METRICS_TOKEN);
    write_dev_hotkey(&settings.wallet_path, "w", "h", "//Alice");
    settings.identities = vec![Identity {
        name: "validator".into(),
        wallet_name: "w".into(),
        hotkey_name: "h".into(),
        netuid: 1,
        token: Secret::new(IDENTITY_TOKEN),
        hotkey_password: None,
    }];
    let keyfile = std::fs::read_to_string(pylon_wallet::hotkey_path(
        settings.wallet_path.to_str().unwrap(),
        "w",
        "h",
    ))
    .unwrap();
    let keyfile: serde_json::Value = serde_json::from_str(&keyfile).unwrap();
    let private_key = keyfile["privateKey"]
        .as_str()
        .unwrap()
        .trim_start_matches("0x");
    assert_eq!(private_key.len(), 128);

    let service = Service::bind(settings).await.expect("binds");
    let addr = service.local_addr();
    assert!(service.wait_chain_ready(Duration::from_secs(20)).await);
    tokio::spawn(service.serve(std::future::pending()));

    let identity = |tail: &str| format!("/api/v1/identity/validator/subnet/1{tail}");
    let traced = vec![
        format!("Authorization: Bearer {OPEN_TOKEN}"),
        "x-request-id: trace-me-42".to_string(),
    ];
    let reads: Vec<(String, Vec<String>, u16)> = vec![
        // Subnet 3 is not prefetched, so this read makes its own chain call.
        ("/api/v1/subnet/3/block/1/neurons".into(), traced, 200),
        (
            "/api/v1/subnet/1/block/latest/neurons".into(),
            bearer(OPEN_TOKEN),
            200,
        ),
        (
            "/api/v1/subnet/1/block/latest".into(),
            bearer(WRONG_TOKEN),
            403,
        ),
        (
            "/api/v1/subnet/1/block/latest".into(),
            bearer(IDENTITY_TOKEN),
            403,
        ),
        (
            identity("/block/latest/commitments/self"),
            bearer(IDENTITY_TOKEN),
            200,
        ),
        (
            identity("/block/latest/validators"),
            bearer(IDENTITY_TOKEN),
            200,
        ),
        (
            identity("/block/latest/validators"),
            bearer(OPEN_TOKEN),
            403,
        ),
        ("/metrics".into(), bearer(METRICS_TOKEN), 200),
        ("/metrics".into(), bearer(WRONG_TOKEN), 403),
    ];
    for (path, headers, status) in &reads {
        let reply = request(addr, "GET", path, headers, b"").await;
        assert_eq!(reply.status, *status, "{path}: {}", reply.body);
    }

    // Writes: the hotkey signs a weights extrinsic and a commitment.
    let body = serde_json::to_vec(&json!({"weights": {ss58("//Alice"): 1.0}})).unwrap();
    let reply = request(
        addr,
        "PUT",
        &identity("/weights"),
        &bearer(IDENTITY_TOKEN),
        &body,
    )
    .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = request(
        addr,
        "POST",
        &identity("/commitments"),
        &bearer(IDENTITY_TOKEN),
        br#"{"commitment": "0xdeadbeef"}"#,
    )
    .await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let mut included = false;
    for _ in 0..300 {
        let reply = request(
            addr,
            "GET",
            &identity("/weights/status"),
            &bearer(IDENTITY_TOKEN),
            b"",
        )
        .await;
        if reply.status == 200 && reply.json()["status"] == "included" {
            included = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(included, "the weights job never landed");
    chain.stop().await;

    let logs = capture.text();
    // The capture is real: the traced request's lines carry its id, chain calls their duration.
    assert!(
        logs.lines()
            .any(|line| line.contains("trace-me-42") && line.contains("chain call")),
        "no chain call line with the request id: {}",
        logs.lines()
            .filter(|line| line.contains("trace-me-42") || line.contains("chain call"))
            .take(20)
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(logs.contains("elapsed_ms"));
    assert!(logs.contains("weights included"));
    // Also as a Debug-printed byte list, the form a derived `Debug` would take.
    let key_bytes = hex::decode(private_key).unwrap();
    let listed = format!("{:?}", &key_bytes[..8]);
    let listed = listed.trim_end_matches(']');
    assert!(
        !logs.contains(listed),
        "the logs carry the hotkey key as bytes"
    );
    for (name, secret) in [
        ("open-access token", OPEN_TOKEN),
        ("identity token", IDENTITY_TOKEN),
        ("metrics token", METRICS_TOKEN),
        ("wrong token", WRONG_TOKEN),
        ("hotkey private key", private_key),
        ("hotkey secret half", &private_key[..64]),
        ("hotkey nonce half", &private_key[64..]),
    ] {
        let upper = secret.to_ascii_uppercase();
        assert!(
            !logs.contains(secret) && !logs.contains(&upper),
            "the logs carry the {name}"
        );
    }
}
