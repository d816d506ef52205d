//! `csoc-forwarder process`: runs the Lambda handler's code path on event files;
//! `csoc-forwarder serve`: the audit-records endpoint over HTTP ([`crate::serve`]);
//! `csoc-forwarder replay`: dead letters and archive objects back in ([`crate::replay`]).
//!
//! stdout gets one JSON summary line per file; human logs go to stderr.
//! Exit codes: 0 every record handled (dead-lettered counts as handled); 2 usage error,
//! an `--out` directory that cannot be written, unreadable file or an input that is not
//! an event; 3 some records are left for retry, or the OpenSearch cluster cannot be
//! reached at all (checked once, before any file).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    /// Replay dead letters and archive objects (s3://bucket/prefix, files or
    /// directories) into the sinks that missed them, idempotently. Prints one JSON
    /// summary line; exit 0 when all is handled or still permanently bad, 3 when
    /// retryable failures remain, 2 on usage errors.
    Replay(ReplayArgs),
    /// OpenSearch Dashboards saved objects (index pattern, searches, visualizations,
    /// the "CSOC overview" dashboard).
    Dashboards(DashboardsArgs),
}

#[derive(Debug, Args)]
pub struct DashboardsArgs {
    #[command(subcommand)]
    pub command: DashboardsCommand,
}

#[derive(Debug, Subcommand)]
pub enum DashboardsCommand {
    /// Import the saved objects (POST /api/saved_objects/_import?overwrite=true).
    /// Authentication as for the index: OPENSEARCH_AUTH, OPENSEARCH_USERNAME /
    /// OPENSEARCH_PASSWORD or OPENSEARCH_SECRET_ID, the AWS credential chain for SigV4.
    Install(DashboardsInstallArgs),
}

#[derive(Debug, Args)]
pub struct DashboardsInstallArgs {
    /// OpenSearch Dashboards base URL, e.g.
    /// https://search-csoc-x.us-east-1.es.amazonaws.com/_dashboards [env: DASHBOARDS_URL]
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// sigv4, basic or none [env: OPENSEARCH_AUTH] [default: sigv4 for Amazon hosts, else none]
    #[arg(long, value_name = "AUTH")]
    pub auth: Option<String>,
    /// Saved objects to import instead of the built-in opensearch/dashboards/csoc-overview.ndjson
    #[arg(long, value_name = "FILE")]
    pub file: Option<PathBuf>,
}

/// `dashboards install`: imports the saved objects; prints `{"url", "imported"}`.
/// Exit codes: 0 imported, 2 usage (no URL, bad auth, unreadable file), 1 refused.
pub async fn dashboards(args: &DashboardsArgs) -> ExitCode {
    let DashboardsCommand::Install(args) = &args.command;
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let Some(url) = args.url.clone().or_else(|| env(config::DASHBOARDS_URL)) else {
        eprintln!("error: dashboards install needs --url URL (or DASHBOARDS_URL)");
        return ExitCode::from(EXIT_USAGE);
    };
    let lookup = |name: &str| match name {
        config::OPENSEARCH_URL => Some(url.clone()),
        config::OPENSEARCH_AUTH => args.auth.clone().or_else(|| env(name)),
        _ => env(name),
    };
    let os = match crate::sinks::opensearch::OpenSearchConfig::from_lookup(&lookup) {
        Ok(Some(os)) => os,
        Ok(None) => return ExitCode::from(EXIT_USAGE),
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let ndjson = match &args.file {
        Some(path) => match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("error: cannot read {}: {err}", path.display());
                return ExitCode::from(EXIT_USAGE);
            }
        },
        None => crate::dashboards::SAVED_OBJECTS.to_owned(),
    };
    match crate::dashboards::install(&os, &ndjson).await {
        Ok(imported) => {
            println!(
                "{}",
                serde_json::json!({"url": os.display_url(), "imported": imported.success_count})
            );
            ExitCode::from(EXIT_OK)
        }
        Err(err @ crate::dashboards::DashboardsError::Parse { .. }) => {
            eprintln!("error: {err}");
            ExitCode::from(EXIT_USAGE)
        }
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
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
}

