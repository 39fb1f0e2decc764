//! The data routes beside the neurons, against the devnet: alpha prices (all subnets and one),
//! EVM associations, the drand round, and EVM logs through the devnet's `eth_getLogs`. Expected
//! values are the scenario's (prices worked out by hand from its pool reserves), the chain's own
//! storage read by subxt, and ABI encodings written out by hand here.

use std::time::Duration;

use crate::common;
use common::{devnet, local_settings, manual_devnet_config, request, serve};
use pylon_devnet::evm::{EvmLogSpec, EvmSpec};
use serde_json::{json, Value};

/// keccak-256("Transfer(address,address,uint256)").
const TRANSFER: &str = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";
/// keccak-256("Note(uint256,string,bytes32,int64)").
const NOTE: &str = "0xae9cfcabedff5b60b1072d426698d8511f83c81ab3efc0c3074aeff92bf82e48";
const TOKEN: &str = "0x00000000000000000000000000000000000000aa";
const OTHER: &str = "0x00000000000000000000000000000000000000bb";

fn word(hex_tail: &str) -> String {
    format!("{hex_tail:0>64}")
}

fn abi() -> Value {
    json!([
        {"type": "function", "name": "transfer", "stateMutability": "nonpayable",
         "inputs": [{"name": "to", "type": "address"}, {"name": "value", "type": "uint256"}],
         "outputs": [{"name": "", "type": "bool"}]},
        {"type": "event", "name": "Transfer", "anonymous": false, "inputs": [
            {"name": "from", "type": "address", "indexed": true},
            {"name": "to", "type": "address", "indexed": true},
            {"name": "value", "type": "uint256", "indexed": false}]},
        {"type": "event", "name": "Note", "anonymous": false, "inputs": [
            {"name": "id", "type": "uint256", "indexed": true},
            {"name": "text", "type": "string", "indexed": false},
            {"name": "tag", "type": "bytes32", "indexed": false},
            {"name": "delta", "type": "int64", "indexed": false}]}
    ])
}

fn evm_logs() -> EvmSpec {
    let log = |address: &str, topics: Vec<String>, data: String, block: u32| EvmLogSpec {
        address: address.into(),
        topics,
        data,
        block,
        transaction_index: 0,
        transaction_hash: None,
    };
    // Transfer(0x11…11 → 0x22…22, 10^24): 10^24 = 0xd3c21bcecceda1000000, above u64.
    let transfer = log(
        TOKEN,
        vec![
            TRANSFER.into(),
            format!("0x{}", word(&"11".repeat(20))),
            format!("0x{}", word(&"22".repeat(20))),
        ],
        format!("0x{}", word("d3c21bcecceda1000000")),
        2,
    );
    // Note(id 7, "hello", 0xab…ab, -5): head = [offset 0x60, tag, delta], tail = [5, "hello"].
    let note = log(
        TOKEN,
        vec![NOTE.into(), format!("0x{}", word("7"))],
        format!(
            "0x{}{}{}{}{:0<64}",
            word("60"),
            "ab".repeat(32),
            "f".repeat(63) + "b",
            word("5"),
            hex_of("hello")
        ),
        3,
    );
    let elsewhere = log(OTHER, transfer.topics.clone(), transfer.data.clone(), 2);
    // An event the ABI does not declare: skipped, as the reference skips it.
    let unknown = log(
        TOKEN,
        vec![format!("0x{}", "99".repeat(32))],
        "0x".into(),
        3,
    );
    EvmSpec {
        chain_id: 945,
        logs: vec![transfer, elsewhere, note, unknown],
    }
}

