//! `/api/_unstable` against a devnet: the published client 2.3.1's prefixes served by the same
//! tables as v1 (auth tiers and their 404/401/403/308 order, chain-level reads under both tiers),
//! its shapes where they differ from v1 (commitments as `CommitmentVariant`, the weights status),
//! certificates in bare hex, and commitment lists holding registered hotkeys only.

use std::net::SocketAddr;

mod common;

use common::{
    bearer, dev_wallets, devnet, identity, local_settings, manual_devnet_config, request, serve,
    ss58, Reply,
};
use pylon_devnet::scenario::{CommitmentSpec, KeySpec};
use pylon_devnet::DevnetHandle;
use pylon_service::Secret;
use serde_json::json;

const OPEN: &str = "open-token";
const IDENTITY: &str = "identity-token";
/// Not registered on any subnet, but with a commitment on netuid 1.
const STRANGER: &str = "//Stranger";

async fn get(addr: SocketAddr, path: &str, headers: &[String]) -> Reply {
    request(addr, "GET", path, headers, b"").await
}

async fn start() -> (DevnetHandle, SocketAddr, tempfile::TempDir) {
    let mut config = manual_devnet_config();
    config.scenario.subnets[0].commitments.push(CommitmentSpec {
        hotkey: KeySpec(STRANGER.into()),
        data: "left the subnet".into(),
        block: 0,
    });
    let devnet = devnet(config).await;
    let mut settings = local_settings(&devnet);
    settings.open_access_token = Secret::new(OPEN);
    let wallets = dev_wallets();
    settings.wallet_path = wallets.path().to_owned();
    settings.data_dir = wallets.path().join("data");
    settings.identities = vec![identity("validator", "h", 1, IDENTITY)];
    (devnet, serve(settings).await, wallets)
}

