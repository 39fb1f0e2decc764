//! Configuration from the environment (and `.env`, or the file named by `PYLON_ENV_FILE`), with
//! the reference service's variable names and defaults. Invalid values name their variable.
//!
//! Each default has one home, [`Settings::new`]; [`Settings::from_vars`] starts from it, and the
//! settings table of docs/SERVICE.md is checked against it by a test. Variables of the reference
//! service that name the same thing under another name are read as aliases
//! ([`REFERENCE_ALIASES`]); the ones that configure what Pylon reads from the chain instead are
//! accepted and reported at start-up ([`Settings::ignored`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pylon_chain::Network;
use pylon_weights::commit::RevealRule;

use crate::secret::Secret;

/// One identity: a named wallet hotkey that works on one subnet, reached with its own token.
#[derive(Debug, Clone)]
pub struct Identity {
    pub name: String,
    pub wallet_name: String,
    pub hotkey_name: String,
    pub netuid: u16,
    pub token: Secret,
    /// `PYLON_ID_<NAME>_HOTKEY_PASSWORD`: opens a password-encrypted (NaCl) hotkey file.
    pub hotkey_password: Option<Secret>,
}

impl Identity {
    /// The variable holding this identity's `field`, e.g. `PYLON_ID_SN1_HOTKEY_PASSWORD`.
    pub fn variable(&self, field: &str) -> String {
        identity_variable(&self.name, field)
    }
}

fn identity_variable(name: &str, field: &str) -> String {
    format!(
        "PYLON_ID_{}_{field}",
        name.to_ascii_uppercase().replace('-', "_")
    )
}

