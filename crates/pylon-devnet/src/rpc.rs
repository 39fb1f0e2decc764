//! Substrate JSON-RPC 2.0 (WebSocket and HTTP POST on one port): the legacy `system_*`,
//! `chain_*`, `state_*` and `author_*` methods real clients call, the new API's `chainHead_v1_*`,
//! `archive_v1_*` and `chainSpec_v1_*` ([`crate::rpc_v2`]), plus `dev_*` admin methods. All are
//! listed by `rpc_methods`, as a real node lists them.
//! Params may be positional or named, as on a real node.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use jsonrpsee::types::{ErrorObjectOwned, Params};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionMessage};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use crate::blocks::{hex0x, Hash};
use crate::chain::NodeError;
use crate::node::{now_ms, Node};
use crate::runtime_api;

type RpcResult = Result<Json, ErrorObjectOwned>;

const INVALID_PARAMS: i32 = -32602;
const SERVER_ERROR: i32 = -32000;
/// Substrate's state/chain client error code (e.g. UnknownBlock, state pruned).
const CLIENT_ERROR: i32 = 4003;
/// Substrate's author error codes (the runtime's rejections carry their own).
const ALREADY_IMPORTED: i32 = 1013;
const BAD_FORMAT: i32 = 1001;

fn invalid_params(reason: impl std::fmt::Display) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(
        INVALID_PARAMS,
        format!("Invalid params: {reason}"),
        None::<()>,
    )
}

pub(crate) fn chain_error(e: NodeError) -> ErrorObjectOwned {
    match e {
        NodeError::InvalidTransaction { code, reason } => {
            ErrorObjectOwned::owned(code, crate::chain::rejection_message(code), Some(reason))
        }
        NodeError::AlreadyImported => {
            ErrorObjectOwned::owned(ALREADY_IMPORTED, "Transaction Already Imported", None::<()>)
        }
        other => {
            ErrorObjectOwned::owned(CLIENT_ERROR, format!("Client error: {other}"), None::<()>)
        }
    }
}

/// Parse positional (`[...]`) or named (`{...}`) params into a struct; absent params = `[]`.
pub(crate) fn parse<T: DeserializeOwned>(params: &Params) -> Result<T, ErrorObjectOwned> {
    let raw = params.as_str().unwrap_or("[]");
    let raw = if raw.trim() == "null" { "[]" } else { raw };
    serde_json::from_str(raw).map_err(invalid_params)
}

/// `0x`-prefixed hex bytes.
#[derive(Debug, Clone)]
pub(crate) struct Bytes(pub(crate) Vec<u8>);

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let body = s.strip_prefix("0x").unwrap_or(&s);
        hex::decode(body)
            .map(Bytes)
            .map_err(|_| serde::de::Error::custom(format!("{s:?} is not 0x-prefixed hex")))
    }
}

/// A 32-byte block hash.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BlockHash(pub(crate) Hash);

impl<'de> Deserialize<'de> for BlockHash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let Bytes(bytes) = Bytes::deserialize(d)?;
        bytes
            .try_into()
            .map(BlockHash)
            .map_err(|_| serde::de::Error::custom("a block hash is 32 bytes"))
    }
}

/// An account: 0x-hex of 32 bytes or an SS58 address.
#[derive(Debug, Clone, Copy)]
struct Account([u8; 32]);

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if let Some(hex_id) = s.strip_prefix("0x") {
            let bytes = hex::decode(hex_id).map_err(serde::de::Error::custom)?;
            return bytes
                .try_into()
                .map(Account)
                .map_err(|_| serde::de::Error::custom("an account id is 32 bytes"));
        }
        crate::keys::ss58_decode(&s)
            .map(Account)
            .ok_or_else(|| serde::de::Error::custom(format!("{s:?} is not an SS58 address")))
    }
}

