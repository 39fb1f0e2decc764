//! Transactions signed and submitted by subxt (its default `SubstrateConfig`, dev keys from
//! subxt-signer) to a spawned devnet: subxt's own encoding of the signed extensions and its own
//! decoding of storage, events and dispatch errors are the judge.

use std::time::Duration;

use pylon_devnet::{dev_keypair, DevnetConfig, DevnetHandle, Scenario};
use scale_value::{At, Value};
use subxt::config::DefaultExtrinsicParamsBuilder;
use subxt::{dynamic, OnlineClient, SubstrateConfig};
use subxt_signer::sr25519::{dev, Keypair};

const SCENARIO: &str = r#"
accounts = ["//Eve"]

[[subnets]]
netuid = 1
[subnets.hyperparameters]
tempo = 100
weights_version_key = 5
weights_rate_limit = 0
min_allowed_weights = 1
[[subnets.neurons]]
hotkey = "//Alice"
coldkey = "//Bob"
stake = 1000000000
validator_permit = true
[[subnets.neurons]]
hotkey = "//Charlie"
coldkey = "//Bob"
[[subnets.neurons]]
hotkey = "//Dave"
coldkey = "//Bob"

[[subnets]]
netuid = 2
[subnets.hyperparameters]
commit_reveal_weights_enabled = true
[[subnets.neurons]]
hotkey = "//Alice"
coldkey = "//Bob"
validator_permit = true
"#;

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

async fn devnet() -> (DevnetHandle, Client) {
    let scenario: Scenario = toml::from_str(SCENARIO).expect("scenario parses");
    let node = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        // Blocks keep coming so submitted transactions get included without a manual seal.
        block_time: Duration::from_millis(100),
        scenario,
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    let api = legacy_client(&node.ws_url()).await;
    (node, api)
}

fn set_weights(
    netuid: u16,
    dests: Vec<u16>,
    weights: Vec<u16>,
    version_key: u64,
) -> impl subxt::transactions::Payload {
    dynamic::transaction(
        "SubtensorModule",
        "set_weights",
        (netuid, dests, weights, version_key),
    )
}

/// Sign with subxt's defaults (mortal for 32 blocks, nonce from the node) and wait for the
/// finalized outcome as subxt reports it.
async fn submit(
    api: &Client,
    payload: &impl subxt::transactions::Payload,
    signer: &Keypair,
) -> Result<
    subxt::extrinsics::ExtrinsicEvents<SubstrateConfig>,
    subxt::error::TransactionFinalizedSuccessError,
> {
    let mut txs = api
        .at_current_block()
        .await
        .expect("current block")
        .transactions();
    txs.sign_and_submit_then_watch_default(payload, signer)
        .await
        .expect("the pool accepts the transaction")
        .wait_for_finalized_success()
        .await
}

/// The module error subxt decodes from `System.ExtrinsicFailed`, as "Pallet.Error".
fn module_error(err: subxt::error::TransactionFinalizedSuccessError) -> String {
    use subxt::error::{DispatchError, TransactionEventsError, TransactionFinalizedSuccessError};
    match err {
        TransactionFinalizedSuccessError::SuccessError(
            TransactionEventsError::ExtrinsicFailed(DispatchError::Module(module)),
        ) => {
            let details = module.details().expect("the metadata knows the error");
            format!("{}.{}", details.pallet.name(), details.variant.name)
        }
        other => panic!("expected a module error, got {other}"),
    }
}

#[tokio::test]
async fn subxt_set_weights_lands_in_weights_storage_with_its_event() {
    let (node, api) = devnet().await;
    let events = submit(
        &api,
        &set_weights(1, vec![1, 2], vec![1, 3], 5),
        &dev::alice(),
    )
    .await
    .expect("set_weights succeeds");
    let set = events
        .iter()
        .map(|e| e.expect("event decodes"))
        .find(|e| e.pallet_name() == "SubtensorModule" && e.event_name() == "WeightsSet");
    assert!(set.is_some(), "WeightsSet event");

    let at = api.at_current_block().await.unwrap();
    let stored = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, u16), Value>("SubtensorModule", "Weights"),
            (1u16, 0u16),
        )
        .await
        .expect("Weights entry")
        .decode()
        .expect("Weights decodes");
    let pairs: Vec<(u128, u128)> = (0..2)
        .map(|i| {
            let pair = stored.at(i).unwrap();
            (
                pair.at(0).unwrap().as_u128().unwrap(),
                pair.at(1).unwrap().as_u128().unwrap(),
            )
        })
        .collect();
    assert_eq!(pairs, vec![(1, 21845), (2, 65535)]);
    node.stop().await;
}

