//! One signer per identity across instances sharing a PostgreSQL job store.
//!
//! For each identity, a task keeps a dedicated connection and waits in
//! `pg_advisory_lock(hashtextextended('pylon:weights:' || identity, 0))`; the session that gets
//! the lock leads the identity, the others wait in the same call (so the next one takes over as
//! soon as PostgreSQL ends the dead leader's session). While leading, the task
//!
//! - resumes the identity's unfinished jobs — first waiting for two new blocks when one of them
//!   was `submitted` by the previous leader, so an extrinsic of its still in the pool has landed
//!   before the runner's recovery looks for it (`find_landed`) rather than being sent twice;
//! - `LISTEN`s on `pylon_weights_jobs`: a job recorded by any instance wakes it;
//! - pings the connection every [`PING_EVERY`]: a connection that fails or does not answer in
//!   [`PING_TIMEOUT`] means the lock may be gone, so leadership ends at once: the identity's
//!   runners are aborted and the submitter refuses to sign for it (the fence), before another
//!   instance can be granted the lock. The session asks PostgreSQL for TCP keepalives, so a
//!   leader cut off from the network loses its lock in about [`KEEPALIVE_LOSS`].

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use pylon_chain::ChainClient;
use pylon_weights::job::JobState;
use pylon_weights::jobs::WeightsJobs;
use pylon_weights::store::NOTIFY_CHANNEL;
use tokio::sync::{broadcast, mpsc};
use tokio_postgres::{AsyncMessage, NoTls};

use super::submitter::ChainWeightsSubmitter;
use super::JobChange;

const PING_EVERY: Duration = Duration::from_secs(2);
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// A safety net under LISTEN/NOTIFY: the leader also looks for new jobs this often.
const SWEEP_EVERY: Duration = Duration::from_secs(10);
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// Blocks to wait after a takeover before a `submitted` job's recovery looks for its extrinsic.
const SETTLE_BLOCKS: u32 = 2;
const SETTLE_MAX: Duration = Duration::from_secs(120);
/// What the lock session asks of PostgreSQL's TCP keepalives: idle 5 s, then 3 probes 2 s apart.
const KEEPALIVES: &str =
    "SET tcp_keepalives_idle = 5; SET tcp_keepalives_interval = 2; SET tcp_keepalives_count = 3";
pub const KEEPALIVE_LOSS: Duration = Duration::from_secs(11);

/// Which identities this instance leads now (read by the submitter's fence, `/ready` and
/// `/metrics`).
#[derive(Default)]
pub struct Leadership {
    leading: RwLock<HashMap<String, bool>>,
}

impl Leadership {
    fn new(identities: &[String]) -> Self {
        Leadership {
            leading: RwLock::new(identities.iter().map(|i| (i.clone(), false)).collect()),
        }
    }

    pub fn leads(&self, identity: &str) -> bool {
        let leading = self.leading.read().unwrap_or_else(|p| p.into_inner());
        leading.get(identity).copied().unwrap_or(false)
    }

    /// Every identity this instance may lead, with whether it leads it now, sorted.
    pub fn identities(&self) -> Vec<(String, bool)> {
        let leading = self.leading.read().unwrap_or_else(|p| p.into_inner());
        let mut all: Vec<(String, bool)> = leading.iter().map(|(i, l)| (i.clone(), *l)).collect();
        all.sort();
        all
    }

    fn set(&self, identity: &str, leads: bool) {
        let mut leading = self.leading.write().unwrap_or_else(|p| p.into_inner());
        leading.insert(identity.to_owned(), leads);
    }
}

/// Start one leadership task per identity.
pub(super) fn spawn(
    url: String,
    identities: Vec<String>,
    jobs: WeightsJobs<ChainWeightsSubmitter>,
    chain: Arc<ChainClient>,
    leadership: Arc<Leadership>,
    hotkeys: Arc<HashMap<String, String>>,
    job_events: broadcast::Sender<JobChange>,
) {
    for identity in identities {
        let task = Follower {
            url: url.clone(),
            identity,
            jobs: jobs.clone(),
            chain: Arc::clone(&chain),
            leadership: Arc::clone(&leadership),
            hotkeys: Arc::clone(&hotkeys),
            job_events: job_events.clone(),
        };
        tokio::spawn(task.run());
    }
}

pub(super) fn new_leadership(identities: &[String]) -> Arc<Leadership> {
    Arc::new(Leadership::new(identities))
}

struct Follower {
    url: String,
    identity: String,
    jobs: WeightsJobs<ChainWeightsSubmitter>,
    chain: Arc<ChainClient>,
    leadership: Arc<Leadership>,
    hotkeys: Arc<HashMap<String, String>>,
    /// The resumed jobs' states go to the live event stream like any other job's.
    job_events: broadcast::Sender<JobChange>,
}

