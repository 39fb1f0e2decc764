//! The chain itself: genesis, the transaction pool, block sealing with extrinsic application,
//! per-block state history and pruning. Pure state machine; the RPC layer drives it.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

use parity_scale_codec::{Compact, Encode};
use scale_value::Value;

use crate::blocks::{aura_pre_digest, extrinsics_root, Block, Hash, Header};
use crate::codec;
use crate::drand::DrandBeacon;
use crate::extrinsics::{self, ApplyContext};
use crate::genesis::write_genesis;
use crate::metadata::ChainMetadata;
use crate::scenario::{Scenario, ScenarioError};
use crate::state_access::StateAccess;
use crate::storage::{build_struct, BlockState, Phase, RawState};
use crate::version::{RuntimeSpec, RuntimeVersion};

/// Slot length of subtensor's Aura (12 s blocks); only used to fill the header's pre-digest.
const SLOT_MS: u64 = 12_000;

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("UnknownBlock: Header was not found in the database: 0x{}", hex::encode(.0))]
    UnknownBlock(Hash),
    #[error("UnknownBlock: State already discarded for 0x{}", hex::encode(.0))]
    StatePruned(Hash),
    /// Refused by the runtime's checks; `code` is Substrate's RPC code (1010 invalid,
    /// 1011 unknown validity, 1001 undecodable).
    #[error("{}: {reason}", rejection_message(*.code))]
    InvalidTransaction { code: i32, reason: String },
    #[error("Transaction Already Imported")]
    AlreadyImported,
}

#[derive(Debug, Clone)]
pub struct PendingTx {
    pub hash: Hash,
    pub bytes: Vec<u8>,
}

/// What happened to the pool's transactions when a block was sealed.
#[derive(Debug, Clone)]
pub struct SealOutcome {
    pub block_hash: Hash,
    pub number: u32,
    pub included: Vec<Hash>,
    pub dropped: Vec<(Hash, String)>,
}

pub struct Chain {
    meta: Arc<ChainMetadata>,
    blocks: Vec<Block>,
    by_hash: HashMap<Hash, u32>,
    pool: Vec<PendingTx>,
    /// Best state with the pool applied: what the next block will start from, used to validate
    /// submissions in order and to answer `system_accountNextIndex`.
    pending_state: RawState,
    version: RuntimeVersion,
    /// Every runtime the chain has run or announced, by version; a block's metadata is the one
    /// of its `spec_version`.
    runtimes: Vec<(RuntimeVersion, Arc<ChainMetadata>)>,
    /// The 343 → 424 storage migration runs at the start of the next block.
    migration_pending: bool,
    pruning: Option<u32>,
    /// Publishes drand pulses every block (absent when the scenario turns pulses off).
    beacon: Option<DrandBeacon>,
    /// The scenario's EVM chain id and logs (`eth_*` methods).
    evm: crate::evm::EvmLogs,
}

impl Chain {
    pub fn new(
        meta: Arc<ChainMetadata>,
        scenario: &Scenario,
        pruning: Option<u32>,
        now_ms: u64,
    ) -> Result<Self, ScenarioError> {
        let mut state = BlockState::new(meta.clone(), RawState::new(), 0);
        // Genesis state depends on the scenario only (no clock), so the genesis hash is stable
        // across restarts, as on a real chain.
        write_genesis(&mut state, scenario)?;
        let evm = crate::evm::EvmLogs::from_spec(&scenario.evm).map_err(ScenarioError::Invalid)?;
        let raw = state.raw;
        let mut root_input = Vec::new();
        for (k, v) in raw.iter() {
            (k, v).encode_to(&mut root_input);
        }
        let header = Header {
            parent_hash: [0; 32],
            number: 0,
            state_root: sp_crypto_hashing::blake2_256(&root_input),
            extrinsics_root: extrinsics_root(&[]),
            digest: vec![],
        };
        let hash = header.hash();
        let version = RuntimeVersion::of(&meta);
        let genesis = Block {
            hash,
            header,
            extrinsics: vec![],
            state: Some(raw.clone()),
            timestamp_ms: now_ms,
            spec_version: version.spec_version,
        };
        Ok(Self {
            meta: meta.clone(),
            by_hash: HashMap::from([(hash, 0)]),
            blocks: vec![genesis],
            pool: Vec::new(),
            pending_state: raw,
            runtimes: vec![(version.clone(), meta.clone())],
            migration_pending: false,
            version,
            pruning,
            beacon: scenario
                .drand
                .pulses
                .then(|| DrandBeacon::from_seed(&scenario.drand.seed)),
            evm,
        })
    }

