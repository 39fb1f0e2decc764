//! The write path over HTTP: identities' hotkeys, the durable weights jobs, and the routes that
//! set weights and publish commitments and certificates.
//!
//! - [`Writer`]: loaded at start-up when identities are configured (a hotkey that cannot be
//!   loaded stops the start, naming the identity and the file), and resumes unfinished jobs.
//! - [`weights`]: `PUT …/weights` records a job and answers at once; the job runs in the
//!   background until included, failed or expired; `GET …/weights/status` reports it.
//! - [`publish`]: commitments and certificates, answered once included in a block.
//!
//! Every write route is an identity route: the identity's own hotkey signs.

pub mod lead;
pub mod publish;
mod retry;
pub mod submitter;
pub mod weights;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pylon_chain::ChainClient;
use pylon_wallet::{HotkeySigner, KeyfileError};
use pylon_weights::job::{Job, JobId, JobKey, JobState};
use pylon_weights::jobs::{JobTask, WeightsJobs};
use pylon_weights::runner::RunnerConfig;
use pylon_weights::store::{JobStore, StoreError};
use utoipa_axum::routes;

use self::submitter::{ChainWeightsSubmitter, Hotkeys};
use crate::access::Scope;
use crate::error::ApiError;
use crate::settings::{Identity, Settings};
use crate::state::AppState;

/// What a write without an identity is told (the service's fallback says the same for the write
/// paths under an open-access prefix, where no write route exists).
pub const IDENTITY_ONLY: &str =
    "writes and `self` are identity routes: …/identity/{name}/subnet/{netuid}/…";

/// The job database's file name inside `PYLON_DATA_DIR`.
pub const JOBS_FILE: &str = "weights-jobs.redb";

/// Why the write path cannot start. Names the identity or file; never key material.
#[derive(Debug, thiserror::Error)]
pub enum WriterError {
    #[error("identity `{identity}`: {source}")]
    Hotkey {
        identity: String,
        source: KeyfileError,
    },
    #[error(
        "identity `{identity}`: hotkey file {path} is encrypted: set {variable} to its password"
    )]
    HotkeyPasswordMissing {
        identity: String,
        path: PathBuf,
        variable: String,
    },
    #[error("identity `{identity}`: wrong password for hotkey file {path} (from {variable})")]
    HotkeyPasswordWrong {
        identity: String,
        path: PathBuf,
        variable: String,
    },
    #[error("cannot create the data directory {path} (PYLON_DATA_DIR): {reason}")]
    DataDir { path: PathBuf, reason: String },
    #[error("cannot open the weights job store {path}: {source}")]
    Store { path: PathBuf, source: StoreError },
    #[error("cannot open the weights job store in PostgreSQL (PYLON_DATABASE_URL): {0}")]
    SharedStore(StoreError),
}

/// Finished jobs are kept this long (the status routes read them), then pruned.
pub const KEEP_FINISHED: Duration = Duration::from_secs(7 * 24 * 3600);
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
/// How often a running job's state is looked at for [`Writer::job_events`].
const JOB_POLL: Duration = Duration::from_millis(250);

/// A weights job that changed state (the live event stream's `weights` events).
#[derive(Debug, Clone)]
pub struct JobChange {
    pub job: Job,
}

/// What signs and remembers the identities' writes.
pub struct Writer {
    hotkeys: Arc<Hotkeys>,
    pub jobs: WeightsJobs<ChainWeightsSubmitter>,
    /// With a shared store (`PYLON_DATABASE_URL`): the identities this instance leads.
    pub leadership: Option<Arc<lead::Leadership>>,
    /// Every state a watched job takes (the event hub forwards them; see [`Writer::watch`]).
    pub job_events: tokio::sync::broadcast::Sender<JobChange>,
}

