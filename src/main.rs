//! Thin start-up: tracing, configuration (read once, fail fast), clients, run.

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::Parser as _;
use csoc_forwarder::cli::{self, Cli, Command};
use csoc_forwarder::config::Config;
use tracing_subscriber::EnvFilter;

/// mimalloc: about 5% less CPU than glibc's allocator for the whole process, for ~6 MB
/// more peak RSS (BENCHMARKS.md, twenty-second round).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let started = std::time::Instant::now();
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
        // Read once; a bad value fails the cold start with the variable named.
        let config = match Config::lambda_from_env() {
            Ok(config) => config,
            Err(err) => {
                tracing::error!(error = %err, "bad configuration: the function cannot start");
                eprintln!("error: bad configuration: {err}");
                return ExitCode::FAILURE;
            }
        };
        // Names only: no secret is part of the configuration logged here.
        tracing::info!(
            commons = %config.common_name,
            firehose_stream = %config.firehose_stream,
            dead_letter_bucket = config.dead_letter_bucket.as_deref().unwrap_or(""),
            opensearch = config.opensearch.is_some(),
            "configured"
        );
        let settings = csoc_forwarder::lambda::Settings {
            started,
            commons: config.common_name.clone(),
            metrics_namespace: config.metrics_namespace.clone(),
        };
        let pipeline = match runtime.block_on(csoc_forwarder::startup::pipeline(&config)) {
            Ok(pipeline) => pipeline,
            Err(err) => {
                tracing::error!(error = %err, "cannot start");
                return ExitCode::FAILURE;
            }
        };
        return match runtime.block_on(csoc_forwarder::lambda::run(pipeline, settings)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                tracing::error!(error = %err, "lambda runtime stopped");
                ExitCode::FAILURE
            }
        };
    }

    // Colours only for a person at a terminal (and not with NO_COLOR set): piped or
    // redirected logs stay plain text.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_env_filter(filter)
        .init();
    let cli = Cli::parse();
    let config = match &cli.command {
        Command::Process(args) => args.config(),
        Command::Serve(args) => args.sinks.config(),
        Command::Replay(args) => args.sinks.config(),
        Command::Rules(cmd) => return cli::rules::run(cmd),
        Command::Dashboards(args) => return runtime.block_on(cli::dashboards::run(args)),
    };
    let config = match config {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    // A dry run writes nothing, not even the output directory.
    let dry_run = matches!(&cli.command, Command::Replay(args) if args.dry_run);
    if !dry_run && let Err(err) = cli::check_out_dir(&config) {
        eprintln!("error: {err}");
        return ExitCode::from(cli::EXIT_USAGE);
    }
    let pipeline = match runtime.block_on(csoc_forwarder::startup::pipeline(&config)) {
        Ok(pipeline) => pipeline,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(cli::EXIT_USAGE);
        }
    };
    match &cli.command {
        Command::Process(args) => runtime.block_on(cli::process(args, &config, &pipeline)),
        Command::Serve(args) => runtime.block_on(cli::serve(args, pipeline)),
        Command::Replay(args) => runtime.block_on(cli::replay::run(args, &pipeline)),
        Command::Rules(cmd) => cli::rules::run(cmd),
        Command::Dashboards(args) => runtime.block_on(cli::dashboards::run(args)),
    }
}
