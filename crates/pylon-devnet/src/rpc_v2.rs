//! The new JSON-RPC API (paritytech's json-rpc-interface-spec), served beside the legacy methods as
//! every current polkadot-sdk node (finney's included) does: `chainHead_v1_*`, `archive_v1_*`,
//! `chainSpec_v1_*`, `transactionWatch_v1_*` and `transaction_v1_*`.
//!
//! - `chainHead_v1_follow` announces the finalized block (`initialized`), then every sealed block
//!   as `newBlock` → `bestBlockChanged` → `finalized` (finality is instant on the devnet). Every
//!   announced block stays pinned until the client unpins it; past [`MAX_PINNED`] pinned blocks, or
//!   when the client falls behind the announcements, the subscription ends with `stop`, like a node.
//! - `chainHead_v1_header` answers at once; `_body`, `_call` and `_storage` answer
//!   `{"result": "started", "operationId"}` and deliver their results as follow events
//!   (`operationBodyDone`, `operationCallDone`, `operationStorageItems` … `operationStorageDone`,
//!   `operationError`). Storage results come in pages of [`STORAGE_PAGE`] items; after each page
//!   with more to come the operation waits for `chainHead_v1_continue`
//!   (`operationWaitingForContinue`). `chainHead_v1_stopOperation` ends one.
//! - A stale or unknown follow subscription gets `null` (`header`), `limitReached` (operations) or
//!   nothing (`unpin`, `continue`, `stopOperation`); a block not pinned gets `-32801`.
//! - `archive_v1_*` reads any block the devnet kept, by hash or height.
//! - `transactionWatch_v1_submitAndWatch` and `transaction_v1_broadcast` submit to the pool.
//!
//! The devnet's state is not a trie: `closestDescendantMerkleValue` is a blake2-256 over the
//! descendant entries, which changes exactly when one of them does (what clients use it for).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use jsonrpsee::types::{ErrorObjectOwned, SubscriptionId};
use jsonrpsee::{PendingSubscriptionSink, RpcModule, SubscriptionSink};
use parity_scale_codec::Encode;
use parking_lot::Mutex;
use serde::Deserialize;
use serde_json::{json, Value as Json};
use tokio::sync::{mpsc, Notify};

use crate::blocks::{hex0x, Hash};
use crate::chain::NodeError;
use crate::node::Node;
use crate::rpc::{chain_error, faults, method, parse, raw, BlockHash, Bytes};
use crate::runtime_api;
use crate::storage::RawState;

/// Blocks a follow subscription may hold pinned before it is stopped (Substrate's default).
pub const MAX_PINNED: usize = 512;
/// Storage items per `operationStorageItems` event before waiting for `chainHead_v1_continue`.
pub const STORAGE_PAGE: usize = 256;
/// Operations one follow subscription may run at once (more get `limitReached`).
const MAX_OPERATIONS: usize = 16;
/// The spec's error for a block hash that is not pinned (or not known to the archive).
const INVALID_BLOCK: i32 = -32801;

fn invalid_block() -> ErrorObjectOwned {
    ErrorObjectOwned::owned(INVALID_BLOCK, "Invalid block hash", None::<()>)
}

/// One open `chainHead_v1_follow` subscription.
struct Follow {
    pinned: HashSet<Hash>,
    /// Operation events, forwarded by the subscription's task in order.
    events: mpsc::UnboundedSender<Json>,
    operations: HashMap<String, Arc<Operation>>,
}

/// A running operation: woken by `continue`, cancelled by `stopOperation`.
#[derive(Default)]
struct Operation {
    resume: Notify,
    stopped: std::sync::atomic::AtomicBool,
}

#[derive(Default)]
struct Follows {
    by_id: Mutex<HashMap<String, Follow>>,
    next_operation: AtomicU64,
}

fn id_string(id: &SubscriptionId<'_>) -> String {
    match id {
        SubscriptionId::Num(n) => n.to_string(),
        SubscriptionId::Str(s) => s.to_string(),
    }
}

/// A follow subscription id as clients send it back (Substrate's are strings).
#[derive(Deserialize)]
#[serde(untagged)]
enum SubId {
    Str(String),
    Num(u64),
}

