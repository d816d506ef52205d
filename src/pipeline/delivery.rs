//! Delivery: a source's documents to the index and the archive at once, their
//! per-document outcomes settled (dead letters, records left for retry), then the
//! alerts on what is done.

use std::collections::HashMap;

use tracing::{info, warn};

use crate::dead_letter::DeadLetter;
use crate::document::Document;
use crate::invocation::{Deadline, Invocation};
use crate::report::Counts;
use crate::sinks::{ItemOutcome, SinkName};

use super::{Pipeline, SAFETY_MARGIN};

impl Pipeline {
    /// Sends the batch's documents to the index and the archive and settles the
    /// outcomes. Returns the deadline the sinks worked to.
    ///
    /// A document whose id an earlier document of the batch has, with different content
    /// (two log events with the same owner, group, stream and event id), is not sent to
    /// the index, where the 409 of `create` would drop it silently: it is archived and
    /// dead-lettered (source `opensearch`) with [`DUPLICATE_ID`] as the reason.
    pub(super) async fn deliver(&self, batch: &mut Batch, inv: &Invocation) -> Deadline {
        let deadline = inv.deadline.earlier_by(SAFETY_MARGIN);
        let clashes = clashing_ids(&batch.docs);
        let index = async {
            let Some(clashes) = &clashes else {
                return self.sinks.index.index(&batch.docs, deadline).await;
            };
            let kept: Vec<Document> = batch
                .docs
                .iter()
                .zip(clashes)
                .filter(|(_, clash)| !**clash)
                .map(|(d, _)| d.clone())
                .collect();
            let mut outcomes = self.sinks.index.index(&kept, deadline).await.into_iter();
            clashes
                .iter()
                .map(|clash| {
                    if *clash {
                        ItemOutcome::Rejected {
                            reason: DUPLICATE_ID.to_owned(),
                        }
                    } else {
                        outcomes.next().unwrap_or(ItemOutcome::Retryable {
                            reason: "the index gave no outcome for this document".to_owned(),
                        })
                    }
                })
                .collect()
        };
        let (indexed, archived) =
            tokio::join!(index, self.sinks.archive.archive(&batch.docs, deadline),);
        self.settle(batch, indexed, SinkName::OpenSearch, inv).await;
        self.settle(batch, archived, SinkName::Firehose, inv).await;
        deadline
    }

    /// Slack alerts on the documents of the records that are done (records left for
    /// retry alert when they are handled). Best effort: never changes the response.
    pub(super) async fn alert(&self, batch: &mut Batch, deadline: Deadline) {
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
        sink: SinkName,
        inv: &Invocation,
    ) {
        let is_index = sink == SinkName::OpenSearch;
        for j in 0..batch.docs.len() {
            let record = batch.doc_record[j];
            let outcome = outcomes.get(j).cloned().unwrap_or(ItemOutcome::Retryable {
                reason: format!("{sink} gave no outcome for this document"),
            });
            match outcome {
                ItemOutcome::Delivered if is_index => batch.counts.indexed += 1,
                ItemOutcome::Delivered => batch.counts.archived += 1,
                ItemOutcome::SafeDelivered { reason } => {
                    info!(sink = sink.as_str(), id = %batch.docs[j].id, reason, "document stored in safe form");
                    batch.counts.indexed += 1;
                    batch.counts.safe_indexed += 1;
                }
                ItemOutcome::Retryable { reason } => {
                    warn!(sink = sink.as_str(), id = %batch.docs[j].id, reason, "document left for retry");
                    batch.fail(record);
                }
                ItemOutcome::Truncated { reason } => {
                    info!(sink = sink.as_str(), id = %batch.docs[j].id, reason, "document archived truncated");
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
        sink: SinkName,
        reason: String,
        inv: &Invocation,
    ) {
        let doc = &batch.docs[j];
        let letter = DeadLetter::from_bytes(
            sink.as_str(),
            reason,
            inv.received_at,
            doc.source.as_bytes(),
            Some(&doc.id),
        );
        let record = batch.doc_record[j];
        self.dead_letter(batch, record, &letter).await;
    }

    /// Keeps `letter`; if even that fails, the record is left for retry.
    pub(super) async fn dead_letter(&self, batch: &mut Batch, record: usize, letter: &DeadLetter) {
        match self.sinks.dead_letter.put(letter).await {
            Ok(()) => batch.counts.dead_lettered += 1,
            Err(err) => {
                warn!(record, error = %err, "dead letter failed: record left for retry");
                batch.fail(record);
            }
        }
    }
}

/// Why a document with the id of an earlier, different document of its batch is not
/// indexed.
pub(crate) const DUPLICATE_ID: &str = "duplicate id: an earlier log event of this batch with the same owner, log group, log stream and event id, but different content, is indexed under this id; this one is archived and kept here instead of being dropped by the index";

/// For each document, whether an earlier document of `docs` has its id with different
/// content; `None` when there is no such clash (nearly always). Identical repeats are
/// not clashes: the index keeps one, which is right.
fn clashing_ids(docs: &[Document]) -> Option<Vec<bool>> {
    let mut first: HashMap<&str, &str> = HashMap::with_capacity(docs.len());
    let mut clashes: Option<Vec<bool>> = None;
    for (j, doc) in docs.iter().enumerate() {
        match first.get(doc.id.as_str()) {
            Some(source) if *source != doc.source => {
                clashes.get_or_insert_with(|| vec![false; docs.len()])[j] = true;
            }
            Some(_) => {}
            None => {
                first.insert(&doc.id, &doc.source);
            }
        }
    }
    clashes
}

/// The documents of one Kinesis batch and which record each came from.
pub(super) struct Batch {
    pub(super) docs: Vec<Document>,
    pub(super) doc_record: Vec<usize>,
    /// The lowest record index not fully handled.
    first_failed: Option<usize>,
    pub(super) counts: Counts,
}

impl Batch {
    pub(super) fn new(records: usize) -> Self {
        Self {
            docs: Vec::with_capacity(records * 8),
            doc_record: Vec::with_capacity(records * 8),
            first_failed: None,
            counts: Counts::default(),
        }
    }

    pub(super) fn push(&mut self, doc: Document, record: usize) {
        self.docs.push(doc);
        self.doc_record.push(record);
        self.counts.documents += 1;
    }

    pub(super) fn fail(&mut self, record: usize) {
        self.first_failed = Some(self.first_failed.map_or(record, |f| f.min(record)));
    }

    pub(super) fn first_failed(&self) -> Option<usize> {
        self.first_failed
    }
}
