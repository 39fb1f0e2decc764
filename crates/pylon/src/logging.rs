//! Process-wide logging: human-readable by default, JSON with `PYLON_LOG_FORMAT=json`.
//!
//! `RUST_LOG` wins when set; otherwise `PYLON_DEBUG=true` raises our crates to debug level. The
//! error reporter and trace exporter configured in [`crate::telemetry`] add their layers; when
//! none is configured, no layer of theirs is installed at all: an empty `Vec` of layers is not
//! neutral in tracing-subscriber (it reports "no interest" in every event, which switches the
//! whole subscriber off), so it is never added.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

use crate::telemetry::Telemetry;

pub fn init(telemetry: Option<&Telemetry>) {
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
    // (Made in each branch: the layers' type depends on the subscriber beneath them.)
    if json {
        let extra = telemetry.map(Telemetry::layers).filter(|l| !l.is_empty());
        registry.with(output.json()).with(extra).init();
    } else {
        let extra = telemetry.map(Telemetry::layers).filter(|l| !l.is_empty());
        registry.with(output).with(extra).init();
    }
}
