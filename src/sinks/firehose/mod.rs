//! The per-commons archive: documents to the commons' Firehose delivery stream, which
//! writes them to S3. One newline-terminated JSON document per record, so the objects
//! are NDJSON; PutRecordBatch calls of at most 500 records and 4 MiB ([`archive`]).
//!
//! Failures, per record or per call, are retried with exponential backoff and full
//! jitter while the invocation's time lasts, then reported as retryable: Lambda retries
//! the Kinesis record and the deterministic document ids make that safe. A call refused
//! as invalid is permanent (the documents go to the dead letter); a missing stream, KMS
//! or permission problem will not clear in seconds and is reported retryable at once.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_firehose::error::{DisplayErrorContext, ProvideErrorMetadata as _, SdkError};
use aws_sdk_firehose::operation::put_record_batch::PutRecordBatchError;
use aws_sdk_firehose::primitives::Blob;
use aws_sdk_firehose::types::Record;
use tracing::{debug, warn};

pub mod archive;

use self::archive::ArchiveRecord;
use super::{ArchiveSink, ItemOutcome};
use crate::document::Document;
use crate::invocation::Deadline;
use crate::retry::{Backoff, Round};

/// Calls made at most for one batch, the first one included.
pub const DEFAULT_MAX_ATTEMPTS: u32 = 6;

/// The default backoff: 100 ms doubling to 2 s, full jitter ([`crate::retry`]).
pub const DEFAULT_BACKOFF: Backoff =
    Backoff::new(Duration::from_millis(100), Duration::from_secs(2));

/// How a failed PutRecordBatch call is treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Throttling, service unavailable, 5xx, timeouts, connection errors: back off, retry.
    Transient,
    /// Will not clear within this invocation (missing stream, KMS, permissions): report
    /// the records retryable now.
    NotNow,
    /// The request itself is invalid: retrying cannot help; dead-letter the documents.
    Permanent,
}

fn classify(err: &SdkError<PutRecordBatchError>) -> Failure {
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            Failure::Transient
        }
        SdkError::ServiceError(service) => match service.err() {
            PutRecordBatchError::ServiceUnavailableException(_) => Failure::Transient,
            PutRecordBatchError::InvalidArgumentException(_) => Failure::Permanent,
            PutRecordBatchError::ResourceNotFoundException(_)
            | PutRecordBatchError::InvalidKmsResourceException(_)
            | PutRecordBatchError::InvalidSourceException(_) => Failure::NotNow,
            other => {
                let status = service.raw().status().as_u16();
                let throttled = other.code().is_some_and(|c| {
                    c.contains("Throttl") || c.contains("LimitExceeded") || c == "InternalFailure"
                });
                if throttled || status == 429 || status >= 500 {
                    Failure::Transient
                } else {
                    Failure::NotNow
                }
            }
        },
        _ => Failure::NotNow,
    }
}

/// The archive sink on Amazon Data Firehose.
#[derive(Debug, Clone)]
pub struct FirehoseArchive {
    client: aws_sdk_firehose::Client,
    stream: String,
    backoff: Backoff,
    max_attempts: u32,
}

