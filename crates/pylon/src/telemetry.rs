//! Optional error reporting (`PYLON_SENTRY_DSN`) and trace export (`PYLON_OTLP_ENDPOINT`).
//!
//! Their client libraries add an HTTP client to the build, so they are cargo features of this
//! crate, off by default: `sentry` and `otlp` (`cargo build --release -p pylon --features
//! sentry,otlp`). At run time each is off unless configured, and then nothing of it runs on the
//! request path (no layer is installed). A setting this build cannot honour is a start-up error
//! naming it, not a silently ignored setting.

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
    #[cfg(not(feature = "otlp"))]
    #[error(
        "PYLON_OTLP_ENDPOINT is set, but this build of pylon lacks the `otlp` feature: \
         build with `--features otlp` or unset PYLON_OTLP_ENDPOINT"
    )]
    OtlpNotBuilt,
    #[cfg(feature = "otlp")]
    #[error("PYLON_OTLP_ENDPOINT: {0}")]
    InvalidOtlpEndpoint(String),
}

/// What was started; keep it alive while the service runs (dropping it flushes pending reports).
pub struct Telemetry {
    #[cfg(feature = "sentry")]
    sentry: Option<sentry::ClientInitGuard>,
    #[cfg(feature = "otlp")]
    traces: Option<otlp::Traces>,
}

impl Telemetry {
    /// Whether error-level log events go to the error reporter.
    #[cfg(any(test, feature = "sentry"))]
    fn reports_errors(&self) -> bool {
        #[cfg(feature = "sentry")]
        return self.sentry.is_some();
        #[cfg(not(feature = "sentry"))]
        false
    }

    /// The logging layers of what is configured: none when nothing is.
    pub fn layers<S>(&self) -> Vec<Box<dyn tracing_subscriber::Layer<S> + Send + Sync>>
    where
        S: tracing::Subscriber + Send + Sync + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        #[allow(unused_mut)]
        let mut layers: Vec<Box<dyn tracing_subscriber::Layer<S> + Send + Sync>> = Vec::new();
        #[cfg(feature = "sentry")]
        if self.reports_errors() {
            layers.push(Box::new(reporting_layer()));
        }
        #[cfg(feature = "otlp")]
        if let Some(traces) = &self.traces {
            layers.push(Box::new(traces.layer()));
        }
        layers
    }
}

/// Refuse settings this build cannot honour, and start the reporters that are configured.
pub fn start(settings: &Settings) -> Result<Telemetry, TelemetryError> {
    #[cfg(not(feature = "otlp"))]
    if settings.otlp_endpoint.is_some() {
        return Err(TelemetryError::OtlpNotBuilt);
    }
    #[cfg(not(feature = "sentry"))]
    if !settings.sentry_dsn.is_empty() {
        return Err(TelemetryError::SentryNotBuilt);
    }
    Ok(Telemetry {
        #[cfg(feature = "sentry")]
        sentry: start_sentry(settings)?,
        #[cfg(feature = "otlp")]
        traces: settings
            .otlp_endpoint
            .as_deref()
            .map(|endpoint| otlp::Traces::start(endpoint, &settings.otel))
            .transpose()?,
    })
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
    options.environment = Some(settings.sentry_environment.clone().into());
    options.release = sentry::release_name!();
    // No request data, user or host identifiers beyond what log events carry.
    options.send_default_pii = false;
    Ok(Some(sentry::init(options)))
}

/// The layer that turns error-level log events into reports (warnings and info become their
/// breadcrumbs).
#[cfg(feature = "sentry")]
fn reporting_layer<S>() -> impl tracing_subscriber::Layer<S>
where
    S: tracing::Subscriber + Send + Sync + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
{
    use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::Layer;

    ErrorLayer::new()
        .with_filter(LevelFilter::ERROR)
        .and_then(BreadcrumbLayer::new().with_filter(LevelFilter::INFO))
}

#[cfg(feature = "otlp")]
mod otlp {
    //! Spans at info level and above (each request's span, with its id, method and path) exported
    //! in batches over OTLP/HTTP (protobuf) to a collector, from a background thread.

    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry::KeyValue;
    use opentelemetry_otlp::{SpanExporter, WithExportConfig};
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use opentelemetry_sdk::Resource;
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::Layer;

    use super::TelemetryError;
    use pylon_service::settings::OtelResource;

    /// The reference's resource attributes, from `PYLON_OTEL_*`.
    fn resource_of(settings: &OtelResource) -> Resource {
        let mut attributes = vec![
            KeyValue::new("service.namespace", settings.service_namespace.clone()),
            KeyValue::new(
                "deployment.environment.name",
                settings.deployment_environment.clone(),
            ),
            KeyValue::new(
                "service.version",
                if settings.service_version.is_empty() {
                    env!("CARGO_PKG_VERSION").to_owned()
                } else {
                    settings.service_version.clone()
                },
            ),
        ];
        if !settings.service_instance_id.is_empty() {
            attributes.push(KeyValue::new(
                "service.instance.id",
                settings.service_instance_id.clone(),
            ));
        }
        Resource::builder()
            .with_service_name(settings.service_name.clone())
            .with_attributes(attributes)
            .build()
    }

