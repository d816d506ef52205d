//! The one place that knows the order: event in → decode → document → sinks → report.
//!
//! The Lambda runtime, `csoc-forwarder process` and `serve` all call [`Pipeline::handle`],
//! which dispatches by event kind to one file per source:
//! - [`kinesis`]: a batch of CloudWatch Logs subscription records;
//! - [`eventbridge`]: one CloudTrail event from EventBridge;
//! - [`function_url`]: an audit-records request;
//! - [`s3_batch`]: S3 Batch Operations tasks, each an object to replay ([`crate::replay`]).
//!
//! [`delivery`] sends a source's documents to the index and the archive, settles the
//! per-document outcomes (dead letters, retries) and runs the alerts.

mod delivery;
mod eventbridge;
mod function_url;
mod kinesis;
mod pace;
mod s3_batch;

use std::borrow::Cow;
use std::sync::Mutex;
use std::time::Duration;

use tracing::warn;

use self::pace::Pace;
use crate::alerts::Alerter;
use crate::config::DEFAULT_DELIVERY_CHUNK_BYTES;
use crate::dead_letter::DeadLetter;
use crate::decode::LogEvent;
use crate::document::DocumentBuilder;
use crate::event::{self, EventError, Input};
use crate::invocation::Invocation;
use crate::report::{Counts, Report};
use crate::scrub::Scrubber;
use crate::sinks::{AlertSink, Sinks};

/// The sinks stop this long before the invocation's deadline, so the function answers
/// (with what is left for retry) instead of timing out mid-batch.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(3);

/// Everything that is built once per cold start.
pub struct Pipeline {
    max_decompressed_bytes: usize,
    builder: DocumentBuilder,
    sinks: Sinks,
    alerts: Alerter,
    /// Bytes of documents delivered at once (`DELIVERY_CHUNK_BYTES`).
    chunk_bytes: usize,
    /// How long records and deliveries take; learnt across invocations.
    pace: Mutex<Pace>,
    scrubber: Option<Scrubber>,
    /// The S3 client S3 Batch Operations tasks are read with, built on first use.
    s3: tokio::sync::OnceCell<aws_sdk_s3::Client>,
}

impl Pipeline {
    /// With the built-in alert rules and credential patterns.
    pub fn new(max_decompressed_bytes: usize, builder: DocumentBuilder, sinks: Sinks) -> Self {
        Self::with_parts(
            max_decompressed_bytes,
            builder,
            sinks,
            Alerter::default(),
            Some(Scrubber::built_in()),
        )
    }

    /// [`Pipeline::new`] with these alerts and this scrubbing (`None`: off), the defaults
    /// not built first (they compile the built-in rules and patterns: start-up work that
    /// [`Pipeline::with_alerts`] and [`Pipeline::with_scrubber`] would throw away).
    pub fn with_parts(
        max_decompressed_bytes: usize,
        builder: DocumentBuilder,
        sinks: Sinks,
        alerts: Alerter,
        scrubber: Option<Scrubber>,
    ) -> Self {
        Self {
            max_decompressed_bytes,
            builder,
            sinks,
            alerts,
            chunk_bytes: DEFAULT_DELIVERY_CHUNK_BYTES,
            pace: Mutex::new(Pace::default()),
            scrubber,
            s3: tokio::sync::OnceCell::new(),
        }
    }

    /// Replaces credential scrubbing (default: the built-in patterns; `None`: off).
    pub fn with_scrubber(mut self, scrubber: Option<Scrubber>) -> Self {
        self.scrubber = scrubber;
        self
    }

    /// The log event with credentials redacted (before its document is built), counted
    /// in `counts`.
    fn scrub<'e>(&self, event: &'e LogEvent<'e>, counts: &mut Counts) -> Cow<'e, LogEvent<'e>> {
        match &self.scrubber {
            Some(s) => s.scrub_event(event, &mut counts.redacted),
            None => Cow::Borrowed(event),
        }
    }

    /// Uses `client` for the objects of S3 Batch Operations tasks (default: one built
    /// from the shared AWS configuration on the first such event).
    pub fn with_s3_client(self, client: aws_sdk_s3::Client) -> Self {
        let _ = self.s3.set(client);
        self
    }

    /// What `csoc-forwarder replay` writes to: this pipeline's builder and sinks.
    pub fn replay_targets(&self) -> crate::replay::Targets<'_> {
        crate::replay::Targets {
            max_decompressed_bytes: self.max_decompressed_bytes,
            builder: &self.builder,
            scrubber: self.scrubber.as_ref(),
            sinks: &self.sinks,
            pipeline: self,
        }
    }

    /// Replaces the delivery chunk size (default `DELIVERY_CHUNK_BYTES`' default).
    pub fn with_chunk_bytes(mut self, bytes: usize) -> Self {
        self.chunk_bytes = bytes.max(1);
        self
    }

    /// Replaces the alerting configuration (default: the default rules, no slow check).
    pub fn with_alerts(mut self, alerts: Alerter) -> Self {
        self.alerts = alerts;
        self
    }

    /// Replaces where alert payloads go (e.g. the Slack webhook).
    pub fn with_alert_sink(mut self, sink: Box<dyn AlertSink>) -> Self {
        self.sinks.alerts = sink;
        self
    }

    /// Whether the index sink answers at all within `timeout` (see
    /// [`crate::sinks::IndexSink::reachable`]).
    pub async fn index_reachable(&self, timeout: Duration) -> Result<(), String> {
        self.sinks.index.reachable(timeout).await
    }

    /// Handles one event, whatever its kind. Never fails: what cannot be handled is
    /// dead-lettered, and what should be retried is in the response.
    pub async fn handle(&self, event: &[u8], inv: &Invocation) -> Report {
        match event::parse(event) {
            Ok(Input::Kinesis(kinesis)) => self.handle_kinesis(&kinesis, inv).await,
            Ok(Input::EventBridge(ev)) => self.handle_eventbridge(&ev, event, inv).await,
            Ok(Input::FunctionUrl(req)) => self.handle_audit(&req, event, inv).await,
            Ok(Input::S3Batch(batch)) => self.handle_s3_batch(&batch, inv).await,
            Err(err) => self.reject_event(event, err, inv).await,
        }
    }

    /// The whole event is not understood: keep it in the dead letter, answer with the error.
    async fn reject_event(&self, event: &[u8], err: EventError, inv: &Invocation) -> Report {
        warn!(source = %inv.source, error = %err, "event dead-lettered");
        let letter =
            DeadLetter::from_bytes(&inv.source, err.to_string(), inv.received_at, event, None);
        let mut counts = Counts::default();
        let error = match self.sinks.dead_letter.put(&letter).await {
            Ok(()) => {
                counts.dead_lettered = 1;
                err.to_string()
            }
            Err(dl) => format!("{err}; and the dead letter failed: {dl}"),
        };
        Report {
            kind: err.kind(),
            counts,
            response: serde_json::json!({ "error": error }),
            error: Some(error),
        }
    }
}
