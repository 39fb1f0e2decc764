//! One node: connect, follow its new heads by subscription, and reconnect with backoff when the
//! connection drops. Readers never wait for a reconnect: while disconnected they get `Unreachable`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use subxt::config::substrate::H256;
use subxt::rpcs::RpcClient;
use subxt::{OnlineClient, OnlineClientAtBlock, SubstrateConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::error::ChainError;
use crate::model::BlockRef;

pub type Api = OnlineClient<SubstrateConfig>;
pub type AtBlock = OnlineClientAtBlock<SubstrateConfig>;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_millis(100);
const MAX_RETRY: Duration = Duration::from_secs(10);

/// A live connection: subxt's client for metadata-driven work, and its RPC client for the few
/// legacy calls subxt does not wrap (block hash by number, batched storage reads).
#[derive(Clone, Debug)]
pub struct Connection {
    pub api: Api,
    pub rpc: RpcClient,
}

impl Connection {
    /// A client at `block`, without asking the node for a header we already have.
    pub async fn at(&self, block: &BlockRef) -> Result<AtBlock, ChainError> {
        self.api
            .at_block_hash_and_number(H256(block.hash), u64::from(block.number))
            .await
            .map_err(ChainError::from_subxt)
    }
}

/// A supervised connection to one node.
#[derive(Debug)]
pub struct Endpoint {
    url: String,
    connection: watch::Receiver<Option<Connection>>,
    heads: watch::Receiver<Option<BlockRef>>,
    reconnects: watch::Receiver<u64>,
    /// When the newest head arrived (kept through a disconnect, like the head).
    head_seen_at: Arc<Mutex<Option<Instant>>>,
    task: JoinHandle<()>,
}

impl Endpoint {
    /// Start connecting in the background; returns at once.
    pub fn start(url: String) -> Self {
        let (connection_tx, connection) = watch::channel(None);
        let (heads_tx, heads) = watch::channel(None);
        let (reconnects_tx, reconnects) = watch::channel(0);
        let head_seen_at = Arc::new(Mutex::new(None));
        let task = tokio::spawn(supervise(
            url.clone(),
            connection_tx,
            HeadsTx {
                heads: heads_tx,
                seen_at: head_seen_at.clone(),
            },
            reconnects_tx,
        ));
        Endpoint {
            url,
            connection,
            heads,
            reconnects,
            head_seen_at,
            task,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The current connection, or `Unreachable` while there is none.
    pub fn connection(&self) -> Result<Connection, ChainError> {
        self.connection
            .borrow()
            .clone()
            .ok_or_else(|| ChainError::Unreachable(format!("not connected to {}", self.url)))
    }

    pub fn is_connected(&self) -> bool {
        self.connection.borrow().is_some()
    }

    /// Wait until connected and the first head is known, up to `timeout`.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        let mut heads = self.heads.clone();
        tokio::time::timeout(timeout, heads.wait_for(|head| head.is_some()))
            .await
            .is_ok_and(|seen| seen.is_ok())
    }

    /// The newest head seen on the subscription (kept through a disconnect).
    pub fn head(&self) -> Option<BlockRef> {
        self.heads.borrow().clone()
    }

    pub fn heads(&self) -> watch::Receiver<Option<BlockRef>> {
        self.heads.clone()
    }

    /// When the newest head arrived.
    pub fn head_seen_at(&self) -> Option<Instant> {
        *self.head_seen_at.lock()
    }

    /// How many times the connection was re-established after a loss.
    pub fn reconnects(&self) -> u64 {
        *self.reconnects.borrow()
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Where new heads go: the head itself, and when it arrived.
struct HeadsTx {
    heads: watch::Sender<Option<BlockRef>>,
    seen_at: Arc<Mutex<Option<Instant>>>,
}

impl HeadsTx {
    fn publish(&self, head: BlockRef) {
        *self.seen_at.lock() = Some(Instant::now());
        self.heads.send_replace(Some(head));
    }
}

async fn supervise(
    url: String,
    connection_tx: watch::Sender<Option<Connection>>,
    heads_tx: HeadsTx,
    reconnects_tx: watch::Sender<u64>,
) {
    let mut retry = FIRST_RETRY;
    let mut connected_before = false;
    loop {
        match tokio::time::timeout(CONNECT_TIMEOUT, connect(&url)).await {
            Ok(Ok(connection)) => {
                retry = FIRST_RETRY;
                if connected_before {
                    reconnects_tx.send_modify(|count| *count += 1);
                }
                connected_before = true;
                tracing::info!(url = %url, "connected to the chain");
                follow_heads(&connection, &connection_tx, &heads_tx).await;
                connection_tx.send_replace(None);
                tracing::warn!(url = %url, "chain connection lost; reconnecting");
            }
            Ok(Err(error)) => tracing::warn!(url = %url, %error, "cannot connect to the chain"),
            Err(_) => tracing::warn!(url = %url, "connecting to the chain timed out"),
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(MAX_RETRY);
    }
}

async fn connect(url: &str) -> Result<Connection, ChainError> {
    let rpc = RpcClient::from_insecure_url(url)
        .await
        .map_err(|e| ChainError::Unreachable(e.to_string()))?;
    let api = Api::from_rpc_client(rpc.clone())
        .await
        .map_err(|e| ChainError::Unreachable(e.to_string()))?;
    Ok(Connection { api, rpc })
}

/// Publish the connection once the head subscription is up, then every new head until it ends.
async fn follow_heads(
    connection: &Connection,
    connection_tx: &watch::Sender<Option<Connection>>,
    heads_tx: &HeadsTx,
) {
    let mut blocks = match connection.api.stream_best_blocks().await {
        Ok(blocks) => blocks,
        Err(error) => {
            tracing::warn!(%error, "cannot subscribe to new heads");
            return;
        }
    };
    connection_tx.send_replace(Some(connection.clone()));
    while let Some(block) = blocks.next().await {
        match block {
            Ok(block) => {
                let head = BlockRef {
                    number: block.number() as u32,
                    hash: block.hash().0,
                };
                tracing::debug!(number = head.number, "new head");
                heads_tx.publish(head);
            }
            Err(error) => {
                tracing::warn!(%error, "head subscription failed");
                return;
            }
        }
    }
}
