//! `pylon dev`: the one-command quick start — an embedded local chain, a dev validator wallet, and the
//! service wired to both.
//!
//! Its first stdout lines are `KEY=value` pairs (URLs, tokens, the dev identity) so scripts and tests can
//! start it on free ports; a human-readable banner with a working `curl` line follows.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use anyhow::Context;

use crate::cli::DevArgs;

/// The dev identity: //Alice, a validator of netuid 1 in the built-in scenario.
const IDENTITY: &str = "dev";
const IDENTITY_NETUID: u16 = 1;
const HOTKEY_URI: &str = "//Alice";
const WALLET_NAME: &str = "pylon-dev";
const HOTKEY_NAME: &str = "validator";

pub async fn run(args: DevArgs) -> anyhow::Result<()> {
    let chain = pylon_devnet::spawn(pylon_devnet::DevnetConfig {
        host: std::net::Ipv4Addr::LOCALHOST.into(),
        port: args.chain_port,
        block_time: args.chain.block_time,
        scenario: match &args.chain.scenario {
            Some(path) => pylon_devnet::Scenario::from_path(path)?,
            None => pylon_devnet::Scenario::builtin_default(),
        },
        state_pruning: None,
        runtime: args.chain.runtime,
    })
    .await?;

    // Start from a sealed block rather than genesis: a live chain is never at block 0, and readers
    // expect a timestamped head.
    chain.seal_block().await;

    let wallets = args.data_dir.join("wallets");
    let hotkey = write_dev_hotkey(&wallets)?;
    // Every `pylon dev` starts a new chain, so weights jobs of an earlier run belong to a chain that
    // is gone: start with an empty job store.
    let data = args.data_dir.join("data");
    let jobs = data.join(pylon_service::writes::JOBS_FILE);
    if jobs.exists() {
        std::fs::remove_file(&jobs).with_context(|| format!("removing {}", jobs.display()))?;
    }

    // Tokens: the caller's when given (stable across restarts), fresh random ones otherwise.
    let open_access_token = env_or_random("PYLON_OPEN_ACCESS_TOKEN")?;
    let identity_token = env_or_random("PYLON_ID_DEV_TOKEN")?;
    let metrics_token = env_or_random("PYLON_METRICS_TOKEN")?;

    let vars: HashMap<String, String> = [
        ("PYLON_BITTENSOR_NETWORK", chain.ws_url()),
        ("PYLON_BITTENSOR_ARCHIVE_NETWORK", "none".to_owned()),
        // The devnet serves the EVM JSON-RPC (eth_getLogs) on the same port, as a subtensor node does.
        ("PYLON_EVM_RPC_URL", chain.http_url()),
        ("PYLON_EVM_ARCHIVE_RPC_URL", "none".to_owned()),
        ("PYLON_BITTENSOR_WALLET_PATH", wallets.display().to_string()),
        ("PYLON_DATA_DIR", data.display().to_string()),
        ("PYLON_IDENTITIES", format!("[\"{IDENTITY}\"]")),
        ("PYLON_ID_DEV_WALLET_NAME", WALLET_NAME.to_owned()),
        ("PYLON_ID_DEV_HOTKEY_NAME", HOTKEY_NAME.to_owned()),
        ("PYLON_ID_DEV_NETUID", IDENTITY_NETUID.to_string()),
        ("PYLON_ID_DEV_TOKEN", identity_token.clone()),
        ("PYLON_OPEN_ACCESS_TOKEN", open_access_token.clone()),
        ("PYLON_METRICS_TOKEN", metrics_token.clone()),
        ("PYLON_HOST", args.host.to_string()),
        ("PYLON_PORT", args.port.to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let settings = pylon_service::Settings::from_vars(&vars).context("dev settings")?;
    let service = pylon_service::Service::bind(settings).await?;
    // Print the URLs only once the service can answer from the chain: a script reading them may call at once.
    service
        .wait_chain_ready(std::time::Duration::from_secs(30))
        .await;
    let url = format!("http://{}", service.local_addr());

    // Machine-readable lines first (tests and scripts parse them), then the human banner.
    println!("PYLON_DEV_CHAIN={}", chain.ws_url());
    println!("PYLON_DEV_EVM_RPC_URL={}", chain.http_url());
    println!("PYLON_DEV_URL={url}");
    println!("PYLON_OPEN_ACCESS_TOKEN={open_access_token}");
    println!("PYLON_DEV_IDENTITY={IDENTITY}");
    println!("PYLON_DEV_IDENTITY_TOKEN={identity_token}");
    println!("PYLON_DEV_IDENTITY_NETUID={IDENTITY_NETUID}");
    println!("PYLON_DEV_IDENTITY_HOTKEY={hotkey}");
    println!("PYLON_METRICS_TOKEN={metrics_token}");
    println!();
    println!("Pylon is running against a local chain (Ctrl-C stops both).");
    println!("  neurons: curl -H 'Authorization: Bearer {open_access_token}' {url}/api/v1/subnet/{IDENTITY_NETUID}/block/latest/neurons");
    println!("  weights: curl -X PUT -H 'Authorization: Bearer {identity_token}' -H 'Content-Type: application/json' -d '{{\"weights\": {{\"{hotkey}\": 1.0}}}}' {url}/api/v1/identity/{IDENTITY}/subnet/{IDENTITY_NETUID}/weights");
    println!("  weights status: curl -H 'Authorization: Bearer {identity_token}' {url}/api/v1/identity/{IDENTITY}/subnet/{IDENTITY_NETUID}/weights/status");
    println!("  API docs: {url}/schema/swagger");
    println!("  metrics: curl -H 'Authorization: Bearer {metrics_token}' {url}/metrics  (health: {url}/health, readiness: {url}/ready)");
    println!(
        "  dev wallet: {} (hotkey {hotkey})",
        wallets.join(WALLET_NAME).display()
    );

    service.serve(crate::shutdown_signal()).await?;
    chain.stop().await;
    Ok(())
}

/// Write //Alice's hotkey as a standard Bittensor keyfile the service (and btcli) can load.
fn write_dev_hotkey(wallets: &Path) -> anyhow::Result<String> {
    let keypair = pylon_devnet::dev_keypair(HOTKEY_URI)?;
    let signer = pylon_wallet::HotkeySigner::from_private_key(&keypair.secret_key_bytes())
        .context("dev key is a valid sr25519 key")?;
    let path = pylon_wallet::hotkey_path(&wallets.display().to_string(), WALLET_NAME, HOTKEY_NAME);
    pylon_wallet::write_hotkey(&path, &signer)?;
    Ok(signer.ss58_address())
}

fn env_or_random(variable: &str) -> anyhow::Result<String> {
    if let Ok(value) = std::env::var(variable) {
        if !value.is_empty() {
            return Ok(value);
        }
    }
    let mut bytes = [0u8; 24];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .context("reading /dev/urandom for a dev token")?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
