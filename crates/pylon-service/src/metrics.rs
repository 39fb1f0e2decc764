//! `/metrics`: Prometheus text for operators, guarded by `PYLON_METRICS_TOKEN` like the reference
//! (empty, missing, malformed or wrong bearer → 403).
//!
//! Two kinds of series:
//! - events (requests, chain calls, fallbacks, weights jobs) counted where they happen, in one
//!   process-wide registry, with the reference's names and labels;
//! - state (cache, chain head, reconnects, unfinished jobs) read from the service at scrape
//!   time, so nothing on the request path keeps them up to date.
//!
//! Every label value comes from a bounded set (route templates, operation names, outcomes,
//! configured netuids and identities' hotkeys): never a raw path, a token or a request value.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus::core::Collector;
use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};
use pylon_chain::{ChainObserver, FallbackReason, Outcome};
use pylon_weights::job::JobState;

use crate::error::ApiError;
use crate::state::AppState;

/// The `app_name` label of the HTTP series (the reference's value, so dashboards carry over).
pub const APP_NAME: &str = "bittensor-pylon";

/// HTTP durations: a cached read answers in well under a millisecond, a chain read in tens.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
    60.0,
];
const CHAIN_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0,
];
/// The reference's buckets for weights jobs (they span epochs) and attempts.
const JOB_BUCKETS: &[f64] = &[1.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0];
const ATTEMPT_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The event series, registered once per process.
pub struct Metrics {
    registry: Registry,
    pub(crate) requests: IntCounterVec,
    pub(crate) request_errors: IntCounterVec,
    pub(crate) request_duration: HistogramVec,
    pub(crate) requests_in_progress: IntGaugeVec,
    chain_operation_duration: HistogramVec,
    chain_fallbacks: IntCounterVec,
    weights_job_duration: HistogramVec,
    weights_attempt_duration: HistogramVec,
    commitment_job_duration: HistogramVec,
    revealed_commitment_job_duration: HistogramVec,
    open_connections: IntGauge,
    refused_connections: IntCounter,
    /// Event streams (`…/events`) open now.
    pub(crate) event_streams: IntGauge,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);

/// The process's event series.
pub fn global() -> &'static Metrics {
    &METRICS
}

fn register<C: Collector + Clone + 'static>(registry: &Registry, collector: C) -> C {
    registry
        .register(Box::new(collector.clone()))
        .expect("each series is registered once, under its own name");
    collector
}

fn histogram(name: &str, help: &str, buckets: &[f64], labels: &[&str]) -> HistogramVec {
    HistogramVec::new(
        HistogramOpts::new(name, help).buckets(buckets.to_vec()),
        labels,
    )
    .expect("valid histogram definition")
}

fn counter(name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    IntCounterVec::new(Opts::new(name, help), labels).expect("valid counter definition")
}

impl Metrics {
    fn new() -> Self {
        let registry = Registry::new();
        let http = ["method", "path", "status_code", "app_name"];
        Metrics {
            requests: register(
                &registry,
                counter("pylon_requests_total", "Total requests", &http),
            ),
            request_errors: register(
                &registry,
                counter(
                    "pylon_requests_error_total",
                    "Total requests answered with a 5xx status",
                    &http,
                ),
            ),
            request_duration: register(
                &registry,
                histogram(
                    "pylon_request_duration_seconds",
                    "Request duration, in seconds",
                    REQUEST_BUCKETS,
                    &http,
                ),
            ),
            requests_in_progress: register(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "pylon_requests_in_progress",
                        "Requests currently in progress",
                    ),
                    &["method", "path", "app_name"],
                )
                .expect("valid gauge definition"),
            ),
            chain_operation_duration: register(
                &registry,
                histogram(
                    "pylon_bittensor_operation_duration_seconds",
                    "Duration of chain calls, in seconds, by operation and outcome",
                    CHAIN_BUCKETS,
                    &["operation", "status", "uri", "netuid", "hotkey", "outcome"],
                ),
            ),
            chain_fallbacks: register(
                &registry,
                counter(
                    "pylon_bittensor_fallback_total",
                    "Chain calls sent to the other node than the one first chosen",
                    &["reason", "operation", "hotkey"],
                ),
            ),
            weights_job_duration: register(
                &registry,
                histogram(
                    "pylon_apply_weights_job_duration_seconds",
                    "Duration of weights jobs, from their start to their final state",
                    JOB_BUCKETS,
                    &["operation", "status", "netuid", "hotkey", "job_status"],
                ),
            ),
            weights_attempt_duration: register(
                &registry,
                histogram(
                    "pylon_apply_weights_attempt_duration_seconds",
                    "Duration of single weights extrinsic attempts",
                    ATTEMPT_BUCKETS,
                    &[
                        "operation",
                        "status",
                        "netuid",
                        "hotkey",
                        "extrinsic",
                        "outcome",
                    ],
                ),
            ),
            commitment_job_duration: register(
                &registry,
                histogram(
                    "pylon_set_commitment_job_duration_seconds",
                    "Duration of commitment and certificate publications, to inclusion or failure",
                    JOB_BUCKETS,
                    &["operation", "status", "netuid"],
                ),
            ),
            revealed_commitment_job_duration: register(
                &registry,
                histogram(
                    "pylon_set_revealed_commitment_job_duration_seconds",
                    "Duration of timelocked commitment publications, to inclusion or failure",
                    JOB_BUCKETS,
                    &["operation", "status", "netuid"],
                ),
            ),
            open_connections: register(
                &registry,
                IntGauge::new("pylon_http_connections_open", "HTTP connections open now")
                    .expect("valid gauge definition"),
            ),
            refused_connections: register(
                &registry,
                IntCounter::new(
                    "pylon_http_connections_refused_total",
                    "HTTP connections refused (503) because PYLON_MAX_CONNECTIONS were open",
                )
                .expect("valid counter definition"),
            ),
            event_streams: register(
                &registry,
                IntGauge::new(
                    "pylon_event_streams_open",
                    "Event streams (…/subnet/{netuid}/events) open now",
                )
                .expect("valid gauge definition"),
            ),
            registry,
        }
    }
}