impl SubId {
    fn key(&self) -> String {
        match self {
            SubId::Str(s) => s.clone(),
            SubId::Num(n) => n.to_string(),
        }
    }
}

#[derive(Deserialize)]
struct FollowParams {
    #[serde(default, alias = "withRuntime")]
    with_runtime: bool,
}

#[derive(Deserialize)]
struct BlockParams {
    #[serde(alias = "followSubscription")]
    follow_subscription: SubId,
    hash: BlockHash,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(BlockHash),
    Many(Vec<BlockHash>),
}

#[derive(Deserialize)]
struct UnpinParams {
    #[serde(alias = "followSubscription")]
    follow_subscription: SubId,
    #[serde(alias = "hashOrHashes")]
    hash_or_hashes: OneOrMany,
}

#[derive(Deserialize)]
struct OperationParams {
    #[serde(alias = "followSubscription")]
    follow_subscription: SubId,
    #[serde(alias = "operationId")]
    operation_id: String,
}

#[derive(Deserialize)]
struct CallParams {
    #[serde(alias = "followSubscription")]
    follow_subscription: SubId,
    hash: BlockHash,
    function: String,
    #[serde(alias = "callParameters")]
    call_parameters: Bytes,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
enum QueryType {
    Value,
    Hash,
    ClosestDescendantMerkleValue,
    DescendantsValues,
    DescendantsHashes,
}

#[derive(Deserialize)]
struct StorageQuery {
    key: Bytes,
    #[serde(rename = "type")]
    query_type: QueryType,
    #[serde(default, rename = "paginationStartKey")]
    pagination_start_key: Option<Bytes>,
}

#[derive(Deserialize)]
struct StorageParams {
    #[serde(alias = "followSubscription")]
    follow_subscription: SubId,
    hash: BlockHash,
    items: Vec<StorageQuery>,
    #[serde(default, alias = "childTrie")]
    child_trie: Option<Bytes>,
}

#[derive(Deserialize)]
struct HashParams {
    hash: BlockHash,
}

#[derive(Deserialize)]
struct HeightParams {
    height: u64,
}

#[derive(Deserialize)]
struct ArchiveCallParams {
    hash: BlockHash,
    function: String,
    #[serde(alias = "callParameters")]
    call_parameters: Bytes,
}

#[derive(Deserialize)]
struct ArchiveStorageParams {
    hash: BlockHash,
    items: Vec<StorageQuery>,
    #[serde(default, alias = "childTrie")]
    child_trie: Option<Bytes>,
}

/// Register every method of the new API on the devnet's module.
pub fn register(m: &mut RpcModule<Arc<Node>>) {
    let follows = Arc::new(Follows::default());
    register_follow(m, follows.clone());
    register_chain_head(m, follows);
    register_archive(m);
    register_chain_spec(m);
    register_transaction(m);
}

/// `{"type": "valid", "spec": {…}}` of a runtime version, apis as an object.
fn runtime_event(version: Json) -> Json {
    let apis: serde_json::Map<String, Json> = version["apis"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|pair| Some((pair[0].as_str()?.to_string(), pair[1].clone())))
        .collect();
    json!({
        "type": "valid",
        "spec": {
            "specName": version["specName"],
            "implName": version["implName"],
            "specVersion": version["specVersion"],
            "implVersion": version["implVersion"],
            "transactionVersion": version["transactionVersion"],
            "apis": apis,
        }
    })
}

fn register_follow(m: &mut RpcModule<Arc<Node>>, follows: Arc<Follows>) {
    m.register_subscription(
        "chainHead_v1_follow",
        "chainHead_v1_followEvent",
        "chainHead_v1_unfollow",
        move |params, pending: PendingSubscriptionSink, node, _| {
            let follows = follows.clone();
            async move {
                let node: Arc<Node> = (*node).clone();
                let with_runtime = match parse::<FollowParams>(&params) {
                    Ok(p) => p.with_runtime,
                    Err(e) => {
                        pending.reject(e).await;
                        return Ok(());
                    }
                };
                // Subscribe before reading the best block, so no block falls in between.
                let sealed = node.sealed.subscribe();
                let sink = pending.accept().await?;
                let id = id_string(&sink.subscription_id());
                let (events_tx, events) = mpsc::unbounded_channel();
                let (finalized, spec) = {
                    let chain = node.chain.lock();
                    let best = chain.best();
                    (best.hash, best.spec_version)
                };
                follows.by_id.lock().insert(
                    id.clone(),
                    Follow {
                        pinned: HashSet::from([finalized]),
                        events: events_tx,
                        operations: HashMap::new(),
                    },
                );
                let ended = follow(&node, &follows, &id, &sink, sealed, events, with_runtime).await;
                follows.by_id.lock().remove(&id);
                if let Err(reason) = ended {
                    tracing::debug!(id, %reason, spec, "chainHead follow stopped");
                    let _ = sink.send(raw(&json!({"event": "stop"}))).await;
                }
                Ok(())
            }
        },
    )
    .expect("subscription names are unique");
}

/// Feed one follow subscription until the client leaves (`Ok`) or it must stop (`Err(reason)`).
async fn follow(
    node: &Arc<Node>,
    follows: &Follows,
    id: &str,
    sink: &SubscriptionSink,
    mut sealed: tokio::sync::broadcast::Receiver<crate::chain::SealOutcome>,
    mut events: mpsc::UnboundedReceiver<Json>,
    with_runtime: bool,
) -> Result<(), String> {
    let send = |event: Json| async move {
        sink.send(raw(&event))
            .await
            .map_err(|_| "client gone".to_string())
    };
    let initialized = {
        let chain = node.chain.lock();
        let best = chain.best();
        let runtime = with_runtime.then(|| {
            runtime_event(
                chain
                    .version_at(Some(best.hash))
                    .map(|v| v.to_json())
                    .unwrap_or_default(),
            )
        });
        json!({
            "event": "initialized",
            "finalizedBlockHashes": [hex0x(&best.hash)],
            "finalizedBlockRuntime": runtime,
        })
    };
    send(initialized).await?;
    loop {
        tokio::select! {
            _ = sink.closed() => return Ok(()),
            event = events.recv() => match event {
                Some(event) => send(event).await?,
                None => return Ok(()),
            },
            block = sealed.recv() => {
                let block = match block {
                    Ok(block) => block,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        return Err("the client fell behind the new blocks".into())
                    }
                    Err(_) => return Ok(()),
                };
                let (parent, new_runtime) = {
                    let chain = node.chain.lock();
                    let Ok(sealed_block) = chain.block(Some(block.block_hash)) else {
                        continue;
                    };
                    let parent = sealed_block.header.parent_hash;
                    let parent_spec = chain.block(Some(parent)).map(|p| p.spec_version).ok();
                    let changed = parent_spec != Some(sealed_block.spec_version);
                    let runtime = (with_runtime && changed).then(|| {
                        runtime_event(
                            chain
                                .version_at(Some(block.block_hash))
                                .map(|v| v.to_json())
                                .unwrap_or_default(),
                        )
                    });
                    (parent, runtime)
                };
                {
                    let mut by_id = follows.by_id.lock();
                    let Some(follow) = by_id.get_mut(id) else {
                        return Ok(());
                    };
                    if follow.pinned.len() >= MAX_PINNED {
                        return Err(format!("more than {MAX_PINNED} blocks pinned"));
                    }
                    follow.pinned.insert(block.block_hash);
                }
                let hash = hex0x(&block.block_hash);
                send(json!({
                    "event": "newBlock",
                    "blockHash": hash,
                    "parentBlockHash": hex0x(&parent),
                    "newRuntime": new_runtime,
                }))
                .await?;
                send(json!({"event": "bestBlockChanged", "bestBlockHash": hash})).await?;
                send(json!({
                    "event": "finalized",
                    "finalizedBlockHashes": [hash],
                    "prunedBlockHashes": [],
                }))
                .await?;
            }
        }
    }
}

