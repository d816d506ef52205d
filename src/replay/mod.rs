//! Replay and backfill: dead letters and archive objects back into the pipeline,
//! idempotently.
//!
//! [`source`] lists and streams objects (S3 or local), [`classify`] tells a dead letter
//! from an archive object by content and a dead letter's [`Route`], and this module
//! sends each item only to the sinks that missed it:
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

pub mod batch_operations;
pub mod classify;
pub mod source;

use std::collections::VecDeque;
use std::io::IsTerminal as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDate, TimeZone as _, Utc};
use futures::stream::{FuturesUnordered, StreamExt as _};
use serde::{Deserialize, Serialize};
use tracing::{info, warn};

use crate::dead_letter::DeadLetter;
use crate::decode::{self, Decoder, Envelope, GZIP_MAGIC};
use crate::document::{Document, DocumentBuilder};
use crate::event::{self, Input};
use crate::invocation::{Deadline, Invocation};
use crate::pipeline::Pipeline;
use crate::sinks::firehose::archive::{self, MAX_RECORD_BYTES, TRUNCATED_FIELD};
use crate::sinks::{ItemOutcome, Sinks};
use batch_operations::{BatchEvent, BatchResponse, ResultCode, TaskResult};
use classify::{Content, Line, Route};
use source::{Location, ObjectStore};

/// The longest archive line read (a Firehose record is at most 1000 KiB).
pub const MAX_LINE_BYTES: usize = MAX_RECORD_BYTES + 1024;
/// The least a dead letter may be (its raw data is base64: a third larger than the input).
pub const MIN_LETTER_BYTES: usize = 16 * 1024 * 1024;
/// Time the sinks get for one object by default: Lambda's longest timeout, as `process`.
pub const DEFAULT_OBJECT_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Archived documents sent to the index at a time.
const INDEX_BATCH_DOCS: usize = 500;
const INDEX_BATCH_BYTES: usize = 4 * 1024 * 1024;

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

/// What a replay did: the summary line's keys, exactly.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Objects read (a dead letter or an archive object each).
    pub objects: usize,
    /// Of those, dead letters.
    pub dead_letters: usize,
    /// Documents rebuilt from dead letters or read from archive objects.
    pub documents: usize,
    pub indexed: usize,
    pub archived: usize,
    /// Dead letters that still fail for good (left where they are) and archived
    /// documents the index refused for good.
    pub still_failing: usize,
    /// Objects and archived documents left out: filters, `replayed/`, content that is
    /// neither a dead letter nor an archive object, archived lines without an `_id`
    /// or truncated (the full document is in a `firehose` dead letter).
    pub skipped: usize,
    /// Dead letters and archive objects left for a later replay (retryable failures).
    pub retryable: usize,
}

impl std::ops::AddAssign<&Summary> for Summary {
    fn add_assign(&mut self, o: &Summary) {
        self.objects += o.objects;
        self.dead_letters += o.dead_letters;
        self.documents += o.documents;
        self.indexed += o.indexed;
        self.archived += o.archived;
        self.still_failing += o.still_failing;
        self.skipped += o.skipped;
        self.retryable += o.retryable;
    }
}

/// How one object ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Replayed (or nothing to do).
    Done,
    /// Left for a later try.
    Retryable(String),
    /// Fails for good (still bad, or not something replay reads).
    Permanent(String),
}

/// One object's counts and verdict.
#[derive(Debug, Clone)]
pub struct ObjectOutcome {
    pub summary: Summary,
    pub verdict: Verdict,
}

impl ObjectOutcome {
    fn new(summary: Summary, verdict: Verdict) -> Self {
        Self { summary, verdict }
    }

