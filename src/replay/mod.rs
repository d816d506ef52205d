//! Replay and backfill: dead letters and archive objects back into the pipeline,
//! idempotently.
//!
//! [`source`] lists and streams objects (S3 or local), [`classify`] tells a dead letter
//! from an archive object by content and a dead letter's [`Route`](classify::Route),
//! and each item goes only to the sinks that missed it:
//!
//! - a dead letter of input that never became documents (a Kinesis record, a whole
//!   event, an audit request) runs through the whole pipeline again (index and archive;
//!   alerts only when asked);
//! - an `opensearch` dead letter (a document the index refused) goes to the index only;
//! - a `firehose` dead letter (refused or truncated by the archive) to the archive only;
//! - an archive object is re-indexed only, never re-archived.
//!
//! Documents keep their deterministic ids and are created with `create`, so replaying
//! twice changes nothing. A dead letter that succeeds is moved under `replayed/` (or
//! deleted); one that still fails stays where it is and is not written again.
//! [`batch_operations`] is the same replay driven by S3 Batch Operations.
//!
//! This module keeps the order of a run (locations, objects `concurrency` at a time,
//! progress in key order) and the S3 Batch Operations answer; `object.rs` replays one
//! object and says how it ended, `letter.rs` a dead letter, `archive.rs` an archive
//! object; `select.rs` decides what is replayed (`--since/--until`, `--source`, key date
//! paths); `progress.rs` holds the summary and the progress on stderr.

mod archive;
pub mod batch_operations;
pub mod classify;
mod letter;
mod object;
mod progress;
mod select;
pub mod source;

use std::collections::VecDeque;
use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::stream::{FuturesUnordered, StreamExt as _};
use tracing::{info, warn};

use crate::document::DocumentBuilder;
use crate::invocation::Deadline;
use crate::pipeline::Pipeline;
use crate::sinks::Sinks;
use crate::sinks::firehose::archive::MAX_RECORD_BYTES;
use batch_operations::{BatchEvent, BatchResponse, ResultCode, TaskResult};
use progress::Progress;
use select::document_time;
use source::Location;

pub use object::{ObjectOutcome, Verdict};
pub use progress::Summary;
pub use select::{key_span, parse_time};

/// The longest archive line read (a Firehose record is at most 1000 KiB).
pub const MAX_LINE_BYTES: usize = MAX_RECORD_BYTES + 1024;
/// The least a dead letter may be (its raw data is base64: a third larger than the input).
pub const MIN_LETTER_BYTES: usize = 16 * 1024 * 1024;
/// Time the sinks get for one object by default: Lambda's longest timeout, as `process`.
pub const DEFAULT_OBJECT_TIMEOUT: Duration = Duration::from_secs(15 * 60);

/// What replay writes to: the pipeline's document builder and sinks, and the pipeline
/// itself for input that runs through it again.
#[derive(Clone, Copy)]
pub struct Targets<'a> {
    pub max_decompressed_bytes: usize,
    pub builder: &'a DocumentBuilder,
    /// Credential scrubbing, as the pipeline does it before building a document.
    pub scrubber: Option<&'a crate::scrub::Scrubber>,
    pub sinks: &'a Sinks,
    pub pipeline: &'a Pipeline,
}

/// How to replay (the command's flags; S3 Batch Operations use the defaults).
#[derive(Debug, Clone)]
pub struct Options {
    /// Read and classify, count, write nothing and move nothing.
    pub dry_run: bool,
    /// Stop after this many objects.
    pub limit: Option<usize>,
    /// Objects replayed at once.
    pub concurrency: usize,
    /// Skip keys up to and including this one.
    pub resume_after: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Only dead letters of this source.
    pub source: Option<String>,
    /// Run the alert rules on replayed dead-lettered input.
    pub alerts: bool,
    /// Delete a replayed dead letter instead of moving it under `replayed/`.
    pub delete_replayed: bool,
    /// A progress log line every this many objects (when stderr is not a terminal).
    pub progress_every: usize,
    /// Time given to the sinks for one object.
    pub object_deadline: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            dry_run: false,
            limit: None,
            concurrency: 4,
            resume_after: None,
            since: None,
            until: None,
            source: None,
            alerts: false,
            delete_replayed: false,
            progress_every: 1000,
            object_deadline: DEFAULT_OBJECT_TIMEOUT,
        }
    }
}

/// Replays objects into `targets` as `options` say.
pub struct Replayer<'a> {
    targets: Targets<'a>,
    options: Options,
}

impl<'a> Replayer<'a> {
    pub fn new(targets: Targets<'a>, options: Options) -> Self {
        Self { targets, options }
    }

    fn letter_cap(&self) -> usize {
        MIN_LETTER_BYTES.max(self.targets.max_decompressed_bytes.saturating_mul(2))
    }

