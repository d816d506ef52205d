//! Thin start-up: tracing, configuration (read once, fail fast), clients, run.

use std::process::ExitCode;

use clap::Parser as _;
use csoc_forwarder::cli::{self, Cli, Command};
use csoc_forwarder::config::Config;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let lambda = std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    if lambda {
        tracing_subscriber::fmt()
            .json()
            .with_env_filter(filter)
            .with_current_span(false)
            .init();
        let config = match Config::from_env() {
            Ok(config) => config,
            Err(err) => {
                tracing::error!(error = %err, "bad configuration");
                return ExitCode::FAILURE;
            }
        };
        let pipeline = csoc_forwarder::local_pipeline(&config);
        return match runtime.block_on(csoc_forwarder::lambda::run(pipeline)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!(error = %err, "lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }

    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter)
        .init();
    let cli = Cli::parse();
    match &cli.command {
        Command::Process(args) => {
            let config = match args.config() {
                Ok(config) => config,
                Err(err) => {
                    eprintln!("error: {err}");
                    return ExitCode::from(cli::EXIT_USAGE);
                }
            };
            let pipeline = csoc_forwarder::local_pipeline(&config);
            runtime.block_on(cli::process(args, &config, &pipeline))
        }
    }
}
