//! Rendered responses by key: a byte-bounded LRU, and single-flight for misses so concurrent
//! readers of the same key share one chain call.
//!
//! A hit is the hot path of every cached read: it takes the map's lock shared (readers do not
//! wait on each other) and marks the entry used with an atomic tick; the least recently used
//! entry is looked for only when an insert runs out of bytes (a few times per block).

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use axum::http::HeaderValue;
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use pylon_chain::{BlockRef, ChainError};
use tokio::sync::OnceCell;

use crate::encoding::Coding;

/// A response body rendered once and served as-is to every reader.
#[derive(Debug)]
pub struct Rendered {
    pub block: BlockRef,
    pub body: Bytes,
    /// Strong validator of `body` (quoted, as sent in `ETag`).
    pub etag: String,
    /// `etag` and the block number as header values, built once for every response.
    pub etag_header: HeaderValue,
    pub block_header: HeaderValue,
    zstd: OnceLock<Bytes>,
    gzip: OnceLock<Bytes>,
    /// A second view rendered from the same fetch (a neurons answer's validators): one cache
    /// entry holds both, so neither view can be evicted without the other.
    companion: Option<Arc<Rendered>>,
}

impl Rendered {
    pub fn new(block: BlockRef, body: Vec<u8>) -> Self {
        let etag = etag_of(&body);
        Rendered {
            etag_header: HeaderValue::from_str(&etag).expect("etags are hex in quotes"),
            block_header: HeaderValue::from(block.number),
            block,
            body: Bytes::from(body),
            etag,
            zstd: OnceLock::new(),
            gzip: OnceLock::new(),
            companion: None,
        }
    }

    /// This answer with `companion`, another view of the same fetch, stored alongside it.
    pub fn with_companion(mut self, companion: Rendered) -> Self {
        self.companion = Some(Arc::new(companion));
        self
    }

    /// The other view stored with this answer, if any (see `with_companion`).
    pub fn companion(&self) -> Option<&Arc<Rendered>> {
        self.companion.as_ref()
    }

    /// Bytes charged to the cache: the body plus room for its compressed codings (JSON
    /// compresses to well under a quarter of its size with either), and its companion's.
    pub fn footprint(&self) -> usize {
        self.body.len() + self.body.len() / 2 + self.companion.as_ref().map_or(0, |c| c.footprint())
    }

    /// The body in `coding`, compressed on first use and kept.
    pub fn encoded(&self, coding: Coding) -> Bytes {
        let slot = match coding {
            Coding::Zstd => &self.zstd,
            Coding::Gzip => &self.gzip,
        };
        slot.get_or_init(|| coding.compress(&self.body)).clone()
    }
}

/// blake2-free, dependency-free content hash: two differently-seeded 64-bit FNV-1a passes.
fn etag_of(body: &[u8]) -> String {
    let fnv = |seed: u64| {
        body.iter().fold(seed, |hash, byte| {
            (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
        })
    };
    format!(
        "\"{:016x}{:016x}\"",
        fnv(0xcbf2_9ce4_8422_2325),
        fnv(0x8422_2325_cbf2_9ce4)
    )
}

type Flight = Arc<OnceCell<Result<Arc<Rendered>, ChainError>>>;

struct Entry {
    value: Arc<Rendered>,
    /// The cache's tick when this entry was last read or written.
    used: AtomicU64,
}

struct Lru<K> {
    entries: HashMap<K, Entry>,
    bytes: usize,
}

pub struct ResponseCache<K> {
    max_bytes: usize,
    lru: RwLock<Lru<K>>,
    /// Orders uses: each read or write takes the next value.
    tick: AtomicU64,
    in_flight: Mutex<HashMap<K, Flight>>,
    /// Lookups that found their answer, and fetches that had to go to the chain (for metrics).
    hits: AtomicU64,
    misses: AtomicU64,
}

/// What the cache holds and how it has done, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheStats {
    pub hits: u64,
    pub misses: u64,
    pub bytes: usize,
    pub max_bytes: usize,
    pub entries: usize,
}

