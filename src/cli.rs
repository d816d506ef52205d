//! `csoc-forwarder process`: runs the Lambda handler's code path on event files;
//! `csoc-forwarder serve`: the audit-records endpoint over HTTP ([`crate::serve`]);
//! `csoc-forwarder replay`: dead letters and archive objects back in ([`replay`]);
//! `csoc-forwarder dashboards install`: the Dashboards saved objects ([`dashboards`]).
//!
//! stdout gets one JSON summary line per file; human logs go to stderr.
//! `csoc-forwarder rules check|test`: tooling for Sigma rule authors ([`rules`]).
//!
//! Exit codes: 0 every record handled (dead-lettered counts as handled); 2 usage error,
//! an `--out` directory that cannot be written, unreadable file or an input that is not
//! an event; 3 some records are left for retry, or the OpenSearch cluster cannot be
//! reached at all (checked once, before any file).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

pub mod dashboards;
pub mod replay;
pub mod rules;

use clap::{Args, Parser, Subcommand};
use serde::Serialize;
use tracing::error;

use crate::config::{self, Config, ConfigError};
use crate::invocation::{Deadline, Invocation};
use crate::pipeline::Pipeline;
use crate::report::Report;

pub const EXIT_OK: u8 = 0;
pub const EXIT_USAGE: u8 = 2;
pub const EXIT_RETRY: u8 = 3;

/// How long `process` waits for the OpenSearch cluster to answer at all, before any file.
const REACHABLE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Parser)]
#[command(
    name = "csoc-forwarder",
    version,
    about = "Forwards CloudWatch Logs subscription records to OpenSearch, the Firehose archive and Slack. Runs as an AWS Lambda function when AWS_LAMBDA_RUNTIME_API is set."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the Lambda handler on event files, writing to the local sinks (indexing into
    /// OpenSearch instead when OPENSEARCH_URL is set).
    Process(ProcessArgs),
    /// Serve the audit-records endpoint (POST /{node-name}) over plain HTTP on the same
    /// handler and sinks as `process`.
    Serve(ServeArgs),
    /// Check Sigma alert rules, or test them on event files.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Replay dead letters and archive objects (s3://bucket/prefix, files or
    /// directories) into the sinks that missed them, idempotently. Prints one JSON
    /// summary line; exit 0 when all is handled or still permanently bad, 3 when
    /// retryable failures remain, 2 on usage errors.
    Replay(replay::ReplayArgs),
    /// OpenSearch Dashboards saved objects (index pattern, searches, visualizations,
    /// the "CSOC overview" dashboard).
    Dashboards(dashboards::DashboardsArgs),
}

/// What `process` and `serve` share: where the local sinks write and the deployment.
#[derive(Debug, Args)]
pub struct SinkArgs {
    /// Directory for the local sinks [env: OUT_DIR] [default: ./out]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The commons name stored in documents [env: COMMON_NAME] [default: local]
    #[arg(long, value_name = "NAME")]
    pub common_name: Option<String>,
    /// Sigma rules replacing the built-in ones: a file, or a directory searched
    /// recursively for .yml/.yaml [env: ALERT_RULES]
    #[arg(long, value_name = "PATH")]
    pub rules: Option<PathBuf>,
}

impl SinkArgs {
    /// The configuration: flags over the environment, validated the same way.
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.config_with(&[])
    }

    /// [`SinkArgs::config`] with more flags (`(variable, value)`) over the environment.
    pub fn config_with(&self, more: &[(&str, Option<String>)]) -> Result<Config, ConfigError> {
        let out = self.out.as_ref().map(|p| p.display().to_string());
        let rules = self.rules.as_ref().map(|p| p.display().to_string());
        Config::from_lookup(|name| {
            let flag = match name {
                config::OUT_DIR => out.clone(),
                config::COMMON_NAME => self.common_name.clone(),
                config::ALERT_RULES => rules.clone(),
                _ => more
                    .iter()
                    .find(|(n, _)| *n == name)
                    .and_then(|(_, v)| v.clone()),
            };
            flag.or_else(|| std::env::var(name).ok())
        })
    }
}

#[derive(Debug, Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Slow-response alert threshold in seconds [env: THRESHOLD]
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub threshold: Option<String>,
    /// Seconds each file may take, retries included; what still fails then is left for
    /// retry (exit 3) [env: PROCESS_TIME_BUDGET] [default: 60]
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub time_budget: Option<String>,
    /// Event files as Lambda receives them; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

impl ProcessArgs {
    /// The configuration, with `--threshold` and `--time-budget` over the environment.
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.sinks.config_with(&[
            (config::THRESHOLD, self.threshold.clone()),
            (config::PROCESS_TIME_BUDGET, self.time_budget.clone()),
        ])
    }
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// Requests handled at once; more are answered 429 with Retry-After, like a
    /// throttled function URL.
    #[arg(long, value_name = "N", default_value_t = crate::serve::DEFAULT_CONCURRENCY,
          value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub concurrency: u16,
    /// Seconds a client has to send a request's headers (and an idle connection stays open).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::serve::Limits::DEFAULT.header_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_timeout: u64,
    /// Seconds a client has to send a request's body once its headers are in (then 408).
    #[arg(long, value_name = "SECONDS", default_value_t = crate::serve::Limits::DEFAULT.body_timeout.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub body_timeout: u64,
}

