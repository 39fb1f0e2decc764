//! `POST …/evm/contracts/{contract_address}/logs?from_block=…&to_block=…` with body `{abi}`: a
//! contract's logs through the configured EVM JSON-RPC node(s), decoded with the ABI
//! ([`pylon_evm`]). Answer `{logs: [...], from_block, to_block}`.
//!
//! Statuses: a malformed address, query or body, or a reversed range → 400; an ABI that cannot
//! decode anything → 422; no EVM node configured → 503 naming `PYLON_EVM_RPC_URL`; the node
//! unreachable → 503, refusing or answering garbage → 502, too slow → 504, each with the reason.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use pylon_chain::Network;
use pylon_evm::{EvmClient, EvmConfig, EvmError, EvmLog};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::access::{parse_field, Scope};
use crate::error::ApiError;
use crate::paths::Params;
use crate::settings::SettingsError;
use crate::state::AppState;

/// finney's EVM nodes, the reference's defaults.
pub const FINNEY_EVM_RPC_URL: &str = "https://lite.chain.opentensor.ai";
pub const FINNEY_EVM_ARCHIVE_RPC_URL: &str = "https://archive.chain.opentensor.ai";

/// `PYLON_EVM_*`: where EVM logs are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmSettings {
    /// `PYLON_EVM_RPC_URL`: finney's `https://lite.chain.opentensor.ai` when the chain is finney
    /// (the default), else unset (EVM logs answer 503 until it is set).
    pub rpc_url: Option<String>,
    /// `PYLON_EVM_ARCHIVE_RPC_URL`: finney's `https://archive.chain.opentensor.ai` likewise;
    /// `none` turns the archive off (the main node answers every range).
    pub archive_rpc_url: Option<String>,
    /// `PYLON_EVM_ARCHIVE_BLOCKS_CUTOFF` (300): ranges older than this many blocks behind the
    /// EVM head go to the archive.
    pub archive_blocks_cutoff: u64,
    /// `PYLON_EVM_REQUEST_TIMEOUT_SECONDS` (30): one EVM JSON-RPC call at most.
    pub request_timeout: Duration,
}

impl EvmSettings {
    /// The defaults for a chain at `network`.
    pub fn for_network(network: &Network) -> Self {
        let finney = Network::parse("finney").is_ok_and(|f| f.url() == network.url());
        EvmSettings {
            rpc_url: finney.then(|| FINNEY_EVM_RPC_URL.to_owned()),
            archive_rpc_url: finney.then(|| FINNEY_EVM_ARCHIVE_RPC_URL.to_owned()),
            archive_blocks_cutoff: 300,
            request_timeout: Duration::from_secs(30),
        }
    }

    pub fn from_vars(
        vars: &HashMap<String, String>,
        network: &Network,
    ) -> Result<Self, SettingsError> {
        const MAIN: &str = "PYLON_EVM_RPC_URL";
        const ARCHIVE: &str = "PYLON_EVM_ARCHIVE_RPC_URL";
        let invalid = |variable: &str, reason: String| SettingsError::Invalid {
            variable: variable.to_owned(),
            reason,
        };
        let get = |name: &str| vars.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
        let url = |name: &str, text: &str| -> Result<String, SettingsError> {
            if text.starts_with("http://") || text.starts_with("https://") {
                Ok(text.to_owned())
            } else {
                Err(invalid(
                    name,
                    "expected an http:// or https:// URL of an EVM JSON-RPC node".into(),
                ))
            }
        };
        let mut settings = Self::for_network(network);
        // Like the reference: the pair is overridden together, so a local node is never mixed
        // with finney's archive (or the reverse).
        match (get(MAIN), get(ARCHIVE)) {
            (Some(_), None) => {
                return Err(invalid(
                    ARCHIVE,
                    format!("{MAIN} was set, so set this too (a URL, or none)"),
                ))
            }
            (None, Some(_)) => {
                return Err(invalid(MAIN, format!("{ARCHIVE} was set, so set this too")))
            }
            (Some(main), Some(archive)) => {
                settings.rpc_url = Some(url(MAIN, main)?);
                settings.archive_rpc_url = match archive {
                    "none" => None,
                    archive => Some(url(ARCHIVE, archive)?),
                };
            }
            (None, None) => {}
        }
        if let Some(text) = get("PYLON_EVM_ARCHIVE_BLOCKS_CUTOFF") {
            settings.archive_blocks_cutoff = text.parse().map_err(|_| {
                invalid(
                    "PYLON_EVM_ARCHIVE_BLOCKS_CUTOFF",
                    format!("`{text}` is not a block count"),
                )
            })?;
        }
        if let Some(text) = get("PYLON_EVM_REQUEST_TIMEOUT_SECONDS") {
            settings.request_timeout = text
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    invalid(
                        "PYLON_EVM_REQUEST_TIMEOUT_SECONDS",
                        "expected a positive number of seconds".into(),
                    )
                })?;
        }
        Ok(settings)
    }
}