    /// The S3 Batch Operations result of this outcome.
    pub fn task_result(&self, task_id: &str) -> TaskResult {
        let s = &self.summary;
        let (code, text) = match &self.verdict {
            Verdict::Done => (
                ResultCode::Succeeded,
                format!(
                    "documents {}, indexed {}, archived {}",
                    s.documents, s.indexed, s.archived
                ),
            ),
            Verdict::Retryable(reason) => (ResultCode::TemporaryFailure, reason.clone()),
            Verdict::Permanent(reason) => (ResultCode::PermanentFailure, reason.clone()),
        };
        TaskResult {
            task_id: task_id.to_owned(),
            result_code: code,
            result_string: batch_operations::result_string(&text),
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

    /// Whether a key's date path (`…/YYYY/MM/DD[/HH]/…`) is within `--since/--until`;
    /// keys without one are read (their content's time decides).
    fn key_in_range(&self, key: &str) -> bool {
        match key_span(key) {
            Some((from, to)) => self.overlaps(from, to),
            None => true,
        }
    }

    fn overlaps(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
        self.options.since.is_none_or(|s| to > s) && self.options.until.is_none_or(|u| from < u)
    }

    fn time_in_range(&self, at: DateTime<Utc>) -> bool {
        self.options.since.is_none_or(|s| at >= s) && self.options.until.is_none_or(|u| at < u)
    }

    /// Replays one object, whatever it holds.
    pub async fn replay_object(
        &self,
        store: &dyn ObjectStore,
        key: &str,
        deadline: Deadline,
    ) -> ObjectOutcome {
        let shown = store.display(key);
        let mut reader = match source::open(store, key).await {
            Ok(reader) => reader,
            Err(err @ source::SourceError::Missing(_)) => {
                warn!(object = %shown, "object skipped: it does not exist");
                return ObjectOutcome::new(
                    Summary {
                        skipped: 1,
                        ..Summary::default()
                    },
                    Verdict::Permanent(err.to_string()),
                );
            }
            Err(err) => {
                warn!(object = %shown, error = %err, "object could not be read");
                return retry_object(err.to_string());
            }
        };
        let content = match classify::classify(&mut reader, MAX_LINE_BYTES, self.letter_cap()).await
        {
            Ok(content) => content,
            Err(err) => {
                warn!(object = %shown, error = %err, "object could not be read");
                return retry_object(format!("{shown}: {err}"));
            }
        };
        let dated = key_span(key).is_some();
        match content {
            Content::Empty => ObjectOutcome::new(
                Summary {
                    objects: 1,
                    ..Summary::default()
                },
                Verdict::Done,
            ),
            Content::Unknown(reason) => {
                warn!(object = %shown, reason, "object skipped");
                ObjectOutcome::new(
                    Summary {
                        objects: 1,
                        skipped: 1,
                        ..Summary::default()
                    },
                    Verdict::Permanent(format!("{shown}: {reason}")),
                )
            }
            Content::DeadLetter(letter) => {
                self.replay_letter(store, key, &letter, dated, deadline)
                    .await
            }
            Content::Archive { first_line } => {
                self.replay_archive(&shown, reader, first_line, dated, deadline)
                    .await
            }
        }
    }

    async fn replay_letter(
        &self,
        store: &dyn ObjectStore,
        key: &str,
        letter: &DeadLetter,
        dated: bool,
        deadline: Deadline,
    ) -> ObjectOutcome {
        let shown = store.display(key);
        let mut summary = Summary {
            objects: 1,
            dead_letters: 1,
            ..Summary::default()
        };
        let selected = self
            .options
            .source
            .as_ref()
            .is_none_or(|s| *s == letter.source)
            && (dated
                || DateTime::parse_from_rfc3339(&letter.received_at)
                    .map_or(true, |t| self.time_in_range(t.with_timezone(&Utc))));
        if !selected {
            summary.skipped = 1;
            return ObjectOutcome::new(summary, Verdict::Done);
        }
        let route = Route::of(letter);
        let docs = match route {
            Route::Index | Route::Archive => self.letter_document(letter).map(|d| vec![d]),
            Route::Pipeline => self.letter_documents(letter),
        };
        let docs = match docs {
            Ok(docs) => docs,
            Err(reason) => {
                info!(object = %shown, source = %letter.source, reason, "dead letter still fails: left where it is");
                summary.still_failing = 1;
                return ObjectOutcome::new(summary, Verdict::Permanent(reason));
            }
        };
        summary.documents = docs.len();
        if self.options.dry_run {
            return ObjectOutcome::new(summary, Verdict::Done);
        }
        let verdict = match route {
            Route::Index => {
                let outcomes = self.targets.sinks.index.index(&docs, deadline).await;
                one_sink(&mut summary, outcomes, true)
            }
            Route::Archive => {
                if docs
                    .iter()
                    .any(|d| archive::record_len(d) > MAX_RECORD_BYTES)
                {
                    Verdict::Permanent(format!(
                        "the document is still over the Firehose record limit of {MAX_RECORD_BYTES} bytes (its truncated form is archived)"
                    ))
                } else {
                    let outcomes = self.targets.sinks.archive.archive(&docs, deadline).await;
                    one_sink(&mut summary, outcomes, false)
                }
            }
            Route::Pipeline => {
                self.whole_pipeline(&mut summary, docs, letter, deadline)
                    .await
            }
        };
        match verdict {
            Verdict::Done => {
                let marked = if self.options.delete_replayed {
                    store.delete(key).await
                } else {
                    store.move_replayed(key).await
                };
                match marked {
                    Ok(()) => {
                        info!(object = %shown, source = %letter.source, documents = summary.documents, "dead letter replayed");
                        ObjectOutcome::new(summary, Verdict::Done)
                    }
                    Err(err) => {
                        warn!(object = %shown, error = %err, "dead letter replayed but could not be marked done");
                        summary.retryable = 1;
                        ObjectOutcome::new(
                            summary,
                            Verdict::Retryable(format!(
                                "replayed, but could not be marked done: {err}"
                            )),
                        )
                    }
                }
            }
            Verdict::Retryable(reason) => {
                warn!(object = %shown, reason, "dead letter left for retry");
                summary.retryable = 1;
                ObjectOutcome::new(summary, Verdict::Retryable(reason))
            }
            Verdict::Permanent(reason) => {
                info!(object = %shown, source = %letter.source, reason, "dead letter still fails: left where it is");
                summary.still_failing = 1;
                ObjectOutcome::new(summary, Verdict::Permanent(reason))
            }
        }
    }

    /// The documents of dead-lettered input through the pipeline's delivery again
    /// (index, archive, alerts when asked): a document one sink refuses for good gets a
    /// dead letter of its own (source `opensearch` or `firehose`), as `process` would
    /// have written, and the input's letter is done.
    async fn whole_pipeline(
        &self,
        summary: &mut Summary,
        docs: Vec<Document>,
        letter: &DeadLetter,
        deadline: Deadline,
    ) -> Verdict {
        let inv = Invocation {
            received_at: DateTime::parse_from_rfc3339(&letter.received_at)
                .map_or_else(|_| Utc::now(), |t| t.with_timezone(&Utc)),
            deadline,
            source: letter.source.clone(),
        };
        let (counts, retry) = self
            .targets
            .pipeline
            .redeliver(docs, &inv, self.options.alerts)
            .await;
        summary.indexed += counts.indexed;
        summary.archived += counts.archived;
        if retry {
            Verdict::Retryable(
                "a sink left documents for retry (or their dead letter failed)".to_owned(),
            )
        } else {
            Verdict::Done
        }
    }

    /// The one document an `opensearch` or `firehose` dead letter holds.
    fn letter_document(&self, letter: &DeadLetter) -> Result<Document, String> {
        let id = letter
            .event_id
            .clone()
            .filter(|id| !id.is_empty())
            .ok_or("the dead letter has no document id (`event_id`)")?;
        let bytes = STANDARD
            .decode(letter.raw.trim())
            .map_err(|e| format!("`raw` is not base64: {e}"))?;
        let source = String::from_utf8(bytes).map_err(|_| "the document is not UTF-8")?;
        let index = self.index_of(&source)?;
        Ok(Document::from_source(id, index, source))
    }

    /// `<prefix>-YYYY.MM.DD` of a document's `@timestamp`.
    fn index_of(&self, source: &str) -> Result<String, String> {
        let at = document_time(source)?;
        crate::timestamp::Rfc3339Millis::new(at)
            .map(|t| self.targets.builder.index_for(&t))
            .ok_or_else(|| format!("`@timestamp` {at} is out of range"))
    }

    /// The documents of dead-lettered input: a Kinesis record's data (gzip'd envelope),
    /// one log event's envelope (a document that could not be built), or a whole event
    /// (Kinesis, EventBridge, an audit-records request).
    fn letter_documents(&self, letter: &DeadLetter) -> Result<Vec<Document>, String> {
        let cap = self.targets.max_decompressed_bytes;
        let builder = self.targets.builder;
        let bytes = STANDARD
            .decode(letter.raw.trim())
            .map_err(|e| format!("`raw` is not base64: {e}"))?;
        if bytes.starts_with(&GZIP_MAGIC) {
            let mut plain = Vec::new();
            let text = decode::gunzip_capped(&bytes, cap, &mut plain)
                .map_err(|e| format!("{e} ({})", e.kind()))?;
            let env: Envelope<'_> = serde_json::from_str(text)
                .map_err(|e| decode::DecodeError::Envelope(e).to_string())?;
            return envelope_documents(builder, self.targets.scrubber, &env);
        }
        if bytes.len() > cap {
            return Err(format!("the input is over the cap of {cap} bytes"));
        }
        if let Ok(env) = serde_json::from_slice::<Envelope<'_>>(&bytes) {
            return envelope_documents(builder, self.targets.scrubber, &env);
        }
        match event::parse(&bytes).map_err(|e| e.to_string())? {
            Input::Kinesis(kinesis) => {
                let mut decoder = Decoder::new(cap);
                let mut docs = Vec::new();
                for record in &kinesis.records {
                    let env = decoder
                        .decode(&record.kinesis.data)
                        .map_err(|e| format!("record {}: {e} ({})", record.event_id, e.kind()))?;
                    docs.extend(envelope_documents(builder, self.targets.scrubber, &env)?);
                }
                Ok(docs)
            }
            Input::EventBridge(ev) => {
                let env = ev.to_envelope().map_err(|e| e.to_string())?;
                envelope_documents(builder, self.targets.scrubber, &env)
            }
            Input::FunctionUrl(req) => {
                let request = crate::audit::read(&req, cap).map_err(|r| r.error)?;
                let caller = crate::audit::Caller::of(&req);
                request
                    .post
                    .audit_records
                    .iter()
                    .map(|record| {
                        crate::audit::audit_document(
                            builder,
                            &request.node,
                            &request.post.message_type,
                            &caller,
                            record,
                        )
                        .map_err(|e| format!("trackingId {:?}: {e}", record.tracking_id))
                    })
                    .collect()
            }
            Input::S3Batch(_) => Err("an S3 Batch Operations event is not replayed".to_owned()),
        }
    }

    /// Re-indexes the documents of an archive object (never re-archives them).
    async fn replay_archive(
        &self,
        shown: &str,
        mut reader: source::ObjectReader,
        first_line: String,
        dated: bool,
        deadline: Deadline,
    ) -> ObjectOutcome {
        let mut summary = Summary {
            objects: 1,
            ..Summary::default()
        };
        if self.options.source.is_some() {
            // `--source` selects dead letters only.
            summary.skipped = 1;
            return ObjectOutcome::new(summary, Verdict::Done);
        }
        let mut batch: Vec<Document> = Vec::new();
        let mut batch_bytes = 0;
        let mut retry: Option<String> = None;
        let mut refused: Option<String> = None;
        let mut no_id = 0usize;
        let mut line = first_line.into_bytes();
        loop {
            if let Ok(text) = std::str::from_utf8(&line)
                && !text.trim().is_empty()
            {
                match archive::split_id(text) {
                    None => no_id += 1,
                    Some((id, source)) => match self.archived_document(id, source, dated) {
                        Ok(Some(doc)) => {
                            summary.documents += 1;
                            batch_bytes += doc.source.len();
                            batch.push(doc);
                        }
                        Ok(None) => summary.skipped += 1,
                        Err(reason) => {
                            summary.still_failing += 1;
                            refused.get_or_insert(reason);
                        }
                    },
                }
            } else if !line.trim_ascii().is_empty() {
                summary.still_failing += 1;
                refused.get_or_insert("a line is not UTF-8".to_owned());
            }
            if batch.len() >= INDEX_BATCH_DOCS || batch_bytes >= INDEX_BATCH_BYTES {
                self.index_archived(&mut summary, &batch, deadline, &mut retry, &mut refused)
                    .await;
                batch.clear();
                batch_bytes = 0;
            }
            match classify::read_line(&mut reader, &mut line, MAX_LINE_BYTES).await {
                Ok(Line::Read) => {}
                Ok(Line::TooLong) => {
                    summary.still_failing += 1;
                    refused.get_or_insert(format!("a line is over {MAX_LINE_BYTES} bytes"));
                    line.clear();
                }
                Ok(Line::Eof) => break,
                Err(err) => {
                    retry.get_or_insert(format!("{shown}: {err}"));
                    break;
                }
            }
        }
        self.index_archived(&mut summary, &batch, deadline, &mut retry, &mut refused)
            .await;
        if no_id > 0 {
            warn!(object = %shown, lines = no_id, "archived lines without an `_id` skipped (archived before ids were added)");
            summary.skipped += no_id;
        }
        let verdict = match (retry, refused) {
            (Some(reason), _) => {
                summary.retryable = 1;
                warn!(object = %shown, reason, "archive object left for retry");
                Verdict::Retryable(reason)
            }
            (None, Some(reason)) => {
                warn!(object = %shown, documents = summary.still_failing, reason, "archived documents refused for good");
                Verdict::Permanent(format!(
                    "{} archived document(s) refused for good; the first: {reason}",
                    summary.still_failing
                ))
            }
            (None, None) => Verdict::Done,
        };
        ObjectOutcome::new(summary, verdict)
    }

    /// One archived document, or `None` when it is left out (out of the time range,
    /// or archived truncated: its full original is a `firehose` dead letter).
    fn archived_document(
        &self,
        id: String,
        source: String,
        dated: bool,
    ) -> Result<Option<Document>, String> {
        if is_truncated(&source) {
            return Ok(None);
        }
        let at = document_time(&source)?;
        if !dated && !self.time_in_range(at) {
            return Ok(None);
        }
        let index = self.index_of(&source)?;
        Ok(Some(Document::from_source(id, index, source)))
    }

    async fn index_archived(
        &self,
        summary: &mut Summary,
        batch: &[Document],
        deadline: Deadline,
        retry: &mut Option<String>,
        refused: &mut Option<String>,
    ) {
        if batch.is_empty() || self.options.dry_run {
            return;
        }
        let outcomes = self.targets.sinks.index.index(batch, deadline).await;
        for (doc, outcome) in batch
            .iter()
            .zip(
                outcomes
                    .into_iter()
                    .chain(std::iter::repeat(ItemOutcome::Retryable {
                        reason: "the index gave no outcome".to_owned(),
                    })),
            )
        {
            match outcome {
                ItemOutcome::Delivered
                | ItemOutcome::SafeDelivered { .. }
                | ItemOutcome::Truncated { .. } => summary.indexed += 1,
                ItemOutcome::Retryable { reason } => {
                    retry.get_or_insert(reason);
                }
                ItemOutcome::Rejected { reason } => {
                    warn!(id = %doc.id, reason, "archived document refused by the index");
                    summary.still_failing += 1;
                    refused.get_or_insert(reason);
                }
            }
        }
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
                .unwrap_or(deadline.instant()),
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

fn retry_object(reason: String) -> ObjectOutcome {
    ObjectOutcome::new(
        Summary {
            objects: 1,
            retryable: 1,
            ..Summary::default()
        },
        Verdict::Retryable(reason),
    )
}

/// Settles a one-sink replay (`opensearch` or `firehose` dead letter).
fn one_sink(summary: &mut Summary, outcomes: Vec<ItemOutcome>, index: bool) -> Verdict {
    let outcome = outcomes
        .into_iter()
        .next()
        .unwrap_or(ItemOutcome::Retryable {
            reason: "the sink gave no outcome".to_owned(),
        });
    match outcome {
        ItemOutcome::Delivered | ItemOutcome::SafeDelivered { .. } => {
            if index {
                summary.indexed += 1;
            } else {
                summary.archived += 1;
            }
            Verdict::Done
        }
        ItemOutcome::Truncated { reason } | ItemOutcome::Rejected { reason } => {
            Verdict::Permanent(reason)
        }
        ItemOutcome::Retryable { reason } => Verdict::Retryable(reason),
    }
}

fn envelope_documents(
    builder: &DocumentBuilder,
    scrubber: Option<&crate::scrub::Scrubber>,
    env: &Envelope<'_>,
) -> Result<Vec<Document>, String> {
    if env.is_control_message() {
        return Ok(Vec::new());
    }
    // Redactions are not counted here: the replay summary has no per-pattern counts.
    let mut redactions = crate::scrub::Redactions::new();
    env.log_events
        .iter()
        .map(|ev| {
            let ev = match scrubber {
                Some(s) => s.scrub_event(ev, &mut redactions),
                None => std::borrow::Cow::Borrowed(ev),
            };
            builder
                .build(env, &ev)
                .map_err(|e| format!("log event {}: {e}", ev.id))
        })
        .collect()
}

#[derive(Deserialize)]
struct Head {
    #[serde(rename = "@timestamp")]
    at: Option<String>,
    #[serde(rename = "_archive_truncated")]
    truncated: Option<serde::de::IgnoredAny>,
}

/// A document's `@timestamp`.
fn document_time(source: &str) -> Result<DateTime<Utc>, String> {
    let head: Head =
        serde_json::from_str(source).map_err(|e| format!("the document is not JSON: {e}"))?;
    let at = head.at.ok_or("the document has no `@timestamp`")?;
    DateTime::parse_from_rfc3339(&at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`@timestamp` {at:?}: {e}"))
}

fn is_truncated(source: &str) -> bool {
    source.contains(TRUNCATED_FIELD)
        && serde_json::from_str::<Head>(source).is_ok_and(|h| h.truncated.is_some())
}

/// The time span of a key's date path: `YYYY/MM/DD/HH/` (Firehose's default prefix,
/// one hour) or `YYYY/MM/DD/` (dead letters, one day).
pub fn key_span(key: &str) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let parts: Vec<&str> = key.split('/').collect();
    let dirs = &parts[..parts.len().saturating_sub(1)];
    let num = |s: &str, len: usize| {
        (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
    };
    for i in 0..dirs.len().saturating_sub(2) {
        let (Some(y), Some(m), Some(d)) =
            (num(dirs[i], 4), num(dirs[i + 1], 2), num(dirs[i + 2], 2))
        else {
            continue;
        };
        let Some(day) = NaiveDate::from_ymd_opt(y as i32, m, d) else {
            continue;
        };
        let start = Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0)?);
        return Some(
            match dirs.get(i + 3).and_then(|h| num(h, 2)).filter(|h| *h < 24) {
                Some(h) => {
                    let from = start + chrono::Duration::hours(i64::from(h));
                    (from, from + chrono::Duration::hours(1))
                }
                None => (start, start + chrono::Duration::days(1)),
            },
        );
    }
    None
}

/// Parses `--since/--until`: RFC 3339, or a UTC date `YYYY-MM-DD` (its midnight).
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| Utc.from_utc_datetime(&t))
        .ok_or_else(|| format!("{text:?} is neither RFC 3339 nor YYYY-MM-DD"))
}

