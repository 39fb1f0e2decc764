//! CRv4 end to end against a spawned devnet (default scenario, netuid 2 has commit-reveal on):
//! subxt reads the beacon key from `Drand.BeaconConfig`, dev keys commit timelocked weights
//! encrypted with `pylon_timelock`, and the chain's auto-reveal is judged by what subxt decodes
//! from `Weights`, `TimelockedWeightCommits` and the block events.

use std::time::Duration;

use parity_scale_codec::Encode;
use pylon_devnet::DevnetConfig;
use scale_value::{At, Value};
use subxt::{dynamic, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::{dev, Keypair};

type Client = OnlineClient<SubstrateConfig>;

/// subxt on the legacy methods. The devnet also offers chainHead_v1 (as nodes do), and subxt's
/// default backend would then take "the current block" from its follow subscription, which
/// catches up with a block just sealed only a moment later: these tests read right after sealing.
async fn legacy_client(url: &str) -> Client {
    let rpc = subxt::rpcs::RpcClient::from_insecure_url(url)
        .await
        .expect("subxt connects");
    let backend = subxt::backend::LegacyBackend::<SubstrateConfig>::builder().build(rpc);
    Client::from_backend(std::sync::Arc::new(backend))
        .await
        .expect("subxt connects")
}

const NETUID: u16 = 2;

/// A byte string as subxt decodes it: u8s, possibly wrapped in newtypes.
fn bytes(v: &Value) -> Vec<u8> {
    fn walk(v: &Value, out: &mut Vec<u8>) {
        match &v.value {
            scale_value::ValueDef::Primitive(_) => out.push(v.as_u128().expect("a byte") as u8),
            scale_value::ValueDef::Composite(c) => c.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

async fn plain(api: &Client, pallet: &str, item: &str) -> Value {
    api.at_current_block()
        .await
        .unwrap()
        .storage()
        .fetch(dynamic::storage::<(), Value>(pallet, item), ())
        .await
        .unwrap_or_else(|e| panic!("{pallet}.{item}: {e}"))
        .decode()
        .unwrap()
}

async fn per_subnet(api: &Client, item: &str) -> u128 {
    api.at_current_block()
        .await
        .unwrap()
        .storage()
        .fetch(
            dynamic::storage::<(u16,), Value>("SubtensorModule", item),
            (NETUID,),
        )
        .await
        .unwrap()
        .decode()
        .unwrap()
        .as_u128()
        .unwrap()
}

async fn last_stored_round(api: &Client) -> u64 {
    plain(api, "Drand", "LastStoredRound")
        .await
        .as_u128()
        .unwrap() as u64
}

/// The `Weights[2][uid]` row as (uid, weight) pairs.
async fn weights_row(api: &Client, uid: u16) -> Vec<(u16, u16)> {
    api.at_current_block()
        .await
        .unwrap()
        .storage()
        .fetch(
            dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights"),
            (NETUID, uid),
        )
        .await
        .expect("Weights has a default")
        .decode()
        .unwrap()
}

/// Commits waiting in `TimelockedWeightCommits` for netuid 2, over all epochs.
async fn pending_commits(api: &Client) -> usize {
    let at = api.at_current_block().await.unwrap();
    let mut entries = at
        .storage()
        .iter(
            dynamic::storage::<(u16, u64), Value>("SubtensorModule", "TimelockedWeightCommits"),
            (NETUID,),
        )
        .await
        .unwrap();
    let mut count = 0;
    while let Some(entry) = entries.next().await {
        let list = entry.unwrap().value().decode().unwrap();
        let scale_value::ValueDef::Composite(items) = list.value else {
            panic!("a list of commits")
        };
        count += items.len();
    }
    count
}

/// Hotkeys named by `TimelockedWeightsRevealed` events of the current block.
async fn revealed_in_current_block(api: &Client) -> Vec<Vec<u8>> {
    let events = api
        .at_current_block()
        .await
        .unwrap()
        .events()
        .fetch()
        .await
        .unwrap();
    events
        .iter()
        .map(|e| e.expect("event decodes"))
        .filter(|e| {
            e.pallet_name() == "SubtensorModule" && e.event_name() == "TimelockedWeightsRevealed"
        })
        .map(|e| {
            let fields = e.decode_fields_unchecked_as::<Value>().unwrap();
            bytes(fields.at(1).expect("the hotkey field"))
        })
        .collect()
}

/// The SCALE `WeightsTlockPayload { hotkey, uids, values, version_key }` the SDK encrypts.
fn payload(hotkey: &Keypair, uids: &[u16], values: &[u16], version_key: u64) -> Vec<u8> {
    (
        hotkey.public_key().0.to_vec(),
        uids.to_vec(),
        values.to_vec(),
        version_key,
    )
        .encode()
}

async fn commit(api: &Client, signer: &Keypair, ciphertext: Vec<u8>, round: u64, version: u16) {
    let call = dynamic::transaction(
        "SubtensorModule",
        "commit_timelocked_weights",
        (NETUID, ciphertext, round, version),
    );
    api.tx()
        .await
        .unwrap()
        .sign_and_submit_default(&call, signer)
        .await
        .expect("the pool accepts the commit");
}

#[tokio::test]
async fn timelocked_commits_open_at_their_round_and_undecryptable_ones_are_dropped() {
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        // Manual sealing: the test walks the chain to the reveal epoch itself.
        block_time: Duration::ZERO,
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    node.seal_block().await;
    let api = legacy_client(&node.ws_url()).await;

    let config = plain(&api, "Drand", "BeaconConfig").await;
    let beacon_key = bytes(config.at("public_key").expect("BeaconConfig.public_key"));
    assert_eq!(beacon_key.len(), 96, "a compressed G2 key");
    let version_key = per_subnet(&api, "WeightsVersionKey").await as u64;
    let cr_version = plain(&api, "SubtensorModule", "CommitRevealWeightsVersion")
        .await
        .as_u128()
        .unwrap() as u16;
    // Two rounds (6 s) ahead: still in the future when the commit block is sealed.
    let round = last_stored_round(&api).await + 2;

    // //Alice, //Bob and //Charlie validate netuid 2 (uids 0, 1, 2).
    let (alice, bob, charlie) = (dev::alice(), dev::bob(), dev::charlie());
    let good = pylon_timelock::encrypt(
        &payload(&alice, &[1, 3], &[1, 3], version_key),
        &beacon_key,
        round,
    )
    .unwrap();
    commit(&api, &alice, good, round, cr_version).await;
    let other_key =
        pylon_timelock::SimulatedBeacon::from_seed(b"not the devnet's beacon").public_key();
    let wrong_key = pylon_timelock::encrypt(
        &payload(&bob, &[0, 3], &[1, 1], version_key),
        &other_key,
        round,
    )
    .unwrap();
    commit(&api, &bob, wrong_key, round, cr_version).await;
    let wrong_round = pylon_timelock::encrypt(
        &payload(&charlie, &[0, 3], &[1, 1], version_key),
        &beacon_key,
        round + 5,
    )
    .unwrap();
    commit(&api, &charlie, wrong_round, round, cr_version).await;
    node.seal_block().await;
    assert_eq!(
        pending_commits(&api).await,
        3,
        "all three commits are stored"
    );

    // Rounds follow the wall clock: let the reveal round's pulse arrive.
    for _ in 0..60 {
        if last_stored_round(&api).await >= round {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        node.seal_block().await;
    }
    assert!(last_stored_round(&api).await >= round, "the pulse arrived");

    // Then walk into the reveal epoch (at most two epochs away), where the chain opens them.
    let tempo = per_subnet(&api, "Tempo").await as usize;
    let mut revealed = Vec::new();
    for _ in 0..2 * (tempo + 1) {
        if pending_commits(&api).await == 0 {
            break;
        }
        node.seal_block().await;
        revealed.extend(revealed_in_current_block(&api).await);
    }
    assert_eq!(pending_commits(&api).await, 0, "every commit was handled");
    assert_eq!(revealed, vec![alice.public_key().0.to_vec()]);
    assert_eq!(weights_row(&api, 0).await, vec![(1, 21845), (3, 65535)]);
    assert_eq!(weights_row(&api, 1).await, vec![], "wrong key: dropped");
    assert_eq!(weights_row(&api, 2).await, vec![], "wrong round: dropped");
    node.stop().await;
}