/// The EVM client the settings describe, or why there is none.
pub struct EvmAccess(Result<EvmClient, String>);

impl EvmAccess {
    pub fn new(settings: &EvmSettings) -> Self {
        let Some(rpc_url) = &settings.rpc_url else {
            return EvmAccess(Err(
                "EVM logs need an EVM JSON-RPC node: set PYLON_EVM_RPC_URL (and \
                 PYLON_EVM_ARCHIVE_RPC_URL, a URL or none)"
                    .into(),
            ));
        };
        EvmAccess(EvmClient::new(&EvmConfig {
            rpc_url: rpc_url.clone(),
            archive_rpc_url: settings.archive_rpc_url.clone(),
            archive_blocks_cutoff: settings.archive_blocks_cutoff,
            request_timeout: settings.request_timeout,
        }))
    }

    fn client(&self) -> Result<&EvmClient, ApiError> {
        self.0
            .as_ref()
            .map_err(|reason| ApiError::Unavailable(reason.clone()))
    }
}

#[derive(Debug, Serialize)]
struct LogsResponse<'a> {
    logs: &'a [EvmLog],
    from_block: u64,
    to_block: u64,
}

/// `{contract_address}`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ContractPath {
    /// The contract: `0x` and 40 hex digits (any case; checksums are not enforced).
    pub contract_address: String,
}

/// The block range, both ends included (query parameters; read by [`block_range`], which names
/// the field that is missing or malformed).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogsRange {
    pub from_block: u64,
    pub to_block: u64,
}

/// The request body.
#[derive(Debug, Deserialize, ToSchema)]
#[schema(as = evm::LogsBody)]
pub struct LogsBody {
    /// The contract's JSON ABI (as solc writes it); its `event` entries decode the logs.
    #[schema(value_type = Vec<Object>)]
    pub abi: Vec<serde_json::Value>,
}

/// One decoded log (the reference's `EvmLog`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = evm::EvmLog)]
pub struct EvmLogDoc {
    /// The event's name in the ABI.
    pub event: String,
    /// Arguments by name: addresses EIP-55 checksummed, bytes `0x` hex, integers exact.
    #[schema(value_type = Object)]
    pub args: serde_json::Value,
    /// The emitting contract, checksummed.
    pub address: String,
    pub block_number: u64,
    pub transaction_hash: String,
    pub transaction_index: u64,
    pub log_index: u64,
}

/// The answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = evm::EvmLogs)]
pub struct EvmLogsDoc {
    pub logs: Vec<EvmLogDoc>,
    pub from_block: u64,
    pub to_block: u64,
}

/// Both `from_block` and `to_block` from the query string.
fn block_range(query: Option<&str>) -> Result<(u64, u64), ApiError> {
    let mut from = None;
    let mut to = None;
    for pair in query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
    {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "from_block" => from = Some(parse_field::<u64>("from_block", value)?),
            "to_block" => to = Some(parse_field::<u64>("to_block", value)?),
            _ => {}
        }
    }
    let missing =
        |field: &str| ApiError::BadRequest(format!("{field}: missing (a query parameter)"));
    Ok((
        from.ok_or_else(|| missing("from_block"))?,
        to.ok_or_else(|| missing("to_block"))?,
    ))
}

fn abi_of(body: &[u8]) -> Result<serde_json::Value, ApiError> {
    let mut value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("body: not JSON ({e})")))?;
    let abi = value
        .get_mut("abi")
        .map(serde_json::Value::take)
        .ok_or_else(|| {
            ApiError::BadRequest("body: missing `abi` (a list of ABI entries)".into())
        })?;
    if !abi.is_array() {
        return Err(ApiError::BadRequest(
            "body: `abi` must be a list of ABI entries".into(),
        ));
    }
    Ok(abi)
}

fn evm_error(error: EvmError) -> Response {
    let status = match &error {
        EvmError::InvalidAddress(_) | EvmError::InvalidRange(_) => StatusCode::BAD_REQUEST,
        EvmError::InvalidAbi(_) => StatusCode::UNPROCESSABLE_ENTITY,
        EvmError::Unreachable { .. } => StatusCode::SERVICE_UNAVAILABLE,
        EvmError::Refused { .. } | EvmError::Malformed { .. } => StatusCode::BAD_GATEWAY,
        EvmError::Timeout { .. } => StatusCode::GATEWAY_TIMEOUT,
    };
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), error = %error, "EVM logs request failed");
    }
    let body = crate::wire::ErrorResponse {
        status_code: status.as_u16(),
        detail: error.to_string(),
    };
    (status, axum::Json(body)).into_response()
}

