//! The one place that knows the order: event in → decode → document → sinks → report.
//!
//! The Lambda runtime and `csoc-forwarder process` both call [`Pipeline::handle`].

use std::borrow::Cow;
use std::time::Duration;

use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use chrono::{DateTime, Utc};
use tracing::{info, warn};

use aws_lambda_events::event::lambda_function_urls::LambdaFunctionUrlRequest;

use crate::alerts::Alerter;
use crate::audit::{self, Refusal};
use crate::dead_letter::DeadLetter;
use crate::decode::{Decoder, Envelope, LogEvent};
use crate::document::{Document, DocumentBuilder};
use crate::event::{self, EventBridgeEvent, EventError, Input, KinesisEvent};
use crate::report::{Counts, Report};
use crate::scrub::Scrubber;
use crate::sinks::{AlertSink, Deadline, ItemOutcome, Sinks};

/// Stop starting new work when less than this is left of the invocation, so the
/// function answers (with what is left for retry) instead of timing out mid-batch.
pub const SAFETY_MARGIN: Duration = Duration::from_secs(3);

/// One invocation's context.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// When the event was received; recorded in dead letters.
    pub received_at: DateTime<Utc>,
    /// When the answer is due.
    pub deadline: Deadline,
    /// Names the dead letter of an event that is not understood as a whole.
    pub source: String,
}

/// Everything that is built once per cold start.
pub struct Pipeline {
    max_decompressed_bytes: usize,
    builder: DocumentBuilder,
    sinks: Sinks,
    alerts: Alerter,
    scrubber: Option<Scrubber>,
}

impl Pipeline {
    pub fn new(max_decompressed_bytes: usize, builder: DocumentBuilder, sinks: Sinks) -> Self {
        Self {
            max_decompressed_bytes,
            builder,
            sinks,
            alerts: Alerter::default(),
            scrubber: Some(Scrubber::built_in()),
        }
    }

    /// Replaces credential scrubbing (default: the built-in patterns; `None`: off).
    pub fn with_scrubber(mut self, scrubber: Option<Scrubber>) -> Self {
        self.scrubber = scrubber;
        self
    }

    /// The log event with credentials redacted, counted in `counts`.
    fn scrub<'e>(&self, event: &'e LogEvent<'e>, counts: &mut Counts) -> Cow<'e, LogEvent<'e>> {
        match &self.scrubber {
            Some(s) => s.scrub_event(event, &mut counts.redacted),
            None => Cow::Borrowed(event),
        }
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

    /// Handles one event, whatever its kind. Never fails: what cannot be handled is
    /// dead-lettered, and what should be retried is in the response.
    pub async fn handle(&self, event: &[u8], inv: &Invocation) -> Report {
        match event::parse(event) {
            Ok(Input::Kinesis(kinesis)) => self.handle_kinesis(&kinesis, inv).await,
            Ok(Input::EventBridge(ev)) => self.handle_eventbridge(&ev, event, inv).await,
            Ok(Input::FunctionUrl(req)) => self.handle_audit(&req, event, inv).await,
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
            kind: err.kind().as_str(),
            counts,
            response: serde_json::json!({ "error": error }),
            error: Some(error),
        }
    }

