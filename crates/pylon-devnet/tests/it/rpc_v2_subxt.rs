//! The devnet's new JSON-RPC API (`chainHead_v1_*`, `archive_v1_*`, `chainSpec_v1_*`) judged by
//! independent clients: subxt's `ChainHeadBackend` and its default combined backend (which picks
//! `archive_v1_*` / `chainHead_v1_*` because `rpc_methods` lists them, as a real node's does), and
//! raw JSON-RPC for the protocol's details (event order, operation ids, pagination, unpin).

use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::core::client::{ClientT, Subscription, SubscriptionClientT, SubscriptionKind};
use jsonrpsee::rpc_params;
use jsonrpsee::types::SubscriptionId;
use jsonrpsee::ws_client::{WsClient, WsClientBuilder};
use pylon_devnet::{DevnetConfig, DevnetHandle, Scenario};
use scale_value::Value;
use serde_json::{json, Value as Json};
use subxt::backend::ChainHeadBackend;
use subxt::{dynamic, OnlineClient, SubstrateConfig};

type Client = OnlineClient<SubstrateConfig>;

const WAIT: Duration = Duration::from_secs(20);

async fn devnet() -> DevnetHandle {
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::ZERO,
        scenario: Scenario::builtin_default(),
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    node.seal_block().await;
    node
}

async fn ws(node: &DevnetHandle) -> WsClient {
    WsClientBuilder::default()
        .max_response_size(64 * 1024 * 1024)
        .build(node.ws_url())
        .await
        .unwrap()
}

fn list_len(value: &Value) -> usize {
    match &value.value {
        scale_value::ValueDef::Composite(c) => c.values().count(),
        other => panic!("not a list: {other:?}"),
    }
}

/// Every key under `prefix` at the best block, through the legacy paged method.
async fn legacy_keys(client: &WsClient, prefix: &str) -> usize {
    let mut count = 0;
    let mut start: Option<String> = None;
    loop {
        let page: Vec<String> = client
            .request(
                "state_getKeysPaged",
                rpc_params![prefix, 1000, start.clone()],
            )
            .await
            .unwrap();
        count += page.len();
        if page.len() < 1000 {
            return count;
        }
        start = page.last().cloned();
    }
}

