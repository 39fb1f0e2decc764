//! `PUT …/weights`: validate, map hotkeys to uids at the latest block, convert, and record a
//! durable job for the current epoch — answered at once, submitted in the background (see
//! `docs/WRITE-PATH.md`). `GET …/weights/status` reports the newest job of the identity.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use pylon_weights::body::{parse_weights_body, InvalidWeights};
use pylon_weights::commit::{CommitPlan, RevealRule};
use pylon_weights::epoch::Schedule;
use pylon_weights::job::{Job, JobKey, JobState, NewJob};
use pylon_weights::mapping::UidHotkey;
use pylon_weights::prepare::prepare_weights;

use super::acting_identity;
use super::submitter::EpochSchedules;
use crate::access::Scope;
use crate::error::ApiError;
use crate::paths::{MechanismBlockPath, MechanismPath, Params};
use crate::settings::Identity;
use crate::state::AppState;
use crate::wire::{self, JobStatus};

type AppResult = Result<Response, ApiError>;
type St = State<Arc<AppState>>;

/// The job key of the identity's weights on the route's subnet and `mechid`.
fn job_key(identity: &Identity, scope: &Scope, mechid: u8) -> JobKey {
    JobKey {
        identity: identity.name.clone(),
        netuid: scope.netuid,
        mechid,
    }
}

/// Set weights: recorded as a job and submitted in the background (CRv4 commit when the subnet
/// has commit-reveal on).
#[utoipa::path(put, path = "/weights", request_body = wire::SetWeightsBody,
    responses((status = 200, body = wire::SetWeightsResponse)))]
pub async fn put_weights(State(state): St, scope: Scope, body: Bytes) -> AppResult {
    submit(&state, &scope, 0, &body).await
}

/// Set weights for one mechanism of the subnet.
#[utoipa::path(put, path = "/mechanism/{mechanism_id}/weights", params(MechanismPath),
    request_body = wire::SetWeightsBody,
    responses((status = 200, body = wire::SetWeightsResponse)))]
pub async fn put_mechanism_weights(
    State(state): St,
    scope: Scope,
    Params(path): Params<MechanismPath>,
    body: Bytes,
) -> AppResult {
    let mechid = path.mechanism_id;
    submit(&state, &scope, mechid, &body).await
}

async fn submit(state: &AppState, scope: &Scope, mechid: u8, body: &[u8]) -> AppResult {
    let (identity, writer, _) = acting_identity(state, scope)?;
    let request = parse_weights_body(body).map_err(invalid_body)?;
    let netuid = scope.netuid;
    let head = state.chain.latest_block()?;
    // The chain's own schedule at the head: [LastEpochBlock, next start) on spec 423+.
    let epoch = state
        .chain
        .epoch_schedule(netuid, &head)
        .await?
        .epoch()
        .ok_or_else(|| {
            ApiError::Unprocessable(format!(
            "netuid {netuid} has tempo 0: it never runs an epoch, so weights set on it never count"
        ))
        })?;
    let neurons: Vec<UidHotkey> = state
        .chain
        .neurons(netuid, &head)
        .await?
        .iter()
        .filter_map(|n| {
            Some(UidHotkey {
                hotkey: n.hotkey.parse().ok()?,
                uid: n.uid,
            })
        })
        .collect();
    let prepared = prepare_weights(&request, &neurons)
        .map_err(|e| ApiError::Unprocessable(format!("weights: {e} (netuid {netuid})")))?;
    let key = job_key(identity, scope, mechid);
    let count = prepared.weights.uids.len();
    let (submitted, runner) = writer.jobs.submit(NewJob {
        key: key.clone(),
        weights: prepared.weights,
        epoch,
        requested_at_block: u64::from(head.number),
    })?;
    if let Some(runner) = runner {
        writer.watch(runner, &key, submitted.id);
    }
    tracing::info!(
        identity = %identity.name,
        netuid,
        mechid,
        job = submitted.id,
        uids = count,
        unknown = prepared.unknown_hotkeys.len(),
        "weights job recorded"
    );
    Ok(Json(wire::SetWeightsResponse {
        detail: "weights update scheduled".into(),
        count,
        job_id: submitted.id,
        superseded_job_id: submitted.superseded,
        epoch: wire::Epoch {
            start: epoch.start,
            end: epoch.end,
        },
        unknown_hotkeys: prepared.unknown_hotkeys,
    })
    .into_response())
}