/// What a chainHead method may do with a follow subscription and one of its pinned blocks.
enum Lookup {
    /// No such subscription (stale or never opened).
    NoSubscription,
    /// The subscription exists but does not hold this block pinned.
    NotPinned,
    Yes,
}

fn pinned(follows: &Follows, sub: &SubId, hash: &Hash) -> Lookup {
    match follows.by_id.lock().get(&sub.key()) {
        None => Lookup::NoSubscription,
        Some(follow) if follow.pinned.contains(hash) => Lookup::Yes,
        Some(_) => Lookup::NotPinned,
    }
}

/// An operation just started: its id, its handle, and where its events go.
struct Started {
    id: String,
    operation: Arc<Operation>,
    events: mpsc::UnboundedSender<Json>,
}

/// Start an operation on a pinned block: `Ok(Err(answer))` when it cannot start (the answer to
/// give), `Ok(Ok(started))` otherwise.
fn start_operation(
    follows: &Follows,
    sub: &SubId,
    hash: &Hash,
) -> Result<Result<Started, Json>, ErrorObjectOwned> {
    let mut by_id = follows.by_id.lock();
    let Some(follow) = by_id.get_mut(&sub.key()) else {
        return Ok(Err(json!({"result": "limitReached"})));
    };
    if !follow.pinned.contains(hash) {
        return Err(invalid_block());
    }
    follow
        .operations
        .retain(|_, op| !op.stopped.load(Ordering::Relaxed));
    if follow.operations.len() >= MAX_OPERATIONS {
        return Ok(Err(json!({"result": "limitReached"})));
    }
    let id = follows
        .next_operation
        .fetch_add(1, Ordering::Relaxed)
        .to_string();
    let operation = Arc::new(Operation::default());
    follow.operations.insert(id.clone(), operation.clone());
    Ok(Ok(Started {
        id,
        operation,
        events: follow.events.clone(),
    }))
}

