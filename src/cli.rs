//! `csoc-forwarder process`: runs the Lambda handler's code path on event files;
//! `csoc-forwarder serve`: the audit-records endpoint over HTTP ([`crate::serve`]).
//!
//! stdout gets one JSON summary line per file; human logs go to stderr.
//! `csoc-forwarder rules check|test`: tooling for Sigma rule authors ([`rules`]).
//!
//! Exit codes: 0 every record handled (dead-lettered counts as handled); 2 usage error,
//! unreadable file or an input that is not an event; 3 some records are left for retry.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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

/// The time a local run gives each file: Lambda's longest timeout.
const LOCAL_DEADLINE: Duration = Duration::from_secs(15 * 60);

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
    /// Slow-response alert threshold in seconds [env: THRESHOLD]
    #[arg(long, value_name = "SECONDS", allow_negative_numbers = true)]
    pub threshold: Option<String>,
    /// Sigma rules replacing the built-in ones: a file, or a directory searched
    /// recursively for .yml/.yaml [env: ALERT_RULES]
    #[arg(long, value_name = "PATH")]
    pub rules: Option<PathBuf>,
}

impl SinkArgs {
    /// The configuration: flags over the environment, validated the same way.
    pub fn config(&self) -> Result<Config, ConfigError> {
        let out = self.out.as_ref().map(|p| p.display().to_string());
        let rules = self.rules.as_ref().map(|p| p.display().to_string());
        Config::from_lookup(|name| {
            let flag = match name {
                config::OUT_DIR => out.clone(),
                config::COMMON_NAME => self.common_name.clone(),
                config::THRESHOLD => self.threshold.clone(),
                config::ALERT_RULES => rules.clone(),
                _ => None,
            };
            flag.or_else(|| std::env::var(name).ok())
        })
    }
}

#[derive(Debug, Args)]
pub struct ProcessArgs {
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Event files as Lambda receives them; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
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
    match crate::serve::serve(listener, std::sync::Arc::new(pipeline), shutdown_signal()).await {
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
            deadline: Deadline::after(LOCAL_DEADLINE),
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
        } else if report.counts.retryable_failures > 0 && code == EXIT_OK {
            code = EXIT_RETRY;
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
