//! Publishing a hotkey's data on a subnet: commitments (`Commitments.set_commitment`, plain or
//! timelocked) and the axon with its TLS certificate (`SubtensorModule.serve_axon_tls`), signed,
//! watched to inclusion, and refused with the chain's decoded error (see [`crate::submit`]).

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use pylon_timelock::RoundClock;
use scale_info::{PortableRegistry, TypeDef};
use scale_value::Value;
use subxt::dynamic;
use subxt::tx::Signer;
use subxt::SubstrateConfig;

use crate::client::ChainClient;
use crate::error::ChainError;
use crate::model::BlockRef;
use crate::submit::{ChainCall, Included, SubmitError};

/// Bytes one `Data::RawN` field holds (the largest variant is `Raw128`).
pub const RAW_FIELD_MAX: usize = 128;
/// subtensor's `MaxCommitFields`: fields one commitment may carry.
pub const MAX_COMMIT_FIELDS: usize = 3;
/// The longest plain commitment: as many full `Raw128` fields as a commitment holds.
pub const MAX_COMMITMENT_LEN: usize = RAW_FIELD_MAX * MAX_COMMIT_FIELDS;

/// subtensor's `MAX_TIMELOCK_COMMITMENT_SIZE_BYTES` (`pallets/commitments`): the most bytes a
/// `TimelockEncrypted` field's ciphertext holds. A `BoundedVec` bound, which the metadata does
/// not describe, so it is written here.
pub const MAX_TIMELOCK_COMMITMENT_SIZE_BYTES: usize = 1024;

/// What one plain commitment may hold, as the chain's metadata says: `Commitments.MaxFields`
/// (a constant) fields of at most the largest `Data::RawN` variant's N bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommitmentLimits {
    pub max_fields: usize,
    pub raw_field_max: usize,
}

impl CommitmentLimits {
    /// The longest plain commitment: every field a full `Raw` one.
    pub fn max_len(&self) -> usize {
        self.max_fields * self.raw_field_max
    }
}

/// The largest N of the commitments pallet's `Data::RawN` variants.
fn raw_field_max(types: &PortableRegistry) -> Option<usize> {
    types
        .types
        .iter()
        .filter(|t| {
            let path = &t.ty.path.segments;
            path.first().is_some_and(|s| s == "pallet_commitments")
                && path.last().is_some_and(|s| s == "Data")
        })
        .find_map(|t| match &t.ty.type_def {
            TypeDef::Variant(data) => data
                .variants
                .iter()
                .filter_map(|v| v.name.strip_prefix("Raw")?.parse::<usize>().ok())
                .max(),
            _ => None,
        })
}

/// The axon served together with a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxonServe {
    pub version: u32,
    pub ip: IpAddr,
    pub port: u16,
    pub protocol: u8,
}

/// A neuron certificate: its algorithm tag and public key (the chain stores them as
/// `algorithm ‖ public_key`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCertificate {
    pub algorithm: u8,
    pub public_key: Vec<u8>,
}

/// A timelocked commitment on chain, and the drand round that reveals it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelockedCommitmentSet {
    pub included: Included,
    pub reveal_round: u64,
}

fn commitment_info(fields: Vec<Value>) -> Value {
    Value::named_composite([("fields", Value::unnamed_composite(fields))])
}

/// `set_commitment(netuid, info)` with `data` in `Raw` fields of at most 128 bytes (readers
/// concatenate the fields back). Longer than [`MAX_COMMITMENT_LEN`] → `SubmitError::Call`.
pub fn set_commitment_call(netuid: u16, data: &[u8]) -> Result<ChainCall, SubmitError> {
    if data.len() > MAX_COMMITMENT_LEN {
        return Err(SubmitError::Call(format!(
            "a commitment holds at most {MAX_COMMITMENT_LEN} bytes, got {}",
            data.len()
        )));
    }
    let fields = if data.is_empty() {
        vec![Value::unnamed_variant("Raw0", [Value::from_bytes([])])]
    } else {
        data.chunks(RAW_FIELD_MAX)
            .map(|chunk| {
                Value::unnamed_variant(format!("Raw{}", chunk.len()), [Value::from_bytes(chunk)])
            })
            .collect()
    };
    Ok(ChainCall {
        pallet: "Commitments",
        call: "set_commitment",
        fields: vec![Value::u128(u128::from(netuid)), commitment_info(fields)],
    })
}

/// `set_commitment(netuid, info)` with one `TimelockEncrypted { encrypted, reveal_round }`
/// field: the chain reveals it into `RevealedCommitments` once the drand round is stored.
pub fn set_timelocked_commitment_call(
    netuid: u16,
    encrypted: &[u8],
    reveal_round: u64,
) -> ChainCall {
    let field = Value::named_variant(
        "TimelockEncrypted",
        [
            ("encrypted", Value::from_bytes(encrypted)),
            ("reveal_round", Value::u128(u128::from(reveal_round))),
        ],
    );
    ChainCall {
        pallet: "Commitments",
        call: "set_commitment",
        fields: vec![
            Value::u128(u128::from(netuid)),
            commitment_info(vec![field]),
        ],
    }
}

