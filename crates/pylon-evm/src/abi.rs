//! Decoding EVM logs with a caller-supplied ABI (alloy-json-abi parses it, alloy-dyn-abi decodes).
//!
//! The shape of a decoded log follows the reference service (web3.py's `get_event_data`, then
//! bytes as `0x` hex): `{event, args: {name: value}, address, block_number, transaction_hash,
//! transaction_index, log_index}`. Addresses are EIP-55 checksummed as web3 returns them;
//! integers are JSON numbers of any size (uint256 included, written as raw digits).

use std::collections::HashMap;

use alloy_dyn_abi::{DynSolEvent, DynSolValue, Specifier};
use alloy_json_abi::Event;
use alloy_primitives::B256;
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use crate::EvmError;

/// The events of an ABI, by topic 0 (their signature hash).
#[derive(Debug, Clone)]
pub struct EventSet {
    by_selector: HashMap<B256, Vec<(Event, DynSolEvent)>>,
}

impl EventSet {
    /// The `type: "event"` entries of a JSON ABI (a list of entries, as solc writes it). Other
    /// entries are ignored; a malformed event entry, or an ABI with no event, is an error.
    pub fn from_abi(abi: &serde_json::Value) -> Result<Self, EvmError> {
        let entries = abi
            .as_array()
            .ok_or_else(|| EvmError::InvalidAbi("the ABI must be a list of entries".into()))?;
        let mut by_selector: HashMap<B256, Vec<(Event, DynSolEvent)>> = HashMap::new();
        for (i, entry) in entries.iter().enumerate() {
            let kind = entry.get("type").and_then(|t| t.as_str());
            if kind != Some("event") {
                if !entry.is_object() {
                    return Err(EvmError::InvalidAbi(format!("abi[{i}] is not an object")));
                }
                continue;
            }
            let event: Event = serde_json::from_value(entry.clone())
                .map_err(|e| EvmError::InvalidAbi(format!("abi[{i}]: {e}")))?;
            let resolved = event
                .resolve()
                .map_err(|e| EvmError::InvalidAbi(format!("abi[{i}] ({}): {e}", event.name)))?;
            if event.anonymous {
                // No topic 0 to recognise it by; web3 cannot match these either.
                continue;
            }
            by_selector
                .entry(event.selector())
                .or_default()
                .push((event, resolved));
        }
        if by_selector.is_empty() {
            return Err(EvmError::InvalidAbi(
                "the ABI declares no (non-anonymous) event, so no log could be decoded".into(),
            ));
        }
        Ok(Self { by_selector })
    }

    /// Decode one log's topics and data with the event its topic 0 names: the event's name and
    /// its arguments by name, or `None` when no event of the ABI decodes it.
    pub fn decode(
        &self,
        topics: &[B256],
        data: &[u8],
    ) -> Option<(String, Vec<(String, AbiValue)>)> {
        let candidates = self.by_selector.get(topics.first()?)?;
        candidates.iter().find_map(|(event, resolved)| {
            let decoded = resolved
                .decode_log_parts(topics.iter().copied(), data)
                .ok()?;
            let mut indexed = decoded.indexed.into_iter();
            let mut body = decoded.body.into_iter();
            let args = event
                .inputs
                .iter()
                .enumerate()
                .map(|(i, input)| {
                    let value = if input.indexed {
                        indexed.next()
                    } else {
                        body.next()
                    }?;
                    let name = if input.name.is_empty() {
                        // web3 names unnamed arguments by position.
                        format!("arg{i}")
                    } else {
                        input.name.clone()
                    };
                    Some((name, AbiValue::from(value)))
                })
                .collect::<Option<Vec<_>>>()?;
            Some((event.name.clone(), args))
        })
    }
}

/// A decoded argument, serialized as the reference service shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbiValue {
    Bool(bool),
    /// Decimal digits, with a leading `-` when negative: a JSON number of any size.
    Integer(String),
    /// Addresses (checksummed), byte strings (`0x` hex) and strings.
    Text(String),
    List(Vec<AbiValue>),
}

impl From<DynSolValue> for AbiValue {
    fn from(value: DynSolValue) -> Self {
        match value {
            DynSolValue::Bool(b) => Self::Bool(b),
            DynSolValue::Int(n, _) => Self::Integer(n.to_string()),
            DynSolValue::Uint(n, _) => Self::Integer(n.to_string()),
            DynSolValue::FixedBytes(word, size) => {
                Self::Text(format!("0x{}", hex::encode(&word[..size])))
            }
            DynSolValue::Address(a) => Self::Text(a.to_checksum(None)),
            DynSolValue::Function(f) => Self::Text(format!("0x{}", hex::encode(f.as_slice()))),
            DynSolValue::Bytes(b) => Self::Text(format!("0x{}", hex::encode(b))),
            DynSolValue::String(s) => Self::Text(s),
            DynSolValue::Array(items)
            | DynSolValue::FixedArray(items)
            | DynSolValue::Tuple(items) => Self::List(items.into_iter().map(Self::from).collect()),
        }
    }
}

