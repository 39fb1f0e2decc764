//! Chain trouble: archive fallback for pruned state (two devnets), and a devnet that dies and comes
//! back — cached reads keep being served meanwhile, and the service reconnects unaided.

use crate::common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use pylon_chain::Network;
use pylon_devnet::{DevnetConfig, DevnetHandle, Scenario};
use pylon_service::{Service, Settings};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn get(addr: SocketAddr, path: &str) -> (u16, Value) {
    get_within(addr, path, None).await
}

async fn get_within(addr: SocketAddr, path: &str, timeout: Option<&str>) -> (u16, Value) {
    common::get_json(addr, path, timeout).await
}

async fn devnet(port: u16, state_pruning: Option<u32>) -> DevnetHandle {
    pylon_devnet::spawn(DevnetConfig {
        port,
        block_time: Duration::ZERO,
        scenario: Scenario::builtin_default(),
        state_pruning,
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts")
}

async fn service(main: &DevnetHandle, archive: Option<&DevnetHandle>) -> SocketAddr {
    service_with_cutoff(main, archive, 300).await
}

async fn service_with_cutoff(
    main: &DevnetHandle,
    archive: Option<&DevnetHandle>,
    cutoff: u32,
) -> SocketAddr {
    let mut settings = Settings::new(Network::parse(&main.ws_url()).unwrap());
    settings.archive_blocks_cutoff = cutoff;
    settings.archive_network = archive.map(|a| Network::parse(&a.ws_url()).unwrap());
    settings.host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    settings.port = 0;
    settings.recent_objects_netuids = vec![1];
    let service = Service::bind(settings).await.expect("binds");
    let addr = service.local_addr();
    assert!(service.wait_chain_ready(Duration::from_secs(20)).await);
    tokio::spawn(service.serve(std::future::pending()));
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_the_main_node_pruned_is_read_from_the_archive() {
    let main = devnet(0, Some(2)).await;
    let archive = devnet(0, None).await;
    for _ in 0..5 {
        main.seal_block().await;
    }
    // Without an archive, pruned state is a 404 naming the block, not a 500.
    let alone = service(&main, None).await;
    let (status, body) = get(alone, "/api/v1/subnet/3/block/0/neurons").await;
    assert_eq!(status, 404, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("discarded"),
        "{body}"
    );

    // With one, the genesis block (the same on both) is answered by the archive.
    let both = service(&main, Some(&archive)).await;
    let (status, body) = until_archive_connected(both, "/api/v1/subnet/3/block/0/neurons").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["block"]["number"], 0);
    assert_eq!(body["neurons"].as_object().unwrap().len(), 8);

    // Past the cutoff, the archive is asked first: the main node sees none of such a read.
    // (The archive devnet never sealed a block, so it lacks block 1 altogether.)
    let routed = service_with_cutoff(&main, Some(&archive), 1).await;
    // (A subnet that does not exist: empty, but only from a node that still has the state.)
    let (status, body) = until_archive_connected(routed, "/api/v1/subnet/9/block/0/neurons").await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = get(routed, "/api/v1/subnet/2/block/1/neurons").await;
    assert_eq!(status, 404, "{body}");
    // The new service's connection may still be settling on the main node, so one of a few
    // uncached reads without a main-node call proves the routing (with fallback, each costs some).
    let mut main_untouched = false;
    for netuid in [1, 2, 3] {
        let (main_before, archive_before) = (main.rpc_call_count(), archive.rpc_call_count());
        let (status, body) = get(routed, &format!("/api/v1/subnet/{netuid}/block/0/neurons")).await;
        assert_eq!(status, 200, "{body}");
        assert!(archive.rpc_call_count() > archive_before);
        main_untouched |= main.rpc_call_count() == main_before;
    }
    assert!(main_untouched);
    main.stop().await;
    archive.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cached_reads_survive_a_dead_chain_and_the_service_reconnects() {
    let chain = devnet(0, None).await;
    chain.seal_block().await;
    let port = chain.local_addr().port();
    let addr = service(&chain, None).await;
    let (status, before) = get(addr, "/api/v1/subnet/1/block/latest/neurons").await;
    assert_eq!(status, 200);
    let old_hash = before["block"]["hash"].clone();
    chain.stop().await;

    // Uncached reads fail fast with 503 once the loss is noticed...
    let mut status = 0;
    for _ in 0..200 {
        status = get(addr, "/api/v1/subnet/2/block/latest/neurons").await.0;
        if status == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(status, 503);
    // ...while the cached latest neurons are still served, from the block they were read at.
    let (status, during) = get(addr, "/api/v1/subnet/1/block/latest/neurons").await;
    assert_eq!(status, 200);
    assert_eq!(during, before);

    // The chain comes back on the same address; the service finds it without help.
    let chain = devnet(port, None).await;
    chain.seal_block().await;
    let mut latest = Value::Null;
    for _ in 0..400 {
        let (status, body) = get(addr, "/api/v1/subnet/1/block/latest").await;
        if status == 200 && body["hash"] != old_hash {
            latest = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(latest.is_object(), "no new head after the restart");
    let (status, _) = get(addr, "/api/v1/subnet/2/block/latest/neurons").await;
    assert_eq!(status, 200);
    chain.stop().await;
}

/// `path`'s answer once the service's archive connection is up (it connects in the background;
/// until then old blocks answer 503, or 404 from the pruned main node).
async fn until_archive_connected(addr: SocketAddr, path: &str) -> (u16, Value) {
    let mut reply = get(addr, path).await;
    for _ in 0..400 {
        if reply.0 == 200 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
        reply = get(addr, path).await;
    }
    reply
}

/// Make the devnet answer every RPC `ms` late (its `dev_stall` admin call).
async fn stall(devnet: &DevnetHandle, ms: u64) {
    let body = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"dev_stall","params":[{ms}]}}"#);
    let mut stream = tokio::net::TcpStream::connect(devnet.local_addr())
        .await
        .unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: devnet\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    assert!(String::from_utf8_lossy(&raw).contains("\"result\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_a_new_block_is_fetched_readers_get_the_previous_one_without_waiting() {
    let chain = devnet(0, None).await;
    chain.seal_block().await;
    let addr = service(&chain, None).await;
    let (status, before) = get(addr, "/api/v1/subnet/1/block/latest/neurons").await;
    assert_eq!(status, 200);
    let previous = before["block"]["number"].as_u64().unwrap();
    get(addr, "/api/v1/subnet/1/block/latest/validators").await;

    // The chain turns slow, then a block arrives: its prefetch is now stuck on the chain.
    stall(&chain, 5_000).await;
    chain.seal_block().await;
    // Block info for the new head needs the chain, so it times out once the head is known.
    let mut status = 200;
    for _ in 0..200 {
        status = get_within(addr, "/api/v1/subnet/1/block/latest", Some("0.3"))
            .await
            .0;
        if status == 504 {
            break;
        }
    }
    assert_eq!(status, 504, "the new head never arrived");

    // Neurons and validators readers are not held up: they get the previous block's answer.
    let (status, during) =
        get_within(addr, "/api/v1/subnet/1/block/latest/neurons", Some("2")).await;
    assert_eq!(status, 200, "{during}");
    assert_eq!(during["block"]["number"], previous);
    let (status, validators) =
        get_within(addr, "/api/v1/subnet/1/block/latest/validators", Some("2")).await;
    assert_eq!(status, 200, "{validators}");
    assert_eq!(validators["block"]["number"], previous);
    stall(&chain, 0).await;
    chain.stop().await;
}