impl Writer {
    /// Load every identity's hotkey and open the job store; `None` without identities (a
    /// read-only deployment needs neither wallets nor a data directory).
    pub fn open(
        settings: &Settings,
        chain: Arc<ChainClient>,
        runner: RunnerConfig,
    ) -> Result<Option<Self>, WriterError> {
        if settings.identities.is_empty() {
            return Ok(None);
        }
        let mut hotkeys = Hotkeys::default();
        for identity in &settings.identities {
            let signer = Arc::new(load_signer(settings, identity)?);
            let loaded = hotkeys.insert(identity.name.clone(), signer);
            tracing::info!(
                identity = %identity.name,
                netuid = identity.netuid,
                hotkey = %loaded.address,
                "identity hotkey loaded"
            );
        }
        let hotkeys = Arc::new(hotkeys);
        // The shared store's URL may carry a password: it goes to the PostgreSQL driver only
        // (never compared, never logged).
        let database_url =
            (!settings.database_url.is_empty()).then(|| settings.database_url.expose().to_owned());
        let store = match &database_url {
            None => open_embedded(settings)?,
            Some(url) => JobStore::connect(url).map_err(WriterError::SharedStore)?,
        };
        let mut submitter = ChainWeightsSubmitter::new(chain.clone(), Arc::clone(&hotkeys));
        let mut leadership = None;
        if store.is_shared() {
            let names = hotkeys.names();
            let leading = lead::new_leadership(&names);
            submitter = submitter.fenced(Arc::clone(&leading));
            leadership = Some((leading, names));
        }
        let mut jobs = WeightsJobs::new(Arc::new(store), Arc::new(submitter), runner);
        let job_events = tokio::sync::broadcast::channel(256).0;
        let leadership = leadership.zip(database_url).map(|((leading, names), url)| {
            let gate = Arc::clone(&leading);
            jobs = jobs
                .clone()
                .with_gate(Arc::new(move |identity: &str| gate.leads(identity)));
            lead::spawn(
                url,
                names,
                jobs.clone(),
                chain,
                Arc::clone(&leading),
                Arc::new(hotkeys.addresses()),
                job_events.clone(),
            );
            leading
        });
        Ok(Some(Writer {
            hotkeys,
            jobs,
            leadership,
            job_events,
        }))
    }

    /// Every hour, delete finished jobs older than [`KEEP_FINISHED`] (each key's newest job
    /// stays), so the job file does not grow for as long as the service runs.
    pub fn spawn_pruning(&self) -> tokio::task::JoinHandle<()> {
        let jobs = self.jobs.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PRUNE_EVERY);
            loop {
                every.tick().await;
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let before = now.saturating_sub(KEEP_FINISHED).as_secs();
                match jobs.store().prune_finished(before) {
                    Ok(0) => {}
                    Ok(deleted) => tracing::info!(deleted, "pruned finished weights jobs"),
                    Err(error) => tracing::warn!(%error, "pruning finished weights jobs failed"),
                }
            }
        })
    }

    /// Drive the jobs a previous run left unfinished (in the background); how many. With a
    /// shared store, each identity's leader resumes its jobs when it takes the lead instead.
    pub fn resume(&self) -> Result<usize, StoreError> {
        if self.leadership.is_some() {
            return Ok(0);
        }
        let resumed = self.jobs.resume()?;
        let count = resumed.len();
        for (id, runner) in resumed {
            match self.jobs.store().get(id)? {
                Some(job) => self.watch(runner, &job.key, id),
                None => drop(runner),
            }
        }
        Ok(count)
    }

    /// Record the job's outcome and duration in the metrics when its runner ends, and send
    /// each state the job takes meanwhile on [`Writer::job_events`] (its state in the store is
    /// looked at every [`JOB_POLL`] while the runner runs, and once when it ends).
    pub fn watch(&self, runner: JobTask, key: &JobKey, id: JobId) {
        let hotkey = self.hotkey(&key.identity).unwrap_or_default().to_owned();
        watch_job(&self.jobs, &self.job_events, runner, key.netuid, hotkey, id);
    }

    pub fn signer(&self, identity: &str) -> Option<&HotkeySigner> {
        self.hotkeys.signer(identity).map(Arc::as_ref)
    }

    /// The identity's hotkey ss58 address.
    pub fn hotkey(&self, identity: &str) -> Option<&str> {
        self.hotkeys.address(identity)
    }
}

