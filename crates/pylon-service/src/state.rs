//! What every handler shares: settings, the chain, the response cache and which subnets are hot.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::{Mutex, RwLock};
use pylon_chain::{BlockRef, ChainClient};

use crate::cache::{Rendered, ResponseCache};
use crate::settings::{Identity, Settings};
use crate::writes::Writer;

/// How long a subnet stays hot (prefetched on every head) after someone last asked for it.
pub const HOT_FOR: Duration = Duration::from_secs(600);
/// A subnet's last request time is refreshed at most this often (`HOT_FOR` is minutes).
const NOTE_AGAIN_AFTER: Duration = Duration::from_secs(1);
/// At most this many subnets are hot because they were requested (configured ones come on top).
pub const MAX_REQUESTED_HOT: usize = 32;

/// The two views of a subnet's neurons. One fetch renders both, and both live in one cache entry
/// under `CacheKey::Neurons`: the neurons answer, with the validators answer as its companion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum View {
    Neurons,
    Validators,
}

impl View {
    /// This view of a cached neurons entry.
    pub fn of(self, entry: &Arc<Rendered>) -> Arc<Rendered> {
        match self {
            View::Neurons => entry.clone(),
            View::Validators => entry
                .companion()
                .expect("neurons entries are cached with their validators view")
                .clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CacheKey {
    /// A subnet's neurons and (as the entry's companion) validators at a block.
    Neurons(u16, [u8; 32]),
    BlockInfo([u8; 32]),
    Certificates(u16, [u8; 32]),
    Commitments(u16, [u8; 32]),
    RevealedCommitments(u16, [u8; 32]),
    Hyperparameters(u16, [u8; 32]),
    Extrinsic([u8; 32], u32),
    // crate::market
    Prices([u8; 32]),
    Price(u16, [u8; 32]),
    EvmAssociations(u16, [u8; 32]),
    DrandLastStoredRound([u8; 32]),
}

pub struct AppState {
    pub settings: Settings,
    pub chain: Arc<ChainClient>,
    pub cache: ResponseCache<CacheKey>,
    /// The newest block whose neurons were fetched, per subnet: only the key — the answer itself
    /// lives in `cache` (`block/recent/neurons` serves it; it stands in for the latest block while
    /// that block's fetch runs). When the cache has evicted it, those reads go to the chain.
    newest: Mutex<HashMap<u16, BlockRef>>,
    requested: RwLock<HashMap<u16, Instant>>,
    /// Subnets whose latest neurons are being fetched (a prefetch, or a reader's background
    /// refresh): one at a time per subnet, so a stalled chain does not collect one stalled fetch
    /// per new head.
    refreshing: Mutex<HashSet<u16>>,
    /// Signing and weights jobs; `None` when no identity is configured.
    pub writer: Option<Writer>,
    /// The EVM node(s) for contract logs (`PYLON_EVM_*`), or why there are none.
    pub evm: crate::evm::EvmAccess,
    /// The live event streams' hub (`…/events`).
    pub events: Arc<crate::events::EventHub>,
}

impl AppState {
    pub fn new(settings: Settings, chain: Arc<ChainClient>, writer: Option<Writer>) -> Self {
        AppState {
            cache: ResponseCache::new(settings.cache_max_bytes),
            evm: crate::evm::EvmAccess::new(&settings.evm),
            events: Arc::new(crate::events::EventHub::new(
                settings.events_max_subscribers,
            )),
            settings,
            chain,
            newest: Mutex::new(HashMap::new()),
            requested: RwLock::new(HashMap::new()),
            refreshing: Mutex::new(HashSet::new()),
            writer,
        }
    }

    pub fn identity(&self, name: &str) -> Option<&Identity> {
        self.settings.identities.iter().find(|i| i.name == name)
    }

    pub fn note_requested(&self, netuid: u16) {
        // On every read: a subnet noted within the last second is not noted again, so readers of
        // a hot subnet share a read lock instead of queueing for the write lock.
        let now = Instant::now();
        let fresh = |at: &Instant| now.saturating_duration_since(*at) < NOTE_AGAIN_AFTER;
        if self.requested.read().get(&netuid).is_some_and(fresh) {
            return;
        }
        let mut requested = self.requested.write();
        requested.insert(netuid, now);
        // Bound the prefetch work a caller can cause by asking for many subnets: keep the newest.
        while requested.len() > MAX_REQUESTED_HOT {
            let oldest = requested
                .iter()
                .min_by_key(|(_, at)| **at)
                .map(|(netuid, _)| *netuid);
            match oldest {
                Some(netuid) => requested.remove(&netuid),
                None => break,
            };
        }
    }

    /// Subnets to prefetch on a new head: configured, identities', and recently requested ones.
    pub fn hot_netuids(&self) -> Vec<u16> {
        let mut hot: Vec<u16> = self.settings.recent_objects_netuids.clone();
        hot.extend(self.settings.identities.iter().map(|i| i.netuid));
        let mut requested = self.requested.write();
        requested.retain(|_, at| at.elapsed() < HOT_FOR);
        hot.extend(requested.keys().copied());
        hot.sort_unstable();
        hot.dedup();
        hot
    }

    /// Remember `block` as the subnet's newest fetched neurons unless a newer block is known.
    pub fn note_newest(&self, netuid: u16, block: &BlockRef) {
        let mut newest = self.newest.lock();
        if newest
            .get(&netuid)
            .is_none_or(|known| known.number <= block.number)
        {
            newest.insert(netuid, block.clone());
        }
    }

    /// The subnet's newest fetched neurons entry (both views), if the cache still holds it.
    pub fn newest(&self, netuid: u16) -> Option<Arc<Rendered>> {
        let block = self.newest.lock().get(&netuid)?.clone();
        self.cache.get(&CacheKey::Neurons(netuid, block.hash))
    }

    /// Per subnet, the number of the newest block whose neurons the cache holds (for metrics;
    /// a subnet whose newest entry was evicted is left out).
    pub fn newest_cached_blocks(&self) -> Vec<(u16, u32)> {
        let newest = self.newest.lock().clone();
        newest
            .into_iter()
            .filter(|(netuid, block)| self.cache.contains(&CacheKey::Neurons(*netuid, block.hash)))
            .map(|(netuid, block)| (netuid, block.number))
            .collect()
    }

    /// Claim the subnet's background refresh: `None` while another one runs. The claim ends when
    /// the returned guard is dropped.
    pub fn claim_refresh(self: &Arc<Self>, netuid: u16) -> Option<RefreshClaim> {
        self.refreshing.lock().insert(netuid).then(|| RefreshClaim {
            state: Arc::clone(self),
            netuid,
        })
    }

    /// Forget every answer from the chain the node served before: it was reset (another genesis),
    /// and answers by number or "latest" must come from the new chain only.
    pub fn forget_chain(&self) {
        self.cache.clear();
        self.newest.lock().clear();
    }

    /// The identity's hotkey address (its keyfile was loaded, and decrypted, at start-up).
    pub fn identity_hotkey(&self, identity: &Identity) -> Result<String, String> {
        self.writer
            .as_ref()
            .and_then(|writer| writer.hotkey(&identity.name))
            .map(str::to_owned)
            .ok_or_else(|| format!("identity `{}` has no hotkey loaded", identity.name))
    }
}

/// A subnet's background refresh, claimed until dropped.
pub struct RefreshClaim {
    state: Arc<AppState>,
    netuid: u16,
}

impl Drop for RefreshClaim {
    fn drop(&mut self) {
        self.state.refreshing.lock().remove(&self.netuid);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pylon_chain::{ChainConfig, Network};

    #[tokio::test]
    async fn hot_subnets_are_configured_ones_plus_a_bounded_set_of_requested_ones() {
        let network = Network::parse("ws://127.0.0.1:1").unwrap();
        let mut settings = Settings::new(network.clone());
        settings.recent_objects_netuids = vec![7];
        let chain = Arc::new(ChainClient::start(ChainConfig {
            network,
            archive: None,
            archive_cutoff: 300,
        }));
        let state = AppState::new(settings, chain, None);
        for netuid in 100..200 {
            state.note_requested(netuid);
        }
        let hot = state.hot_netuids();
        assert!(hot.contains(&7));
        assert_eq!(hot.len(), MAX_REQUESTED_HOT + 1);
        assert!(hot.contains(&199) && !hot.contains(&100));
    }

    #[tokio::test]
    async fn the_newest_neurons_are_read_from_the_cache_and_gone_once_it_evicts_them() {
        let network = Network::parse("ws://127.0.0.1:1").unwrap();
        let mut settings = Settings::new(network.clone());
        settings.cache_max_bytes = 1_000;
        let chain = Arc::new(ChainClient::start(ChainConfig {
            network,
            archive: None,
            archive_cutoff: 300,
        }));
        let state = AppState::new(settings, chain, None);
        let block = |number: u32| BlockRef {
            number,
            hash: [number as u8; 32],
        };
        let entry = |number: u32| {
            Arc::new(
                Rendered::new(block(number), vec![b'n'; 100])
                    .with_companion(Rendered::new(block(number), vec![b'v'; 50])),
            )
        };
        assert!(state.newest(1).is_none());
        for number in [5, 7] {
            state
                .cache
                .insert(CacheKey::Neurons(1, block(number).hash), entry(number));
            state.note_newest(1, &block(number));
        }
        state.note_newest(1, &block(6)); // an older block never replaces a newer one
        let newest = state.newest(1).expect("cached");
        assert_eq!(newest.block.number, 7);
        assert_eq!(View::Validators.of(&newest).body.len(), 50);
        assert_eq!(state.newest_cached_blocks(), vec![(1, 7)]);
        // Other answers push it out of the bounded cache: no second copy is kept anywhere, so
        // the readers of `latest` and `recent` go to the chain.
        state.cache.insert(
            CacheKey::BlockInfo([9; 32]),
            Arc::new(Rendered::new(block(9), vec![0; 600])),
        );
        assert!(state.newest(1).is_none());
        assert!(state.newest_cached_blocks().is_empty());
    }

    #[tokio::test]
    async fn a_subnets_latest_fetch_is_claimed_by_one_at_a_time() {
        let network = Network::parse("ws://127.0.0.1:1").unwrap();
        let chain = Arc::new(ChainClient::start(ChainConfig {
            network: network.clone(),
            archive: None,
            archive_cutoff: 300,
        }));
        let state = Arc::new(AppState::new(Settings::new(network), chain, None));
        let claim = state.claim_refresh(1).expect("free");
        assert!(state.claim_refresh(1).is_none(), "claimed twice");
        assert!(state.claim_refresh(2).is_some(), "another subnet is free");
        drop(claim);
        assert!(state.claim_refresh(1).is_some(), "free again once dropped");
    }
}
