//! The command line: `pylon [serve]`, `pylon dev`, `pylon devnet`.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "pylon",
    version,
    about = "Fast, cached HTTP access to the Bittensor chain"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service, configured by PYLON_* environment variables and `.env` (the default).
    Serve,
    /// Run a local chain and the service wired to it, with a dev validator identity: the quick start.
    Dev(DevArgs),
    /// Run only the local subtensor-compatible chain (Substrate JSON-RPC over WebSocket and HTTP).
    Devnet(DevnetArgs),
}

#[derive(Debug, Args)]
pub struct ChainArgs {
    /// Seconds between blocks ("1s", "250ms"); 0 seals blocks only on the `dev_newBlock` RPC.
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    pub block_time: Duration,
    /// Genesis scenario file (TOML or JSON, see docs/DEVNET.md); the built-in scenario when absent.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Runtime the chain starts with: 424 (finney today, the default) or 343 (`dev_runtimeUpgrade`
    /// then moves it to 424); overrides the scenario's `runtime`.
    #[arg(long)]
    pub runtime: Option<pylon_devnet::RuntimeSpec>,
}

#[derive(Debug, Args)]
pub struct DevnetArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one and prints it).
    #[arg(long, default_value_t = 9944)]
    pub port: u16,
    /// Keep state for only the latest N blocks; older blocks answer like a pruned node.
    #[arg(long)]
    pub state_pruning: Option<u32>,
    #[command(flatten)]
    pub chain: ChainArgs,
}

#[derive(Debug, Args)]
pub struct DevArgs {
    /// Address the service listens on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port the service listens on.
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Port of the embedded chain (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub chain_port: u16,
    /// Where the dev wallet and service data go.
    #[arg(long, default_value = ".pylon-dev")]
    pub data_dir: PathBuf,
    #[command(flatten)]
    pub chain: ChainArgs,
}

/// "1s", "250ms", "2m" or a bare number of seconds ("0", "1.5").
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(seconds) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(seconds).map_err(|e| e.to_string());
    }
    humantime::parse_duration(text).map_err(|e| format!("{text:?} is not a duration: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_units_and_bare_seconds() {
        assert_eq!(parse_duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[test]
    fn no_subcommand_means_serve() {
        let cli = Cli::try_parse_from(["pylon"]).unwrap();
        assert!(cli.command.is_none());
        let cli =
            Cli::try_parse_from(["pylon", "devnet", "--port", "0", "--block-time", "0"]).unwrap();
        match cli.command {
            Some(Command::Devnet(args)) => {
                assert_eq!(args.port, 0);
                assert_eq!(args.chain.block_time, Duration::ZERO);
            }
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn devnet_runtime_is_343_or_424() {
        let parse = |extra: &[&str]| {
            let args = [&["pylon", "devnet"][..], extra].concat();
            Cli::try_parse_from(args).map(|cli| match cli.command {
                Some(Command::Devnet(args)) => args.chain.runtime,
                other => panic!("parsed as {other:?}"),
            })
        };
        assert_eq!(parse(&[]).unwrap(), None);
        assert_eq!(
            parse(&["--runtime", "343"]).unwrap(),
            Some(pylon_devnet::RuntimeSpec::Spec343)
        );
        assert!(parse(&["--runtime", "400"]).is_err());
    }
}