    /// The scenario's EVM side (`eth_chainId`, `eth_getLogs`).
    pub fn evm(&self) -> &crate::evm::EvmLogs {
        &self.evm
    }

    pub fn metadata(&self) -> &Arc<ChainMetadata> {
        &self.meta
    }

    pub fn version(&self) -> &RuntimeVersion {
        &self.version
    }

    /// The runtime (version and metadata) a block was built with.
    fn runtime_of(&self, block: &Block) -> (&RuntimeVersion, &Arc<ChainMetadata>) {
        self.runtimes
            .iter()
            .find(|(v, _)| v.spec_version == block.spec_version)
            .map(|(v, m)| (v, m))
            .unwrap_or((&self.version, &self.meta))
    }

    /// The runtime that builds the next block: the code in the best block's state (a block is
    /// executed by its parent's runtime, as in Substrate).
    fn exec_meta(&self) -> Arc<ChainMetadata> {
        self.runtime_of(self.best()).1.clone()
    }

    /// The runtime version of a block; without `at`, the latest (an announced upgrade counts
    /// before the next block is sealed, so clients reacting to the notification see it).
    pub fn version_at(&self, at: Option<Hash>) -> Result<RuntimeVersion, NodeError> {
        match at {
            None => Ok(self.version.clone()),
            Some(_) => Ok(self.runtime_of(self.block(at)?).0.clone()),
        }
    }

    /// The metadata of a block's runtime; without `at`, the latest (as [`Self::version_at`]).
    pub fn metadata_at(&self, at: Option<Hash>) -> Result<Arc<ChainMetadata>, NodeError> {
        match at {
            None => Ok(self.meta.clone()),
            Some(_) => Ok(self.runtime_of(self.block(at)?).1.clone()),
        }
    }

    /// Runtime upgrade (`dev_runtimeUpgrade`): the next sealed block carries the new code (it is
    /// still executed by the old runtime, like a block with `set_code`), and the block after it
    /// is the first the new runtime executes. Spec 343 moves to finney's spec 424 (its metadata;
    /// subtensor's storage migration runs at the start of that first block); later runtimes get
    /// the spec version bumped by one with the same metadata.
    pub fn upgrade_runtime(&mut self) -> RuntimeVersion {
        if self.version.spec_version < RuntimeSpec::Spec424.spec_version() {
            let meta = RuntimeSpec::Spec343
                .upgrade()
                .metadata()
                .expect("the embedded spec-424 metadata decodes");
            self.meta = Arc::new(meta);
            self.version = RuntimeVersion::of(&self.meta);
            self.migration_pending = true;
        } else {
            self.version.spec_version += 1;
        }
        self.runtimes
            .push((self.version.clone(), self.meta.clone()));
        self.version.clone()
    }

    pub fn genesis_hash(&self) -> Hash {
        self.blocks[0].hash
    }

    pub fn best(&self) -> &Block {
        self.blocks.last().expect("genesis always exists")
    }

    pub fn block_by_number(&self, number: u32) -> Option<&Block> {
        self.blocks.get(number as usize)
    }

