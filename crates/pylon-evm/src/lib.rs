//! Pylon's access to an EVM node (subtensor's Frontier EVM, or any Ethereum JSON-RPC): a contract's
//! logs over a block range, decoded with a caller-supplied ABI.
//!
//! Like the chain client it has a main node and an archive node: a range entirely older than
//! `archive_blocks_cutoff` blocks behind the main node's head goes to the archive, a range entirely
//! newer to the main node, and a range across the cutoff is split between them.

pub mod abi;

use std::time::Duration;

use alloy_primitives::{Address, B256};
use jsonrpsee::core::client::{ClientT, Error as RpcClientError};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::rpc_params;
use serde::{Deserialize, Serialize};

pub use abi::{AbiValue, Args, EventSet};

#[derive(Debug, thiserror::Error)]
pub enum EvmError {
    /// The contract address is not 20 bytes of `0x` hex.
    #[error("invalid contract address: {0}")]
    InvalidAddress(String),
    #[error("invalid ABI: {0}")]
    InvalidAbi(String),
    #[error("invalid block range: {0}")]
    InvalidRange(String),
    /// The node answered with a JSON-RPC error (e.g. a range it refuses).
    #[error("the EVM node ({node}) refused the request: {message}")]
    Refused { node: &'static str, message: String },
    /// The node could not be reached or answered something that is not JSON-RPC.
    #[error("the EVM node ({node}) is unreachable: {message}")]
    Unreachable { node: &'static str, message: String },
    #[error("the EVM node ({node}) did not answer within {seconds} s")]
    Timeout { node: &'static str, seconds: u64 },
    /// The node's answer does not have the shape of `eth_getLogs` / `eth_blockNumber`.
    #[error("the EVM node ({node}) answered malformed data: {message}")]
    Malformed { node: &'static str, message: String },
}

impl EvmError {
    /// The caller's request is wrong (as opposed to the node being in trouble).
    pub fn is_bad_request(&self) -> bool {
        matches!(
            self,
            Self::InvalidAddress(_) | Self::InvalidAbi(_) | Self::InvalidRange(_)
        )
    }
}

#[derive(Debug, Clone)]
pub struct EvmConfig {
    pub rpc_url: String,
    /// The node for old blocks; `None`: the main node answers every range.
    pub archive_rpc_url: Option<String>,
    pub archive_blocks_cutoff: u64,
    pub request_timeout: Duration,
}

/// One decoded log, in the reference service's shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvmLog {
    pub event: String,
    pub args: Args,
    /// The emitting contract, EIP-55 checksummed.
    pub address: String,
    pub block_number: u64,
    pub transaction_hash: String,
    pub transaction_index: u64,
    pub log_index: u64,
}

struct Node {
    name: &'static str,
    client: HttpClient,
    timeout: Duration,
}

pub struct EvmClient {
    main: Node,
    archive: Option<Node>,
    archive_blocks_cutoff: u64,
}

/// A contract address: 20 bytes of hex, `0x`-prefixed, any letter case (checksums are not
/// enforced, as web3's `to_checksum_address` does not).
pub fn parse_address(text: &str) -> Result<Address, EvmError> {
    let bad = || EvmError::InvalidAddress(format!("{text:?} is not 0x followed by 40 hex digits"));
    let body = text.strip_prefix("0x").ok_or_else(bad)?;
    if body.len() != 40 {
        return Err(bad());
    }
    let bytes: [u8; 20] = hex::decode(body)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(bad)?;
    Ok(Address::from(bytes))
}

impl EvmClient {
    pub fn new(config: &EvmConfig) -> Result<Self, String> {
        let node = |name: &'static str, url: &str| -> Result<Node, String> {
            let client = HttpClientBuilder::default()
                .request_timeout(config.request_timeout)
                .build(url)
                .map_err(|e| format!("EVM {name} node URL: {e}"))?;
            Ok(Node {
                name,
                client,
                timeout: config.request_timeout,
            })
        };
        Ok(Self {
            main: node("main", &config.rpc_url)?,
            archive: config
                .archive_rpc_url
                .as_deref()
                .map(|url| node("archive", url))
                .transpose()?,
            archive_blocks_cutoff: config.archive_blocks_cutoff,
        })
    }

    /// `eth_blockNumber` of the main node.
    pub async fn block_number(&self) -> Result<u64, EvmError> {
        let answer: String = self.main.call("eth_blockNumber", rpc_params![]).await?;
        quantity(&answer).ok_or_else(|| EvmError::Malformed {
            node: self.main.name,
            message: format!("eth_blockNumber {answer:?} is not a hex quantity"),
        })
    }

    /// The logs `address` emitted in blocks `from..=to` that an event of `abi` decodes, in chain
    /// order. Input is checked before any node is asked.
    pub async fn logs(
        &self,
        address: &str,
        from: u64,
        to: u64,
        abi: &serde_json::Value,
    ) -> Result<Vec<EvmLog>, EvmError> {
        let address = parse_address(address)?;
        let events = EventSet::from_abi(abi)?;
        if from > to {
            return Err(EvmError::InvalidRange(format!(
                "from_block {from} is after to_block {to}"
            )));
        }
        let raw = match &self.archive {
            None => self.main.logs(address, from, to).await?,
            Some(archive) => {
                let head = self.block_number().await?;
                let cutoff = head.saturating_sub(self.archive_blocks_cutoff);
                if to <= cutoff {
                    archive.logs(address, from, to).await?
                } else if from > cutoff {
                    self.main.logs(address, from, to).await?
                } else {
                    let (old, new) = tokio::join!(
                        archive.logs(address, from, cutoff),
                        self.main.logs(address, cutoff + 1, to)
                    );
                    let mut all = old?;
                    all.extend(new?);
                    all
                }
            }
        };
        Ok(raw
            .into_iter()
            .filter_map(|log| {
                let (event, args) = events.decode(&log.topics, &log.data)?;
                Some(EvmLog {
                    event,
                    args: Args(args),
                    address: log.address.to_checksum(None),
                    block_number: log.block_number,
                    transaction_hash: log.transaction_hash,
                    transaction_index: log.transaction_index,
                    log_index: log.log_index,
                })
            })
            .collect())
    }
}

/// A log as `eth_getLogs` returns it, parsed.
struct RawLog {
    address: Address,
    topics: Vec<B256>,
    data: Vec<u8>,
    block_number: u64,
    transaction_hash: String,
    transaction_index: u64,
    log_index: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct WireLog {
    address: String,
    topics: Vec<String>,
    data: String,
    block_number: Option<String>,
    transaction_hash: Option<String>,
    transaction_index: Option<String>,
    log_index: Option<String>,
    #[serde(default)]
    removed: bool,
}

fn quantity(text: &str) -> Option<u64> {
    u64::from_str_radix(text.strip_prefix("0x")?, 16).ok()
}

impl Node {
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        method: &str,
        params: jsonrpsee::core::params::ArrayParams,
    ) -> Result<T, EvmError> {
        self.client
            .request(method, params)
            .await
            .map_err(|e| match e {
                RpcClientError::Call(error) => EvmError::Refused {
                    node: self.name,
                    message: error.message().to_owned(),
                },
                RpcClientError::RequestTimeout => EvmError::Timeout {
                    node: self.name,
                    seconds: self.timeout.as_secs(),
                },
                RpcClientError::ParseError(e) => EvmError::Malformed {
                    node: self.name,
                    message: e.to_string(),
                },
                other => EvmError::Unreachable {
                    node: self.name,
                    message: other.to_string(),
                },
            })
    }

    async fn logs(&self, address: Address, from: u64, to: u64) -> Result<Vec<RawLog>, EvmError> {
        let filter = serde_json::json!({
            "address": address.to_checksum(None),
            "fromBlock": format!("{from:#x}"),
            "toBlock": format!("{to:#x}"),
        });
        let wire: Vec<WireLog> = self.call("eth_getLogs", rpc_params![filter]).await?;
        let malformed = |message: String| EvmError::Malformed {
            node: self.name,
            message,
        };
        wire.into_iter()
            .filter(|log| !log.removed)
            .map(|log| {
                let topics = log
                    .topics
                    .iter()
                    .map(|t| {
                        hex::decode(t.trim_start_matches("0x"))
                            .ok()
                            .and_then(|b| <[u8; 32]>::try_from(b).ok())
                            .map(B256::from)
                            .ok_or_else(|| malformed(format!("log topic {t:?}")))
                    })
                    .collect::<Result<_, _>>()?;
                let number = |field: &Option<String>, name: &str| {
                    field
                        .as_deref()
                        .and_then(quantity)
                        .ok_or_else(|| malformed(format!("log {name} {field:?}")))
                };
                Ok(RawLog {
                    address: parse_address(&log.address)
                        .map_err(|_| malformed(format!("log address {:?}", log.address)))?,
                    topics,
                    data: hex::decode(log.data.trim_start_matches("0x"))
                        .map_err(|_| malformed(format!("log data {:?}", log.data)))?,
                    block_number: number(&log.block_number, "blockNumber")?,
                    transaction_hash: log.transaction_hash.clone().unwrap_or_default(),
                    transaction_index: number(&log.transaction_index, "transactionIndex")?,
                    log_index: number(&log.log_index, "logIndex")?,
                })
            })
            .collect()
    }
}
