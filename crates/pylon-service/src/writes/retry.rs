//! Publications (commitments, timelocked commitments, certificates) are answered once included;
//! a failure the chain says is passing is tried again, like the reference does
//! (`PYLON_COMMITMENT_RETRY_ATTEMPTS` tries, `PYLON_COMMITMENT_RETRY_DELAY_SECONDS` apart), before
//! the request is answered with it. Each publication's duration and outcome is recorded in the
//! reference's series.

use std::future::Future;
use std::time::Instant;

use pylon_chain::SubmitError;

use crate::metrics::{observe_publication, Publication};
use crate::settings::Settings;

/// Whether `error` says the extrinsic may be included if sent again. A pool refusal the chain
/// marks as passing (priority, a full pool, a stale nonce) was never included, so a retry cannot
/// double it. A lost connection may have lost the answer, not the extrinsic: retried only when a
/// second inclusion changes nothing (`idempotent`: the same commitment or certificate again).
fn passing(error: &SubmitError, idempotent: bool) -> bool {
    match error {
        SubmitError::Invalid(refusal) => refusal.is_retryable(),
        SubmitError::Connection(_) => idempotent,
        _ => false,
    }
}

/// Send with `send` until it is included, fails for good, or the tries are used up.
pub async fn publish<T, F, Fut>(
    settings: &Settings,
    kind: Publication,
    netuid: u16,
    mut send: F,
) -> Result<T, SubmitError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, SubmitError>>,
{
    let idempotent = kind != Publication::RevealedCommitment;
    let started = Instant::now();
    let mut tries = 0;
    let result = loop {
        tries += 1;
        match send().await {
            Err(error)
                if tries < settings.commitment_retry_attempts && passing(&error, idempotent) =>
            {
                tracing::warn!(netuid, tries, %error, "publication refused for now; trying again");
                tokio::time::sleep(settings.commitment_retry_delay).await;
            }
            other => break other,
        }
    };
    observe_publication(kind, netuid, result.is_ok(), started.elapsed());
    result
}