    async fn handle_kinesis(&self, event: &KinesisEvent, inv: &Invocation) -> Report {
        let records = &event.records;
        let mut batch = Batch::new(records.len());
        let mut decoder = Decoder::new(self.max_decompressed_bytes);

        for (i, record) in records.iter().enumerate() {
            if inv.deadline.remaining() < SAFETY_MARGIN {
                warn!(
                    record = i,
                    "time is nearly up: the rest of the batch is left for retry"
                );
                batch.fail(i);
                break;
            }
            match decoder.decode(&record.kinesis.data) {
                Err(err) => {
                    let letter = DeadLetter::from_base64(
                        &record.source(),
                        format!("{} ({})", err, err.kind()),
                        inv.received_at,
                        record.kinesis.data.clone(),
                        Some(&record.event_id),
                    );
                    warn!(record = i, event_id = %record.event_id, error = %err, "record dead-lettered");
                    self.dead_letter(&mut batch, i, &letter).await;
                }
                Ok(env) if env.is_control_message() => batch.counts.control_messages += 1,
                Ok(env) => {
                    for log_event in &env.log_events {
                        batch.counts.log_events += 1;
                        let log_event = &*self.scrub(log_event, &mut batch.counts);
                        match self.builder.build(&env, log_event) {
                            Ok(doc) => batch.push(doc, i),
                            Err(err) => {
                                let single = Envelope {
                                    log_events: vec![log_event.clone()],
                                    ..env.clone()
                                };
                                let raw = serde_json::to_vec(&single).unwrap_or_default();
                                let letter = DeadLetter::from_bytes(
                                    &record.source(),
                                    err.to_string(),
                                    inv.received_at,
                                    &raw,
                                    Some(&log_event.id),
                                );
                                self.dead_letter(&mut batch, i, &letter).await;
                            }
                        }
                    }
                }
            }
        }

        let deadline = self.deliver(&mut batch, inv).await;
        self.alert(&mut batch, deadline).await;

        let first_failed = batch.first_failed();
        let mut response = KinesisEventResponse::default();
        if let Some(i) = first_failed {
            batch.counts.retryable_failures = records.len() - i;
            let mut failure = KinesisBatchItemFailure::default();
            failure.item_identifier = Some(records[i].kinesis.sequence_number.clone());
            response.batch_item_failures.push(failure);
        }
        batch.counts.records = records.len();
        info!(
            records = batch.counts.records,
            log_events = batch.counts.log_events,
            documents = batch.counts.documents,
            indexed = batch.counts.indexed,
            archived = batch.counts.archived,
            alerts = batch.counts.alerts,
            alert_failures = batch.counts.alert_failures,
            dead_lettered = batch.counts.dead_lettered,
            retryable_failures = batch.counts.retryable_failures,
            "kinesis batch handled"
        );
        Report {
            kind: "kinesis",
            counts: batch.counts,
            response: serde_json::to_value(&response).unwrap_or_default(),
            error: None,
        }
    }

    /// One EventBridge event (CloudTrail API call or console sign-in): one document,
    /// indexed and archived like a log event, then the alert rules. The response is a
    /// small summary; `retry` tells the Lambda glue to fail the invocation so that
    /// Lambda's asynchronous retries (then the failure queue) take over.
    async fn handle_eventbridge(
        &self,
        ev: &EventBridgeEvent,
        raw: &[u8],
        inv: &Invocation,
    ) -> Report {
        let env = match ev.to_envelope() {
            Ok(env) => env,
            Err(err) => return self.reject_event(raw, err, inv).await,
        };
        let mut batch = Batch::new(1);
        batch.counts.records = 1;
        batch.counts.log_events = 1;
        let log_event = self.scrub(&env.log_events[0], &mut batch.counts);
        match self.builder.build(&env, &log_event) {
            Ok(doc) => batch.push(doc, 0),
            Err(err) => {
                let letter = DeadLetter::from_bytes(
                    "eventbridge",
                    err.to_string(),
                    inv.received_at,
                    raw,
                    Some(&ev.id),
                );
                self.dead_letter(&mut batch, 0, &letter).await;
            }
        }
        let deadline = self.deliver(&mut batch, inv).await;
        self.alert(&mut batch, deadline).await;
        let retry = batch.first_failed().is_some();
        if retry {
            batch.counts.retryable_failures = 1;
        }
        let c = &batch.counts;
        info!(
            id = %ev.id,
            detail_type = %ev.detail_type,
            indexed = c.indexed,
            archived = c.archived,
            alerts = c.alerts,
            alert_failures = c.alert_failures,
            dead_lettered = c.dead_lettered,
            retry,
            "eventbridge event handled"
        );
        let response = serde_json::json!({
            "id": ev.id,
            "documents": c.documents,
            "indexed": c.indexed,
            "archived": c.archived,
            "alerts": c.alerts,
            "dead_lettered": c.dead_lettered,
            "retry": retry,
        });
        Report {
            kind: "event_bridge",
            counts: batch.counts,
            response,
            error: None,
        }
    }

