//! Process-wide logging: human-readable by default, JSON with `PYLON_LOG_FORMAT=json`.
//!
//! `RUST_LOG` wins when set; otherwise `PYLON_DEBUG=true` raises our crates to debug level. With
//! `report_errors`, error-level events also go to the error reporter (see [`crate::telemetry`]);
//! without it no reporting layer is installed at all.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

pub fn init(report_errors: bool) {
    let debug = std::env::var("PYLON_DEBUG")
        .map(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
        .unwrap_or(false);
    let default_filter = if debug {
        "info,pylon=debug,pylon_service=debug,pylon_chain=debug,pylon_devnet=debug"
    } else {
        "info"
    };
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let json = std::env::var("PYLON_LOG_FORMAT").is_ok_and(|v| v.eq_ignore_ascii_case("json"));
    let output = fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let registry = tracing_subscriber::registry().with(filter);
    // (Made in each branch: the layer's type depends on the subscriber beneath it.)
    if json {
        let reporting = report_errors.then(crate::telemetry::reporting_layer);
        registry.with(output.json()).with(reporting).init();
    } else {
        let reporting = report_errors.then(crate::telemetry::reporting_layer);
        registry.with(output).with(reporting).init();
    }
}
