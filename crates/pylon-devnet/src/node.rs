//! The running node: the chain behind a lock, notification channels for subscribers, fault
//! injection switches, and the RPC request counter.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use tokio::sync::{broadcast, Notify};

use crate::chain::{Chain, SealOutcome};
use crate::version::RuntimeVersion;

pub struct Node {
    pub chain: Mutex<Chain>,
    /// JSON header of every new block (best = finalized: instant finality).
    pub heads: broadcast::Sender<serde_json::Value>,
    pub sealed: broadcast::Sender<SealOutcome>,
    pub versions: broadcast::Sender<RuntimeVersion>,
    /// Requests that named a method, counted by the RPC middleware.
    pub rpc_calls: Arc<AtomicU64>,
    pub faults: Faults,
    /// Woken to close every open connection (`dev_dropConnections`).
    pub drop_connections: Notify,
}

#[derive(Default)]
pub struct Faults {
    /// The next N calls (admin calls excepted) fail with a server error.
    pub fail_next: AtomicU32,
    /// Every response is delayed by this many milliseconds (0 = off).
    pub stall_ms: AtomicU64,
}

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl Node {
    pub fn new(chain: Chain) -> Arc<Self> {
        Arc::new(Self {
            chain: Mutex::new(chain),
            heads: broadcast::channel(256).0,
            sealed: broadcast::channel(256).0,
            versions: broadcast::channel(16).0,
            rpc_calls: Arc::new(AtomicU64::new(0)),
            faults: Faults::default(),
            drop_connections: Notify::new(),
        })
    }

    /// Seal one block now and tell subscribers.
    pub fn seal_block(&self) -> SealOutcome {
        let (outcome, header) = {
            let mut chain = self.chain.lock();
            let outcome = chain.seal(now_ms());
            (outcome, chain.best().header.to_json())
        };
        let _ = self.heads.send(header);
        let _ = self.sealed.send(outcome.clone());
        outcome
    }

    pub fn best_number(&self) -> u32 {
        self.chain.lock().best().header.number
    }

    /// `dev_runtimeUpgrade`: seal a block whose state carries the new runtime (like a block
    /// with `set_code`, it is still executed by the old one), then tell subscribers. The next
    /// block is the first one the new runtime executes.
    pub fn runtime_upgrade(&self) -> RuntimeVersion {
        let version = self.chain.lock().upgrade_runtime();
        self.seal_block();
        let _ = self.versions.send(version.clone());
        version
    }

    /// Consume one injected failure, if any are left.
    pub fn take_failure(&self) -> bool {
        self.faults
            .fail_next
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
    }
}