    pub fn block(&self, at: Option<Hash>) -> Result<&Block, NodeError> {
        match at {
            None => Ok(self.best()),
            Some(hash) => self
                .by_hash
                .get(&hash)
                .map(|n| &self.blocks[*n as usize])
                .ok_or(NodeError::UnknownBlock(hash)),
        }
    }

    /// The post-state of a block (best when `at` is `None`), addressed by names.
    pub fn state_at(&self, at: Option<Hash>) -> Result<BlockState, NodeError> {
        let block = self.block(at)?;
        let raw = block
            .state
            .clone()
            .ok_or(NodeError::StatePruned(block.hash))?;
        let meta = self.runtime_of(block).1.clone();
        Ok(BlockState::new(meta, raw, block.header.number))
    }

    pub fn pool(&self) -> &[PendingTx] {
        &self.pool
    }

    /// Next nonce of an account, counting its transactions waiting in the pool.
    pub fn account_next_index(&self, account: [u8; 32]) -> u32 {
        let state = BlockState::new(self.exec_meta(), self.pending_state.clone(), 0);
        state
            .read("System", "Account", &[Value::from_bytes(account)])
            .and_then(|info| match info.value {
                scale_value::ValueDef::Composite(scale_value::Composite::Named(fields)) => fields
                    .into_iter()
                    .find(|(n, _)| n == "nonce")
                    .and_then(|(_, v)| v.as_u128()),
                _ => None,
            })
            .unwrap_or(0) as u32
    }

    fn context(&self, extrinsic_index: u32, now_ms: u64) -> ApplyContext {
        let best = self.best();
        let exec = self.runtime_of(best).0;
        ApplyContext {
            block_number: best.header.number + 1,
            extrinsic_index,
            genesis_hash: self.genesis_hash(),
            parent_hash: best.hash,
            spec_version: exec.spec_version,
            transaction_version: exec.transaction_version,
            now_ms,
        }
    }

    /// Validate a transaction against the pending state and queue it for the next block.
    pub fn submit(&mut self, bytes: Vec<u8>, now_ms: u64) -> Result<Hash, NodeError> {
        let hash = sp_crypto_hashing::blake2_256(&bytes);
        if self.pool.iter().any(|tx| tx.hash == hash) {
            return Err(NodeError::AlreadyImported);
        }
        let ctx = self.context(self.pool.len() as u32 + 1, now_ms);
        let meta = self.exec_meta();
        let mut state = BlockState::new(meta.clone(), self.pending_state.clone(), ctx.block_number);
        state.set_phase(Phase::ApplyExtrinsic(ctx.extrinsic_index));
        apply_guarded(&meta, &mut state, &bytes, &ctx)
            .map_err(|(code, reason)| NodeError::InvalidTransaction { code, reason })?;
        self.pending_state = state.raw;
        self.pool.push(PendingTx { hash, bytes });
        Ok(hash)
    }