/// Progress on stderr: a bar when it is a terminal, else a log line every N objects.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    every: usize,
    started: Instant,
}

impl Progress {
    fn new(limit: Option<usize>, every: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match limit {
                Some(n) => (
                    indicatif::ProgressBar::new(n as u64),
                    "{spinner} {elapsed_precise} [{bar:30}] {pos}/{len} objects, {per_sec}, ETA {eta} | {msg}",
                ),
                None => (
                    indicatif::ProgressBar::new_spinner(),
                    "{spinner} {elapsed_precise} {pos} objects, {per_sec} | {msg}",
                ),
            };
            if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self {
            bar,
            every: every.max(1),
            started: Instant::now(),
        }
    }

    fn object(&self, total: &Summary, done_through: Option<&str>) {
        if let Some(bar) = &self.bar {
            bar.set_position(total.objects as u64);
            bar.set_message(format!(
                "{} documents, {} indexed, {} archived, {} still failing, {} retryable",
                total.documents,
                total.indexed,
                total.archived,
                total.still_failing,
                total.retryable
            ));
            return;
        }
        if total.objects > 0 && total.objects.is_multiple_of(self.every) {
            let secs = self.started.elapsed().as_secs_f64().max(1e-3);
            info!(
                objects = total.objects,
                documents = total.documents,
                indexed = total.indexed,
                archived = total.archived,
                still_failing = total.still_failing,
                skipped = total.skipped,
                retryable = total.retryable,
                objects_per_sec = format!("{:.1}", total.objects as f64 / secs),
                done_through = done_through.unwrap_or(""),
                "replay progress"
            );
        }
    }

