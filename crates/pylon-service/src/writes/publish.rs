//! Publishing the identity's data on its subnet, answered once the extrinsic is in a block:
//! `POST …/commitments` (plain), `POST …/commitments/revealed` (timelocked to a drand round, revealed
//! by the chain), `POST …/certificates/self` (a fresh Ed25519 keypair whose public key is served
//! with the neuron's axon via `serve_axon_tls`; the private key is returned once and kept nowhere).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pylon_chain::publish::{AxonServe, NewCertificate, MAX_TIMELOCK_COMMITMENT_SIZE_BYTES};
use pylon_chain::Included;
use serde::de::DeserializeOwned;

use super::{acting_identity, retry};
use crate::access::Scope;
use crate::error::ApiError;
use crate::metrics::Publication;
use crate::render::hex0x;
use crate::state::AppState;
use crate::wire::{
    self, ed25519_algorithm, GenerateCertificateBody, SetCommitmentBody, SetRevealedCommitmentBody,
};

type AppResult = Result<Response, ApiError>;
type St = State<Arc<AppState>>;

/// The axon version served with a certificate (the chain stores it; nothing reads it back).
const AXON_VERSION: u32 = 1;

/// A JSON body as `T`; unknown fields are ignored (like the reference's models), a missing or
/// mistyped field is a 422 naming it, and a body that is not JSON a 400. The body must be a JSON
/// object: serde would otherwise read a struct from an array of its fields in order
/// (`["0x01"]`), which is not the documented body.
fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| ApiError::BadRequest(format!("body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(ApiError::Unprocessable(format!(
            "body: must be a JSON object, not {}",
            json_kind(&value)
        )));
    }
    serde_json::from_value(value).map_err(|e| ApiError::Unprocessable(format!("body: {e}")))
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

fn created(body: impl serde::Serialize) -> Response {
    (StatusCode::CREATED, Json(body)).into_response()
}

fn landed(included: &Included) -> (wire::Block, String) {
    (
        wire::Block {
            number: included.block_number as u32,
            hash: hex0x(&included.block_hash),
        },
        included.extrinsic_hash.clone(),
    )
}

/// Publish the identity's commitment (answered once included).
#[utoipa::path(post, path = "/commitments", request_body = wire::SetCommitmentBody,
    responses((status = 201, body = wire::SetCommitmentResponse)))]
pub async fn set_commitment(State(state): St, scope: Scope, body: Bytes) -> AppResult {
    let (identity, _, signer) = acting_identity(&state, &scope)?;
    let body: SetCommitmentBody = parse_body(&body)?;
    let text = body.commitment.trim();
    let data = hex::decode(text.strip_prefix("0x").unwrap_or(text)).map_err(|_| {
        ApiError::Unprocessable(
            "commitment: passed commitment data is not a valid hex string".into(),
        )
    })?;
    if data.is_empty() {
        return Err(ApiError::Unprocessable("commitment: empty".into()));
    }
    let head = state.chain.latest_block()?;
    let limits = state.chain.commitment_limits(&head).await?;
    if data.len() > limits.max_len() {
        return Err(ApiError::Unprocessable(format!(
            "commitment: {} bytes; the chain holds at most {} (Commitments.MaxFields = {} fields \
             of at most {} bytes, Data::Raw{})",
            data.len(),
            limits.max_len(),
            limits.max_fields,
            limits.raw_field_max,
            limits.raw_field_max
        )));
    }
    let included = retry::publish(
        &state.settings,
        Publication::Commitment,
        scope.netuid,
        || state.chain.set_commitment(signer, scope.netuid, &data),
    )
    .await?;
    tracing::info!(identity = %identity.name, netuid = scope.netuid, block = included.block_number, "commitment set");
    let (block, extrinsic_hash) = landed(&included);
    Ok(created(wire::SetCommitmentResponse {
        block,
        extrinsic_hash,
    }))
}

/// Publish a commitment timelocked until a drand round (answered once included).
#[utoipa::path(post, path = "/commitments/revealed", request_body = wire::SetRevealedCommitmentBody,
    responses((status = 201, body = wire::SetRevealedCommitmentResponse)))]