fn hex_of(text: &str) -> String {
    hex::encode(text.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unstable_prefixes_answer_with_the_clients_shapes_and_v1s_auth() {
    let (devnet, addr, _wallets) = start().await;
    let open = bearer(OPEN);
    let me = bearer(IDENTITY);
    let head = devnet.best_number();
    let alice = ss58("//Alice");

    // Public: the identities, as the client's first call of every identity method.
    let identities = get(addr, "/api/_unstable/identities", &[]).await;
    assert_eq!(identities.status, 200, "{}", identities.body);
    assert_eq!(identities.json(), json!({"identities": {"validator": 1}}));

    // Open access: same reads as v1, same bytes.
    let path = "/api/_unstable/openaccess/subnet/1/block/latest/neurons";
    let neurons = get(addr, path, &open).await;
    assert_eq!(neurons.status, 200, "{}", neurons.body);
    assert_eq!(neurons.json()["neurons"].as_object().unwrap().len(), 256);
    let v1 = get(addr, "/api/v1/subnet/1/block/latest/neurons", &open).await;
    assert_eq!(v1.body, neurons.body);
    assert_eq!(get(addr, path, &[]).await.status, 401);
    assert_eq!(get(addr, path, &bearer("wrong")).await.status, 403);
    // The identity's token is not the open-access one.
    assert_eq!(get(addr, path, &me).await.status, 403);

    // Identity: unknown identity 404 (before the token), 401, 403, then the netuid's 308.
    let mine = "/api/_unstable/identity/validator/subnet/1/block/latest/validators";
    let reply = get(addr, mine, &me).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(!reply.json()["validators"].as_array().unwrap().is_empty());
    let unknown = get(
        addr,
        "/api/_unstable/identity/nobody/subnet/1/block/latest/validators",
        &[],
    )
    .await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);
    assert_eq!(get(addr, mine, &[]).await.status, 401);
    assert_eq!(get(addr, mine, &open).await.status, 403);
    let elsewhere = get(
        addr,
        "/api/_unstable/identity/validator/subnet/2/block/latest/validators",
        &me,
    )
    .await;
    assert_eq!(elsewhere.status, 308, "{}", elsewhere.body);
    assert_eq!(elsewhere.header("location").as_deref(), Some(mine));

    // Chain-level reads: under openaccess/ and under identity/{name}/, each with its token.
    for (path, token) in [
        ("/api/_unstable/openaccess/block/latest", &open),
        ("/api/_unstable/identity/validator/block/latest", &me),
    ] {
        let block = get(addr, path, token).await;
        assert_eq!(block.status, 200, "{path}: {}", block.body);
        assert!(block.json()["number"].as_u64().unwrap() >= u64::from(head));
        assert!(block.json()["timestamp"].as_u64().unwrap() > 0);
    }
    assert_eq!(
        get(
            addr,
            "/api/_unstable/identity/validator/block/latest",
            &open
        )
        .await
        .status,
        403
    );
    let xt = get(
        addr,
        "/api/_unstable/identity/validator/block/1/extrinsic/0",
        &me,
    )
    .await;
    assert_eq!(xt.status, 200, "{}", xt.body);
    assert_eq!(xt.json()["call"]["call_module"], "Timestamp");

    // Certificates: bare hex, and the list a bare map by hotkey.
    let all = get(
        addr,
        "/api/_unstable/openaccess/subnet/1/block/latest/certificates",
        &open,
    )
    .await;
    assert_eq!(all.status, 200, "{}", all.body);
    assert_eq!(
        all.json()[&alice],
        json!({"algorithm": 1, "public_key": "ab".repeat(32)})
    );
    assert!(all.json().get("block").is_none());
    let own = get(
        addr,
        "/api/_unstable/identity/validator/subnet/1/block/latest/certificates/self",
        &me,
    )
    .await;
    assert_eq!(own.json()["public_key"], "ab".repeat(32));

    // Commitments: the kind-discriminated variant; the list holds registered hotkeys only.
    let expected = json!({
        "kind": "hex_data",
        "hotkey": alice,
        "commitment_block_number": 0,
        "commitment": format!("0x{}", hex_of("pylon-devnet commitment for netuid 1")),
    });
    let list = get(
        addr,
        "/api/_unstable/openaccess/subnet/1/block/latest/commitments",
        &open,
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.body);
    let body = list.json();
    assert_eq!(body["block"]["number"], head);
    assert_eq!(body["commitments"], json!({ &alice: expected.clone() }));
    let v1_list = get(addr, "/api/v1/subnet/1/block/latest/commitments", &open).await;
    let v1_list = v1_list.json();
    assert!(v1_list["commitments"].get(ss58(STRANGER)).is_none());
    assert!(v1_list["commitments"].get(&alice).is_some());
    // A hotkey's own read still finds it (the reference filters lists only).
    let stranger = get(
        addr,
        &format!(
            "/api/_unstable/openaccess/subnet/1/block/latest/commitments/{}",
            ss58(STRANGER)
        ),
        &open,
    )
    .await;
    assert_eq!(stranger.status, 200, "{}", stranger.body);
    assert_eq!(
        stranger.json()["commitment"]["commitment"],
        format!("0x{}", hex_of("left the subnet"))
    );
    let own = get(
        addr,
        "/api/_unstable/identity/validator/subnet/1/block/latest/commitments/self",
        &me,
    )
    .await;
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["commitment"], expected);
    assert_eq!(own.json()["block"]["number"], head);

    // Weights status of an epoch: nothing submitted yet.
    let status = get(
        addr,
        &format!(
            "/api/_unstable/identity/validator/subnet/1/mechanism/0/block/{head}/weights/status"
        ),
        &me,
    )
    .await;
    assert_eq!(status.status, 200, "{}", status.body);
    assert_eq!(status.json(), json!({"weights_submitted": false}));

    // `self` and writes are identity routes: open access answers 404 naming them.
    let open_self = get(
        addr,
        "/api/_unstable/openaccess/subnet/1/block/latest/commitments/self",
        &open,
    )
    .await;
    assert_eq!(open_self.status, 404, "{}", open_self.body);
    let write = request(
        addr,
        "PUT",
        "/api/_unstable/openaccess/subnet/1/mechanism/0/weights",
        &open,
        br#"{"weights": {}}"#,
    )
    .await;
    assert_eq!(write.status, 404, "{}", write.body);
    assert!(write.body.contains("identity"), "{}", write.body);
    devnet.stop().await;
}