    pub struct Traces {
        provider: SdkTracerProvider,
    }

    impl Traces {
        /// `endpoint` is the collector's base URL (`http://collector:4318`), like
        /// `OTEL_EXPORTER_OTLP_ENDPOINT`; traces go to its `/v1/traces`.
        pub fn start(endpoint: &str, resource: &OtelResource) -> Result<Self, TelemetryError> {
            let invalid = |reason: &str| TelemetryError::InvalidOtlpEndpoint(reason.to_owned());
            let base = endpoint.trim_end_matches('/');
            if base.starts_with("https://") {
                return Err(invalid(
                    "https is not built in: send to a collector over http (e.g. a sidecar)",
                ));
            }
            if !base.starts_with("http://") {
                return Err(invalid(
                    "expected an http:// URL, e.g. http://collector:4318",
                ));
            }
            let exporter = SpanExporter::builder()
                .with_http()
                .with_endpoint(format!("{base}/v1/traces"))
                .build()
                .map_err(|e| invalid(&e.to_string()))?;
            let provider = SdkTracerProvider::builder()
                .with_batch_exporter(exporter)
                .with_resource(resource_of(resource))
                .build();
            Ok(Traces { provider })
        }

        pub fn layer<S>(&self) -> impl Layer<S> + Send + Sync
        where
            S: tracing::Subscriber
                + Send
                + Sync
                + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
        {
            tracing_opentelemetry::layer()
                .with_tracer(self.provider.tracer("pylon"))
                .with_filter(LevelFilter::INFO)
        }
    }

    impl Drop for Traces {
        /// Export what is still batched before the process ends.
        fn drop(&mut self) {
            if let Err(error) = self.provider.shutdown() {
                eprintln!("pylon: exporting the last traces failed: {error}");
            }
        }
    }
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
    fn reporting_and_tracing_are_off_by_default() {
        let off = start(&settings(&[])).unwrap();
        assert!(!off.reports_errors());
        assert!(off.layers::<tracing_subscriber::Registry>().is_empty());
    }

    #[cfg(not(feature = "otlp"))]
    #[test]
    fn an_otlp_endpoint_without_the_feature_names_the_missing_feature() {
        let otlp = start(&settings(&[(
            "PYLON_OTLP_ENDPOINT",
            "http://collector:4318",
        )]));
        let error = otlp.err().unwrap();
        assert_eq!(error, TelemetryError::OtlpNotBuilt);
        assert!(error.to_string().contains("`otlp` feature"));
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

    /// One HTTP request received on a local port (a fake Sentry or collector), answered 200: its
    /// head and body.
    #[cfg(any(feature = "sentry", feature = "otlp"))]
    fn receive_one() -> (String, std::thread::JoinHandle<(String, String)>) {
        use std::io::{BufRead, BufReader, Read, Write};

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
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
        (address, received)
    }

    /// An error-level log event reaches a (local, fake) Sentry, with the breadcrumbs before it.
    #[cfg(feature = "sentry")]
    #[test]
    fn an_error_event_is_sent_to_the_configured_sentry() {
        use tracing_subscriber::layer::SubscriberExt;

        let (address, received) = receive_one();
        let dsn = format!("http://publickey@{address}/1");
        let telemetry = start(&settings(&[
            ("PYLON_SENTRY_DSN", &dsn),
            ("PYLON_SENTRY_ENVIRONMENT", "ops-test"),
        ]))
        .unwrap();
        let subscriber = tracing_subscriber::registry().with(telemetry.layers());
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

    /// A request's span reaches a (local, fake) OTLP collector with its fields.
    #[cfg(feature = "otlp")]
    #[test]
    fn spans_are_exported_to_the_configured_collector() {
        use tracing_subscriber::layer::SubscriberExt;

        let (address, received) = receive_one();
        let endpoint = format!("http://{address}");
        assert!(matches!(
            start(&settings(&[(
                "PYLON_OTLP_ENDPOINT",
                "https://collector:4318"
            )])),
            Err(TelemetryError::InvalidOtlpEndpoint(_))
        ));
        let telemetry = start(&settings(&[("PYLON_OTLP_ENDPOINT", &endpoint)])).unwrap();
        let subscriber = tracing_subscriber::registry().with(telemetry.layers());
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", id = "otlp-test-7", path = "/health");
            span.in_scope(|| tracing::info!("inside the request"));
            // Below the exported level: not sent.
            tracing::debug_span!("debug-only-span").in_scope(|| {});
        });
        drop(telemetry); // flushes the batch
        let (head, body) = received.join().unwrap();
        assert!(head.starts_with("POST /v1/traces"), "{head}");
        assert!(
            head.to_ascii_lowercase().contains("application/x-protobuf"),
            "{head}"
        );
        assert!(
            body.contains("otlp-test-7") && body.contains("/health"),
            "{body}"
        );
        assert!(
            body.contains("pylon") && !body.contains("debug-only-span"),
            "{body}"
        );
    }
}
