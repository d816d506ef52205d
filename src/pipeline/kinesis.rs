//! A Kinesis batch of CloudWatch Logs subscription records, streamed: each record is
//! decoded and its documents built into the delivery chunk, which goes to the sinks
//! whenever it reaches the byte budget; the answer names the first record left for retry
//! (`batchItemFailures`).
//!
//! Progress is guaranteed: a record is only started when the time it takes to decode,
//! build and deliver it ([`super::pace`]) is left before the answer is due; records after
//! one left for retry are not started (they are retried with it); and a first record
//! that runs out of the whole invocation's time while the sinks keep up is dead-lettered
//! with the reason instead of being retried forever.

use std::time::{Duration, Instant};

use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use tracing::{info, warn};

use crate::dead_letter::DeadLetter;
use crate::decode::{Decoder, Envelope};
use crate::event::{EventKind, KinesisEvent, KinesisRecord};
use crate::invocation::Invocation;
use crate::report::Report;

use super::Pipeline;
use super::delivery::{Batch, answer_by};

impl Pipeline {
    pub(super) async fn handle_kinesis(&self, event: &KinesisEvent, inv: &Invocation) -> Report {
        let records = &event.records;
        let mut batch = Batch::new(true);
        let mut decoder = Decoder::new(self.max_decompressed_bytes);
        let answer_by = answer_by(inv);
        let mut pace = *self.pace.lock().unwrap_or_else(|e| e.into_inner());
        // The first record is always started and given at least half the time, whatever
        // the estimates say (they may remember a slow spell of the sinks).
        let first_record_reserve = answer_by.remaining() / 2;

        'records: for (i, record) in records.iter().enumerate() {
            if let Some(failed) = batch.first_failed() {
                // The response retries from `failed`: later records would be done twice.
                info!(
                    record = i,
                    failed, "a record is left for retry: the rest of the batch goes with it"
                );
                break;
            }
            if batch.pending_bytes() > 0 && answer_by.remaining() < pace.next_record() + pace.flush
            {
                // Not enough time to deliver what waits together with another record:
                // settle the records built so far first (a record boundary).
                pace.observe_flush(self.flush(&mut batch, inv).await);
                if batch.first_failed().is_some() {
                    break;
                }
            }
            if i > 0 && answer_by.remaining() < pace.next_record() {
                warn!(
                    record = i,
                    remaining_ms = answer_by.remaining().as_millis() as u64,
                    reserve_ms = pace.next_record().as_millis() as u64,
                    "no time to handle another record: the rest of the batch is left for retry"
                );
                batch.fail(i);
                break;
            }
            let started = Instant::now();
            let mut flushing = Duration::ZERO;
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
                    self.dead_letter(&mut batch, i, &letter, inv).await;
                }
                Ok(env) if env.is_control_message() => batch.counts.control_messages += 1,
                Ok(env) => {
                    let documents = self.builder.envelope(&env);
                    for log_event in &env.log_events {
                        let reserve = if i == 0 {
                            pace.flush.min(first_record_reserve)
                        } else {
                            pace.flush
                        };
                        if answer_by.remaining() < reserve {
                            // Out of time inside the record: what is built of it is
                            // dropped, and the record retried or (the first) dead-lettered.
                            batch.drop_from(i);
                            self.out_of_time(&mut batch, i, record, inv).await;
                            break 'records;
                        }
                        batch.counts.log_events += 1;
                        let log_event = &*self.scrub(log_event, &mut batch.counts);
                        match documents.build(log_event) {
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
                                self.dead_letter(&mut batch, i, &letter, inv).await;
                            }
                        }
                        if batch.pending_bytes() >= self.chunk_bytes {
                            let took = self.flush(&mut batch, inv).await;
                            pace.observe_flush(took);
                            flushing += took;
                        }
                    }
                }
            }
            pace.observe_record(started.elapsed().saturating_sub(flushing));
        }
        if batch.pending_bytes() > 0 {
            let took = self.flush(&mut batch, inv).await;
            pace.observe_flush(took);
        }
        *self.pace.lock().unwrap_or_else(|e| e.into_inner()) = pace;
        self.alert(&mut batch, inv).await;

        // A dead-lettered last record may mark the (absent) record after it.
        let first_failed = batch.first_failed().filter(|i| *i < records.len());
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
            kind: EventKind::Kinesis,
            counts: batch.counts,
            response: serde_json::to_value(&response).unwrap_or_default(),
            error: None,
        }
    }

    /// Record `i` could not be finished before the answer is due. The first record of
    /// the batch had the whole invocation: if the sinks kept up, it cannot be handled in
    /// any invocation, so it is dead-lettered with the reason instead of retried forever.
    /// Any other record is left for retry (it will be first next time).
    async fn out_of_time(
        &self,
        batch: &mut Batch,
        i: usize,
        record: &KinesisRecord,
        inv: &Invocation,
    ) {
        if i > 0 || batch.first_failed().is_some() {
            warn!(
                record = i,
                "out of time inside a record: it and the rest of the batch are left for retry"
            );
            batch.fail(i);
            return;
        }
        let reason = "the record could not be decoded, built and delivered within one \
                      invocation: dead-lettered instead of retried forever"
            .to_owned();
        warn!(record = i, event_id = %record.event_id, reason, "record dead-lettered");
        let letter = DeadLetter::from_base64(
            &record.source(),
            reason,
            inv.received_at,
            record.kinesis.data.clone(),
            Some(&record.event_id),
        );
        self.dead_letter(batch, i, &letter, inv).await;
        if batch.first_failed().is_none() {
            // Handled (kept in the dead letter): the rest is retried from record 1.
            batch.fail(i + 1);
        }
    }
}