    /// An audit-records request (function URL): every record becomes a document,
    /// indexed and archived like a log event; no alert rules apply. A refused request
    /// that carried a body is dead-lettered, with the node as its source, before it is
    /// answered; 503 only when the sinks still fail after their retries (or the body
    /// could not be kept), so the caller retries.
    async fn handle_audit(
        &self,
        req: &LambdaFunctionUrlRequest,
        raw: &[u8],
        inv: &Invocation,
    ) -> Report {
        let request = match audit::read(req, self.max_decompressed_bytes) {
            Ok(request) => request,
            Err(refusal) => return self.refuse_audit(req, refusal, raw, inv).await,
        };
        let caller = audit::Caller::of(req);
        let (node, post) = (&request.node, &request.post);
        let mut batch = Batch::new(1);
        batch.counts.records = 1;
        for record in &post.audit_records {
            batch.counts.log_events += 1;
            match audit::audit_document(&self.builder, node, &post.message_type, &caller, record) {
                Ok(doc) => batch.push(doc, 0),
                Err(err) => {
                    let refusal =
                        Refusal::bad_request(format!("trackingId {:?}: {err}", record.tracking_id))
                            .for_node(node);
                    return self.refuse_audit(req, refusal, raw, inv).await;
                }
            }
        }
        self.deliver(&mut batch, inv).await;
        let n = post.audit_records.len();
        let (status, body) = if batch.first_failed().is_some() {
            batch.counts.retryable_failures = 1;
            (
                audit::SERVICE_UNAVAILABLE,
                serde_json::json!({
                    "error": "the records could not be stored yet: retry the same request (no duplicates are created)"
                }),
            )
        } else {
            (
                audit::CREATED,
                serde_json::json!({
                    "commons": self.builder.commons(),
                    "messageType": post.message_type,
                    "node": node,
                    "recordsProcessed": n,
                }),
            )
        };
        let c = &batch.counts;
        info!(
            node = %node,
            message_type = %post.message_type,
            status,
            records = n,
            indexed = c.indexed,
            archived = c.archived,
            dead_lettered = c.dead_lettered,
            "audit records handled"
        );
        Report {
            kind: "function_url",
            counts: batch.counts,
            response: audit::response::response(status, &body),
            error: None,
        }
    }

    /// Answers a refused audit-records request; keeps its body first when it had one
    /// (the whole event, so it can be replayed with `csoc-forwarder process`).
    async fn refuse_audit(
        &self,
        req: &LambdaFunctionUrlRequest,
        refusal: Refusal,
        raw: &[u8],
        inv: &Invocation,
    ) -> Report {
        let mut counts = Counts {
            records: 1,
            ..Counts::default()
        };
        let node = refusal.node.as_deref().unwrap_or("");
        warn!(node, status = refusal.status, error = %refusal.error, "audit request refused");
        let mut status = refusal.status;
        let mut error = refusal.error.clone();
        if refusal.keeps_body() {
            let source = if node.is_empty() { "audit" } else { node };
            let letter = DeadLetter::from_bytes(
                source,
                refusal.error.clone(),
                inv.received_at,
                raw,
                req.request_context.request_id.as_deref(),
            );
            match self.sinks.dead_letter.put(&letter).await {
                Ok(()) => counts.dead_lettered = 1,
                Err(dl) => {
                    warn!(node, error = %dl, "refused audit request could not be kept");
                    status = audit::SERVICE_UNAVAILABLE;
                    error = format!("{error}; and the request could not be kept ({dl}): retry");
                    counts.retryable_failures = 1;
                }
            }
        }
        Report {
            kind: "function_url",
            counts,
            response: audit::response::error(status, &error),
            error: (status != audit::SERVICE_UNAVAILABLE).then_some(error),
        }
    }

    /// Sends the batch's documents to the index and the archive and settles the
    /// outcomes. Returns the deadline the sinks worked to.
    async fn deliver(&self, batch: &mut Batch, inv: &Invocation) -> Deadline {
        let deadline = Deadline::at(
            inv.deadline
                .instant()
                .checked_sub(SAFETY_MARGIN)
                .unwrap_or(inv.deadline.instant()),
        );
        let (indexed, archived) = tokio::join!(
            self.sinks.index.index(&batch.docs, deadline),
            self.sinks.archive.archive(&batch.docs, deadline),
        );
        self.settle(batch, indexed, "opensearch", inv).await;
        self.settle(batch, archived, "firehose", inv).await;
        deadline
    }