impl FirehoseArchive {
    /// A sink on `client` (whose own retries should be off: this sink retries within
    /// the invocation's deadline).
    pub fn new(client: aws_sdk_firehose::Client, stream: impl Into<String>) -> Self {
        Self {
            client,
            stream: stream.into(),
            backoff: DEFAULT_BACKOFF,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }

    /// A sink whose client is built from the shared AWS configuration, with the SDK's
    /// retries off.
    pub fn from_sdk_config(sdk: &aws_config::SdkConfig, stream: impl Into<String>) -> Self {
        let conf = aws_sdk_firehose::config::Builder::from(sdk)
            .retry_config(aws_config::retry::RetryConfig::disabled())
            .build();
        Self::new(aws_sdk_firehose::Client::from_conf(conf), stream)
    }

    /// Another backoff and bound on calls per batch (tests use short ones).
    pub fn with_backoff(mut self, backoff: Backoff, max_attempts: u32) -> Self {
        self.backoff = backoff;
        self.max_attempts = max_attempts.max(1);
        self
    }

    pub fn stream(&self) -> &str {
        &self.stream
    }

    /// One PutRecordBatch-sized group of documents, retried until every record is in,
    /// the attempts are spent or the deadline is near. One outcome per document, in order.
    ///
    /// Each call's records are encoded from the documents straight into the request (the
    /// SDK takes them owned): the group's bytes are held once, by the request, and a
    /// retry encodes its records again instead of keeping copies for it.
    async fn put_batch(&self, docs: &[Document], deadline: Deadline) -> Vec<ItemOutcome> {
        // What was truncated to fit a record: the same on every encoding.
        let mut truncated_from: Vec<Option<usize>> = vec![None; docs.len()];
        let mut outcomes: Vec<Option<ItemOutcome>> = vec![None; docs.len()];
        let mut reason = String::from("the deadline was reached before the first call");
        let mut calls = 0u32;
        let mut retry =
            self.backoff
                .retrying((0..docs.len()).collect(), self.max_attempts, deadline);
        while let Some((pending, attempts)) = retry.next_round() {
            let round = 'round: {
                if deadline.remaining().is_zero() {
                    break 'round Round::stop(pending);
                }
                let input: Result<Vec<Record>, _> = pending
                    .iter()
                    .map(|&i| {
                        let ArchiveRecord {
                            bytes,
                            truncated_from: cut,
                        } = archive::record(&docs[i]);
                        truncated_from[i] = cut;
                        Record::builder().data(Blob::new(bytes)).build()
                    })
                    .collect();
                // The SDK refuses a record only without data, which every one has.
                let input = match input {
                    Ok(input) => input,
                    Err(err) => {
                        reason = format!("the records could not be built: {err}");
                        break 'round Round::stop(pending);
                    }
                };
                calls += 1;
                let call = self
                    .client
                    .put_record_batch()
                    .delivery_stream_name(&self.stream)
                    .set_records(Some(input))
                    .send();
                match tokio::time::timeout(deadline.remaining(), call).await {
                    Err(_) => {
                        reason = "PutRecordBatch did not answer before the deadline".to_owned();
                        Round::stop(pending)
                    }
                    Ok(Ok(output)) => {
                        let entries = output.request_responses();
                        if entries.len() != pending.len() {
                            reason = format!(
                                "PutRecordBatch answered {} entries for {} records",
                                entries.len(),
                                pending.len()
                            );
                            Round::retry(pending)
                        } else {
                            let mut failed = Vec::new();
                            for (&i, entry) in pending.iter().zip(entries) {
                                match entry.error_code() {
                                    None => outcomes[i] = Some(delivered(truncated_from[i])),
                                    Some(code) => {
                                        reason = format!(
                                            "record failed: {code}: {}",
                                            entry.error_message().unwrap_or("no message")
                                        );
                                        failed.push(i);
                                    }
                                }
                            }
                            Round::retry(failed)
                        }
                    }
                    Ok(Err(err)) => {
                        let class = classify(&err);
                        reason = DisplayErrorContext(&err).to_string();
                        match class {
                            Failure::Transient => Round::retry(pending),
                            Failure::NotNow => Round::stop(pending),
                            Failure::Permanent => {
                                for &i in &pending {
                                    outcomes[i] = Some(ItemOutcome::Rejected {
                                        reason: format!(
                                            "firehose {}: PutRecordBatch refused the batch: {reason}",
                                            self.stream
                                        ),
                                    });
                                }
                                Round::done()
                            }
                        }
                    }
                }
            };
            if !round.retry.is_empty() && !round.stop && attempts < self.max_attempts {
                debug!(stream = %self.stream, attempts, pending = round.retry.len(), reason, "firehose retry");
            }
            retry.settle(round).await;
        }
        let (pending, attempts) = (retry.finish().left, calls);

        if !pending.is_empty() {
            warn!(stream = %self.stream, attempts, records = pending.len(), reason, "firehose records left for retry");
        }
        let retryable = format!(
            "firehose {}: {reason} (after {attempts} attempt{})",
            self.stream,
            if attempts == 1 { "" } else { "s" }
        );
        outcomes
            .into_iter()
            .map(|o| {
                o.unwrap_or_else(|| ItemOutcome::Retryable {
                    reason: retryable.clone(),
                })
            })
            .collect()
    }
}

fn delivered(truncated_from: Option<usize>) -> ItemOutcome {
    match truncated_from {
        Some(bytes) => archive::truncated_outcome(bytes),
        None => ItemOutcome::Delivered,
    }
}

#[async_trait]
impl ArchiveSink for FirehoseArchive {
    async fn archive(&self, docs: &[Document], deadline: Deadline) -> Vec<ItemOutcome> {
        let mut out = Vec::with_capacity(docs.len());
        for range in archive::batch_ranges(docs) {
            // Encoded one group at a time, so at most one group's bytes are held.
            out.extend(self.put_batch(&docs[range], deadline).await);
        }
        out
    }
}
