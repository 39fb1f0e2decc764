//! A minimal Ethereum JSON-RPC beside the Substrate one, as subtensor's node serves both on one
//! port: `eth_chainId`, `net_version`, `eth_blockNumber` and `eth_getLogs` over the logs a
//! scenario declares (`[evm]` / `[[evm.logs]]`, see docs/DEVNET.md).
//!
//! The EVM block number is the Substrate block number (Frontier's mapping); a declared log
//! exists once its block has been sealed.

use std::sync::Arc;

use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value as Json};

use crate::blocks::hex0x;
use crate::node::Node;

/// JSON-RPC "invalid params", which geth and Frontier answer for bad filters.
const INVALID_PARAMS: i32 = -32602;
/// Bittensor finney's EVM chain id.
const FINNEY_CHAIN_ID: u64 = 964;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EvmSpec {
    /// `eth_chainId` (finney's 964 unless set).
    pub chain_id: u64,
    pub logs: Vec<EvmLogSpec>,
}

impl Default for EvmSpec {
    fn default() -> Self {
        Self {
            chain_id: FINNEY_CHAIN_ID,
            logs: Vec::new(),
        }
    }
}

/// One log as a contract would have emitted it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvmLogSpec {
    /// The emitting contract, 20 bytes `0x` hex.
    pub address: String,
    /// Up to 4 topics, 32 bytes `0x` hex each (topic 0 is the event signature's keccak).
    #[serde(default)]
    pub topics: Vec<String>,
    /// ABI-encoded non-indexed arguments, `0x` hex.
    #[serde(default)]
    pub data: String,
    pub block: u32,
    #[serde(default)]
    pub transaction_index: u32,
    /// 32 bytes `0x` hex; derived from the block and transaction index when absent.
    #[serde(default)]
    pub transaction_hash: Option<String>,
}

/// A declared log, parsed, with its position in its block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvmLog {
    pub address: [u8; 20],
    pub topics: Vec<[u8; 32]>,
    pub data: Vec<u8>,
    pub block: u32,
    pub transaction_index: u32,
    pub transaction_hash: [u8; 32],
    /// Index among the logs of its block, in declaration order.
    pub log_index: u32,
}

/// The scenario's EVM side, parsed once at start.
#[derive(Debug, Clone, Default)]
pub struct EvmLogs {
    pub chain_id: u64,
    /// Sorted by (block, log_index).
    pub logs: Vec<EvmLog>,
}

/// `N` bytes from `0x` hex (the prefix is required: this is what EVM tooling writes).
pub fn parse_hex_n<const N: usize>(text: &str) -> Result<[u8; N], String> {
    let bytes = parse_hex(text)?;
    bytes
        .try_into()
        .map_err(|b: Vec<u8>| format!("{text} is {} bytes, not {N}", b.len()))
}

fn parse_hex(text: &str) -> Result<Vec<u8>, String> {
    let body = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("{text:?} is not 0x-prefixed hex"))?;
    hex::decode(body).map_err(|_| format!("{text:?} is not 0x-prefixed hex"))
}

impl EvmLogs {
    pub fn from_spec(spec: &EvmSpec) -> Result<Self, String> {
        let mut logs = Vec::with_capacity(spec.logs.len());
        for (i, log) in spec.logs.iter().enumerate() {
            let context = |e: String| format!("evm.logs[{i}]: {e}");
            if log.topics.len() > 4 {
                return Err(context(format!("{} topics (at most 4)", log.topics.len())));
            }
            let topics = log
                .topics
                .iter()
                .map(|t| parse_hex_n::<32>(t))
                .collect::<Result<Vec<_>, _>>()
                .map_err(context)?;
            let data = if log.data.is_empty() {
                Vec::new()
            } else {
                parse_hex(&log.data).map_err(context)?
            };
            let transaction_hash = match &log.transaction_hash {
                Some(h) => parse_hex_n::<32>(h).map_err(context)?,
                None => sp_crypto_hashing::keccak_256(
                    format!("pylon-devnet tx {} {}", log.block, log.transaction_index).as_bytes(),
                ),
            };
            logs.push(EvmLog {
                address: parse_hex_n::<20>(&log.address).map_err(context)?,
                topics,
                data,
                block: log.block,
                transaction_index: log.transaction_index,
                transaction_hash,
                log_index: 0,
            });
        }
        // Stable: logs of one block keep their declaration order.
        logs.sort_by_key(|l| l.block);
        let mut previous = None;
        let mut index = 0;
        for log in &mut logs {
            if previous != Some(log.block) {
                index = 0;
                previous = Some(log.block);
            }
            log.log_index = index;
            index += 1;
        }
        Ok(Self {
            chain_id: spec.chain_id,
            logs,
        })
    }

    /// The logs matching `filter` (an `eth_getLogs` filter object) with `best` as "latest".
    pub fn query(&self, filter: &Json, best: u32) -> Result<Vec<&EvmLog>, String> {
        let filter = LogFilter::parse(filter, best)?;
        Ok(self.logs.iter().filter(|l| filter.matches(l)).collect())
    }
}

