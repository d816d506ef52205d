//! A Kinesis batch of CloudWatch Logs subscription records: decode each record, build a
//! document per log event, deliver, and answer with the first record left for retry
//! (`batchItemFailures`).

use aws_lambda_events::event::streams::{KinesisBatchItemFailure, KinesisEventResponse};
use tracing::{info, warn};

use crate::dead_letter::DeadLetter;
use crate::decode::{Decoder, Envelope};
use crate::event::EventKind;
use crate::event::KinesisEvent;
use crate::invocation::Invocation;
use crate::report::Report;

use super::delivery::Batch;
use super::{Pipeline, SAFETY_MARGIN};

impl Pipeline {
    pub(super) async fn handle_kinesis(&self, event: &KinesisEvent, inv: &Invocation) -> Report {
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
            kind: EventKind::Kinesis,
            counts: batch.counts,
            response: serde_json::to_value(&response).unwrap_or_default(),
            error: None,
        }
    }
}
