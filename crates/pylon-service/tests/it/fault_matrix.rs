//! The fault matrix: what a reader of the service sees while the chain misbehaves, one test per
//! row, driven by the devnet's fault injection (`dev_stall`, `dev_failNext`,
//! `dev_dropConnections`, `dev_runtimeUpgrade`, see docs/DEVNET.md) against a real service.
//!
//! | Fault | Expected behaviour | Test |
//! |---|---|---|
//! | Connection drop mid-request | the in-flight read ends when its connection closes, with its answer or a 503 saying the chain is unreachable (never a 500, never a wait for its timeout); cached reads keep answering 200; the service reconnects unaided and uncached reads answer 200 again | [`connection_drop_mid_request_fails_fast_and_the_service_reconnects`] |
//! | Stalled node | an uncached read answers 504 within its `X-Pylon-Timeout`, naming the budget; cached reads keep answering 200 meanwhile; once the node answers again the same read is 200 | [`a_stalled_node_costs_a_504_within_the_request_timeout_then_reads_recover`] |
//! | Stalled node while a new head is fetched | readers of latest neurons/validators get the previous block at once | `resilience.rs`: `while_a_new_block_is_fetched_readers_get_the_previous_one_without_waiting` |
//! | N failing calls | each read that meets a failing call answers a clear 502 naming the node's error (reads are not retried: the caller decides); nothing is cached from a failure, so the next read answers 200; the head subscription survives | [`failing_calls_answer_a_clear_502_and_the_next_read_succeeds`] |
//! | Runtime upgrade | blocks after the upgrade carry the new `spec_version`; their metadata is fetched for that version and decoding keeps working, for blocks on both sides of the upgrade | [`after_a_runtime_upgrade_blocks_on_both_sides_decode`] |
//! | Node restart (process gone, back on the same port) | uncached reads 503 while it is down, cached reads 200; the service reconnects unaided | `resilience.rs`: `cached_reads_survive_a_dead_chain_and_the_service_reconnects` |
//! | Archive node down | a historic read the main node pruned answers 503 naming the archive (not a 404: the block exists), whether the block is past the archive cutoff or not; latest reads are unaffected | [`archive_node_down_makes_historic_reads_503_and_leaves_latest_reads_alone`] |
//! | Archive node up, main node pruned | the archive answers | `resilience.rs`: `state_the_main_node_pruned_is_read_from_the_archive` |

use crate::common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use pylon_chain::Network;
use pylon_devnet::{DevnetConfig, DevnetHandle, Scenario};
use pylon_service::{Service, Settings};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A GET on a fresh connection, with an optional `X-Pylon-Timeout`.
async fn get(addr: SocketAddr, path: &str, timeout: Option<&str>) -> (u16, Value) {
    common::get_json(addr, path, timeout).await
}

/// One JSON-RPC call to a node over HTTP (the devnet's admin methods, or a plain chain query).
async fn rpc(node: SocketAddr, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
    let mut stream = tokio::net::TcpStream::connect(node).await.unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: devnet\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (_, body) = text.split_once("\r\n\r\n").unwrap();
    let reply: Value = serde_json::from_str(body).unwrap();
    reply
        .get("result")
        .cloned()
        .unwrap_or_else(|| panic!("{method} failed: {reply}"))
}

async fn devnet(state_pruning: Option<u32>) -> DevnetHandle {
    pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::ZERO,
        scenario: Scenario::builtin_default(),
        state_pruning,
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts")
}

/// A service on the main node (and an archive URL, reachable or not), netuid 1 kept hot.
async fn service(main: &DevnetHandle, archive: Option<String>, cutoff: u32) -> SocketAddr {
    let mut settings = Settings::new(Network::parse(&main.ws_url()).unwrap());
    settings.archive_network = archive.map(|url| Network::parse(&url).unwrap());
    settings.archive_blocks_cutoff = cutoff;
    settings.host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    settings.port = 0;
    settings.recent_objects_netuids = vec![1];
    let service = Service::bind(settings).await.expect("binds");
    let addr = service.local_addr();
    assert!(service.wait_chain_ready(Duration::from_secs(20)).await);
    tokio::spawn(service.serve(std::future::pending()));
    addr
}

