//! Chain values rendered in the reference API's JSON shapes and units: stake and emission in
//! TAO/alpha (rao / 1e9), rank-like scores as fractions of 65535, hex with `0x`.

use pylon_chain::{BlockRef, Certificate, Commitment, Extrinsic, Neuron, RevealedCommitment};
use serde_json::{json, Map, Value};

const RAO_PER_TOKEN: f64 = 1e9;

pub fn block(block: &BlockRef) -> Value {
    json!({"number": block.number, "hash": block.hash_hex()})
}

fn tokens(rao: u64) -> f64 {
    rao as f64 / RAO_PER_TOKEN
}

fn fraction(value: u16) -> f64 {
    f64::from(value) / f64::from(u16::MAX)
}

pub fn neuron(n: &Neuron) -> Value {
    json!({
        "uid": n.uid,
        "coldkey": n.coldkey,
        "hotkey": n.hotkey,
        "active": n.active,
        "axon_info": {
            "ip": n.axon_info.ip.to_string(),
            "port": n.axon_info.port,
            "protocol": n.axon_info.protocol,
        },
        "stake": tokens(n.stake),
        "rank": fraction(n.rank),
        "emission": tokens(n.emission),
        "incentive": fraction(n.incentive),
        "consensus": fraction(n.consensus),
        "trust": fraction(n.trust),
        "validator_trust": fraction(n.validator_trust),
        "dividends": fraction(n.dividends),
        "last_update": n.last_update,
        "validator_permit": n.validator_permit,
        "pruning_score": n.pruning_score,
        "stakes": {
            "alpha": tokens(n.stakes.alpha),
            "tao": tokens(n.stakes.tao),
            "total": tokens(n.stakes.total),
        },
    })
}

/// `{"block": …, "neurons": {hotkey: neuron}}` (uid order).
pub fn neurons(at: &BlockRef, neurons: &[Neuron]) -> Vec<u8> {
    let mut map = Map::new();
    for n in neurons {
        map.insert(n.hotkey.clone(), neuron(n));
    }
    to_bytes(&json!({"block": block(at), "neurons": map}))
}

/// Neurons holding a validator permit, largest total stake first (ties by uid).
pub fn validators(at: &BlockRef, neurons: &[Neuron]) -> Vec<u8> {
    let mut permitted: Vec<&Neuron> = neurons.iter().filter(|n| n.validator_permit).collect();
    permitted.sort_by(|a, b| b.stakes.total.cmp(&a.stakes.total).then(a.uid.cmp(&b.uid)));
    let list: Vec<Value> = permitted.into_iter().map(neuron).collect();
    to_bytes(&json!({"block": block(at), "validators": list}))
}

pub fn block_info(at: &BlockRef, timestamp: u64) -> Vec<u8> {
    to_bytes(&json!({"number": at.number, "hash": at.hash_hex(), "timestamp": timestamp}))
}

pub fn certificate(c: &Certificate) -> Value {
    json!({"algorithm": c.algorithm, "public_key": hex0x(&c.public_key)})
}

pub fn certificates(at: &BlockRef, all: &[(String, Certificate)]) -> Vec<u8> {
    let map: Map<String, Value> = all
        .iter()
        .map(|(hotkey, c)| (hotkey.clone(), certificate(c)))
        .collect();
    to_bytes(&json!({"block": block(at), "certificates": map}))
}

pub fn commitments(at: &BlockRef, all: &[(String, Commitment)]) -> Vec<u8> {
    let map: Map<String, Value> = all
        .iter()
        .map(|(hotkey, c)| (hotkey.clone(), Value::String(hex0x(&c.data))))
        .collect();
    to_bytes(&json!({"block": block(at), "commitments": map}))
}

pub fn commitment(at: &BlockRef, hotkey: &str, c: &Commitment) -> Vec<u8> {
    to_bytes(&json!({
        "block": block(at),
        "hotkey": hotkey,
        "commitment_block_number": c.block,
        "commitment": hex0x(&c.data),
    }))
}

fn revealed(hotkey: &str, items: &[RevealedCommitment]) -> Vec<Value> {
    items
        .iter()
        .map(|r| {
            json!({
                "reveal_block_number": r.reveal_block,
                "hotkey": hotkey,
                "commitment": String::from_utf8_lossy(&r.data),
            })
        })
        .collect()
}

pub fn revealed_commitments(at: &BlockRef, all: &[(String, Vec<RevealedCommitment>)]) -> Vec<u8> {
    let map: Map<String, Value> = all
        .iter()
        .map(|(hotkey, items)| (hotkey.clone(), Value::Array(revealed(hotkey, items))))
        .collect();
    to_bytes(&json!({"block": block(at), "commitments": map}))
}

pub fn revealed_commitment(at: &BlockRef, hotkey: &str, items: &[RevealedCommitment]) -> Vec<u8> {
    to_bytes(&json!({"block": block(at), "commitments": revealed(hotkey, items)}))
}

pub fn extrinsic(x: &Extrinsic) -> Vec<u8> {
    let args: Vec<Value> = x
        .args
        .iter()
        .map(|a| json!({"name": a.name, "type": a.type_name, "value": a.value}))
        .collect();
    to_bytes(&json!({
        "block_number": x.block_number,
        "extrinsic_index": x.index,
        "extrinsic_hash": hex0x(&x.hash),
        "extrinsic_length": x.length,
        "address": x.address,
        "call": {
            "call_module": x.module,
            "call_function": x.function,
            "call_args": args,
        },
    }))
}

fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn to_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON values always serialize")
}