#[derive(Debug, Clone)]
pub struct Settings {
    /// `PYLON_BITTENSOR_NETWORK`.
    pub network: Network,
    /// `PYLON_BITTENSOR_ARCHIVE_NETWORK`; set `none` to disable.
    pub archive_network: Option<Network>,
    /// `PYLON_BITTENSOR_ARCHIVE_BLOCKS_CUTOFF`.
    pub archive_blocks_cutoff: u32,
    /// `PYLON_BITTENSOR_WALLET_PATH`.
    pub wallet_path: PathBuf,
    /// `PYLON_IDENTITIES` + `PYLON_ID_<NAME>_{WALLET_NAME,HOTKEY_NAME,NETUID,TOKEN}`, and
    /// `PYLON_ID_<NAME>_HOTKEY_PASSWORD` for an encrypted hotkey.
    pub identities: Vec<Identity>,
    /// `PYLON_OPEN_ACCESS_TOKEN`.
    pub open_access_token: Secret,
    /// `PYLON_METRICS_TOKEN`.
    pub metrics_token: Secret,
    /// `PYLON_RECENT_OBJECTS_NETUIDS`: subnets (besides identities') whose neurons are fetched on
    /// every new block and served by `block/recent/neurons`.
    pub recent_objects_netuids: Vec<u16>,
    /// `PYLON_RECENT_OBJECTS_SOFT_LIMIT_BLOCKS`: recent neurons older than this are logged.
    pub recent_objects_soft_limit_blocks: u32,
    /// `PYLON_RECENT_OBJECTS_HARD_LIMIT_BLOCKS`: recent neurons older than this are refused.
    pub recent_objects_hard_limit_blocks: u32,
    /// `PYLON_HOST` and `PYLON_PORT`.
    pub host: IpAddr,
    pub port: u16,
    /// `PYLON_DEFAULT_REQUEST_TIMEOUT_SECONDS` and `PYLON_MAX_REQUEST_TIMEOUT_SECONDS`:
    /// a request's `X-Pylon-Timeout` is honoured up to the max.
    pub default_request_timeout: Duration,
    pub max_request_timeout: Duration,
    /// `PYLON_CACHE_MAX_BYTES`: memory bound of the response cache.
    pub cache_max_bytes: usize,
    /// `PYLON_MAX_BODY_BYTES`: request body limit.
    pub max_body_bytes: usize,
    /// `PYLON_BODY_READ_TIMEOUT_SECONDS`: a request body must arrive in full within this
    /// (else 408: the client stalled, not the chain).
    pub body_read_timeout: Duration,
    /// `PYLON_HEADER_READ_TIMEOUT_SECONDS`: a request's head must arrive in full within this
    /// from when the connection waits for it — after opening, and after each answer (so it is
    /// also the keep-alive idle timeout); else the connection is closed.
    pub header_read_timeout: Duration,
    /// `PYLON_MAX_CONNECTIONS`: open connections at most; one past it is answered 503
    /// and closed.
    pub max_connections: usize,
    /// `PYLON_MAX_HEADER_BYTES`: a request head (start line and headers) larger than
    /// this is refused with 431 and the connection closed.
    pub max_header_bytes: usize,
    /// `PYLON_CONNECTION_BUFFER_BYTES`: the most a connection buffers of what a client
    /// sends (≥ 8192 and ≥ `PYLON_MAX_HEADER_BYTES`); with the connection cap it bounds the
    /// memory clients can hold.
    pub connection_buffer_bytes: usize,
    /// `PYLON_EVENTS_MAX_SUBSCRIBERS`: open event streams (`…/events`) at most, over every
    /// subnet; one past it is answered 503.
    pub events_max_subscribers: usize,
    /// `PYLON_LATEST_REFRESH_WAIT_SECONDS`: how long a reader of a latest neurons or
    /// validators answer waits for the new head's fetch before it is served the newest cached
    /// answer instead (the fetch goes on in the background).
    pub latest_refresh_wait: Duration,
    /// `PYLON_DATA_DIR`: where the write path keeps its weights jobs
    /// (`weights-jobs.redb`), so a restart resumes them. Only opened when identities exist.
    pub data_dir: PathBuf,
    /// `PYLON_WEIGHTS_REVEAL_RULE`: how a CRv4 commit's drand round is chosen —
    /// `ingest-offset` (the Bittensor SDK's: the round a full period old 3 blocks after the block
    /// the chain will reveal in, from the chain's epoch schedule and measured block time) or
    /// `pulse-delay` (the round published 24 rounds before that block, never one already out).
    pub weights_reveal_rule: RevealRule,
    /// `PYLON_READY_MAX_HEAD_AGE_SECONDS`: `/ready` answers 503 when the newest head is
    /// older than this (five finney blocks: one late block is not an outage).
    pub ready_max_head_age: Duration,
    /// `PYLON_SHUTDOWN_TIMEOUT_SECONDS`: after SIGTERM / Ctrl-C, how long in-flight requests
    /// may take to finish before the process exits anyway.
    pub shutdown_timeout: Duration,
    /// `PYLON_WEIGHTS_RETRY_ATTEMPTS`: weights extrinsics sent at most per job (the epoch's end
    /// usually comes first).
    pub weights_retry_attempts: u32,
    /// `PYLON_WEIGHTS_RETRY_DELAY_SECONDS`: the first wait after a failed weights attempt,
    /// doubled after each one up to 30 s.
    pub weights_retry_delay: Duration,
    /// `PYLON_COMMITMENT_RETRY_ATTEMPTS`: tries of a commitment (or certificate) extrinsic on a
    /// retryable chain failure before the request is answered with it.
    pub commitment_retry_attempts: u32,
    /// `PYLON_COMMITMENT_RETRY_DELAY_SECONDS`: the wait between those tries.
    pub commitment_retry_delay: Duration,
    /// `PYLON_ENVIRONMENT`: the deployment's name (`production`, `staging`, …), the default of
    /// Sentry's environment and of the traces' `deployment.environment.name`.
    pub environment: String,
    /// `PYLON_SENTRY_DSN` and `PYLON_SENTRY_ENVIRONMENT` (else `PYLON_ENVIRONMENT`): error
    /// reporting, in builds with the `sentry` feature. The DSN carries a key, so it is kept as a
    /// secret.
    pub sentry_dsn: Secret,
    pub sentry_environment: String,
    /// `PYLON_OTLP_ENDPOINT` (alias `PYLON_OTEL_COLLECTOR_ENDPOINT`): OpenTelemetry traces, in
    /// builds with the `otlp` feature.
    pub otlp_endpoint: Option<String>,
    /// `PYLON_OTEL_*`: the resource attributes of exported traces.
    pub otel: OtelResource,
    /// Reference settings that were set but configure what Pylon reads from the chain instead
    /// (name and why), for the start-up log.
    pub ignored: Vec<(&'static str, &'static str)>,
    // --- several instances (issue 13) ---
    /// `PYLON_DATABASE_URL` (empty = the embedded job file in `PYLON_DATA_DIR`): a
    /// `postgres://…` URL whose database holds the weights jobs, shared by several instances;
    /// each identity is then signed for only by the instance holding its advisory lock. May
    /// carry a password, so it is kept as a secret.
    pub database_url: Secret,
    /// `PYLON_EVM_RPC_URL`, `PYLON_EVM_ARCHIVE_RPC_URL`, `PYLON_EVM_ARCHIVE_BLOCKS_CUTOFF`,
    /// `PYLON_EVM_REQUEST_TIMEOUT_SECONDS`: the EVM node(s) for contract logs.
    pub evm: crate::evm::EvmSettings,
}

/// The resource attributes traces carry (`PYLON_OTEL_SERVICE_NAME`, `_SERVICE_NAMESPACE`,
/// `_SERVICE_INSTANCE_ID`, `_SERVICE_VERSION`, `_DEPLOYMENT_ENVIRONMENT`, as the reference reads
/// them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtelResource {
    pub service_name: String,
    pub service_namespace: String,
    /// Empty: a random one per process.
    pub service_instance_id: String,
    /// Empty: Pylon's own version.
    pub service_version: String,
    pub deployment_environment: String,
}

/// Variables the reference service reads under another name than Pylon's: (reference, ours).
/// Ours wins when both are set.
pub const REFERENCE_ALIASES: &[(&str, &str)] =
    &[("PYLON_OTEL_COLLECTOR_ENDPOINT", "PYLON_OTLP_ENDPOINT")];

/// Reference settings Pylon accepts but does not need, and why: shown once at start-up when set.
pub const REFERENCE_IGNORED: &[(&str, &str)] = &[
    (
        "PYLON_BLOCK_DURATION_SECONDS",
        "block time is measured from the chain's own timestamps",
    ),
    (
        "PYLON_COMMIT_CYCLE_LENGTH",
        "commit-reveal windows follow the chain's epoch schedule",
    ),
    (
        "PYLON_COMMIT_WINDOW_START_OFFSET",
        "commit-reveal windows follow the chain's epoch schedule",
    ),
    (
        "PYLON_COMMIT_WINDOW_END_BUFFER",
        "commit-reveal windows follow the chain's epoch schedule",
    ),
    (
        "PYLON_RECENT_OBJECTS_REFRESH_LEAD_BLOCKS",
        "recent neurons are fetched on every new block",
    ),
    (
        "PYLON_DOCKER_IMAGE_NAME",
        "a client setting (its Docker manager), not the service's",
    ),
];