    /// Replays every object of `locations`, `concurrency` at a time, reporting progress
    /// on stderr. Returns the summary.
    pub async fn run(&self, locations: &[Location]) -> Summary {
        let mut total = Summary::default();
        let progress = Progress::new(self.options.limit, self.options.progress_every);
        let mut left = self.options.limit.unwrap_or(usize::MAX);
        for location in locations {
            if left == 0 {
                break;
            }
            let taken = self
                .run_location(location, &mut total, &progress, left)
                .await;
            left = left.saturating_sub(taken);
        }
        progress.finish(&total);
        total
    }

    /// One location; returns how many objects were started.
    async fn run_location(
        &self,
        location: &Location,
        total: &mut Summary,
        progress: &Progress,
        limit: usize,
    ) -> usize {
        let store = location.store.as_ref();
        let after = self.options.resume_after.as_deref();
        let single = location.single.then_some(location.prefix.as_str());
        let mut keys = match single {
            Some(key) => futures::stream::iter([Ok(key.to_owned())]).boxed(),
            None => store.keys(&location.prefix, after),
        };
        let mut inflight = FuturesUnordered::new();
        // Keys started, in order, and whether each is finished: the front finished
        // ones are "done through" (what `--resume-after` takes).
        let mut order: VecDeque<(u64, String, bool)> = VecDeque::new();
        let mut seq = 0u64;
        let mut started = 0usize;
        // The last key up to which every started key is finished.
        let mut through: Option<String> = None;
        let mut listing = true;
        loop {
            while listing && inflight.len() < self.options.concurrency.max(1) && started < limit {
                match keys.next().await {
                    None => listing = false,
                    Some(Err(err)) => {
                        warn!(error = %err, "listing failed: the rest of this location is left for retry");
                        eprintln!("error: {err}");
                        total.retryable += 1;
                        listing = false;
                    }
                    Some(Ok(key)) => {
                        if !self.key_in_range(&key) {
                            total.skipped += 1;
                            continue;
                        }
                        started += 1;
                        seq += 1;
                        order.push_back((seq, key.clone(), false));
                        let n = seq;
                        inflight.push(async move {
                            let deadline = Deadline::after(self.options.object_deadline);
                            (n, self.replay_object(store, &key, deadline).await)
                        });
                    }
                }
            }
            let Some((n, outcome)) = inflight.next().await else {
                break;
            };
            if let Some(entry) = order.iter_mut().find(|(s, _, _)| *s == n) {
                entry.2 = true;
            }
            while order.front().is_some_and(|(_, _, done)| *done) {
                through = order.pop_front().map(|(_, key, _)| key);
            }
            *total += &outcome.summary;
            // The key itself (not its display form): what `--resume-after` takes.
            progress.object(total, through.as_deref());
        }
        started
    }

    /// `<prefix>-YYYY.MM.DD` of a document's `@timestamp`.
    fn index_of(&self, source: &str) -> Result<String, String> {
        let at = document_time(source)?;
        crate::timestamp::Rfc3339Millis::new(at)
            .map(|t| self.targets.builder.index_for(&t))
            .ok_or_else(|| format!("`@timestamp` {at} is out of range"))
    }

    /// Answers an S3 Batch Operations invocation: each task's object is replayed (the
    /// job's user arguments may turn alerts on or deletion of replayed letters), tasks
    /// left when the time is nearly up are answered `TemporaryFailure`.
    pub async fn batch(
        targets: Targets<'a>,
        s3: &aws_sdk_s3::Client,
        event: &BatchEvent,
        deadline: Deadline,
        margin: Duration,
    ) -> (BatchResponse, Summary) {
        let args = batch_operations::Options::of(&event.job);
        let replayer = Replayer::new(
            targets,
            Options {
                alerts: args.alerts,
                delete_replayed: args.delete_replayed,
                ..Options::default()
            },
        );
        let sink_deadline = Deadline::at(
            deadline
                .instant()
                .checked_sub(margin)
                .unwrap_or_else(|| deadline.instant()),
        );
        let mut total = Summary::default();
        let mut results = Vec::with_capacity(event.tasks.len());
        for task in &event.tasks {
            let result = match task.bucket() {
                _ if deadline.remaining() < margin => TaskResult {
                    task_id: task.task_id.clone(),
                    result_code: ResultCode::TemporaryFailure,
                    result_string: "the invocation ran out of time before this task".to_owned(),
                },
                None => TaskResult {
                    task_id: task.task_id.clone(),
                    result_code: ResultCode::PermanentFailure,
                    result_string: "the task names no bucket".to_owned(),
                },
                Some(bucket) => {
                    let store = source::S3Store::new(s3.clone(), bucket);
                    let outcome = replayer
                        .replay_object(&store, &task.key(), sink_deadline)
                        .await;
                    total += &outcome.summary;
                    outcome.task_result(&task.task_id)
                }
            };
            info!(task = %task.task_id, key = %task.key(), result = ?result.result_code, "s3 batch task");
            results.push(result);
        }
        (BatchResponse::new(event, results), total)
    }
}
