//! Process-wide logging: human-readable by default, JSON with `PYLON_LOG_FORMAT=json`.
//!
//! `RUST_LOG` wins when set; otherwise `PYLON_DEBUG=true` raises our crates to debug level.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
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
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