fn commit_wire(plan: &CommitPlan) -> wire::CommitPlan {
    let inputs = &plan.inputs;
    let stateful = match inputs.schedule {
        Schedule::Stateful(state) => Some(state),
        Schedule::Fixed { .. } => None,
    };
    wire::CommitPlan {
        pinned_block: inputs.schedule.block(),
        schedule: if stateful.is_some() {
            "stateful"
        } else {
            "fixed"
        }
        .to_owned(),
        tempo: inputs.schedule.tempo(),
        last_epoch_block: stateful.map(|s| s.last_epoch_block),
        pending_epoch_at: stateful.map(|s| s.pending_epoch_at),
        subnet_epoch_index: stateful.map(|s| s.epoch_index),
        blocks_since_last_step: stateful.map(|s| s.blocks_since_last_step),
        reveal_period_epochs: inputs.reveal_period_epochs,
        block_time_secs: inputs.block_time_secs,
        computed_at: inputs.now_unix_secs,
        rule: match plan.rule {
            RevealRule::IngestOffset => "ingest-offset",
            RevealRule::PulseDelay => "pulse-delay",
        }
        .to_owned(),
        reveal_block: plan.target.reveal_block,
        reveal_round: plan.target.reveal_round,
    }
}

/// A body that is not JSON is malformed (400); a JSON body with wrong weights is unprocessable
/// (422). Either way the answer names the field.
fn invalid_body(error: InvalidWeights) -> ApiError {
    match &error {
        InvalidWeights::NotJson(_) => ApiError::BadRequest(error.to_string()),
        InvalidWeights::Entries(_) => ApiError::Unprocessable(error.to_string()),
        _ => ApiError::Unprocessable(format!("{}: {error}", error.field())),
    }
}

/// The identity's newest weights job.
#[utoipa::path(get, path = "/weights/status",
    responses((status = 200, body = wire::WeightsJob)))]
pub async fn status(State(state): St, scope: Scope) -> AppResult {
    job_status(&state, &scope, 0)
}

/// The identity's newest weights job for a mechanism.
#[utoipa::path(get, path = "/mechanism/{mechanism_id}/weights/status", params(MechanismPath),
    responses((status = 200, body = wire::WeightsJob)))]
pub async fn mechanism_status(
    State(state): St,
    scope: Scope,
    Params(path): Params<MechanismPath>,
) -> AppResult {
    let mechid = path.mechanism_id;
    job_status(&state, &scope, mechid)
}

fn job_status(state: &AppState, scope: &Scope, mechid: u8) -> AppResult {
    let (identity, writer, _) = acting_identity(state, scope)?;
    let key = job_key(identity, scope, mechid);
    let job = writer.jobs.store().latest_for(&key)?.ok_or_else(|| {
        ApiError::NotFound(format!(
            "identity `{}` has set no weights on netuid {} mechanism {mechid}",
            identity.name, scope.netuid
        ))
    })?;
    Ok(Json(job_wire(&job)).into_response())
}

/// Whether weights were included during the epoch containing the block (the reference's
/// `…/mechanism/{m}/block/{n}/weights/status`).
#[utoipa::path(get, path = "/mechanism/{mechanism_id}/block/{block_number}/weights/status",
    params(MechanismBlockPath),
    responses((status = 200, body = wire::WeightsSubmitted)))]
pub async fn submitted_in_epoch_of(
    State(state): St,
    scope: Scope,
    Params(path): Params<MechanismBlockPath>,
) -> AppResult {
    let (mechid, block) = (path.mechanism_id, path.block_number);
    let (identity, writer, _) = acting_identity(&state, &scope)?;
    let key = job_key(identity, &scope, mechid);
    let submitted = writer
        .jobs
        .store()
        .weights_included_in_epoch_of(&key, u64::from(block))?;
    Ok(Json(wire::WeightsSubmitted {
        weights_submitted: submitted,
    })
    .into_response())
}

pub(crate) fn job_wire(job: &Job) -> wire::WeightsJob {
    let mut out = wire::WeightsJob {
        job_id: job.id,
        netuid: job.key.netuid,
        mechanism_id: job.key.mechid,
        status: JobStatus::Pending,
        weights_submitted: false,
        epoch: wire::Epoch {
            start: job.epoch.start,
            end: job.epoch.end,
        },
        requested_at_block: job.requested_at_block,
        attempts: job.attempts,
        last_error: job.last_error.clone(),
        included_block: None,
        extrinsic_hash: None,
        reason: None,
        superseded_by: None,
        uids: job.weights.uids.clone(),
        weights: job.weights.values.clone(),
        created_at: job.created_at_unix,
        updated_at: job.updated_at_unix,
        commit: job.commit.as_ref().map(commit_wire),
    };
    out.status = match &job.state {
        JobState::Pending => JobStatus::Pending,
        JobState::Submitted { extrinsic_hash, .. } => {
            out.extrinsic_hash = extrinsic_hash.clone();
            JobStatus::Submitted
        }
        JobState::Included {
            block,
            extrinsic_hash,
        } => {
            out.weights_submitted = true;
            out.included_block = Some(*block);
            out.extrinsic_hash = Some(extrinsic_hash.clone());
            JobStatus::Included
        }
        JobState::Failed { reason } => {
            out.reason = Some(reason.clone());
            JobStatus::Failed
        }
        JobState::Expired => JobStatus::Expired,
        JobState::Superseded { by } => {
            out.superseded_by = Some(*by);
            JobStatus::Superseded
        }
    };
    out
}
