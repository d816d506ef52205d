//! Delivery as a stream: documents wait in a [`Batch`] until they reach the byte budget
//! (`DELIVERY_CHUNK_BYTES`), then the chunk goes to the index and the archive at once,
//! its per-document outcomes are settled (dead letters, records left for retry) and its
//! documents are freed before more are built. Alerting keeps only small candidates of
//! the delivered documents and runs once the records that are done are known.

use std::collections::HashMap;
use std::hash::BuildHasher as _;
use std::time::{Duration, Instant};

use foldhash::quality::RandomState;
use tracing::{info, warn};

use crate::alerts::Candidate;
use crate::dead_letter::DeadLetter;
use crate::document::Document;
use crate::invocation::{Deadline, Invocation};
use crate::report::Counts;
use crate::sinks::{ItemOutcome, SinkName};

use super::{Pipeline, SAFETY_MARGIN};

/// Alert candidates one batch keeps at most; past this they are counted and dropped
/// (alerts then understate a burst). A candidate is a few hundred bytes.
pub(super) const MAX_ALERT_CANDIDATES: usize = 10_000;

/// Distinct document ids one batch remembers to find clashing ones: about 3 MB.
const MAX_TRACKED_IDS: usize = 100_000;

/// Time left for the dead letter after the sinks' deadline, so the answer still comes
/// before the invocation's deadline.
const DEAD_LETTER_MARGIN: Duration = Duration::from_millis(500);

/// A dead letter is always given this long, however close the deadline.
const MIN_DEAD_LETTER_TIME: Duration = Duration::from_millis(250);

/// When the sinks must be done with `inv`: [`SAFETY_MARGIN`] before its deadline, so
/// the function answers (with what is left for retry) instead of timing out.
pub(super) fn answer_by(inv: &Invocation) -> Deadline {
    inv.deadline.earlier_by(SAFETY_MARGIN)
}

/// One source's documents on their way to the sinks, and what became of them.
pub(super) struct Batch {
    /// Documents not delivered yet (the chunk), and the record each came from.
    docs: Vec<Document>,
    doc_record: Vec<usize>,
    /// Bytes held by `docs` (sources, ids, index names).
    bytes: usize,
    /// The lowest record index not fully handled.
    first_failed: Option<usize>,
    pub(super) counts: Counts,
    /// What alerting keeps of delivered documents, with their records; `None`: no
    /// alerts for this source.
    candidates: Option<Vec<(usize, Candidate)>>,
    dropped_candidates: usize,
    /// A hash of each id indexed so far in this batch and a hash of its content, to find
    /// a later document with the same id but other content (at most
    /// [`MAX_TRACKED_IDS`]).
    indexed_ids: HashMap<u64, u64, RandomState>,
    /// Seeded per batch; foldhash, not SipHash: every document's whole JSON goes through
    /// it.
    hasher: RandomState,
}

impl Batch {
    /// `alerts`: whether the documents are checked by the alert rules.
    pub(super) fn new(alerts: bool) -> Self {
        Self {
            docs: Vec::new(),
            doc_record: Vec::new(),
            bytes: 0,
            first_failed: None,
            counts: Counts::default(),
            candidates: alerts.then(Vec::new),
            dropped_candidates: 0,
            indexed_ids: HashMap::default(),
            hasher: RandomState::default(),
        }
    }

    pub(super) fn push(&mut self, doc: Document, record: usize) {
        self.bytes += doc_bytes(&doc);
        self.docs.push(doc);
        self.doc_record.push(record);
        self.counts.documents += 1;
    }

    /// Bytes of documents waiting for delivery.
    pub(super) fn pending_bytes(&self) -> usize {
        self.bytes
    }

    /// Forgets the documents of `record` and later not delivered yet: the record was
    /// abandoned (left for retry or dead-lettered whole), so they are sent again when
    /// it is handled.
    pub(super) fn drop_from(&mut self, record: usize) {
        let keep = self.doc_record.partition_point(|r| *r < record);
        for doc in self.docs.drain(keep..) {
            self.bytes -= doc_bytes(&doc);
            // Counted again when the record is handled.
            self.counts.documents -= 1;
            self.counts.log_events -= 1;
        }
        self.doc_record.truncate(keep);
    }

    pub(super) fn fail(&mut self, record: usize) {
        self.first_failed = Some(self.first_failed.map_or(record, |f| f.min(record)));
    }

    pub(super) fn first_failed(&self) -> Option<usize> {
        self.first_failed
    }

    /// For each waiting document, whether an earlier document of the batch (in this
    /// chunk or an earlier one) has its id with different content; `None` when there is
    /// no such clash (nearly always). Identical repeats are not clashes: the index keeps
    /// one, which is right. Memory stays bounded: past [`MAX_TRACKED_IDS`] distinct ids,
    /// new ones are not remembered (a clash with them goes unnoticed).
    fn clashing_ids(&mut self) -> Option<Vec<bool>> {
        let mut clashes: Option<Vec<bool>> = None;
        for (j, doc) in self.docs.iter().enumerate() {
            let key = self.hasher.hash_one(&doc.id);
            let content = self.hasher.hash_one((&doc.id, &doc.source));
            match self.indexed_ids.get(&key) {
                Some(seen) if *seen != content => {
                    clashes.get_or_insert_with(|| vec![false; self.docs.len()])[j] = true;
                }
                Some(_) => {}
                None if self.indexed_ids.len() < MAX_TRACKED_IDS => {
                    self.indexed_ids.insert(key, content);
                }
                None => {}
            }
        }
        clashes
    }
}

/// Why a document with the id of an earlier, different document of its batch is not
/// indexed.
pub(crate) const DUPLICATE_ID: &str = "duplicate id: an earlier log event of this batch with the same owner, log group, log stream and event id, but different content, is indexed under this id; this one is archived and kept here instead of being dropped by the index";