pub async fn set_revealed_commitment(State(state): St, scope: Scope, body: Bytes) -> AppResult {
    let (identity, _, signer) = acting_identity(&state, &scope)?;
    let body: SetRevealedCommitmentBody = parse_body(&body)?;
    if body.commitment.is_empty() {
        return Err(ApiError::Unprocessable("commitment: empty".into()));
    }
    // Encryption only adds bytes: a longer text can never fit (the exact bound, with the
    // ciphertext's overhead, is checked once it is encrypted, still before signing).
    if body.commitment.len() > MAX_TIMELOCK_COMMITMENT_SIZE_BYTES {
        return Err(ApiError::Unprocessable(format!(
            "commitment: {} bytes; a timelocked commitment holds less than {} bytes \
             (MAX_TIMELOCK_COMMITMENT_SIZE_BYTES, after encryption)",
            body.commitment.len(),
            MAX_TIMELOCK_COMMITMENT_SIZE_BYTES
        )));
    }
    let blocks = u32::try_from(body.blocks_until_reveal)
        .ok()
        .filter(|b| *b > 0)
        .ok_or_else(|| {
            ApiError::Unprocessable(format!(
                "blocks_until_reveal: {} is not a positive number of blocks",
                body.blocks_until_reveal
            ))
        })?;
    let set = retry::publish(
        &state.settings,
        Publication::RevealedCommitment,
        scope.netuid,
        || {
            state.chain.set_revealed_commitment(
                signer,
                scope.netuid,
                body.commitment.as_bytes(),
                blocks,
            )
        },
    )
    .await?;
    tracing::info!(identity = %identity.name, netuid = scope.netuid, block = set.included.block_number, reveal_round = set.reveal_round, "timelocked commitment set");
    let (block, extrinsic_hash) = landed(&set.included);
    Ok(created(wire::SetRevealedCommitmentResponse {
        reveal_round: set.reveal_round,
        block,
        extrinsic_hash,
    }))
}

/// Generate an Ed25519 keypair and publish its certificate with the identity's axon.
#[utoipa::path(post, path = "/certificates/self", request_body = wire::GenerateCertificateBody,
    responses((status = 201, body = wire::CertificateKeypair)))]
pub async fn generate_certificate(State(state): St, scope: Scope, body: Bytes) -> AppResult {
    let (identity, writer, signer) = acting_identity(&state, &scope)?;
    let body: GenerateCertificateBody = if body.iter().all(u8::is_ascii_whitespace) {
        GenerateCertificateBody {
            algorithm: ed25519_algorithm(),
        }
    } else {
        parse_body(&body)?
    };
    if body.algorithm != ed25519_algorithm() {
        return Err(ApiError::Unprocessable(format!(
            "algorithm: {} is not supported; only 1 (EdDSA using Ed25519) is",
            body.algorithm
        )));
    }
    // The certificate is served together with the neuron's axon: keep the axon it has.
    let netuid = scope.netuid;
    let head = state.chain.latest_block()?;
    let hotkey = writer.hotkey(&identity.name).unwrap_or_default();
    let neurons = state.chain.neurons(netuid, &head).await?;
    let neuron = neurons.iter().find(|n| n.hotkey == hotkey).ok_or_else(|| {
        ApiError::Unprocessable(format!(
            "identity `{}`: hotkey {hotkey} is not registered on netuid {netuid}",
            identity.name
        ))
    })?;
    let axon = &neuron.axon_info;
    if axon.port == 0 || axon.ip.is_unspecified() {
        return Err(ApiError::Unprocessable(format!(
            "identity `{}` serves no axon on netuid {netuid}; a certificate is published with \
             the axon, so serve one first",
            identity.name
        )));
    }
    let signing = ed25519_zebra::SigningKey::new(rand_core::OsRng);
    let public: [u8; 32] = ed25519_zebra::VerificationKey::from(&signing).into();
    let certificate = NewCertificate {
        algorithm: 1,
        public_key: public.to_vec(),
    };
    let serve = AxonServe {
        version: AXON_VERSION,
        ip: axon.ip,
        port: axon.port,
        protocol: axon.protocol,
    };
    let included = retry::publish(&state.settings, Publication::Certificate, netuid, || {
        state
            .chain
            .serve_axon_tls(signer, netuid, &serve, &certificate)
    })
    .await?;
    tracing::info!(identity = %identity.name, netuid, block = included.block_number, "certificate published");
    Ok(created(wire::CertificateKeypair {
        algorithm: 1,
        // Bare hex, as the reference serves it: the client decodes it as such, and its mTLS
        // helper compares it with the registry's `public_key`.
        public_key: hex::encode(public),
        private_key: hex::encode(signing.as_ref()),
    }))
}
