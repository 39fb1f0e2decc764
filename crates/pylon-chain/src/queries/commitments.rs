//! Commitments neurons published: `Commitments.CommitmentOf(netuid, hotkey)` and
//! `Commitments.RevealedCommitments(netuid, hotkey)` (timelocked ones, once revealed).

use scale_value::{At, Value, ValueDef};
use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::Connection;
use crate::decode::bytes_of;
use crate::error::ChainError;
use crate::model::{BlockRef, Commitment, RevealedCommitment, TimelockedField};
use crate::subnet_maps::iter_subnet;

const PALLET: &str = "Commitments";
const COMMITMENTS: &str = "CommitmentOf";
const REVEALED: &str = "RevealedCommitments";

impl ChainClient {
    /// Every commitment on the subnet at `block`, by hotkey (ss58).
    pub async fn commitments(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Vec<(String, Commitment)>, ChainError> {
        self.route("commitments", block.number, |connection| async move {
            let entries = iter_subnet(&connection, PALLET, COMMITMENTS, netuid, block).await?;
            entries
                .into_iter()
                .map(|(hotkey, value)| Ok((hotkey, commitment_of(&value)?)))
                .collect()
        })
        .await
    }

    pub async fn commitment(
        &self,
        netuid: u16,
        hotkey: [u8; 32],
        block: &BlockRef,
    ) -> Result<Option<Commitment>, ChainError> {
        self.route("commitment", block.number, |connection| async move {
            fetch_one(&connection, COMMITMENTS, netuid, hotkey, block)
                .await?
                .map(|value| commitment_of(&value))
                .transpose()
        })
        .await
    }

    /// Every revealed commitment on the subnet at `block`, by hotkey (ss58).
    pub async fn revealed_commitments(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Vec<(String, Vec<RevealedCommitment>)>, ChainError> {
        self.route(
            "revealed_commitments",
            block.number,
            |connection| async move {
                let entries = iter_subnet(&connection, PALLET, REVEALED, netuid, block).await?;
                entries
                    .into_iter()
                    .map(|(hotkey, value)| Ok((hotkey, revealed_of(&value)?)))
                    .collect()
            },
        )
        .await
    }

    pub async fn revealed_commitment(
        &self,
        netuid: u16,
        hotkey: [u8; 32],
        block: &BlockRef,
    ) -> Result<Vec<RevealedCommitment>, ChainError> {
        self.route(
            "revealed_commitment",
            block.number,
            |connection| async move {
                match fetch_one(&connection, REVEALED, netuid, hotkey, block).await? {
                    Some(value) => revealed_of(&value),
                    None => Ok(Vec::new()),
                }
            },
        )
        .await
    }
}

async fn fetch_one(
    connection: &Connection,
    item: &str,
    netuid: u16,
    hotkey: [u8; 32],
    block: &BlockRef,
) -> Result<Option<Value>, ChainError> {
    let at = connection.at(block).await?;
    let value = at
        .storage()
        .try_fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>(PALLET, item),
            (netuid, hotkey),
        )
        .await
        .map_err(ChainError::from_subxt)?;
    value
        .map(|v| v.decode().map_err(ChainError::from_subxt))
        .transpose()
}

/// A `Registration { block, info: { fields: [Data] } }`: the bytes of its raw data fields.
fn commitment_of(value: &Value) -> Result<Commitment, ChainError> {
    let block = value
        .at("block")
        .and_then(|b| b.as_u128())
        .ok_or_else(|| ChainError::Decode("commitment without a block".into()))?;
    let fields = value
        .at("info")
        .and_then(|info| info.at("fields"))
        .ok_or_else(|| ChainError::Decode("commitment without info.fields".into()))?;
    let mut data = Vec::new();
    let mut timelocked = None;
    for field in data_variants(fields) {
        // `Raw0`..`Raw128` and the hash variants carry bytes; `None` adds nothing; the timelocked
        // variant (not readable until revealed) is kept apart with its drand round.
        if let ValueDef::Variant(variant) = &field.value {
            if variant.name == "TimelockEncrypted" {
                let encrypted = field.at("encrypted").map(bytes_of).unwrap_or_default();
                let reveal_round = field
                    .at("reveal_round")
                    .and_then(|r| r.as_u128())
                    .ok_or_else(|| {
                        ChainError::Decode("a timelocked commitment without reveal_round".into())
                    })?;
                timelocked = Some(TimelockedField {
                    encrypted,
                    reveal_round: reveal_round as u64,
                });
            } else {
                data.extend(bytes_of(field));
            }
        }
    }
    Ok(Commitment {
        block: block as u32,
        data,
        timelocked,
    })
}

/// The `Data` variants of a (possibly newtype-wrapped) sequence, in order.
fn data_variants(value: &Value) -> Vec<&Value> {
    match &value.value {
        ValueDef::Variant(_) => vec![value],
        ValueDef::Composite(items) => items.values().flat_map(data_variants).collect(),
        _ => Vec::new(),
    }
}

/// `[(data, reveal_block)]`, possibly inside a newtype (`BoundedVec`). A list of one pair and a
/// newtype around a list are both one-element composites: the pair is told by its shape.
fn revealed_of(value: &Value) -> Result<Vec<RevealedCommitment>, ChainError> {
    let is_pair = |v: &Value| match &v.value {
        ValueDef::Composite(c) => c.len() == 2 && v.at(1).and_then(|b| b.as_u128()).is_some(),
        _ => false,
    };
    let mut list = value;
    if let ValueDef::Composite(c) = &value.value {
        if let (1, Some(only)) = (c.len(), c.values().next()) {
            if !is_pair(only) {
                list = only;
            }
        }
    }
    let items: Vec<&Value> = match &list.value {
        ValueDef::Composite(c) => c.values().collect(),
        _ => Vec::new(),
    };
    items
        .into_iter()
        .map(|item| {
            let data = item.at(0).map(bytes_of).unwrap_or_default();
            let reveal_block = item
                .at(1)
                .and_then(|b| b.as_u128())
                .ok_or_else(|| ChainError::Decode("revealed commitment without a block".into()))?;
            Ok(RevealedCommitment {
                reveal_block: reveal_block as u64,
                data,
            })
        })
        .collect()
}