/// What a waiting document costs in memory: its JSON, id and index, and the document
/// itself (its header included), so the budget holds for many small documents too.
fn doc_bytes(doc: &Document) -> usize {
    std::mem::size_of::<Document>() + doc.source.len() + doc.id.len() + doc.index.len()
}

impl Pipeline {
    /// Delivers the documents waiting in `batch` to the index and the archive at once,
    /// settles their outcomes, keeps their alert candidates and frees them. Returns how
    /// long it took.
    pub(super) async fn flush(&self, batch: &mut Batch, inv: &Invocation) -> Duration {
        let started = Instant::now();
        if batch.docs.is_empty() {
            return started.elapsed();
        }
        let deadline = answer_by(inv);
        // A document whose id an earlier document of the batch has, with different
        // content (two log events with the same owner, group, stream and event id), is
        // not sent to the index, where the 409 of `create` would drop it silently: it is
        // archived and dead-lettered (source `opensearch`) with [`DUPLICATE_ID`].
        let clashes = batch.clashing_ids();
        let docs = &batch.docs;
        let index = async {
            let Some(clashes) = &clashes else {
                return self.sinks.index.index(docs, deadline).await;
            };
            let kept: Vec<Document> = docs
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
                        outcomes.next().unwrap_or_else(|| ItemOutcome::Retryable {
                            reason: "the index gave no outcome for this document".to_owned(),
                        })
                    }
                })
                .collect()
        };
        let (indexed, archived) = tokio::join!(index, self.sinks.archive.archive(docs, deadline));
        self.settle(batch, indexed, SinkName::OpenSearch, inv).await;
        self.settle(batch, archived, SinkName::Firehose, inv).await;
        if let Some(candidates) = &mut batch.candidates {
            for (doc, &record) in batch.docs.iter().zip(&batch.doc_record) {
                let Some(candidate) = self.alerts.candidate(doc) else {
                    continue;
                };
                if candidates.len() < MAX_ALERT_CANDIDATES {
                    candidates.push((record, candidate));
                } else {
                    batch.dropped_candidates += 1;
                }
            }
        }
        batch.docs.clear();
        batch.doc_record.clear();
        batch.bytes = 0;
        started.elapsed()
    }

    /// Delivers the documents rebuilt from one dead-lettered input (`csoc-forwarder
    /// replay`): to the index and the archive, settled as for any source (a document a
    /// sink refuses for good gets a dead letter of its own), then the alerts when
    /// `alerts`. The counts, and whether something is left for retry.
    pub async fn redeliver(
        &self,
        docs: Vec<Document>,
        inv: &Invocation,
        alerts: bool,
    ) -> (Counts, bool) {
        let mut batch = Batch::new(alerts);
        for doc in docs {
            batch.push(doc, 0);
        }
        self.flush(&mut batch, inv).await;
        if alerts && batch.first_failed().is_none() {
            self.alert(&mut batch, inv).await;
        }
        let retry = batch.first_failed().is_some();
        (batch.counts, retry)
    }

    /// Slack alerts on the documents of the records that are done (records left for
    /// retry alert when they are handled). Best effort: never changes the response.
    pub(super) async fn alert(&self, batch: &mut Batch, inv: &Invocation) {
        let Some(candidates) = &batch.candidates else {
            return;
        };
        if batch.dropped_candidates > 0 {
            warn!(
                dropped = batch.dropped_candidates,
                kept = MAX_ALERT_CANDIDATES,
                "too many alert candidates in one batch: the rest are not alerted on"
            );
        }
        let done = batch.first_failed().unwrap_or(usize::MAX);
        let delivery = self
            .alerts
            .run_candidates(
                candidates
                    .iter()
                    .filter(|(record, _)| *record < done)
                    .map(|(_, c)| c),
                self.sinks.alerts.as_ref(),
                answer_by(inv),
            )
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
        for (j, outcome) in outcomes
            .into_iter()
            .map(Some)
            .chain(std::iter::repeat(None))
            .take(batch.docs.len())
            .enumerate()
        {
            let record = batch.doc_record[j];
            // Built only for a document the sink gave no outcome for.
            let outcome = outcome.unwrap_or_else(|| ItemOutcome::Retryable {
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
        self.dead_letter(batch, record, &letter, inv).await;
    }

    /// Keeps `letter`; if even that fails (or cannot finish before the answer is due),
    /// the record is left for retry.
    pub(super) async fn dead_letter(
        &self,
        batch: &mut Batch,
        record: usize,
        letter: &DeadLetter,
        inv: &Invocation,
    ) {
        let time = inv
            .deadline
            .earlier_by(DEAD_LETTER_MARGIN)
            .remaining()
            .max(MIN_DEAD_LETTER_TIME);
        match tokio::time::timeout(time, self.sinks.dead_letter.put(letter)).await {
            Ok(Ok(())) => batch.counts.dead_lettered += 1,
            Ok(Err(err)) => {
                warn!(record, error = %err, "dead letter failed: record left for retry");
                batch.fail(record);
            }
            Err(_) => {
                warn!(
                    record,
                    "dead letter did not finish before the answer was due: record left for retry"
                );
                batch.fail(record);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chunk_budget_counts_each_document_in_memory_not_only_its_json() {
        let mut batch = Batch::new(false);
        for i in 0..1000 {
            batch.push(
                Document::from_source(format!("id{i}"), "i".to_owned(), "{}".to_owned()),
                0,
            );
        }
        // Many tiny documents: their JSON is 2 bytes each, their memory is not.
        assert!(
            batch.pending_bytes() >= 1000 * (std::mem::size_of::<Document>() + 2),
            "{}",
            batch.pending_bytes()
        );
    }
}
