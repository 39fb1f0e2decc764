//! Chain values rendered as the wire types, in the reference API's units: stake and emission in
//! tokens (rao / 1e9), rank-like scores as fractions of 65535, hex with `0x`.

use pylon_chain as chain;
use pylon_chain::BlockRef;

use crate::wire;

const RAO_PER_TOKEN: f64 = 1e9;

pub fn block(block: &BlockRef) -> wire::Block {
    wire::Block {
        number: block.number,
        hash: block.hash_hex(),
    }
}

fn tokens(rao: u64) -> f64 {
    rao as f64 / RAO_PER_TOKEN
}

fn fraction(value: u16) -> f64 {
    f64::from(value) / f64::from(u16::MAX)
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

pub fn neuron(n: &chain::NeuronInfo) -> wire::Neuron {
    wire::Neuron {
        uid: n.uid,
        coldkey: n.coldkey.clone(),
        hotkey: n.hotkey.clone(),
        active: n.active,
        axon_info: wire::AxonInfo {
            ip: n.axon_info.ip.to_string(),
            port: n.axon_info.port,
            protocol: n.axon_info.protocol,
        },
        stake: tokens(n.stake),
        rank: fraction(n.rank),
        emission: tokens(n.emission),
        incentive: fraction(n.incentive),
        consensus: fraction(n.consensus),
        trust: fraction(n.trust),
        validator_trust: fraction(n.validator_trust),
        dividends: fraction(n.dividends),
        last_update: n.last_update,
        validator_permit: n.validator_permit,
        pruning_score: n.pruning_score,
        stakes: wire::Stakes {
            alpha: tokens(n.stakes.alpha),
            tao: tokens(n.stakes.tao),
            total: tokens(n.stakes.total),
        },
    }
}

pub fn neurons(at: &BlockRef, neurons: &[chain::NeuronInfo]) -> Vec<u8> {
    to_bytes(&wire::NeuronsResponse {
        block: block(at),
        neurons: neurons
            .iter()
            .map(|n| (n.hotkey.clone(), neuron(n)))
            .collect(),
    })
}

/// Neurons holding a validator permit, largest total stake first (ties by uid).
pub fn validators(at: &BlockRef, neurons: &[chain::NeuronInfo]) -> Vec<u8> {
    let mut permitted: Vec<&chain::NeuronInfo> =
        neurons.iter().filter(|n| n.validator_permit).collect();
    permitted.sort_by(|a, b| b.stakes.total.cmp(&a.stakes.total).then(a.uid.cmp(&b.uid)));
    to_bytes(&wire::ValidatorsResponse {
        block: block(at),
        validators: permitted.into_iter().map(neuron).collect(),
    })
}

/// `timestamp_ms` is the chain's `Timestamp.Now`; the answer carries whole seconds, as the
/// reference (and the published client's `Timestamp`) does.
pub fn block_info(at: &BlockRef, timestamp_ms: u64) -> Vec<u8> {
    to_bytes(&wire::BlockInfo {
        number: at.number,
        hash: at.hash_hex(),
        timestamp: timestamp_ms / 1000,
    })
}

pub fn certificate(c: &chain::Certificate) -> wire::NeuronCertificate {
    wire::NeuronCertificate {
        algorithm: c.algorithm,
        public_key: hex::encode(&c.public_key),
    }
}

/// A bare `{hotkey: certificate}` map: the block read is not in the body (the reference's shape);
/// the answer's `X-Pylon-Block`/ETag still name it.
pub fn certificates(_at: &BlockRef, all: &[(String, chain::Certificate)]) -> Vec<u8> {
    let map: wire::CertificatesResponse = all
        .iter()
        .map(|(hotkey, c)| (hotkey.clone(), certificate(c)))
        .collect();
    to_bytes(&map)
}

pub fn commitments(at: &BlockRef, all: &[(String, chain::Commitment)]) -> Vec<u8> {
    to_bytes(&wire::CommitmentsResponse {
        block: block(at),
        commitments: all
            .iter()
            .map(|(hotkey, c)| (hotkey.clone(), hex0x(&c.data)))
            .collect(),
    })
}

pub fn commitment(at: &BlockRef, hotkey: &str, c: &chain::Commitment) -> Vec<u8> {
    to_bytes(&wire::CommitmentResponse {
        block: block(at),
        hotkey: hotkey.to_string(),
        commitment_block_number: c.block,
        commitment: hex0x(&c.data),
    })
}

fn revealed(hotkey: &str, items: &[chain::RevealedCommitment]) -> Vec<wire::RevealedCommitment> {
    items
        .iter()
        .map(|r| wire::RevealedCommitment {
            reveal_block_number: r.reveal_block,
            hotkey: hotkey.to_string(),
            commitment: String::from_utf8_lossy(&r.data).into_owned(),
        })
        .collect()
}

pub fn revealed_commitments(
    at: &BlockRef,
    all: &[(String, Vec<chain::RevealedCommitment>)],
) -> Vec<u8> {
    to_bytes(&wire::RevealedCommitmentsResponse {
        block: block(at),
        commitments: all
            .iter()
            .map(|(hotkey, items)| (hotkey.clone(), revealed(hotkey, items)))
            .collect(),
    })
}

pub fn revealed_commitment(
    at: &BlockRef,
    hotkey: &str,
    items: &[chain::RevealedCommitment],
) -> Vec<u8> {
    to_bytes(&wire::HotkeyRevealedCommitmentsResponse {
        block: block(at),
        commitments: revealed(hotkey, items),
    })
}

pub fn extrinsic(x: &chain::Extrinsic) -> Vec<u8> {
    to_bytes(&wire::ExtrinsicResponse {
        block_number: x.block_number,
        extrinsic_index: x.index,
        extrinsic_hash: hex0x(&x.hash),
        extrinsic_length: x.length,
        address: x.address.clone(),
        call: wire::ExtrinsicCall {
            call_module: x.module.clone(),
            call_function: x.function.clone(),
            call_args: x
                .args
                .iter()
                .map(|a| wire::ExtrinsicCallArg {
                    name: a.name.clone(),
                    type_name: a.type_name.clone(),
                    value: a.value.clone(),
                })
                .collect(),
        },
    })
}

pub fn to_bytes(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("wire types always serialize")
}