fn hex_of(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

async fn get(addr: std::net::SocketAddr, path: &str) -> (u16, Value) {
    common::get_json(addr, path, None).await
}

async fn logs(
    addr: std::net::SocketAddr,
    address: &str,
    query: &str,
    body: &Value,
) -> (u16, Value) {
    let reply = request(
        addr,
        "POST",
        &format!("/api/v1/evm/contracts/{address}/logs?{query}"),
        &["Content-Type: application/json".to_string()],
        body.to_string().as_bytes(),
    )
    .await;
    (reply.status, reply.json())
}

/// Seal blocks until the service's latest block is `number`.
async fn reach(devnet: &pylon_devnet::DevnetHandle, addr: std::net::SocketAddr, number: u32) {
    while devnet.best_number() < number {
        devnet.seal_block().await;
    }
    for _ in 0..200 {
        let (_, latest) = get(addr, "/api/v1/block/latest").await;
        if latest["number"] == json!(number) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the service never saw block {number}");
}

#[tokio::test]
async fn prices_associations_drand_and_evm_logs_match_the_chain() {
    let mut config = manual_devnet_config();
    config.scenario.evm = evm_logs();
    let devnet = devnet(config).await;
    let mut settings = local_settings(&devnet);
    settings.evm.rpc_url = Some(devnet.http_url());
    settings.evm.archive_rpc_url = None;
    let addr = serve(settings).await;
    reach(&devnet, addr, 3).await;

    // Prices: 1000/4000, 2000/9000 (U64F64-truncated), and 3000/6000 × 0.6/0.4.
    let expected = json!({"1": {"value": 250_000_000u64}, "2": {"value": 222_222_222u64},
                          "3": {"value": 750_000_000u64}});
    let (status, latest) = get(addr, "/api/v1/block/latest/prices").await;
    assert_eq!(status, 200, "{latest}");
    assert_eq!(latest["block"]["number"], json!(3));
    assert_eq!(latest["prices"], expected);
    let (status, at_one) = get(addr, "/api/v1/block/1/prices").await;
    assert_eq!(status, 200, "{at_one}");
    assert_eq!(at_one["block"]["number"], json!(1));
    assert_eq!(at_one["prices"], expected);
    let (status, future) = get(addr, "/api/v1/block/999/prices").await;
    assert_eq!(status, 404, "{future}");

    let (status, one) = get(addr, "/api/v1/subnet/3/block/latest/price").await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["netuid"], json!(3));
    assert_eq!(one["price"], json!({"value": 750_000_000u64}));
    let (status, one) = get(addr, "/api/v1/subnet/1/block/2/price").await;
    assert_eq!(
        (status, &one["price"]),
        (200, &json!({"value": 250_000_000u64}))
    );
    assert_eq!(one["block"]["number"], json!(2));
    let (status, missing) = get(addr, "/api/v1/subnet/77/block/latest/price").await;
    assert_eq!(status, 404, "{missing}");
    assert!(missing["detail"].as_str().unwrap().contains("77"));

    // EVM associations: the scenario's, by hotkey.
    let (status, evm) = get(addr, "/api/v1/subnet/1/block/latest/evm_associations").await;
    assert_eq!(status, 200, "{evm}");
    let alice = common::ss58("//Alice");
    let charlie = common::ss58("//Charlie");
    assert_eq!(
        evm["evm_associations"],
        json!({
            alice.clone(): {"hotkey": alice, "evm_address": format!("0x{}", "11".repeat(20)),
                            "last_block_where_ownership_was_proven": 1},
            charlie.clone(): {"hotkey": charlie, "evm_address": format!("0x{}", "31".repeat(20)),
                              "last_block_where_ownership_was_proven": 3},
        })
    );
    let (_, evm3) = get(addr, "/api/v1/subnet/3/block/latest/evm_associations").await;
    assert_eq!(evm3["evm_associations"].as_object().unwrap().len(), 1);

    // Drand: the chain's own Drand.LastStoredRound at the same block, read with subxt.
    let (status, drand) = get(addr, "/api/v1/block/latest/drand/last_stored_round").await;
    assert_eq!(status, 200, "{drand}");
    let api = subxt::OnlineClient::<subxt::SubstrateConfig>::from_insecure_url(devnet.ws_url())
        .await
        .unwrap();
    let stored: u64 = api
        .at_current_block()
        .await
        .unwrap()
        .storage()
        .fetch(
            subxt::dynamic::storage::<(), u64>("Drand", "LastStoredRound"),
            (),
        )
        .await
        .unwrap()
        .decode()
        .unwrap();
    assert!(stored > 0);
    assert_eq!(drand, json!({"last_stored_round": stored}));

    // EVM logs: the token's two decodable logs, decoded; the other contract's and the
    // undeclared event's are not there.
    let reply = request(
        addr,
        "POST",
        &format!("/api/v1/evm/contracts/{TOKEN}/logs?from_block=0&to_block=3"),
        &["Content-Type: application/json".to_string()],
        json!({"abi": abi()}).to_string().as_bytes(),
    )
    .await;
    let (status, found, raw) = (reply.status, reply.json(), reply.body.clone());
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        (found["from_block"].clone(), found["to_block"].clone()),
        (json!(0), json!(3))
    );
    let found = found["logs"].as_array().unwrap();
    assert_eq!(found.len(), 2, "{found:?}");
    assert_eq!(found[0]["event"], json!("Transfer"));
    assert_eq!(
        found[0]["args"]["from"],
        json!(format!("0x{}", "11".repeat(20)))
    );
    assert_eq!(
        found[0]["args"]["to"],
        json!(format!("0x{}", "22".repeat(20)))
    );
    // 10^24 is beyond u64: sent as exact JSON digits (serde_json reads it back only as f64).
    assert!(
        raw.contains(r#""value":1000000000000000000000000}"#),
        "{raw}"
    );
    assert_eq!(
        found[0]["address"],
        json!("0x00000000000000000000000000000000000000AA")
    );
    assert_eq!(
        (
            found[0]["block_number"].clone(),
            found[0]["log_index"].clone()
        ),
        (json!(2), json!(0))
    );
    assert_eq!(found[1]["event"], json!("Note"));
    assert_eq!(
        found[1]["args"],
        json!({"id": 7, "text": "hello", "tag": format!("0x{}", "ab".repeat(32)), "delta": -5})
    );
    assert_eq!(
        (
            found[1]["block_number"].clone(),
            found[1]["log_index"].clone()
        ),
        (json!(3), json!(0))
    );
    assert!(found[1]["transaction_hash"]
        .as_str()
        .unwrap()
        .starts_with("0x"));
    // The range is honoured.
    let (_, only_three) = logs(
        addr,
        TOKEN,
        "from_block=3&to_block=3",
        &json!({"abi": abi()}),
    )
    .await;
    assert_eq!(only_three["logs"].as_array().unwrap().len(), 1);

    // Bad input: precise 4xx, before the node is asked.
    let (status, bad) = logs(
        addr,
        "0x1234",
        "from_block=0&to_block=3",
        &json!({"abi": abi()}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("address"));
    let (status, bad) = logs(
        addr,
        TOKEN,
        "from_block=5&to_block=3",
        &json!({"abi": abi()}),
    )
    .await;
    assert_eq!(status, 400, "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("from_block 5"));
    let (status, bad) = logs(addr, TOKEN, "from_block=0", &json!({"abi": abi()})).await;
    assert_eq!(status, 400, "{bad}");
    let bad_abi = json!({"abi": [{"type": "event", "name": "Broken", "inputs": [{"name": "x", "type": "uint77"}]}]});
    let (status, bad) = logs(addr, TOKEN, "from_block=0&to_block=3", &bad_abi).await;
    assert_eq!(status, 422, "{bad}");
    assert!(bad["detail"].as_str().unwrap().contains("abi[0]"), "{bad}");
    let (status, bad) = logs(
        addr,
        TOKEN,
        "from_block=0&to_block=3",
        &json!({"abi": [abi()[0].clone()]}),
    )
    .await;
    assert_eq!(status, 422, "{bad}");
}

#[tokio::test]
async fn evm_logs_without_a_node_name_the_setting_and_a_dead_node_is_503() {
    let devnet = devnet(manual_devnet_config()).await;
    let settings = local_settings(&devnet);
    assert_eq!(settings.evm.rpc_url, None);
    let addr = serve(settings).await;
    let (status, body) = logs(
        addr,
        TOKEN,
        "from_block=0&to_block=1",
        &json!({"abi": abi()}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .contains("PYLON_EVM_RPC_URL"));

    // A node that is not there: a port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let mut settings = local_settings(&devnet);
    settings.evm.rpc_url = Some(dead);
    settings.evm.archive_rpc_url = None;
    let addr = serve(settings).await;
    let (status, body) = logs(
        addr,
        TOKEN,
        "from_block=0&to_block=1",
        &json!({"abi": abi()}),
    )
    .await;
    assert_eq!(status, 503, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("unreachable"),
        "{body}"
    );
}

/// A range across the archive cutoff is split: old blocks from the archive node, new ones from
/// the main node (two devnets that declare different logs tell them apart).
#[tokio::test]
async fn evm_ranges_split_between_archive_and_main_at_the_cutoff() {
    let transfer_at = |block: u32, amount: &str| EvmLogSpec {
        address: TOKEN.into(),
        topics: vec![
            TRANSFER.into(),
            format!("0x{}", word(&"11".repeat(20))),
            format!("0x{}", word(&"22".repeat(20))),
        ],
        data: format!("0x{}", word(amount)),
        block,
        transaction_index: 0,
        transaction_hash: None,
    };
    let spec = |amount: &str| EvmSpec {
        chain_id: 945,
        logs: (1..=6).map(|b| transfer_at(b, amount)).collect(),
    };
    let mut main_config = manual_devnet_config();
    main_config.scenario.evm = spec("1");
    let main = devnet(main_config).await;
    let mut archive_config = manual_devnet_config();
    archive_config.scenario.evm = spec("2");
    let archive = devnet(archive_config).await;
    for node in [&main, &archive] {
        while node.best_number() < 6 {
            node.seal_block().await;
        }
    }
    let mut settings = local_settings(&main);
    settings.evm.rpc_url = Some(main.http_url());
    settings.evm.archive_rpc_url = Some(archive.http_url());
    settings.evm.archive_blocks_cutoff = 2; // head 6: blocks ≤ 4 are the archive's
    let addr = serve(settings).await;
    let (status, found) = logs(
        addr,
        TOKEN,
        "from_block=1&to_block=6",
        &json!({"abi": abi()}),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    let values: Vec<(u64, u64)> = found["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["block_number"].as_u64().unwrap(),
                l["args"]["value"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(values, vec![(1, 2), (2, 2), (3, 2), (4, 2), (5, 1), (6, 1)]);
}
