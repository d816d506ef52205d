//! One dead letter: its documents rebuilt and sent only to the sinks that missed them
//! (the index, the archive, or the whole pipeline again), then marked replayed (moved
//! under `replayed/` or deleted); a letter that still fails stays where it is.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use tracing::{info, warn};

use super::classify::Route;
use super::source::ObjectStore;
use super::{ObjectOutcome, Replayer, Summary, Verdict};
use crate::dead_letter::DeadLetter;
use crate::decode::{self, Decoder, Envelope, GZIP_MAGIC};
use crate::document::{Document, DocumentBuilder};
use crate::event::{self, Input};
use crate::invocation::{Deadline, Invocation};
use crate::sinks::ItemOutcome;
use crate::sinks::firehose::archive::{self, MAX_RECORD_BYTES};

impl Replayer<'_> {
    pub(super) async fn replay_letter(
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
        if !self.letter_selected(letter, dated) {
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
}

/// Settles a one-sink replay (`opensearch` or `firehose` dead letter).
fn one_sink(summary: &mut Summary, outcomes: Vec<ItemOutcome>, index: bool) -> Verdict {
    let outcome = outcomes
        .into_iter()
        .next()
        .unwrap_or_else(|| ItemOutcome::Retryable {
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
    let documents = builder.envelope(env);
    env.log_events
        .iter()
        .map(|ev| {
            let ev = match scrubber {
                Some(s) => s.scrub_event(ev, &mut redactions),
                None => std::borrow::Cow::Borrowed(ev),
            };
            documents
                .build(&ev)
                .map_err(|e| format!("log event {}: {e}", ev.id))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
