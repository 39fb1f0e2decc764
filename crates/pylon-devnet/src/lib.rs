//! `pylon devnet`: a local chain that speaks Substrate JSON-RPC with subtensor's real metadata.
//!
//! Start one in-process with [`spawn`] (port 0 picks a free port) and point any Substrate client
//! at [`DevnetHandle::ws_url`]. See docs/DEVNET.md for scenarios, admin RPCs and fidelity notes.

pub mod blocks;
pub mod chain;
pub mod codec;
mod counting;
pub mod drand;
pub mod epochs;
pub mod evm;
pub mod extrinsics;
pub mod genesis;
pub mod keys;
pub mod metadata;
pub mod migrations;
pub mod node;
pub mod rpc;
pub mod rpc_v2;
pub mod runtime_api;
pub mod scenario;
pub mod state_access;
pub mod storage;
pub mod version;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::server::{Server, ServerHandle};
use tokio::sync::Mutex as AsyncMutex;

pub use keys::{dev_keypair, DevKeypair};
pub use scenario::Scenario;
pub use version::RuntimeSpec;

use crate::chain::Chain;
use crate::node::{now_ms, Node};

#[derive(Debug, Clone)]
pub struct DevnetConfig {
    pub host: IpAddr,
    /// 0 = an ephemeral port (read it back from [`DevnetHandle::local_addr`]).
    pub port: u16,
    /// Time between blocks; zero = manual sealing (`dev_newBlock` or [`DevnetHandle::seal_block`]).
    pub block_time: Duration,
    pub scenario: Scenario,
    /// Keep state for only the last N blocks; older state answers like a pruned node.
    pub state_pruning: Option<u32>,
    /// The runtime to start with; `None` takes the scenario's `runtime`, else spec 424.
    pub runtime: Option<RuntimeSpec>,
}

impl Default for DevnetConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 9944,
            block_time: Duration::from_secs(1),
            scenario: Scenario::builtin_default(),
            state_pruning: None,
            runtime: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DevnetError {
    #[error("cannot load the chain metadata: {0}")]
    Metadata(#[from] metadata::MetadataError),
    #[error("bad scenario: {0}")]
    Scenario(#[from] scenario::ScenarioError),
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
}

/// A running devnet. Dropping it does not stop it; call [`DevnetHandle::stop`].
pub struct DevnetHandle {
    node: Arc<Node>,
    addr: SocketAddr,
    server: Arc<AsyncMutex<Option<ServerHandle>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for DevnetHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DevnetHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl DevnetHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn ws_url(&self) -> String {
        format!("ws://{}", self.addr)
    }

    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Total JSON-RPC requests received that named a method, known or not (a subscription counts
    /// once, when opened; unparseable JSON is not counted).
    pub fn rpc_call_count(&self) -> u64 {
        self.node.rpc_calls.load(Ordering::Relaxed)
    }

    /// Seal one block now (with whatever is in the pool); returns its number.
    pub async fn seal_block(&self) -> u32 {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || node.seal_block().number)
            .await
            .expect("sealing does not panic")
    }

    pub fn best_number(&self) -> u32 {
        self.node.best_number()
    }

    pub async fn stop(self) {
        for task in &self.tasks {
            task.abort();
        }
        if let Some(server) = self.server.lock().await.take() {
            let _ = server.stop();
            server.stopped().await;
        }
    }
}

async fn start_server(
    node: &Arc<Node>,
    addr: SocketAddr,
) -> Result<(SocketAddr, ServerHandle), DevnetError> {
    let bind_err = |e: std::io::Error| DevnetError::Bind {
        addr,
        reason: e.to_string(),
    };
    let config = jsonrpsee::server::ServerConfig::builder()
        .max_response_body_size(64 * 1024 * 1024)
        .max_connections(1024)
        // String subscription ids, as Substrate nodes give (subxt's chainHead backend needs them).
        .set_id_provider(jsonrpsee::server::RandomStringIdProvider::new(16))
        .build();
    let counter = node.rpc_calls.clone();
    let rpc_middleware =
        jsonrpsee::server::middleware::rpc::RpcServiceBuilder::new().layer_fn(move |inner| {
            counting::Counting {
                inner,
                counter: counter.clone(),
            }
        });
    let server = Server::builder()
        .set_config(config)
        .set_rpc_middleware(rpc_middleware)
        .build(addr)
        .await
        .map_err(bind_err)?;
    let local = server.local_addr().map_err(bind_err)?;
    Ok((local, server.start(rpc::module(node.clone()))))
}

/// Start a devnet on the current tokio runtime.
pub async fn spawn(config: DevnetConfig) -> Result<DevnetHandle, DevnetError> {
    let runtime = config
        .runtime
        .or(config.scenario.runtime)
        .unwrap_or_default();
    let meta = Arc::new(runtime.metadata()?);
    let chain = Chain::new(meta, &config.scenario, config.state_pruning, now_ms())?;
    let node = Node::new(chain);
    let (addr, handle) = start_server(&node, SocketAddr::new(config.host, config.port)).await?;
    let server = Arc::new(AsyncMutex::new(Some(handle)));
    let mut tasks = Vec::new();

    if !config.block_time.is_zero() {
        let node = node.clone();
        let block_time = config.block_time;
        tasks.push(tokio::spawn(async move {
            let mut ticks = tokio::time::interval(block_time);
            ticks.tick().await;
            loop {
                ticks.tick().await;
                let node = node.clone();
                let _ = tokio::task::spawn_blocking(move || node.seal_block()).await;
            }
        }));
    }

    // dev_dropConnections: stop the server (closing every connection) and listen again on the
    // same address, like a node restart seen from the clients.
    {
        let node = node.clone();
        let server = server.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                node.drop_connections.notified().await;
                // Let the admin call's own response go out first.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let mut guard = server.lock().await;
                if let Some(old) = guard.take() {
                    let _ = old.stop();
                    old.stopped().await;
                }
                for _ in 0..50 {
                    match start_server(&node, addr).await {
                        Ok((_, handle)) => {
                            *guard = Some(handle);
                            break;
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
                    }
                }
            }
        }));
    }

    Ok(DevnetHandle {
        node,
        addr,
        server,
        tasks,
    })
}

/// Run a devnet until Ctrl-C (the `pylon devnet` command). Prints `listening on ws://…` first.
pub async fn run_until_ctrl_c(config: DevnetConfig) -> Result<(), DevnetError> {
    let handle = spawn(config).await?;
    println!("listening on {}", handle.ws_url());
    let _ = tokio::signal::ctrl_c().await;
    handle.stop().await;
    Ok(())
}