impl Follower {
    async fn run(self) {
        loop {
            let outcome = self.follow().await;
            let was_leading = self.leadership.leads(&self.identity);
            // First the fence, then the runners: nothing signs for the identity from here on.
            self.leadership.set(&self.identity, false);
            let stopped = self.jobs.stop_identity(&self.identity);
            if was_leading {
                tracing::warn!(
                    identity = %self.identity,
                    stopped,
                    reason = %outcome.err().unwrap_or_default(),
                    "lost the identity's leadership: stopped signing for it"
                );
            } else if let Err(reason) = outcome {
                tracing::warn!(identity = %self.identity, %reason, "cannot wait for the identity's leadership");
            }
            tokio::time::sleep(RETRY_AFTER).await;
        }
    }

    /// Wait for the lock, then lead until the session is lost. Always ends in an error (why).
    async fn follow(&self) -> Result<(), String> {
        let (client, mut connection) = tokio_postgres::connect(&self.url, NoTls)
            .await
            .map_err(|e| format!("cannot connect to PYLON_DATABASE_URL: {e}"))?;
        let (notes, mut noted) = mpsc::unbounded_channel::<String>();
        // Drives the connection; ends (with why) when the session is gone.
        let mut session = tokio::spawn(async move {
            loop {
                match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(note))) => {
                        let _ = notes.send(note.payload().to_owned());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(error)) => return format!("the lock session failed: {error}"),
                    None => return "the lock session was closed".to_owned(),
                }
            }
        });
        let lost = |joined: Result<String, tokio::task::JoinError>| {
            joined.unwrap_or_else(|e| format!("the lock session's task ended: {e}"))
        };
        let lock_name = format!("pylon:weights:{}", self.identity);
        let acquire = async {
            client.batch_execute(KEEPALIVES).await?;
            client
                .execute(
                    "SELECT pg_advisory_lock(hashtextextended($1, 0))",
                    &[&lock_name],
                )
                .await?;
            client
                .batch_execute(&format!("LISTEN {NOTIFY_CHANNEL}"))
                .await
        };
        tokio::select! {
            acquired = acquire => acquired.map_err(|e| format!("waiting for the lock failed: {e}"))?,
            joined = &mut session => return Err(lost(joined)),
        }

        self.leadership.set(&self.identity, true);
        tracing::info!(identity = %self.identity, "leading the identity: signing its weights here");
        let mut resume = Box::pin(self.take_over());
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        let mut ping = tokio::time::interval(PING_EVERY);
        let mut resumed = false;
        loop {
            tokio::select! {
                () = &mut resume, if !resumed => resumed = true,
                Some(identity) = noted.recv() => {
                    if resumed && identity == self.identity {
                        self.resume();
                    }
                }
                _ = sweep.tick() => {
                    if resumed {
                        self.resume();
                    }
                }
                _ = ping.tick() => {
                    match tokio::time::timeout(PING_TIMEOUT, client.simple_query("SELECT 1")).await {
                        Ok(Ok(_)) => {}
                        Ok(Err(error)) => return Err(format!("the lock session failed: {error}")),
                        Err(_) => return Err(format!(
                            "the lock session did not answer within {} s",
                            PING_TIMEOUT.as_secs()
                        )),
                    }
                }
                joined = &mut session => return Err(lost(joined)),
            }
        }
    }

    /// Resume the identity's jobs, after letting a dead leader's extrinsic land if one may be
    /// on its way.
    async fn take_over(&self) {
        let store = self.jobs.store();
        let in_flight = match store.pending() {
            Ok(jobs) => jobs.iter().any(|job| {
                job.key.identity == self.identity && matches!(job.state, JobState::Submitted { .. })
            }),
            Err(error) => {
                tracing::warn!(identity = %self.identity, %error, "cannot read the unfinished jobs");
                true
            }
        };
        if in_flight {
            tracing::info!(
                identity = %self.identity,
                blocks = SETTLE_BLOCKS,
                "a previous leader had an extrinsic in flight: waiting for it to land before looking for it"
            );
            let mut heads = self.chain.heads();
            let settled = async {
                let mut start = None;
                loop {
                    let now = heads.borrow_and_update().as_ref().map(|head| head.number);
                    if let Some(now) = now {
                        if now >= *start.get_or_insert(now) + SETTLE_BLOCKS {
                            return;
                        }
                    }
                    if heads.changed().await.is_err() {
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(SETTLE_MAX, settled).await;
        }
        self.resume();
    }

    fn resume(&self) {
        match self.jobs.resume_identity(&self.identity) {
            Ok(resumed) => {
                for (id, runner) in resumed {
                    match self.jobs.store().get(id) {
                        Ok(Some(job)) => {
                            let hotkey = self.hotkeys.get(&job.key.identity).cloned();
                            super::watch_job(
                                &self.jobs,
                                &self.job_events,
                                runner,
                                job.key.netuid,
                                hotkey.unwrap_or_default(),
                                id,
                            );
                        }
                        _ => drop(runner),
                    }
                }
            }
            Err(error) => {
                tracing::warn!(identity = %self.identity, %error, "cannot resume the identity's jobs")
            }
        }
    }
}