/// hyper's smallest connection buffer.
pub const MIN_CONNECTION_BUFFER_BYTES: usize = 8192;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SettingsError {
    #[error("{variable}: {reason}")]
    Invalid { variable: String, reason: String },
    #[error("cannot read the env file {path}: {reason}")]
    EnvFile { path: String, reason: String },
}

fn invalid(variable: &str, reason: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        variable: variable.to_string(),
        reason: reason.into(),
    }
}

impl Settings {
    /// Settings for a chain at `network`, everything else at its default.
    pub fn new(network: Network) -> Self {
        Settings {
            evm: crate::evm::EvmSettings::for_network(&network),
            network,
            archive_network: None,
            archive_blocks_cutoff: 300,
            wallet_path: PathBuf::from("/root/.bittensor/wallets"),
            identities: Vec::new(),
            open_access_token: Secret::default(),
            metrics_token: Secret::default(),
            recent_objects_netuids: Vec::new(),
            recent_objects_soft_limit_blocks: 100,
            recent_objects_hard_limit_blocks: 150,
            host: IpAddr::from([0, 0, 0, 0]),
            port: 8000,
            default_request_timeout: Duration::from_secs(60),
            max_request_timeout: Duration::from_secs(300),
            cache_max_bytes: 256 * 1024 * 1024,
            max_body_bytes: 1024 * 1024,
            body_read_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            max_header_bytes: 16 * 1024,
            connection_buffer_bytes: 64 * 1024,
            events_max_subscribers: 10_000,
            latest_refresh_wait: Duration::from_millis(250),
            data_dir: PathBuf::from("pylon-data"),
            weights_reveal_rule: RevealRule::IngestOffset,
            ready_max_head_age: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(30),
            weights_retry_attempts: 30,
            weights_retry_delay: Duration::from_secs(2),
            commitment_retry_attempts: 10,
            commitment_retry_delay: Duration::from_secs(1),
            environment: "production".to_string(),
            sentry_dsn: Secret::default(),
            sentry_environment: "production".to_string(),
            otlp_endpoint: None,
            otel: OtelResource {
                service_name: "pylon".to_string(),
                service_namespace: "bittensor-pylon".to_string(),
                service_instance_id: String::new(),
                service_version: String::new(),
                deployment_environment: "production".to_string(),
            },
            ignored: Vec::new(),
            database_url: Secret::default(),
        }
    }

    /// From the process environment, plus `.env` (or `PYLON_ENV_FILE`) for variables the
    /// environment does not set.
    pub fn from_env() -> Result<Self, SettingsError> {
        let env_file = std::env::var("PYLON_ENV_FILE").ok();
        Self::from_vars(&gather(env_file.as_deref(), std::env::vars())?)
    }