/// A parsed `eth_getLogs` filter.
#[derive(Debug)]
struct LogFilter {
    from: u32,
    to: u32,
    addresses: Option<Vec<[u8; 20]>>,
    /// Per position: `None` matches anything, else any of the listed topics.
    topics: Vec<Option<Vec<[u8; 32]>>>,
}

impl LogFilter {
    fn parse(filter: &Json, best: u32) -> Result<Self, String> {
        let object = match filter {
            Json::Object(o) => o,
            Json::Null => return Err("missing filter object".into()),
            _ => return Err("the filter must be an object".into()),
        };
        for key in object.keys() {
            if !matches!(
                key.as_str(),
                "fromBlock" | "toBlock" | "address" | "topics" | "blockHash"
            ) {
                return Err(format!("unknown filter field {key:?}"));
            }
        }
        if object.contains_key("blockHash") {
            return Err("blockHash filters are not supported by pylon devnet".into());
        }
        let block = |key: &str| -> Result<u32, String> {
            match object.get(key) {
                None | Some(Json::Null) => Ok(best),
                Some(Json::String(tag)) => match tag.as_str() {
                    "latest" | "pending" | "safe" | "finalized" => Ok(best),
                    "earliest" => Ok(0),
                    hex_number => hex_number
                        .strip_prefix("0x")
                        .and_then(|h| u64::from_str_radix(h, 16).ok())
                        .map(|n| n.min(u64::from(u32::MAX)) as u32)
                        .ok_or_else(|| {
                            format!("{key} {hex_number:?} is not a block tag or hex number")
                        }),
                },
                Some(other) => Err(format!("{key} {other} is not a block tag or hex number")),
            }
        };
        let (from, to) = (block("fromBlock")?, block("toBlock")?);
        if from > to {
            return Err(format!(
                "invalid block range params: fromBlock {from} is after toBlock {to}"
            ));
        }
        let addresses = match object.get("address") {
            None | Some(Json::Null) => None,
            Some(Json::String(a)) => Some(vec![parse_hex_n::<20>(a)?]),
            Some(Json::Array(list)) => Some(
                list.iter()
                    .map(|a| {
                        a.as_str()
                            .ok_or_else(|| format!("address {a} is not a string"))
                            .and_then(parse_hex_n::<20>)
                    })
                    .collect::<Result<_, _>>()?,
            ),
            Some(other) => return Err(format!("address {other} is not a string or list")),
        };
        let topic = |t: &Json| -> Result<[u8; 32], String> {
            t.as_str()
                .ok_or_else(|| format!("topic {t} is not a string"))
                .and_then(parse_hex_n::<32>)
        };
        let topics = match object.get("topics") {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(positions)) => {
                if positions.len() > 4 {
                    return Err(format!("{} topic positions (at most 4)", positions.len()));
                }
                positions
                    .iter()
                    .map(|p| match p {
                        Json::Null => Ok(None),
                        Json::Array(any) if any.is_empty() => Ok(None),
                        Json::Array(any) => {
                            any.iter().map(topic).collect::<Result<_, _>>().map(Some)
                        }
                        single => topic(single).map(|t| Some(vec![t])),
                    })
                    .collect::<Result<_, _>>()?
            }
            Some(other) => return Err(format!("topics {other} is not a list")),
        };
        Ok(Self {
            from,
            to: to.min(best),
            addresses,
            topics,
        })
    }

    fn matches(&self, log: &EvmLog) -> bool {
        (self.from..=self.to).contains(&log.block)
            && self
                .addresses
                .as_ref()
                .is_none_or(|a| a.contains(&log.address))
            && self
                .topics
                .iter()
                .enumerate()
                .all(|(i, wanted)| match wanted {
                    None => true,
                    Some(any) => log.topics.get(i).is_some_and(|t| any.contains(t)),
                })
    }
}

fn invalid(message: String) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(INVALID_PARAMS, message, None::<()>)
}

fn hex_quantity(n: impl Into<u64>) -> Json {
    json!(format!("{:#x}", n.into()))
}