fn started(operation_id: &str) -> Json {
    json!({"result": "started", "operationId": operation_id})
}

fn register_chain_head(m: &mut RpcModule<Arc<Node>>, follows: Arc<Follows>) {
    let f = follows.clone();
    method(m, "chainHead_v1_header", move |p, node| {
        let follows = f.clone();
        async move {
            let BlockParams {
                follow_subscription,
                hash,
            } = parse(&p)?;
            match pinned(&follows, &follow_subscription, &hash.0) {
                Lookup::NoSubscription => Ok(Json::Null),
                Lookup::NotPinned => Err(invalid_block()),
                Lookup::Yes => {
                    let chain = node.chain.lock();
                    let block = chain.block(Some(hash.0)).map_err(chain_error)?;
                    Ok(json!(hex0x(&block.header.encode())))
                }
            }
        }
    });

    let f = follows.clone();
    method(m, "chainHead_v1_body", move |p, node| {
        let follows = f.clone();
        async move {
            let BlockParams {
                follow_subscription,
                hash,
            } = parse(&p)?;
            let Started {
                id,
                operation,
                events,
            } = match start_operation(&follows, &follow_subscription, &hash.0)? {
                Ok(started) => started,
                Err(answer) => return Ok(answer),
            };
            let body = node
                .chain
                .lock()
                .block(Some(hash.0))
                .map(|b| b.extrinsics.iter().map(|x| hex0x(x)).collect::<Vec<_>>());
            let event = match body {
                Ok(value) => {
                    json!({"event": "operationBodyDone", "operationId": id, "value": value})
                }
                Err(e) => {
                    json!({"event": "operationError", "operationId": id, "error": e.to_string()})
                }
            };
            operation.stopped.store(true, Ordering::Relaxed);
            let _ = events.send(event);
            Ok(started(&id))
        }
    });

    let f = follows.clone();
    method(m, "chainHead_v1_call", move |p, node| {
        let follows = f.clone();
        async move {
            let CallParams {
                follow_subscription,
                hash,
                function,
                call_parameters,
            } = parse(&p)?;
            let Started {
                id,
                operation,
                events,
            } = match start_operation(&follows, &follow_subscription, &hash.0)? {
                Ok(started) => started,
                Err(answer) => return Ok(answer),
            };
            let operation_id = id.clone();
            tokio::spawn(async move {
                let outcome = runtime_call(&node, hash.0, function, call_parameters.0).await;
                if !operation.stopped.swap(true, Ordering::Relaxed) {
                    let event = match outcome {
                        Ok(output) => json!({
                            "event": "operationCallDone",
                            "operationId": operation_id,
                            "output": hex0x(&output),
                        }),
                        Err(error) => json!({
                            "event": "operationError",
                            "operationId": operation_id,
                            "error": error,
                        }),
                    };
                    let _ = events.send(event);
                }
            });
            Ok(started(&id))
        }
    });

    let f = follows.clone();
    method(m, "chainHead_v1_storage", move |p, node| {
        let follows = f.clone();
        async move {
            let StorageParams {
                follow_subscription,
                hash,
                items,
                child_trie,
            } = parse(&p)?;
            let Started {
                id,
                operation,
                events,
            } = match start_operation(&follows, &follow_subscription, &hash.0)? {
                Ok(started) => started,
                Err(answer) => return Ok(answer),
            };
            let state = node.chain.lock().state_at(Some(hash.0)).map(|s| s.raw);
            let operation_id = id.clone();
            tokio::spawn(async move {
                let results = match (state, child_trie) {
                    (Err(e), _) => Err(e.to_string()),
                    // The devnet keeps no child tries: every child-trie key is absent.
                    (Ok(_), Some(_)) => Ok(Vec::new()),
                    (Ok(state), None) => Ok(storage_results(&state, &items)),
                };
                match results {
                    Err(error) => {
                        let _ = events.send(json!({
                            "event": "operationError", "operationId": operation_id, "error": error,
                        }));
                    }
                    Ok(results) => {
                        stream_storage(&operation_id, &operation, &events, results).await;
                    }
                }
                operation.stopped.store(true, Ordering::Relaxed);
            });
            Ok(json!({"result": "started", "operationId": id, "discardedItems": 0}))
        }
    });

    let f = follows.clone();
    method(m, "chainHead_v1_unpin", move |p, _| {
        let follows = f.clone();
        async move {
            let UnpinParams {
                follow_subscription,
                hash_or_hashes,
            } = parse(&p)?;
            let hashes = match hash_or_hashes {
                OneOrMany::One(hash) => vec![hash.0],
                OneOrMany::Many(hashes) => hashes.into_iter().map(|h| h.0).collect(),
            };
            let mut by_id = follows.by_id.lock();
            let Some(follow) = by_id.get_mut(&follow_subscription.key()) else {
                return Ok(Json::Null);
            };
            // All or nothing: one hash that is not pinned leaves every block pinned.
            if hashes.iter().any(|h| !follow.pinned.contains(h)) {
                return Err(invalid_block());
            }
            for hash in hashes {
                follow.pinned.remove(&hash);
            }
            Ok(Json::Null)
        }
    });

    let f = follows.clone();
    method(m, "chainHead_v1_continue", move |p, _| {
        let follows = f.clone();
        async move {
            let OperationParams {
                follow_subscription,
                operation_id,
            } = parse(&p)?;
            if let Some(op) = operation(&follows, &follow_subscription, &operation_id) {
                op.resume.notify_one();
            }
            Ok(Json::Null)
        }
    });

    let f = follows;
    method(m, "chainHead_v1_stopOperation", move |p, _| {
        let follows = f.clone();
        async move {
            let OperationParams {
                follow_subscription,
                operation_id,
            } = parse(&p)?;
            if let Some(op) = operation(&follows, &follow_subscription, &operation_id) {
                op.stopped.store(true, Ordering::Relaxed);
                op.resume.notify_one();
            }
            Ok(Json::Null)
        }
    });
}

