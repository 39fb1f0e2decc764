//! Optional error reporting (`PYLON_SENTRY_DSN`) and trace export (`PYLON_OTLP_ENDPOINT`).
//!
//! Their client libraries are large (an HTTP client, TLS, protobuf), so they are not part of the
//! default build, and nothing of them runs on the request path. This build has neither: asking
//! for one is a start-up error naming the setting, rather than a silently ignored setting.

use pylon_service::Settings;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TelemetryError {
    #[error(
        "PYLON_SENTRY_DSN is set, but this build of pylon lacks the `sentry` feature: \
         unset PYLON_SENTRY_DSN (errors are in the log)"
    )]
    SentryNotBuilt,
    #[error(
        "PYLON_OTLP_ENDPOINT is set, but this build of pylon lacks the `otlp` feature: \
         unset PYLON_OTLP_ENDPOINT (traces are in the log at debug level)"
    )]
    OtlpNotBuilt,
}

/// Refuse settings that ask for reporting this build cannot do.
pub fn check(settings: &Settings) -> Result<(), TelemetryError> {
    if !settings.sentry_dsn.is_empty() {
        return Err(TelemetryError::SentryNotBuilt);
    }
    if settings.otlp_endpoint.is_some() {
        return Err(TelemetryError::OtlpNotBuilt);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Settings {
        let vars: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_vars(&vars).unwrap()
    }

    #[test]
    fn reporting_is_off_by_default_and_asking_for_it_names_the_missing_feature() {
        assert_eq!(check(&settings(&[])), Ok(()));
        let sentry = check(&settings(&[(
            "PYLON_SENTRY_DSN",
            "https://key@sentry.example/1",
        )]));
        assert_eq!(sentry, Err(TelemetryError::SentryNotBuilt));
        assert!(sentry.unwrap_err().to_string().contains("`sentry` feature"));
        let otlp = check(&settings(&[(
            "PYLON_OTLP_ENDPOINT",
            "http://collector:4318",
        )]));
        assert_eq!(otlp, Err(TelemetryError::OtlpNotBuilt));
    }
}
