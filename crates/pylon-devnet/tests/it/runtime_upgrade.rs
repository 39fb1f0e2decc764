//! The 343 profile and `dev_runtimeUpgrade` moving it to spec 424: blocks before the upgrade
//! keep 343's version and metadata, the first 424 block migrates storage as subtensor's
//! `migrate_dynamic_tempo` did, and the retired items are gone.

use std::time::Duration;

use jsonrpsee::core::client::ClientT;
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use pylon_devnet::{DevnetConfig, RuntimeSpec, Scenario};
use subxt::metadata::Metadata;

const SCENARIO: &str = r#"
runtime = 343

[[subnets]]
netuid = 1
generated_neurons = 3

[subnets.hyperparameters]
tempo = 3
activity_cutoff = 30
"#;

fn hex_bytes(v: &serde_json::Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string").trim_start_matches("0x")).expect("hex")
}

/// `twox128(pallet) ++ twox128(item) ++ identity(netuid as u16)`.
fn subnet_key(item: &str, netuid: u16) -> String {
    let mut key = sp_crypto_hashing::twox_128(b"SubtensorModule").to_vec();
    key.extend(sp_crypto_hashing::twox_128(item.as_bytes()));
    key.extend(netuid.to_le_bytes());
    format!("0x{}", hex::encode(key))
}

#[tokio::test]
async fn runtime_upgrade_moves_343_to_424_and_old_blocks_keep_343() {
    let scenario: Scenario = toml::from_str(SCENARIO).unwrap();
    assert_eq!(scenario.runtime, Some(RuntimeSpec::Spec343));
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::ZERO,
        scenario,
        ..DevnetConfig::default()
    })
    .await
    .unwrap();
    let client = WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .unwrap();
    for _ in 0..6 {
        node.seal_block().await;
    }
    let old: String = client
        .request("chain_getBlockHash", rpc_params![6])
        .await
        .unwrap();
    let version: serde_json::Value = client
        .request("state_getRuntimeVersion", rpc_params![])
        .await
        .unwrap();
    assert_eq!(version["specVersion"], 343);

    let upgraded: serde_json::Value = client
        .request("dev_runtimeUpgrade", rpc_params![])
        .await
        .unwrap();
    assert_eq!(upgraded["specVersion"], 424);
    // The upgrade sealed block 7: its state holds the new code, its storage is still 343's.
    assert_eq!(node.best_number(), 7);
    let set_code: String = client
        .request("chain_getBlockHash", rpc_params![7])
        .await
        .unwrap();
    // Block 8 is the first one 424 executes; it migrates storage first.
    assert_eq!(node.seal_block().await, 8);
    let new: String = client
        .request("chain_getBlockHash", rpc_params![8])
        .await
        .unwrap();

    // Versions and metadata per block.
    let version_at = |hash: String| {
        let client = &client;
        async move {
            let v: serde_json::Value = client
                .request("state_getRuntimeVersion", rpc_params![hash])
                .await
                .unwrap();
            v["specVersion"].as_u64().unwrap()
        }
    };
    assert_eq!(version_at(old.clone()).await, 343);
    assert_eq!(version_at(set_code.clone()).await, 424);
    assert_eq!(version_at(new.clone()).await, 424);
    let metadata_at = |hash: String| {
        let client = &client;
        async move {
            let v: serde_json::Value = client
                .request("state_getMetadata", rpc_params![hash])
                .await
                .unwrap();
            Metadata::decode_from(&hex_bytes(&v)).expect("subxt decodes the V14 answer")
        }
    };
    let (old_md, new_md) = (
        metadata_at(old.clone()).await,
        metadata_at(new.clone()).await,
    );
    let has = |md: &Metadata, item: &str| {
        md.pallet_by_name("SubtensorModule")
            .and_then(|p| p.storage())
            .and_then(|s| s.entry_by_name(item))
            .is_some()
    };
    assert!(has(&old_md, "Rank") && !has(&old_md, "SubnetEpochIndex"));
    assert!(!has(&new_md, "Rank") && has(&new_md, "SubnetEpochIndex"));
    let versions_at = |hash: String| {
        let client = &client;
        async move {
            let v: serde_json::Value = client
                .request(
                    "state_call",
                    rpc_params!["Metadata_metadata_versions", "0x", hash],
                )
                .await
                .unwrap();
            v.as_str().unwrap().to_owned()
        }
    };
    assert_eq!(versions_at(old.clone()).await, "0x080e0000000f000000");
    assert_eq!(
        versions_at(new.clone()).await,
        "0x0c0e0000000f00000010000000"
    );

    // Storage: the retired column is gone after the upgrade, kept before it.
    let storage_at = |key: String, hash: String| {
        let client = &client;
        async move {
            let v: serde_json::Value = client
                .request("state_getStorage", rpc_params![key, hash])
                .await
                .unwrap();
            (!v.is_null()).then(|| hex_bytes(&v))
        }
    };
    assert!(storage_at(subnet_key("Rank", 1), old.clone())
        .await
        .is_some());
    assert!(storage_at(subnet_key("Rank", 1), set_code.clone())
        .await
        .is_some());
    assert!(storage_at(subnet_key("Rank", 1), new.clone())
        .await
        .is_none());
    // migrate_dynamic_tempo in block 8, netuid 1, tempo 3: adjusted = 8 + 2 = 10, the grid's
    // epoch index 10 / 4 = 2 and LastEpochBlock 8 - 10 % 4 = 6, so the first stateful epoch
    // (6 + 3 = 9) is where the grid's next one ((9 + 2) % 4 == 3) would have been.
    let u64_at = |item: &'static str| {
        let new = new.clone();
        async move {
            let bytes = storage_at(subnet_key(item, 1), new).await.expect(item);
            u64::from_le_bytes(bytes[..8].try_into().unwrap())
        }
    };
    assert_eq!(u64_at("LastEpochBlock").await, 6);
    assert_eq!(u64_at("SubnetEpochIndex").await, 2);
    // ActivityCutoff 30 at tempo 3: 10_000 ‰, within the clamp.
    let factor = storage_at(subnet_key("ActivityCutoffFactorMilli", 1), new.clone())
        .await
        .expect("factor");
    assert_eq!(u32::from_le_bytes(factor[..4].try_into().unwrap()), 10_000);
    let next: serde_json::Value = client
        .request(
            "state_call",
            rpc_params![
                "SubnetInfoRuntimeApi_get_next_epoch_start_block",
                "0x0100",
                new.clone()
            ],
        )
        .await
        .unwrap();
    // Some(9u64)
    assert_eq!(next, "0x010900000000000000");

    // A second upgrade keeps 424's metadata and bumps the spec version.
    let again: serde_json::Value = client
        .request("dev_runtimeUpgrade", rpc_params![])
        .await
        .unwrap();
    assert_eq!(again["specVersion"], 425);
    node.stop().await;
}

#[tokio::test]
async fn the_config_runtime_overrides_the_scenario() {
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::ZERO,
        runtime: Some(RuntimeSpec::Spec343),
        ..DevnetConfig::default()
    })
    .await
    .unwrap();
    let client = WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .unwrap();
    let version: serde_json::Value = client
        .request("state_getRuntimeVersion", rpc_params![])
        .await
        .unwrap();
    assert_eq!(version["specVersion"], 343);
    assert_eq!(version["apis"].as_array().unwrap().len(), 22);
    node.stop().await;
}