    /// Slack alerts on the documents of the records that are done (records left for
    /// retry alert when they are handled). Best effort: never changes the response.
    async fn alert(&self, batch: &mut Batch, deadline: Deadline) {
        let done = batch.first_failed().unwrap_or(usize::MAX);
        let docs = batch
            .docs
            .iter()
            .zip(&batch.doc_record)
            .filter(|(_, r)| **r < done)
            .map(|(d, _)| d);
        let delivery = self
            .alerts
            .run(docs, self.sinks.alerts.as_ref(), deadline)
            .await;
        batch.counts.alerts += delivery.sent;
        batch.counts.alert_failures += delivery.failed;
    }

    /// Applies one sink's per-document outcomes to the batch.
    async fn settle(
        &self,
        batch: &mut Batch,
        outcomes: Vec<ItemOutcome>,
        sink: &str,
        inv: &Invocation,
    ) {
        let is_index = sink == "opensearch";
        for j in 0..batch.docs.len() {
            let record = batch.doc_record[j];
            let outcome = outcomes.get(j).cloned().unwrap_or(ItemOutcome::Retryable {
                reason: format!("{sink} gave no outcome for this document"),
            });
            match outcome {
                ItemOutcome::Delivered if is_index => batch.counts.indexed += 1,
                ItemOutcome::Delivered => batch.counts.archived += 1,
                ItemOutcome::SafeDelivered { reason } => {
                    info!(sink, id = %batch.docs[j].id, reason, "document stored in safe form");
                    batch.counts.indexed += 1;
                    batch.counts.safe_indexed += 1;
                }
                ItemOutcome::Retryable { reason } => {
                    warn!(sink, id = %batch.docs[j].id, reason, "document left for retry");
                    batch.fail(record);
                }
                ItemOutcome::Truncated { reason } => {
                    info!(sink, id = %batch.docs[j].id, reason, "document archived truncated");
                    batch.counts.archived += 1;
                    self.dead_letter_document(batch, j, sink, reason, inv).await;
                }
                ItemOutcome::Rejected { reason } => {
                    self.dead_letter_document(batch, j, sink, reason, inv).await;
                }
            }
        }
    }

    /// Keeps document `j` whole in the dead letter, with why `sink` could not take it.
    async fn dead_letter_document(
        &self,
        batch: &mut Batch,
        j: usize,
        sink: &str,
        reason: String,
        inv: &Invocation,
    ) {
        let doc = &batch.docs[j];
        let letter = DeadLetter::from_bytes(
            sink,
            reason,
            inv.received_at,
            doc.source.as_bytes(),
            Some(&doc.id),
        );
        let record = batch.doc_record[j];
        self.dead_letter(batch, record, &letter).await;
    }

    /// Keeps `letter`; if even that fails, the record is left for retry.
    async fn dead_letter(&self, batch: &mut Batch, record: usize, letter: &DeadLetter) {
        match self.sinks.dead_letter.put(letter).await {
            Ok(()) => batch.counts.dead_lettered += 1,
            Err(err) => {
                warn!(record, error = %err, "dead letter failed: record left for retry");
                batch.fail(record);
            }
        }
    }
}

/// The documents of one Kinesis batch and which record each came from.
struct Batch {
    docs: Vec<Document>,
    doc_record: Vec<usize>,
    /// The lowest record index not fully handled.
    first_failed: Option<usize>,
    counts: Counts,
}

impl Batch {
    fn new(records: usize) -> Self {
        Self {
            docs: Vec::with_capacity(records * 8),
            doc_record: Vec::with_capacity(records * 8),
            first_failed: None,
            counts: Counts::default(),
        }
    }

    fn push(&mut self, doc: Document, record: usize) {
        self.docs.push(doc);
        self.doc_record.push(record);
        self.counts.documents += 1;
    }

    fn fail(&mut self, record: usize) {
        self.first_failed = Some(self.first_failed.map_or(record, |f| f.min(record)));
    }

    fn first_failed(&self) -> Option<usize> {
        self.first_failed
    }
}
