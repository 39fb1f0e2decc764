//! Which chain refusals of a weights extrinsic are worth another attempt.
//!
//! The chain-access side decodes an `ExtrinsicFailed` module error into its pallet, name and
//! documentation (from metadata); this decides what the runner does with it. Retrying is right
//! when the cause can go away within the epoch (a rate limit, settings that changed since the
//! attempt read them, commits waiting to be revealed); anything else fails the job at once rather
//! than sending the same doomed extrinsic until the epoch ends.

use crate::runner::AttemptError;

/// `SubtensorModule` errors that can clear up before the epoch ends.
const RETRYABLE_SUBTENSOR_ERRORS: &[&str] = &[
    // Rate limits: the next attempt comes later.
    "SettingWeightsTooFast",
    "CommittingWeightsTooFast",
    "TxRateLimitExceeded",
    // Settings changed between our read and inclusion: the next attempt re-reads them.
    "IncorrectWeightVersionKey",
    "CommitRevealEnabled",
    "CommitRevealDisabled",
    // Earlier commits are waiting for their reveal.
    "TooManyUnrevealedCommits",
];

/// Classify a decoded module error, keeping its words for the job's `failed` reason.
pub fn classify_module_error(pallet: &str, name: &str, docs: &str) -> AttemptError {
    let words = if docs.trim().is_empty() {
        format!("{pallet}.{name}")
    } else {
        format!("{pallet}.{name}: {}", docs.trim())
    };
    if pallet == "SubtensorModule" && RETRYABLE_SUBTENSOR_ERRORS.contains(&name) {
        AttemptError::Retryable(words)
    } else {
        AttemptError::Fatal(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_and_changed_settings_are_retried() {
        for name in [
            "SettingWeightsTooFast",
            "IncorrectWeightVersionKey",
            "CommitRevealEnabled",
        ] {
            assert!(
                matches!(
                    classify_module_error("SubtensorModule", name, ""),
                    AttemptError::Retryable(_)
                ),
                "{name}"
            );
        }
    }

    #[test]
    fn registration_and_shape_errors_fail_the_job_with_words() {
        assert_eq!(
            classify_module_error(
                "SubtensorModule",
                "HotKeyNotRegisteredInSubNet",
                " The hotkey is not registered in subnet\n"
            ),
            AttemptError::Fatal(
                "SubtensorModule.HotKeyNotRegisteredInSubNet: The hotkey is not registered in subnet"
                    .into()
            )
        );
        for name in [
            "DuplicateUids",
            "NotEnoughStakeToSetWeights",
            "UidVecContainInvalidOne",
        ] {
            assert!(matches!(
                classify_module_error("SubtensorModule", name, ""),
                AttemptError::Fatal(_)
            ));
        }
    }

    #[test]
    fn a_retryable_name_from_another_pallet_is_not_retried() {
        assert_eq!(
            classify_module_error("Other", "SettingWeightsTooFast", ""),
            AttemptError::Fatal("Other.SettingWeightsTooFast".into())
        );
    }
}
