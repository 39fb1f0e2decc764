//! What the integration tests of `pylon-chain` and `pylon-service` share: a devnet running a
//! scenario, a chain client connected to it, dev accounts' keys, addresses and keyfiles, and
//! reads of the devnet's storage made with subxt directly (not through the code under test).
//!
//! A dev-dependency only (`publish = false`).

use std::path::Path;
use std::time::Duration;

use pylon_chain::{ChainClient, ChainConfig, Network};
use pylon_devnet::{dev_keypair, DevnetConfig, DevnetHandle, Scenario};
use pylon_wallet::HotkeySigner;
use subxt::{dynamic, OnlineClient, SubstrateConfig};

/// How long a test waits for a chain client to connect.
pub const CONNECT_WAIT: Duration = Duration::from_secs(20);

/// `scenario` on any free port, a block every `block_time` (zero: only when the test seals one).
pub fn devnet_config(block_time: Duration, scenario: Scenario) -> DevnetConfig {
    DevnetConfig {
        port: 0,
        block_time,
        scenario,
        ..DevnetConfig::default()
    }
}

/// The built-in scenario on any port, blocks only when the test seals one.
pub fn manual_devnet_config() -> DevnetConfig {
    devnet_config(Duration::ZERO, Scenario::builtin_default())
}

/// A devnet as `config` says, with one block sealed (a live chain is never at genesis).
pub async fn devnet(config: DevnetConfig) -> DevnetHandle {
    let devnet = pylon_devnet::spawn(config).await.expect("devnet starts");
    devnet.seal_block().await;
    devnet
}

/// The built-in scenario made for weights tests: weights accepted at any block on every subnet,
/// and `short_epochs_netuid`'s tempo set to `tempo` so a commit-reveal comes within seconds.
pub fn weights_scenario(short_epochs_netuid: u16, tempo: u16) -> Scenario {
    let mut scenario = Scenario::builtin_default();
    for subnet in &mut scenario.subnets {
        subnet.hyperparameters.weights_rate_limit = 0;
        if subnet.netuid == short_epochs_netuid {
            subnet.hyperparameters.tempo = tempo;
        }
    }
    scenario
}

/// A chain client for `devnet` (no archive node), not yet waited for.
pub fn chain_client(devnet: &DevnetHandle) -> ChainClient {
    ChainClient::start(ChainConfig {
        network: Network::parse(&devnet.ws_url()).unwrap(),
        archive: None,
        archive_cutoff: 300,
    })
}

/// A chain client for `devnet`, connected (the test fails if it does not connect in time).
pub async fn ready_chain(devnet: &DevnetHandle) -> ChainClient {
    let chain = chain_client(devnet);
    assert!(chain.wait_ready(CONNECT_WAIT).await, "connects");
    chain
}

/// Wait until the chain client has seen a head numbered at least `number`.
pub async fn wait_for_block(chain: &ChainClient, number: u32) {
    let mut heads = chain.heads();
    while heads.borrow_and_update().as_ref().map_or(0, |b| b.number) < number {
        heads.changed().await.unwrap();
    }
}

/// A dev account's (`//Alice`, …) hotkey signer.
pub fn signer(uri: &str) -> HotkeySigner {
    HotkeySigner::from_private_key(&dev_keypair(uri).unwrap().secret_key_bytes())
        .expect("a valid sr25519 key")
}

/// A dev account's public key.
pub fn public_key(uri: &str) -> [u8; 32] {
    dev_keypair(uri).unwrap().public
}

/// The ss58 address of a dev account.
pub fn ss58(uri: &str) -> String {
    subxt::utils::AccountId32(public_key(uri)).to_string()
}

/// Write `uri`'s hotkey as `<wallets>/<wallet>/hotkeys/<hotkey>`, a standard keyfile.
pub fn write_dev_hotkey(wallets: &Path, wallet: &str, hotkey: &str, uri: &str) {
    let path = pylon_wallet::hotkey_path(wallets.to_str().unwrap(), wallet, hotkey);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    pylon_wallet::write_hotkey(&path, &signer(uri)).unwrap();
}

/// A wallet directory holding `w/hotkeys/h` = //Alice and `w/hotkeys/h2` = //Bob.
pub fn dev_wallets() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_dev_hotkey(dir.path(), "w", "h", "//Alice");
    write_dev_hotkey(dir.path(), "w", "h2", "//Bob");
    dir
}

/// A subxt client of the devnet's own, to check what the code under test wrote.
pub async fn subxt_api(devnet: &DevnetHandle) -> OnlineClient<SubstrateConfig> {
    OnlineClient::<SubstrateConfig>::from_insecure_url(devnet.ws_url())
        .await
        .expect("subxt connects")
}

/// `SubtensorModule.Weights[(netuid, uid)]` at the devnet's best block.
pub async fn stored_weights(devnet: &DevnetHandle, netuid: u16, uid: u16) -> Vec<(u16, u16)> {
    let at = subxt_api(devnet).await.at_current_block().await.unwrap();
    at.storage()
        .fetch(
            dynamic::storage::<(u16, u16), Vec<(u16, u16)>>("SubtensorModule", "Weights"),
            (netuid, uid),
        )
        .await
        .expect("Weights entry")
        .decode()
        .expect("Weights decodes")
}

/// An account's nonce at the devnet's best block: how many extrinsics it has had included.
pub async fn account_nonce(devnet: &DevnetHandle, account: [u8; 32]) -> u64 {
    subxt_api(devnet)
        .await
        .at_current_block()
        .await
        .unwrap()
        .transactions()
        .account_nonce(&subxt::utils::AccountId32(account))
        .await
        .unwrap()
}