/// Retry `path` until it answers `status` (the service reconnects and re-reads in the
/// background); returns the last answer.
async fn until_status(addr: SocketAddr, path: &str, status: u16) -> (u16, Value) {
    let mut reply = get(addr, path, None).await;
    for _ in 0..400 {
        if reply.0 == status {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        reply = get(addr, path, None).await;
    }
    reply
}

fn detail(body: &Value) -> String {
    body["detail"].as_str().unwrap_or_default().to_string()
}

const CACHED: &str = "/api/v1/subnet/1/block/latest/neurons";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_drop_mid_request_fails_fast_and_the_service_reconnects() {
    let chain = devnet(None).await;
    chain.seal_block().await;
    let node = chain.local_addr();
    let addr = service(&chain, None, 300).await;
    let (status, cached) = get(addr, CACHED, None).await;
    assert_eq!(status, 200, "{cached}");

    // Hold an uncached read inside the node, then close every connection under it.
    rpc(node, "dev_stall", json!([3_000])).await;
    let in_flight = tokio::spawn(async move {
        get(
            addr,
            "/api/v1/subnet/3/block/1/validators",
            Some("60"), // far longer than the stall: only a hang would reach it
        )
        .await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    rpc(node, "dev_dropConnections", json!([])).await;
    let (status, body) = in_flight.await.unwrap();
    assert!(
        status == 200 || status == 503,
        "the in-flight read answered {status}: {body}"
    );
    if status == 503 {
        assert!(
            detail(&body).contains("unreachable"),
            "a 503 says why: {body}"
        );
    }
    // The latest neurons were cached before the drop: still served, unchanged.
    let (status, during) = get(addr, CACHED, None).await;
    assert_eq!(status, 200);
    assert_eq!(during, cached);

    // The node is back on the same address and answers promptly: the service finds it unaided.
    rpc(node, "dev_stall", json!([0])).await;
    let (status, body) = until_status(addr, "/api/v1/subnet/3/block/1/neurons", 200).await;
    assert_eq!(status, 200, "no recovery after the drop: {body}");
    // And it follows heads again: a new block shows up as the latest.
    let sealed = chain.seal_block().await;
    let mut latest = Value::Null;
    for _ in 0..400 {
        let (status, body) = get(addr, "/api/v1/block/latest", None).await;
        if status == 200 && body["number"] == sealed {
            latest = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(latest["number"], sealed, "no new head after the drop");
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_node_costs_a_504_within_the_request_timeout_then_reads_recover() {
    let chain = devnet(None).await;
    chain.seal_block().await;
    let node = chain.local_addr();
    let addr = service(&chain, None, 300).await;
    let (status, cached) = get(addr, CACHED, None).await;
    assert_eq!(status, 200);

    rpc(node, "dev_stall", json!([10_000])).await;
    let uncached = "/api/v1/subnet/3/block/1/validators";
    let (status, body) = get(addr, uncached, Some("0.5")).await;
    assert_eq!(status, 504, "{body}");
    assert_eq!(body["status_code"], 504);
    assert!(detail(&body).contains("0.500"), "names the budget: {body}");
    // The cache does not wait for the node.
    let (status, during) = get(addr, CACHED, Some("0.5")).await;
    assert_eq!(status, 200, "{during}");
    assert_eq!(during, cached);

    rpc(node, "dev_stall", json!([0])).await;
    // The abandoned call may still hold the connection for the rest of its stall; the same read
    // answers once the node does.
    let (status, body) = until_status(addr, uncached, 200).await;
    assert_eq!(status, 200, "{body}");
    assert!(!body["validators"].as_array().unwrap().is_empty());
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_calls_answer_a_clear_502_and_the_next_read_succeeds() {
    let chain = devnet(None).await;
    chain.seal_block().await;
    let node = chain.local_addr();
    let addr = service(&chain, None, 300).await;
    let (status, cached) = get(addr, CACHED, None).await;
    assert_eq!(status, 200);

    // Every uncached read meets failures while any are left: each is a 502 with the node's words.
    rpc(node, "dev_failNext", json!([3])).await;
    let mut failures = 0;
    for netuid in [2, 3, 4] {
        let (status, body) = get(
            addr,
            &format!("/api/v1/subnet/{netuid}/block/1/neurons"),
            None,
        )
        .await;
        if status == 502 {
            failures += 1;
            assert!(
                detail(&body).contains("injected failure"),
                "the 502 carries the node's reason: {body}"
            );
            assert_eq!(body["status_code"], 502);
        } else {
            assert_eq!(status, 200, "neither a clear 502 nor an answer: {body}");
        }
    }
    assert!(failures >= 1, "no read met an injected failure");
    // The cached answer never needed the node.
    let (status, during) = get(addr, CACHED, None).await;
    assert_eq!(status, 200);
    assert_eq!(during, cached);

    // Failures are not cached: once they are used up, the very same reads succeed.
    rpc(node, "dev_failNext", json!([0])).await;
    for netuid in [2, 3, 4] {
        let (status, body) = get(
            addr,
            &format!("/api/v1/subnet/{netuid}/block/1/neurons"),
            None,
        )
        .await;
        assert_eq!(status, 200, "netuid {netuid}: {body}");
    }
    // The head subscription survived the failures.
    let sealed = chain.seal_block().await;
    let (status, body) = until_block(addr, sealed).await;
    assert_eq!(status, 200, "{body}");
    chain.stop().await;
}

/// Wait until latest neurons of netuid 1 are from block `number`.
async fn until_block(addr: SocketAddr, number: u32) -> (u16, Value) {
    let mut reply = get(addr, CACHED, None).await;
    for _ in 0..400 {
        if reply.0 == 200 && reply.1["block"]["number"] == number {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        reply = get(addr, CACHED, None).await;
    }
    reply
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_runtime_upgrade_blocks_on_both_sides_decode() {
    let chain = devnet(None).await;
    let before = chain.seal_block().await;
    let node = chain.local_addr();
    let addr = service(&chain, None, 300).await;
    let (status, old) = get(addr, CACHED, None).await;
    assert_eq!(status, 200);
    assert_eq!(old["block"]["number"], before);

    let upgraded = rpc(node, "dev_runtimeUpgrade", json!([])).await;
    let spec = upgraded["specVersion"].as_u64().unwrap();
    let after = chain.seal_block().await;
    // The setup really is an upgrade: the new block reports the new spec version, the old one
    // keeps its own (so the client must fetch metadata for the new version to read it).
    let hash_after = rpc(node, "chain_getBlockHash", json!([after])).await;
    let hash_before = rpc(node, "chain_getBlockHash", json!([before])).await;
    let version = |hash: Value| rpc(node, "state_getRuntimeVersion", json!([hash]));
    assert_eq!(version(hash_after).await["specVersion"], spec);
    assert_ne!(version(hash_before).await["specVersion"], spec);

    // The prefetch of the upgraded block decodes: latest neurons come from it, same neurons.
    let (status, new) = until_block(addr, after).await;
    assert_eq!(status, 200, "{new}");
    assert_eq!(new["block"]["number"], after);
    assert_eq!(new["neurons"], old["neurons"]);
    // Uncached reads on both sides of the upgrade decode.
    for block in [before, after] {
        for view in ["validators", "neurons"] {
            let (status, body) = get(
                addr,
                &format!("/api/v1/subnet/2/block/{block}/{view}"),
                None,
            )
            .await;
            assert_eq!(status, 200, "block {block} {view}: {body}");
        }
        let (status, body) = get(addr, &format!("/api/v1/block/{block}/extrinsic/0"), None).await;
        assert_eq!(status, 200, "block {block} extrinsic 0: {body}");
        assert_eq!(body["call"]["call_module"], "Timestamp");
    }
    chain.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archive_node_down_makes_historic_reads_503_and_leaves_latest_reads_alone() {
    let main = devnet(Some(2)).await;
    for _ in 0..6 {
        main.seal_block().await;
    }
    // An archive URL that never answers: a socket that is never accepted from (the WebSocket
    // handshake times out). It stays bound for the whole test, so no other node on this machine
    // (say, another test's devnet, with the same genesis) can take the port and answer instead.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let archive = format!("ws://{}", silent.local_addr().unwrap());

    // Block 0 within the cutoff (the main node is asked first) and past it (the archive is).
    for cutoff in [300, 1] {
        let addr = service(&main, Some(archive.clone()), cutoff).await;
        let (status, body) = get(addr, "/api/v1/subnet/3/block/0/neurons", None).await;
        assert_eq!(status, 503, "cutoff {cutoff}: {body}");
        assert!(
            detail(&body).contains(&archive),
            "cutoff {cutoff}: the 503 names the archive: {body}"
        );
        // The latest block's reads never need the archive.
        let (status, body) = get(addr, CACHED, None).await;
        assert_eq!(status, 200, "cutoff {cutoff}: {body}");
        assert_eq!(body["block"]["number"], main.best_number());
        let (status, body) = get(addr, "/api/v1/subnet/2/block/latest/validators", None).await;
        assert_eq!(status, 200, "cutoff {cutoff}: {body}");
    }
    drop(silent);
    main.stop().await;
}