/// Counts an open connection in `pylon_http_connections_open` for as long as it lives.
pub struct OpenConnection(());

impl OpenConnection {
    pub fn new() -> Self {
        global().open_connections.inc();
        OpenConnection(())
    }
}

impl Default for OpenConnection {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        global().open_connections.dec();
    }
}

/// A connection past `PYLON_MAX_CONNECTIONS` was refused.
pub fn connection_refused() {
    global().refused_connections.inc();
}

/// A weights job's final state as the `job_status` label.
pub fn job_status(state: &JobState) -> &'static str {
    match state {
        JobState::Pending => "pending",
        JobState::Submitted { .. } => "submitted",
        JobState::Included { .. } => "included",
        JobState::Failed { .. } => "failed",
        JobState::Expired => "expired",
        JobState::Superseded { .. } => "superseded",
    }
}

/// The reference's `status` label of a job: `success`, `error` or `cancelled` (replaced by a newer
/// job before it finished).
fn reference_status(state: &JobState) -> &'static str {
    match state {
        JobState::Included { .. } => SUCCESS,
        JobState::Superseded { .. } => "cancelled",
        _ => ERROR,
    }
}

const SUCCESS: &str = "success";
const ERROR: &str = "error";
/// The value of a reference label this series cannot know (the reference writes the same).
const NOT_APPLICABLE: &str = "N/A";

/// Record a finished weights job: its final state and how long it ran. Labelled as the reference
/// labels it (`operation="run_job"`, `status`), plus our `job_status`.
pub fn observe_weights_job(netuid: u16, hotkey: &str, state: &JobState, elapsed: Duration) {
    global()
        .weights_job_duration
        .with_label_values(&[
            "run_job",
            reference_status(state),
            &netuid.to_string(),
            hotkey,
            job_status(state),
        ])
        .observe(elapsed.as_secs_f64());
}

/// Record one weights extrinsic attempt. `extrinsic` is what was sent (`set_weights`,
/// `commit_timelocked_weights`, …), `outcome` how it ended (`included`, `retryable`, `fatal`,
/// `timeout`): both from a fixed set. The reference's labels come first
/// (`operation="_apply_weights"`, `status` success or error).
pub fn observe_weights_attempt(
    extrinsic: &'static str,
    outcome: &'static str,
    netuid: u16,
    hotkey: &str,
    elapsed: Duration,
) {
    let status = if outcome == "included" {
        SUCCESS
    } else {
        ERROR
    };
    global()
        .weights_attempt_duration
        .with_label_values(&[
            "_apply_weights",
            status,
            &netuid.to_string(),
            hotkey,
            extrinsic,
            outcome,
        ])
        .observe(elapsed.as_secs_f64());
}

/// What a publication was, for its duration series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Publication {
    Commitment,
    RevealedCommitment,
    Certificate,
}