fn operation(follows: &Follows, sub: &SubId, id: &str) -> Option<Arc<Operation>> {
    follows
        .by_id
        .lock()
        .get(&sub.key())
        .and_then(|f| f.operations.get(id).cloned())
}

/// A runtime API call at a block, as `state_call` makes it (off the async workers).
async fn runtime_call(
    node: &Arc<Node>,
    hash: Hash,
    function: String,
    input: Vec<u8>,
) -> Result<Vec<u8>, String> {
    let (state, version) = {
        let chain = node.chain.lock();
        let state = chain.state_at(Some(hash)).map_err(|e| e.to_string())?;
        let version = chain.version_at(Some(hash)).map_err(|e| e.to_string())?;
        (state, version)
    };
    tokio::task::spawn_blocking(move || runtime_api::call(&state, &version, &function, &input))
        .await
        .map_err(|_| "runtime call failed".to_string())?
        .map_err(|e| format!("Execution failed: {e}"))
}

/// The answers to storage queries at one state, in query order, as spec items (`key` plus one
/// of `value`, `hash`, `closestDescendantMerkleValue`).
fn storage_results(state: &RawState, items: &[StorageQuery]) -> Vec<Json> {
    let mut out = Vec::new();
    for item in items {
        let key = &item.key.0;
        match item.query_type {
            QueryType::Value => {
                if let Some(value) = state.get(key) {
                    out.push(json!({"key": hex0x(key), "value": hex0x(value)}));
                }
            }
            QueryType::Hash => {
                if let Some(value) = state.get(key) {
                    out.push(json!({"key": hex0x(key), "hash": hex0x(&blake2(value))}));
                }
            }
            QueryType::ClosestDescendantMerkleValue => {
                if let Some(merkle) = descendants_digest(state, key) {
                    out.push(
                        json!({"key": hex0x(key), "closestDescendantMerkleValue": hex0x(&merkle)}),
                    );
                }
            }
            QueryType::DescendantsValues | QueryType::DescendantsHashes => {
                let start = item
                    .pagination_start_key
                    .as_ref()
                    .map(|k| k.0.clone())
                    .unwrap_or_else(|| key.clone());
                for (k, v) in state
                    .range(start.clone()..)
                    .skip_while(|(k, _)| item.pagination_start_key.is_some() && **k == start)
                    .take_while(|(k, _)| k.starts_with(key))
                {
                    out.push(if item.query_type == QueryType::DescendantsValues {
                        json!({"key": hex0x(k), "value": hex0x(v)})
                    } else {
                        json!({"key": hex0x(k), "hash": hex0x(&blake2(v))})
                    });
                }
            }
        }
    }
    out
}

