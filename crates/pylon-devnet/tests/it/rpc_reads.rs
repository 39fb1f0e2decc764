//! The devnet read by independent clients: subxt (metadata-driven decoding of storage and
//! runtime-API answers) and raw JSON-RPC for protocol edge cases.

use std::time::Duration;

use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::rpc_params;
use jsonrpsee::ws_client::WsClientBuilder;
use pylon_devnet::{dev_keypair, DevnetConfig, DevnetHandle, Scenario};
use scale_value::{At, Value};
use subxt::{dynamic, OnlineClient, SubstrateConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

fn num(v: &Value) -> u128 {
    v.as_u128().expect("a number")
}

fn bytes(v: &Value) -> Vec<u8> {
    // Byte strings decode as a composite of u8s, possibly wrapped in a newtype composite.
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<u8>) {
        match &v.value {
            scale_value::ValueDef::Primitive(_) => out.push(v.as_u128().unwrap() as u8),
            scale_value::ValueDef::Composite(c) => c.values().for_each(|x| walk(x, out)),
            scale_value::ValueDef::Variant(var) => var.values.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    walk(v, &mut out);
    out
}

#[tokio::test]
async fn subxt_reads_neurons_hyperparameters_axons_and_commitments_matching_the_scenario() {
    let node = devnet(None).await;
    node.seal_block().await;
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(node.ws_url())
        .await
        .expect("subxt connects");
    let at = api.at_current_block().await.expect("current block");
    let alice = dev_keypair("//Alice").unwrap().public;

    let neurons = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "NeuronInfoRuntimeApi",
            "get_neurons_lite",
            (1u16,),
        ))
        .await
        .expect("get_neurons_lite");
    let list: Vec<&Value> = match &neurons.value {
        scale_value::ValueDef::Composite(c) => c.values().collect(),
        other => panic!("not a list: {other:?}"),
    };
    assert_eq!(list.len(), 256);
    let first = list[0];
    assert_eq!(bytes(first.at("hotkey").unwrap()), alice);
    assert_eq!(num(first.at("uid").unwrap()), 0);
    assert_eq!(first.at("validator_permit").unwrap().as_bool(), Some(true));
    assert_eq!(
        num(first.at("axon_info").unwrap().at("port").unwrap()),
        8091
    );
    assert_eq!(
        num(first.at("axon_info").unwrap().at("ip").unwrap()),
        u128::from(u32::from(std::net::Ipv4Addr::new(10, 0, 1, 1)))
    );

    let hyper = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "SubnetInfoRuntimeApi",
            "get_subnet_hyperparams_v2",
            (2u16,),
        ))
        .await
        .expect("hyperparams");
    let hyper = hyper.at(0).expect("Some(hyperparams)");
    assert_eq!(
        hyper.at("commit_reveal_weights_enabled").unwrap().as_bool(),
        Some(true)
    );
    assert_eq!(num(hyper.at("tempo").unwrap()), 100);

    let axon = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>("SubtensorModule", "Axons"),
            (1u16, alice),
        )
        .await
        .expect("Axons entry")
        .decode()
        .expect("AxonInfo decodes");
    assert_eq!(num(axon.at("port").unwrap()), 8091);

    let commitment = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>("Commitments", "CommitmentOf"),
            (1u16, alice),
        )
        .await
        .expect("CommitmentOf entry")
        .decode()
        .expect("Registration decodes");
    let text = bytes(commitment.at("info").unwrap().at("fields").unwrap());
    assert_eq!(
        String::from_utf8(text).unwrap(),
        "pylon-devnet commitment for netuid 1"
    );

    // Field 52 of SelectiveMetagraph is `hotkeys`; unselected fields stay `None`.
    let selective = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "SubnetInfoRuntimeApi",
            "get_selective_metagraph",
            (1u16, vec![52u16]),
        ))
        .await
        .expect("get_selective_metagraph");
    let selective = selective.at(0).expect("Some(metagraph)");
    let hotkeys = selective
        .at("hotkeys")
        .unwrap()
        .at(0)
        .expect("Some(hotkeys)");
    assert_eq!(bytes(hotkeys.at(0).unwrap()), alice);
    assert!(selective.at("tempo").unwrap().at(0).is_none());

    let tempo = at
        .storage()
        .fetch(
            dynamic::storage::<(u16,), u16>("SubtensorModule", "Tempo"),
            (1u16,),
        )
        .await
        .expect("Tempo")
        .decode()
        .expect("u16");
    assert_eq!(tempo, 360);
    node.stop().await;
}