#[derive(Deserialize)]
struct AtParams {
    #[serde(default, alias = "at", alias = "block_hash")]
    hash: Option<BlockHash>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrHex {
    Number(u64),
    Hex(String),
}

impl NumberOrHex {
    fn to_u32(&self) -> Option<u32> {
        match self {
            NumberOrHex::Number(n) => u32::try_from(*n).ok(),
            NumberOrHex::Hex(s) => u32::from_str_radix(s.strip_prefix("0x")?, 16).ok(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ListOrValue {
    List(Vec<NumberOrHex>),
    Value(NumberOrHex),
}

#[derive(Deserialize)]
struct BlockHashParams {
    #[serde(default, alias = "number", alias = "block_number")]
    hash: Option<ListOrValue>,
}

#[derive(Deserialize)]
struct StorageParams {
    key: Bytes,
    #[serde(default, alias = "at", alias = "block_hash")]
    hash: Option<BlockHash>,
}

#[derive(Deserialize)]
struct KeysPagedParams {
    #[serde(alias = "key")]
    prefix: Option<Bytes>,
    count: u32,
    #[serde(default, alias = "startKey")]
    start_key: Option<Bytes>,
    #[serde(default, alias = "at", alias = "block_hash")]
    hash: Option<BlockHash>,
}

#[derive(Deserialize)]
struct QueryStorageAtParams {
    keys: Vec<Bytes>,
    #[serde(default, alias = "hash", alias = "block_hash")]
    at: Option<BlockHash>,
}

#[derive(Deserialize)]
struct CallParams {
    #[serde(alias = "method")]
    name: String,
    #[serde(alias = "data", alias = "call_parameters")]
    bytes: Bytes,
    #[serde(default, alias = "at", alias = "block_hash")]
    hash: Option<BlockHash>,
}

#[derive(Deserialize)]
struct ExtrinsicParams {
    #[serde(alias = "xt", alias = "bytes")]
    extrinsic: Bytes,
}

#[derive(Deserialize)]
struct AccountParams {
    #[serde(alias = "account_id", alias = "address")]
    account: Account,
}

#[derive(Deserialize)]
struct StallParams {
    #[serde(default)]
    ms: u64,
}

#[derive(Deserialize)]
struct FailNextParams {
    #[serde(default = "one")]
    n: u32,
}

fn one() -> u32 {
    1
}

/// Register a method with the node's bookkeeping: request counting and injected faults.
pub(crate) fn method<F, Fut>(module: &mut RpcModule<Arc<Node>>, name: &'static str, f: F)
where
    F: Fn(Params<'static>, Arc<Node>) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = RpcResult> + Send + 'static,
{
    module
        .register_async_method(name, move |params, node, _| {
            let f = f.clone();
            async move {
                let node: Arc<Node> = (*node).clone();
                faults(&node, name).await?;
                f(params, node).await
            }
        })
        .expect("method names are unique");
}

pub(crate) async fn faults(node: &Node, name: &str) -> Result<(), ErrorObjectOwned> {
    if name.starts_with("dev_") {
        return Ok(());
    }
    let stall = node.faults.stall_ms.load(Ordering::Relaxed);
    if stall > 0 {
        tokio::time::sleep(Duration::from_millis(stall)).await;
    }
    if node.take_failure() {
        return Err(ErrorObjectOwned::owned(
            SERVER_ERROR,
            "injected failure (dev_failNext)",
            None::<()>,
        ));
    }
    Ok(())
}

pub(crate) fn raw(v: &Json) -> SubscriptionMessage {
    serde_json::value::to_raw_value(v)
        .expect("JSON values serialize")
        .into()
}

pub fn module(node: Arc<Node>) -> RpcModule<Arc<Node>> {
    let mut m = RpcModule::new(node);

    method(&mut m, "system_chain", |_, _| async {
        Ok(json!("Bittensor"))
    });
    method(&mut m, "system_name", |_, _| async {
        Ok(json!("Subtensor Node"))
    });
    method(&mut m, "system_version", |_, _| async {
        Ok(json!(concat!("pylon-devnet-", env!("CARGO_PKG_VERSION"))))
    });
    method(&mut m, "system_chainType", |_, _| async {
        Ok(json!("Development"))
    });
    method(&mut m, "system_health", |_, _| async {
        Ok(json!({"peers": 0, "isSyncing": false, "shouldHavePeers": false}))
    });
    method(&mut m, "system_properties", |_, _| async {
        Ok(json!({"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"}))
    });
    // `account_nextIndex` is Substrate's alias, used by the Bittensor SDK.
    for name in ["system_accountNextIndex", "account_nextIndex"] {
        method(&mut m, name, |p, node| async move {
            let AccountParams { account } = parse(&p)?;
            Ok(json!(node.chain.lock().account_next_index(account.0)))
        });
    }

    method(&mut m, "chain_getBlockHash", |p, node| async move {
        let BlockHashParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        let lookup = |n: Option<&NumberOrHex>| -> Json {
            let number = match n {
                None => Some(chain.best().header.number),
                Some(n) => n.to_u32(),
            };
            number
                .and_then(|n| chain.block_by_number(n))
                .map(|b| json!(hex0x(&b.hash)))
                .unwrap_or(Json::Null)
        };
        Ok(match &hash {
            None => lookup(None),
            Some(ListOrValue::Value(n)) => lookup(Some(n)),
            Some(ListOrValue::List(ns)) => {
                Json::Array(ns.iter().map(|n| lookup(Some(n))).collect())
            }
        })
    });
    for name in [
        "chain_getHead",
        "chain_getFinalizedHead",
        "chain_getFinalisedHead",
    ] {
        method(&mut m, name, |_, node| async move {
            Ok(json!(hex0x(&node.chain.lock().best().hash)))
        });
    }
    method(&mut m, "chain_getHeader", |p, node| async move {
        let AtParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        Ok(chain
            .block(hash.map(|h| h.0))
            .map(|b| b.header.to_json())
            .unwrap_or(Json::Null))
    });
    method(&mut m, "chain_getBlock", |p, node| async move {
        let AtParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        Ok(chain
            .block(hash.map(|h| h.0))
            .map(|b| b.to_json())
            .unwrap_or(Json::Null))
    });

    method(&mut m, "state_getRuntimeVersion", |p, node| async move {
        let AtParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        let version = chain.version_at(hash.map(|h| h.0)).map_err(chain_error)?;
        Ok(version.to_json())
    });
    method(&mut m, "chain_getRuntimeVersion", |p, node| async move {
        let AtParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        let version = chain.version_at(hash.map(|h| h.0)).map_err(chain_error)?;
        Ok(version.to_json())
    });
    method(&mut m, "state_getMetadata", |p, node| async move {
        let AtParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        let meta = chain.metadata_at(hash.map(|h| h.0)).map_err(chain_error)?;
        Ok(json!(hex0x(meta.v14_bytes())))
    });
    for name in ["state_call", "state_callAt"] {
        method(&mut m, name, |p, node| async move {
            let CallParams { name, bytes, hash } = parse(&p)?;
            let (state, version) = {
                let chain = node.chain.lock();
                let at = hash.map(|h| h.0);
                let state = chain.state_at(at).map_err(chain_error)?;
                (state, chain.version_at(at).map_err(chain_error)?)
            };
            // Large answers (all neurons) are built off the async workers.
            tokio::task::spawn_blocking(move || {
                runtime_api::call(&state, &version, &name, &bytes.0)
            })
            .await
            .map_err(|_| ErrorObjectOwned::owned(SERVER_ERROR, "runtime call failed", None::<()>))?
            .map(|out| json!(hex0x(&out)))
            .map_err(|e| {
                ErrorObjectOwned::owned(
                    CLIENT_ERROR,
                    format!("Client error: Execution failed: {e}"),
                    None::<()>,
                )
            })
        });
    }
    for name in ["state_getStorage", "state_getStorageAt"] {
        method(&mut m, name, |p, node| async move {
            let StorageParams { key, hash } = parse(&p)?;
            let chain = node.chain.lock();
            let state = chain.state_at(hash.map(|h| h.0)).map_err(chain_error)?;
            Ok(state
                .raw
                .get(&key.0)
                .map(|v| json!(hex0x(v)))
                .unwrap_or(Json::Null))
        });
    }
    for name in ["state_getStorageHash", "state_getStorageHashAt"] {
        method(&mut m, name, |p, node| async move {
            let StorageParams { key, hash } = parse(&p)?;
            let chain = node.chain.lock();
            let state = chain.state_at(hash.map(|h| h.0)).map_err(chain_error)?;
            Ok(state
                .raw
                .get(&key.0)
                .map(|v| json!(hex0x(&sp_crypto_hashing::blake2_256(v))))
                .unwrap_or(Json::Null))
        });
    }
    for name in ["state_getStorageSize", "state_getStorageSizeAt"] {
        method(&mut m, name, |p, node| async move {
            let StorageParams { key, hash } = parse(&p)?;
            let chain = node.chain.lock();
            let state = chain.state_at(hash.map(|h| h.0)).map_err(chain_error)?;
            Ok(state
                .raw
                .get(&key.0)
                .map(|v| json!(v.len()))
                .unwrap_or(Json::Null))
        });
    }
    for name in ["state_getKeysPaged", "state_getKeysPagedAt"] {
        method(&mut m, name, |p, node| async move {
            let KeysPagedParams {
                prefix,
                count,
                start_key,
                hash,
            } = parse(&p)?;
            let prefix = prefix.map(|b| b.0).unwrap_or_default();
            let chain = node.chain.lock();
            let state = chain.state_at(hash.map(|h| h.0)).map_err(chain_error)?;
            let start = start_key.map(|k| k.0).unwrap_or_else(|| prefix.clone());
            let keys: Vec<Json> = state
                .raw
                .range(start.clone()..)
                .filter(|(k, _)| **k != start || start == prefix)
                .take_while(|(k, _)| k.starts_with(&prefix))
                .take(count.min(1000) as usize)
                .map(|(k, _)| json!(hex0x(k)))
                .collect();
            Ok(Json::Array(keys))
        });
    }
    method(&mut m, "state_queryStorageAt", |p, node| async move {
        let QueryStorageAtParams { keys, at } = parse(&p)?;
        let chain = node.chain.lock();
        let block = chain.block(at.map(|h| h.0)).map_err(chain_error)?;
        let state = chain.state_at(Some(block.hash)).map_err(chain_error)?;
        let changes: Vec<Json> = keys
            .iter()
            .map(|k| json!([hex0x(&k.0), state.raw.get(&k.0).map(|v| hex0x(v))]))
            .collect();
        Ok(json!([{ "block": hex0x(&block.hash), "changes": changes }]))
    });

    method(&mut m, "author_submitExtrinsic", |p, node| async move {
        let ExtrinsicParams { extrinsic } = parse(&p)?;
        if extrinsic.0.is_empty() {
            return Err(ErrorObjectOwned::owned(
                BAD_FORMAT,
                "Extrinsic has invalid format",
                None::<()>,
            ));
        }
        let hash = node
            .chain
            .lock()
            .submit(extrinsic.0, now_ms())
            .map_err(chain_error)?;
        Ok(json!(hex0x(&hash)))
    });
    method(&mut m, "author_pendingExtrinsics", |_, node| async move {
        let chain = node.chain.lock();
        Ok(Json::Array(
            chain
                .pool()
                .iter()
                .map(|tx| json!(hex0x(&tx.bytes)))
                .collect(),
        ))
    });

    method(&mut m, "dev_newBlock", |_, node| async move {
        let outcome = node.seal_block();
        Ok(json!({"hash": hex0x(&outcome.block_hash), "number": outcome.number}))
    });
    method(&mut m, "dev_stall", |p, node| async move {
        let StallParams { ms } = parse(&p)?;
        node.faults.stall_ms.store(ms, Ordering::Relaxed);
        Ok(json!(ms))
    });
    method(&mut m, "dev_failNext", |p, node| async move {
        let FailNextParams { n } = parse(&p)?;
        node.faults.fail_next.store(n, Ordering::SeqCst);
        Ok(json!(n))
    });
    method(&mut m, "dev_dropConnections", |_, node| async move {
        node.drop_connections.notify_one();
        Ok(json!(true))
    });
    method(&mut m, "dev_runtimeUpgrade", |_, node| async move {
        Ok(node.runtime_upgrade().to_json())
    });
    // For benchmarks in another process: how many chain calls a client made (this one included).
    method(&mut m, "dev_rpcCallCount", |_, node| async move {
        Ok(json!(node.rpc_calls.load(Ordering::Relaxed)))
    });

    register_head_subscriptions(&mut m);
    register_version_subscription(&mut m);
    register_watch_extrinsic(&mut m);
    crate::rpc_v2::register(&mut m);
    crate::evm::register(&mut m);

    let names: Vec<String> = m.method_names().map(str::to_owned).collect();
    m.register_method(
        "rpc_methods",
        move |_, _, _| json!({"version": 1, "methods": names}),
    )
    .expect("rpc_methods is registered once");
    m
}

fn register_head_subscriptions(m: &mut RpcModule<Arc<Node>>) {
    let subs = [
        (
            "chain_subscribeNewHeads",
            "chain_newHead",
            "chain_unsubscribeNewHeads",
        ),
        (
            "chain_subscribeFinalizedHeads",
            "chain_finalizedHead",
            "chain_unsubscribeFinalizedHeads",
        ),
        (
            "chain_subscribeAllHeads",
            "chain_allHead",
            "chain_unsubscribeAllHeads",
        ),
        (
            "chain_subscribeFinalisedHeads",
            "chain_finalisedHead",
            "chain_unsubscribeFinalisedHeads",
        ),
    ];
    for (sub, notif, unsub) in subs {
        m.register_subscription(
            sub,
            notif,
            unsub,
            |_, pending: PendingSubscriptionSink, node, _| async move {
                let node: Arc<Node> = (*node).clone();
                let mut heads = node.heads.subscribe();
                let current = node.chain.lock().best().header.to_json();
                let sink = pending.accept().await?;
                sink.send(raw(&current)).await?;
                loop {
                    tokio::select! {
                        _ = sink.closed() => break,
                        head = heads.recv() => match head {
                            Ok(head) => sink.send(raw(&head)).await?,
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => break,
                        },
                    }
                }
                Ok(())
            },
        )
        .expect("subscription names are unique");
    }
}

fn register_version_subscription(m: &mut RpcModule<Arc<Node>>) {
    for (sub, notif, unsub) in [
        (
            "state_subscribeRuntimeVersion",
            "state_runtimeVersion",
            "state_unsubscribeRuntimeVersion",
        ),
        (
            "chain_subscribeRuntimeVersion",
            "chain_runtimeVersion",
            "chain_unsubscribeRuntimeVersion",
        ),
    ] {
        m.register_subscription(
            sub,
            notif,
            unsub,
            |_, pending: PendingSubscriptionSink, node, _| async move {
                let node: Arc<Node> = (*node).clone();
                let mut versions = node.versions.subscribe();
                let current = node.chain.lock().version().to_json();
                let sink = pending.accept().await?;
                sink.send(raw(&current)).await?;
                loop {
                    tokio::select! {
                        _ = sink.closed() => break,
                        v = versions.recv() => match v {
                            Ok(v) => sink.send(raw(&v.to_json())).await?,
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => break,
                        },
                    }
                }
                Ok(())
            },
        )
        .expect("subscription names are unique");
    }
}

fn register_watch_extrinsic(m: &mut RpcModule<Arc<Node>>) {
    m.register_subscription(
        "author_submitAndWatchExtrinsic",
        "author_extrinsicUpdate",
        "author_unwatchExtrinsic",
        |params, pending: PendingSubscriptionSink, node, _| async move {
            let node: Arc<Node> = (*node).clone();
            if let Err(e) = faults(&node, "author_submitAndWatchExtrinsic").await {
                pending.reject(e).await;
                return Ok(());
            }
            let ExtrinsicParams { extrinsic } = match parse(&params) {
                Ok(p) => p,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            // Subscribe before submitting so a block sealed in between is not missed.
            let mut sealed = node.sealed.subscribe();
            let submitted = node.chain.lock().submit(extrinsic.0, now_ms());
            let hash = match submitted {
                Ok(hash) => hash,
                Err(e) => {
                    pending.reject(chain_error(e)).await;
                    return Ok(());
                }
            };
            let sink = pending.accept().await?;
            sink.send(raw(&json!("ready"))).await?;
            loop {
                tokio::select! {
                    _ = sink.closed() => break,
                    outcome = sealed.recv() => match outcome {
                        Ok(o) if o.included.contains(&hash) => {
                            let block = hex0x(&o.block_hash);
                            sink.send(raw(&json!({"inBlock": block}))).await?;
                            sink.send(raw(&json!({"finalized": block}))).await?;
                            break;
                        }
                        Ok(o) if o.dropped.iter().any(|(h, _)| *h == hash) => {
                            sink.send(raw(&json!("invalid"))).await?;
                            break;
                        }
                        Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => {
                            sink.send(raw(&json!("dropped"))).await?;
                            break;
                        }
                    },
                }
            }
            Ok(())
        },
    )
    .expect("subscription names are unique");
}