    /// Build, seal and import the next block from the pool.
    pub fn seal(&mut self, now_ms: u64) -> SealOutcome {
        let parent = self.best();
        let parent_hash = parent.hash;
        let number = parent.header.number + 1;
        let now_ms = now_ms.max(parent.timestamp_ms + 1);
        // The parent's runtime builds this block; a runtime upgraded in the parent (its state
        // holds the new code) runs its storage migration first.
        let (exec_version, meta) = {
            let (v, m) = self.runtime_of(parent);
            (v.spec_version, m.clone())
        };
        let mut state = BlockState::new(
            meta.clone(),
            parent.state.clone().unwrap_or_default(),
            number,
        );
        state.write("System", "Number", &[], Value::u128(number.into()));
        state.write("System", "ParentHash", &[], Value::from_bytes(parent_hash));
        state.write(
            "System",
            "BlockHash",
            &[Value::u128((number - 1).into())],
            Value::from_bytes(parent_hash),
        );
        state.write("Timestamp", "Now", &[], Value::u128(now_ms.into()));
        if self.migration_pending && exec_version >= RuntimeSpec::Spec424.spec_version() {
            self.migration_pending = false;
            crate::migrations::spec_343_to_424(&mut state, number.into());
        }
        if let Some(beacon) = &self.beacon {
            beacon.store_pulses(&mut state, now_ms);
        }
        let hook_ctx = self.context(0, now_ms);
        run_hook(&mut state, |state| {
            extrinsics::on_initialize(&meta, state, &hook_ctx)
        });

        let mut body = vec![timestamp_inherent(&meta, now_ms)];
        state.set_phase(Phase::ApplyExtrinsic(0));
        deposit_success(&meta, &mut state, "Mandatory");

        let mut included = Vec::new();
        let mut dropped = Vec::new();
        for tx in std::mem::take(&mut self.pool) {
            let ctx = self.context(body.len() as u32, now_ms);
            let before = state.raw.clone();
            let events = state.event_count();
            state.set_phase(Phase::ApplyExtrinsic(ctx.extrinsic_index));
            match apply_guarded(&meta, &mut state, &tx.bytes, &ctx) {
                Ok(()) => {
                    body.push(tx.bytes);
                    included.push(tx.hash);
                }
                Err((_, reason)) => {
                    state.raw = before;
                    state.truncate_events(events);
                    dropped.push((tx.hash, reason));
                }
            }
        }
        state.set_phase(Phase::Finalization);
        run_hook(&mut state, |state| {
            extrinsics::on_finalize(&meta, state, &hook_ctx)
        });
        state.flush_events();

        let extrinsics_root = extrinsics_root(&body);
        let mut root_input = self.best().header.state_root.to_vec();
        root_input.extend_from_slice(&extrinsics_root);
        number.encode_to(&mut root_input);
        let header = Header {
            parent_hash,
            number,
            state_root: sp_crypto_hashing::blake2_256(&root_input),
            extrinsics_root,
            digest: vec![aura_pre_digest(now_ms / SLOT_MS)],
        };
        let hash = header.hash();
        self.pending_state = state.raw.clone();
        self.blocks.push(Block {
            hash,
            header,
            extrinsics: body,
            state: Some(state.raw),
            timestamp_ms: now_ms,
            spec_version: self.version.spec_version,
        });
        self.by_hash.insert(hash, number);
        self.prune();
        SealOutcome {
            block_hash: hash,
            number,
            included,
            dropped,
        }
    }

    /// Drop the state of blocks more than `pruning` behind the best one (headers stay).
    fn prune(&mut self) {
        let Some(keep) = self.pruning else {
            return;
        };
        let best = self.best().header.number;
        let Some(cutoff) = best.checked_sub(keep) else {
            return;
        };
        for block in self.blocks[..cutoff as usize].iter_mut().rev() {
            if block.state.is_none() {
                break;
            }
            block.state = None;
        }
    }
}

/// `Timestamp.set(now)` as the unsigned inherent every subtensor block starts with.
fn timestamp_inherent(meta: &ChainMetadata, now_ms: u64) -> Vec<u8> {
    let call = Value::unnamed_variant(
        "Timestamp",
        [Value::named_variant(
            "set",
            [("now", Value::u128(now_ms.into()))],
        )],
    );
    let mut xt = vec![0b0000_0100u8];
    xt.extend(
        codec::encode(&call, meta.call_enum_type(), meta.types())
            .expect("Timestamp.set encodes against the runtime's call type"),
    );
    let mut out = Compact(xt.len() as u32).encode();
    out.extend(xt);
    out
}

fn deposit_success(meta: &ChainMetadata, state: &mut BlockState, class: &str) {
    let info_ty = event_field_type(meta, "System", "ExtrinsicSuccess", 0);
    let mut info = build_struct(meta.types(), info_ty, vec![]);
    info = crate::storage::with_fields(info, vec![("class", Value::unnamed_variant(class, []))]);
    state.deposit_event("System", "ExtrinsicSuccess", vec![("dispatch_info", info)]);
}

