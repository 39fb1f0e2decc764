//! One node: connect, learn its chain (genesis) and head at once, follow its new heads by
//! subscription, and reconnect with backoff when the connection drops. Readers never wait for a
//! reconnect: while disconnected they get `Unreachable`.
//!
//! The node is spoken to with the legacy JSON-RPC methods (`chain_*`, `state_*`, `author_*`)
//! through subxt's `LegacyBackend`, chosen on purpose even when the node also offers the new
//! `chainHead_v1_*` / `archive_v1_*` API (docs/SERVICE.md, "Connecting to a node", says why).
//!
//! Beside the one node: [`client`] (the main node plus an optional archive node, and which
//! answers a block), [`network`] (which node to talk to) and [`observe`] (what this layer
//! reports about its own calls).

pub mod client;
pub mod network;
pub mod observe;

use std::sync::Arc;
use std::time::{Duration, Instant};

use std::collections::BTreeMap;

use parking_lot::Mutex;

use subxt::backend::LegacyBackend;
use subxt::client::Blocks;
use subxt::config::substrate::H256;
use subxt::rpcs::{rpc_params, RpcClient};
use subxt::{OnlineClient, OnlineClientAtBlock, SubstrateConfig};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::blocks::SETTLED_DEPTH;
use crate::error::ChainError;
use crate::model::BlockRef;

pub type Api = OnlineClient<SubstrateConfig>;
pub type AtBlock = OnlineClientAtBlock<SubstrateConfig>;

/// Deadline of one connect attempt: socket, genesis, current head and the head subscription.
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
    /// A client at `block`, without asking the node for a header we already have. subxt asks
    /// the node for the block's runtime version and uses that version's metadata, so a block
    /// from before a runtime upgrade decodes with its own metadata.
    pub async fn at(&self, block: &BlockRef) -> Result<AtBlock, ChainError> {
        self.api
            .at_block_hash_and_number(H256(block.hash), u64::from(block.number))
            .await
            .map_err(ChainError::from_subxt)
    }
}

/// Told when a node that was connected before serves another chain after a reconnect: its
/// genesis hash changed (a testnet reset, a local node restarted with a new genesis), or a block
/// that was final before the loss is gone or different (a local chain restarted from the same
/// genesis). Hooks run before the new chain's connection and head are published, so nothing
/// cached from the old chain is served with the new chain's head.
#[derive(Default)]
pub struct ResetHooks {
    hooks: Mutex<Vec<Box<dyn Fn() + Send + Sync>>>,
}

impl ResetHooks {
    pub fn add(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.hooks.lock().push(Box::new(hook));
    }

    fn run(&self) {
        for hook in self.hooks.lock().iter() {
            hook();
        }
    }
}

impl std::fmt::Debug for ResetHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResetHooks({})", self.hooks.lock().len())
    }
}

/// A supervised connection to one node.
#[derive(Debug)]
pub struct Endpoint {
    /// The node's address with any credentials (user info, query) left out: safe to log.
    name: String,
    connection: watch::Receiver<Option<Connection>>,
    heads: watch::Receiver<Option<BlockRef>>,
    genesis: watch::Receiver<Option<[u8; 32]>>,
    reconnects: watch::Receiver<u64>,
    /// When the newest head arrived (kept through a disconnect, like the head).
    head_seen_at: Arc<Mutex<Option<Instant>>>,
    task: JoinHandle<()>,
}

impl Endpoint {
    /// Start connecting in the background; returns at once. `name` is how logs call the node.
    pub fn start(url: String, name: String, resets: Arc<ResetHooks>) -> Self {
        let (connection_tx, connection) = watch::channel(None);
        let (heads_tx, heads) = watch::channel(None);
        let (genesis_tx, genesis) = watch::channel(None);
        let (reconnects_tx, reconnects) = watch::channel(0);
        let head_seen_at = Arc::new(Mutex::new(None));
        let task = tokio::spawn(supervise(
            url,
            name.clone(),
            Publish {
                connection: connection_tx,
                heads: heads_tx,
                seen_at: head_seen_at.clone(),
                recent_heads: Mutex::new(BTreeMap::new()),
                genesis: genesis_tx,
                reconnects: reconnects_tx,
                resets,
            },
        ));
        Endpoint {
            name,
            connection,
            heads,
            genesis,
            reconnects,
            head_seen_at,
            task,
        }
    }

