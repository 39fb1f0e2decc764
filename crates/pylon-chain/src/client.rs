//! The main node plus an optional archive node, and which of them answers for a given block.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::Duration;

use parking_lot::Mutex;
use tokio::sync::watch;

use crate::connection::{Connection, Endpoint};
use crate::error::ChainError;
use crate::model::BlockRef;
use crate::network::Network;

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
    /// Hashes of settled blocks by number (see [`crate::blocks`]).
    pub(crate) settled_hashes: Mutex<BTreeMap<u32, [u8; 32]>>,
    /// One signing turn per account at a time (see [`crate::submit`]).
    pub(crate) signing_turns: crate::submit::SigningTurns,
}

impl ChainClient {
    /// Start connecting in the background; returns at once (readers get `Unreachable` until the
    /// connection is up).
    pub fn start(config: ChainConfig) -> Self {
        let main = Endpoint::start(config.network.url().to_string());
        let archive = config
            .archive
            .filter(|archive| archive != &config.network)
            .map(|archive| Endpoint::start(archive.url().to_string()));
        ChainClient {
            main,
            archive,
            archive_cutoff: config.archive_cutoff,
            settled_hashes: Mutex::new(BTreeMap::new()),
            signing_turns: Default::default(),
        }
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

    /// The latest block: the followed head, or `Unreachable` before the first one arrives.
    pub fn latest_block(&self) -> Result<BlockRef, ChainError> {
        self.head()
            .ok_or_else(|| ChainError::Unreachable("no block seen yet".into()))
    }

    /// Run `query` on the node that should answer for `number`: the archive for blocks older than
    /// the cutoff, the main node otherwise, falling back to the archive when the main node no
    /// longer knows the block.
    pub(crate) async fn route<T, F, Fut>(&self, number: u32, query: F) -> Result<T, ChainError>
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
                Err(archive_down) => match query(self.main.connection()?).await {
                    Err(error) if error.is_unknown_block() => Err(archive_down),
                    other => other,
                },
            },
            Some(archive) => match query(self.main.connection()?).await {
                Err(error) if error.is_unknown_block() => {
                    tracing::debug!(number, %error, "main node lacks the block; asking the archive");
                    query(archive.connection()?).await
                }
                other => other,
            },
            None => query(self.main.connection()?).await,
        }
    }
}
