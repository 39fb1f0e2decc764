//! `pylon_weights::runner::WeightsSubmitter` over `pylon_chain`: the weights runner's view of
//! the chain, signing with each identity's hotkey, every extrinsic attempt timed.
//!
//! The adapter lives with the service's writer, which already depends on both the chain crate
//! and the domain crate: pylon-chain reads and submits without knowing the weights runner, and
//! pylon-weights stays free of subxt (its tests run against a scripted chain).
//!
//! Every attempt is recorded in `pylon_apply_weights_attempt_duration_seconds` with what was
//! sent (the call's name, as `pylon_chain::weights` names it) and how it ended (`included`,
//! `retryable`, `fatal`, or `timeout` when the runner gave up waiting).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use pylon_chain::epoch_schedule::EpochStorage;
use pylon_chain::model::BlockRef;
use pylon_chain::submit::{ChainCall, SubmitError};
use pylon_chain::weights::{
    commit_timelocked_weights_call, commit_timelocked_weights_call_name, set_weights_call,
    set_weights_call_name,
};
use pylon_chain::weights_traces::netuid_storage_index;
use pylon_chain::{ChainClient, ChainError};
use pylon_wallet::HotkeySigner;
use pylon_weights::commit::{BeaconInfo, TimelockedCommit};
use pylon_weights::convert::ChainWeights;
use pylon_weights::dispatch::classify_module_error;
use pylon_weights::epoch::{ChainPosition, EpochState, PinnedSchedule, Schedule};
use pylon_weights::job::JobKey;
use pylon_weights::runner::{
    AttemptError, Inclusion, SignedNote, SubnetSettings, WeightsSubmitter,
};

use super::lead::Leadership;
use crate::metrics::observe_weights_attempt;

/// The epoch storage the chain keeps, as the domain's schedule: the stateful scheduler where
/// the block's metadata has its items, the fixed grid otherwise.
pub fn pinned_schedule(storage: EpochStorage) -> PinnedSchedule {
    let EpochStorage {
        netuid,
        block,
        tempo,
        stateful,
        next_epoch_start,
    } = storage;
    let schedule = match stateful {
        Some(items) => Schedule::Stateful(EpochState {
            block,
            tempo,
            last_epoch_block: items.last_epoch_block,
            pending_epoch_at: items.pending_epoch_at,
            epoch_index: items.epoch_index,
            blocks_since_last_step: items.blocks_since_last_step,
        }),
        None => Schedule::Fixed {
            netuid,
            tempo,
            block,
        },
    };
    PinnedSchedule {
        schedule,
        next_epoch_start,
    }
}

/// The chain's epoch schedule of a subnet at one block, in the domain's terms.
pub trait EpochSchedules {
    fn epoch_schedule(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> impl std::future::Future<Output = Result<PinnedSchedule, ChainError>> + Send;
}

impl EpochSchedules for ChainClient {
    async fn epoch_schedule(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<PinnedSchedule, ChainError> {
        self.epoch_storage(netuid, block).await.map(pinned_schedule)
    }
}

/// The identities' loaded hotkeys: identity name → its signer and ss58 address (derived once:
/// responses, logs and metric labels all name it). The one such map, shared by the writer and
/// the runner's chain.
#[derive(Debug, Default)]
pub struct Hotkeys(HashMap<String, LoadedHotkey>);

/// An identity's loaded hotkey. Debug shows the address only (HotkeySigner's Debug shows
/// nothing secret).
#[derive(Debug)]
pub struct LoadedHotkey {
    pub signer: Arc<HotkeySigner>,
    pub address: String,
}

impl Hotkeys {
    /// Add `identity`'s hotkey; its address is derived here, once.
    pub fn insert(&mut self, identity: String, signer: Arc<HotkeySigner>) -> &LoadedHotkey {
        let address = signer.ss58_address();
        self.0
            .insert(identity.clone(), LoadedHotkey { signer, address });
        &self.0[&identity]
    }

    pub fn signer(&self, identity: &str) -> Option<&Arc<HotkeySigner>> {
        self.0.get(identity).map(|loaded| &loaded.signer)
    }

    /// The identity's hotkey ss58 address.
    pub fn address(&self, identity: &str) -> Option<&str> {
        self.0.get(identity).map(|loaded| loaded.address.as_str())
    }

    /// The identities' names, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.0.keys().cloned().collect();
        names.sort();
        names
    }

    /// Identity name → hotkey ss58 address.
    pub fn addresses(&self) -> HashMap<String, String> {
        self.0
            .iter()
            .map(|(name, loaded)| (name.clone(), loaded.address.clone()))
            .collect()
    }
}

impl FromIterator<(String, Arc<HotkeySigner>)> for Hotkeys {
    fn from_iter<I: IntoIterator<Item = (String, Arc<HotkeySigner>)>>(iter: I) -> Self {
        let mut hotkeys = Hotkeys::default();
        for (identity, signer) in iter {
            hotkeys.insert(identity, signer);
        }
        hotkeys
    }
}

/// The chain as the weights runner sees it, with the hotkeys of the configured identities.
pub struct ChainWeightsSubmitter {
    chain: Arc<ChainClient>,
    hotkeys: Arc<Hotkeys>,
    /// With a shared job store: sign only for identities this instance leads.
    fence: Option<Arc<Leadership>>,
}

impl std::fmt::Debug for ChainWeightsSubmitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Identity names and addresses only.
        f.debug_struct("ChainWeightsSubmitter")
            .field("hotkeys", &self.hotkeys)
            .finish_non_exhaustive()
    }
}