#[tokio::test]
async fn subxt_sees_subtensor_module_errors_for_broken_weights_rules() {
    let (node, api) = devnet().await;
    let cases = [
        (
            set_weights(1, vec![1, 2], vec![1, 1], 4),
            dev::alice(),
            "IncorrectWeightVersionKey",
        ),
        (
            set_weights(2, vec![0], vec![1], 0),
            dev::alice(),
            "CommitRevealEnabled",
        ),
        (
            set_weights(1, vec![1, 1], vec![1, 1], 5),
            dev::alice(),
            "DuplicateUids",
        ),
        (
            set_weights(1, vec![1, 2], vec![1], 5),
            dev::alice(),
            "WeightVecNotEqualSize",
        ),
        (
            set_weights(1, vec![0, 2], vec![1, 1], 5),
            dev::charlie(),
            "NeuronNoValidatorPermit",
        ),
        (
            set_weights(1, vec![1, 2], vec![1, 1], 5),
            dev::eve(),
            "HotKeyNotRegisteredInSubNet",
        ),
    ];
    for (payload, signer, expected) in cases {
        let err = match submit(&api, &payload, &signer).await {
            Ok(_) => panic!("{expected}: dispatch succeeded"),
            Err(e) => e,
        };
        assert_eq!(module_error(err), format!("SubtensorModule.{expected}"));
    }
    node.stop().await;
}

#[tokio::test]
async fn subxt_immortal_and_stale_nonce_transactions() {
    let (node, api) = devnet().await;
    let alice = dev::alice();
    let immortal = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
        .immortal()
        .build();
    let mut txs = api.at_current_block().await.unwrap().transactions();
    txs.sign_and_submit_then_watch(&set_weights(1, vec![0], vec![1], 5), &alice, immortal)
        .await
        .expect("immortal transaction accepted")
        .wait_for_finalized_success()
        .await
        .expect("self weight succeeds");

    // Nonce 0 is spent now: the node refuses the transaction as outdated.
    let stale = DefaultExtrinsicParamsBuilder::<SubstrateConfig>::new()
        .nonce(0)
        .build();
    let mut txs = api.at_current_block().await.unwrap().transactions();
    let err = match txs
        .sign_and_submit_then_watch(&set_weights(1, vec![0], vec![1], 5), &alice, stale)
        .await
    {
        Ok(_) => panic!("a stale nonce was accepted"),
        // subxt's Display leaves out the error data; its Debug shows code and data.
        Err(e) => format!("{e:?}"),
    };
    assert!(err.contains("1010"), "{err}");
    assert!(err.contains("Transaction is outdated"), "{err}");
    assert_eq!(dev_keypair("//Alice").unwrap().public, alice.public_key().0);
    node.stop().await;
}

fn num(v: &Value) -> u128 {
    v.as_u128().expect("a number")
}

