//! A chain that resets (a testnet reset, a local node restarted with a new genesis): once the
//! node serves the new chain, every answer comes from it — latest and by number — and nothing
//! cached from the old chain is served again.

use crate::common;

use std::time::{Duration, Instant};

use common::{get_json, local_settings, manual_devnet_config, serve};
use pylon_devnet::{DevnetConfig, Scenario};
use subxt::rpcs::{rpc_params, RpcClient};

async fn hash_at(url: &str, number: u32) -> String {
    let rpc = RpcClient::from_insecure_url(url).await.unwrap();
    rpc.request("chain_getBlockHash", rpc_params![number])
        .await
        .unwrap()
}

fn neuron_count(body: &serde_json::Value) -> usize {
    body["neurons"].as_object().map_or(0, |n| n.len())
}

#[tokio::test]
async fn answers_come_from_the_new_chain_after_a_reset() {
    let old = pylon_devnet::spawn(manual_devnet_config()).await.unwrap();
    let port = old.local_addr().port();
    // Far enough for block 5 to be settled (remembered by number) on the old chain.
    for _ in 0..80 {
        old.seal_block().await;
    }
    let old_five = hash_at(&old.ws_url(), 5).await;
    let mut settings = local_settings(&old);
    settings.recent_objects_netuids = vec![1];
    let addr = serve(settings).await;

    let (status, latest) = get_json(addr, "/api/v1/subnet/1/block/latest/neurons", None).await;
    assert_eq!(status, 200, "{latest}");
    assert_eq!(neuron_count(&latest), 256);
    assert_eq!(latest["block"]["number"], 80);
    let (status, five) = get_json(addr, "/api/v1/subnet/1/block/5/neurons", None).await;
    assert_eq!(status, 200, "{five}");
    assert_eq!(five["block"]["hash"], old_five);
    old.stop().await;

    // Another chain on the same address: subnet 1 has 10 neurons there.
    let mut scenario = Scenario::builtin_default();
    scenario.subnets[0].generated_neurons = 5;
    let new = pylon_devnet::spawn(DevnetConfig {
        port,
        scenario,
        ..manual_devnet_config()
    })
    .await
    .unwrap();
    for _ in 0..10 {
        new.seal_block().await;
    }
    let new_five = hash_at(&new.ws_url(), 5).await;
    let new_ten = hash_at(&new.ws_url(), 10).await;

    // Until the service has reconnected it may answer from the old chain or not at all; once it
    // serves the new chain's head, it must never answer from the old one again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, latest) = get_json(addr, "/api/v1/subnet/1/block/latest/neurons", None).await;
        if status == 200 && latest["block"]["hash"] == new_ten {
            assert_eq!(neuron_count(&latest), 10, "{latest}");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still answering {status} {latest}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for _ in 0..20 {
        let (status, latest) = get_json(addr, "/api/v1/subnet/1/block/latest/neurons", None).await;
        assert_eq!(status, 200);
        assert_eq!(latest["block"]["hash"], new_ten);
        assert_eq!(neuron_count(&latest), 10);
        let (status, recent) = get_json(addr, "/api/v1/subnet/1/block/recent/neurons", None).await;
        assert_eq!(status, 200, "{recent}");
        assert_eq!(
            recent["block"]["hash"], new_ten,
            "recent is the new chain's"
        );
    }
    let (status, five) = get_json(addr, "/api/v1/subnet/1/block/5/neurons", None).await;
    assert_eq!(status, 200, "{five}");
    assert_eq!(five["block"]["hash"], new_five);
    assert_ne!(five["block"]["hash"], old_five);
    assert_eq!(neuron_count(&five), 10);
    new.stop().await;
}