    /// From a map of variables (what `from_env` gathers).
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, SettingsError> {
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let network = |name: &str, default: &str| {
            Network::parse(get(name).unwrap_or(default)).map_err(|e| invalid(name, e.to_string()))
        };
        // Like the reference: overriding one of the pair but not the other would silently mix a
        // local chain with the public archive (or the reverse), so both must be set together.
        match (
            get("PYLON_BITTENSOR_NETWORK"),
            get("PYLON_BITTENSOR_ARCHIVE_NETWORK"),
        ) {
            (Some(_), None) => return Err(invalid(
                "PYLON_BITTENSOR_ARCHIVE_NETWORK",
                "PYLON_BITTENSOR_NETWORK was set, so set this too (a URL, a network name, or none)",
            )),
            (None, Some(_)) => {
                return Err(invalid(
                    "PYLON_BITTENSOR_NETWORK",
                    "PYLON_BITTENSOR_ARCHIVE_NETWORK was set, so set this too",
                ))
            }
            _ => {}
        }
        let mut settings = Settings::new(network("PYLON_BITTENSOR_NETWORK", "finney")?);
        // Every default below is the one `Settings::new` set: `d` is that value.
        let d = settings.clone();
        settings.archive_network = match get("PYLON_BITTENSOR_ARCHIVE_NETWORK") {
            Some("none") => None,
            _ => Some(network("PYLON_BITTENSOR_ARCHIVE_NETWORK", "archive")?),
        };
        settings.archive_blocks_cutoff = parse(
            vars,
            "PYLON_BITTENSOR_ARCHIVE_BLOCKS_CUTOFF",
            d.archive_blocks_cutoff,
        )?;
        if let Some(path) = get("PYLON_BITTENSOR_WALLET_PATH") {
            settings.wallet_path = PathBuf::from(path);
        }
        settings.open_access_token = Secret::new(get("PYLON_OPEN_ACCESS_TOKEN").unwrap_or(""));
        settings.metrics_token = Secret::new(get("PYLON_METRICS_TOKEN").unwrap_or(""));
        settings.recent_objects_netuids = match get("PYLON_RECENT_OBJECTS_NETUIDS") {
            None => d.recent_objects_netuids.clone(),
            Some(text) => serde_json::from_str::<Vec<u16>>(text)
                .or_else(|_| {
                    text.split(',')
                        .map(|part| part.trim().parse::<u16>())
                        .collect::<Result<Vec<_>, _>>()
                })
                .map_err(|_| {
                    invalid(
                        "PYLON_RECENT_OBJECTS_NETUIDS",
                        "expected a JSON list of netuids, e.g. [1, 2]",
                    )
                })?,
        };
        settings.recent_objects_soft_limit_blocks = parse(
            vars,
            "PYLON_RECENT_OBJECTS_SOFT_LIMIT_BLOCKS",
            d.recent_objects_soft_limit_blocks,
        )?;
        settings.recent_objects_hard_limit_blocks = parse(
            vars,
            "PYLON_RECENT_OBJECTS_HARD_LIMIT_BLOCKS",
            d.recent_objects_hard_limit_blocks,
        )?;
        settings.host = parse(vars, "PYLON_HOST", d.host)?;
        settings.port = parse(vars, "PYLON_PORT", d.port)?;
        settings.default_request_timeout = seconds(
            vars,
            "PYLON_DEFAULT_REQUEST_TIMEOUT_SECONDS",
            d.default_request_timeout,
        )?;
        settings.max_request_timeout = seconds(
            vars,
            "PYLON_MAX_REQUEST_TIMEOUT_SECONDS",
            d.max_request_timeout,
        )?;
        settings.cache_max_bytes = parse(vars, "PYLON_CACHE_MAX_BYTES", d.cache_max_bytes)?;
        settings.max_body_bytes = parse(vars, "PYLON_MAX_BODY_BYTES", d.max_body_bytes)?;
        settings.body_read_timeout =
            seconds(vars, "PYLON_BODY_READ_TIMEOUT_SECONDS", d.body_read_timeout)?;
        settings.header_read_timeout = seconds(
            vars,
            "PYLON_HEADER_READ_TIMEOUT_SECONDS",
            d.header_read_timeout,
        )?;
        settings.max_connections = at_least_one(vars, "PYLON_MAX_CONNECTIONS", d.max_connections)?;
        settings.events_max_subscribers = at_least_one(
            vars,
            "PYLON_EVENTS_MAX_SUBSCRIBERS",
            d.events_max_subscribers,
        )?;
        settings.max_header_bytes = parse(vars, "PYLON_MAX_HEADER_BYTES", d.max_header_bytes)?;
        settings.connection_buffer_bytes = parse(
            vars,
            "PYLON_CONNECTION_BUFFER_BYTES",
            d.connection_buffer_bytes,
        )?;
        if settings.connection_buffer_bytes < MIN_CONNECTION_BUFFER_BYTES
            || settings.connection_buffer_bytes < settings.max_header_bytes
        {
            return Err(invalid(
                "PYLON_CONNECTION_BUFFER_BYTES",
                format!(
                    "expected at least {MIN_CONNECTION_BUFFER_BYTES} and at least \
                     PYLON_MAX_HEADER_BYTES ({})",
                    settings.max_header_bytes
                ),
            ));
        }
        settings.latest_refresh_wait = seconds(
            vars,
            "PYLON_LATEST_REFRESH_WAIT_SECONDS",
            d.latest_refresh_wait,
        )?;
        settings.data_dir = match (get("PYLON_DATA_DIR"), get("PYLON_DATABASE_PATH")) {
            (Some(path), _) => PathBuf::from(path),
            // The reference keeps its SQLite file at PYLON_DATABASE_PATH, on the volume its
            // operators mounted for it: keep the job store beside it, so it survives too.
            (None, Some(file)) => Path::new(file)
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from(".")),
            (None, None) => d.data_dir.clone(),
        };
        settings.weights_reveal_rule = match get("PYLON_WEIGHTS_REVEAL_RULE") {
            None => d.weights_reveal_rule,
            Some("ingest-offset") => RevealRule::IngestOffset,
            Some("pulse-delay") => RevealRule::PulseDelay,
            Some(other) => {
                return Err(invalid(
                    "PYLON_WEIGHTS_REVEAL_RULE",
                    format!("`{other}`: expected ingest-offset or pulse-delay"),
                ))
            }
        };
        settings.ready_max_head_age = seconds(
            vars,
            "PYLON_READY_MAX_HEAD_AGE_SECONDS",
            d.ready_max_head_age,
        )?;
        settings.shutdown_timeout =
            seconds(vars, "PYLON_SHUTDOWN_TIMEOUT_SECONDS", d.shutdown_timeout)?;
        settings.weights_retry_attempts = at_least_one(
            vars,
            "PYLON_WEIGHTS_RETRY_ATTEMPTS",
            d.weights_retry_attempts,
        )?;
        settings.weights_retry_delay = seconds(
            vars,
            "PYLON_WEIGHTS_RETRY_DELAY_SECONDS",
            d.weights_retry_delay,
        )?;
        settings.commitment_retry_attempts = at_least_one(
            vars,
            "PYLON_COMMITMENT_RETRY_ATTEMPTS",
            d.commitment_retry_attempts,
        )?;
        settings.commitment_retry_delay = seconds(
            vars,
            "PYLON_COMMITMENT_RETRY_DELAY_SECONDS",
            d.commitment_retry_delay,
        )?;
        settings.environment = get("PYLON_ENVIRONMENT")
            .map(str::to_owned)
            .unwrap_or(d.environment.clone());
        settings.sentry_dsn = Secret::new(get("PYLON_SENTRY_DSN").unwrap_or(""));
        settings.sentry_environment = get("PYLON_SENTRY_ENVIRONMENT")
            .map(str::to_owned)
            .unwrap_or(settings.environment.clone());
        settings.otlp_endpoint = aliased(vars, "PYLON_OTLP_ENDPOINT").map(str::to_owned);
        let otel = |field: &str, default: &str| {
            get(&format!("PYLON_OTEL_{field}"))
                .unwrap_or(default)
                .to_owned()
        };
        settings.otel = OtelResource {
            service_name: otel("SERVICE_NAME", &d.otel.service_name),
            service_namespace: otel("SERVICE_NAMESPACE", &d.otel.service_namespace),
            service_instance_id: otel("SERVICE_INSTANCE_ID", &d.otel.service_instance_id),
            service_version: otel("SERVICE_VERSION", &d.otel.service_version),
            deployment_environment: otel("DEPLOYMENT_ENVIRONMENT", &settings.environment),
        };
        settings.ignored = REFERENCE_IGNORED
            .iter()
            .filter(|(name, _)| get(name).is_some())
            .copied()
            .collect();
        settings.identities = identities(vars)?;
        // --- several instances (issue 13) ---
        if let Some(url) = get("PYLON_DATABASE_URL").filter(|url| !url.is_empty()) {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                return Err(invalid(
                    "PYLON_DATABASE_URL",
                    "expected a postgres://user:password@host:port/database URL",
                ));
            }
            settings.database_url = Secret::new(url);
        }
        settings.evm = crate::evm::EvmSettings::from_vars(vars, &settings.network)?;
        Ok(settings)
    }
}