impl SinkArgs {
    /// The configuration: flags over the environment, validated the same way.
    pub fn config(&self) -> Result<Config, ConfigError> {
        self.config_with(&[])
    }

    /// [`SinkArgs::config`] with more flags (`(variable, value)`) over the environment.
    pub fn config_with(&self, more: &[(&str, Option<String>)]) -> Result<Config, ConfigError> {
        let out = self.out.as_ref().map(|p| p.display().to_string());
        Config::from_lookup(|name| {
            let flag = match name {
                config::OUT_DIR => out.clone(),
                config::COMMON_NAME => self.common_name.clone(),
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

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub sinks: SinkArgs,
    /// Only objects from this time on (RFC 3339 or YYYY-MM-DD, UTC): by the key's date
    /// path where there is one, else by the document's (or dead letter's) time.
    #[arg(long, value_name = "TIME", value_parser = crate::replay::parse_time)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only objects before this time (same forms as --since).
    #[arg(long, value_name = "TIME", value_parser = crate::replay::parse_time)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// Only dead letters of this source (e.g. `opensearch`, `firehose`, `kinesis-<stream>`).
    #[arg(long, value_name = "SOURCE")]
    pub source: Option<String>,
    /// Read, classify and count; write and move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Stop after N objects.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Objects replayed at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// Skip every key up to and including KEY (from a progress line's `done_through`).
    #[arg(long, value_name = "KEY")]
    pub resume_after: Option<String>,
    /// Run the alert rules on replayed dead-lettered input (off by default).
    #[arg(long)]
    pub alerts: bool,
    /// Delete a dead letter once replayed, instead of moving it under `replayed/`.
    #[arg(long)]
    pub delete_replayed: bool,
    /// Time the sinks get for one object (retries included) before what is left of it
    /// counts as retryable.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::replay::DEFAULT_OBJECT_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub object_timeout: u64,
    /// Without a terminal: one progress log line every N objects.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = clap::value_parser!(u64).range(1..))]
    pub progress_every: u64,
    /// `s3://bucket/prefix`, a file or a directory.
    #[arg(required = true, value_name = "LOCATION")]
    pub locations: Vec<String>,
}

impl ReplayArgs {
    pub fn options(&self) -> crate::replay::Options {
        crate::replay::Options {
            dry_run: self.dry_run,
            limit: self.limit,
            concurrency: usize::from(self.concurrency),
            resume_after: self.resume_after.clone(),
            since: self.since,
            until: self.until,
            source: self.source.clone(),
            alerts: self.alerts,
            delete_replayed: self.delete_replayed,
            progress_every: usize::try_from(self.progress_every).unwrap_or(usize::MAX),
            object_deadline: Duration::from_secs(self.object_timeout),
        }
    }
}

/// Runs `replay` and returns the exit code.
pub async fn replay(args: &ReplayArgs, pipeline: &Pipeline) -> ExitCode {
    use crate::replay::{Replayer, source};
    if let (Some(since), Some(until)) = (args.since, args.until)
        && since >= until
    {
        eprintln!("error: --since {since} is not before --until {until}");
        return ExitCode::from(EXIT_USAGE);
    }
    let s3 = tokio::sync::OnceCell::new();
    let mut locations = Vec::with_capacity(args.locations.len());
    for text in &args.locations {
        let client = || async {
            s3.get_or_init(|| async { source::S3Store::client(&crate::aws::sdk_config().await) })
                .await
                .clone()
        };
        match source::location(text, client).await {
            Ok(location) => locations.push(location),
            Err(err) => {
                eprintln!("error: {err}");
                return ExitCode::from(EXIT_USAGE);
            }
        }
    }
    let summary = Replayer::new(pipeline.replay_targets(), args.options())
        .run(&locations)
        .await;
    let line = serde_json::to_string(&summary).unwrap_or_default();
    let _ = writeln!(std::io::stdout().lock(), "{line}");
    ExitCode::from(if summary.retryable > 0 {
        EXIT_RETRY
    } else {
        EXIT_OK
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