/// A contract's logs in a block range, decoded with the given ABI (through the EVM node of
/// `PYLON_EVM_RPC_URL`; older ranges from `PYLON_EVM_ARCHIVE_RPC_URL`).
#[utoipa::path(post, path = "/evm/contracts/{contract_address}/logs",
    params(ContractPath, LogsRange), request_body = LogsBody,
    responses((status = 200, body = EvmLogsDoc)))]
pub async fn contract_logs(
    State(state): State<Arc<AppState>>,
    _scope: Scope,
    Params(path): Params<ContractPath>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    let address = path.contract_address;
    let (from, to) = block_range(query.as_deref())?;
    let abi = abi_of(&body)?;
    let client = state.evm.client()?;
    match client.logs(&address, from, to, &abi).await {
        Ok(logs) => Ok((
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            serde_json::to_vec(&LogsResponse {
                logs: &logs,
                from_block: from,
                to_block: to,
            })
            .map_err(|e| ApiError::Unavailable(format!("cannot render the logs: {e}")))?,
        )
            .into_response()),
        Err(error) => Ok(evm_error(error)),
    }
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

    #[test]
    fn finney_gets_finneys_evm_nodes_and_other_chains_none() {
        let finney = Network::parse("finney").unwrap();
        let s = EvmSettings::from_vars(&HashMap::new(), &finney).unwrap();
        assert_eq!(s.rpc_url.as_deref(), Some(FINNEY_EVM_RPC_URL));
        assert_eq!(
            s.archive_rpc_url.as_deref(),
            Some(FINNEY_EVM_ARCHIVE_RPC_URL)
        );
        assert_eq!(s.archive_blocks_cutoff, 300);
        let local = Network::parse("local").unwrap();
        let s = EvmSettings::from_vars(&HashMap::new(), &local).unwrap();
        assert_eq!(s.rpc_url, None);
        let Err(ApiError::Unavailable(reason)) = EvmAccess::new(&s).client().map(|_| ()) else {
            panic!("an unconfigured EVM is unavailable");
        };
        assert!(reason.contains("PYLON_EVM_RPC_URL"), "{reason}");
    }

    #[test]
    fn the_pair_is_set_together_and_validated() {
        let local = Network::parse("local").unwrap();
        let err =
            |pairs: &[(&str, &str)]| EvmSettings::from_vars(&vars(pairs), &local).unwrap_err();
        let SettingsError::Invalid { variable, .. } =
            err(&[("PYLON_EVM_RPC_URL", "http://127.0.0.1:9944")])
        else {
            unreachable!()
        };
        assert_eq!(variable, "PYLON_EVM_ARCHIVE_RPC_URL");
        let SettingsError::Invalid { variable, .. } = err(&[
            ("PYLON_EVM_RPC_URL", "ws://x"),
            ("PYLON_EVM_ARCHIVE_RPC_URL", "none"),
        ]) else {
            unreachable!()
        };
        assert_eq!(variable, "PYLON_EVM_RPC_URL");
        let s = EvmSettings::from_vars(
            &vars(&[
                ("PYLON_EVM_RPC_URL", "http://127.0.0.1:9944"),
                ("PYLON_EVM_ARCHIVE_RPC_URL", "none"),
                ("PYLON_EVM_ARCHIVE_BLOCKS_CUTOFF", "12"),
                ("PYLON_EVM_REQUEST_TIMEOUT_SECONDS", "2.5"),
            ]),
            &local,
        )
        .unwrap();
        assert_eq!(s.rpc_url.as_deref(), Some("http://127.0.0.1:9944"));
        assert_eq!(s.archive_rpc_url, None);
        assert_eq!(s.archive_blocks_cutoff, 12);
        assert_eq!(s.request_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn the_block_range_comes_from_the_query() {
        assert_eq!(
            block_range(Some("from_block=3&to_block=9")).unwrap(),
            (3, 9)
        );
        assert!(
            matches!(block_range(Some("from_block=3")), Err(ApiError::BadRequest(m)) if m.contains("to_block"))
        );
        assert!(
            matches!(block_range(Some("from_block=x&to_block=1")), Err(ApiError::BadRequest(m)) if m.contains("from_block"))
        );
        assert!(matches!(
            abi_of(br#"{"abi": {}}"#),
            Err(ApiError::BadRequest(_))
        ));
        assert!(matches!(abi_of(b"nope"), Err(ApiError::BadRequest(_))));
        assert!(abi_of(br#"{"abi": []}"#).unwrap().is_array());
    }
}