impl ServeArgs {
    pub fn limits(&self) -> crate::serve::Limits {
        crate::serve::Limits {
            concurrency: usize::from(self.concurrency),
            header_timeout: Duration::from_secs(self.header_timeout),
            body_timeout: Duration::from_secs(self.body_timeout),
        }
    }
}

/// Whether `config` writes anything under `OUT_DIR` (some sink is local).
pub fn uses_out_dir(config: &Config) -> bool {
    config.opensearch.is_none()
        || config.archive_sink == config::ArchiveSinkKind::Local
        || config.dead_letter_bucket.is_none()
        || (config.slack_webhook_url.is_none() && config.slack_webhook_secret_arn.is_none())
}

/// Checks, before any work, that the local sinks can write under `OUT_DIR`: one clear
/// error instead of a warning per document.
pub fn check_out_dir(config: &Config) -> Result<(), String> {
    if !uses_out_dir(config) {
        return Ok(());
    }
    crate::sinks::local::check_writable(&config.out_dir).map_err(|err| {
        format!(
            "cannot write to the output directory {} (--out, OUT_DIR): {err}",
            config.out_dir.display()
        )
    })
}

#[derive(Serialize)]
struct SummaryLine<'a> {
    file: &'a str,
    #[serde(flatten)]
    report: &'a Report,
}

/// Serves the audit-records endpoint until Ctrl-C or SIGTERM.
pub async fn serve(args: &ServeArgs, pipeline: Pipeline) -> ExitCode {
    let listener = match tokio::net::TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("error: cannot listen on {}: {err}", args.listen);
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let addr = listener.local_addr().unwrap_or(args.listen);
    // On stderr, so stdout stays one JSON line per request.
    eprintln!(
        "csoc-forwarder: audit-records endpoint on http://{addr}/{{node-name}} (Ctrl-C stops)"
    );
    match crate::serve::serve(
        listener,
        std::sync::Arc::new(pipeline),
        args.limits(),
        shutdown_signal(),
    )
    .await
    {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(err) => {
            error!(error = %err, "serve stopped");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs `process` on every file and returns the exit code.
pub async fn process(args: &ProcessArgs, config: &Config, pipeline: &Pipeline) -> ExitCode {
    // One clear error, before any file, when the cluster cannot be reached at all;
    // otherwise each file would retry until its time budget is spent.
    if let Err(err) = pipeline.index_reachable(REACHABLE_TIMEOUT).await {
        eprintln!(
            "error: {err}\n  nothing was processed; check OPENSEARCH_URL and the network, then run again (exit {EXIT_RETRY}: the input is left for retry)"
        );
        return ExitCode::from(EXIT_RETRY);
    }
    let mut code = EXIT_OK;
    let mut stdout = std::io::stdout().lock();
    for file in &args.files {
        let bytes = match read_input(file) {
            Ok(bytes) => bytes,
            Err(err) => {
                error!(file, error = %err, "cannot read input file");
                eprintln!("error: cannot read {file}: {err}");
                code = EXIT_USAGE;
                continue;
            }
        };
        let inv = Invocation {
            received_at: chrono::Utc::now(),
            deadline: Deadline::after(config.process_time_budget),
            source: format!("file-{}", crate::dead_letter::sanitize(file_stem(file))),
        };
        let report = pipeline.handle(&bytes, &inv).await;
        if let Some(err) = &report.error {
            if report.counts.dead_lettered > 0 {
                eprintln!(
                    "error: {file}: {err} (kept in {})",
                    config.out_dir.join("dead-letter").display()
                );
            } else {
                eprintln!("error: {file}: {err}");
            }
            code = EXIT_USAGE;
        } else if report.counts.retryable_failures > 0 {
            eprintln!(
                "error: {file}: {} record(s) left for retry: not every document was stored within the time budget of {} s (--time-budget, PROCESS_TIME_BUDGET); see the warnings above",
                report.counts.retryable_failures,
                config.process_time_budget.as_secs()
            );
            if code == EXIT_OK {
                code = EXIT_RETRY;
            }
        }
        let line = serde_json::to_string(&SummaryLine {
            file,
            report: &report,
        })
        .unwrap_or_default();
        if writeln!(stdout, "{line}").is_err() {
            // stdout closed (e.g. piped into `head`): nothing more to say.
            return ExitCode::from(code);
        }
    }
    ExitCode::from(code)
}

fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(file)
    }
}

fn file_stem(file: &str) -> &str {
    if file == "-" {
        return "stdin";
    }
    std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("input")
}