/// Record a publication (commitment, timelocked commitment or certificate) from the request to
/// its inclusion or failure, in the reference's series.
pub fn observe_publication(kind: Publication, netuid: u16, included: bool, elapsed: Duration) {
    let metrics = global();
    let (series, operation) = match kind {
        Publication::Commitment => (&metrics.commitment_job_duration, "set_commitment"),
        Publication::Certificate => (&metrics.commitment_job_duration, "serve_axon_tls"),
        Publication::RevealedCommitment => (
            &metrics.revealed_commitment_job_duration,
            "set_revealed_commitment",
        ),
    };
    let status = if included { SUCCESS } else { ERROR };
    series
        .with_label_values(&[operation, status, &netuid.to_string()])
        .observe(elapsed.as_secs_f64());
}

/// Feeds the chain layer's reports into the registry, labelled as the reference labels them.
/// Chain reads are shared by every caller, so `netuid` and `hotkey` are `N/A` (as the reference
/// writes for labels an operation lacks); `uri` is the main node's, with any credentials masked.
#[derive(Debug)]
pub struct ChainMetrics {
    pub uri: String,
}

impl ChainObserver for ChainMetrics {
    fn operation(&self, operation: &'static str, outcome: Outcome, elapsed: Duration) {
        let status = if outcome == Outcome::Success {
            SUCCESS
        } else {
            ERROR
        };
        global()
            .chain_operation_duration
            .with_label_values(&[
                operation,
                status,
                &self.uri,
                NOT_APPLICABLE,
                NOT_APPLICABLE,
                outcome.as_str(),
            ])
            .observe(elapsed.as_secs_f64());
    }

    fn fallback(&self, operation: &'static str, reason: FallbackReason) {
        global()
            .chain_fallbacks
            .with_label_values(&[reason.as_str(), operation, NOT_APPLICABLE])
            .inc();
    }
}

/// `GET /metrics`.
pub fn router() -> Router<Arc<AppState>> {
    Router::new().route("/metrics", get(scrape))
}