fn blake2(bytes: &[u8]) -> Hash {
    sp_crypto_hashing::blake2_256(bytes)
}

/// A digest of every entry at or under `key` (`None` when there is none).
fn descendants_digest(state: &RawState, key: &[u8]) -> Option<Hash> {
    let mut input = Vec::new();
    for (k, v) in state
        .range(key.to_vec()..)
        .take_while(|(k, _)| k.starts_with(key))
    {
        (k, v).encode_to(&mut input);
    }
    (!input.is_empty()).then(|| blake2(&input))
}

/// Deliver storage results page by page, waiting for `continue` between pages.
async fn stream_storage(
    operation_id: &str,
    operation: &Operation,
    events: &mpsc::UnboundedSender<Json>,
    results: Vec<Json>,
) {
    let pages: Vec<&[Json]> = results.chunks(STORAGE_PAGE).collect();
    for (index, page) in pages.iter().enumerate() {
        if operation.stopped.load(Ordering::Relaxed) {
            return;
        }
        let _ = events.send(json!({
            "event": "operationStorageItems", "operationId": operation_id, "items": page,
        }));
        if index + 1 < pages.len() {
            let _ = events.send(json!({
                "event": "operationWaitingForContinue", "operationId": operation_id,
            }));
            operation.resume.notified().await;
        }
    }
    if !operation.stopped.load(Ordering::Relaxed) {
        let _ = events.send(json!({"event": "operationStorageDone", "operationId": operation_id}));
    }
}