/// [`Writer::watch`]'s work, also for the jobs a shared store's new leader resumes
/// ([`lead`]): the job's outcome and duration in the metrics when its runner ends, and each state
/// it takes meanwhile on `events`.
pub(crate) fn watch_job(
    jobs: &WeightsJobs<ChainWeightsSubmitter>,
    events: &tokio::sync::broadcast::Sender<JobChange>,
    runner: JobTask,
    netuid: u16,
    hotkey: String,
    id: JobId,
) {
    let (jobs, events) = (jobs.clone(), events.clone());
    let started = std::time::Instant::now();
    tokio::spawn(async move {
        let mut runner = runner;
        let mut seen: Option<JobState> = None;
        let mut every = tokio::time::interval(JOB_POLL);
        loop {
            let ended = tokio::select! {
                ended = &mut runner => Some(ended),
                _ = every.tick() => None,
            };
            let jobs = jobs.clone();
            if let Ok(Ok(Some(job))) =
                tokio::task::spawn_blocking(move || jobs.store().get(id)).await
            {
                if seen.as_ref() != Some(&job.state) {
                    seen = Some(job.state.clone());
                    let _ = events.send(JobChange { job });
                }
            }
            if let Some(ended) = ended {
                if let Ok(Ok(state)) = ended {
                    crate::metrics::observe_weights_job(netuid, &hotkey, &state, started.elapsed());
                }
                return;
            }
        }
    });
}

fn open_embedded(settings: &Settings) -> Result<JobStore, WriterError> {
    let dir = &settings.data_dir;
    std::fs::create_dir_all(dir).map_err(|e| WriterError::DataDir {
        path: dir.clone(),
        reason: e.to_string(),
    })?;
    let path = dir.join(JOBS_FILE);
    JobStore::open(&path).map_err(|source| WriterError::Store { path, source })
}

fn load_signer(settings: &Settings, identity: &Identity) -> Result<HotkeySigner, WriterError> {
    let path = pylon_wallet::hotkey_path(
        &settings.wallet_path.to_string_lossy(),
        &identity.wallet_name,
        &identity.hotkey_name,
    );
    // An encrypted hotkey is decrypted here, once per start: the key derivation is deliberately slow.
    let password = identity.hotkey_password.as_ref().map(|p| p.expose());
    pylon_wallet::load_hotkey_with_password(&path, password).map_err(|source| {
        let identity_name = identity.name.clone();
        let variable = identity.variable("HOTKEY_PASSWORD");
        match source {
            KeyfileError::Encrypted { path } => WriterError::HotkeyPasswordMissing {
                identity: identity_name,
                path,
                variable,
            },
            KeyfileError::WrongPassword { path } => WriterError::HotkeyPasswordWrong {
                identity: identity_name,
                path,
                variable,
            },
            source => WriterError::Hotkey {
                identity: identity_name,
                source,
            },
        }
    })
}

/// The identity a write route acts for, with its signer.
pub(crate) fn acting_identity<'a>(
    state: &'a AppState,
    scope: &'a Scope,
) -> Result<(&'a Identity, &'a Writer, &'a HotkeySigner), ApiError> {
    let identity = scope
        .identity
        .as_ref()
        .ok_or_else(|| ApiError::NotFound(IDENTITY_ONLY.into()))?;
    let writer = state
        .writer
        .as_ref()
        .ok_or_else(|| ApiError::Unavailable("the write path is not running".into()))?;
    let signer = writer.signer(&identity.name).ok_or_else(|| {
        ApiError::Unavailable(format!("identity `{}` has no hotkey loaded", identity.name))
    })?;
    Ok((identity, writer, signer))
}

/// The write routes (identity tier), relative to a subnet prefix.
pub fn table() -> crate::routes::Table {
    crate::routes::Table::new()
        .routes(routes!(weights::put_weights))
        .routes(routes!(weights::put_mechanism_weights))
        .routes(routes!(weights::status))
        .routes(routes!(weights::mechanism_status))
        .routes(routes!(weights::submitted_in_epoch_of))
        .routes(routes!(publish::set_commitment))
        .routes(routes!(publish::set_revealed_commitment))
        .routes(routes!(publish::generate_certificate))
}