    /// The node's address as logs show it (no credentials).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The current connection, or `Unreachable` while there is none.
    pub fn connection(&self) -> Result<Connection, ChainError> {
        self.connection
            .borrow()
            .clone()
            .ok_or_else(|| ChainError::Unreachable(format!("not connected to {}", self.name)))
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

    /// The newest head seen (kept through a disconnect).
    pub fn head(&self) -> Option<BlockRef> {
        self.heads.borrow().clone()
    }

    pub fn heads(&self) -> watch::Receiver<Option<BlockRef>> {
        self.heads.clone()
    }

    /// The genesis hash of the chain the node serves (known once connected).
    pub fn genesis(&self) -> Option<[u8; 32]> {
        *self.genesis.borrow()
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

/// Where the supervisor tells the rest what it learned.
struct Publish {
    connection: watch::Sender<Option<Connection>>,
    heads: watch::Sender<Option<BlockRef>>,
    seen_at: Arc<Mutex<Option<Instant>>>,
    /// Heads of about the last `2 × SETTLED_DEPTH` blocks, to find one that was final before a
    /// connection loss and check it is still there after.
    recent_heads: Mutex<BTreeMap<u32, [u8; 32]>>,
    genesis: watch::Sender<Option<[u8; 32]>>,
    reconnects: watch::Sender<u64>,
    resets: Arc<ResetHooks>,
}

impl Publish {
    fn head(&self, head: BlockRef) {
        *self.seen_at.lock() = Some(Instant::now());
        self.remember(&head);
        self.heads.send_replace(Some(head));
    }

    /// Keep `block` (a head, or the final block read at connect) for the check after a loss.
    fn remember(&self, block: &BlockRef) {
        let mut recent = self.recent_heads.lock();
        recent.insert(block.number, block.hash);
        let newest = recent.last_key_value().map_or(0, |(n, _)| *n);
        let oldest_kept = newest.saturating_sub(2 * SETTLED_DEPTH);
        while recent
            .first_key_value()
            .is_some_and(|(n, _)| *n < oldest_kept)
        {
            recent.pop_first();
        }
    }

    /// The newest head seen before that is final by now (`SETTLED_DEPTH` behind the newest).
    fn final_head(&self) -> Option<BlockRef> {
        let recent = self.recent_heads.lock();
        let newest = *recent.last_key_value()?.0;
        recent
            .range(..=newest.checked_sub(SETTLED_DEPTH)?)
            .next_back()
            .map(|(number, hash)| BlockRef {
                number: *number,
                hash: *hash,
            })
    }

    /// Record the chain a fresh connection serves. Another chain than before (`genesis` changed,
    /// or `final_kept` is false) first drops everything known about the old one.
    fn chain(&self, name: &str, genesis: [u8; 32], final_kept: bool) {
        let previous = self.genesis.send_replace(Some(genesis));
        let reason = match previous {
            Some(previous) if previous != genesis => format!(
                "its genesis hash changed from 0x{} to 0x{}",
                hex::encode(previous),
                hex::encode(genesis)
            ),
            _ if !final_kept => "a block that was final before is gone or different".into(),
            _ => return,
        };
        tracing::warn!(
            node = %name,
            %reason,
            "the node now serves another chain: dropping everything cached from the old one"
        );
        // The old chain's head must not stand in for the new chain's.
        self.heads.send_replace(None);
        *self.seen_at.lock() = None;
        self.recent_heads.lock().clear();
        self.resets.run();
    }
}

async fn supervise(url: String, name: String, publish: Publish) {
    let mut retry = FIRST_RETRY;
    let mut connected_before = false;
    loop {
        let final_head = publish.final_head();
        match tokio::time::timeout(CONNECT_TIMEOUT, connect(&url, final_head)).await {
            Ok(Ok(connected)) => {
                retry = FIRST_RETRY;
                if connected_before {
                    publish.reconnects.send_modify(|count| *count += 1);
                }
                connected_before = true;
                publish.chain(&name, connected.genesis, connected.final_kept);
                if let Some(settled) = &connected.settled {
                    publish.remember(settled);
                }
                publish.connection.send_replace(Some(connected.connection));
                tracing::info!(
                    node = %name,
                    head = connected.head.number,
                    genesis = %format!("0x{}", hex::encode(connected.genesis)),
                    "connected to the chain"
                );
                publish.head(connected.head);
                let lost = follow_heads(connected.blocks, &publish).await;
                publish.connection.send_replace(None);
                tracing::warn!(node = %name, reason = %lost, "chain connection lost; reconnecting");
            }
            Ok(Err(error)) => {
                tracing::warn!(node = %name, reason = %error, "cannot connect to the chain")
            }
            Err(_) => tracing::warn!(
                node = %name,
                reason = %format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                "cannot connect to the chain"
            ),
        }
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(MAX_RETRY);
    }
}

/// A fresh connection, the chain it serves and its head, with the head subscription open.
struct Connected {
    connection: Connection,
    genesis: [u8; 32],
    head: BlockRef,
    /// Whether the block that was final before a reconnect is still on this node's chain.
    final_kept: bool,
    /// The block `SETTLED_DEPTH` behind the head: final now, so it must still be there after a
    /// reconnect to the same chain, even if no new head arrives meanwhile.
    settled: Option<BlockRef>,
    blocks: Blocks<SubstrateConfig>,
}

/// One connect attempt; each step's failure says which step it was. `final_head` is a block
/// final on the chain seen before (on a reconnect): is it still there?
async fn connect(url: &str, final_head: Option<BlockRef>) -> Result<Connected, ChainError> {
    let rpc = RpcClient::from_insecure_url(url)
        .await
        .map_err(|e| ChainError::Unreachable(format!("cannot open the connection: {e}")))?;
    let backend = LegacyBackend::<SubstrateConfig>::builder().build(rpc.clone());
    let api = Api::from_backend(Arc::new(backend))
        .await
        .map_err(|e| ChainError::from_step("reading the genesis hash", e))?;
    let head = best_head(&rpc).await?;
    let final_kept = match final_head {
        None => true,
        // A chain never goes back past a final block.
        Some(known) if known.number > head.number => false,
        Some(known) => block_hash(&rpc, known.number).await? == Some(known.hash),
    };
    let settled = match head.number.checked_sub(SETTLED_DEPTH) {
        Some(number) => block_hash(&rpc, number)
            .await?
            .map(|hash| BlockRef { number, hash }),
        None => None,
    };
    // The subscription fetches the current block's metadata first, so a node whose metadata we
    // cannot use fails here, with its reason, rather than on the first read.
    let blocks = api
        .stream_best_blocks()
        .await
        .map_err(|e| ChainError::from_step("subscribing to new heads", e))?;
    Ok(Connected {
        genesis: api.genesis_hash().0,
        connection: Connection { api, rpc },
        head,
        final_kept,
        settled,
        blocks,
    })
}

#[derive(serde::Deserialize)]
struct HeaderNumber {
    /// Hex, as Substrate nodes send it.
    number: String,
}

/// The node's current best block, asked for directly: a chain that makes no new block (manual
/// sealing, a stalled network) still has a head right after connecting.
async fn best_head(rpc: &RpcClient) -> Result<BlockRef, ChainError> {
    let unreadable = |what: &str| ChainError::Decode(format!("the best block's {what}"));
    let hash: String = rpc
        .request("chain_getBlockHash", rpc_params![])
        .await
        .map_err(|e| ChainError::from_step("reading the best block hash", e))?;
    let header: Option<HeaderNumber> = rpc
        .request("chain_getHeader", rpc_params![&hash])
        .await
        .map_err(|e| ChainError::from_step("reading the best block header", e))?;
    let header = header.ok_or_else(|| unreadable("header (the node has none)"))?;
    let number = u32::from_str_radix(header.number.trim_start_matches("0x"), 16)
        .map_err(|_| unreadable("number"))?;
    let hash = parse_hash(&hash).ok_or_else(|| unreadable("hash"))?;
    Ok(BlockRef { number, hash })
}

/// The hash of block `number` on the node's chain (`None`: it has no such block).
async fn block_hash(rpc: &RpcClient, number: u32) -> Result<Option<[u8; 32]>, ChainError> {
    let hash: Option<String> = rpc
        .request("chain_getBlockHash", rpc_params![number])
        .await
        .map_err(|e| ChainError::from_step("reading a final block's hash", e))?;
    Ok(hash.as_deref().and_then(parse_hash))
}

fn parse_hash(hex_hash: &str) -> Option<[u8; 32]> {
    hex::decode(hex_hash.trim_start_matches("0x"))
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
}

/// Publish every new head until the subscription ends; returns why it ended.
async fn follow_heads(mut blocks: Blocks<SubstrateConfig>, publish: &Publish) -> String {
    while let Some(block) = blocks.next().await {
        match block {
            Ok(block) => {
                let head = BlockRef {
                    number: block.number() as u32,
                    hash: block.hash().0,
                };
                tracing::debug!(number = head.number, "new head");
                publish.head(head);
            }
            Err(error) => return format!("head subscription failed: {error}"),
        }
    }
    "the node ended the head subscription".to_string()
}