/// Register the `eth_*` / `net_version` methods on the devnet's RPC module.
pub(crate) fn register(m: &mut RpcModule<Arc<Node>>) {
    crate::rpc::method(m, "eth_chainId", |_, node| async move {
        Ok(hex_quantity(node.chain.lock().evm().chain_id))
    });
    crate::rpc::method(m, "net_version", |_, node| async move {
        Ok(json!(node.chain.lock().evm().chain_id.to_string()))
    });
    crate::rpc::method(m, "eth_blockNumber", |_, node| async move {
        Ok(hex_quantity(node.chain.lock().best().header.number))
    });
    crate::rpc::method(m, "eth_getLogs", |p, node| async move {
        let params: Vec<Json> = crate::rpc::parse(&p)?;
        let [filter] = <[Json; 1]>::try_from(params).map_err(|p| {
            invalid(format!(
                "eth_getLogs takes one filter object, got {} params",
                p.len()
            ))
        })?;
        let chain = node.chain.lock();
        let best = chain.best().header.number;
        let logs = chain.evm().query(&filter, best).map_err(invalid)?;
        Ok(Json::Array(
            logs.into_iter()
                .map(|log| {
                    let block_hash = chain
                        .block_by_number(log.block)
                        .map(|b| hex0x(&b.hash))
                        .unwrap_or_default();
                    json!({
                        "address": format!("0x{}", hex::encode(log.address)),
                        "topics": log.topics.iter().map(|t| format!("0x{}", hex::encode(t))).collect::<Vec<_>>(),
                        "data": format!("0x{}", hex::encode(&log.data)),
                        "blockNumber": hex_quantity(log.block),
                        "blockHash": block_hash,
                        "transactionHash": format!("0x{}", hex::encode(log.transaction_hash)),
                        "transactionIndex": hex_quantity(log.transaction_index),
                        "logIndex": hex_quantity(log.log_index),
                        "removed": false,
                    })
                })
                .collect(),
        ))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0x00000000000000000000000000000000000000aa";
    const OTHER: &str = "0x00000000000000000000000000000000000000bb";

    fn topic(n: u8) -> String {
        format!("0x{}", hex::encode([n; 32]))
    }

    fn logs() -> EvmLogs {
        let log = |address: &str, topics: Vec<String>, block| EvmLogSpec {
            address: address.into(),
            topics,
            data: "0x01".into(),
            block,
            transaction_index: 0,
            transaction_hash: None,
        };
        EvmLogs::from_spec(&EvmSpec {
            chain_id: 945,
            logs: vec![
                log(TOKEN, vec![topic(1), topic(2)], 5),
                log(OTHER, vec![topic(1)], 3),
                log(TOKEN, vec![topic(3)], 5),
                log(TOKEN, vec![topic(1), topic(4)], 9),
            ],
        })
        .unwrap()
    }

    fn blocks(found: Vec<&EvmLog>) -> Vec<(u32, u32)> {
        found.iter().map(|l| (l.block, l.log_index)).collect()
    }

    #[test]
    fn logs_are_ordered_by_block_and_indexed_within_it() {
        let all = logs();
        let order: Vec<(u32, u32)> = all.logs.iter().map(|l| (l.block, l.log_index)).collect();
        assert_eq!(order, vec![(3, 0), (5, 0), (5, 1), (9, 0)]);
        assert_ne!(all.logs[1].transaction_hash, [0; 32]);
    }

    #[test]
    fn range_address_and_topics_filter() {
        let all = logs();
        let q = |f: Json, best| all.query(&f, best).map(blocks);
        // Default range is latest..latest.
        assert_eq!(q(json!({}), 5).unwrap(), vec![(5, 0), (5, 1)]);
        // Blocks after the best one do not exist yet.
        assert_eq!(
            q(json!({"fromBlock": "0x0", "toBlock": "0x64"}), 8)
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            q(
                json!({"fromBlock": "earliest", "toBlock": "latest", "address": TOKEN}),
                20
            )
            .unwrap(),
            vec![(5, 0), (5, 1), (9, 0)]
        );
        assert_eq!(
            q(
                json!({"fromBlock": "0x0", "address": [OTHER, TOKEN], "topics": [topic(1)]}),
                20
            )
            .unwrap(),
            vec![(3, 0), (5, 0), (9, 0)]
        );
        assert_eq!(
            q(
                json!({"fromBlock": "0x0", "topics": [null, [topic(2), topic(4)]]}),
                20
            )
            .unwrap(),
            vec![(5, 0), (9, 0)]
        );
        // A position past a log's topics never matches it.
        assert_eq!(
            q(
                json!({"fromBlock": "0x0", "topics": [null, null, topic(9)]}),
                20
            )
            .unwrap(),
            vec![]
        );
    }

    #[test]
    fn bad_filters_are_named() {
        let all = logs();
        let err = |f: Json| all.query(&f, 10).unwrap_err();
        assert!(err(json!({"fromBlock": "0x9", "toBlock": "0x2"})).contains("invalid block range"));
        assert!(err(json!({"address": "0x1234"})).contains("not 20"));
        assert!(err(json!({"fromBlock": "yesterday"})).contains("yesterday"));
        assert!(err(json!({"topics": ["0xzz"]})).contains("hex"));
        assert!(err(json!({"bogus": 1})).contains("bogus"));
    }

    #[test]
    fn declared_logs_are_validated() {
        let bad = EvmSpec {
            chain_id: 1,
            logs: vec![EvmLogSpec {
                address: "aa".into(),
                topics: vec![],
                data: String::new(),
                block: 1,
                transaction_index: 0,
                transaction_hash: None,
            }],
        };
        assert!(EvmLogs::from_spec(&bad)
            .unwrap_err()
            .contains("evm.logs[0]"));
    }
}
