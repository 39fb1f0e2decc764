//! Optional error reporting (`PYLON_SENTRY_DSN`) and trace export (`PYLON_OTLP_ENDPOINT`).
//!
//! Their client libraries add an HTTP client to the build, so they are cargo features of this
//! crate, off by default: Sentry is the `sentry` feature (`cargo build --release -p pylon
//! --features sentry`); OTLP export is not built yet. At run time each is off unless configured,
//! and then nothing of it runs on the request path (no layer is installed). A setting this build
//! cannot honour is a start-up error naming it, not a silently ignored setting.

use pylon_service::Settings;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TelemetryError {
    #[cfg(not(feature = "sentry"))]
    #[error(
        "PYLON_SENTRY_DSN is set, but this build of pylon lacks the `sentry` feature: \
         build with `--features sentry` or unset PYLON_SENTRY_DSN"
    )]
    SentryNotBuilt,
    /// The reason only: the DSN itself carries a key and is never printed.
    #[cfg(feature = "sentry")]
    #[error("PYLON_SENTRY_DSN: not a valid Sentry DSN ({0})")]
    InvalidDsn(String),
    #[error(
        "PYLON_OTLP_ENDPOINT is set, but this build of pylon has no OTLP exporter: \
         unset PYLON_OTLP_ENDPOINT (per-call timings are in /metrics and in the debug log)"
    )]
    OtlpNotBuilt,
}

/// What was started; keep it alive while the service runs (dropping it flushes pending reports).
pub struct Telemetry {
    #[cfg(feature = "sentry")]
    sentry: Option<sentry::ClientInitGuard>,
}

impl Telemetry {
    /// Whether error-level log events should go to the error reporter.
    pub fn reports_errors(&self) -> bool {
        #[cfg(feature = "sentry")]
        return self.sentry.is_some();
        #[cfg(not(feature = "sentry"))]
        false
    }
}

/// Refuse settings this build cannot honour, and start the reporters that are configured.
pub fn start(settings: &Settings) -> Result<Telemetry, TelemetryError> {
    if settings.otlp_endpoint.is_some() {
        return Err(TelemetryError::OtlpNotBuilt);
    }
    #[cfg(feature = "sentry")]
    {
        Ok(Telemetry {
            sentry: start_sentry(settings)?,
        })
    }
    #[cfg(not(feature = "sentry"))]
    {
        if !settings.sentry_dsn.is_empty() {
            return Err(TelemetryError::SentryNotBuilt);
        }
        Ok(Telemetry {})
    }
}

#[cfg(feature = "sentry")]
fn start_sentry(settings: &Settings) -> Result<Option<sentry::ClientInitGuard>, TelemetryError> {
    use std::str::FromStr;

    if settings.sentry_dsn.is_empty() {
        return Ok(None);
    }
    let dsn = sentry::types::Dsn::from_str(settings.sentry_dsn.expose())
        .map_err(|e| TelemetryError::InvalidDsn(e.to_string()))?;
    let mut options = sentry::ClientOptions::new();
    options.dsn = Some(dsn);
    options.environment = settings.sentry_environment.clone().map(Into::into);
    options.release = sentry::release_name!();
    // No request data, user or host identifiers beyond what log events carry.
    options.send_default_pii = false;
    Ok(Some(sentry::init(options)))
}

/// The layer that turns error-level log events into reports (warnings and info become their
/// breadcrumbs); a no-op layer in a build without a reporter.
#[cfg(feature = "sentry")]
pub fn reporting_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::Layer;

    ErrorLayer::new()
        .with_filter(LevelFilter::ERROR)
        .and_then(BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
}

#[cfg(not(feature = "sentry"))]
pub fn reporting_layer<S: tracing::Subscriber>() -> impl tracing_subscriber::Layer<S> {
    tracing_subscriber::layer::Identity::new()
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
    fn reporting_is_off_by_default_and_an_otlp_endpoint_is_refused() {
        let off = start(&settings(&[])).unwrap();
        assert!(!off.reports_errors());
        let otlp = start(&settings(&[(
            "PYLON_OTLP_ENDPOINT",
            "http://collector:4318",
        )]));
        assert_eq!(otlp.err(), Some(TelemetryError::OtlpNotBuilt));
    }

    #[cfg(not(feature = "sentry"))]
    #[test]
    fn a_dsn_without_the_feature_names_the_missing_feature() {
        let sentry = start(&settings(&[(
            "PYLON_SENTRY_DSN",
            "https://key@sentry.example/1",
        )]));
        let error = sentry.err().unwrap();
        assert_eq!(error, TelemetryError::SentryNotBuilt);
        assert!(error.to_string().contains("`sentry` feature"));
    }

    #[cfg(feature = "sentry")]
    #[test]
    fn a_dsn_starts_reporting_and_a_bad_one_is_refused_without_echoing_it() {
        let bad = start(&settings(&[("PYLON_SENTRY_DSN", "not-a-dsn-secretpart")]));
        let error = bad.err().unwrap().to_string();
        assert!(error.starts_with("PYLON_SENTRY_DSN:"), "{error}");
        assert!(!error.contains("secretpart"), "{error}");
        let on = start(&settings(&[
            ("PYLON_SENTRY_DSN", "https://public@127.0.0.1:9/1"),
            ("PYLON_SENTRY_ENVIRONMENT", "test"),
        ]))
        .unwrap();
        assert!(on.reports_errors());
    }

    /// An error-level log event reaches a (local, fake) Sentry, with the breadcrumbs before it.
    #[cfg(feature = "sentry")]
    #[test]
    fn an_error_event_is_sent_to_the_configured_sentry() {
        use std::io::{BufRead, BufReader, Read, Write};
        use tracing_subscriber::layer::SubscriberExt;

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dsn = format!("http://publickey@{}/1", listener.local_addr().unwrap());
        let received = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream);
            let mut head = String::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = value.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" {
                    break;
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                .unwrap();
            (head, String::from_utf8_lossy(&body).into_owned())
        });

        let telemetry = start(&settings(&[
            ("PYLON_SENTRY_DSN", &dsn),
            ("PYLON_SENTRY_ENVIRONMENT", "ops-test"),
        ]))
        .unwrap();
        let subscriber = tracing_subscriber::registry().with(reporting_layer());
        tracing::subscriber::with_default(subscriber, || {
            tracing::warn!("a breadcrumb first");
            tracing::error!(job = 7, "the weights job store failed");
        });
        drop(telemetry); // flushes
        let (head, body) = received.join().unwrap();
        assert!(head.starts_with("POST /api/1/envelope/"), "{head}");
        assert!(body.contains("the weights job store failed"), "{body}");
        assert!(
            body.contains("ops-test") && body.contains("a breadcrumb first"),
            "{body}"
        );
    }
}