#[tokio::test]
async fn blocks_chain_by_hash_and_heads_are_pushed_to_subscribers() {
    let node = devnet(None).await;
    let client = WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .unwrap();
    let mut heads = client
        .subscribe::<serde_json::Value, _>(
            "chain_subscribeNewHeads",
            rpc_params![],
            "chain_unsubscribeNewHeads",
        )
        .await
        .unwrap();
    let genesis = heads.next().await.unwrap().unwrap();
    assert_eq!(genesis["number"], "0x0");
    assert_eq!(node.seal_block().await, 1);
    let first = heads.next().await.unwrap().unwrap();
    assert_eq!(first["number"], "0x1");
    let genesis_hash: String = client
        .request("chain_getBlockHash", rpc_params![0])
        .await
        .unwrap();
    assert_eq!(first["parentHash"], genesis_hash.as_str());
    let block: serde_json::Value = client
        .request("chain_getBlock", rpc_params![])
        .await
        .unwrap();
    // The timestamp inherent is the first extrinsic of every block.
    assert_eq!(block["block"]["extrinsics"].as_array().unwrap().len(), 1);
    assert_eq!(node.best_number(), 1);
    node.stop().await;
}

async fn raw_http(node: &DevnetHandle, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(node.local_addr())
        .await
        .unwrap();
    let request = format!(
        "POST / HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[tokio::test]
async fn bad_input_gets_json_rpc_errors_and_the_node_keeps_serving() {
    let node = devnet(None).await;
    let malformed = raw_http(&node, "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":").await;
    assert!(malformed.contains("-32700"), "{malformed}");

    let client = jsonrpsee::http_client::HttpClientBuilder::default()
        .build(node.http_url())
        .unwrap();
    let unknown = client
        .request::<serde_json::Value, _>("no_such_method", rpc_params![])
        .await
        .unwrap_err();
    assert!(
        unknown.to_string().contains("-32601") || unknown.to_string().contains("not found"),
        "{unknown}"
    );
    let wrong = client
        .request::<serde_json::Value, _>("state_call", rpc_params!["Core_version", "zz"])
        .await
        .unwrap_err();
    assert!(wrong.to_string().contains("Invalid params"), "{wrong}");
    let bad_scale = client
        .request::<serde_json::Value, _>(
            "state_call",
            rpc_params!["NeuronInfoRuntimeApi_get_neurons_lite", "0x01"],
        )
        .await
        .unwrap_err();
    assert!(
        bad_scale.to_string().contains("cannot decode"),
        "{bad_scale}"
    );
    let bad_xt = client
        .request::<serde_json::Value, _>("author_submitExtrinsic", rpc_params!["0x0102"])
        .await
        .unwrap_err();
    assert!(
        bad_xt.to_string().contains("Extrinsic has invalid format"),
        "{bad_xt}"
    );

    // Named params work like positional ones, and the node still answers.
    let mut params = jsonrpsee::core::params::ObjectParams::new();
    params.insert("name", "Metadata_metadata_versions").unwrap();
    params.insert("bytes", "0x").unwrap();
    let named: serde_json::Value = client.request("state_call", params).await.unwrap();
    // Spec 424 serves metadata V14, V15 and V16.
    assert_eq!(named, "0x0c0e0000000f00000010000000");
    // Every request that names a method counts, unknown ones too; unparseable JSON does not.
    assert_eq!(node.rpc_call_count(), 5);
    // The same count is readable over RPC (for benchmarks in another process), this call included.
    let counted: u64 = client
        .request("dev_rpcCallCount", rpc_params![])
        .await
        .unwrap();
    assert_eq!(counted, 6);
    node.stop().await;
}

#[tokio::test]
async fn pruned_state_answers_like_a_pruned_node_and_faults_are_injected() {
    let node = devnet(Some(2)).await;
    let client = WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .unwrap();
    let genesis: String = client
        .request("chain_getBlockHash", rpc_params![0])
        .await
        .unwrap();
    for _ in 0..4 {
        node.seal_block().await;
    }
    let key = "0x26aa394eea5630e07c48ae0c9558cef702a5c1b19ab7a04f536c519aca4983ac"; // System.Number
    let pruned = client
        .request::<Option<String>, _>("state_getStorage", rpc_params![key, genesis.clone()])
        .await
        .unwrap_err();
    assert!(
        pruned.to_string().contains("State already discarded"),
        "{pruned}"
    );
    let best: Option<String> = client
        .request("state_getStorage", rpc_params![key])
        .await
        .unwrap();
    assert_eq!(best.as_deref(), Some("0x04000000"));

    let _: u32 = client
        .request("dev_failNext", rpc_params![1])
        .await
        .unwrap();
    assert!(client
        .request::<String, _>("system_chain", rpc_params![])
        .await
        .is_err());
    let chain: String = client.request("system_chain", rpc_params![]).await.unwrap();
    assert_eq!(chain, "Bittensor");

    // A stalled node still answers (later), and dev_newBlock seals on demand.
    let _: u64 = client.request("dev_stall", rpc_params![20]).await.unwrap();
    let sealed: serde_json::Value = client.request("dev_newBlock", rpc_params![]).await.unwrap();
    assert_eq!(sealed["number"], 5);
    let _: u64 = client.request("dev_stall", rpc_params![0]).await.unwrap();
    let head: String = client
        .request("chain_getFinalizedHead", rpc_params![])
        .await
        .unwrap();
    assert_eq!(sealed["hash"], head.as_str());

    let mut versions = client
        .subscribe::<serde_json::Value, _>(
            "state_subscribeRuntimeVersion",
            rpc_params![],
            "state_unsubscribeRuntimeVersion",
        )
        .await
        .unwrap();
    assert_eq!(versions.next().await.unwrap().unwrap()["specVersion"], 424);
    let _: serde_json::Value = client
        .request("dev_runtimeUpgrade", rpc_params![])
        .await
        .unwrap();
    assert_eq!(versions.next().await.unwrap().unwrap()["specVersion"], 425);
    // Past blocks keep the version they were built with; new blocks get the upgrade.
    let old: serde_json::Value = client
        .request("state_getRuntimeVersion", rpc_params![genesis])
        .await
        .unwrap();
    assert_eq!(old["specVersion"], 424);
    let upgraded: serde_json::Value = client.request("dev_newBlock", rpc_params![]).await.unwrap();
    let new: serde_json::Value = client
        .request(
            "state_getRuntimeVersion",
            rpc_params![upgraded["hash"].clone()],
        )
        .await
        .unwrap();
    assert_eq!(new["specVersion"], 425);
    node.stop().await;
}

#[tokio::test]
async fn subxt_decodes_block_bodies_and_events() {
    let node = devnet(None).await;
    node.seal_block().await;
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let at = api.at_current_block().await.unwrap();
    let extrinsics = at.extrinsics().fetch().await.expect("block body decodes");
    assert_eq!(extrinsics.len(), 1);
    let inherent = extrinsics
        .iter()
        .next()
        .unwrap()
        .expect("the inherent decodes");
    assert_eq!(
        (inherent.pallet_name(), inherent.call_name()),
        ("Timestamp", "set")
    );
    assert!(!inherent.is_signed());
    let events = at.events().fetch().await.expect("System.Events decodes");
    let names: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            let e = e.unwrap();
            (e.pallet_name().to_owned(), e.event_name().to_owned())
        })
        .collect();
    assert_eq!(names, vec![("System".into(), "ExtrinsicSuccess".into())]);
    node.stop().await;
}

#[tokio::test]
async fn dropped_connections_close_and_the_node_accepts_new_ones() {
    let node = devnet(None).await;
    let client = WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .unwrap();
    let _: bool = client
        .request("dev_dropConnections", rpc_params![])
        .await
        .unwrap();
    client.on_disconnect().await;
    let again = WsClientBuilder::default()
        .build(node.ws_url())
        .await
        .unwrap();
    let chain: String = again.request("system_chain", rpc_params![]).await.unwrap();
    assert_eq!(chain, "Bittensor");
    node.stop().await;
}

#[tokio::test]
async fn a_watched_transaction_goes_ready_in_block_finalized_and_its_write_is_visible() {
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::from_millis(200),
        ..DevnetConfig::default()
    })
    .await
    .unwrap();
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let alice = subxt_signer::sr25519::dev::alice();
    // netuid 3 of the default scenario: //Alice validates, no rate limit, no commit-reveal.
    let payload = dynamic::transaction(
        "SubtensorModule",
        "set_weights",
        (3u16, vec![0u16, 1], vec![10u16, 20], 0u64),
    );
    let events = api
        .tx()
        .await
        .unwrap()
        .sign_and_submit_then_watch_default(&payload, &alice)
        .await
        .expect("accepted into the pool")
        .wait_for_finalized_success()
        .await
        .expect("finalized without a dispatch error");
    assert!(events
        .iter()
        .any(|e| e.unwrap().event_name() == "WeightsSet"));
    let at = api.at_current_block().await.unwrap();
    let weights = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights"),
            (3u16, 0u16),
        )
        .await
        .expect("Weights entry")
        .decode()
        .unwrap();
    // Max-upscaled to u16::MAX, as subtensor stores them (rounding is the dispatch's business).
    assert_eq!(weights.iter().map(|w| w.0).collect::<Vec<_>>(), vec![0, 1]);
    assert_eq!(weights[1].1, 65535);
    assert!(weights[0].1.abs_diff(32767) <= 1, "{weights:?}");
    node.stop().await;
}