impl<K: Eq + Hash + Clone> ResponseCache<K> {
    pub fn new(max_bytes: usize) -> Self {
        ResponseCache {
            max_bytes,
            lru: RwLock::new(Lru {
                entries: HashMap::new(),
                bytes: 0,
            }),
            tick: AtomicU64::new(0),
            in_flight: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    pub fn stats(&self) -> CacheStats {
        let (bytes, entries) = {
            let lru = self.lru.read();
            (lru.bytes, lru.entries.len())
        };
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes,
            max_bytes: self.max_bytes,
            entries,
        }
    }

    fn next_tick(&self) -> u64 {
        self.tick.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn get(&self, key: &K) -> Option<Arc<Rendered>> {
        let lru = self.lru.read();
        let entry = lru.entries.get(key)?;
        entry.used.store(self.next_tick(), Ordering::Relaxed);
        self.hits.fetch_add(1, Ordering::Relaxed);
        Some(entry.value.clone())
    }

    pub fn insert(&self, key: K, value: Arc<Rendered>) {
        let size = value.footprint();
        if size > self.max_bytes {
            return;
        }
        let used = AtomicU64::new(self.next_tick());
        let mut lru = self.lru.write();
        if let Some(old) = lru.entries.insert(key, Entry { value, used }) {
            lru.bytes -= old.value.footprint();
        }
        lru.bytes += size;
        while lru.bytes > self.max_bytes {
            // The least recently used entry: a scan, but only when bytes run out.
            let oldest = lru
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used.load(Ordering::Relaxed))
                .map(|(key, _)| key.clone());
            let Some(oldest) = oldest else { break };
            if let Some(evicted) = lru.entries.remove(&oldest) {
                lru.bytes -= evicted.value.footprint();
            }
        }
    }

    /// Drop every cached answer (the chain they came from is gone: see `AppState::forget_chain`).
    pub fn clear(&self) {
        let mut lru = self.lru.write();
        lru.entries.clear();
        lru.bytes = 0;
    }

    /// Whether `key` is cached, without counting a hit or making it recently used.
    pub fn contains(&self, key: &K) -> bool {
        self.lru.read().entries.contains_key(key)
    }

    /// Whether a fetch for `key` is running now.
    pub fn is_in_flight(&self, key: &K) -> bool {
        self.in_flight.lock().contains_key(key)
    }

    pub fn bytes(&self) -> usize {
        self.lru.read().bytes
    }

    /// The cached value, or the result of `fetch` — run once however many callers miss the same
    /// key at the same time. Errors are shared with the waiting callers but not cached.
    pub async fn get_or_fetch<F, Fut>(&self, key: K, fetch: F) -> Result<Arc<Rendered>, ChainError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Rendered, ChainError>>,
    {
        if let Some(hit) = self.get(&key) {
            return Ok(hit);
        }
        self.misses.fetch_add(1, Ordering::Relaxed);
        let flight = self
            .in_flight
            .lock()
            .entry(key.clone())
            .or_default()
            .clone();
        let result = flight
            .get_or_init(|| async {
                let rendered = fetch().await.map(Arc::new);
                if let Ok(value) = &rendered {
                    self.insert(key.clone(), value.clone());
                }
                rendered
            })
            .await
            .clone();
        let mut in_flight = self.in_flight.lock();
        if in_flight.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
            in_flight.remove(&key);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn block(n: u32) -> BlockRef {
        BlockRef {
            number: n,
            hash: [n as u8; 32],
        }
    }

    fn rendered(n: u32, size: usize) -> Rendered {
        Rendered::new(block(n), vec![b'x'; size])
    }

    #[test]
    fn least_recently_used_entries_go_first_when_bytes_run_out() {
        // Each 40-byte body is charged 60 bytes (room for its compressed codings).
        let cache = ResponseCache::new(150);
        cache.insert(1, Arc::new(rendered(1, 40)));
        cache.insert(2, Arc::new(rendered(2, 40)));
        assert!(cache.get(&1).is_some()); // 2 is now the least recently used
        cache.insert(3, Arc::new(rendered(3, 40)));
        assert!(cache.get(&2).is_none());
        assert!(cache.get(&1).is_some() && cache.get(&3).is_some());
        assert_eq!(cache.bytes(), 120);
        cache.insert(4, Arc::new(rendered(4, 101))); // larger than the whole cache: not kept
        assert!(cache.get(&4).is_none());
    }

    #[test]
    fn clearing_drops_every_entry_and_its_bytes() {
        let cache = ResponseCache::new(1_000);
        cache.insert(1, Arc::new(rendered(1, 40)));
        cache.insert(2, Arc::new(rendered(2, 40)));
        cache.clear();
        assert!(cache.get(&1).is_none() && cache.get(&2).is_none());
        assert_eq!((cache.bytes(), cache.stats().entries), (0, 0));
        // And it fills again as before.
        cache.insert(3, Arc::new(rendered(3, 40)));
        assert!(cache.get(&3).is_some());
        assert_eq!(cache.bytes(), 60);
    }

    #[test]
    fn a_companion_view_is_charged_and_evicted_with_its_entry() {
        let cache = ResponseCache::new(200);
        let both = rendered(1, 40).with_companion(rendered(1, 20));
        assert_eq!(both.footprint(), 60 + 30);
        cache.insert(1, Arc::new(both));
        assert_eq!(cache.companion_len(&1), Some(20));
        cache.insert(2, Arc::new(rendered(2, 80))); // 90 + 120 > 200: entry 1 goes, both views
        assert!(!cache.contains(&1));
        assert_eq!(cache.bytes(), 120);
    }

    impl ResponseCache<u32> {
        fn companion_len(&self, key: &u32) -> Option<usize> {
            let entry = self.get(key)?;
            entry.companion().map(|c| c.body.len())
        }
    }

    #[test]
    fn identical_bodies_share_an_etag_and_different_ones_do_not() {
        assert_eq!(rendered(1, 10).etag, rendered(2, 10).etag);
        assert_ne!(rendered(1, 10).etag, rendered(1, 11).etag);
    }

    #[tokio::test]
    async fn concurrent_misses_for_one_key_make_one_upstream_call() {
        let cache = Arc::new(ResponseCache::new(1_000));
        let calls = Arc::new(AtomicUsize::new(0));
        let read = |cache: Arc<ResponseCache<u32>>, calls: Arc<AtomicUsize>| async move {
            cache
                .get_or_fetch(7, || async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    // Stay in flight long enough for the other reader to arrive and wait.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    Ok(rendered(7, 10))
                })
                .await
        };
        let (a, b) = tokio::join!(
            read(cache.clone(), calls.clone()),
            read(cache.clone(), calls.clone())
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert!(Arc::ptr_eq(&a.unwrap(), &b.unwrap()));
        // And a later reader is a plain hit.
        read(cache.clone(), calls.clone()).await.unwrap();
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses, stats.entries), (1, 2, 1));
    }

    #[tokio::test]
    async fn errors_reach_every_waiter_and_are_not_cached() {
        let cache: ResponseCache<u32> = ResponseCache::new(1_000);
        let failed = cache
            .get_or_fetch(1, || async { Err(ChainError::Rpc("boom".into())) })
            .await;
        assert!(failed.is_err());
        let retried = cache.get_or_fetch(1, || async { Ok(rendered(1, 3)) }).await;
        assert!(retried.is_ok());
    }
}