async fn scrape(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(refused) = authorize(&state, &headers) {
        return refused.into_response();
    }
    let mut families = global().registry.gather();
    families.extend(state_registry(&state).gather());
    let mut body = Vec::new();
    if let Err(error) = TextEncoder::new().encode(&families, &mut body) {
        return ApiError::Unavailable(format!("cannot encode the metrics: {error}"))
            .into_response();
    }
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// Like the reference (service 2.x): 403 whether no token is configured (the endpoint is off) or
/// the bearer is missing, malformed or wrong. The comparison is constant-time
/// ([`crate::Secret`]).
fn authorize(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let token = &state.settings.metrics_token;
    if token.is_empty() {
        return Err(ApiError::Forbidden(
            "the metrics endpoint is not configured: set PYLON_METRICS_TOKEN".into(),
        ));
    }
    match crate::access::bearer(headers) {
        Ok(presented) if token.matches(presented) => Ok(()),
        Ok(_) => Err(ApiError::Forbidden("invalid metrics token".into())),
        Err(_) => Err(ApiError::Forbidden(
            "the metrics endpoint needs `Authorization: Bearer <PYLON_METRICS_TOKEN>`".into(),
        )),
    }
}

/// The state series, read now from this service.
fn state_registry(state: &AppState) -> Registry {
    let registry = Registry::new();
    let gauge = |name: &str, help: &str, value: i64| {
        let g = IntGauge::new(name, help).expect("valid gauge definition");
        g.set(value);
        register(&registry, g);
    };
    let total = |name: &str, help: &str, value: u64| {
        let c = IntCounter::new(name, help).expect("valid counter definition");
        c.inc_by(value);
        register(&registry, c);
    };

    let cache = state.cache.stats();
    total(
        "pylon_cache_hits_total",
        "Response cache lookups answered from memory",
        cache.hits,
    );
    total(
        "pylon_cache_misses_total",
        "Response cache lookups that went to the chain (prefetches included)",
        cache.misses,
    );
    gauge(
        "pylon_cache_bytes",
        "Bytes charged to the response cache",
        to_i64(cache.bytes),
    );
    gauge(
        "pylon_cache_max_bytes",
        "The response cache's bound (PYLON_CACHE_MAX_BYTES)",
        to_i64(cache.max_bytes),
    );
    gauge(
        "pylon_cache_entries",
        "Answers held by the response cache",
        to_i64(cache.entries),
    );

    let chain = &state.chain;
    gauge(
        "pylon_chain_connected",
        "1 while the main node is connected",
        i64::from(chain.is_connected()),
    );
    if let Some(connected) = chain.archive_connected() {
        gauge(
            "pylon_chain_archive_connected",
            "1 while the archive node is connected",
            i64::from(connected),
        );
    }
    total(
        "pylon_chain_reconnects_total",
        "Times the main node's connection was re-established after a loss",
        chain.reconnects(),
    );
    let head = chain.head();
    if let Some(head) = &head {
        gauge(
            "pylon_chain_head_block",
            "Number of the newest head followed",
            i64::from(head.number),
        );
    }
    if let Some(age) = chain.head_age() {
        let g = prometheus::Gauge::new(
            "pylon_chain_head_age_seconds",
            "Seconds since the newest head arrived (grows when the node stalls)",
        )
        .expect("valid gauge definition");
        g.set(age.as_secs_f64());
        register(&registry, g);
    }

    // How far the newest rendered neurons of each hot subnet trail the head: 0 or 1 when the
    // prefetch keeps up.
    if let Some(head) = &head {
        let lag = IntGaugeVec::new(
            Opts::new(
                "pylon_cache_neurons_lag_blocks",
                "Blocks between the head and the newest cached neurons, per subnet",
            ),
            &["netuid"],
        )
        .expect("valid gauge definition");
        for (netuid, number) in state.newest_cached_blocks() {
            lag.with_label_values(&[&netuid.to_string()])
                .set(i64::from(head.number.saturating_sub(number)));
        }
        register(&registry, lag);
    }

    if let Some(writer) = &state.writer {
        let jobs = IntGaugeVec::new(
            Opts::new(
                "pylon_weights_jobs",
                "Unfinished weights jobs by state (finished ones: the job duration histogram)",
            ),
            &["state"],
        )
        .expect("valid gauge definition");
        // Both states appear even at zero, so alerts on them have a series to watch.
        for name in ["pending", "submitted"] {
            jobs.with_label_values(&[name]).set(0);
        }
        match writer.jobs.store().pending() {
            Ok(unfinished) => {
                for job in unfinished {
                    jobs.with_label_values(&[job_status(&job.state)]).inc();
                }
            }
            Err(error) => tracing::warn!(%error, "cannot count the unfinished weights jobs"),
        }
        register(&registry, jobs);

        // Several instances (issue 13): which identities this one signs for.
        if let Some(leadership) = &writer.leadership {
            let leader = IntGaugeVec::new(
                Opts::new(
                    "pylon_weights_leader",
                    "1 when this instance holds the identity's lock and signs its weights, else 0",
                ),
                &["identity"],
            )
            .expect("valid gauge definition");
            for (identity, leads) in leadership.identities() {
                leader.with_label_values(&[&identity]).set(i64::from(leads));
            }
            register(&registry, leader);
        }
    }
    registry
}

fn to_i64(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition() -> String {
        let mut body = Vec::new();
        TextEncoder::new()
            .encode(&global().registry.gather(), &mut body)
            .unwrap();
        String::from_utf8(body).unwrap()
    }

    #[test]
    fn a_finished_weights_job_is_recorded_with_its_real_outcome() {
        let hotkey = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
        observe_weights_job(41, hotkey, &JobState::Expired, Duration::from_secs(3));
        let series = format!(
            "pylon_apply_weights_job_duration_seconds_count{{hotkey=\"{hotkey}\",job_status=\"expired\",netuid=\"41\",operation=\"run_job\",status=\"error\"}} 1"
        );
        assert!(exposition().contains(&series), "{}", exposition());

        observe_weights_attempt(
            "set_weights",
            "included",
            41,
            hotkey,
            Duration::from_millis(700),
        );
        assert!(exposition().contains(&format!(
            "pylon_apply_weights_attempt_duration_seconds_bucket{{extrinsic=\"set_weights\",hotkey=\"{hotkey}\",netuid=\"41\",operation=\"_apply_weights\",outcome=\"included\",status=\"success\",le=\"1\"}} 1"
        )));
    }

    #[test]
    fn every_final_job_state_has_its_own_label() {
        let states = [
            JobState::Included {
                block: 1,
                extrinsic_hash: "0x".into(),
            },
            JobState::Failed { reason: "x".into() },
            JobState::Expired,
            JobState::Superseded { by: 2 },
        ];
        let labels: Vec<_> = states.iter().map(job_status).collect();
        assert_eq!(labels, ["included", "failed", "expired", "superseded"]);
    }
}
