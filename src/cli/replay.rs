//! `csoc-forwarder replay`: dead letters and archive objects back into the sinks that
//! missed them ([`crate::replay`]); one JSON summary line on stdout.

use std::io::Write as _;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::{EXIT_OK, EXIT_RETRY, EXIT_USAGE, SinkArgs};
use crate::pipeline::Pipeline;

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
pub async fn run(args: &ReplayArgs, pipeline: &Pipeline) -> ExitCode {
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