/// `serve_axon_tls(netuid, version, ip, port, ip_type, protocol, placeholder1, placeholder2,
/// certificate)`: IPs travel as a u128 tagged 4 or 6.
pub fn serve_axon_tls_call(
    netuid: u16,
    axon: &AxonServe,
    certificate: &NewCertificate,
) -> ChainCall {
    let (ip, ip_type) = match axon.ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), 4u8),
        IpAddr::V6(v6) => (u128::from(v6), 6u8),
    };
    let mut certificate_bytes = Vec::with_capacity(1 + certificate.public_key.len());
    certificate_bytes.push(certificate.algorithm);
    certificate_bytes.extend_from_slice(&certificate.public_key);
    ChainCall {
        pallet: "SubtensorModule",
        call: "serve_axon_tls",
        fields: vec![
            Value::u128(u128::from(netuid)),
            Value::u128(u128::from(axon.version)),
            Value::u128(ip),
            Value::u128(u128::from(axon.port)),
            Value::u128(u128::from(ip_type)),
            Value::u128(u128::from(axon.protocol)),
            Value::u128(0),
            Value::u128(0),
            Value::from_bytes(certificate_bytes),
        ],
    }
}

impl ChainClient {
    /// What a plain commitment may hold at `block`, from its runtime's metadata.
    pub async fn commitment_limits(
        &self,
        block: &BlockRef,
    ) -> Result<CommitmentLimits, ChainError> {
        self.route("commitment_limits", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let max_fields: u32 = at
                .constants()
                .entry(dynamic::constant::<u32>("Commitments", "MaxFields"))
                .map_err(ChainError::from_subxt)?;
            let raw_field_max = raw_field_max(at.metadata().types()).ok_or_else(|| {
                ChainError::Decode("no Commitments `Data` type with `RawN` variants".into())
            })?;
            Ok(CommitmentLimits {
                max_fields: max_fields as usize,
                raw_field_max,
            })
        })
        .await
    }

    /// Publish `data` as the signer's commitment on `netuid`.
    pub async fn set_commitment<S>(
        &self,
        signer: &S,
        netuid: u16,
        data: &[u8],
    ) -> Result<Included, SubmitError>
    where
        S: Signer<SubstrateConfig> + Send + Sync,
    {
        let call = set_commitment_call(netuid, data)?;
        self.submit_signed(signer, &call, |_| {}).await
    }

    /// Publish a timelocked commitment (already encrypted to `reveal_round`) on `netuid`.
    pub async fn set_timelocked_commitment<S>(
        &self,
        signer: &S,
        netuid: u16,
        encrypted: &[u8],
        reveal_round: u64,
    ) -> Result<Included, SubmitError>
    where
        S: Signer<SubstrateConfig> + Send + Sync,
    {
        let call = set_timelocked_commitment_call(netuid, encrypted, reveal_round);
        self.submit_signed(signer, &call, |_| {}).await
    }

    /// Publish `data` timelocked to the drand round current `blocks_until_reveal` blocks from
    /// now (at the chain's measured pace, with the beacon from `Drand.BeaconConfig`): the chain
    /// reveals it into `Commitments.RevealedCommitments` once that round's pulse is stored.
    pub async fn set_revealed_commitment<S>(
        &self,
        signer: &S,
        netuid: u16,
        data: &[u8],
        blocks_until_reveal: u32,
    ) -> Result<TimelockedCommitmentSet, SubmitError>
    where
        S: Signer<SubstrateConfig> + Send + Sync,
    {
        let head = self.latest_block()?;
        let beacon = self.drand_beacon(&head).await?;
        let block_time = self.block_time_secs(&head).await?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        let reveal_time = now + f64::from(blocks_until_reveal) * block_time;
        // The round published by then; never round 0, which no beacon publishes.
        let clock = RoundClock {
            genesis_time: beacon.genesis_time,
            period: beacon.period,
        };
        let reveal_round = clock.round_at(reveal_time).max(1);
        let encrypted = pylon_timelock::encrypt(data, &beacon.public_key, reveal_round)
            .map_err(|e| SubmitError::Call(format!("cannot encrypt the commitment: {e}")))?;
        // The chain would refuse it after the signature (the nonce spent): refuse it here.
        if encrypted.len() > MAX_TIMELOCK_COMMITMENT_SIZE_BYTES {
            let overhead = encrypted.len().saturating_sub(data.len());
            return Err(SubmitError::Call(format!(
                "the timelocked commitment is {} bytes encrypted; the chain holds at most \
                 {MAX_TIMELOCK_COMMITMENT_SIZE_BYTES} (MAX_TIMELOCK_COMMITMENT_SIZE_BYTES), so \
                 at most {} bytes of commitment",
                encrypted.len(),
                MAX_TIMELOCK_COMMITMENT_SIZE_BYTES.saturating_sub(overhead)
            )));
        }
        let included = self
            .set_timelocked_commitment(signer, netuid, &encrypted, reveal_round)
            .await?;
        Ok(TimelockedCommitmentSet {
            included,
            reveal_round,
        })
    }

    /// Serve the signer's axon on `netuid` with `certificate`.
    pub async fn serve_axon_tls<S>(
        &self,
        signer: &S,
        netuid: u16,
        axon: &AxonServe,
        certificate: &NewCertificate,
    ) -> Result<Included, SubmitError>
    where
        S: Signer<SubstrateConfig> + Send + Sync,
    {
        let call = serve_axon_tls_call(netuid, axon, certificate);
        self.submit_signed(signer, &call, |_| {}).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_commitments_are_split_into_raw_fields_and_too_long_ones_refused() {
        let call = set_commitment_call(1, &[5u8; 200]).unwrap();
        let shown = format!("{:?}", call.fields[1]);
        assert!(
            shown.contains("Raw128") && shown.contains("Raw72"),
            "{shown}"
        );
        assert!(matches!(
            set_commitment_call(1, &[0u8; MAX_COMMITMENT_LEN + 1]),
            Err(SubmitError::Call(_))
        ));
    }
}
