//! Connecting to a node shaped like finney's (the devnet lists `chainHead_v1_*` / `archive_v1_*`
//! in `rpc_methods`): the head is known at once on an idle chain, reads work, and a node that
//! comes back serving another chain (new genesis) leaves nothing of the old one behind.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pylon_chain::BlockRef;
use pylon_devnet::{DevnetConfig, DevnetHandle, Scenario};
use pylon_test_support::{chain_client, devnet_config};
use subxt::rpcs::{rpc_params, RpcClient};

const WAIT: Duration = Duration::from_secs(20);

/// A devnet on `port` (0: any) at genesis, blocks only when the test seals one.
async fn devnet(port: u16, scenario: Scenario) -> DevnetHandle {
    pylon_devnet::spawn(DevnetConfig {
        port,
        ..devnet_config(Duration::ZERO, scenario)
    })
    .await
    .expect("devnet starts")
}

/// The node's own hash of block `number`, through a client of its own.
async fn hash_at(node: &DevnetHandle, number: u32) -> [u8; 32] {
    let rpc = RpcClient::from_insecure_url(node.ws_url()).await.unwrap();
    let hash: String = rpc
        .request("chain_getBlockHash", rpc_params![number])
        .await
        .unwrap();
    hex::decode(hash.trim_start_matches("0x"))
        .unwrap()
        .try_into()
        .unwrap()
}

#[tokio::test]
async fn an_idle_chain_advertising_the_new_api_is_served_at_once() {
    // Manual sealing and no block sealed: the chain makes no new block while we connect.
    let node = devnet(0, Scenario::builtin_default()).await;
    let chain = chain_client(&node);
    assert!(
        chain.wait_ready(Duration::from_secs(5)).await,
        "the head is known without a new block"
    );
    let head = chain.latest_block().unwrap();
    assert_eq!(
        head,
        BlockRef {
            number: 0,
            hash: hash_at(&node, 0).await
        }
    );
    assert_eq!(chain.genesis_hash(), Some(hash_at(&node, 0).await));
    assert_eq!(chain.neurons(1, &head).await.unwrap().len(), 256);
    // New heads still arrive by subscription.
    node.seal_block().await;
    let mut heads = chain.heads();
    tokio::time::timeout(
        WAIT,
        heads.wait_for(|h| h.as_ref().is_some_and(|h| h.number == 1)),
    )
    .await
    .expect("the next head in time")
    .unwrap();
    node.stop().await;
}

#[tokio::test]
async fn a_node_restarted_with_another_genesis_is_read_afresh() {
    let old = devnet(0, Scenario::builtin_default()).await;
    let port = old.local_addr().port();
    for _ in 0..80 {
        old.seal_block().await;
    }
    let chain = chain_client(&old);
    let resets = Arc::new(AtomicUsize::new(0));
    let counted = resets.clone();
    chain.on_chain_reset(move || {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    assert!(chain.wait_ready(WAIT).await);
    let old_genesis = chain.genesis_hash().unwrap();
    // Block 5 is settled (far behind the head): its hash is remembered by number.
    let old_five = chain.block(5).await.unwrap();
    assert_eq!(old_five.hash, hash_at(&old, 5).await);
    assert_eq!(chain.neurons(1, &old_five).await.unwrap().len(), 256);
    old.stop().await;

    // The same address now serves another chain: 10 neurons on subnet 1, another genesis.
    let mut scenario = Scenario::builtin_default();
    scenario.subnets[0].generated_neurons = 5;
    let new = devnet(port, scenario).await;
    for _ in 0..10 {
        new.seal_block().await;
    }
    let mut heads = chain.heads();
    tokio::time::timeout(
        WAIT,
        heads.wait_for(|h| h.as_ref().is_some_and(|h| h.number == 10)),
    )
    .await
    .expect("reconnected to the new chain in time")
    .unwrap();
    assert_ne!(chain.genesis_hash(), Some(old_genesis));
    assert_eq!(chain.genesis_hash(), Some(hash_at(&new, 0).await));
    let five = chain.block(5).await.unwrap();
    assert_eq!(
        five.hash,
        hash_at(&new, 5).await,
        "not the old chain's block 5"
    );
    assert_ne!(five.hash, old_five.hash);
    assert_eq!(chain.neurons(1, &five).await.unwrap().len(), 10);
    assert_eq!(resets.load(Ordering::SeqCst), 1);
    new.stop().await;
}

#[tokio::test]
async fn a_reconnect_to_the_same_chain_keeps_what_is_known() {
    let node = devnet(0, Scenario::builtin_default()).await;
    for _ in 0..80 {
        node.seal_block().await;
    }
    let chain = chain_client(&node);
    let resets = Arc::new(AtomicUsize::new(0));
    let counted = resets.clone();
    chain.on_chain_reset(move || {
        counted.fetch_add(1, Ordering::SeqCst);
    });
    assert!(chain.wait_ready(WAIT).await);
    let rpc = RpcClient::from_insecure_url(node.ws_url()).await.unwrap();
    let _: bool = rpc
        .request("dev_dropConnections", rpc_params![])
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while chain.reconnects() == 0 || !chain.is_connected() {
        assert!(std::time::Instant::now() < deadline, "no reconnect");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.seal_block().await;
    let mut heads = chain.heads();
    tokio::time::timeout(
        WAIT,
        heads.wait_for(|h| h.as_ref().is_some_and(|h| h.number == 81)),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        resets.load(Ordering::SeqCst),
        0,
        "the same chain is no reset"
    );
    node.stop().await;
}

#[tokio::test]
async fn a_node_restarted_from_the_same_genesis_with_other_blocks_is_read_afresh() {
    let old = devnet(0, Scenario::builtin_default()).await;
    let port = old.local_addr().port();
    for _ in 0..80 {
        old.seal_block().await;
    }
    let chain = chain_client(&old);
    assert!(chain.wait_ready(WAIT).await);
    let genesis = chain.genesis_hash().unwrap();
    let old_five = chain.block(5).await.unwrap();
    old.stop().await;

    // Same scenario, so the same genesis; the blocks after it differ (their timestamps do).
    let new = devnet(port, Scenario::builtin_default()).await;
    for _ in 0..90 {
        new.seal_block().await;
    }
    let mut heads = chain.heads();
    tokio::time::timeout(
        WAIT,
        heads.wait_for(|h| h.as_ref().is_some_and(|h| h.number == 90)),
    )
    .await
    .expect("reconnected in time")
    .unwrap();
    assert_eq!(chain.genesis_hash(), Some(genesis));
    let five = chain.block(5).await.unwrap();
    assert_eq!(five.hash, hash_at(&new, 5).await);
    assert_ne!(five.hash, old_five.hash);
    new.stop().await;
}
