//! Blocks: SCALE headers hashed with blake2-256 like Substrate's, bodies of raw extrinsics, and
//! the per-block state snapshot that makes every past block queryable.

use parity_scale_codec::{Compact, Encode};
use serde_json::json;

use crate::storage::RawState;

pub type Hash = [u8; 32];

/// `sp_runtime::generic::Header<u32, BlakeTwo256>`.
#[derive(Debug, Clone, Encode)]
pub struct Header {
    pub parent_hash: Hash,
    #[codec(compact)]
    pub number: u32,
    pub state_root: Hash,
    pub extrinsics_root: Hash,
    /// `Digest { logs: Vec<DigestItem> }`, kept as already-encoded digest items.
    pub digest: Vec<DigestItem>,
}

/// A digest item kept raw (its SCALE encoding), as `chain_getHeader` shows them.
#[derive(Debug, Clone)]
pub struct DigestItem(pub Vec<u8>);

impl Encode for DigestItem {
    fn size_hint(&self) -> usize {
        self.0.len()
    }
    fn encode_to<T: parity_scale_codec::Output + ?Sized>(&self, dest: &mut T) {
        dest.write(&self.0);
    }
}

impl Header {
    pub fn hash(&self) -> Hash {
        sp_crypto_hashing::blake2_256(&self.encode())
    }

    /// The JSON form Substrate nodes return (`chain_getHeader`, `chain_newHead`).
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "parentHash": hex0x(&self.parent_hash),
            "number": format!("0x{:x}", self.number),
            "stateRoot": hex0x(&self.state_root),
            "extrinsicsRoot": hex0x(&self.extrinsics_root),
            "digest": { "logs": self.digest.iter().map(|d| hex0x(&d.0)).collect::<Vec<_>>() },
        })
    }
}

/// A sealed block with its post-state.
#[derive(Debug, Clone)]
pub struct Block {
    pub header: Header,
    pub hash: Hash,
    pub extrinsics: Vec<Vec<u8>>,
    /// Post-state; `None` once pruned (`--state-pruning`), like a pruned node's old blocks.
    pub state: Option<RawState>,
    /// `Timestamp.Now` of the block, in milliseconds.
    pub timestamp_ms: u64,
    /// Runtime spec version the block was built with.
    pub spec_version: u32,
}

impl Block {
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "block": {
                "header": self.header.to_json(),
                "extrinsics": self.extrinsics.iter().map(|x| hex0x(x)).collect::<Vec<_>>(),
            },
            "justifications": null,
        })
    }
}

/// Root over the body: blake2-256 of the SCALE `Vec<Vec<u8>>` (deterministic, not a trie root).
pub fn extrinsics_root(extrinsics: &[Vec<u8>]) -> Hash {
    sp_crypto_hashing::blake2_256(&extrinsics.encode())
}

/// Digest item `PreRuntime(*b"aura", slot)`, so headers look like subtensor's Aura-sealed ones.
pub fn aura_pre_digest(slot: u64) -> DigestItem {
    let mut bytes = vec![6u8];
    bytes.extend_from_slice(b"aura");
    let slot = slot.encode();
    Compact(slot.len() as u32).encode_to(&mut bytes);
    bytes.extend(slot);
    DigestItem(bytes)
}

pub fn hex0x(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aura_digest_matches_finney_layout() {
        // Recorded finney log: 0x06 61757261 20 1280c10800000000 (PreRuntime, "aura", 8-byte slot).
        let d = aura_pre_digest(0x0000_0000_08c1_8012);
        assert_eq!(
            hex::encode(&d.0),
            "06617572612012".to_owned() + "80c10800000000"
        );
    }

    #[test]
    fn header_hash_is_blake2_of_scale() {
        let h = Header {
            parent_hash: [1; 32],
            number: 5,
            state_root: [2; 32],
            extrinsics_root: [3; 32],
            digest: vec![],
        };
        let mut manual = vec![1u8; 32];
        manual.push(5 << 2);
        manual.extend([2u8; 32]);
        manual.extend([3u8; 32]);
        manual.push(0);
        assert_eq!(h.hash(), sp_crypto_hashing::blake2_256(&manual));
    }
}