impl Serialize for AbiValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Bool(b) => serializer.serialize_bool(*b),
            Self::Integer(digits) => {
                // Exact at any size: u64/i64 as themselves, larger ones as raw JSON digits.
                if let Ok(n) = digits.parse::<u64>() {
                    serializer.serialize_u64(n)
                } else if let Ok(n) = digits.parse::<i64>() {
                    serializer.serialize_i64(n)
                } else {
                    serde_json::value::RawValue::from_string(digits.clone())
                        .map_err(serde::ser::Error::custom)?
                        .serialize(serializer)
                }
            }
            Self::Text(s) => serializer.serialize_str(s),
            Self::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

/// Arguments by name, in declaration order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args(pub Vec<(String, AbiValue)>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn word(hex_tail: &str) -> Vec<u8> {
        hex::decode(format!("{hex_tail:0>64}")).unwrap()
    }

    fn b256(hex_tail: &str) -> B256 {
        B256::from_slice(&word(hex_tail))
    }

    /// keccak-256("Transfer(address,address,uint256)"), as every ERC-20 explorer shows it.
    const TRANSFER: &str = "ddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef";

    fn erc20() -> serde_json::Value {
        json!([
            {"type": "constructor", "inputs": []},
            {"type": "event", "name": "Transfer", "anonymous": false, "inputs": [
                {"name": "from", "type": "address", "indexed": true},
                {"name": "to", "type": "address", "indexed": true},
                {"name": "", "type": "uint256", "indexed": false}]}
        ])
    }

    #[test]
    fn a_transfer_log_decodes_by_name_with_checksummed_addresses_and_exact_integers() {
        let events = EventSet::from_abi(&erc20()).unwrap();
        let topics = [
            b256(TRANSFER),
            b256("5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"),
            b256("fb6916095ca1df60bb79ce92ce3ea74c37c5d359"),
        ];
        // 2^200 + 1: far beyond u64.
        let data = word("100000000000000000000000000000000000000000000000001");
        let (name, args) = events.decode(&topics, &data).unwrap();
        assert_eq!(name, "Transfer");
        let json = serde_json::to_string(&Args(args)).unwrap();
        // EIP-55 test vectors; the unnamed argument is named by position, as web3 names it.
        assert_eq!(
            json,
            r#"{"from":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed","to":"0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359","arg2":1606938044258990275541962092341162602522202993782792835301377}"#
        );
    }

    #[test]
    fn logs_of_other_events_or_shapes_are_not_decoded() {
        let events = EventSet::from_abi(&erc20()).unwrap();
        assert!(events.decode(&[b256("01")], &[]).is_none());
        assert!(events.decode(&[], &[]).is_none());
        // Right topic 0 but a missing indexed topic (an ERC-721 style log): not this event.
        assert!(events
            .decode(&[b256(TRANSFER), b256("01")], &word("02"))
            .is_none());
    }

    #[test]
    fn malformed_abis_are_named() {
        let err = |abi: serde_json::Value| EventSet::from_abi(&abi).unwrap_err().to_string();
        assert!(err(json!({"type": "event"})).contains("list"));
        assert!(err(
            json!([{"type": "event", "name": "E", "inputs": [{"name": "x", "type": "uint7"}]}])
        )
        .contains("abi[0]"));
        assert!(err(json!([1])).contains("abi[0]"));
        assert!(err(json!([{"type": "function", "name": "f", "inputs": [], "outputs": [], "stateMutability": "view"}]))
            .contains("no (non-anonymous) event"));
    }

    #[test]
    fn values_render_like_the_reference() {
        let render = |v: AbiValue| serde_json::to_string(&v).unwrap();
        assert_eq!(render(AbiValue::Integer("-5".into())), "-5");
        assert_eq!(
            render(AbiValue::Integer("18446744073709551616".into())),
            "18446744073709551616"
        );
        assert_eq!(
            render(AbiValue::from(DynSolValue::FixedBytes(
                B256::repeat_byte(0xab),
                2
            ))),
            r#""0xabab""#
        );
        assert_eq!(
            render(AbiValue::from(DynSolValue::Bytes(vec![1, 2]))),
            r#""0x0102""#
        );
        assert_eq!(
            render(AbiValue::from(DynSolValue::Array(vec![DynSolValue::Bool(
                true
            )]))),
            "[true]"
        );
    }
}