/// Run a block hook; if it panics, undo its writes and events and carry on with the block.
fn run_hook(state: &mut BlockState, hook: impl FnOnce(&mut BlockState)) {
    let before = state.raw.clone();
    let events = state.event_count();
    if catch_unwind(AssertUnwindSafe(|| hook(&mut *state))).is_err() {
        tracing::error!("a block hook panicked; its changes were rolled back");
        state.raw = before;
        state.truncate_events(events);
    }
}

fn apply_guarded(
    meta: &ChainMetadata,
    state: &mut BlockState,
    bytes: &[u8],
    ctx: &ApplyContext,
) -> Result<(), (i32, String)> {
    match catch_unwind(AssertUnwindSafe(|| {
        extrinsics::apply(meta, state, bytes, ctx)
    })) {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err((e.rpc_code(), e.to_string())),
        Err(_) => Err((
            1010,
            "the runtime failed to apply the transaction".to_owned(),
        )),
    }
}

/// The message a Substrate node gives with each transaction-rejection code.
pub fn rejection_message(code: i32) -> &'static str {
    match code {
        1001 => "Extrinsic has invalid format",
        1011 => "Unknown Transaction Validity",
        _ => "Invalid Transaction",
    }
}

/// Type id of field `index` of `pallet`'s event `event`.
fn event_field_type(meta: &ChainMetadata, pallet: &str, event: &str, index: usize) -> u32 {
    let types = meta.types();
    meta.v15()
        .pallets
        .iter()
        .find(|p| p.name == pallet)
        .and_then(|p| p.event.as_ref())
        .and_then(|e| types.resolve(e.ty.id))
        .and_then(|t| match &t.type_def {
            scale_info::TypeDef::Variant(v) => v.variants.iter().find(|v| v.name == event),
            _ => None,
        })
        .and_then(|v| v.fields.get(index))
        .map(|f| f.ty.id)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::SubnetSpec;

    fn chain(scenario: &Scenario) -> Chain {
        let meta = Arc::new(ChainMetadata::finney().unwrap());
        Chain::new(meta, scenario, None, 1_700_000_000_000).unwrap()
    }

    #[test]
    fn genesis_hash_depends_on_the_scenario_only() {
        let a = Scenario::builtin_default();
        let mut b = Scenario::builtin_default();
        b.subnets.push(SubnetSpec {
            netuid: 9,
            ..a.subnets[2].clone()
        });
        assert_eq!(chain(&a).genesis_hash(), chain(&a).genesis_hash());
        assert_ne!(chain(&a).genesis_hash(), chain(&b).genesis_hash());
    }

    #[test]
    fn every_block_keeps_its_own_state() {
        let mut chain = chain(&Scenario::builtin_default());
        let genesis = chain.genesis_hash();
        let first = chain.seal(1_700_000_012_000);
        chain.seal(1_700_000_024_000);
        let number_at = |at| {
            chain
                .state_at(Some(at))
                .unwrap()
                .read("System", "Number", &[])
                .and_then(|v| v.as_u128())
        };
        assert_eq!(number_at(genesis), Some(0));
        assert_eq!(number_at(first.block_hash), Some(1));
        assert_eq!(chain.best().header.number, 2);
        assert_eq!(chain.best().header.parent_hash, first.block_hash);
        let now = chain
            .state_at(None)
            .unwrap()
            .read("Timestamp", "Now", &[])
            .and_then(|v| v.as_u128());
        assert_eq!(now, Some(1_700_000_024_000));
        // No epoch of netuid 1 (tempo 360) in blocks 1 and 2: two steps since the last one.
        let since = chain
            .state_at(None)
            .unwrap()
            .read("SubtensorModule", "BlocksSinceLastStep", &[Value::u128(1)])
            .and_then(|v| v.as_u128());
        assert_eq!(since, Some(2));
    }
}
