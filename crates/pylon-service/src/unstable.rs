//! What `/api/_unstable` answers differently from v1, rendered from the same reads (the
//! published client 2.3.1's `pylon_commons/_unstable` models are the contract). Everything else
//! under `_unstable` is v1's handler, mounted by [`crate::table::api`].
//!
//! - Commitments are the `kind`-discriminated `CommitmentVariant` (`hex_data`, or
//!   `timelock_encrypted` with its drand round); the list holds registered hotkeys only, as the
//!   reference's.
//!
//! Chain-level `_unstable` reads (prices of every subnet, drand, EVM logs) plug into
//! [`chain_reads`]; subnet-level ones (a subnet's price, EVM associations) into [`subnet_reads`].

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::State;
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::access::Scope;
use crate::error::ApiError;
use crate::paths::{HotkeyPath, Params};
use crate::render::{block, hex0x, to_bytes};
use crate::routes::{head, hotkey_of, json_bytes, own_hotkey, AppResult, St, Table};
use crate::state::AppState;
use crate::{reads, wire};

/// `_unstable`-only subnet reads, and its versions of the reads whose answer differs from v1.
pub fn subnet_reads() -> Table {
    Table::new()
        .routes(routes!(commitments))
        .routes(routes!(commitment))
}

/// `…/self` reads whose `_unstable` answer differs from v1.
pub fn own_reads() -> Table {
    Table::new().routes(routes!(own_commitment))
}

/// `_unstable`-only chain-level reads (under `/api/_unstable/openaccess` and
/// `/api/_unstable/identity/{name}`).
pub fn chain_reads() -> Table {
    Table::new()
}

/// A commitment as the client's `CommitmentVariant`, discriminated by `kind`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[schema(as = unstable::CommitmentVariant)]
pub enum CommitmentVariant {
    /// The commitment's readable data fields (raw and hashes), concatenated.
    HexData {
        commitment_block_number: u32,
        hotkey: String,
        /// `0x`-prefixed hex.
        commitment: String,
    },
    /// A timelocked field, readable once the chain reveals it at `reveal_round` (drand).
    TimelockEncrypted {
        commitment_block_number: u32,
        hotkey: String,
        /// The encrypted bytes, `0x`-prefixed hex.
        commitment: String,
        reveal_round: u64,
    },
}

/// `GET …/block/latest/commitments` (`_unstable`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = unstable::SubnetCommitments)]
pub struct SubnetCommitments {
    pub block: wire::Block,
    /// By hotkey.
    pub commitments: BTreeMap<String, CommitmentVariant>,
}

/// `GET …/block/latest/commitments/{hotkey}` (`_unstable`).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = unstable::CommitmentResponse)]
pub struct CommitmentResponse {
    pub block: wire::Block,
    pub commitment: CommitmentVariant,
}

/// As the reference (turbobt) tells them: a commitment holding a timelocked field is
/// `timelock_encrypted` (its encrypted bytes and drand round), any other `hex_data`.
fn variant(hotkey: &str, c: &pylon_chain::Commitment) -> CommitmentVariant {
    match &c.timelocked {
        Some(field) => CommitmentVariant::TimelockEncrypted {
            commitment_block_number: c.block,
            hotkey: hotkey.to_owned(),
            commitment: hex0x(&field.encrypted),
            reveal_round: field.reveal_round,
        },
        None => CommitmentVariant::HexData {
            commitment_block_number: c.block,
            hotkey: hotkey.to_owned(),
            commitment: hex0x(&c.data),
        },
    }
}

/// The hotkeys registered on the subnet at `block`, from the (cached) neurons read of it.
pub(crate) async fn registered_hotkeys(
    state: &Arc<AppState>,
    netuid: u16,
    at: &pylon_chain::BlockRef,
) -> Result<BTreeSet<String>, ApiError> {
    #[derive(Deserialize)]
    struct Hotkeys {
        neurons: BTreeMap<String, IgnoredAny>,
    }
    let neurons = reads::neurons(state, netuid, at).await?;
    let hotkeys: Hotkeys = serde_json::from_slice(&neurons.body).map_err(|e| {
        ApiError::Chain(pylon_chain::ChainError::Decode(format!(
            "neurons answer unreadable: {e}"
        )))
    })?;
    Ok(hotkeys.neurons.into_keys().collect())
}

/// Every commitment of a hotkey registered on the subnet (the reference's filter: a hotkey that
/// left the subnet keeps its storage entry until overwritten, but is no longer a participant).
/// Timelocked entries are `timelock_encrypted` variants with their drand round.
#[utoipa::path(get, path = "/block/latest/commitments",
    responses((status = 200, body = SubnetCommitments)))]
async fn commitments(State(state): St, scope: Scope) -> AppResult {
    let head = head(&state, &scope)?;
    let (all, registered) = tokio::try_join!(
        async { Ok::<_, ApiError>(state.chain.commitments(scope.netuid, &head).await?) },
        registered_hotkeys(&state, scope.netuid, &head),
    )?;
    Ok(json_bytes(to_bytes(&SubnetCommitments {
        block: block(&head),
        commitments: all
            .iter()
            .filter(|(hotkey, c)| {
                registered.contains(hotkey) && (!c.data.is_empty() || c.timelocked.is_some())
            })
            .map(|(hotkey, c)| (hotkey.clone(), variant(hotkey, c)))
            .collect(),
    })))
}

/// A hotkey's commitment.
#[utoipa::path(get, path = "/block/latest/commitments/{hotkey}", params(HotkeyPath),
    responses((status = 200, body = CommitmentResponse)))]
async fn commitment(State(state): St, scope: Scope, Params(path): Params<HotkeyPath>) -> AppResult {
    let (hotkey, id) = hotkey_of(&state, &scope, path.hotkey).await?;
    commitment_of(&state, &scope, &hotkey, id).await
}

/// The identity's commitment.
#[utoipa::path(get, path = "/block/latest/commitments/self",
    responses((status = 200, body = CommitmentResponse)))]
async fn own_commitment(State(state): St, scope: Scope) -> AppResult {
    let (hotkey, id) = own_hotkey(&state, &scope).await?;
    commitment_of(&state, &scope, &hotkey, id).await
}

async fn commitment_of(state: &AppState, scope: &Scope, hotkey: &str, id: [u8; 32]) -> AppResult {
    let head = head(state, scope)?;
    let found = state.chain.commitment(scope.netuid, id, &head).await?;
    let found = found.ok_or_else(|| {
        ApiError::NotFound(format!(
            "{hotkey} has no commitment on netuid {}",
            scope.netuid
        ))
    })?;
    Ok(json_bytes(to_bytes(&CommitmentResponse {
        block: block(&head),
        commitment: variant(hotkey, &found),
    })))
}
