//! `pylon`: the service, the quick-start dev mode and the local chain, in one binary.

mod cli;
mod dev;
mod logging;
mod telemetry;

use clap::Parser;

use cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command.unwrap_or(Command::Serve) {
        // Logging starts once the settings say whether errors are reported and traces exported.
        Command::Serve => serve().await,
        Command::Dev(args) => {
            logging::init(None);
            dev::run(args).await
        }
        Command::Devnet(args) => {
            logging::init(None);
            devnet(args).await
        }
    }
}

async fn serve() -> anyhow::Result<()> {
    let settings = match pylon_service::Settings::from_env() {
        Ok(settings) => settings,
        Err(error) => {
            // One clear line naming the variable, and a non-zero exit: no backtrace for bad config.
            eprintln!("pylon: invalid configuration: {error}");
            std::process::exit(2);
        }
    };
    let telemetry = match telemetry::start(&settings) {
        Ok(telemetry) => telemetry,
        Err(error) => {
            eprintln!("pylon: invalid configuration: {error}");
            std::process::exit(2);
        }
    };
    logging::init(Some(&telemetry));
    for (variable, why) in &settings.ignored {
        tracing::info!(variable, "a reference setting Pylon does not need: {why}");
    }
    pylon_service::run(settings, shutdown_signal()).await?;
    // `telemetry` lives to here: pending reports and traces are flushed after the service stopped.
    Ok(())
}

async fn devnet(args: cli::DevnetArgs) -> anyhow::Result<()> {
    let config = pylon_devnet::DevnetConfig {
        host: args.host,
        port: args.port,
        block_time: args.chain.block_time,
        scenario: match &args.chain.scenario {
            Some(path) => pylon_devnet::Scenario::from_path(path)?,
            None => pylon_devnet::Scenario::builtin_default(),
        },
        state_pruning: args.state_pruning,
        runtime: args.chain.runtime,
    };
    let handle = pylon_devnet::spawn(config).await?;
    // The first stdout line is the address, so scripts and tests can start us on port 0.
    println!("listening on {}", handle.ws_url());
    shutdown_signal().await;
    handle.stop().await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM (what `docker stop` and orchestrators send).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown requested");
}
