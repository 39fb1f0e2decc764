//! The main node plus an optional archive node, and which of them answers for a given block.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::connection::{Connection, Endpoint, ResetHooks};
use crate::error::ChainError;
use crate::model::BlockRef;
use crate::network::Network;
use crate::observe::{ChainObserver, FallbackReason, Outcome};

#[derive(Debug, Clone)]
pub struct ChainConfig {
    pub network: Network,
    /// Asked for blocks older than `archive_cutoff` behind the head, and when the main node has
    /// pruned a block's state.
    pub archive: Option<Network>,
    pub archive_cutoff: u32,
}

/// Chain access for the service: cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct ChainClient {
    main: Endpoint,
    archive: Option<Endpoint>,
    archive_cutoff: u32,
    /// Hashes of settled blocks by number (see [`crate::blocks`]); emptied when the chain resets.
    pub(crate) settled_hashes: Arc<Mutex<BTreeMap<u32, [u8; 32]>>>,
    /// Run when a node reports another chain than before (see [`ChainClient::on_chain_reset`]).
    resets: Arc<ResetHooks>,
    /// One signing turn per account at a time (see [`crate::submit`]).
    pub(crate) signing_turns: crate::submit::SigningTurns,
    /// Told about every routed call (metrics); set once by the service.
    observer: OnceLock<Arc<dyn ChainObserver>>,
}

impl ChainClient {
    /// Start connecting in the background; returns at once (readers get `Unreachable` until the
    /// connection is up).
    pub fn start(config: ChainConfig) -> Self {
        let settled_hashes: Arc<Mutex<BTreeMap<u32, [u8; 32]>>> = Default::default();
        let resets = Arc::new(ResetHooks::default());
        {
            let settled_hashes = settled_hashes.clone();
            resets.add(move || settled_hashes.lock().clear());
        }
        let endpoint = |network: &Network| {
            Endpoint::start(
                network.url().to_string(),
                network.redacted(),
                resets.clone(),
            )
        };
        let main = endpoint(&config.network);
        let archive = config
            .archive
            .filter(|archive| archive != &config.network)
            .map(|archive| endpoint(&archive));
        ChainClient {
            main,
            archive,
            archive_cutoff: config.archive_cutoff,
            settled_hashes,
            resets,
            signing_turns: Default::default(),
            observer: OnceLock::new(),
        }
    }

    /// Run `hook` whenever a node, on reconnecting, serves another chain than before (its genesis
    /// hash changed: a testnet reset, a local node restarted with a new genesis). It runs before
    /// the new chain's head is published: whoever caches answers by block drops them there.
    pub fn on_chain_reset(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.resets.add(hook);
    }

    /// The genesis hash of the main node's chain, once connected.
    pub fn genesis_hash(&self) -> Option<[u8; 32]> {
        self.main.genesis()
    }

    /// Report every routed call and fallback to `observer` from now on. Only the first observer
    /// set is kept; returns whether this one was.
    pub fn set_observer(&self, observer: Arc<dyn ChainObserver>) -> bool {
        self.observer.set(observer).is_ok()
    }

    /// Wait until the main node is connected and its first head is known.
    pub async fn wait_ready(&self, timeout: Duration) -> bool {
        self.main.wait_ready(timeout).await
    }

    pub fn is_connected(&self) -> bool {
        self.main.is_connected()
    }

    /// The newest head of the main node (kept through a disconnect).
    pub fn head(&self) -> Option<BlockRef> {
        self.main.head()
    }

    /// New heads as they arrive.
    pub fn heads(&self) -> watch::Receiver<Option<BlockRef>> {
        self.main.heads()
    }

    pub fn reconnects(&self) -> u64 {
        self.main.reconnects()
    }

    /// How long ago the main node's newest head arrived (`None` before the first one). A
    /// connected node whose head stops advancing is stuck: readiness checks look at this.
    pub fn head_age(&self) -> Option<Duration> {
        self.main.head_seen_at().map(|at| at.elapsed())
    }

    /// Whether the archive node is configured and connected (`None` when there is none).
    pub fn archive_connected(&self) -> Option<bool> {
        self.archive.as_ref().map(Endpoint::is_connected)
    }

    /// The latest block: the followed head, or `Unreachable` before the first one arrives.
    pub fn latest_block(&self) -> Result<BlockRef, ChainError> {
        self.head()
            .ok_or_else(|| ChainError::Unreachable("no block seen yet".into()))
    }

    /// Run `query` on the node that should answer for `number`: the archive for blocks older than
    /// the cutoff, the main node otherwise, falling back to the archive when the main node no
    /// longer knows the block.
    ///
    /// `operation` names the call in metrics and in the debug log line with its duration.
    pub(crate) async fn route<T, F, Fut>(
        &self,
        operation: &'static str,
        number: u32,
        query: F,
    ) -> Result<T, ChainError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, ChainError>>,
    {
        let started = Instant::now();
        let result = self.ask_node(operation, number, query).await;
        let elapsed = started.elapsed();
        let outcome = Outcome::of(&result);
        tracing::debug!(
            operation,
            block = number,
            outcome = outcome.as_str(),
            elapsed_ms = elapsed.as_secs_f64() * 1e3,
            "chain call"
        );
        if let Some(observer) = self.observer.get() {
            observer.operation(operation, outcome, elapsed);
        }
        result
    }

    fn fell_back(&self, operation: &'static str, reason: FallbackReason) {
        if let Some(observer) = self.observer.get() {
            observer.fallback(operation, reason);
        }
    }

    async fn ask_node<T, F, Fut>(
        &self,
        operation: &'static str,
        number: u32,
        query: F,
    ) -> Result<T, ChainError>
    where
        F: Fn(Connection) -> Fut,
        Fut: Future<Output = Result<T, ChainError>>,
    {
        let old = self
            .head()
            .is_some_and(|head| head.number.saturating_sub(number) > self.archive_cutoff);
        match &self.archive {
            Some(archive) if old => match archive.connection() {
                Ok(connection) => query(connection).await,
                // The main node may still hold the block; when it does not, the block is not
                // missing: the archive that would have it is down, which is what the caller hears.
                Err(archive_down) => {
                    self.fell_back(operation, FallbackReason::ArchiveUnreachable);
                    match query(self.main.connection()?).await {
                        Err(error) if error.is_unknown_block() => Err(archive_down),
                        other => other,
                    }
                }
            },
            Some(archive) => match query(self.main.connection()?).await {
                Err(error) if error.is_unknown_block() => {
                    tracing::debug!(number, %error, "main node lacks the block; asking the archive");
                    self.fell_back(operation, FallbackReason::UnknownBlock);
                    query(archive.connection()?).await
                }
                other => other,
            },
            None => query(self.main.connection()?).await,
        }
    }
}
