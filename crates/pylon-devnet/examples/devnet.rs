//! Run a devnet from the command line (tests use it until the `pylon devnet` command exists):
//! `cargo run -p pylon-devnet --example devnet -- --port 0 [--block-time-ms 0] [--scenario f.toml]`.

use std::time::Duration;

use pylon_devnet::{DevnetConfig, Scenario};

#[tokio::main]
async fn main() {
    let mut config = DevnetConfig::default();
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--port" => config.port = value().parse().expect("--port is a number"),
            "--block-time-ms" => {
                config.block_time = Duration::from_millis(value().parse().expect("a number"))
            }
            "--runtime" => {
                config.runtime = Some(value().parse().unwrap_or_else(|e: String| {
                    eprintln!("{e}");
                    std::process::exit(2)
                }))
            }
            "--state-pruning" => config.state_pruning = Some(value().parse().expect("a number")),
            "--scenario" => {
                config.scenario = Scenario::from_path(value().as_ref()).unwrap_or_else(|e| {
                    eprintln!("{e}");
                    std::process::exit(2)
                })
            }
            other => panic!("unknown argument {other}"),
        }
    }
    if let Err(e) = pylon_devnet::run_until_ctrl_c(config).await {
        eprintln!("{e}");
        std::process::exit(1);
    }
}