/// The `PYLON_*` variables: the env file's (`.env` unless named), overridden by the process's.
fn gather(
    env_file: Option<&str>,
    process: impl Iterator<Item = (String, String)>,
) -> Result<HashMap<String, String>, SettingsError> {
    let mut vars: HashMap<String, String> = HashMap::new();
    let path = env_file.unwrap_or(".env");
    match dotenvy::from_filename_iter(path) {
        Ok(iter) => {
            for item in iter {
                let (key, value) = item.map_err(|e| SettingsError::EnvFile {
                    path: path.to_string(),
                    reason: e.to_string(),
                })?;
                vars.insert(key, value);
            }
        }
        // A missing default `.env` is normal; a missing file someone named is an error.
        Err(e) if env_file.is_some() => {
            return Err(SettingsError::EnvFile {
                path: path.to_string(),
                reason: e.to_string(),
            })
        }
        Err(_) => {}
    }
    vars.extend(process.filter(|(k, _)| k.starts_with("PYLON_")));
    Ok(vars)
}

fn parse<T: std::str::FromStr>(
    vars: &HashMap<String, String>,
    name: &str,
    default: T,
) -> Result<T, SettingsError> {
    match vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(text) => text
            .parse()
            .map_err(|_| invalid(name, format!("`{text}` is not a valid value"))),
    }
}

/// A count that must be at least 1 (0 would disable what it counts without saying so).
fn at_least_one<T: std::str::FromStr + PartialOrd + From<u8>>(
    vars: &HashMap<String, String>,
    name: &str,
    default: T,
) -> Result<T, SettingsError> {
    let value = parse(vars, name, default)?;
    if value < T::from(1) {
        return Err(invalid(name, "expected at least 1"));
    }
    Ok(value)
}

fn seconds(
    vars: &HashMap<String, String>,
    name: &str,
    default: Duration,
) -> Result<Duration, SettingsError> {
    let value: f64 = parse(vars, name, default.as_secs_f64())?;
    Duration::try_from_secs_f64(value)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| invalid(name, "expected a positive number of seconds"))
}

/// `ours`, or the reference's name for it ([`REFERENCE_ALIASES`]) when ours is not set.
fn aliased<'a>(vars: &'a HashMap<String, String>, ours: &str) -> Option<&'a str> {
    let value = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    value(ours).or_else(|| {
        REFERENCE_ALIASES
            .iter()
            .filter(|(_, target)| *target == ours)
            .find_map(|(reference, _)| value(reference))
    })
}