impl ChainWeightsSubmitter {
    pub fn new(chain: Arc<ChainClient>, hotkeys: Arc<Hotkeys>) -> Self {
        ChainWeightsSubmitter {
            chain,
            hotkeys,
            fence: None,
        }
    }

    /// Refuse to sign for an identity this instance does not lead (checked before each
    /// submission, so a runner that outlived its leadership sends nothing).
    pub fn fenced(mut self, leadership: Arc<Leadership>) -> Self {
        self.fence = Some(leadership);
        self
    }

    fn check_fence(&self, key: &JobKey) -> Result<(), AttemptError> {
        match &self.fence {
            Some(leadership) if !leadership.leads(&key.identity) => Err(AttemptError::Retryable(
                format!("this instance does not lead identity `{}`", key.identity),
            )),
            _ => Ok(()),
        }
    }

    fn timer(&self, key: &JobKey, operation: &'static str) -> AttemptTimer {
        AttemptTimer {
            operation,
            netuid: key.netuid,
            hotkey: self
                .hotkeys
                .address(&key.identity)
                .unwrap_or_default()
                .to_owned(),
            started: Instant::now(),
            finished: false,
        }
    }

    fn signer(&self, identity: &str) -> Result<&HotkeySigner, AttemptError> {
        self.hotkeys
            .signer(identity)
            .map(Arc::as_ref)
            .ok_or_else(|| {
                AttemptError::Fatal(format!("identity `{identity}` has no hotkey loaded"))
            })
    }

    fn head(&self) -> Result<BlockRef, AttemptError> {
        self.chain.latest_block().map_err(read_error)
    }

    async fn submit(
        &self,
        identity: &str,
        call: ChainCall,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, AttemptError> {
        let signer = self.signer(identity)?;
        let included = self
            .chain
            .submit_signed(signer, &call, |hash| note.signed(hash))
            .await
            .map_err(submit_error)?;
        Ok(Inclusion {
            block: included.block_number,
            extrinsic_hash: included.extrinsic_hash,
        })
    }

    /// A CRv4 commit of `hotkey` filed at or after `since` and still unrevealed, under any epoch
    /// key: the whole live `TimelockedWeightCommits` prefix of the subnet mechanism.
    async fn find_commit(
        &self,
        key: &JobKey,
        hotkey: [u8; 32],
        since: u64,
        head: &BlockRef,
    ) -> Result<Option<u64>, AttemptError> {
        let index = netuid_storage_index(key.netuid, key.mechid);
        let commits = self
            .chain
            .timelocked_weight_commits(index, head)
            .await
            .map_err(read_error)?;
        Ok(commits
            .iter()
            .filter(|c| c.who == hotkey && c.commit_block >= since)
            .map(|c| c.commit_block)
            .min())
    }

    /// The block at which `hotkey`'s weights were last set, if at or after `since`.
    async fn find_weights_set(
        &self,
        key: &JobKey,
        hotkey: [u8; 32],
        since: u64,
        head: &BlockRef,
    ) -> Result<Option<u64>, AttemptError> {
        let Some(uid) = self
            .chain
            .uid_of_hotkey(key.netuid, hotkey, head)
            .await
            .map_err(read_error)?
        else {
            return Ok(None);
        };
        let last_update = self
            .chain
            .last_update(netuid_storage_index(key.netuid, key.mechid), head)
            .await
            .map_err(read_error)?;
        Ok(last_update
            .get(usize::from(uid))
            .copied()
            .filter(|block| *block >= since))
    }
}

impl WeightsSubmitter for ChainWeightsSubmitter {
    async fn position(&self, netuid: u16) -> Result<ChainPosition, AttemptError> {
        let head = self.head()?;
        let epoch_index = self
            .chain
            .subnet_epoch_index(netuid, &head)
            .await
            .map_err(read_error)?;
        Ok(ChainPosition {
            block: u64::from(head.number),
            epoch_index,
        })
    }