fn register_archive(m: &mut RpcModule<Arc<Node>>) {
    method(m, "archive_v1_genesisHash", |_, node| async move {
        Ok(json!(hex0x(&node.chain.lock().genesis_hash())))
    });
    method(m, "archive_v1_finalizedHeight", |_, node| async move {
        Ok(json!(node.chain.lock().best().header.number))
    });
    method(m, "archive_v1_hashByHeight", |p, node| async move {
        let HeightParams { height } = parse(&p)?;
        let chain = node.chain.lock();
        let hashes: Vec<String> = u32::try_from(height)
            .ok()
            .and_then(|n| chain.block_by_number(n))
            .map(|b| hex0x(&b.hash))
            .into_iter()
            .collect();
        Ok(json!(hashes))
    });
    method(m, "archive_v1_header", |p, node| async move {
        let HashParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        Ok(match chain.block(Some(hash.0)) {
            Ok(block) => json!(hex0x(&block.header.encode())),
            Err(_) => Json::Null,
        })
    });
    method(m, "archive_v1_body", |p, node| async move {
        let HashParams { hash } = parse(&p)?;
        let chain = node.chain.lock();
        Ok(match chain.block(Some(hash.0)) {
            Ok(block) => json!(block
                .extrinsics
                .iter()
                .map(|x| hex0x(x))
                .collect::<Vec<_>>()),
            Err(_) => Json::Null,
        })
    });
    method(m, "archive_v1_call", |p, node| async move {
        let ArchiveCallParams {
            hash,
            function,
            call_parameters,
        } = parse(&p)?;
        if let Err(NodeError::UnknownBlock(_)) = node.chain.lock().block(Some(hash.0)) {
            return Err(invalid_block());
        }
        Ok(
            match runtime_call(&node, hash.0, function, call_parameters.0).await {
                Ok(output) => json!({"success": true, "value": hex0x(&output)}),
                Err(error) => json!({"success": false, "error": error}),
            },
        )
    });

    m.register_subscription(
        "archive_v1_storage",
        "archive_v1_storageEvent",
        "archive_v1_stopStorage",
        |params, pending: PendingSubscriptionSink, node, _| async move {
            let node: Arc<Node> = (*node).clone();
            if let Err(e) = faults(&node, "archive_v1_storage").await {
                pending.reject(e).await;
                return Ok(());
            }
            let ArchiveStorageParams {
                hash,
                items,
                child_trie,
            } = match parse(&params) {
                Ok(p) => p,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            let state = node.chain.lock().state_at(Some(hash.0)).map(|s| s.raw);
            let sink = pending.accept().await?;
            match state {
                Err(e) => {
                    sink.send(raw(
                        &json!({"event": "storageError", "error": e.to_string()}),
                    ))
                    .await?;
                }
                Ok(state) => {
                    if child_trie.is_none() {
                        for mut item in storage_results(&state, &items) {
                            item["event"] = json!("storage");
                            sink.send(raw(&item)).await?;
                        }
                    }
                    sink.send(raw(&json!({"event": "storageDone"}))).await?;
                }
            }
            Ok(())
        },
    )
    .expect("subscription names are unique");
}

fn register_chain_spec(m: &mut RpcModule<Arc<Node>>) {
    method(m, "chainSpec_v1_genesisHash", |_, node| async move {
        Ok(json!(hex0x(&node.chain.lock().genesis_hash())))
    });
    method(m, "chainSpec_v1_chainName", |_, _| async {
        Ok(json!("Bittensor"))
    });
    method(m, "chainSpec_v1_properties", |_, _| async {
        Ok(json!({"ss58Format": 42, "tokenDecimals": 9, "tokenSymbol": "TAO"}))
    });
}

/// The position of the extrinsic with `tx_hash` in the block `block_hash`.
fn index_in_block(node: &Node, block_hash: &Hash, tx_hash: &Hash) -> Option<usize> {
    let chain = node.chain.lock();
    let block = chain.block(Some(*block_hash)).ok()?;
    block
        .extrinsics
        .iter()
        .position(|x| &sp_crypto_hashing::blake2_256(x) == tx_hash)
}

/// `transactionWatch_v1_submitAndWatch` (`validated` → `bestChainBlockIncluded` → `finalized`, or
/// `invalid` / `dropped`) and `transaction_v1_broadcast` / `transaction_v1_stop`.
fn register_transaction(m: &mut RpcModule<Arc<Node>>) {
    m.register_subscription(
        "transactionWatch_v1_submitAndWatch",
        "transactionWatch_v1_watchEvent",
        "transactionWatch_v1_unwatch",
        |params, pending: PendingSubscriptionSink, node, _| async move {
            let node: Arc<Node> = (*node).clone();
            if let Err(e) = faults(&node, "transactionWatch_v1_submitAndWatch").await {
                pending.reject(e).await;
                return Ok(());
            }
            let (Bytes(tx),): (Bytes,) = match parse(&params) {
                Ok(p) => p,
                Err(e) => {
                    pending.reject(e).await;
                    return Ok(());
                }
            };
            let mut sealed = node.sealed.subscribe();
            let submitted = node.chain.lock().submit(tx, crate::node::now_ms());
            let sink = pending.accept().await?;
            let hash = match submitted {
                Ok(hash) => hash,
                // The spec reports a refused transaction as an event, not a JSON-RPC error.
                Err(e) => {
                    sink.send(raw(&json!({"event": "invalid", "error": e.to_string()})))
                        .await?;
                    return Ok(());
                }
            };
            sink.send(raw(&json!({"event": "validated"}))).await?;
            loop {
                tokio::select! {
                    _ = sink.closed() => break,
                    outcome = sealed.recv() => match outcome {
                        Ok(o) if o.included.contains(&hash) => {
                            let block = json!({
                                "hash": hex0x(&o.block_hash),
                                "index": index_in_block(&node, &o.block_hash, &hash).unwrap_or(0),
                            });
                            sink.send(raw(&json!({"event": "bestChainBlockIncluded", "block": block})))
                                .await?;
                            sink.send(raw(&json!({"event": "finalized", "block": block}))).await?;
                            break;
                        }
                        Ok(o) => {
                            if let Some((_, reason)) = o.dropped.iter().find(|(h, _)| *h == hash) {
                                sink.send(raw(&json!({"event": "invalid", "error": reason})))
                                    .await?;
                                break;
                            }
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(_) => {
                            sink.send(raw(&json!({"event": "dropped", "error": "node stopped"})))
                                .await?;
                            break;
                        }
                    },
                }
            }
            Ok(())
        },
    )
    .expect("subscription names are unique");

    let broadcasts = Arc::new(AtomicU64::new(0));
    method(m, "transaction_v1_broadcast", move |p, node| {
        let broadcasts = broadcasts.clone();
        async move {
            let (Bytes(tx),): (Bytes,) = parse(&p)?;
            // A refused transaction is not an error here either: it is simply never included.
            let _ = node.chain.lock().submit(tx, crate::node::now_ms());
            Ok(json!(broadcasts
                .fetch_add(1, Ordering::Relaxed)
                .to_string()))
        }
    });
    method(m, "transaction_v1_stop", |_, _| async { Ok(Json::Null) });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(entries: &[(&[u8], &[u8])]) -> RawState {
        entries
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect()
    }

    fn query(key: &[u8], query_type: QueryType) -> StorageQuery {
        StorageQuery {
            key: Bytes(key.to_vec()),
            query_type,
            pagination_start_key: None,
        }
    }

    #[test]
    fn storage_queries_answer_values_hashes_and_descendants_in_order() {
        let s = state(&[(b"ab", b"1"), (b"abc", b"2"), (b"b", b"3")]);
        let out = storage_results(
            &s,
            &[
                query(b"ab", QueryType::Value),
                query(b"zz", QueryType::Value),
                query(b"b", QueryType::Hash),
                query(b"ab", QueryType::DescendantsValues),
            ],
        );
        assert_eq!(out.len(), 4, "{out:?}");
        assert_eq!(out[0]["value"], hex0x(b"1"));
        assert_eq!(out[1]["hash"], hex0x(&blake2(b"3")));
        assert_eq!(out[2]["key"], hex0x(b"ab"));
        assert_eq!(out[3]["key"], hex0x(b"abc"));
        assert_eq!(out[3]["value"], hex0x(b"2"));
    }

    #[test]
    fn the_descendants_digest_changes_with_any_descendant() {
        let before = state(&[(b"ab", b"1"), (b"abc", b"2")]);
        let after = state(&[(b"ab", b"1"), (b"abc", b"9")]);
        assert_ne!(
            descendants_digest(&before, b"ab"),
            descendants_digest(&after, b"ab")
        );
        assert_eq!(descendants_digest(&before, b"zz"), None);
    }
}