/// A byte string as subxt decodes it: u8s, possibly wrapped in newtypes or variants.
fn bytes(v: &Value) -> Vec<u8> {
    fn walk(v: &Value, out: &mut Vec<u8>) {
        match &v.value {
            scale_value::ValueDef::Primitive(_) => out.push(v.as_u128().expect("a byte") as u8),
            scale_value::ValueDef::Composite(c) => c.values().for_each(|x| walk(x, out)),
            // Commitment `Data::RawN` fields carry their bytes inside the variant.
            scale_value::ValueDef::Variant(var) => var.values.values().for_each(|x| walk(x, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut out);
    out
}

/// Submit, wait for finality and success, and return the number of the including block.
async fn include(
    api: &Client,
    payload: &impl subxt::transactions::Payload,
    signer: &Keypair,
) -> u64 {
    let mut txs = api.at_current_block().await.unwrap().transactions();
    let in_block = txs
        .sign_and_submit_then_watch_default(payload, signer)
        .await
        .expect("the pool accepts the transaction")
        .wait_for_finalized()
        .await
        .expect("finalized");
    in_block
        .wait_for_success()
        .await
        .expect("dispatch succeeds");
    api.at_block(in_block.block_hash())
        .await
        .unwrap()
        .block_number()
}

#[tokio::test]
async fn subxt_crv4_commit_axon_tls_and_commitment_are_stored_as_subtensor_keys_them() {
    let (node, api) = devnet().await;
    let alice = dev::alice();
    let alice_id = alice.public_key().0;

    let commit = dynamic::transaction(
        "SubtensorModule",
        "commit_timelocked_weights",
        // A round far in the future: the pool refuses rounds whose pulse is already stored.
        (2u16, vec![7u8; 48], 1_000_000_000u64, 4u16),
    );
    let block = include(&api, &commit, &alice).await;
    // Netuid 2, tempo 360: epoch index (block + 3) / 361, the next one when this block runs it.
    let epoch = (block + 3) / 361 + u64::from((block + 3) % 361 == 360);
    let at = api.at_current_block().await.unwrap();
    let commits = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, u64), Value>("SubtensorModule", "TimelockedWeightCommits"),
            (2u16, epoch),
        )
        .await
        .expect("TimelockedWeightCommits entry")
        .decode()
        .expect("commits decode");
    let entry = commits.at(0).expect("one commit");
    assert_eq!(bytes(entry.at(0).unwrap()), alice_id);
    assert_eq!(num(entry.at(1).unwrap()), u128::from(block));
    assert_eq!(bytes(entry.at(2).unwrap()), vec![7u8; 48]);
    assert_eq!(num(entry.at(3).unwrap()), 1_000_000_000);

    let mut certificate = vec![1u8];
    certificate.extend([0xcd; 32]);
    let axon = dynamic::transaction(
        "SubtensorModule",
        "serve_axon_tls",
        (
            1u16,
            3u32,
            0x0a00_0005u128,
            8443u16,
            4u8,
            4u8,
            0u8,
            0u8,
            certificate,
        ),
    );
    let block = include(&api, &axon, &alice).await;
    let commitment = dynamic::transaction(
        "Commitments",
        "set_commitment",
        (
            1u16,
            Value::named_composite([(
                "fields",
                Value::unnamed_composite([Value::unnamed_variant(
                    "Raw5",
                    [Value::from_bytes(b"hello")],
                )]),
            )]),
        ),
    );
    let commit_block = include(&api, &commitment, &alice).await;

    let at = api.at_current_block().await.unwrap();
    let stored = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>("SubtensorModule", "Axons"),
            (1u16, alice_id),
        )
        .await
        .expect("Axons entry")
        .decode()
        .expect("AxonInfo decodes");
    assert_eq!(num(stored.at("port").unwrap()), 8443);
    assert_eq!(num(stored.at("ip").unwrap()), 0x0a00_0005);
    assert_eq!(num(stored.at("block").unwrap()), u128::from(block));
    let cert = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>("SubtensorModule", "NeuronCertificates"),
            (1u16, alice_id),
        )
        .await
        .expect("NeuronCertificates entry")
        .decode()
        .expect("certificate decodes");
    assert_eq!(num(cert.at("algorithm").unwrap()), 1);
    assert_eq!(bytes(cert.at("public_key").unwrap()), vec![0xcd; 32]);
    let registration = at
        .storage()
        .fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>("Commitments", "CommitmentOf"),
            (1u16, alice_id),
        )
        .await
        .expect("CommitmentOf entry")
        .decode()
        .expect("Registration decodes");
    assert_eq!(
        num(registration.at("block").unwrap()),
        u128::from(commit_block)
    );
    assert_eq!(
        bytes(registration.at("info").unwrap().at("fields").unwrap()),
        b"hello"
    );
    node.stop().await;
}