fn identities(vars: &HashMap<String, String>) -> Result<Vec<Identity>, SettingsError> {
    const LIST: &str = "PYLON_IDENTITIES";
    let Some(text) = vars.get(LIST).map(|v| v.trim()).filter(|v| !v.is_empty()) else {
        return Ok(Vec::new());
    };
    let names: Vec<String> = serde_json::from_str(text)
        .map_err(|_| invalid(LIST, "expected a JSON list of names, e.g. [\"validator\"]"))?;
    let mut out: Vec<Identity> = Vec::new();
    for name in names {
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid(
                LIST,
                format!("`{name}` is not a valid identity name"),
            ));
        }
        if out.iter().any(|i| i.name == name) {
            return Err(invalid(LIST, format!("`{name}` is listed twice")));
        }
        let var = |field: &str| identity_variable(&name, field);
        // Like the reference (pydantic settings), the identity's part of the name may be
        // written in any case.
        let lookup = |field: &str| {
            let variable = var(field);
            vars.iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(&variable))
                .map(|(_, v)| v.as_str())
        };
        let required = |field: &str| -> Result<String, SettingsError> {
            lookup(field)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .ok_or_else(|| invalid(&var(field), format!("required for identity `{name}`")))
        };
        let netuid_var = var("NETUID");
        let netuid = required("NETUID")?
            .parse::<u16>()
            .map_err(|_| invalid(&netuid_var, "expected a netuid (0..=65535)"))?;
        out.push(Identity {
            wallet_name: required("WALLET_NAME")?,
            hotkey_name: required("HOTKEY_NAME")?,
            netuid,
            token: Secret::new(required("TOKEN")?),
            // Taken as written (not trimmed): the password's exact bytes are what was hashed.
            hotkey_password: lookup("HOTKEY_PASSWORD")
                .filter(|v| !v.is_empty())
                .map(Secret::new),
            name,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// A duration as docs/SERVICE.md writes it: seconds, no trailing `.0`.
    fn secs(d: Duration) -> String {
        let text = d.as_secs_f64().to_string();
        text.strip_suffix(".0").unwrap_or(&text).to_string()
    }

    /// The default column of docs/SERVICE.md's settings row whose first column is `key`.
    fn documented(key: &str) -> String {
        let doc = include_str!("../../../docs/SERVICE.md");
        let row = doc
            .lines()
            .find(|line| line.starts_with(&format!("| {key} |")))
            .unwrap_or_else(|| panic!("docs/SERVICE.md has no settings row for {key}"));
        let column = row.split(" | ").nth(1).unwrap();
        // `300`, `/root/.bittensor/wallets`, `0.0.0.0` / `8000`, `pylon-data` (image: …)
        column
            .split(" (")
            .next()
            .unwrap()
            .replace('`', "")
            .trim()
            .to_string()
    }

    #[test]
    fn the_documented_defaults_are_the_real_ones() {
        let d = Settings::from_vars(&HashMap::new()).unwrap();
        let rows: Vec<(&str, String)> = vec![
            ("`PYLON_BITTENSOR_NETWORK`", "finney".into()),
            ("`PYLON_BITTENSOR_ARCHIVE_NETWORK`", "archive".into()),
            (
                "`PYLON_BITTENSOR_ARCHIVE_BLOCKS_CUTOFF`",
                d.archive_blocks_cutoff.to_string(),
            ),
            (
                "`PYLON_BITTENSOR_WALLET_PATH`",
                d.wallet_path.display().to_string(),
            ),
            (
                "`PYLON_RECENT_OBJECTS_SOFT_LIMIT_BLOCKS`",
                d.recent_objects_soft_limit_blocks.to_string(),
            ),
            (
                "`PYLON_RECENT_OBJECTS_HARD_LIMIT_BLOCKS`",
                d.recent_objects_hard_limit_blocks.to_string(),
            ),
            (
                "`PYLON_HOST` / `PYLON_PORT`",
                format!("{} / {}", d.host, d.port),
            ),
            (
                "`PYLON_DEFAULT_REQUEST_TIMEOUT_SECONDS`",
                secs(d.default_request_timeout),
            ),
            (
                "`PYLON_MAX_REQUEST_TIMEOUT_SECONDS`",
                secs(d.max_request_timeout),
            ),
            ("`PYLON_CACHE_MAX_BYTES`", d.cache_max_bytes.to_string()),
            ("`PYLON_MAX_BODY_BYTES`", d.max_body_bytes.to_string()),
            (
                "`PYLON_BODY_READ_TIMEOUT_SECONDS`",
                secs(d.body_read_timeout),
            ),
            (
                "`PYLON_HEADER_READ_TIMEOUT_SECONDS`",
                secs(d.header_read_timeout),
            ),
            ("`PYLON_MAX_CONNECTIONS`", d.max_connections.to_string()),
            (
                "`PYLON_EVENTS_MAX_SUBSCRIBERS`",
                d.events_max_subscribers.to_string(),
            ),
            ("`PYLON_MAX_HEADER_BYTES`", d.max_header_bytes.to_string()),
            (
                "`PYLON_CONNECTION_BUFFER_BYTES`",
                d.connection_buffer_bytes.to_string(),
            ),
            (
                "`PYLON_LATEST_REFRESH_WAIT_SECONDS`",
                secs(d.latest_refresh_wait),
            ),
            ("`PYLON_DATA_DIR`", d.data_dir.display().to_string()),
            ("`PYLON_WEIGHTS_REVEAL_RULE`", "ingest-offset".into()),
            (
                "`PYLON_READY_MAX_HEAD_AGE_SECONDS`",
                secs(d.ready_max_head_age),
            ),
            ("`PYLON_SHUTDOWN_TIMEOUT_SECONDS`", secs(d.shutdown_timeout)),
            (
                "`PYLON_WEIGHTS_RETRY_ATTEMPTS`",
                d.weights_retry_attempts.to_string(),
            ),
            (
                "`PYLON_WEIGHTS_RETRY_DELAY_SECONDS`",
                secs(d.weights_retry_delay),
            ),
            (
                "`PYLON_COMMITMENT_RETRY_ATTEMPTS`",
                d.commitment_retry_attempts.to_string(),
            ),
            (
                "`PYLON_COMMITMENT_RETRY_DELAY_SECONDS`",
                secs(d.commitment_retry_delay),
            ),
            ("`PYLON_ENVIRONMENT`", d.environment.clone()),
        ];
        for (key, default) in rows {
            assert_eq!(documented(key), default, "docs/SERVICE.md row {key}");
        }
        assert_eq!(d.weights_reveal_rule, RevealRule::IngestOffset);
        assert_eq!(d.network.url(), Network::parse("finney").unwrap().url());
    }

    #[test]
    fn a_reference_env_file_is_read_unchanged() {
        let s = Settings::from_vars(&vars(&[
            ("PYLON_WEIGHTS_RETRY_ATTEMPTS", "200"),
            ("PYLON_WEIGHTS_RETRY_DELAY_SECONDS", "1"),
            ("PYLON_COMMITMENT_RETRY_ATTEMPTS", "5"),
            ("PYLON_COMMITMENT_RETRY_DELAY_SECONDS", "3"),
            ("PYLON_ENVIRONMENT", "staging"),
            ("PYLON_OTEL_COLLECTOR_ENDPOINT", "http://collector:4318/"),
            ("PYLON_OTEL_SERVICE_NAME", "validator-pylon"),
            ("PYLON_DATABASE_PATH", "/app/db/pylon.db"),
            ("PYLON_BLOCK_DURATION_SECONDS", "12"),
            ("PYLON_DOCKER_IMAGE_NAME", "bittensor_pylon"),
        ]))
        .unwrap();
        assert_eq!(s.weights_retry_attempts, 200);
        assert_eq!(s.weights_retry_delay, Duration::from_secs(1));
        assert_eq!(
            (s.commitment_retry_attempts, s.commitment_retry_delay),
            (5, Duration::from_secs(3))
        );
        assert_eq!(s.sentry_environment, "staging");
        assert_eq!(s.otel.deployment_environment, "staging");
        assert_eq!(s.otel.service_name, "validator-pylon");
        assert_eq!(s.otlp_endpoint.as_deref(), Some("http://collector:4318/"));
        assert_eq!(s.data_dir, PathBuf::from("/app/db"));
        let ignored: Vec<_> = s.ignored.iter().map(|(name, _)| *name).collect();
        assert_eq!(
            ignored,
            ["PYLON_BLOCK_DURATION_SECONDS", "PYLON_DOCKER_IMAGE_NAME"]
        );
        // Our names win over the reference's.
        let s = Settings::from_vars(&vars(&[
            ("PYLON_OTEL_COLLECTOR_ENDPOINT", "http://a:4318"),
            ("PYLON_OTLP_ENDPOINT", "http://b:4318"),
            ("PYLON_DATABASE_PATH", "/app/db/pylon.db"),
            ("PYLON_DATA_DIR", "/var/lib/pylon"),
            ("PYLON_SENTRY_ENVIRONMENT", "prod-eu"),
        ]))
        .unwrap();
        assert_eq!(s.otlp_endpoint.as_deref(), Some("http://b:4318"));
        assert_eq!(s.data_dir, PathBuf::from("/var/lib/pylon"));
        assert_eq!(s.sentry_environment, "prod-eu");
        assert_eq!(s.otel.deployment_environment, "production");
        assert!(
            Settings::from_vars(&vars(&[("PYLON_WEIGHTS_RETRY_ATTEMPTS", "0")]))
                .unwrap_err()
                .to_string()
                .starts_with("PYLON_WEIGHTS_RETRY_ATTEMPTS:")
        );
    }

    #[test]
    fn defaults_are_the_reference_ones() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.network.url(), "wss://entrypoint-finney.opentensor.ai:443");
        assert_eq!(
            s.archive_network.unwrap().url(),
            "wss://archive.chain.opentensor.ai:443"
        );
        assert_eq!(s.archive_blocks_cutoff, 300);
        assert_eq!(s.port, 8000);
        assert_eq!(s.default_request_timeout, Duration::from_secs(60));
        assert!(s.open_access_token.is_empty());
        assert_eq!(s.ready_max_head_age, Duration::from_secs(60));
        assert_eq!(s.shutdown_timeout, Duration::from_secs(30));
        assert!(s.sentry_dsn.is_empty() && s.otlp_endpoint.is_none());
    }

    #[test]
    fn connection_bounds_have_defaults_and_refuse_nonsense() {
        let s = Settings::from_vars(&HashMap::new()).unwrap();
        assert_eq!(s.header_read_timeout, Duration::from_secs(10));
        assert_eq!(s.body_read_timeout, Duration::from_secs(10));
        assert_eq!(s.max_connections, 1024);
        assert_eq!(
            (s.max_header_bytes, s.connection_buffer_bytes),
            (16384, 65536)
        );
        assert_eq!(s.latest_refresh_wait, Duration::from_millis(250));
        let s = Settings::from_vars(&vars(&[
            ("PYLON_HEADER_READ_TIMEOUT_SECONDS", "2.5"),
            ("PYLON_MAX_CONNECTIONS", "10"),
        ]))
        .unwrap();
        assert_eq!(s.header_read_timeout, Duration::from_millis(2500));
        assert_eq!(s.max_connections, 10);
        for (variable, value) in [
            ("PYLON_MAX_CONNECTIONS", "0"),
            ("PYLON_CONNECTION_BUFFER_BYTES", "4096"),
            ("PYLON_BODY_READ_TIMEOUT_SECONDS", "0"),
        ] {
            let error = Settings::from_vars(&vars(&[(variable, value)])).unwrap_err();
            assert!(error.to_string().starts_with(variable), "{error}");
        }
        let error = Settings::from_vars(&vars(&[
            ("PYLON_MAX_HEADER_BYTES", "100000"),
            ("PYLON_CONNECTION_BUFFER_BYTES", "65536"),
        ]))
        .unwrap_err();
        assert!(
            error.to_string().contains("PYLON_MAX_HEADER_BYTES"),
            "{error}"
        );
    }

    #[test]
    fn identities_are_read_from_their_variables_and_tokens_stay_hidden() {
        let s = Settings::from_vars(&vars(&[
            ("PYLON_IDENTITIES", "[\"sn1\"]"),
            ("PYLON_ID_sn1_WALLET_NAME", "w"),
            ("PYLON_ID_SN1_HOTKEY_NAME", "h"),
            ("PYLON_ID_SN1_NETUID", "1"),
            ("PYLON_ID_SN1_TOKEN", "top-secret"),
            ("PYLON_OPEN_ACCESS_TOKEN", "open-secret"),
            ("PYLON_SENTRY_DSN", "https://dsn-key@sentry.example/1"),
        ]))
        .unwrap();
        assert_eq!(s.identities[0].netuid, 1);
        assert!(s.identities[0].token.matches("top-secret"));
        assert!(s.identities[0].hotkey_password.is_none());
        let debug = format!("{s:?}");
        assert!(
            !debug.contains("top-secret")
                && !debug.contains("open-secret")
                && !debug.contains("dsn-key"),
            "{debug}"
        );
    }

    #[test]
    fn an_identity_hotkey_password_is_kept_exactly_and_hidden() {
        let s = Settings::from_vars(&vars(&[
            ("PYLON_IDENTITIES", "[\"sn-1\"]"),
            ("PYLON_ID_SN_1_WALLET_NAME", "w"),
            ("PYLON_ID_SN_1_HOTKEY_NAME", "h"),
            ("PYLON_ID_SN_1_NETUID", "1"),
            ("PYLON_ID_SN_1_TOKEN", "t"),
            ("PYLON_ID_sn_1_HOTKEY_PASSWORD", " pass word "),
        ]))
        .unwrap();
        let identity = &s.identities[0];
        assert_eq!(
            identity.hotkey_password.as_ref().map(Secret::expose),
            Some(" pass word ")
        );
        assert_eq!(
            identity.variable("HOTKEY_PASSWORD"),
            "PYLON_ID_SN_1_HOTKEY_PASSWORD"
        );
        let debug = format!("{s:?}");
        assert!(!debug.contains("pass word"), "{debug}");
    }

    #[test]
    fn the_env_file_is_read_and_the_process_environment_wins() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pylon.env");
        std::fs::write(&file, "PYLON_PORT=9001\nPYLON_HOST=127.0.0.1\nOTHER=x\n").unwrap();
        let process = vec![("PYLON_PORT".to_string(), "9002".to_string())];
        let vars = gather(file.to_str(), process.into_iter()).unwrap();
        let s = Settings::from_vars(&vars).unwrap();
        assert_eq!(s.port, 9002);
        assert_eq!(s.host.to_string(), "127.0.0.1");
        let missing = gather(Some("/no/such/pylon.env"), std::iter::empty()).unwrap_err();
        assert!(missing.to_string().contains("/no/such/pylon.env"));
    }

    #[test]
    fn a_local_chain_can_go_without_an_archive() {
        let s = Settings::from_vars(&vars(&[
            ("PYLON_BITTENSOR_NETWORK", "local"),
            ("PYLON_BITTENSOR_ARCHIVE_NETWORK", "none"),
        ]))
        .unwrap();
        assert_eq!(s.network.url(), "ws://127.0.0.1:9944");
        assert!(s.archive_network.is_none());
    }

    #[test]
    fn invalid_values_name_their_variable() {
        let err =
            |pairs: &[(&str, &str)]| Settings::from_vars(&vars(pairs)).unwrap_err().to_string();
        assert!(err(&[("PYLON_PORT", "eighty")]).starts_with("PYLON_PORT:"));
        assert!(err(&[
            ("PYLON_BITTENSOR_NETWORK", "mainnet"),
            ("PYLON_BITTENSOR_ARCHIVE_NETWORK", "none"),
        ])
        .starts_with("PYLON_BITTENSOR_NETWORK:"));
        assert!(err(&[("PYLON_BITTENSOR_NETWORK", "local")])
            .starts_with("PYLON_BITTENSOR_ARCHIVE_NETWORK:"));
        assert!(err(&[("PYLON_IDENTITIES", "[\"a\"]")]).starts_with("PYLON_ID_A_NETUID:"));
        assert!(err(&[("PYLON_IDENTITIES", "a,b")]).starts_with("PYLON_IDENTITIES:"));
        assert!(
            err(&[("PYLON_IDENTITIES", "[\"a\"]"), ("PYLON_ID_A_NETUID", "x"),])
                .starts_with("PYLON_ID_A_NETUID:")
        );
    }

    // --- several instances (issue 13) ---
    #[test]
    fn the_database_url_is_optional_secret_and_must_be_postgres() {
        assert!(Settings::from_vars(&HashMap::new())
            .unwrap()
            .database_url
            .is_empty());
        let url = "postgres://pylon:hunter2@db:5432/pylon";
        let s = Settings::from_vars(&vars(&[("PYLON_DATABASE_URL", url)])).unwrap();
        assert_eq!(s.database_url.expose(), url);
        assert!(
            !format!("{s:?}").contains("hunter2"),
            "the password is never printed"
        );
        let error =
            Settings::from_vars(&vars(&[("PYLON_DATABASE_URL", "mysql://db/pylon")])).unwrap_err();
        assert!(
            error.to_string().starts_with("PYLON_DATABASE_URL: "),
            "{error}"
        );
    }
}