    /// Everything an attempt decides by, read at one pinned block (the head when called).
    async fn subnet_settings(&self, netuid: u16) -> Result<SubnetSettings, AttemptError> {
        let head = self.head()?;
        let (settings, pinned) = futures::try_join!(
            self.chain.subnet_settings(netuid, &head),
            self.chain.epoch_schedule(netuid, &head),
        )
        .map_err(read_error)?;
        // Measured, not declared: see `pace`.
        let block_time_secs = match self.chain.block_time_secs(&head).await {
            Ok(secs) => secs,
            Err(error) => {
                tracing::debug!(%error, "cannot measure the block time; using the declared one");
                settings.block_time_ms as f64 / 1000.0
            }
        };
        let beacon = if settings.commit_reveal_weights_enabled {
            let config = self.chain.drand_beacon(&head).await.map_err(read_error)?;
            Some(BeaconInfo {
                public_key: config.public_key,
                genesis_time: config.genesis_time,
                period: config.period,
            })
        } else {
            None
        };
        Ok(SubnetSettings {
            schedule: pinned.schedule,
            commit_reveal_enabled: settings.commit_reveal_weights_enabled,
            reveal_period_epochs: settings.reveal_period_epochs,
            version_key: settings.weights_version_key,
            block_time_secs,
            beacon,
        })
    }

    fn hotkey_public_key(&self, identity: &str) -> Result<[u8; 32], AttemptError> {
        Ok(self.signer(identity)?.public_key())
    }

    async fn submit_direct(
        &self,
        key: &JobKey,
        weights: &ChainWeights,
        version_key: u64,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, AttemptError> {
        let call = set_weights_call(
            key.netuid,
            key.mechid,
            &weights.uids,
            &weights.values,
            version_key,
        );
        self.check_fence(key)?;
        let timer = self.timer(key, set_weights_call_name(key.mechid));
        let outcome = self.submit(&key.identity, call, note).await;
        timer.finish(&outcome);
        outcome
    }

    async fn submit_commit(
        &self,
        key: &JobKey,
        commit: &TimelockedCommit,
        note: &SignedNote<'_>,
    ) -> Result<Inclusion, AttemptError> {
        let call = commit_timelocked_weights_call(
            key.netuid,
            key.mechid,
            &commit.ciphertext,
            commit.reveal_round,
        );
        self.check_fence(key)?;
        let timer = self.timer(key, commit_timelocked_weights_call_name(key.mechid));
        let outcome = self.submit(&key.identity, call, note).await;
        timer.finish(&outcome);
        outcome
    }

    /// Storage traces rather than a block scan: a direct set moves the hotkey's `LastUpdate` to
    /// its block; a CRv4 commit sits in `TimelockedWeightCommits` until revealed, and its reveal
    /// moves `LastUpdate`. Either at or after `since_block` means the extrinsic landed.
    async fn find_landed(
        &self,
        key: &JobKey,
        since_block: u64,
        extrinsic_hash: Option<&str>,
    ) -> Result<Option<Inclusion>, AttemptError> {
        let hotkey = self.signer(&key.identity)?.public_key();
        let head = self.head()?;
        let settings = self
            .chain
            .subnet_settings(key.netuid, &head)
            .await
            .map_err(read_error)?;
        let mut landed = None;
        if settings.commit_reveal_weights_enabled {
            landed = self.find_commit(key, hotkey, since_block, &head).await?;
        }
        if landed.is_none() {
            landed = self
                .find_weights_set(key, hotkey, since_block, &head)
                .await?;
        }
        Ok(landed.map(|block| Inclusion {
            block,
            extrinsic_hash: extrinsic_hash.unwrap_or_default().to_owned(),
        }))
    }
}

/// Reads fail for reasons that pass (connection, a node lagging): try again.
fn read_error(error: ChainError) -> AttemptError {
    AttemptError::Retryable(error.to_string())
}

fn submit_error(error: SubmitError) -> AttemptError {
    match error {
        SubmitError::Module { pallet, name, docs } => classify_module_error(&pallet, &name, &docs),
        // A nonce race, a stale era, a rate limit or a round the chain already holds pass with
        // the next attempt (re-signed, re-planned); an unregistered hotkey or no funds do not.
        SubmitError::Invalid(refusal) if !refusal.is_retryable() => {
            AttemptError::Fatal(format!("transaction refused: {refusal}"))
        }
        SubmitError::Connection(_) | SubmitError::Invalid(_) => {
            AttemptError::Retryable(error.to_string())
        }
        SubmitError::Dispatch(_) | SubmitError::Call(_) => AttemptError::Fatal(error.to_string()),
    }
}

/// Records the attempt when it resolves, or as `timeout` when the runner drops it unresolved.
struct AttemptTimer {
    operation: &'static str,
    netuid: u16,
    hotkey: String,
    started: Instant,
    finished: bool,
}

impl AttemptTimer {
    fn finish<T>(mut self, outcome: &Result<T, AttemptError>) {
        let status = match outcome {
            Ok(_) => "included",
            Err(AttemptError::Retryable(_)) => "retryable",
            Err(AttemptError::Fatal(_)) => "fatal",
        };
        self.record(status, self.started.elapsed());
        self.finished = true;
    }

    fn record(&self, status: &'static str, elapsed: Duration) {
        observe_weights_attempt(self.operation, status, self.netuid, &self.hotkey, elapsed);
    }
}

impl Drop for AttemptTimer {
    fn drop(&mut self) {
        if !self.finished {
            self.record("timeout", self.started.elapsed());
        }
    }
}