    fn finish(&self, total: &Summary) {
        match &self.bar {
            Some(bar) => bar.finish(),
            None => info!(
                objects = total.objects,
                documents = total.documents,
                seconds = format!("{:.1}", self.started.elapsed().as_secs_f64()),
                "replay finished"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_date_paths() {
        let t = |s: &str| parse_time(s).expect("time");
        assert_eq!(
            key_span("dead-letter/kinesis-s/2026/01/02/x.json"),
            Some((t("2026-01-02"), t("2026-01-03")))
        );
        assert_eq!(
            key_span("prefix/2026/01/02/07/stream-1-2026-01-02-07-00-00-abc.gz"),
            Some((t("2026-01-02T07:00:00Z"), t("2026-01-02T08:00:00Z")))
        );
        assert_eq!(key_span("kinesis-s-20260102T030405.678Z-id.json"), None);
        assert_eq!(key_span("2026/13/02/x"), None);
        assert!(parse_time("yesterday").is_err());
    }

    #[test]
    fn replayed_log_events_are_scrubbed_as_the_pipeline_scrubs_them() {
        use std::borrow::Cow;
        let env = Envelope {
            message_type: Cow::Borrowed("DATA_MESSAGE"),
            owner: Cow::Borrowed("123456789012"),
            log_group: Cow::Borrowed("g"),
            log_stream: Cow::Borrowed("s"),
            subscription_filters: vec![],
            log_events: vec![crate::decode::LogEvent {
                id: Cow::Borrowed("1"),
                timestamp: 1_520_520_148_130,
                message: Cow::Borrowed(r#"{"http_request":"/a?token=SECRET1&b=2"}"#),
            }],
        };
        let builder = DocumentBuilder::new("c", "csoc-logs", crate::document::Limits::default());
        let scrubber = crate::scrub::Scrubber::built_in();
        let docs = envelope_documents(&builder, Some(&scrubber), &env).expect("documents");
        assert!(
            docs[0].source.contains("/a?token=REDACTED&b=2"),
            "{}",
            docs[0].source
        );
        let plain = envelope_documents(&builder, None, &env).expect("documents");
        assert!(plain[0].source.contains("SECRET1"));
        assert_eq!(docs[0].id, plain[0].id, "the same id either way");
    }
}