/// Storage, a runtime API, a block body and new blocks, read the way any subxt user does.
async fn reads_and_follows(api: &Client, node: &DevnetHandle, raw: &WsClient) {
    let at = tokio::time::timeout(WAIT, api.at_current_block())
        .await
        .expect("the current block in time")
        .expect("the current block");
    assert_eq!(at.block_number(), u64::from(node.best_number()));

    let tempo: u16 = at
        .storage()
        .fetch(
            dynamic::storage::<(u16,), u16>("SubtensorModule", "Tempo"),
            (1u16,),
        )
        .await
        .expect("a storage value")
        .decode()
        .unwrap();
    assert!(tempo > 0);

    // An iteration over every subnet's keys: more than one page of `chainHead_v1_storage`
    // results, so the backend must `chainHead_v1_continue`.
    let mut keys = at
        .storage()
        .iter(
            dynamic::storage::<(u16, u16), Value>("SubtensorModule", "Keys"),
            (),
        )
        .await
        .expect("a storage iteration");
    let mut count = 0;
    while let Some(entry) = keys.next().await {
        entry.expect("an entry");
        count += 1;
    }
    let prefix = format!(
        "0x{}",
        hex::encode(
            at.storage()
                .entry(dynamic::storage::<(u16, u16), Value>(
                    "SubtensorModule",
                    "Keys"
                ))
                .unwrap()
                .key_prefix()
        )
    );
    assert_eq!(count, legacy_keys(raw, &prefix).await);
    assert!(count > pylon_devnet::rpc_v2::STORAGE_PAGE, "{count}");

    let neurons = at
        .runtime_apis()
        .call(dynamic::runtime_api_call::<_, Value>(
            "NeuronInfoRuntimeApi",
            "get_neurons_lite",
            (1u16,),
        ))
        .await
        .expect("a runtime API call");
    assert_eq!(list_len(&neurons), 256);

    let body = at.extrinsics().fetch().await.expect("the block body");
    assert_eq!(body.len(), 1, "the timestamp inherent");

    // New blocks, as sealed.
    let mut blocks = api.stream_blocks().await.expect("finalized blocks");
    let first = tokio::time::timeout(WAIT, blocks.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let mut last = first.number();
    for _ in 0..3 {
        let sealed = node.seal_block().await;
        let block = tokio::time::timeout(WAIT, blocks.next())
            .await
            .expect("a new block in time")
            .unwrap()
            .unwrap();
        assert_eq!(block.number(), last + 1);
        assert_eq!(block.number(), u64::from(sealed));
        last = block.number();
        // And the new block is readable.
        let at = block.at().await.expect("a client at the new block");
        let number: u32 = at
            .storage()
            .fetch(dynamic::storage::<(), u32>("System", "Number"), ())
            .await
            .unwrap()
            .decode()
            .unwrap();
        assert_eq!(u64::from(number), last);
    }
}

#[tokio::test]
async fn subxt_chain_head_backend_reads_storage_runtime_apis_and_follows_blocks() {
    let node = devnet().await;
    let raw = ws(&node).await;
    let rpc = subxt::rpcs::RpcClient::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let backend = ChainHeadBackend::<SubstrateConfig>::builder().build_with_background_driver(rpc);
    let api = Client::from_backend(Arc::new(backend))
        .await
        .expect("genesis through chainSpec_v1_genesisHash");
    reads_and_follows(&api, &node, &raw).await;
    node.stop().await;
}

#[tokio::test]
async fn subxt_default_backend_picks_the_new_api_and_works() {
    let node = devnet().await;
    let raw = ws(&node).await;
    let methods: Json = raw.request("rpc_methods", rpc_params![]).await.unwrap();
    let methods: Vec<&str> = methods["methods"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Json::as_str)
        .collect();
    for name in [
        "chainHead_v1_follow",
        "chainHead_v1_unfollow",
        "chainHead_v1_header",
        "chainHead_v1_body",
        "chainHead_v1_storage",
        "chainHead_v1_call",
        "chainHead_v1_unpin",
        "chainHead_v1_continue",
        "chainHead_v1_stopOperation",
        "archive_v1_genesisHash",
        "archive_v1_finalizedHeight",
        "archive_v1_hashByHeight",
        "archive_v1_header",
        "archive_v1_body",
        "archive_v1_call",
        "archive_v1_storage",
        "chainSpec_v1_genesisHash",
        "chain_getBlockHash",
        "state_call",
    ] {
        assert!(methods.contains(&name), "rpc_methods lacks {name}");
    }
    let rpc = subxt::rpcs::RpcClient::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let api = tokio::time::timeout(WAIT, Client::from_rpc_client(rpc))
        .await
        .expect("connects in time")
        .expect("connects");
    reads_and_follows(&api, &node, &raw).await;
    node.stop().await;
}

fn subscription_id(sub: &Subscription<Json>) -> String {
    match sub.kind() {
        SubscriptionKind::Subscription(SubscriptionId::Str(id)) => id.to_string(),
        other => panic!("Substrate subscription ids are strings, got {other:?}"),
    }
}

async fn next(sub: &mut Subscription<Json>) -> Json {
    tokio::time::timeout(WAIT, sub.next())
        .await
        .expect("an event in time")
        .expect("the subscription is open")
        .unwrap()
}

/// The next event of `operation`, skipping block events.
async fn next_of(sub: &mut Subscription<Json>, operation: &str) -> Json {
    loop {
        let event = next(sub).await;
        if event["operationId"] == operation {
            return event;
        }
    }
}

fn error_code<T: std::fmt::Debug>(result: Result<T, jsonrpsee::core::ClientError>) -> i32 {
    match result {
        Err(jsonrpsee::core::ClientError::Call(e)) => e.code(),
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn chain_head_follow_announces_blocks_runs_operations_and_pins() {
    let node = devnet().await;
    let client = ws(&node).await;
    let mut follow: Subscription<Json> = client
        .subscribe(
            "chainHead_v1_follow",
            rpc_params![true],
            "chainHead_v1_unfollow",
        )
        .await
        .unwrap();
    let id = subscription_id(&follow);

    let initialized = next(&mut follow).await;
    assert_eq!(initialized["event"], "initialized");
    let genesis_child: String = client
        .request("chain_getBlockHash", rpc_params![node.best_number()])
        .await
        .unwrap();
    assert_eq!(initialized["finalizedBlockHashes"], json!([genesis_child]));
    let runtime = &initialized["finalizedBlockRuntime"];
    assert_eq!(runtime["type"], "valid");
    let spec = runtime["spec"]["specVersion"].as_u64().unwrap();
    assert!(runtime["spec"]["apis"].is_object());

    // A sealed block: newBlock, then bestBlockChanged, then finalized, in that order.
    node.seal_block().await;
    let new_block = next(&mut follow).await;
    assert_eq!(new_block["event"], "newBlock");
    assert_eq!(new_block["parentBlockHash"], genesis_child);
    assert!(
        new_block["newRuntime"].is_null(),
        "same runtime as the parent"
    );
    let hash = new_block["blockHash"].as_str().unwrap().to_string();
    let best = next(&mut follow).await;
    assert_eq!(
        (best["event"].clone(), best["bestBlockHash"].clone()),
        (json!("bestBlockChanged"), json!(hash))
    );
    let finalized = next(&mut follow).await;
    assert_eq!(finalized["event"], "finalized");
    assert_eq!(finalized["finalizedBlockHashes"], json!([hash]));

    // Header: SCALE bytes of the pinned block.
    let header: String = client
        .request("chainHead_v1_header", rpc_params![&id, &hash])
        .await
        .unwrap();
    let legacy: Json = client
        .request("chain_getHeader", rpc_params![&hash])
        .await
        .unwrap();
    assert!(header.starts_with(legacy["parentHash"].as_str().unwrap()));
    // A stale subscription gets null; a block that is not pinned an error.
    let stale: Option<String> = client
        .request("chainHead_v1_header", rpc_params!["no-such-id", &hash])
        .await
        .unwrap();
    assert_eq!(stale, None);
    let unknown = format!("0x{}", "ab".repeat(32));
    assert_eq!(
        error_code(
            client
                .request::<Json, _>("chainHead_v1_header", rpc_params![&id, &unknown])
                .await
        ),
        -32801
    );

    // A runtime call: started with an operation id, its output as an event.
    let started: Json = client
        .request(
            "chainHead_v1_call",
            rpc_params![&id, &hash, "Core_version", "0x"],
        )
        .await
        .unwrap();
    assert_eq!(started["result"], "started");
    let operation = started["operationId"].as_str().unwrap().to_string();
    let done = next_of(&mut follow, &operation).await;
    assert_eq!(done["event"], "operationCallDone");
    let legacy_output: String = client
        .request("state_call", rpc_params!["Core_version", "0x", &hash])
        .await
        .unwrap();
    assert_eq!(done["output"], legacy_output);
    let started: Json = client
        .request(
            "chainHead_v1_call",
            rpc_params![&id, &hash, "NoSuchApi_nothing", "0x"],
        )
        .await
        .unwrap();
    let failed = next_of(&mut follow, started["operationId"].as_str().unwrap()).await;
    assert_eq!(failed["event"], "operationError");

    // The body.
    let started: Json = client
        .request("chainHead_v1_body", rpc_params![&id, &hash])
        .await
        .unwrap();
    let body = next_of(&mut follow, started["operationId"].as_str().unwrap()).await;
    assert_eq!(body["event"], "operationBodyDone");
    let legacy_block: Json = client
        .request("chain_getBlock", rpc_params![&hash])
        .await
        .unwrap();
    assert_eq!(body["value"], legacy_block["block"]["extrinsics"]);

    // The whole state, page by page: each page but the last waits for `continue`.
    let started: Json = client
        .request(
            "chainHead_v1_storage",
            rpc_params![
                &id,
                &hash,
                json!([{"key": "0x", "type": "descendantsValues"}])
            ],
        )
        .await
        .unwrap();
    let operation = started["operationId"].as_str().unwrap().to_string();
    let mut items = 0;
    let mut waits = 0;
    loop {
        let event = next_of(&mut follow, &operation).await;
        match event["event"].as_str().unwrap() {
            "operationStorageItems" => items += event["items"].as_array().unwrap().len(),
            "operationWaitingForContinue" => {
                waits += 1;
                let _: Json = client
                    .request("chainHead_v1_continue", rpc_params![&id, &operation])
                    .await
                    .unwrap();
            }
            "operationStorageDone" => break,
            other => panic!("unexpected {other}"),
        }
    }
    let legacy_hash: String = client
        .request("chain_getBlockHash", rpc_params![])
        .await
        .unwrap();
    assert_eq!(legacy_hash, hash);
    assert_eq!(items, legacy_keys(&client, "0x").await);
    assert_eq!(waits, (items - 1) / pylon_devnet::rpc_v2::STORAGE_PAGE);

    // Unpinned, a block is no longer served; unpinning it again is an error.
    let _: Json = client
        .request("chainHead_v1_unpin", rpc_params![&id, &genesis_child])
        .await
        .unwrap();
    assert_eq!(
        error_code(
            client
                .request::<Json, _>("chainHead_v1_header", rpc_params![&id, &genesis_child])
                .await
        ),
        -32801
    );
    assert_eq!(
        error_code(
            client
                .request::<Json, _>("chainHead_v1_unpin", rpc_params![&id, &genesis_child])
                .await
        ),
        -32801
    );

    // A runtime upgrade shows on the first block built with it.
    let _: Json = client
        .request("dev_runtimeUpgrade", rpc_params![])
        .await
        .unwrap();
    node.seal_block().await;
    let upgraded = loop {
        let event = next(&mut follow).await;
        if event["event"] == "newBlock" {
            break event;
        }
    };
    assert_eq!(upgraded["newRuntime"]["type"], "valid");
    assert!(
        upgraded["newRuntime"]["spec"]["specVersion"]
            .as_u64()
            .unwrap()
            > spec
    );
    node.stop().await;
}

#[tokio::test]
async fn archive_reads_any_block_by_height_or_hash() {
    let node = devnet().await;
    for _ in 0..3 {
        node.seal_block().await;
    }
    let client = ws(&node).await;
    let genesis: String = client
        .request("archive_v1_genesisHash", rpc_params![])
        .await
        .unwrap();
    let legacy_genesis: String = client
        .request("chain_getBlockHash", rpc_params![0])
        .await
        .unwrap();
    assert_eq!(genesis, legacy_genesis);
    let spec_genesis: String = client
        .request("chainSpec_v1_genesisHash", rpc_params![])
        .await
        .unwrap();
    assert_eq!(spec_genesis, genesis);
    let height: u32 = client
        .request("archive_v1_finalizedHeight", rpc_params![])
        .await
        .unwrap();
    assert_eq!(height, node.best_number());
    let hashes: Vec<String> = client
        .request("archive_v1_hashByHeight", rpc_params![2])
        .await
        .unwrap();
    let legacy_two: String = client
        .request("chain_getBlockHash", rpc_params![2])
        .await
        .unwrap();
    assert_eq!(hashes, vec![legacy_two.clone()]);
    let beyond: Vec<String> = client
        .request("archive_v1_hashByHeight", rpc_params![height + 10])
        .await
        .unwrap();
    assert!(beyond.is_empty());
    let header: Option<String> = client
        .request("archive_v1_header", rpc_params![&legacy_two])
        .await
        .unwrap();
    assert!(header.is_some());
    let unknown = format!("0x{}", "cd".repeat(32));
    let missing: Option<String> = client
        .request("archive_v1_header", rpc_params![&unknown])
        .await
        .unwrap();
    assert_eq!(missing, None);
    let body: Vec<String> = client
        .request("archive_v1_body", rpc_params![&legacy_two])
        .await
        .unwrap();
    assert_eq!(body.len(), 1);

    let call: Json = client
        .request(
            "archive_v1_call",
            rpc_params![&legacy_two, "Core_version", "0x"],
        )
        .await
        .unwrap();
    assert_eq!(call["success"], true);
    let legacy_output: String = client
        .request("state_call", rpc_params!["Core_version", "0x", &legacy_two])
        .await
        .unwrap();
    assert_eq!(call["value"], legacy_output);
    let failed: Json = client
        .request(
            "archive_v1_call",
            rpc_params![&legacy_two, "NoSuchApi_nothing", "0x"],
        )
        .await
        .unwrap();
    assert_eq!(failed["success"], false);

    // Storage at block 2: System.Number is 2 there.
    let number_key = format!(
        "0x{}{}",
        hex::encode(sp_crypto_hashing::twox_128(b"System")),
        hex::encode(sp_crypto_hashing::twox_128(b"Number"))
    );
    let mut storage: Subscription<Json> = client
        .subscribe(
            "archive_v1_storage",
            rpc_params![
                &legacy_two,
                json!([{"key": number_key, "type": "value"}]),
                None::<String>
            ],
            "archive_v1_stopStorage",
        )
        .await
        .unwrap();
    let item = next(&mut storage).await;
    assert_eq!(item["event"], "storage");
    assert_eq!(item["value"], "0x02000000");
    assert_eq!(next(&mut storage).await["event"], "storageDone");
    node.stop().await;
}

#[tokio::test]
async fn subxt_chain_head_backend_submits_through_transaction_watch() {
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::from_millis(100),
        scenario: Scenario::builtin_default(),
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    let rpc = subxt::rpcs::RpcClient::from_insecure_url(node.ws_url())
        .await
        .unwrap();
    let backend = ChainHeadBackend::<SubstrateConfig>::builder().build_with_background_driver(rpc);
    let api = Client::from_backend(Arc::new(backend)).await.unwrap();
    // //Alice validates subnet 3 (uid 0), whose weights have no rate limit.
    let payload = dynamic::transaction(
        "SubtensorModule",
        "set_weights",
        (3u16, vec![0u16, 1], vec![1u16, 1], 0u64),
    );
    let in_block = tokio::time::timeout(WAIT, async {
        api.at_current_block()
            .await
            .unwrap()
            .transactions()
            .sign_and_submit_then_watch_default(&payload, &subxt_signer::sr25519::dev::alice())
            .await
            .expect("transactionWatch_v1 accepts it")
            .wait_for_finalized()
            .await
            .expect("finalized")
    })
    .await
    .expect("included in time");
    // The block subxt names holds the extrinsic, where the legacy API says it is.
    let raw = ws(&node).await;
    let block: Json = raw
        .request(
            "chain_getBlock",
            rpc_params![format!("0x{}", hex::encode(in_block.block_hash()))],
        )
        .await
        .unwrap();
    let extrinsics = block["block"]["extrinsics"].as_array().unwrap();
    assert_eq!(extrinsics.len(), 2, "the inherent and ours");
    let events = in_block.fetch_events().await.expect("the block's events");
    let names: Vec<String> = events
        .iter()
        .map(|e| {
            let e = e.expect("an event decodes");
            format!("{}.{}", e.pallet_name(), e.event_name())
        })
        .collect();
    assert!(
        names.iter().any(|n| n == "System.ExtrinsicSuccess"),
        "{names:?}"
    );
    node.stop().await;
}
